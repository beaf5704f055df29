"""What the current request is, for the audit trail and the security log.

Set by the request-log middleware before anything else runs; the domain reads it without
knowing about HTTP (a command-line run or a test simply has the empty context). The object
is mutable on purpose: authentication, further in, fills in ``user_id`` and the outer
middleware sees it when it logs the request.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass


@dataclass
class RequestContext:
    client: str = ""
    request_id: str = ""
    # "METHOD /path" with secret path segments masked (never the query string).
    route: str = ""
    user_id: int | None = None


_CURRENT: ContextVar[RequestContext | None] = ContextVar("ambassador_request", default=None)


def current() -> RequestContext:
    """The current request's context, or an empty one outside a request."""
    return _CURRENT.get() or RequestContext()


def begin(context: RequestContext) -> Token[RequestContext | None]:
    return _CURRENT.set(context)


def end(token: Token[RequestContext | None]) -> None:
    _CURRENT.reset(token)


def set_user(user_id: int | None) -> None:
    """Authentication found (or lost) the request's account."""
    context = _CURRENT.get()
    if context is not None:
        context.user_id = user_id
