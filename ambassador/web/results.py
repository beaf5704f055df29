"""Results and minutes pages, for the clerk and for the jury.

The clerk (and the admin) read the results and the minutes of any edition whose jury has
started scoring. Of the jurors, only the chair reads them (``results.for_chair``,
``minutes.minutes_for_chair``: NotAllowed is a 403 page). The deliberation has its own pages
(``web.deliberation``); the chart's coordinates are computed in ``web.results_chart``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from litestar.status_codes import HTTP_409_CONFLICT

from ambassador import i18n, pdf
from ambassador.domain import minutes, results
from ambassador.domain.accounts import Account
from ambassador.domain.editions import EditionView
from ambassador.domain.jury import Juror
from ambassador.domain.ranking_types import NominationStats, RankedNomination
from ambassador.domain.results import Standings
from ambassador.enums import LANGUAGES, EditionState, Role
from ambassador.errors import DomainError, NotAllowed
from ambassador.web import labels
from ambassador.web.downloads import NO_STORE
from ambassador.web.editions import edition_or_404, message_of
from ambassador.web.guards import requires_role, totp_enrolled
from ambassador.web.jury import member_edition
from ambassador.web.results_chart import build_chart, two_places

AnyRequest = Request[Any, Account, Any]


def language_of(requested: str | None) -> str:
    """The minutes' language: the one asked for if the app speaks it, else the page's."""
    return i18n.supported(requested) or i18n.current_language.get()


# --- the results page -----------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """A row of a category's table: a ranked place, or a nomination with too few sheets."""

    place: RankedNomination | None
    nomination_id: int
    reference: str
    nominee: str
    stats: NominationStats
    note: str
    excluded: tuple[str, ...]


@dataclass(frozen=True)
class CategoryView:
    category: str
    lines: tuple[Line, ...]
    not_rankable: tuple[Line, ...]
    stability: tuple[str, ...]
    top: int


@dataclass(frozen=True)
class JurorLine:
    """A juror's own statistics; ``totals`` pairs each nomination's reference with the total given."""

    name: str
    count: int
    mean: float
    stdev: float
    leniency: float
    totals: tuple[tuple[str, float], ...]


def category_views(s: Standings) -> list[CategoryView]:
    language = i18n.current_language.get()

    def line(nomination_id: int, place: RankedNomination | None) -> Line:
        return Line(
            place=place,
            nomination_id=nomination_id,
            reference=s.references.get(nomination_id, ""),
            nominee=s.nominees.get(nomination_id, ""),
            stats=s.computed.nominations[nomination_id],
            note=minutes.tie_note(place, s.references, language) if place else "",
            excluded=s.excluded.get(nomination_id, ()),
        )

    return [
        CategoryView(
            category=category,
            lines=tuple(line(p.nomination_id, p) for p in ranking.ranked),
            not_rankable=tuple(line(n, None) for n in ranking.not_rankable),
            stability=tuple(minutes.stability_notes(s, category, language)),
            top=s.top(category),
        )
        for category, ranking in s.ordered_rankings()
    ]


def juror_lines(s: Standings) -> list[JurorLine]:
    return [
        JurorLine(
            name=s.jurors.get(j.juror_id, str(j.juror_id)),
            count=j.count,
            mean=j.mean,
            stdev=j.stdev,
            leniency=j.leniency,
            totals=tuple((s.references.get(n, str(n)), t) for n, t in zip(j.nomination_ids, j.totals, strict=True)),
        )
        for j in s.computed.jurors.values()
    ]


def totals_text(values: Iterable[float | tuple[str, float]]) -> str:
    """Totals for a table cell: "7.00; 8.00", or "2025/0001: 7.00; …" when labelled."""
    return "; ".join(f"{v[0]}: {two_places(v[1])}" if isinstance(v, tuple) else two_places(v) for v in values)


def results_page(s: Standings, *, staff: bool) -> Template:
    return Template(
        template_name="results/page.html",
        context={
            "edition": s.edition,
            "section": "results",
            "staff": staff,
            "chair_nav": not staff,
            "standings": s,
            "rules": s.rules,
            "categories": category_views(s),
            "jurors": juror_lines(s),
            "chart": build_chart(s),
            "provisional": s.edition.state == EditionState.JURY_SCORING,
            "base": f"/staff/editions/{s.edition.id}" if staff else f"/jury/editions/{s.edition.id}",
            "two_places": two_places,
            "totals_text": totals_text,
            "labels": labels,
        },
        headers=NO_STORE,
    )


def unavailable_page(edition: EditionView, exc: DomainError, *, staff: bool) -> Template:
    """A refusal shown on its own page (409), with the way back."""
    return Template(
        template_name="results/unavailable.html",
        context={
            "edition": edition,
            "section": "results",
            "staff": staff,
            "chair_nav": not staff,
            "problem": message_of(exc),
            "labels": labels,
        },
        status_code=HTTP_409_CONFLICT,
        headers=NO_STORE,
    )


# --- the minutes ----------------------------------------------------------------------------


