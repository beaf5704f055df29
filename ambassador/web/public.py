"""Public pages: home, language switch, health probes."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from ambassador import db, i18n
from ambassador.domain.editions import open_edition_now
from ambassador.settings import Settings
from ambassador.web.forms import safe_next
from ambassador.web.language import HOST_LANGUAGE_COOKIE, LANGUAGE_COOKIE

ONE_YEAR = 365 * 24 * 3600


def language_cookie(name: str, value: str, *, secure: bool, max_age: int = ONE_YEAR) -> Cookie:
    return Cookie(key=name, value=value, max_age=max_age, path="/", samesite="lax", httponly=True, secure=secure)


class PublicController(Controller):
    opt = {"exclude_from_auth": True}
    include_in_schema = False

    @get("/", name="home")
    async def home(self) -> Template:
        """The title, and the edition open for nominations (if any) with its window."""
        edition = await open_edition_now()
        now = db.utcnow()
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
        if not settings.production:
            return Redirect(target, cookies=[language_cookie(LANGUAGE_COOKIE, language, secure=False)])
        return Redirect(
            target,
            cookies=[
                language_cookie(HOST_LANGUAGE_COOKIE, language, secure=True),
                language_cookie(LANGUAGE_COOKIE, "", secure=False, max_age=0),
            ],
        )

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
