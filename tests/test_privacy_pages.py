"""The clerk's page for people's requests about their data, through HTTP."""

from __future__ import annotations

import io
import json
import re

from pypdf import PdfReader

from ambassador.domain import drafts
from ambassador.domain.nominations import Upload
from ambassador.i18n import translate
from ambassador.tables import AuditEntry, HeldFile, Laureate, Nomination, NominationDraft
from tests.archive_factories import add_laureate, archive_edition
from tests.clerk_factories import BASE, clerk_logged_in, english, juror_logged_in, open_edition, paper_nomination
from tests.conftest import Client
from tests.factories import PDF, make_user, nomination_data
from tests.helpers import post_form

PAGE = "/staff/privacy"
ANNA = "anna@example.org"


def items_of(html: str) -> list[str]:
    return re.findall(r'<tr data-item="([^"]+)">', html)


async def privacy_actions() -> list[str]:
    rows = await AuditEntry.select(AuditEntry.action).where(AuditEntry.action.like("privacy.%")).order_by(AuditEntry.id)
    return [r["action"] for r in rows]


async def test_anonymous_and_jurors_are_refused(client: Client) -> None:
    response = await client.get(PAGE)
    assert (response.status_code, response.headers["location"]) == (302, f"/login?next={PAGE}")
    await juror_logged_in(client)
    assert (await client.get(PAGE)).status_code == 403
    for action in ("", "/export", "/correct", "/erase"):
        refused = await post_form(client, PAGE + action, {"query": ANNA, "item": "draft:1", "confirm": "1"})
        assert refused.status_code == 403
    assert await privacy_actions() == []


async def test_the_dashboard_links_the_page_and_bad_input_gets_a_message(client: Client) -> None:
    await clerk_logged_in(client)
    english(client)
    assert 'href="/staff/privacy"' in (await client.get("/staff")).text
    page = await client.get(PAGE)
    assert (page.status_code, "No request has been recorded yet." in page.text) == (200, True)

    for query, message in [
        ("", "Enter an email address or a name."),
        ("x" * 300, "At most 254 characters."),
        ("anna@@example", "Enter a valid email address, like name@example.org."),
    ]:
        response = await post_form(client, PAGE, {"query": query})
        assert (response.status_code, message in response.text) == (400, True)
    assert await privacy_actions() == []


