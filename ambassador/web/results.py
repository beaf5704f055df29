"""Results, deliberation and minutes pages, for the clerk and for the jury.

The clerk (and the admin) read the results, the deliberation's tallies and the minutes of any
edition whose jury has started scoring. Of the jurors, only the chair reads the results and
the minutes (``results.for_chair``, ``minutes.minutes_for_chair``: NotAllowed is a 403 page);
every juror of the edition votes on the proposals they are not conflicted on, and the chair
proposes, withdraws and signs. Who may do what is decided in the domain; refusals of a rule
come back as the page with the message (409), never as an error.

The chart is an SVG drawn by a template (``results/_chart.svg.html``) from plain
coordinates computed here, so every name in it is escaped like any other text.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_409_CONFLICT

from ambassador import i18n, pdf
from ambassador.domain import conflicts, deliberation, jury, minutes, results
from ambassador.domain.accounts import Account
from ambassador.domain.deliberation import Tally
from ambassador.domain.editions import EditionView
from ambassador.domain.jury import Juror, JuryRules
from ambassador.domain.ranking_types import NominationStats, RankedNomination
from ambassador.domain.results import Standings
from ambassador.enums import LANGUAGES, Distinction, EditionState, Role, VoteChoice
from ambassador.errors import N_, DomainError, NotAllowed
from ambassador.web import labels
from ambassador.web.downloads import NO_STORE
from ambassador.web.editions import edition_or_404, message_of
from ambassador.web.errors import refuse_or_redirect
from ambassador.web.forms import MAX_ROW_ID, read_form, require_row_id
from ambassador.web.guards import requires_role, totp_enrolled
from ambassador.web.jury import member_edition

AnyRequest = Request[Any, Account, Any]

# --- numbers --------------------------------------------------------------------------------


def two_places(value: float | None) -> str:
    """A statistic with two decimals in the page's language (as in the minutes)."""
    return minutes.decimal(value, i18n.current_language.get())


def language_of(requested: str | None) -> str:
    """The minutes' language: the one asked for if the app speaks it, else the page's."""
    return i18n.supported(requested) or i18n.current_language.get()


# --- the chart ------------------------------------------------------------------------------

CHART_WIDTH = 720
PLOT_LEFT = 230
PLOT_RIGHT = 700
ROW_HEIGHT = 22
HEADING_HEIGHT = 30
AXIS_HEIGHT = 50  # tick labels and the legend
MAX_LABEL = 32
TICK_STEPS = (1, 2, 5, 10, 20, 25, 50)


@dataclass(frozen=True)
class Dot:
    """A total; equal totals in a row are spread vertically by ``dy`` so that each shows."""

    x: float
    dy: float
    value: str


@dataclass(frozen=True)
class ChartRow:
    """One juror's or one nomination's totals as dots, and the juror's mean (jurors only)."""

    y: float
    label: str
    full_label: str
    dots: tuple[Dot, ...]
    mean_x: float | None
    mean: str


@dataclass(frozen=True)
class ChartGroup:
    heading: str
    y: float
    rows: tuple[ChartRow, ...]

    @property
    def grid_top(self) -> float:
        return self.rows[0].y - ROW_HEIGHT / 2

    @property
    def grid_bottom(self) -> float:
        return self.rows[-1].y + ROW_HEIGHT / 2


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    top: float
    bottom: float
    ticks: tuple[tuple[float, str], ...]
    groups: tuple[ChartGroup, ...]
    score_min: int
    score_max: int


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1].rstrip() + "…"


DOT_SPACING = 6.0
MAX_STACK = 16.0  # the height equal dots may take in a row


def _dots(totals: Iterable[float], x: Any) -> tuple[Dot, ...]:
    """Dots in value order; a value given n times becomes a small vertical stack of n dots."""
    ordered = sorted(totals)
    counts: dict[float, int] = {}
    for value in ordered:
        counts[value] = counts.get(value, 0) + 1
    seen: dict[float, int] = {}
    dots = []
    for value in ordered:
        n, k = counts[value], seen.get(value, 0)
        seen[value] = k + 1
        spacing = min(DOT_SPACING, MAX_STACK / (n - 1)) if n > 1 else 0.0
        dots.append(Dot(x(value), round((k - (n - 1) / 2) * spacing, 1), two_places(value)))
    return tuple(dots)


