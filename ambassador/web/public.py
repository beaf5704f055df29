"""Public pages: home, language switch, health probes."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from ambassador import db, i18n
from ambassador.domain.editions import open_edition_now
from ambassador.web.forms import safe_next
from ambassador.web.middleware import LANGUAGE_COOKIE

ONE_YEAR = 365 * 24 * 3600


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
    async def switch_language(self, code: FromPath[str], next: FromQuery[str | None] = None) -> Redirect:
        """Remember an explicit language choice in a cookie (a preference, not server state)."""
        target = safe_next(next, default="/")
        language = i18n.supported(code)
        if language is None:
            return Redirect(target)
        return Redirect(
            target,
            cookies=[
                Cookie(
                    key=LANGUAGE_COOKIE,
                    value=language,
                    max_age=ONE_YEAR,
                    samesite="lax",
                    httponly=True,
                )
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
