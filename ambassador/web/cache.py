"""The public archive's page cache and conditional requests (ETag, Last-Modified, 304).

The archive changes rarely (a publication, a correction), but is read often, and each
database query costs more than rendering. So rendered archive responses for anonymous
visitors are kept in this process, keyed by address and language, and are valid while the
archive's stamp (``ambassador.domain.archive.stamp``) is the same. The stamp is read again
every ``refresh_seconds`` in the background (the other app processes' changes show within
that time plus the time the refresh takes), at once after a successful POST of the staff area
in this process (the only pages that change the archive: a login, a nomination or a score
does not empty the cache), and at once when a scheduled publication moment comes, so nothing
appears early and a publication appears at its moment.

Litestar's own response cache is not used: it has no conditional requests and no way to tie
entries to the archive's state. The cache holds only copies of public pages; losing it loses
nothing.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import hashlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)

from ambassador import __version__, i18n
from ambassador.db import utcnow
from ambassador.domain import archive
from ambassador.domain.archive import Stamp
from ambassador.web.addresses import prefix_language
from ambassador.web.language import chosen_language, cookie_values
from ambassador.web.refreshing import BackgroundRefresh

log = logging.getLogger("ambassador.cache")

# Where the archive is changed: the clerks' pages (decision, laureates, publication) and the
# laureates' own check of their entry.
ARCHIVE_WRITERS = ("/staff/", "/laureate-check/")
CACHEABLE = re.compile(
    r"^/(?:laureates(?:/[A-Za-z0-9-]{1,220}|\.csv|\.json)?|editions/\d{1,4}"
    r"|api/v1/(?:editions|laureates)|feed\.atom|sitemap\.xml)$"
)
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_TOTAL_BYTES = 48 * 1024 * 1024
MAX_ENTRIES = 2000
# Shared caches may keep archive pages, but must ask before each use: a publication must show
# at its moment, a withdrawal at once.
CACHE_CONTROL = b"public, no-cache"
# The language comes from the address's prefix on the public pages, from these on the open data;
# the encoding is chosen outside the cache (ambassador.web.compression).
VARY = b"accept-language, cookie, accept-encoding"

Key = tuple[str, str, str]


@dataclass(frozen=True)
class Entry:
    token: str
    etag: str
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


class ArchiveCache(BackgroundRefresh[Stamp]):
    """Rendered archive responses, valid for one archive stamp.

    The stamp is refreshed in the background while requests go on with the current one (a
    refresh under load takes a while, and no visitor should wait for it), except when there
    is none yet, after a change in this process, or when a scheduled publication moment has
    come: then the request waits for the fresh stamp.
    """

    what = "the archive stamp"

    def __init__(
        self,
        refresh_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        super().__init__(refresh_seconds, clock)
        # Injectable: ``now`` decides whether a scheduled publication moment has come.
        self.now = now
        self._entries: OrderedDict[Key, Entry] = OrderedDict()
        self._bytes = 0
        self._stamp: Stamp | None = None
        self._token = ""

    def invalidate(self) -> None:
        """Wait for a fresh stamp on the next request (after a change made in this process)."""
        self._stamp = None

    async def stamp(self) -> Stamp:
        current = self._stamp
        if current is None or self.refresh_seconds <= 0 or (current.next_moment and self.now() >= current.next_moment):
            return await self._fresh()
        self._refresh_when_due()
        return current

    async def _read(self) -> Stamp:
        fresh = await archive.stamp()
        if fresh.token != self._token:
            self._entries.clear()
            self._bytes = 0
            self._token = fresh.token
        # Kept even when the token is the same: the next scheduled moment may be new.
        self._stamp = fresh
        return fresh

    def get(self, key: Key, token: str) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None or entry.token != token:
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: Key, entry: Entry) -> None:
        if len(entry.body) > MAX_BODY_BYTES:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(old.body)
        self._entries[key] = entry
        self._bytes += len(entry.body)
        while self._entries and (len(self._entries) > MAX_ENTRIES or self._bytes > MAX_TOTAL_BYTES):
            _, dropped = self._entries.popitem(last=False)
            self._bytes -= len(dropped.body)

    def __len__(self) -> int:
        return len(self._entries)


WANTED = frozenset({b"cookie", b"accept-language", b"if-none-match", b"if-modified-since"})


def _headers(scope: Scope) -> dict[bytes, bytes]:
    """The few request headers the cache looks at (ASGI gives header names in lower case)."""
    return {name: value for name, value in scope.get("headers", []) if name in WANTED}


def etag_for(token: str, key: Key) -> str:
    digest = hashlib.sha256(f"{__version__}|{token}|{key!r}".encode()).hexdigest()[:32]
    return f'W/"{digest}"'


@functools.lru_cache(maxsize=64)
def http_date(moment: dt.datetime) -> str:
    return email.utils.format_datetime(moment.astimezone(dt.UTC).replace(microsecond=0), usegmt=True)


def not_modified(headers: dict[bytes, bytes], etag: str, last_modified: dt.datetime | None) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since."""
    if b"if-none-match" in headers:
        given = headers[b"if-none-match"].decode("latin-1")
        tags = {tag.strip().removeprefix("W/") for tag in given.split(",")}
        return "*" in tags or etag.removeprefix("W/") in tags
    raw = headers.get(b"if-modified-since")
    if raw is None or last_modified is None:
        return False
    try:
        since = email.utils.parsedate_to_datetime(raw.decode("latin-1"))
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        return False
    return last_modified.replace(microsecond=0) <= since


