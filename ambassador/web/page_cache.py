"""The home page and the nomination form, rendered once and filled in for each visitor.

``GET /`` and ``GET /nominate`` are the public pages everybody opens at the deadline. For an
anonymous visitor (no session cookie) they depend only on the edition open for nominations
(its state, window, names, categories and criteria), the phase of its window (not yet open,
open, closed), the language and the app's version. So each is rendered once per such key and
kept in this process; what differs per visitor is filled in on every request:

- the CSRF token of the form (``_csrf_token``): the visitor's own CSRF cookie when it is a
  valid signed token, else a fresh token, sent in a new cookie as Litestar would;
- the form's submission key (a fresh random key per page view, as before).

Compressed answers: a page without per-visitor values (the home page) is compressed once
(brotli and gzip); the form is sent as gzip built per request from its parts deflated once and
the two values as stored deflate blocks, so no visitor's answer is compressed from scratch. Each
carries ``Content-Encoding`` (compression around the app must leave such answers alone) and
``Vary: Accept-Encoding``.

The page is rendered through the app itself (an internal request without cookies but the
language and a placeholder CSRF cookie; the handlers put :data:`KEY_SLOT` for the submission
key), and the placeholders are replaced by the visitor's values. Nothing personal is cached:
the render has no session, no flash and no token of anybody. A visitor who has a session
cookie (staff, or someone with a message waiting in their session), a request with a query
string, or any other method goes the usual, uncached way, so staff never see a shared page
and nobody sees a staff member's menu.

The edition is read again every ``refresh_seconds`` in the background (``AMBASSADOR_EDITION_
CACHE_SECONDS``; requests go on with the current copy meanwhile), at once when there is none
yet, and at once after a successful staff POST in this process (``/staff/...``: editions,
categories, criteria). A change made by another process shows within ``refresh_seconds``
plus the time of a read; the key holds a digest of the whole edition as read, so any change
of what the page shows gives new pages. The phase is computed at each request, so the form
opens and closes at its moments. The language is the one the request gets
(:func:`request_language`, the same rule as ``ambassador.web.language``); a rendered page in
another language (an address scheme that decides the language differently) is served to its
request but not kept under the wrong key.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import hashlib
import hmac
import logging
import re
import secrets
import struct
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

import brotli
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash, generate_csrf_token
from litestar.types import ASGIApp, HTTPRequestEvent, Message, Receive, Scope, Send
from litestar.utils.scope.state import CONNECTION_STATE_KEY

from ambassador import __version__, i18n
from ambassador.db import utcnow
from ambassador.domain.editions import EditionView, open_edition_now
from ambassador.web.addresses import prefix_language
from ambassador.web.language import LANGUAGE_COOKIE, chosen_language, cookie_values
from ambassador.web.refreshing import BackgroundRefresh
from ambassador.web.static import accepted_encodings

log = logging.getLogger("ambassador.page_cache")

PAGES = frozenset({"/", "/nominate"})
# POSTs that may change what these pages show (the edition, its categories and criteria).
WRITERS = ("/staff/",)
# The scope key of an internal render: its value is the Render the handlers use.
RENDERING = "ambassador.page_cache.render"
# Placeholders: letters, digits and hyphens only, so escaping leaves them as they are; random
# per process, so no text of a page can contain them by chance.
_NONCE = secrets.token_hex(12)
CSRF_SLOT = f"pagecache-csrf-{_NONCE}"
KEY_SLOT = f"pagecache-key-{_NONCE}"
MAX_ENTRIES = 64

Key = tuple[str, str, str, str]


@dataclass(frozen=True)
class Snapshot:
    """The edition open for nominations (or None) as read at one moment, and its digest."""

    edition: EditionView | None
    version: str


@dataclass(frozen=True)
class Render:
    """What an internal render shows: the handlers take the edition and the moment from here."""

    edition: EditionView | None
    now: dt.datetime


@dataclass(frozen=True)
class Page:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]  # without content-length and set-cookie
    parts: tuple[bytes, ...]  # the body split at the placeholders
    slots: tuple[str, ...]  # between parts: "csrf" or "key"
    # A page without placeholders, compressed once: {"br": ..., "gzip": ...}.
    encoded: dict[str, bytes] = field(default_factory=dict)
    # A page with placeholders: each part as raw deflate data ending byte-aligned, for gzip.
    deflated: tuple[bytes, ...] = ()

    @classmethod
    def of(cls, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Page:
        parts, slots = split(body)
        if not any(n.lower() == b"vary" and b"accept-encoding" in v.lower() for n, v in headers):
            headers = [*headers, (b"vary", b"accept-encoding")]
        if not slots:
            encoded = {"br": brotli.compress(body, quality=9), "gzip": gzip.compress(body, 6, mtime=0)}
            return cls(status, tuple(headers), parts, slots, encoded=encoded)
        return cls(status, tuple(headers), parts, slots, deflated=tuple(_deflate(p) for p in parts))

    def values(self, csrf: str, key: str) -> list[bytes]:
        """The parts and the filled-in values, in order."""
        given = {"csrf": csrf.encode(), "key": key.encode()}
        out = [self.parts[0]]
        for slot, part in zip(self.slots, self.parts[1:], strict=True):
            out += (given[slot], part)
        return out

    def body(self, csrf: str, key: str) -> bytes:
        return b"".join(self.values(csrf, key))

    def gzipped(self, csrf: str, key: str) -> bytes:
        """The filled-in page as gzip: the parts compressed once, the values as stored blocks."""
        pieces = self.values(csrf, key)
        crc = 0
        size = 0
        for piece in pieces:
            crc = zlib.crc32(piece, crc)
            size += len(piece)
        given = iter(pieces[1::2])
        out = [GZIP_HEADER, self.deflated[0]]
        for deflated in self.deflated[1:]:
            out += (_stored(next(given)), deflated)
        out += (FINAL_BLOCK, struct.pack("<II", crc, size & 0xFFFFFFFF))
        return b"".join(out)


# gzip (RFC 1952) around raw deflate data (RFC 1951): no name, no time, unknown OS.
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
FINAL_BLOCK = zlib.compressobj(6, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)  # an empty last block


def _deflate(part: bytes) -> bytes:
    """``part`` as deflate blocks on their own (no reference outside it), ending byte-aligned
    and not final (a sync flush), so that other blocks may follow."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(part) + compressor.flush(zlib.Z_SYNC_FLUSH)


