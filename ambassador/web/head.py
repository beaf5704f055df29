"""HEAD answers wherever GET does: the request is served as a GET and its body is dropped.

Litestar 2 answers a HEAD to a GET-only route with 405, yet link checkers, crawlers and
uptime monitors send HEAD. As RFC 9110 (9.3.2) asks, the answer carries the headers the GET
would, Content-Length included, and no body. Done by the front door (``ambassador.web.front``)
inside the request log, so the log still says HEAD: it serves the GET with :func:`without_body`
as its ``send``.
"""

from __future__ import annotations

from litestar.types import Message, Send


def without_body(send: Send) -> Send:
    """``send`` for a HEAD served as a GET: everything but the body, then one empty end."""

    async def headers_only(message: Message) -> None:
        if message["type"] != "http.response.body":
            await send(message)
        elif not message.get("more_body", False):
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    return headers_only
