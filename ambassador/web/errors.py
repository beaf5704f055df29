"""Error pages in the user's language; never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    TooManyRequestsException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from ambassador import db, i18n, metrics, requestcontext, security_log
from ambassador.errors import N_, DomainError, NotFound, Throttled
from ambassador.web.guards import RoleRequired, TotpEnrollmentRequired
from ambassador.web.language import language_for

log = logging.getLogger("ambassador.errors")

T = TypeVar("T")

CSRF_FAILURE = "CSRF token verification failed"

TITLES = {
    400: N_("The request could not be understood"),
    403: N_("Access denied"),
    404: N_("Page not found"),
    405: N_("This action is not possible here"),
    413: N_("The upload is too large"),
    429: N_("Too many requests"),
    500: N_("Something went wrong on our side"),
    503: N_("The service is temporarily unavailable"),
}
EXPLANATIONS = {
    400: N_("Please go back, check what you entered and try again."),
    403: N_("You do not have permission to open this page."),
    404: N_("The address may be mistyped, or the page has moved."),
    405: N_("Please go back and use the buttons on the page."),
    413: N_("The data you sent is larger than allowed. Please send less and try again."),
    429: N_("Please wait a moment and try again."),
    500: N_("The error has been logged. Please try again later."),
    503: N_("Please try again in a minute."),
}
CSRF_EXPLANATION = N_(
    "The form expired or was sent from another site. Please go back, reload the page and send the form again."
)


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/") or (
        "application/json" in request.headers.get("accept", "") and "text/html" not in request.headers.get("accept", "")
    )


def error_page(request: Request[Any, Any, Any], status: int, detail: str = "") -> Response[Any]:
    i18n.current_language.set(language_for(request))
    known = status if status in TITLES else (500 if status >= 500 else 400)
    title = i18n.gettext(TITLES[known])
    explanation = i18n.gettext(CSRF_EXPLANATION if detail == CSRF_FAILURE else EXPLANATIONS[known])
    headers = {"retry-after": "60"} if status in (429, 503) else {}
    if _wants_json(request):
        return Response(
            {"status": status, "title": title, "detail": explanation},
            status_code=status,
            media_type=MediaType.JSON,
            headers=headers,
        )
    return Template(
        template_name="error.html",
        context={"status": status, "title": title, "explanation": explanation},
        status_code=status,
        headers=headers,
    )


class CsrfRefused(PermissionDeniedException):
    """A refusal by the Origin and session-binding checks (ambassador.web.csrf): its own event."""

    def __init__(self, event: str, **details: str) -> None:
        super().__init__(CSRF_FAILURE)
        self.event = event
        self.details = details


def security_event(exc: HTTPException) -> None:
    """The security event (docs/logging.md) an HTTP refusal stands for, if it is one (ASVS 16.3.2, 16.3.3)."""
    if isinstance(exc, TotpEnrollmentRequired):
        security_log.event("authz.totp_enrollment_required", "denied")
    elif isinstance(exc, NotAuthorizedException):
        security_log.event("authz.login_required", "denied")
    elif isinstance(exc, CsrfRefused):
        details: dict[str, Any] = exc.details  # plain strings: never a user id
        security_log.event(exc.event, "blocked", **details)
    elif exc.detail == CSRF_FAILURE:
        security_log.event("csrf.failed", "blocked")
    elif isinstance(exc, PermissionDeniedException):
        security_log.event("authz.denied", "denied", reason="role" if isinstance(exc, RoleRequired) else "rule")
    elif isinstance(exc, TooManyRequestsException):
        # The only rate-limit middleware: the nomination form's.
        security_log.event("ratelimit.nomination", "throttled")
    elif isinstance(exc, RequestEntityTooLarge) or exc.detail == RequestEntityTooLarge.detail:
        # The multipart parser says so with a 400 (Litestar 2 keeps that for compatibility).
        security_log.event("request.too_large", "blocked", status=exc.status_code)


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    security_event(exc)
    if isinstance(exc, TotpEnrollmentRequired):
        return Redirect("/account/totp")
    if isinstance(exc, NotAuthorizedException) and request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(f"/login?next={quote(target, safe='/')}")
    if isinstance(exc, NotAuthorizedException):
        return error_page(request, 403)
    if isinstance(exc, TooManyRequestsException):
        metrics.NOMINATIONS_RATE_LIMITED.inc()
    response = error_page(request, exc.status_code, str(exc.detail))
    if exc.detail == CSRF_FAILURE:
        _forget_csrf_cookie(request, response)
    return response


def not_found_handler(request: Request[Any, Any, Any], _exc: NotFound) -> Response[Any]:
    """A domain ``NotFound`` anywhere in a handler, guard or dependency: the 404 page (JSON under /api/)."""
    return http_exception_handler(request, NotFoundException())


async def refuse_or_redirect(
    action: Awaitable[T],
    refuse: Callable[[DomainError], Awaitable[Template | Redirect]],
    done: Callable[[T], Redirect],
) -> Template | Redirect:
    """Run one domain action for a form: its refusal is ``refuse``'s page, its success ``done``'s redirect.

    ``NotFound`` is no refusal: it goes on to ``not_found_handler`` (the 404 page).
    """
    try:
        result = await action
    except NotFound:
        raise
    except DomainError as exc:
        return await refuse(exc)
    return done(result)


def throttled_page(template: str, context: dict[str, Any], exc: Throttled) -> Template:
    """A form again after too many attempts: 429, and Retry-After says when to try again."""
    return Template(
        template_name=template,
        context=context,
        status_code=HTTP_429_TOO_MANY_REQUESTS,
        headers={"retry-after": str(exc.retry_after)},
    )


def _forget_csrf_cookie(request: Request[Any, Any, Any], response: Response[Any]) -> None:
    """A refused token's cookie is dropped, so the next page view gets a fresh one.

    Litestar keeps a CSRF cookie that is present without checking its signature, and the
    cookie lasts the browser's session: after the secret key is rotated (docs/operations.md)
    every form would be refused until the browser is closed. ``__Host-`` cookies are only
    replaced by a cookie with the same attributes, hence the config's.
    """
    config = request.app.csrf_config
    if config is None:
        return
    response.set_cookie(
        key=config.cookie_name,
        value="",
        max_age=0,
        path=config.cookie_path,
        secure=config.cookie_secure,
        httponly=config.cookie_httponly,
        samesite=config.cookie_samesite,
        domain=config.cookie_domain,
    )


def _undecodable_form(exc: Exception) -> bool:
    """Litestar's multipart parser raises these for a text part in a wrong or unknown charset."""
    return isinstance(exc, UnicodeDecodeError) or (type(exc) is LookupError and "encoding" in str(exc))


def _where(exc: Exception) -> dict[str, Any]:
    """The request's id, client, user and route (secret path segments masked) for an error line (16.3.4)."""
    context = requestcontext.current()
    return {
        "request_id": context.request_id,
        "client": context.client,
        "user_id": context.user_id,
        "route": context.route,
        "error": type(exc).__name__,
    }


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if _undecodable_form(exc):
        log.warning("undecodable request body", extra=_where(exc))
        return error_page(request, HTTP_400_BAD_REQUEST)
    if db.is_unavailable(exc):
        metrics.DATABASE_ERRORS.inc()
        log.warning("database unavailable", extra=_where(exc))
        return error_page(request, HTTP_503_SERVICE_UNAVAILABLE)
    log.error("unhandled error", exc_info=exc, extra=_where(exc))
    # The traceback stays in the error log; the security log (maybe shipped elsewhere) gets the fact.
    security_log.event("error.unhandled", "failure", error=type(exc).__name__)
    return error_page(request, HTTP_500_INTERNAL_SERVER_ERROR)
