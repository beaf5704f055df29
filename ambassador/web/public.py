"""Public pages: home, language switch, the honour's logo, health probes."""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Controller, Request, Response, get
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from ambassador import db, honour, i18n
from ambassador.domain.editions import open_edition_now
from ambassador.errors import NotFound
from ambassador.settings import Settings
from ambassador.web import addresses
from ambassador.web.forms import safe_next
from ambassador.web.language import HOST_LANGUAGE_COOKIE, LANGUAGE_COOKIE
from ambassador.web.middleware import ATTACHMENT_CONTENT_SECURITY_POLICY
from ambassador.web.page_cache import rendering

ONE_YEAR = 365 * 24 * 3600
# The logo's address carries its content hash (templating.honour_logo_url): kept for a year.
LOGO_HEADERS = {
    "cache-control": f"public, max-age={ONE_YEAR}, immutable",
    # An SVG opened on its own runs no script and loads nothing (as an uploaded file would not).
    "content-security-policy": ATTACHMENT_CONTENT_SECURITY_POLICY,
}


def language_cookie(name: str, value: str, *, secure: bool, max_age: int = ONE_YEAR) -> Cookie:
    return Cookie(key=name, value=value, max_age=max_age, path="/", samesite="lax", httponly=True, secure=secure)


class PublicController(Controller):
    opt = {"exclude_from_auth": True}
    include_in_schema = False

    @get("/", name="home")
    async def home(self, request: Request[Any, Any, Any]) -> Template:
        """The title, and the edition open for nominations (if any) with its window.

        Anonymous visitors get it from the page cache (ambassador.web.page_cache), which
        renders it through here with the edition and moment it read.
        """
        render = rendering(request.scope)
        edition = render.edition if render else await open_edition_now()
        now = render.now if render else db.utcnow()
        return Template(
            template_name="home.html",
            context={
                "edition": edition,
                "accepting": edition is not None and edition.accepts_nominations(now),
                "not_yet": edition is not None and now < edition.opens_at,
            },
        )

    @get("/language/{code:str}", name="language")
    async def switch_language(
        self, code: FromPath[str], settings: NamedDependency[Settings], next: FromQuery[str | None] = None
    ) -> Redirect:
        """Remember an explicit language choice in a cookie (a preference, not server state).

        In production the cookie is ``__Host-lang``: Secure, host-only, path ``/`` (ASVS 3.3.1,
        3.3.3); an old ``lang`` cookie is dropped at the same time.
        """
        target = safe_next(next, default="/")
        language = i18n.supported(code)
        if language is None:
            return Redirect(target)
        target = addresses.in_language(target, language)
        if not settings.production:
            return Redirect(target, cookies=[language_cookie(LANGUAGE_COOKIE, language, secure=False)])
        return Redirect(
            target,
            cookies=[
                language_cookie(HOST_LANGUAGE_COOKIE, language, secure=True),
                language_cookie(LANGUAGE_COOKIE, "", secure=False, max_age=0),
            ],
        )

    @get("/honour/logo", name="honour_logo", skip_session=True)
    async def logo(self) -> Response[bytes]:
        """The honour's logo, from the file its configuration names (served here, no CDN)."""
        chosen = honour.active()
        if chosen.logo is None or chosen.logo_media_type is None:
            raise NotFound()
        content = await anyio.Path(chosen.logo).read_bytes()
        return Response(content, media_type=chosen.logo_media_type, headers=LOGO_HEADERS)

    @get("/healthz", name="healthz", skip_session=True)
    async def healthz(self) -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @get("/readyz", name="readyz", skip_session=True)
    async def readyz(self) -> Response[dict[str, str]]:
        """The database answers."""
        if await db.ping():
            return Response({"status": "ready"}, status_code=HTTP_200_OK)
        return Response(
            {"status": "database unavailable"},
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
            headers={"retry-after": "5"},
        )
