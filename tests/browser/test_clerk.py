"""A clerk (with two-step login) records the approving body's decision, has the laureates check
their entries, and publishes; a visitor then finds the laureate in the public archive."""

from __future__ import annotations

import datetime as dt
import re

from playwright.async_api import FilePayload, Page, expect

from ambassador.db import utcnow
from ambassador.domain import consent, deliberation, publication
from ambassador.domain.editions import get_edition
from ambassador.enums import EditionState, Role
from ambassador.i18n import TIMEZONE
from ambassador.tables import Decision, JuryMember, Laureate, Nomination
from tests.archive_factories import add_laureate, archive_edition
from tests.browser.conftest import LOOP, Browsing
from tests.browser.helpers import assert_accessible, confirm_step, log_in, mailed_path, with_second_factor
from tests.clerk_factories import BASE, checked_edition, paper_nomination
from tests.confirm_pages import decision_pdf
from tests.deliberation_factories import deliberated, scored_edition
from tests.factories import PDF, make_user

CITATION = "Runs a bilingual reading club for children in Kraków."

pytestmark = LOOP


async def test_a_clerk_records_the_decision_and_publishes_the_laureates(page: Page, browsing: Browsing) -> None:
    setup = await scored_edition()
    await deliberated(setup)
    await deliberation.recommend(chair_id=setup.chair.id, edition_id=setup.edition.id)
    label = setup.edition.label
    secret = await with_second_factor(setup.clerk)

    await log_in(page, setup.clerk.email, totp_secret=secret)
    await page.get_by_role("link", name="All editions").click()
    await page.get_by_role("link", name=label, exact=True).click()
    await page.get_by_role("link", name="Record the approving body's decision").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Decision of the approving body, {label}")

    # Without the number and the signed PDF the form comes back with both marked.
    await page.get_by_role("button", name="Check the decision").click()
    await expect(page.get_by_role("alert")).to_contain_text("Please correct the marked fields.")
    await expect(page.get_by_role("textbox", name="Number of the resolution or order")).to_have_attribute(
        "aria-invalid", "true"
    )
    await assert_accessible(page)
    await page.get_by_role("textbox", name="Number of the resolution or order").fill("LXXXV/2418/22")
    await page.get_by_label("Date of the decision").fill(dt.datetime.now(TIMEZONE).date().isoformat())
    await page.get_by_label("The signed decision (PDF)").set_input_files(
        FilePayload(name="uchwała.pdf", mimeType="application/pdf", buffer=PDF)
    )
    await page.get_by_role("spinbutton", name="Votes for").fill("35")
    await page.get_by_role("button", name="Check the decision").click()
    await confirm_step(page)
    await expect(page.get_by_text("The decision is recorded and the edition is approved.")).to_be_visible()
    decision = await Decision.select(Decision.number, Decision.document_name, Decision.votes_for).first()
    assert decision == {"number": "LXXXV/2418/22", "document_name": "uchwała.pdf", "votes_for": 35}

    # The citation, then the laureates check their entries by the mailed link.
    await page.get_by_role("link", name="Laureates", exact=True).last.click()
    await page.get_by_role("link", name="Olena Kovalenko").click()
    await page.get_by_label("Citation (English)").fill(CITATION)
    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page.get_by_label("Citation (English)")).to_have_value(CITATION)
    await page.get_by_role("link", name="Laureates", exact=True).last.click()
    await page.get_by_role("button", name="Ask the laureates to confirm").click()

    await laureate_confirms(browsing)

    await page.goto(f"/staff/editions/{setup.edition.id}")
    await page.get_by_role("link", name="Publish the laureates").click()
    # The citations are not all written: the form says so, and the clerk ticks to go on.
    await page.get_by_label("I have read the warnings above and want to take this step.").check()
    await page.get_by_role("button", name="Publish the laureates").click()
    await expect(page.get_by_role("status").filter(has_text="The laureates have been public since")).to_be_visible()

    assert (await get_edition(setup.edition.id)).state == EditionState.PUBLISHED
    rows = await Laureate.select(Laureate.name, Laureate.distinction, Laureate.citation_en, Laureate.confirmed_at)
    assert sorted((r["name"], r["distinction"], r["citation_en"], r["confirmed_at"] is not None) for r in rows) == [
        ("Bohdan Melnyk", "mention", "", False),
        ("Olena Kovalenko", "title", CITATION, True),
    ]
    await page.get_by_role("link", name="The public page of the edition").click()
    await expect(page.get_by_role("link", name="Olena Kovalenko")).to_be_visible()


