"""What the browser tests do often: log in, follow a mailed link, run axe-core on a page."""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
from pathlib import Path
from typing import Any

import pyotp
from playwright.async_api import Page, ViewportSize, expect

from ambassador.db import utcnow
from ambassador.domain import second_factor
from ambassador.domain.accounts import Account
from ambassador.tables import OutboxMail
from tests.factories import PASSWORD


def _axe_script() -> str:
    """axe.min.js as the PyPI package axe-playwright-python ships it (no download at test time)."""
    spec = importlib.util.find_spec("axe_playwright_python")
    assert spec is not None, "axe-playwright-python is not installed (pip install -e '.[dev]')"
    assert spec.origin is not None
    return (Path(spec.origin).parent / "axe.min.js").read_text(encoding="utf-8")


AXE_SCRIPT = _axe_script()
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
_RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), html: n.html, summary: n.failureSummary})),
  }));
}"""


async def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.1 A and AA violations on the page as it is now, one line per element."""
    if not await page.evaluate("typeof axe !== 'undefined'"):
        # evaluate(), not a script tag: the app's Content-Security-Policy stays in force.
        await page.evaluate(AXE_SCRIPT)
    violations: list[dict[str, Any]] = await page.evaluate(_RUN_AXE, WCAG_21_AA)
    return [
        f"{v['id']} ({v['impact']}: {v['help']}) at {n['target']}: {n['html'][:200]}"
        for v in violations
        for n in v["nodes"]
    ]


async def reflow_problems(page: Page) -> list[str]:
    """WCAG 1.4.10 (which axe does not test): no horizontal scrolling of the page; at 320 CSS
    pixels wide that is the criterion itself. Wide tables scroll in a box of their own."""
    width, viewport = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width <= viewport:
        return []
    wide = await page.evaluate(_WIDEST, viewport)
    return [f"reflow: the page is {width} px wide in a {viewport} px window; too wide: {', '.join(wide)}"]


_WIDEST = """(viewport) => [...document.querySelectorAll("main *, header *, footer *")]
  .filter((e) => e.getBoundingClientRect().right > viewport + 1)
  .slice(-3)
  .map((e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + e.className : ""))"""
# A small phone, and the width at which WCAG 1.4.10 asks for no horizontal scrolling.
NARROW: ViewportSize = {"width": 320, "height": 640}


async def assert_accessible(page: Page) -> None:
    found = await axe_violations(page) + await reflow_problems(page)
    assert found == [], f"axe-core on {page.url}:\n" + "\n".join(found)


class AxeLog:
    """Violations of several pages, to report them all at once."""

    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}
        self.checked: list[str] = []

    async def check(self, page: Page, name: str = "") -> None:
        label = name or page.url
        self.checked.append(label)
        violations = await axe_violations(page) + await reflow_problems(page)
        if violations:
            self.found[label] = violations

    async def visit(self, page: Page, path: str, status: int = 200) -> None:
        response = await page.goto(path)
        assert response is not None
        assert response.status == status, f"{path}: HTTP {response.status}"
        await self.check(page, path)

    async def errors(
        self,
        page: Page,
        action: str,
        fields: dict[str, str] | None = None,
        *,
        at: str = "",
        button: str = "",
        status: int = 400,
    ) -> None:
        """Send the form posting to ``action`` (on the page ``at``, or the current one) so that
        the server refuses it, then check the page it answers with."""
        if at:
            await page.goto(at)
        got = await send_form(page, action, fields, button=button)
        assert got == status, f"{action}: HTTP {got}, expected {status}"
        await self.check(page, f"{action} (errors)")

    def assert_clean(self) -> None:
        report = "\n".join(f"{page}:\n  " + "\n  ".join(lines) for page, lines in self.found.items())
        assert self.found == {}, (
            f"axe-core found violations on {len(self.found)} of {len(self.checked)} pages:\n{report}"
        )


async def send_form(page: Page, action: str, fields: dict[str, str] | None = None, *, button: str = "") -> int:
    """Fill fields by name and press the form's (first, or named) button; the answer's status.

    The browser's own checks (``required``, ``type="email"``) are turned off, as in a browser
    without them, so that the server's error state can be reached.
    """
    form = page.locator(f'form[action="{action}"]')
    await form.evaluate("(form) => { form.noValidate = true; }")
    for name, value in (fields or {}).items():
        control = form.locator(f'[name="{name}"]').first
        kind = await control.evaluate("(element) => element.type")
        if kind == "radio":
            await form.locator(f'[name="{name}"][value="{value}"]').check()
        elif kind == "checkbox":
            await control.set_checked(bool(value))
        elif kind.startswith("select"):
            await control.select_option(value)
        else:
            await control.fill(value)
    submit = form.get_by_role("button", name=button) if button else form.locator('button[type="submit"]').first
    async with page.expect_navigation() as navigation:
        await submit.click()
    response = await navigation.value
    return response.status if response is not None else 0


async def log_in(page: Page, email: str, *, password: str = PASSWORD, totp_secret: str = "") -> None:
    """Through the login form (and the two-step form when the account has a second factor)."""
    await page.goto("/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    if totp_secret:
        await expect(page.get_by_role("heading", name="Two-step login")).to_be_visible()
        await page.get_by_label("6-digit code from your authenticator app").fill(pyotp.TOTP(totp_secret).now())
        await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()


async def with_second_factor(account: Account) -> str:
    """Turn on TOTP for the account, as its owner would on the account page; the secret.

    The code proving the app works is the previous 30-second step's, so that the login that
    follows can use the current one (a step is accepted once).
    """
    secret = second_factor.new_totp_secret()
    earlier = pyotp.TOTP(secret).at(utcnow() - dt.timedelta(seconds=30))
    await second_factor.enable_totp(user_id=account.id, secret=secret, code=earlier)
    return secret


async def mailed_path(to: str, pattern: str) -> str:
    """The path of the newest link to ``to`` matching ``pattern`` (a regex of the path)."""
    mails = (
        await OutboxMail.select(OutboxMail.body_text)
        .where(OutboxMail.to_address == to)
        .order_by(OutboxMail.id, ascending=False)
    )
    for mail in mails:
        found = re.search(rf"https?://[^/\s]+({pattern})", mail["body_text"])
        if found:
            return found.group(1)
    raise AssertionError(f"no mail to {to} links to {pattern}")


async def confirm_step(page: Page) -> None:
    """On an irreversible step's confirmation page (templates/_confirm.html): tick that the
    warnings were read, if there are any, and take the step (the page's first post button)."""
    box = page.locator("#f-acknowledged")
    if await box.count():
        await box.check()
    async with page.expect_navigation():
        await page.locator('main form[method="post"] button[type="submit"]').first.click()
