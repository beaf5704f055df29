"""End-to-end tests in headless Chromium against a live server.

The browser is Debian's ``chromium`` package (``/usr/bin/chromium``, or ``AMBASSADOR_CHROMIUM``)
driven by Playwright; no browser is downloaded. Without it the tests here are skipped, except
in CI (``CI`` set), where they fail: ``.ci/run`` installs the package.

The app runs in uvicorn on a thread of this process, on the test's own SQLite database (the
``database_url`` fixture), so the data factories and the server share it. The tests run once,
in the SQLite pass: they test pages, not the database.

A failing test keeps a screenshot and the HTML of every page it opened in var/test-artifacts/;
the failure report names the files.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
import uvicorn
from playwright.async_api import Browser, ConsoleMessage, Error, Page, async_playwright, expect

from ambassador.settings import Settings
from ambassador.web.app import create_app
from tests.conftest import IS_POSTGRES

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("AMBASSADOR_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "var" / "test-artifacts"
TIMEOUT_MS = 10_000

expect.set_options(timeout=TIMEOUT_MS)

CALL_REPORT = pytest.StashKey[pytest.TestReport]()
# The browser tests run in the package's event loop, the one the shared browser lives in.
LOOP = pytest.mark.asyncio(loop_scope="package")


def require_chromium() -> None:
    """Skip (or, in CI, fail) when the browser tests cannot run here."""
    if IS_POSTGRES:
        pytest.skip("browser tests run once, in the SQLite pass: they test pages, not the database")
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: the browser tests need Debian's chromium package (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message + "; .ci/run installs it")
        pytest.skip(message)


def artifact_stem(nodeid: str) -> str:
    """The file name, without suffix, of a test's screenshots and HTML."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.removeprefix("tests/browser/"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[CALL_REPORT] = report
        if report.failed and "browsing" in getattr(item, "fixturenames", ()):
            saved = ARTIFACTS / f"{artifact_stem(item.nodeid)}-page*.png|html"
            report.sections.append(("browser artifacts", f"screenshot and HTML of each open page: {saved}"))
    return report


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    """The app served on a free port of 127.0.0.1; its base URL (also the base of mailed links)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(settings.with_changes(base_url=base_url))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", ws="none", loop="asyncio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.01)
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


@dataclass
class Browsing:
    """Pages of one headless Chromium, each in a browsing context (cookies) of its own."""

    browser: Browser
    base_url: str
    # The live server's settings (what the mail sender would run with).
    settings: Settings
    pages: list[Page] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    async def new_page(self) -> Page:
        """A page for a new person: no cookies, English, the app's address as base URL."""
        context = await self.browser.new_context(base_url=self.base_url, locale="en-GB")
        context.set_default_timeout(TIMEOUT_MS)
        page = await context.new_page()
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: script error: {error}"))
        page.on("console", lambda message: self._console(page, message))
        self.pages.append(page)
        return page

    def _console(self, page: Page, message: ConsoleMessage) -> None:
        # A blocked script or style is a defect; a 4xx document (a form's error state) is not.
        if message.type == "error" and "Content Security Policy" in message.text:
            self.problems.append(f"{page.url}: {message.text}")

    async def save(self, stem: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for number, page in enumerate(self.pages, start=1):
            if page.is_closed():
                continue
            with contextlib.suppress(Error):
                await page.screenshot(path=ARTIFACTS / f"{stem}-page{number}.png", full_page=True)
                (ARTIFACTS / f"{stem}-page{number}.html").write_text(await page.content(), encoding="utf-8")


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def chromium() -> AsyncIterator[Browser]:
    """One headless Chromium for the package; each test opens contexts of its own in it.

    The tests share its event loop: each test module has ``pytestmark = LOOP``.
    """
    require_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        await browser.close()


@pytest_asyncio.fixture(loop_scope="package")
async def browsing(
    chromium: Browser, live_server: str, settings: Settings, request: pytest.FixtureRequest
) -> AsyncIterator[Browsing]:
    marker = request.node.get_closest_marker("asyncio")
    if marker is None or marker.kwargs.get("loop_scope") != "package":
        pytest.fail("a browser test runs in the shared browser's event loop: give its module pytestmark = LOOP")
    session = Browsing(browser=chromium, base_url=live_server, settings=settings.with_changes(base_url=live_server))
    yield session
    report = request.node.stash.get(CALL_REPORT, None)
    if report is not None and report.failed:
        await session.save(artifact_stem(request.node.nodeid))
    for page in session.pages:
        await page.context.close()
    assert session.problems == [], "\n".join(session.problems)


@pytest_asyncio.fixture(loop_scope="package")
async def page(browsing: Browsing) -> Page:
    """The first person's page."""
    return await browsing.new_page()