async def test_a_visitor_finds_a_laureate_in_the_archive(page: Page) -> None:
    for year, names in ((2023, ("Olena Kovalenko", "Fundacja Most")), (2024, ("Bohdan Melnyk", "Iryna Shevchenko"))):
        edition_id = await archive_edition(year)
        for name in names:
            category = "A" if name.startswith("Fundacja") else "B"
            await add_laureate(edition_id, name, category=category, citation_en=f"{name} works for dialogue.")

    await page.goto("/")
    await page.get_by_role("link", name="Browse the laureates of earlier editions").click()
    await expect(page.get_by_role("status")).to_have_text("4 laureates found.")
    search = page.get_by_role("search", name="Search the laureates")
    await search.get_by_label("Name").fill("kovalenko")
    await search.get_by_role("button", name="Search").click()
    await expect(page.get_by_role("status")).to_have_text("1 laureate found.")
    await page.get_by_role("link", name="Olena Kovalenko").click()

    await expect(page.get_by_role("heading", level=1)).to_contain_text("Olena Kovalenko")
    await expect(page.get_by_text("Olena Kovalenko works for dialogue.")).to_be_visible()
    await page.get_by_role("link", name="A.D. 2023").first.click()
    await expect(page.get_by_role("link", name="Fundacja Most")).to_be_visible()


async def laureate_confirms(browsing: Browsing) -> None:
    """Olena follows the mailed link in a browser of her own, corrects nothing and confirms."""
    laureate = await browsing.new_page()
    await laureate.goto(await mailed_path("olena@example.org", r"/laureate-check/[A-Za-z0-9_-]+"))
    await expect(laureate.get_by_role("heading", level=1)).to_have_text("Please check your entry")
    await expect(laureate.get_by_text(CITATION)).to_be_visible()
    await assert_accessible(laureate)
    name = laureate.get_by_label("Your name as it should be published")
    await name.fill("")
    await laureate.get_by_role("button", name="Confirm").click()
    assert await name.evaluate("(input) => input.validity.valueMissing")  # the browser's own check
    await name.fill("Olena Kovalenko")
    await laureate.get_by_role("button", name="Confirm").click()
    await expect(laureate.get_by_role("status")).to_contain_text("Thank you. You confirmed your entry")