def _stored(value: bytes) -> bytes:
    """``value`` (a token, under 64 KiB) as one stored deflate block, not final."""
    return b"\x00" + struct.pack("<HH", len(value), len(value) ^ 0xFFFF) + value


def split(body: bytes) -> tuple[tuple[bytes, ...], tuple[str, ...]]:
    """The body cut at every placeholder, and which placeholder each cut was."""
    markers = {CSRF_SLOT.encode(): "csrf", KEY_SLOT.encode(): "key"}
    parts: list[bytes] = []
    slots: list[str] = []
    rest = body
    while True:
        found = [(rest.find(m), m) for m in markers if rest.find(m) >= 0]
        if not found:
            parts.append(rest)
            return tuple(parts), tuple(slots)
        at, marker = min(found)
        parts.append(rest[:at])
        slots.append(markers[marker])
        rest = rest[at + len(marker) :]


def rendering(scope: Scope) -> Render | None:
    """In a handler: the Render of an internal render for the cache, None for a visitor's request."""
    found = cast("dict[str, Any]", scope).get(RENDERING)
    return found if isinstance(found, Render) else None


def submission_key(scope: Scope) -> str:
    """A fresh submission key, or its placeholder when the page is rendered for the cache."""
    return KEY_SLOT if rendering(scope) is not None else secrets.token_urlsafe(24)


def phase(edition: EditionView | None, now: dt.datetime) -> str:
    if edition is None:
        return "none"
    if edition.accepts_nominations(now):
        return "open"
    return "not-yet" if now < edition.opens_at else "closed"