async def test_find_export_correct_and_erase_through_the_page(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await open_edition(clerk_id=clerk.id)
    mine = await paper_nomination(edition, clerk_id=clerk.id, uploads=[Upload("scan.pdf", PDF)])
    other = await paper_nomination(
        edition, clerk_id=clerk.id, nominator_name="Anna Nowakowska", nominator_email="anna.n@example.org"
    )
    await drafts.save(
        edition=edition,
        data=nomination_data(edition, nominee_name="Ihor Bondar"),
        uploads=[Upload("letter.pdf", PDF)],
        submission_key="key-draft-" + "d" * 20,
        base_url=BASE,
    )
    draft = await NominationDraft.select(NominationDraft.id).first()
    assert draft is not None

    found = await post_form(client, PAGE, {"query": "Anna@Example.org"})
    assert found.status_code == 200
    assert items_of(found.text)[:2] == [f"nomination_made:{mine}", f"draft:{draft['id']}"]
    assert f"nomination_made:{other}" not in found.text and "anna.n@example.org" not in found.text

    pdf = await post_form(client, PAGE + "/export", {"query": ANNA, "language": "pl", "format": "pdf"})
    assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
    assert 'filename="personal-data.pdf"' in pdf.headers["content-disposition"]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert translate("pl", "Personal data held about you") in text and "Anna Nowak" in text
    exported = await post_form(client, PAGE + "/export", {"query": ANNA, "language": "en", "format": "json"})
    assert json.loads(exported.content)["items"][0] == {
        **json.loads(exported.content)["items"][0],
        "kind": "nomination_made",
        "id": mine,
    }
    bad = await post_form(client, PAGE + "/export", {"query": ANNA, "language": "xx", "format": "pdf"})
    assert (bad.status_code, "Choose a language." in bad.text) == (400, True)

    form = await post_form(client, PAGE + "/correct", {"query": ANNA, "nomination": str(mine), "side": "nominator"})
    assert (form.status_code, 'value="Anna Nowak"' in form.text) == (200, True)
    wrong = await post_form(
        client,
        PAGE + "/correct",
        {"query": ANNA, "nomination": str(mine), "side": "nominator", "save": "1", "name": "", "email": "x@"},
    )
    assert (wrong.status_code, "This field is required." in wrong.text) == (400, True)
    saved = await post_form(
        client,
        PAGE + "/correct",
        {"query": ANNA, "nomination": str(mine), "side": "nominator", "save": "1", "name": "Anna Nowak-Kowal"},
    )
    assert (saved.status_code, "Corrected." in saved.text) == (200, True)
    row = await Nomination.select(Nomination.nominator_name, Nomination.nominator_email).where(Nomination.id == mine)
    assert row == [{"nominator_name": "Anna Nowak-Kowal", "nominator_email": ""}]

    # The draft: first the summary and the confirmation, then the erasure.
    token = f"draft:{draft['id']}"
    asked = await post_form(client, PAGE + "/erase", {"query": "Ihor Bondar", "item": token})
    assert (asked.status_code, 'name="confirm"' in asked.text, await NominationDraft.count()) == (200, True, 1)
    unticked = await post_form(client, PAGE + "/erase", {"query": "Ihor Bondar", "item": token, "confirming": "1"})
    assert (unticked.status_code, await NominationDraft.count()) == (400, 1)
    erased = await post_form(
        client, PAGE + "/erase", {"query": "Ihor Bondar", "item": token, "confirming": "1", "confirm": "1"}
    )
    assert erased.status_code == 200
    assert (await NominationDraft.count(), await HeldFile.count()) == (0, 0)
    assert await privacy_actions() == [
        "privacy.find",
        "privacy.export",
        "privacy.export",
        "privacy.correct",
        "privacy.erase",
    ]
    register = (await client.get(PAGE)).text
    assert register.count('<tr data-action="privacy.') == 5


async def test_a_laureate_is_refused_on_the_page_with_the_reason(client: Client) -> None:
    await clerk_logged_in(client)
    english(client)
    old = await archive_edition(2018)
    await add_laureate(old, "Olena Kovalenko")
    laureate = await Laureate.select(Laureate.id).first()
    assert laureate is not None
    token = f"laureate:{laureate['id']}"

    found = await post_form(client, PAGE, {"query": "olena kovalenko"})
    assert items_of(found.text) == [token]
    assert "record is kept: it is public by design" in found.text
    asked = await post_form(client, PAGE + "/erase", {"query": "olena kovalenko", "item": token})
    assert "will not be erased" in asked.text
    answered = await post_form(
        client, PAGE + "/erase", {"query": "olena kovalenko", "item": token, "confirming": "1", "confirm": "1"}
    )
    assert (answered.status_code, 'data-outcome="refuse"' in answered.text) == (200, True)
    assert await Laureate.count() == 1
    assert "refused" in (await client.get(PAGE)).text


async def test_an_admin_may_use_the_page(client: Client) -> None:
    from ambassador.enums import Role
    from tests.helpers import login

    await make_user("admin@example.org", (Role.ADMIN,))
    await login(client, "admin@example.org")
    english(client)
    page = await client.get(PAGE)
    assert (page.status_code, "<h1>Requests about personal data</h1>" in page.text) == (200, True)


async def test_a_correction_of_another_persons_or_a_missing_nomination_changes_nothing(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await open_edition(clerk_id=clerk.id)
    other = await paper_nomination(edition, clerk_id=clerk.id, nominator_name="Piotr Zieliński", nominator_email="")
    form = {"query": ANNA, "side": "nominator", "save": "1", "name": "Anna"}

    missing = await post_form(client, PAGE + "/correct", {**form, "nomination": "999999"})
    foreign = await post_form(client, PAGE + "/correct", {**form, "nomination": str(other)})

    # A missing nomination is not among the person's data either: the same refusal.
    for refused in (missing, foreign):
        assert (refused.status_code, "not among the data found for this person" in refused.text) == (409, True)
    row = await Nomination.select(Nomination.nominator_name).where(Nomination.id == other).first()
    assert row == {"nominator_name": "Piotr Zieliński"}
    assert await privacy_actions() == []
