"""Issue 14 in Chromium: the nomination form loses nothing typed or chosen, and its errors help.

A language switch in the middle of the form keeps the text and the files; a validation error
keeps the files (listed as kept, each removable); after an error the focus is on the error
summary; Enter in a field still sends the form; axe reports nothing on these pages.
"""

from __future__ import annotations

import re

from playwright.async_api import FilePayload, Page, expect

from ambassador.tables import Attachment, HeldFile, Nomination
from tests.browser.conftest import LOOP
from tests.browser.helpers import NARROW, assert_accessible
from tests.clerk_factories import PNG
from tests.factories import PDF, make_edition

pytestmark = LOOP

DESCRIPTION = "Веде двомовний читацький клуб для дітей на Подгуже."


async def attached() -> list[tuple[str, bytes]]:
    rows = await Attachment.select(Attachment.filename, Attachment.content).order_by(Attachment.id)
    return [(r["filename"], bytes(r["content"])) for r in rows]


async def test_a_language_switch_mid_form_keeps_the_text_and_the_files(page: Page) -> None:
    edition = await make_edition(year=2025)
    await page.goto("/nominate")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Nominate for the title")
    await page.get_by_label("B: individual").check()
    await page.get_by_label("Name of the person or organisation you nominate").fill("Olena Kovalenko")
    await page.get_by_label(edition.criteria[0].name_en).fill(DESCRIPTION)
    await page.get_by_label("Your email").fill("anna.nowak@example.org")
    await page.get_by_label("Attachments (optional)").set_input_files(
        FilePayload(name="poster.png", mimeType="image/png", buffer=PNG)
    )

    # Required fields are still empty: the language button does not ask for them.
    await page.get_by_role("navigation", name="Language").get_by_role("button", name="Українська").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Висунути на звання")
    await expect(page.locator("html")).to_have_attribute("lang", "uk")
    await expect(page.get_by_label("Ім'я та прізвище особи або назва організації, яку ви висуваєте")).to_have_value(
        "Olena Kovalenko"
    )
    await expect(page.get_by_label(edition.criteria[0].name_uk)).to_have_value(DESCRIPTION)
    await expect(page.locator('input[name="category"][value="B"]')).to_be_checked()
    kept = page.locator(".kept-files li")
    await expect(kept).to_have_count(1)
    await expect(kept).to_contain_text("poster.png")
    await expect(page.locator("#error-summary")).to_have_count(0)
    await assert_accessible(page)

    await page.get_by_label("Ваше ім'я та прізвище").fill("Anna Nowak")
    await page.locator("#f-privacy_ack").check()
    await page.locator("#nomination-form button[type=submit]:not([name])").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Перевірте свою поштову скриньку")
    nomination = await Nomination.select(Nomination.language, Nomination.descriptions).first()
    assert nomination is not None
    assert nomination["language"] == "uk"
    assert await attached() == [("poster.png", PNG)]
    assert await HeldFile.count() == 0


async def test_a_validation_error_keeps_the_files_and_focuses_the_summary(page: Page) -> None:
    edition = await make_edition(year=2025)
    await page.goto("/nominate")
    await page.get_by_label("B: individual").check()
    await page.get_by_label("Name of the person or organisation you nominate").fill("Olena Kovalenko")
    await page.get_by_label("Your name").fill("Anna Nowak")
    await page.get_by_label("Your email").fill("anna.nowak@example.org")
    await page.get_by_label("I have read the information on the processing of personal data.").check()
    await page.get_by_label("Attachments (optional)").set_input_files(
        [
            FilePayload(name="letter.pdf", mimeType="application/pdf", buffer=PDF),
            FilePayload(name="poster.png", mimeType="image/png", buffer=PNG),
        ]
    )
    # Enter in a field sends the form (the language buttons come first in the page, but the
    # form's default button is its hidden send button). No activity is described.
    await page.get_by_label("Your name").press("Enter")

    summary = page.locator("#error-summary")
    await expect(summary).to_be_focused()
    await expect(summary).to_have_attribute("role", "alert")
    await expect(summary.get_by_role("link")).to_have_text(
        [f"{edition.criteria[0].name_en}: Describe the activities for at least one criterion."]
    )
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    kept = page.locator(".kept-files li")
    await expect(kept).to_have_text(
        [
            re.compile(rf"^kept: letter\.pdf, {len(PDF)} B\s+remove letter\.pdf$"),
            re.compile(rf"^kept: poster\.png, {len(PNG)} B\s+remove poster\.png$"),
        ]
    )
    await assert_accessible(page)
    await page.set_viewport_size(NARROW)  # the header's buttons and the kept files reflow
    await assert_accessible(page)

    await page.get_by_role("button", name="remove letter.pdf").click()
    await expect(kept).to_have_count(1)
    await expect(kept).to_contain_text("poster.png")
    await expect(page.locator("#error-summary")).to_have_count(0)
    await expect(page.get_by_label("Your name")).to_have_value("Anna Nowak")

    await page.get_by_label(edition.criteria[0].name_en).fill("Runs a bilingual reading club.")
    await page.get_by_role("button", name="Send the nomination").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Check your mailbox")
    assert await attached() == [("poster.png", PNG)]
    assert await HeldFile.count() == 0