def request_language(scope: Scope, cookies: dict[str, str], accept_language: str) -> str:
    """The language the request is served in: the one its address set (``/en/…``,
    ``ambassador.web.addresses``), else the cookie, else Accept-Language
    (``ambassador.web.language``)."""
    if (found := prefix_language(scope)) is not None and (supported := i18n.supported(found)):
        return supported
    return i18n.negotiate(chosen_language(cookies), accept_language)


class PageCache(BackgroundRefresh[Snapshot]):
    """The rendered pages of this process, and the copy of the open edition they belong to."""

    what = "the open edition for the page cache"

    def __init__(
        self,
        refresh_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        read: Callable[[], Awaitable[EditionView | None]] = open_edition_now,
    ) -> None:
        super().__init__(refresh_seconds, clock)
        self.read = read
        self._snapshot: Snapshot | None = None
        self._pages: dict[Key, Page] = {}
        # Keys whose render was not shareable (served the usual way until the edition changes).
        self._refused: set[Key] = set()
        self._rendering: dict[Key, asyncio.Future[Page | None]] = {}

    def invalidate(self) -> None:
        """Read the edition again before the next page (after a change made in this process)."""
        self._snapshot = None

    async def snapshot(self) -> Snapshot:
        current = self._snapshot
        if current is None or self.refresh_seconds <= 0:
            return await self._fresh()
        self._refresh_when_due()
        return current

    async def _read(self) -> Snapshot:
        edition = await self.read()
        version = hashlib.sha256(f"{__version__}|{edition!r}".encode()).hexdigest()[:32]
        if self._snapshot is None or self._snapshot.version != version:
            # Pages of older versions are no longer asked for.
            self._pages = {k: v for k, v in self._pages.items() if k[2] == version}
            self._refused.clear()
        self._snapshot = Snapshot(edition, version)
        return self._snapshot

    def get(self, key: Key) -> Page | None:
        return self._pages.get(key)

    def refused(self, key: Key) -> bool:
        return key in self._refused

    def put(self, key: Key, page: Page | None) -> None:
        if len(self._pages) + len(self._refused) >= MAX_ENTRIES:
            self._pages.clear()
            self._refused.clear()
        if page is None:
            self._refused.add(key)
        else:
            self._pages[key] = page

    def __len__(self) -> int:
        return len(self._pages)


async def _no_body() -> HTTPRequestEvent:
    return {"type": "http.request", "body": b"", "more_body": False}