def _ticks(low: int, high: int) -> list[int]:
    step = next((s for s in TICK_STEPS if (high - low) / s <= 10), math.ceil((high - low) / 10))
    first = math.ceil(low / step) * step
    values = list(range(first, high + 1, step))
    return sorted({low, *values, high})


def build_chart(s: Standings) -> Chart:
    """Coordinates of the dots: per juror (lenient or severe), then per nomination (dispersion)."""
    low, high = s.edition.score_min, s.edition.score_max

    def x(value: float) -> float:
        return round(PLOT_LEFT + (value - low) / (high - low) * (PLOT_RIGHT - PLOT_LEFT), 1)

    y = float(HEADING_HEIGHT)
    groups = []
    juror_rows = []
    heading_y = y
    for juror_id, totals, mean in s.chart.jurors:
        y += ROW_HEIGHT
        name = s.jurors.get(juror_id, str(juror_id))
        juror_rows.append(
            ChartRow(
                y=y,
                label=_short(name),
                full_label=name,
                dots=_dots(totals, x),
                mean_x=x(mean),
                mean=two_places(mean),
            )
        )
    if juror_rows:
        groups.append(ChartGroup(i18n.gettext(N_("Jurors: totals given and their mean")), heading_y, tuple(juror_rows)))
        y += HEADING_HEIGHT
    nomination_rows = []
    heading_y = y
    by_rank = {
        r.nomination_id: (r.rank, index)
        for ranking in s.computed.rankings.values()
        for index, r in enumerate(ranking.ranked)
    }
    series = [n for n in s.chart.nominations if n[2]]
    series.sort(key=lambda n: (n[1], by_rank.get(n[0], (math.inf, 0)), n[0]))
    for nomination_id, _category, totals in series:
        y += ROW_HEIGHT
        label = f"{s.references.get(nomination_id, '')} {s.nominees.get(nomination_id, '')}".strip()
        stats = s.computed.nominations[nomination_id]
        nomination_rows.append(
            ChartRow(
                y=y,
                label=_short(label),
                full_label=label,
                dots=_dots(totals, x),
                mean_x=x(stats.mean) if stats.mean is not None else None,
                mean=two_places(stats.mean),
            )
        )
    if nomination_rows:
        groups.append(
            ChartGroup(
                i18n.gettext(N_("Nominations: totals received and their mean")), heading_y, tuple(nomination_rows)
            )
        )
    bottom = y + ROW_HEIGHT / 2
    return Chart(
        width=CHART_WIDTH,
        height=int(bottom + AXIS_HEIGHT),
        left=PLOT_LEFT,
        right=PLOT_RIGHT,
        top=HEADING_HEIGHT / 2,
        bottom=bottom,
        ticks=tuple((x(v), str(v)) for v in _ticks(low, high)),
        groups=tuple(groups),
        score_min=low,
        score_max=high,
    )


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
        for category, ranking in sorted(s.computed.rankings.items())
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


# --- the deliberation -----------------------------------------------------------------------


@dataclass(frozen=True)
class Counted:
    """A proposal's tally as the chair and the clerk see it."""

    tally: Tally
    passed: bool
    by_chair: bool
    result: str
    excluded: tuple[str, ...]


@dataclass(frozen=True)
class Candidate:
    """A shortlisted nomination in ranking order, for the chair to propose."""

    nomination_id: int
    rank: int | None
    reference: str
    nominee: str
    score: float | None
    proposal: Tally | None


@dataclass(frozen=True)
class CategoryChoice:
    category: str
    candidates: tuple[Candidate, ...]
    titles: int
    mentions: int
    titles_taken: int
    mentions_taken: int

    @property
    def can_propose_title(self) -> bool:
        return self.titles_taken < self.titles

    @property
    def can_propose_mention(self) -> bool:
        return self.mentions_taken < self.mentions


def counted(tallies: list[Tally], rules: JuryRules, names: dict[int, str]) -> list[Counted]:
    language = i18n.current_language.get()
    result = []
    for t in tallies:
        passed, by_chair = deliberation.decide(t, rules.majority)
        result.append(
            Counted(
                tally=t,
                passed=passed,
                by_chair=by_chair,
                result=minutes.vote_result(t, rules.majority, language),
                excluded=tuple(names.get(j, str(j)) for j in t.excluded),
            )
        )
    return result