async def test_a_clerk_accepts_and_shortlists_several_and_invites_a_list_of_jurors(page: Page) -> None:
    clerk = await make_user("clerk@example.org", (Role.CLERK,), name="Celina Clerk")
    edition = await checked_edition(clerk_id=clerk.id)
    olena = await paper_nomination(edition, clerk_id=clerk.id)
    bohdan = await paper_nomination(edition, clerk_id=clerk.id, nominee_name="Bohdan Melnyk", nominee_email="")
    iryna = await paper_nomination(edition, clerk_id=clerk.id, nominee_name="Iryna Shevchenko", nominee_email="")
    for given in (olena, iryna):  # Bohdan's consent is still awaited
        await consent.record_paper_consent(actor_id=clerk.id, nomination_id=given, given=True, note="Binder 1")
    await log_in(page, clerk.email, totp_secret=await with_second_factor(clerk))

    # Every nomination at once: "Select all shown" works without any script.
    await page.goto(f"/staff/editions/{edition.id}/nominations")
    await page.get_by_role("button", name="Select all shown").click()
    await expect(page.get_by_role("checkbox", checked=True)).to_have_count(3)
    await assert_accessible(page)
    await page.get_by_role("button", name="Accept selected").click()
    await expect(page.get_by_role("status").filter(has_text="3 nominations accepted")).to_be_visible()

    # Two ticked by hand; the one without consent is named, the other goes through.
    for nominee in ("Olena Kovalenko", "Bohdan Melnyk"):
        await page.get_by_role("checkbox", name=re.compile(f"^Select .*, {nominee}$")).check()
    await page.get_by_role("button", name="Shortlist selected").click()
    await expect(page.get_by_role("status").filter(has_text="1 nomination shortlisted")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text(
        "Without the nominee's consent a nomination cannot be shortlisted."
    )
    states = await Nomination.select(Nomination.id, Nomination.state).where(Nomination.edition == edition.id)
    assert {r["id"]: r["state"] for r in states} == {olena: "shortlisted", bohdan: "accepted", iryna: "accepted"}

    # Jurors from a pasted list: a preview of every line, then one confirmation.
    marta = await make_user("marta@example.org", (Role.JUROR,), name="Marta Krawczyk")
    await page.goto(f"/staff/editions/{edition.id}/jury")
    await page.get_by_label("Jurors, one per line").fill(
        "Nowa Jurorka <nowa@example.org>\nmarta@example.org, Marta Krawczyk\nno address here"
    )
    await page.get_by_role("button", name="Preview", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Invite several jurors: check the list")
    lines = page.get_by_role("table", name="What each line will do")
    await expect(lines.get_by_role("row").nth(3)).to_contain_text("Not used: No email address on this line.")
    await assert_accessible(page)
    await page.get_by_role("button", name="Invite and appoint 2 jurors").click()
    await expect(page.get_by_role("status").filter(has_text="2 jurors are now on the jury")).to_be_visible()
    members = await JuryMember.select(JuryMember.user.email).where(JuryMember.edition == edition.id)
    assert sorted(r["user.email"] for r in members) == ["marta@example.org", "nowa@example.org"]
    assert marta.email == "marta@example.org"


async def test_a_clerk_confirms_the_decision_after_the_number_check_and_withdraws_a_distinction(page: Page) -> None:
    setup = await scored_edition()
    await deliberated(setup)
    await deliberation.recommend(chair_id=setup.chair.id, edition_id=setup.edition.id)
    secret = await with_second_factor(setup.clerk)
    await log_in(page, setup.clerk.email, totp_secret=secret)
    await page.goto(f"/staff/editions/{setup.edition.id}/decision")

    # The attached PDF is another resolution: the confirmation says so, and records nothing yet.
    await page.get_by_role("textbox", name="Number of the resolution or order").fill("LXXXV/2418/22")
    await page.get_by_label("Date of the decision").fill(dt.datetime.now(TIMEZONE).date().isoformat())
    other = decision_pdf("Uchwala nr XII/100/21", "w sprawie budzetu")
    await page.get_by_label("The signed decision (PDF)").set_input_files(
        FilePayload(name="uchwala.pdf", mimeType="application/pdf", buffer=other)
    )
    await page.get_by_role("button", name="Check the decision").click()
    await expect(page.locator("#warnings + ul")).to_have_text(
        "The number LXXXV/2418/22 does not appear in the document's text: check that it is the signed decision."
    )
    await expect(page.locator("#changes + ul li").nth(1)).to_have_text(
        "2025/0002 Bohdan Melnyk: recommended honourable mention, decided: honourable mention."
    )
    await assert_accessible(page)
    assert await Decision.count() == 0
    await confirm_step(page)
    await expect(page.get_by_text("The decision is recorded and the edition is approved.")).to_be_visible()
    assert await Decision.select(Decision.document).first() == {"document": other}

    # After publication a distinction is withdrawn from its own confirmation page, with the reason.
    await publication.publish(
        actor_id=setup.clerk.id, edition_id=setup.edition.id, published_at=utcnow(), base_url=BASE, acknowledged=True
    )
    olena = await Laureate.select(Laureate.id).where(Laureate.name == "Olena Kovalenko").first()
    assert olena is not None
    await page.goto(f"/staff/laureates/{olena['id']}")
    await page.get_by_role("link", name="Withdraw the distinction").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Withdraw the distinction")
    await expect(page.locator("#changes + ul li").first).to_have_text(
        'Olena Kovalenko\'s entry stays in the public archive with the notice "withdrawn", the date and the reason.'
    )
    await page.get_by_label("Reason for the withdrawal").fill("The activities were misrepresented.")
    await page.get_by_label("I understand that the withdrawal cannot be undone.").check()
    await page.get_by_role("button", name="Withdraw the distinction").click()
    await expect(page.get_by_role("status").filter(has_text="The distinction is withdrawn.")).to_be_visible()
    withdrawn = await Laureate.select(Laureate.withdrawn_reason).where(Laureate.id == olena["id"]).first()
    assert withdrawn == {"withdrawn_reason": "The activities were misrepresented."}
