"""A citizen nominates without an account, confirms by the mailed link; the nominee consents."""

from __future__ import annotations

import re

from playwright.async_api import FilePayload, Page, expect

from ambassador.tables import Nomination
from tests.browser.conftest import LOOP, Browsing
from tests.browser.helpers import assert_accessible, mailed_path
from tests.clerk_factories import PNG
from tests.factories import make_edition

NOMINATOR = "anna.nowak@example.org"
NOMINEE = "olena@example.org"
DESCRIPTION = "Runs a bilingual reading club for children in Podgórze."
# The focused element's outline style: WCAG 2.4.7 wants keyboard focus to be visible.
FOCUS_INDICATOR = "getComputedStyle(document.activeElement).outlineStyle"

pytestmark = LOOP


async def stored(nominee_name: str) -> dict[str, object]:
    row = (
        await Nomination.select(
            Nomination.state,
            Nomination.category,
            Nomination.nominee_email,
            Nomination.organisation_kind,
            Nomination.nominator_email,
            Nomination.consent,
        )
        .where(Nomination.nominee_name == nominee_name)
        .first()
    )
    assert row is not None, f"no nomination of {nominee_name}"
    return row


async def test_a_citizen_nominates_confirms_by_mail_and_the_nominee_consents(page: Page, browsing: Browsing) -> None:
    edition = await make_edition(year=2025)
    first_criterion = edition.criteria[0].name_en

    await page.goto("/")
    await page.get_by_role("link", name="Nominate a person or an organisation").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Nominate for the title")
    await page.get_by_label("B: individual").check()
    await expect(page.get_by_label("Kind of organisation")).to_be_hidden()
    await page.get_by_label("Name of the person or organisation you nominate").fill("Olena Kovalenko")
    await page.get_by_label("Nominee's email (optional)").fill(NOMINEE)
    await page.get_by_label("Your name").fill("Anna Nowak")
    await page.get_by_label("Your email").fill(NOMINATOR)
    await page.get_by_label("I have read the information on the processing of personal data.").check()
    await page.get_by_role("button", name="Send the nomination").click()

    # No activity described: the server refuses, keeps what was typed and says what is missing.
    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text("Please correct the marked fields.")
    await expect(page.get_by_label("Your name")).to_have_value("Anna Nowak")
    await assert_accessible(page)
    await summary.get_by_role("link").first.click()
    await expect(page.get_by_label(first_criterion)).to_be_focused()
    await page.get_by_label(first_criterion).fill(DESCRIPTION)
    await page.get_by_label("Attachments (optional)").set_input_files(
        FilePayload(name="poster.png", mimeType="image/png", buffer=PNG)
    )
    await page.get_by_role("button", name="Send the nomination").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Check your mailbox")
    await assert_accessible(page)
    assert (await stored("Olena Kovalenko"))["state"] == "unconfirmed"

    await page.goto(await mailed_path(NOMINATOR, r"/n/confirm/[A-Za-z0-9_-]+"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your nomination")
    await assert_accessible(page)
    await page.get_by_role("button", name="Confirm the nomination").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your nomination is confirmed")
    await expect(page.get_by_role("status")).to_contain_text(re.compile(r"registered under the number 2025/\d{4}"))
    await assert_accessible(page)
    assert await stored("Olena Kovalenko") == {
        "state": "submitted",
        "category": "B",
        "nominee_email": NOMINEE,
        "organisation_kind": "",
        "nominator_email": NOMINATOR,
        "consent": "pending",
    }

    await the_private_link(page, first_criterion)
    await the_nominee_consents(await browsing.new_page())


async def the_private_link(page: Page, criterion: str) -> None:
    """The link from the second mail: the nomination as stored, and its edit form refusing a
    nomination without any activity."""
    await page.goto(await mailed_path(NOMINATOR, r"/n/[A-Za-z0-9_-]{20,}"))
    await expect(page.get_by_text(DESCRIPTION)).to_be_visible()
    await expect(page.get_by_role("link", name="poster.png")).to_be_visible()
    await assert_accessible(page)
    await page.get_by_role("link", name="Edit the nomination").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Change your nomination")
    await assert_accessible(page)
    await page.get_by_label(criterion).fill("")
    await page.get_by_role("button", name="Save the changes").click()
    await expect(page.get_by_role("alert")).to_contain_text("Please correct the marked fields.")
    await assert_accessible(page)


async def the_nominee_consents(page: Page) -> None:
    """The nominee's own mail asks for consent; the nominee gives it."""
    await page.goto(await mailed_path(NOMINEE, r"/consent/[A-Za-z0-9_-]+"))
    await expect(page.get_by_role("heading", level=1)).to_contain_text("A nomination for the")
    await assert_accessible(page)
    await page.get_by_role("button", name="I give consent").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your answer")
    await assert_accessible(page)
    assert (await stored("Olena Kovalenko"))["consent"] == "given"


async def test_the_nomination_form_is_filled_with_the_keyboard_alone(page: Page) -> None:
    edition = await make_edition(year=2025)
    descriptions = [f"f-description_{c.id}" for c in edition.criteria]

    await page.goto("/")
    for _ in range(30):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.textContent.trim()") == "Nominate a person or an organisation":
            break
    else:
        raise AssertionError("Tab never reached the link to the nomination form")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Nominate for the title")
    await page.wait_for_load_state("load")  # the category switcher's script has run

    typed = {
        "f-nominee_name": "Fundacja Most",
        "f-nominee_email": "biuro@most.example.org",
        "f-organisation_kind": "n",  # the select's type-ahead: "non-governmental organisation"
        "f-organisation_website": "https://most.example.org",
        descriptions[1]: "Twenty years of Polish–Ukrainian neighbourhood festivals.",
        "f-links": "https://most.example.org/festival",
        "f-nominator_name": "Piotr Zieliński",
        "f-nominator_email": "piotr@example.org",
        "f-nominator_relation": "a volunteer",
    }
    pressed = {"f-category": "Space", "f-privacy_ack": "Space", "Send the nomination": "Enter"}
    stops: list[str] = []
    unmarked: list[str] = []  # focused, yet drawn without an outline
    while "Send the nomination" not in stops and len(stops) < 80:
        await page.keyboard.press("Tab")
        focused = await page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")
        stops.append(focused)
        if await page.evaluate(FOCUS_INDICATOR) == "none":
            unmarked.append(focused)
        if focused in typed:
            await page.keyboard.type(typed[focused])
        elif focused in pressed:
            await page.keyboard.press(pressed[focused])

    await expect(page.get_by_role("heading", level=1)).to_have_text("Check your mailbox")
    # Category A chosen with Space: its fields follow, the person-only checkbox is hidden and
    # skipped, as is the spam trap; every field comes in reading order.
    form = stops[stops.index("f-category") :]
    assert form == [
        "f-category",
        "f-nominee_name",
        "f-nominee_email",
        "f-nominee_phone",
        "f-organisation_kind",
        "f-organisation_website",
        "f-registry_number",
        *descriptions,
        "f-links",
        "f-attachments",
        "f-nominator_name",
        "f-nominator_email",
        "f-nominator_phone",
        "f-nominator_organisation",
        "f-nominator_relation",
        "f-privacy_ack",
        "Send the nomination",
    ]
    assert stops[0] == "Skip to main content"
    assert unmarked == []
    assert await stored("Fundacja Most") == {
        "state": "unconfirmed",
        "category": "A",
        "nominee_email": "biuro@most.example.org",
        "organisation_kind": "ngo",
        "nominator_email": "piotr@example.org",
        "consent": "pending",
    }