def category_choices(s: Standings, tallies: list[Tally]) -> list[CategoryChoice]:
    proposed = {t.nomination_id: t for t in tallies}
    choices = []
    for category, ranking in sorted(s.computed.rankings.items()):
        candidates = [
            Candidate(
                nomination_id=p.nomination_id,
                rank=p.rank,
                reference=s.references.get(p.nomination_id, ""),
                nominee=s.nominees.get(p.nomination_id, ""),
                score=p.score,
                proposal=proposed.get(p.nomination_id),
            )
            for p in ranking.ranked
        ]
        candidates += [
            Candidate(
                nomination_id=n,
                rank=None,
                reference=s.references.get(n, ""),
                nominee=s.nominees.get(n, ""),
                score=None,
                proposal=proposed.get(n),
            )
            for n in ranking.not_rankable
        ]
        mine = [t for t in tallies if t.category == category]
        suffix = category.lower()
        choices.append(
            CategoryChoice(
                category=category,
                candidates=tuple(candidates),
                titles=int(getattr(s.edition, f"titles_{suffix}", 0)),
                mentions=int(getattr(s.edition, f"mentions_{suffix}", 0)),
                titles_taken=sum(1 for t in mine if t.distinction == Distinction.TITLE),
                mentions_taken=sum(1 for t in mine if t.distinction == Distinction.MENTION),
            )
        )
    return choices


async def deliberation_page(
    edition: EditionView, juror: Juror, *, problem: str = "", status_code: int = 200
) -> Template | Redirect:
    """What a juror sees of the deliberation; the chair sees the shortlist and the tallies too."""
    if not await conflicts.has_declared_all(edition.id, juror.user_id):
        return Redirect(f"/jury/editions/{edition.id}/conflicts")
    mine = await deliberation.for_juror(edition.id, juror.user_id)
    context: dict[str, Any] = {
        "edition": edition,
        "section": "deliberation",
        "staff": False,
        "chair_nav": juror.is_chair,
        "juror": juror,
        "mine": mine,
        "problem": problem,
        "deliberating": edition.state == EditionState.DELIBERATION,
        "signed": edition.state in minutes.SIGNED_STATES,
        "labels": labels,
        "choices": [(c.value, labels.vote_choice(c)) for c in VoteChoice],
        "two_places": two_places,
    }
    if juror.is_chair:
        s = await results.for_chair(edition.id, juror.user_id)
        tallies = [t for t, _ in mine]
        context.update(
            counted=counted(tallies, s.rules, s.jurors),
            categories=category_choices(s, tallies),
            rules=s.rules,
            blocked=await conflicts.conflicted_ids(edition.id, juror.user_id),
        )
    return Template(template_name="deliberation/jury.html", context=context, status_code=status_code, headers=NO_STORE)


async def refused(
    request: AnyRequest, edition_id: int, exc: DomainError, status_code: int = HTTP_409_CONFLICT
) -> Template | Redirect:
    """The deliberation page as it now stands, with the refusal."""
    edition, juror = await member_edition(edition_id, request.user.id)
    return await deliberation_page(edition, juror, problem=message_of(exc), status_code=status_code)


def _row_id(raw: int | None) -> int | None:
    return raw if raw is not None and 1 <= raw <= MAX_ROW_ID else None


async def chair_edition(edition_id: int, user_id: int) -> tuple[EditionView, Juror]:
    """The edition, if this juror chairs its jury: 404 for non-members, 403 for other jurors."""
    edition, juror = await member_edition(edition_id, user_id)
    if not juror.is_chair:
        raise PermissionDeniedException()
    return edition, juror


# --- controllers ----------------------------------------------------------------------------


