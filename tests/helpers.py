"""HTTP helpers: forms carry the CSRF token exactly as a browser's form does."""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Awaitable, Callable

from httpx import Response

from tests.conftest import Client
from tests.factories import PASSWORD


async def csrf_token(client: Client) -> str:
    if "csrftoken" not in client.cookies:
        await client.get("/login")
    return str(client.cookies["csrftoken"])


async def post_form(client: Client, url: str, data: dict[str, str | list[str]]) -> Response:
    return await client.post(url, data={**data, "_csrf_token": await csrf_token(client)})


async def login(client: Client, email: str, password: str = PASSWORD, next_url: str = "/staff") -> Response:
    return await post_form(client, "/login", {"email": email, "password": password, "next": next_url})


def session_id(client: Client) -> str | None:
    value = client.cookies.get("session")
    return str(value) if value else None


def set_session_cookie(client: Client, value: str) -> None:
    """Present a given session id, as a thief or a fixation attacker would."""
    client.cookies.delete("session")
    client.cookies.set("session", value, domain="testserver.local")


def without_tokens(html: str) -> str:
    """Page text with per-client random values removed, to compare two answers."""
    return re.sub(r'value="[0-9a-f]{64,}"', 'value=""', html)


async def confirm_password(client: Client, password: str = PASSWORD, next_url: str = "/staff") -> Response:
    """Step-up: enter the password again on /account/confirm (docs/sessions.md)."""
    response = await post_form(client, "/account/confirm", {"password": password, "next": next_url})
    assert response.status_code in (303, 400, 429), response.text
    return response


class SessionClock:
    """The app's session clock: real time plus an offset a test moves forward (no sleeping)."""

    def __init__(self, client: Client) -> None:
        self.offset = 0.0
        client.app.state.sessions.clock = self

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


async def eventually(check: Callable[[], Awaitable[bool]], within: float, every: float = 0.02) -> bool:
    """Whether ``check`` holds within ``within`` seconds, asked every ``every`` seconds.

    For states of the outside world that cannot signal the test (a database row written by a
    background task, a thread of another process): a wait for a condition with a deadline,
    not a guessed delay. False past the deadline, so the test fails if the case is not reached.
    """
    end = time.monotonic() + within
    while True:
        if await check():
            return True
        if time.monotonic() > end:
            return False
        await asyncio.sleep(every)


def text_of(fragment: str) -> str:
    """What a reader sees of an HTML fragment: tags dropped, spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def row_of(page: str, attribute: str, value: int | str) -> str:
    """The inside of the table row ``<tr attribute="value">``."""
    found = re.search(rf'<tr {attribute}="{value}">(.*?)</tr>', page, re.S)
    assert found is not None, f"no row {attribute}={value}"
    return found.group(1)


def cells_of(row: str) -> list[str]:
    """The text of each ``td`` of a row, as a reader sees it."""
    return [text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