async def _respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)


class ArchiveCacheMiddleware(ASGIMiddleware):
    """Serves cached archive pages and 304s to anonymous visitors; refreshes after changes."""

    def __init__(self, cache: ArchiveCache, session_cookie: str) -> None:
        self.cache = cache
        self.session_cookie = session_cookie

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope["type"] != ScopeType.HTTP:
            await next_app(scope, receive, send)
            return
        method = scope.get("method")
        if method != "GET" or not CACHEABLE.match(scope["path"]):
            changes = method not in ("GET", "HEAD") and scope["path"].startswith(ARCHIVE_WRITERS)
            await next_app(scope, receive, self._after_change(send) if changes else send)
            return
        headers = _headers(scope)
        cookies = cookie_values(headers.get(b"cookie", b""))
        if self.session_cookie in cookies:
            # Staff see their own menu on these pages: rendered fresh, never shared.
            await next_app(scope, receive, send)
            return
        language = prefix_language(scope) or i18n.negotiate(
            chosen_language(cookies), headers.get(b"accept-language", b"").decode("latin-1")
        )
        key: Key = (scope["path"], scope.get("query_string", b"").decode("latin-1"), language)
        stamp = await self.cache.stamp()
        entry = self.cache.get(key, stamp.token)
        etag = entry.etag if entry is not None else etag_for(stamp.token, key)
        validators = [(b"etag", etag.encode()), (b"cache-control", CACHE_CONTROL), (b"vary", VARY)]
        if stamp.last_modified is not None:
            validators.append((b"last-modified", http_date(stamp.last_modified).encode()))
        if not_modified(headers, etag, stamp.last_modified):
            await _respond(send, 304, validators, b"")
            return
        if entry is not None:
            await _respond(send, entry.status, list(entry.headers), entry.body)
            return
        await self._render(
            scope, receive=receive, send=send, next_app=next_app, key=key, token=stamp.token, validators=validators
        )

    async def _render(
        self,
        scope: Scope,
        *,
        receive: Receive,
        send: Send,
        next_app: ASGIApp,
        key: Key,
        token: str,
        validators: list[tuple[bytes, bytes]],
    ) -> None:
        """Render through the app, add the validators, and keep a 200 for the next visitor."""
        status = 0
        kept: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        shareable = True
        replaced = {name for name, _ in validators}

        async def capture(message: Message) -> None:
            nonlocal status, kept, shareable
            if message["type"] == "http.response.start":
                status = message["status"]
                original: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                for name, value in original:
                    if name.lower() == b"set-cookie" and not value.lower().startswith((b"csrftoken=", b"__host-csrf")):
                        shareable = False
                kept = [(n, v) for n, v in original if n.lower() not in replaced and n.lower() != b"set-cookie"]
                if status == 200:
                    kept += validators
                    message["headers"] = [(n, v) for n, v in original if n.lower() not in replaced] + validators
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await next_app(scope, receive, capture)
        if status == 200 and shareable:
            etag = next(value.decode() for name, value in validators if name == b"etag")
            self.cache.put(key, Entry(token, etag, status, tuple(kept), b"".join(chunks)))

    def _after_change(self, send: Send) -> Any:
        """A successful POST of the staff may have changed the archive: read the stamp again."""

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                self.cache.invalidate()
            await send(message)

        return wrapped