class ResultsAdminController(Controller):
    """The clerk's view of an edition's results, deliberation and minutes."""

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

    @get("/deliberation", name="deliberation_admin")
    async def deliberation(self, edition_id: FromPath[int]) -> Template:
        edition = await edition_or_404(edition_id)
        rules = await jury.rules_of(edition.id)
        names = {j.user_id: j.display_name for j in await jury.members(edition.id)}
        tallies = await deliberation.tallies(edition.id)
        return Template(
            template_name="deliberation/staff.html",
            context={
                "edition": edition,
                "section": "deliberation",
                "counted": counted(tallies, rules, names),
                "rules": rules,
                "deliberating": edition.state == EditionState.DELIBERATION,
                "signed": edition.state in minutes.SIGNED_STATES,
                "labels": labels,
            },
            headers=NO_STORE,
        )

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
    """The chair's results and minutes, and every juror's part in the deliberation."""

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

    async def _deliberated(
        self, request: AnyRequest, edition_id: int, action: Awaitable[object], done: str
    ) -> Template | Redirect:
        """A deliberation step: refused on the deliberation page, or done and back to it."""

        def back(_: object) -> Redirect:
            flash(request, i18n.gettext(done), "success")
            return Redirect(f"/jury/editions/{edition_id}/deliberation")

        return await refuse_or_redirect(action, lambda exc: refused(request, edition_id, exc), back)

    @get("/deliberation", name="juror_deliberation")
    async def deliberation(self, request: AnyRequest, edition_id: FromPath[int]) -> Template | Redirect:
        edition, juror = await member_edition(edition_id, request.user.id)
        return await deliberation_page(edition, juror)

    @post("/deliberation/proposals", name="juror_propose")
    async def propose(self, request: AnyRequest, edition_id: FromPath[int]) -> Template | Redirect:
        edition, _ = await chair_edition(edition_id, request.user.id)
        form = await read_form(request)
        nomination_id = _row_id(form.integer("nomination_id"))
        raw = form.text("distinction", 20).strip()
        if nomination_id is None:
            raise NotFoundException()
        if raw not in set(Distinction):
            invalid = DomainError(N_("Choose a title or an honourable mention."))
            return await refused(request, edition.id, invalid, HTTP_400_BAD_REQUEST)
        return await self._deliberated(
            request,
            edition.id,
            deliberation.propose(
                chair_id=request.user.id,
                edition_id=edition.id,
                nomination_id=nomination_id,
                distinction=Distinction(raw),
            ),
            N_("The proposal is put to the vote."),
        )

    @post("/deliberation/proposals/{proposal_id:int}/withdraw", name="juror_withdraw")
    async def withdraw(
        self, request: AnyRequest, edition_id: FromPath[int], proposal_id: FromPath[int]
    ) -> Template | Redirect:
        edition, _ = await chair_edition(edition_id, request.user.id)
        proposal_id = require_row_id(proposal_id)
        if proposal_id not in {t.proposal_id for t in await deliberation.tallies(edition.id)}:
            raise NotFoundException()
        return await self._deliberated(
            request,
            edition.id,
            deliberation.withdraw_proposal(chair_id=request.user.id, proposal_id=proposal_id),
            N_("The proposal is withdrawn."),
        )

    @post("/deliberation/proposals/{proposal_id:int}/vote", name="juror_vote")
    async def vote(
        self, request: AnyRequest, edition_id: FromPath[int], proposal_id: FromPath[int]
    ) -> Template | Redirect:
        edition, _ = await member_edition(edition_id, request.user.id)
        proposal_id = require_row_id(proposal_id)
        if not await conflicts.has_declared_all(edition.id, request.user.id):
            return Redirect(f"/jury/editions/{edition.id}/conflicts")
        # Only a proposal of this edition the juror may see: a conflicted one does not exist for them.
        visible = {t.proposal_id for t, _ in await deliberation.for_juror(edition.id, request.user.id)}
        if proposal_id not in visible:
            raise NotFoundException()
        raw = (await read_form(request)).text("choice", 20).strip()
        if raw not in set(VoteChoice):
            invalid = DomainError(N_("Choose for, against or abstain."))
            return await refused(request, edition.id, invalid, HTTP_400_BAD_REQUEST)
        return await self._deliberated(
            request,
            edition.id,
            deliberation.cast_vote(juror_id=request.user.id, proposal_id=proposal_id, choice=VoteChoice(raw)),
            N_("Your vote is saved."),
        )

    @post("/deliberation/recommend", name="juror_recommend")
    async def recommend(self, request: AnyRequest, edition_id: FromPath[int]) -> Template | Redirect:
        edition, _ = await chair_edition(edition_id, request.user.id)
        return await self._deliberated(
            request,
            edition.id,
            deliberation.recommend(chair_id=request.user.id, edition_id=edition.id),
            N_("The recommendation is signed."),
        )
