"""Cross-site request forgery: what this app adds to Litestar's double-submit cookie.

Litestar's ``CSRFMiddleware`` (configured in :func:`csrf_config`) refuses an unsafe request
whose ``_csrf_token`` field (or ``X-CSRFToken`` header) is not the signed token of its CSRF
cookie. That token is not tied to anything else: any valid cookie and field pair works in any
browser (F12), and it lives as long as the cookie, that is the browser's session. On top of
it, :class:`CsrfMiddleware` (ASVS 3.5.1, 3.5.8):

- refuses an unsafe request that a browser marks as coming from another site:
  ``Sec-Fetch-Site: cross-site`` or ``same-site``, or an ``Origin`` header other than this
  application's own (the origin of ``AMBASSADOR_BASE_URL``; in development also the origin the
  request was served on). A request without these headers (older browsers, scripts, the tests)
  is judged by the token alone, as is ``Origin: null``, which browsers send for forms on pages
  with ``Referrer-Policy: no-referrer``;
- binds the token to a staff session: when a staff session begins (``uid`` or
  ``pending_uid`` in a session that has no binding yet: the password step, the TOTP step, a
  privilege change that issues a new session), the response carries a fresh CSRF cookie and the
  session keeps a MAC of it (keyed by the secret key, so the session store does not hold the
  token). An unsafe request of that session whose CSRF cookie is another one is refused. A page
  view of the session that brings no CSRF cookie at all (the cookie was dropped after a refusal,
  or the browser was restarted) binds the fresh token Litestar issues on it: that token is new and
  goes only to this browser. So the token of a staff form expires with its session; a token from
  before the login, or from another browser, is refused after it;
- gives a new CSRF cookie when a staff session ends (logout): the logged-in token does not
  survive it.

Anonymous forms (the nomination form, the login form) keep Litestar's token, which lasts the
browser's session. Refusals answer the localized CSRF page with 403 (ambassador.web.errors
drops the cookie, so the next page view brings a fresh one) and write a security event,
``csrf.origin`` or ``csrf.session``. docs/web-security.md describes the design.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.middleware.csrf import generate_csrf_token
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from ambassador.settings import Settings
from ambassador.web.errors import CsrfRefused
from ambassador.web.middleware import CSP_REPORT_PATH

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# The session key holding the MAC of the session's CSRF token.
BINDING = "csrf"
# What a browser says about a request's initiator; these come from another site.
FOREIGN_SITES = frozenset({"cross-site", "same-site"})
# Routes that take no CSRF token: browsers post violation reports without one.
EXEMPT = (f"^{re.escape(CSP_REPORT_PATH)}$",)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAC_CONTEXT = b"ambassador csrf session binding\0"


def csrf_config(settings: Settings) -> CSRFConfig:
    """Litestar's double-submit cookie: ``__Host-`` and Secure in production, SameSite=Lax."""
    return CSRFConfig(
        secret=settings.secret_key,
        cookie_name="__Host-csrftoken" if settings.production else "csrftoken",
        cookie_secure=settings.production,
        cookie_samesite="lax",
        exclude=list(EXEMPT),
    )


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` in canonical form (lower case, no default port), or None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != _DEFAULT_PORTS[scheme] else "")


def is_staff(session: object) -> TypeGuard[dict[str, Any]]:
    """A staff session: logged in, or past the password and waiting for the second factor."""
    return isinstance(session, dict) and ("uid" in session or "pending_uid" in session)


class CsrfMiddleware(ASGIMiddleware):
    """Origin and ``Sec-Fetch-Site`` checks, and the CSRF token bound to staff sessions.

    Runs inside the session middleware (it reads and amends the session) and outside Litestar's
    CSRF middleware (which every route has innermost).
    """

    scopes = (ScopeType.HTTP,)

    def __init__(self, settings: Settings, config: CSRFConfig) -> None:
        self.config = config
        self.secret = settings.secret_key.encode()
        self.production = settings.production
        self.own_origin = origin_of(settings.base_url)
        exempt = re.compile("|".join(EXEMPT))
        self.should_bypass_for_scope = lambda scope: exempt.match(scope["path"]) is not None

    def mac(self, token: str) -> str:
        return hmac.new(self.secret, _MAC_CONTEXT + token.encode(), hashlib.sha256).hexdigest()

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        safe = scope.get("method") in SAFE_METHODS  # HTTP only (scopes)
        session = scope.get("session")
        began_staff = is_staff(session)
        cookie = connection.cookies.get(self.config.cookie_name)
        if not safe:
            self.check_origin(scope, connection.headers)
            binding = session.get(BINDING) if isinstance(session, dict) else None
            if isinstance(binding, str) and cookie and not hmac.compare_digest(binding, self.mac(cookie)):
                raise CsrfRefused("csrf.session", reason="token of another session")

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.settle(scope, message, began_staff=began_staff, had_cookie=cookie is not None, safe=safe)
            await send(message)

        await next_app(scope, receive, send_wrapper)

    def allowed_origins(self, scope: Scope, headers: Mapping[str, str]) -> set[str | None]:
        allowed = {self.own_origin}
        if not self.production:
            allowed.add(origin_of(f"{scope.get('scheme', 'http')}://{headers.get('host', '')}"))
        allowed.discard(None)
        return allowed

    def check_origin(self, scope: Scope, headers: Mapping[str, str]) -> None:
        """Refuse an unsafe request that the browser says another site made."""
        site = headers.get("sec-fetch-site")
        if site in FOREIGN_SITES:
            raise CsrfRefused("csrf.origin", reason="sec-fetch-site", site=site)
        origin = headers.get("origin")
        if origin is None or origin == "null":
            return
        if origin_of(origin) not in self.allowed_origins(scope, headers):
            raise CsrfRefused("csrf.origin", reason="origin", origin=origin_of(origin) or "invalid")

    def settle(self, scope: Scope, message: Message, *, began_staff: bool, had_cookie: bool, safe: bool) -> None:
        """As the response starts: bind the staff session's token, or issue a new one."""
        session = scope.get("session")
        if is_staff(session):
            issued = ScopeState.from_scope(scope).csrf_token
            if safe and not had_cookie and isinstance(issued, str):
                session[BINDING] = self.mac(issued)  # Litestar sets this fresh cookie on this response
            elif BINDING not in session:
                session[BINDING] = self.mac(self.set_new_cookie(message))
        elif began_staff:
            self.set_new_cookie(message)  # logged out: the logged-in token ends here

    def set_new_cookie(self, message: Message) -> str:
        token = generate_csrf_token(secret=self.config.secret)
        cookie = Cookie(
            key=self.config.cookie_name,
            value=token,
            path=self.config.cookie_path,
            secure=self.config.cookie_secure,
            httponly=self.config.cookie_httponly,
            samesite=self.config.cookie_samesite,
            domain=self.config.cookie_domain,
        )
        MutableScopeHeaders.from_message(message).add("set-cookie", cookie.to_header(header=""))
        return token
