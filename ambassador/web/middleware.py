"""Cross-cutting HTTP concerns: security headers on every response, the request's language,
and one structured log line per request (path without query string, so no token is logged).
"""

from __future__ import annotations

import logging
import random
import re
import time
from typing import Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from ambassador import db, metrics, requestcontext
from ambassador.web.client import client_address
from ambassador.web.errors import error_page

# Where browsers send Content-Security-Policy violation reports (ambassador.web.csp_report).
CSP_REPORT_PATH = "/csp-report"
CSP_REPORT_GROUP = "csp"
_CSP_REPORTING = [f"report-uri {CSP_REPORT_PATH}", f"report-to {CSP_REPORT_GROUP}"]
# Nothing may frame a response, change its base URL or take its forms elsewhere (ASVS 3.4.3, 3.4.6).
_CSP_LOCKDOWN = ["base-uri 'none'", "frame-ancestors 'none'"]

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "form-action 'self'",
        *_CSP_LOCKDOWN,
        *_CSP_REPORTING,
    ]
)
# Uploaded files (ambassador.web.downloads): this policy replaces the global one, so it
# repeats the lock-down; ``sandbox`` gives the document an opaque origin and no scripts.
ATTACHMENT_CONTENT_SECURITY_POLICY = "; ".join(
    ["sandbox", "default-src 'none'", "form-action 'none'", *_CSP_LOCKDOWN, *_CSP_REPORTING]
)

# Open data, meant to be reused by other sites: no secret in them, and nothing there depends
# on who asks (docs/web-security.md). Every other response may be loaded by this origin only.
CROSS_ORIGIN_PATHS = ("/static/", "/api/", "/schema/")
CROSS_ORIGIN_FILES = frozenset({"/feed.atom", "/laureates.json", "/laureates.csv", "/sitemap.xml", "/robots.txt"})

HSTS = "max-age=63072000; includeSubDomains"

log = logging.getLogger("ambassador.request")

# Emailed links carry their secret in the path; the log keeps only its shape.
_SECRET_SEGMENT = re.compile(r"/[A-Za-z0-9_-]{32,}")


def loggable_path(path: str) -> str:
    return _SECRET_SEGMENT.sub("/<token>", path)


def security_headers(production: bool, *, hsts_preload: bool = False) -> dict[str, str]:
    """The headers of every response (docs/web-security.md says why each); CORP is added per path."""
    headers = {
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "reporting-endpoints": f'{CSP_REPORT_GROUP}="{CSP_REPORT_PATH}"',
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "same-origin",
        "permissions-policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
        "cross-origin-opener-policy": "same-origin",
    }
    if production:
        headers["strict-transport-security"] = HSTS + ("; preload" if hsts_preload else "")
    return headers


def is_open_data(path: str) -> bool:
    """Public data meant for reuse: ``Cross-Origin-Resource-Policy: cross-origin`` (ASVS 3.5.8)."""
    return path.startswith(CROSS_ORIGIN_PATHS) or path in CROSS_ORIGIN_FILES


def make_security_headers_hook(production: bool, *, hsts_preload: bool = False) -> Any:
    """A ``before_send`` hook: it runs for every response, errors and 404s included."""
    common = [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in security_headers(production, hsts_preload=hsts_preload).items()
    ]
    same_origin = [*common, (b"cross-origin-resource-policy", b"same-origin")]
    cross_origin = [*common, (b"cross-origin-resource-policy", b"cross-origin")]

    async def add_headers(message: Message, scope: Scope) -> None:
        # Raw header list, not MutableScopeHeaders: this runs on every response (hot path).
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            present = {name.lower() for name, _ in headers}
            encoded = cross_origin if is_open_data(scope.get("path", "")) else same_origin
            headers.extend(pair for pair in encoded if pair[0] not in present)
            message["headers"] = headers

    return add_headers


class RequestLogMiddleware(ASGIMiddleware):
    """Logs client address, method, scheme, path, status and duration; never the query string, body or cookies."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope["type"] != ScopeType.HTTP:
            await next_app(scope, receive, send)
            return
        started = time.perf_counter()
        # An id to find the request's lines by, not a secret: no system call needed.
        request_id = f"{random.getrandbits(64):016x}"
        status = 500
        responded = False
        context = requestcontext.RequestContext(
            client=client_address(scope),
            request_id=request_id,
            route=f"{scope.get('method')} {loggable_path(scope['path'])}",
        )
        token = requestcontext.begin(context)

        async def send_wrapper(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
                responded = True
            await send(message)

        try:
            await next_app(scope, receive, send_wrapper)
        except Exception as exc:
            # The database failed in a middleware's step on the way out (the server-side
            # session is written as the response starts), after Litestar's exception
            # handlers: nothing reached the client yet, so answer 503 here.
            cause: BaseException = exc
            while cause.__cause__ is not None:  # Litestar wraps it once per exception middleware
                cause = cause.__cause__
            if responded or not db.is_unavailable(cause):
                raise
            metrics.DATABASE_ERRORS.inc()
            request: Request[Any, Any, Any] = Request(scope, receive)
            response = error_page(request, 503).to_asgi_response(app=None, request=request)
            await response(scope, receive, send_wrapper)
        finally:
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "client": context.client,
                    "user_id": context.user_id,
                    "method": scope.get("method"),
                    "scheme": scope.get("scheme"),
                    "path": loggable_path(scope["path"]),
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            requestcontext.end(token)


def request_log(app: ASGIApp) -> ASGIApp:
    """``app`` with every request logged, those that match no route included."""
    middleware = RequestLogMiddleware()

    async def logged(scope: Scope, receive: Receive, send: Send) -> None:
        await middleware.handle(scope, receive, send, app)

    return logged
