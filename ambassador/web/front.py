"""The front door: one ASGI pass between the request log and Litestar's router.

What used to be three wrappers (addresses, static files, compression), each looking at the
path and the headers again, is decided here once per request:

1. the path's *way* (:func:`way_of`, cached per distinct path): a public page under a language
   prefix (routed unprefixed, its language in the scope: ``ambassador.web.addresses``), an old
   address or a bare ``/pl`` (redirected for GET and HEAD), or anything else (passed on); and
   whether its answer may be compressed at all (``ambassador.web.compression``: always, never,
   or unless the request carries the staff session cookie);
2. a HEAD is served as a GET whose body is dropped (``ambassador.web.head``), so it gets the
   GET's headers, compressed or not, and an old address's HEAD is redirected as its GET;
3. a static file known by name is answered from memory (``ambassador.web.static``), before any
   middleware;
4. only a response that may be compressed gets a ``send`` that looks at it (compressing it when
   the client accepts brotli or gzip, adding ``Vary: Accept-Encoding`` either way); every other
   response goes straight to the server's ``send``.

The scope is copied (not changed) when the path or the method changes, so the request log
outside still logs the address and method the client used.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import cast

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from ambassador.web import addresses, compression, static
from ambassador.web.head import without_body

PASS, PREFIXED, BARE_PREFIX, OLD = 0, 1, 2, 3
# Paths up to this length have their way remembered (an attacker's long paths are not kept).
CACHED_PATH = 300


@dataclass(frozen=True, slots=True)
class Way:
    """What the front door does with one path."""

    kind: int  # PASS, PREFIXED, BARE_PREFIX or OLD
    language: str | None  # the prefix's language (PREFIXED, BARE_PREFIX)
    path: str  # the path the app sees
    raw_path: bytes  # its bytes (PREFIXED only: the others keep the scope's)
    compress: int  # compression.NEVER, ALWAYS or ANONYMOUS


def _way(path: str) -> Way:
    language, rest = addresses.split_prefix(path)
    if language is not None:
        if rest is None:
            return Way(BARE_PREFIX, language, path, b"", compression.policy(path))
        if addresses.is_public_page(rest):
            return Way(PREFIXED, language, rest, rest.encode("latin-1"), compression.policy(rest))
        return Way(PASS, None, path, b"", compression.policy(path))
    if addresses.is_public_page(path):
        return Way(OLD, None, path, b"", compression.policy(path))
    return Way(PASS, None, path, b"", compression.policy(path))


_cached_way = lru_cache(maxsize=4096)(_way)


def way_of(path: str) -> Way:
    """The way of ``path`` (remembered for the paths of ordinary length)."""
    return _cached_way(path) if len(path) <= CACHED_PATH else _way(path)


def front_door(
    app: ASGIApp,
    *,
    static_routes: dict[str, static.Route],
    session_cookie: str,
    before_send: addresses.BeforeSend | None = None,
    memory: compression.Compressed | None = None,
) -> ASGIApp:
    """``app`` behind the front door (this module's docstring)."""
    remembered = memory if memory is not None else compression.Compressed()
    session_name = session_cookie.encode("latin-1")

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        way = way_of(scope["path"])
        method = scope["method"]
        head = method == "HEAD"
        reading = head or method == "GET"
        changes: dict[str, object] | None = None
        if way.kind == PREFIXED:
            changes = {"path": way.path, "raw_path": way.raw_path, addresses.LANGUAGE_KEY: way.language}
        elif way.kind != PASS and reading:
            await addresses.redirect_old(send, scope, way.language if way.kind == BARE_PREFIX else None, before_send)
            return
        if head:
            changes = {**changes, "method": "GET"} if changes else {"method": "GET"}
            send = without_body(send)
        if changes:
            scope = cast("Scope", {**scope, **changes})
        if reading and way.path.startswith(static.PREFIX) and (route := static_routes.get(way.path)) is not None:
            await static.answer(route, scope["headers"], send)
            return
        if way.compress != compression.NEVER:
            accept = b""
            cookie = b""
            for name, value in scope["headers"]:
                if name == b"accept-encoding":
                    accept = value
                elif name == b"cookie":
                    cookie = cookie + b";" + value if cookie else value
            if way.compress == compression.ALWAYS or not compression.has_cookie(cookie, session_name):
                wrapped, finish = compression.compressing(send, compression.accepted_bytes(accept), remembered)
                await app(scope, receive, wrapped)
                await finish()
                return
        await app(scope, receive, send)

    return handle