def minutes_page(edition: EditionView, document: pdf.Document, language: str, *, staff: bool) -> Template:
    base = f"/staff/editions/{edition.id}" if staff else f"/jury/editions/{edition.id}"
    return Template(
        template_name="minutes/document.html",
        context={
            "edition": edition,
            "section": "minutes",
            "staff": staff,
            "chair_nav": not staff,
            "document": document,
            "document_language": language,
            "base": base,
            "pdf_links": [(code, i18n.language_name(code)) for code in LANGUAGES],
        },
        headers=NO_STORE,
    )


def minutes_filename(edition: EditionView) -> str:
    return f"minutes-{edition.label.replace(' ', '-')}.pdf"


async def pdf_response(edition: EditionView, document: pdf.Document) -> Response[bytes]:
    """The minutes as a PDF download (rendered in a worker thread: it is CPU work)."""
    content = await asyncio.to_thread(pdf.render, document)
    return Response(
        content=content,
        media_type="application/pdf",
        headers={**NO_STORE, "content-disposition": f'attachment; filename="{minutes_filename(edition)}"'},
    )


async def chair_edition(edition_id: int, user_id: int) -> tuple[EditionView, Juror]:
    """The edition, if this juror chairs its jury: 404 for non-members, 403 for other jurors."""
    edition, juror = await member_edition(edition_id, user_id)
    if not juror.is_chair:
        raise PermissionDeniedException()
    return edition, juror


# --- controllers ----------------------------------------------------------------------------


class ResultsAdminController(Controller):
    """The clerk's view of an edition's results and minutes."""

    path = "/staff/editions/{edition_id:int}"
    guards = [requires_role(Role.CLERK, Role.ADMIN), totp_enrolled]
    include_in_schema = False

    @get("/results", name="results_admin")
    async def results(self, edition_id: FromPath[int]) -> Template:
        edition = await edition_or_404(edition_id)
        try:
            await minutes.require_results(edition.id)
        except minutes.NotScoredYet as exc:
            return unavailable_page(edition, exc, staff=True)
        return results_page(await results.compute(edition.id), staff=True)

    @get("/minutes", name="minutes_admin")
    async def minutes_html(self, edition_id: FromPath[int], language: FromQuery[str | None] = None) -> Template:
        edition = await edition_or_404(edition_id)
        chosen = language_of(language)
        try:
            document = await minutes.minutes(edition.id, chosen)
        except minutes.NotScoredYet as exc:
            return unavailable_page(edition, exc, staff=True)
        return minutes_page(edition, document, chosen, staff=True)

    @get("/minutes.pdf", name="minutes_admin_pdf")
    async def minutes_pdf(
        self, edition_id: FromPath[int], language: FromQuery[str | None] = None
    ) -> Response[bytes] | Template:
        edition = await edition_or_404(edition_id)
        try:
            document = await minutes.minutes(edition.id, language_of(language))
        except minutes.NotScoredYet as exc:
            return unavailable_page(edition, exc, staff=True)
        return await pdf_response(edition, document)


class ResultsJuryController(Controller):
    """The chair's results and minutes."""

    path = "/jury/editions/{edition_id:int}"
    guards = [requires_role(Role.JUROR), totp_enrolled]
    include_in_schema = False

    @get("/results", name="juror_results")
    async def results(self, request: AnyRequest, edition_id: FromPath[int]) -> Template:
        edition, _ = await chair_edition(edition_id, request.user.id)
        try:
            await minutes.require_results(edition.id)
            found = await results.for_chair(edition.id, request.user.id)
        except NotAllowed as exc:
            raise PermissionDeniedException() from exc
        except minutes.NotScoredYet as exc:
            return unavailable_page(edition, exc, staff=False)
        return results_page(found, staff=False)

    @get("/minutes", name="juror_minutes")
    async def minutes_html(
        self, request: AnyRequest, edition_id: FromPath[int], language: FromQuery[str | None] = None
    ) -> Template:
        edition, _ = await chair_edition(edition_id, request.user.id)
        chosen = language_of(language)
        try:
            document = await minutes.minutes_for_chair(edition.id, request.user.id, chosen)
        except NotAllowed as exc:
            raise PermissionDeniedException() from exc
        except minutes.NotScoredYet as exc:
            return unavailable_page(edition, exc, staff=False)
        return minutes_page(edition, document, chosen, staff=False)

    @get("/minutes.pdf", name="juror_minutes_pdf")
    async def minutes_pdf(
        self, request: AnyRequest, edition_id: FromPath[int], language: FromQuery[str | None] = None
    ) -> Response[bytes] | Template:
        edition, _ = await chair_edition(edition_id, request.user.id)
        try:
            document = await minutes.minutes_for_chair(edition.id, request.user.id, language_of(language))
        except NotAllowed as exc:
            raise PermissionDeniedException() from exc
        except minutes.NotScoredYet as exc:
            return unavailable_page(edition, exc, staff=False)
        return await pdf_response(edition, document)
