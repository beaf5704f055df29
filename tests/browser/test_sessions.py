"""A staff member on a phone ends their other sessions with the keyboard alone (ASVS 7.5.2)."""

from __future__ import annotations

from playwright.async_api import Page, expect

from ambassador.enums import Role
from tests.browser.conftest import LOOP, Browsing
from tests.browser.helpers import NARROW, assert_accessible, log_in
from tests.factories import make_user

pytestmark = LOOP


async def tab_to(page: Page, text: str) -> None:
    """Press Tab until the focused element reads ``text``."""
    for _ in range(40):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.textContent.trim()") == text:
            return
    raise AssertionError(f"Tab never reached {text!r}")


async def test_ending_the_other_sessions_on_a_phone_with_the_keyboard(browsing: Browsing) -> None:
    """ASVS 7.5.2: the sessions page lists both browsers; ending the others asks first, then the
    other browser is sent to the login page."""
    clerk = await make_user("clerk@example.org", (Role.CLERK,))
    laptop = await browsing.new_page()
    await log_in(laptop, clerk.email)
    phone = await browsing.new_page()
    await phone.set_viewport_size(NARROW)
    await log_in(phone, clerk.email)

    await phone.goto("/account")
    await tab_to(phone, "Where you are logged in")
    await phone.keyboard.press("Enter")
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Your sessions")
    await expect(phone.get_by_text("(this session)")).to_have_count(1)
    await assert_accessible(phone)
    await tab_to(phone, "End all other sessions")
    await phone.keyboard.press("Enter")
    await expect(phone.get_by_text("End your 1 other session?")).to_be_visible()
    await assert_accessible(phone)
    await tab_to(phone, "End all other sessions")
    await phone.keyboard.press("Enter")
    await expect(phone.get_by_text("1 session ended.")).to_be_visible()

    await laptop.goto("/staff")
    await expect(laptop).to_have_url(f"{browsing.base_url}/login?next=/staff")
