"""Responses compressed with brotli or gzip, as the client accepts (``Accept-Encoding``).

Part of the front door (``ambassador.web.front``, which gives :func:`compressing` as the ``send``
of a response that may be compressed) rather than Litestar's ``CompressionConfig``: it must sit
outside the archive cache (ambassador.web.cache), which keeps each page once, as rendered, and
serves it to every client whatever encoding it accepts; and inside the HEAD handling, so that a
HEAD answers the headers of the compressed GET.

What is compressed: a whole response (one body message; streamed files are left as they are) of
at least :data:`MIN_SIZE` bytes, of a textual media type, not already encoded, not marked
``no-transform``; brotli when the client accepts it, else gzip. ``Vary: Accept-Encoding`` is
added to every response that was or could have been compressed. A weak ``ETag`` stays as it is
(the encodings are the same page: a 304 answers either); a strong one becomes weak.

Where (BREACH): only responses that hold no secret next to text the request chose. Static files
and open data always; the public pages (ambassador.web.addresses) unless the request carries the
staff session cookie (a staff member's public page holds the session's CSRF token in the logout
form, next to the search words of the address). The staff area, the links mailed to nominators
and nominees and the login pages are not compressed: each holds a CSRF token, and some show
values taken from the address.

Compressed bodies are remembered (:class:`Compressed`), by the response's ETag when the body is
the one remembered with it, else by content, so a page served again (the archive cache's pages)
is compressed once per encoding and costs no digest of its body either.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from functools import lru_cache

import brotli
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send

from ambassador.web.addresses import is_public_page
from ambassador.web.middleware import is_open_data

MIN_SIZE = 1024
GZIP_LEVEL = 6
BROTLI_QUALITY = 5
# Textual media types worth compressing (images, PDF and archives are compressed already).
COMPRESSIBLE = (
    b"text/",
    b"application/json",
    b"application/xml",
    b"application/atom+xml",
    b"application/ld+json",
    b"application/javascript",
    b"application/manifest+json",
    b"image/svg+xml",
)
# Pages without a secret: compressed for anyone (BREACH: this module's docstring).
SECRETLESS_PATHS = ("/honour/logo",)
Finish = Callable[[], Awaitable[None]]
# What :func:`policy` says of a path.
NEVER, ALWAYS, ANONYMOUS = 0, 1, 2
MAX_REMEMBERED = 512
MAX_REMEMBERED_BYTES = 16 * 1024 * 1024


def accepted(header: str) -> str | None:
    """``br`` or ``gzip`` (in that order of preference) if the client accepts it, else None."""
    weights: dict[str, float] = {}
    for part in header.split(",")[:20]:
        name, _, params = part.strip().partition(";")
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                continue
        weights[name.strip().lower()] = weight
    for encoding in ("br", "gzip"):
        weight = weights.get(encoding, weights.get("*", 0.0))
        if weight > 0:
            return encoding
    return None


def compress(body: bytes, encoding: str) -> bytes:
    if encoding == "br":
        return bytes(brotli.compress(body, mode=brotli.MODE_TEXT, quality=BROTLI_QUALITY))
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


@lru_cache(maxsize=256)
def accepted_bytes(header: bytes) -> str | None:
    """:func:`accepted` of a raw header value, remembered (browsers send a few values only)."""
    return accepted(header.decode("latin-1")) if header else None


class Compressed:
    """Compressed bodies, so that pages served again (the archive cache's pages) cost nothing.

    A body is found by its ``tag`` (the response's ETag, with which the archive cache sends the
    same bytes object every time) when the body remembered with the tag is the same, else by the
    digest of its content.
    """

    def __init__(self, max_entries: int = MAX_REMEMBERED, max_bytes: int = MAX_REMEMBERED_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        # (tag or digest, encoding) -> (the body when the key is a tag, the compressed body)
        self._entries: OrderedDict[tuple[bytes, str], tuple[bytes | None, bytes]] = OrderedDict()
        self._bytes = 0

    def get(self, body: bytes, encoding: str, tag: bytes | None = None) -> bytes:
        if tag is not None:
            found = self._entries.get((tag, encoding))
            if found is not None and (found[0] is body or found[0] == body):
                self._entries.move_to_end((tag, encoding))
                return found[1]
        key = (hashlib.blake2b(body, digest_size=16).digest(), encoding)
        hit = self._entries.get(key)
        if hit is not None:
            self._entries.move_to_end(key)
            packed = hit[1]
        else:
            packed = compress(body, encoding)
            self._put(key, None, packed)
        if tag is not None:
            self._put((tag, encoding), body, packed)
        return packed

    def _put(self, key: tuple[bytes, str], body: bytes | None, packed: bytes) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(old[0] or b"") + len(old[1])
        self._entries[key] = (body, packed)
        self._bytes += len(body or b"") + len(packed)
        while self._entries and (len(self._entries) > self.max_entries or self._bytes > self.max_bytes):
            _, (kept, dropped) = self._entries.popitem(last=False)
            self._bytes -= len(kept or b"") + len(dropped)

    def __len__(self) -> int:
        return len(self._entries)


def _request_headers(scope: Scope) -> tuple[str, str]:
    """(Accept-Encoding, Cookie) of the request."""
    encoding, cookie = "", ""
    for name, value in scope.get("headers", []):
        if name == b"accept-encoding":
            encoding = value.decode("latin-1")
        elif name == b"cookie":
            cookie = value.decode("latin-1")
    return encoding, cookie


def has_cookie(header: bytes, name: bytes) -> bool:
    """Whether the Cookie header (several joined by ";") names the cookie ``name``."""
    if name not in header:
        return False
    return any(part.strip().partition(b"=")[0] == name for part in header.split(b";"))


def policy(path: str) -> int:
    """Whether a response to ``path`` may be compressed: ALWAYS, NEVER, or ANONYMOUS (unless
    the request carries the staff session cookie); BREACH: the module's docstring."""
    if is_open_data(path) or path in SECRETLESS_PATHS:
        return ALWAYS
    return ANONYMOUS if is_public_page(path) else NEVER


def may_compress(path: str, cookie_header: str, session_cookie: str) -> bool:
    """Whether a response to ``path`` may be compressed at all (BREACH: the module's docstring)."""
    found = policy(path)
    if found == ANONYMOUS:
        return not has_cookie(cookie_header.encode("latin-1"), session_cookie.encode("latin-1"))
    return found == ALWAYS


def _looked_at(headers: list[tuple[bytes, bytes]]) -> tuple[bool, bool]:
    """(whether the response may be compressed, whether its Vary names Accept-Encoding): one pass."""
    kind = b""
    varies = False
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-type":
            kind = value.lower()
        elif lowered == b"vary":
            varies = varies or b"accept-encoding" in value.lower() or value.strip() == b"*"
        elif lowered == b"content-encoding" or (lowered == b"cache-control" and b"no-transform" in value.lower()):
            return False, varies
    return kind.startswith(COMPRESSIBLE), varies


def _with_vary(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``Vary`` with ``accept-encoding`` added (once) to what it already names."""
    names: list[bytes] = []
    others = []
    for name, value in headers:
        if name.lower() == b"vary":
            names += [item.strip() for item in value.split(b",") if item.strip()]
        else:
            others.append((name, value))
    if b"*" in names:
        return headers
    if not any(item.lower() == b"accept-encoding" for item in names):
        names.append(b"accept-encoding")
    return [*others, (b"vary", b", ".join(names))]


def _weak(etag: bytes) -> bytes:
    """A strong ETag names one encoding's bytes; the compressed body gets the weak one."""
    return etag if etag.startswith(b"W/") else b"W/" + etag


def compressing(send: Send, encoding: str | None, remembered: Compressed) -> tuple[Send, Finish]:
    """``send`` for a response that may be compressed: with ``encoding`` (None: the client
    accepts neither) when it is whole, large enough and textual, ``Vary`` naming
    Accept-Encoding either way. ``finish`` is awaited after the app."""
    start: HTTPResponseStartEvent | None = None

    async def wrapped(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message  # held until the body shows whether to compress
            return
        if message["type"] != "http.response.body" or start is None:
            if start is not None:  # another kind of body (a server's path-send extension)
                await send(start)
                start = None
            await send(message)
            return
        pending, start = start, None
        body = message.get("body", b"")
        if message.get("more_body", False) or len(body) < MIN_SIZE or pending["status"] in (204, 304):
            await send(pending)
            await send(message)
            return
        headers: list[tuple[bytes, bytes]] = pending.get("headers", [])  # type: ignore[assignment]
        fit, varies = _looked_at(headers)
        if not fit:
            await send(pending)
            await send(message)
            return
        if not varies:
            headers = _with_vary(list(headers))
        if encoding is None:  # the page as it is, now saying that it could have been compressed
            pending["headers"] = headers
            await send(pending)
            await send(message)
            return
        tag = None
        kept = []
        for name, value in headers:
            lowered = name.lower()
            if lowered == b"etag":
                tag = value
                kept.append((name, _weak(value)))
            elif lowered not in (b"content-length", b"content-encoding"):
                kept.append((name, value))
        body = remembered.get(body, encoding, tag)
        kept += [(b"content-encoding", encoding.encode()), (b"content-length", str(len(body)).encode())]
        pending["headers"] = kept
        await send(pending)
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def finish() -> None:
        """After the app: a start it sent without any body goes out as it is."""
        nonlocal start
        if start is not None:
            pending, start = start, None
            await send(pending)

    return wrapped, finish


def compressed(app: ASGIApp, session_cookie: str, memory: Compressed | None = None) -> ASGIApp:
    """``app`` with its responses compressed where the client accepts it (the module's docstring).

    The front door (``ambassador.web.front``) does the same within its one pass; this wrapper
    is the same rule around any app.
    """
    remembered = memory if memory is not None else Compressed()

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        accept, cookie = _request_headers(scope)
        if not may_compress(scope["path"], cookie, session_cookie):
            await app(scope, receive, send)
            return
        wrapped, finish = compressing(send, accepted(accept), remembered)
        await app(scope, receive, wrapped)
        await finish()

    return handle
