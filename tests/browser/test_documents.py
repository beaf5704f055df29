"""Printing a dossier: the Print button (static/js/print.js) and the print stylesheet."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.conftest import LOOP
from tests.browser.helpers import assert_accessible, log_in
from tests.jury_factories import declare_none, scoring_edition

pytestmark = LOOP


async def test_a_juror_prints_a_dossier_without_the_menus_and_the_score_form(page: Page) -> None:
    setup = await scoring_edition(nominees=({"links": "https://club.example.org"},))
    marta = setup.jurors[1]
    await declare_none(setup, marta)
    await log_in(page, marta.email)
    await page.goto(f"/jury/editions/{setup.edition.id}")
    await expect(page.get_by_role("link", name="All your dossiers in one PDF, to print")).to_be_visible()
    await page.goto(f"/jury/nominations/{setup.nominations[0]}")

    button = page.get_by_role("button", name="Print")
    await expect(button).to_be_visible()  # shown by the script; the hint for browsers without it is hidden
    await expect(page.get_by_text("To print this page, use your browser's print command (Ctrl+P).")).to_be_hidden()
    await assert_accessible(page)
    await page.evaluate("window.print = () => { window.printed = true; }")
    await button.click()
    assert await page.evaluate("window.printed === true") is True

    await page.emulate_media(media="print")
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await expect(button).to_be_hidden()
    await expect(page.locator("form").first).to_be_hidden()
    await expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    link = page.get_by_role("link", name="https://club.example.org")
    after = await link.evaluate("a => getComputedStyle(a, '::after').content")
    assert after == '" (https://club.example.org)"'
