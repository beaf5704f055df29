"""The accessibility statement and the title told plainly, as Chromium renders them in each
language on a small phone: axe-core finds nothing, nothing scrolls sideways, and the footer
link leads to the statement."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import LOOP, Browsing
from tests.browser.helpers import NARROW, AxeLog

pytestmark = LOOP


async def test_the_law_pages_are_accessible_in_every_language(browsing: Browsing) -> None:
    page = await browsing.new_page()
    await page.set_viewport_size(NARROW)
    log = AxeLog()

    for language in ("pl", "en", "uk"):
        await page.goto(f"/language/{language}?next=/")
        for path in ("/accessibility", "/about", "/about/easy-read"):
            await log.visit(page, path)
            assert await page.locator("html").get_attribute("lang") == language

    log.assert_clean()


async def test_the_footer_leads_to_the_statement(browsing: Browsing) -> None:
    page = await browsing.new_page()
    await page.goto("/laureates")

    await page.locator("footer").get_by_role("link", name="Accessibility statement").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Accessibility statement")
    await expect(page.locator("#a11y-podmiot")).to_have_text("The City of Kraków Office")
