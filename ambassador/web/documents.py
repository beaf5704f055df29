"""Documents a clerk hands over: spreadsheet exports and the jury's dossier pack as PDF.

The exports (``domain.exports``) come as XLSX or as "CSV for Excel" (``ambassador.spreadsheet``),
headers and values in the clerk's language (or ``?language=``). The older ``nominations.csv``
and ``scores.csv`` (English codes, commas; ``web.formal_check``, ``web.jury_admin``) stay as
they were, for scripts. The dossier pack (``domain.dossier_pack``) is for staff and for the
edition's jurors, each juror's without the nominations they are conflicted on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_409_CONFLICT

from ambassador import i18n, pdf, spreadsheet
from ambassador.domain import dossier_pack, exports
from ambassador.domain.accounts import Account
from ambassador.domain.editions import EditionView, get_edition
from ambassador.domain.scoring import DeclareFirst
from ambassador.enums import Role
from ambassador.spreadsheet import Sheet
from ambassador.web.downloads import NO_STORE, content_disposition
from ambassador.web.editions import edition_or_404, message_of
from ambassador.web.forms import require_row_id
from ambassador.web.guards import requires_role, totp_enrolled

AnyRequest = Request[Any, Account, Any]
SheetMaker = Callable[[int, str], Awaitable[Sheet]]


def language_of(requested: str | None) -> str:
    """The document's language: the one asked for if the app speaks it, else the page's."""
    return i18n.supported(requested) or i18n.current_language.get()


def filename(stem: str, edition: EditionView, extension: str) -> str:
    return f"{stem}-{edition.label.replace(' ', '-')}.{extension}"


async def sheet_download(edition: EditionView, sheet: Sheet, stem: str, *, xlsx: bool) -> Response[bytes]:
    if xlsx:
        content = await asyncio.to_thread(spreadsheet.xlsx, sheet)
        media_type, name = spreadsheet.XLSX_TYPE, filename(stem, edition, "xlsx")
    else:
        content, media_type, name = spreadsheet.excel_csv(sheet), "text/csv", filename(stem + "-excel", edition, "csv")
    return Response(
        content=content,
        media_type=media_type,
        headers={**NO_STORE, "content-disposition": content_disposition(name)},
    )


async def pdf_download(document: pdf.Document, name: str) -> Response[bytes]:
    """A document as a PDF download (rendered in a worker thread: it is CPU work)."""
    content = await asyncio.to_thread(pdf.render, document)
    return Response(
        content=content,
        media_type="application/pdf",
        headers={**NO_STORE, "content-disposition": content_disposition(name)},
    )


def unavailable(edition: EditionView, exc: dossier_pack.NothingToPack, back: str) -> Template:
    return Template(
        template_name="documents/unavailable.html",
        context={"edition": edition, "problem": message_of(exc), "back": back},
        status_code=HTTP_409_CONFLICT,
        headers=NO_STORE,
    )


class DocumentsAdminController(Controller):
    """The clerk's exports and dossier pack of an edition."""

    path = "/staff/editions/{edition_id:int}"
    guards = [requires_role(Role.CLERK, Role.ADMIN), totp_enrolled]
    include_in_schema = False

    async def _sheet(
        self, edition_id: int, make: SheetMaker, stem: str, language: str | None, *, xlsx: bool
    ) -> Response[bytes]:
        edition = await edition_or_404(edition_id)
        return await sheet_download(edition, await make(edition.id, language_of(language)), stem, xlsx=xlsx)

    @get("/exports/nominations.xlsx", name="nominations_xlsx")
    async def nominations_xlsx(
        self, edition_id: FromPath[int], language: FromQuery[str | None] = None
    ) -> Response[bytes]:
        return await self._sheet(edition_id, exports.nominations, "nominations", language, xlsx=True)

    @get("/exports/nominations-excel.csv", name="nominations_excel_csv")
    async def nominations_csv(
        self, edition_id: FromPath[int], language: FromQuery[str | None] = None
    ) -> Response[bytes]:
        return await self._sheet(edition_id, exports.nominations, "nominations", language, xlsx=False)

    @get("/exports/scores.xlsx", name="scores_xlsx")
    async def scores_xlsx(self, edition_id: FromPath[int], language: FromQuery[str | None] = None) -> Response[bytes]:
        return await self._sheet(edition_id, exports.scores, "scores", language, xlsx=True)

    @get("/exports/scores-excel.csv", name="scores_excel_csv")
    async def scores_csv(self, edition_id: FromPath[int], language: FromQuery[str | None] = None) -> Response[bytes]:
        return await self._sheet(edition_id, exports.scores, "scores", language, xlsx=False)

    @get("/dossiers.pdf", name="dossier_pack_admin")
    async def pack(
        self, edition_id: FromPath[int], language: FromQuery[str | None] = None
    ) -> Response[bytes] | Template:
        edition = await edition_or_404(edition_id)
        try:
            document = await dossier_pack.for_staff(edition.id, language_of(language))
        except dossier_pack.NothingToPack as exc:
            return unavailable(edition, exc, f"/staff/editions/{edition.id}/nominations")
        return await pdf_download(document, filename("dossiers", edition, "pdf"))


class DocumentsJuryController(Controller):
    """A juror's dossier pack: what their dossier pages show, in one PDF."""

    path = "/jury/editions/{edition_id:int}"
    guards = [requires_role(Role.JUROR), totp_enrolled]
    include_in_schema = False

    @get("/dossiers.pdf", name="dossier_pack_juror")
    async def pack(
        self, request: AnyRequest, edition_id: FromPath[int], language: FromQuery[str | None] = None
    ) -> Response[bytes] | Template | Redirect:
        edition_id = require_row_id(edition_id)
        try:
            document = await dossier_pack.for_juror(edition_id, request.user.id, language_of(language))
        except DeclareFirst:
            return Redirect(f"/jury/editions/{edition_id}/conflicts")
        except dossier_pack.NothingToPack as exc:
            return unavailable(await get_edition(edition_id), exc, f"/jury/editions/{edition_id}")
        edition = await get_edition(edition_id)
        return await pdf_download(document, filename("dossiers", edition, "pdf"))
