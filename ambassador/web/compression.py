"""Responses compressed with brotli or gzip, as the client accepts (``Accept-Encoding``).

A wrapper around Litestar's router rather than Litestar's ``CompressionConfig``: it must sit
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

Compressed bodies are remembered by content (:class:`Compressed`), so a page served again (the
archive cache's pages, the static files) is compressed once per encoding.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import OrderedDict

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


class Compressed:
    """Compressed bodies by the digest of their content and encoding: pages served again cost nothing."""

    def __init__(self, max_entries: int = MAX_REMEMBERED, max_bytes: int = MAX_REMEMBERED_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[bytes, str], bytes] = OrderedDict()
        self._bytes = 0

    def get(self, body: bytes, encoding: str) -> bytes:
        key = (hashlib.blake2b(body, digest_size=16).digest(), encoding)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        packed = compress(body, encoding)
        self._entries[key] = packed
        self._bytes += len(packed)
        while self._entries and (len(self._entries) > self.max_entries or self._bytes > self.max_bytes):
            _, dropped = self._entries.popitem(last=False)
            self._bytes -= len(dropped)
        return packed

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


def _has_cookie(header: str, name: str) -> bool:
    return any(part.strip().partition("=")[0] == name for part in header.split(";"))


def may_compress(path: str, cookie_header: str, session_cookie: str) -> bool:
    """Whether a response to ``path`` may be compressed at all (BREACH: the module's docstring)."""
    if is_open_data(path) or path in SECRETLESS_PATHS:
        return True
    return is_public_page(path) and not _has_cookie(cookie_header, session_cookie)


def _compressible(headers: list[tuple[bytes, bytes]]) -> bool:
    kind = b""
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-encoding":
            return False
        if lowered == b"cache-control" and b"no-transform" in value.lower():
            return False
        if lowered == b"content-type":
            kind = value.lower()
    return kind.startswith(COMPRESSIBLE)


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


def compressed(app: ASGIApp, session_cookie: str, memory: Compressed | None = None) -> ASGIApp:
    """``app`` with its responses compressed where the client accepts it (the module's docstring)."""
    remembered = memory if memory is not None else Compressed()

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        accept, cookie = _request_headers(scope)
        if not may_compress(scope["path"], cookie, session_cookie):
            await app(scope, receive, send)
            return
        encoding = accepted(accept)
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
            headers: list[tuple[bytes, bytes]] = list(pending.get("headers", []))
            whole = not message.get("more_body", False)
            if not whole or len(body) < MIN_SIZE or pending["status"] in (204, 304) or not _compressible(headers):
                await send(pending)
                await send(message)
                return
            headers = _with_vary(headers)
            if encoding is not None:
                body = remembered.get(body, encoding)
                headers = [(n, v) for n, v in headers if n.lower() not in (b"content-length", b"content-encoding")]
                headers = [(n, _weak(v) if n.lower() == b"etag" else v) for n, v in headers]
                headers += [(b"content-encoding", encoding.encode()), (b"content-length", str(len(body)).encode())]
            pending["headers"] = headers
            await send(pending)
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await app(scope, receive, wrapped)
        if start is not None:  # a response that never sent its body
            await send(start)

    return handle
