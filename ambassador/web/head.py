"""HEAD answers wherever GET does: the request is served as a GET and its body is dropped.

Litestar 2 answers a HEAD to a GET-only route with 405, yet link checkers, crawlers and
uptime monitors send HEAD. As RFC 9110 (9.3.2) asks, the answer carries the headers the GET
would, Content-Length included, and no body. Wrapped around Litestar's router inside the
request log, so the log still says HEAD.
"""

from __future__ import annotations

from typing import cast

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send


def head_as_get(app: ASGIApp) -> ASGIApp:
    """``app`` with HEAD requests served as GET, without the body."""

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "HEAD":
            await app(scope, receive, send)
            return
        as_get = cast("Scope", {**scope, "method": "GET"})

        async def headers_only(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
            elif not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await app(as_get, receive, headers_only)

    return handle