class PageCacheMiddleware(ASGIMiddleware):
    """Serves the home page and the form to anonymous visitors from :class:`PageCache`."""

    def __init__(self, cache: PageCache, session_cookie: str, csrf: CSRFConfig) -> None:
        self.cache = cache
        self.session_cookie = session_cookie
        self.csrf = csrf
        # The cookie Litestar's CSRF middleware sets, with the value left to fill in.
        template = Cookie(
            key=csrf.cookie_name,
            value=CSRF_SLOT,
            path=csrf.cookie_path,
            secure=csrf.cookie_secure,
            httponly=csrf.cookie_httponly,
            samesite=csrf.cookie_samesite,
            domain=csrf.cookie_domain,
        ).to_header(header="")
        self._cookie_before, _, self._cookie_after = template.partition(CSRF_SLOT)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope["type"] != ScopeType.HTTP:
            await next_app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if method != "GET" or path not in PAGES or scope.get("query_string"):
            if method not in ("GET", "HEAD") and path.startswith(WRITERS):
                send = self._after_change(send)
            await next_app(scope, receive, send)
            return
        cookie_header = accept_language = accept_encoding = b""
        for name, value in scope["headers"]:
            if name == b"cookie":  # several Cookie headers (HTTP/2) are one list
                cookie_header = cookie_header + b";" + value if cookie_header else value
            elif name == b"accept-language":
                accept_language = value
            elif name == b"accept-encoding":
                accept_encoding = value
        cookies = cookie_values(cookie_header) if cookie_header else {}
        if self.session_cookie in cookies:
            await next_app(scope, receive, send)  # a session: its own menu and messages, never shared
            return
        language = request_language(scope, cookies, accept_language.decode("latin-1"))
        snapshot = await self.cache.snapshot()
        now = utcnow()
        key: Key = (path, language, snapshot.version, phase(snapshot.edition, now))
        page = self.cache.get(key)
        if page is None and not self.cache.refused(key):
            page = await self._render(scope, key, language, Render(snapshot.edition, now), next_app)
        if page is None:
            await next_app(scope, receive, send)
            return
        await self._respond(send, page, cookies.get(self.csrf.cookie_name), accept_encoding)

    async def _respond(self, send: Send, page: Page, cookie_token: str | None, accept_encoding: bytes) -> None:
        headers = list(page.headers)
        token = cookie_token if cookie_token and self._valid(cookie_token) else None
        if "csrf" in page.slots and token is None:
            token = generate_csrf_token(secret=self.csrf.secret)
            headers.append((b"set-cookie", f"{self._cookie_before}{token}{self._cookie_after}".encode("latin-1")))
        accepted = accepted_encodings(accept_encoding) if accept_encoding else frozenset()
        encoding = ""
        if not page.slots:
            encoding = next((e for e in ("br", "gzip") if e in accepted or "*" in accepted), "")
            body = page.encoded[encoding] if encoding else page.parts[0]
        elif "gzip" in accepted or "*" in accepted:
            encoding = "gzip"
            body = page.gzipped(token or "", secrets.token_urlsafe(24))
        else:
            body = page.body(token or "", secrets.token_urlsafe(24))
        if encoding:
            headers.append((b"content-encoding", encoding.encode()))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": page.status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    def _valid(self, token: str) -> bool:
        """A token Litestar signed with this app's secret (any other cookie value gets a new one)."""
        if len(token) <= CSRF_SECRET_LENGTH or not token.isalnum():
            return False
        secret, signature = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
        return hmac.compare_digest(signature, generate_csrf_hash(token=secret, secret=self.csrf.secret))

    async def _render(self, scope: Scope, key: Key, language: str, render: Render, next_app: ASGIApp) -> Page | None:
        """The page rendered once for ``key`` (concurrent misses share one render)."""
        pending = self.cache._rendering.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Page | None] = asyncio.get_running_loop().create_future()
        self.cache._rendering[key] = future
        try:
            page = await self._render_now(scope, language, render, next_app)
            self.cache.put(key, page)
            future.set_result(page)
            return page
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody else waited
            raise
        finally:
            del self.cache._rendering[key]

    async def _render_now(self, scope: Scope, language: str, render: Render, next_app: ASGIApp) -> Page | None:
        """Render through the app as an anonymous visitor with placeholders; None if not shareable."""
        cookie = f"{LANGUAGE_COOKIE}={language}; {self.csrf.cookie_name}={CSRF_SLOT}"
        headers = [(n, v) for n, v in scope["headers"] if n not in (b"cookie", b"accept-encoding", b"accept-language")]
        headers.append((b"cookie", cookie.encode("latin-1")))
        state = {k: v for k, v in scope.get("state", {}).items() if k != CONNECTION_STATE_KEY}
        internal = cast("Scope", {**scope, "headers": headers, "state": state, RENDERING: render})
        status = 0
        kept: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, kept
            if message["type"] == "http.response.start":
                status = message["status"]
                kept = [
                    (n, v) for n, v in message.get("headers", []) if n.lower() not in (b"content-length", b"set-cookie")
                ]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await next_app(internal, _no_body, capture)
        body = b"".join(chunks)
        if status != 200 or not re.search(rf'<html[^>]*\slang="{language}"'.encode(), body[:1000]):
            log.warning("page %s not kept: status %s, or not in %s", scope["path"], status, language)
            return None
        return Page.of(status, kept, body)

    def _after_change(self, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                self.cache.invalidate()
            await send(message)

        return wrapped
