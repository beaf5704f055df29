"""The minutes (protokół) of an edition's jury: a plain document in a given language.

Pure assembly over the jury's domain functions (the standings with their leave-one-out
check, the conflict matrix, the deliberation's tallies), so the minutes say exactly what the
results and deliberation pages show. The web layer renders the document as printable HTML
and as PDF (``ambassador.pdf``); nothing here knows either format. Every text goes through
``translate`` in the requested language; numbers have two decimals in its notation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from babel.dates import format_date, format_time
from babel.numbers import format_decimal

from ambassador import honour, pdf
from ambassador.db import utcnow
from ambassador.domain import conflicts, deliberation, results
from ambassador.domain.conflict_evidence import describe
from ambassador.domain.conflicts import Matrix
from ambassador.domain.deliberation import Tally
from ambassador.domain.editions import EditionView, get_edition
from ambassador.domain.jury import require_chair
from ambassador.domain.ranking_types import CategoryRanking, RankedNomination
from ambassador.domain.results import Standings
from ambassador.enums import EditionState, Majority
from ambassador.errors import N_, DomainError, NotAllowed
from ambassador.i18n import TIMEZONE, translate, translate_label
from ambassador.tables import AuditEntry, Nomination

# The results exist once the jury scores; until the chair signs they are provisional.
RESULT_STATES = frozenset(
    {
        EditionState.JURY_SCORING,
        EditionState.DELIBERATION,
        EditionState.RECOMMENDED,
        EditionState.APPROVED,
        EditionState.PUBLISHED,
    }
)
SIGNED_STATES = frozenset({EditionState.RECOMMENDED, EditionState.APPROVED, EditionState.PUBLISHED})
NONE = "–"  # a statistic that does not exist (no valid sheet)
TWO_PLACES = Decimal("0.01")

from ambassador.vocabulary import (  # noqa: E402 - the shared message ids
    CONFLICT_KINDS,
    DETECTION_STATUSES,
    DISTINCTIONS,
    MAJORITIES,
    TIE_BREAKS,
)


class NotScoredYet(DomainError):
    message = N_("The results are available once the jury has started scoring.")


def decimal(value: float | None, language: str) -> str:
    """Two decimals in the language's notation, rounded half up as by hand; a dash for none."""
    if value is None:
        return NONE
    rounded = Decimal(repr(value)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # never "-0.00"
    return str(format_decimal(rounded, "#,##0.00", locale=language))


def _nomination(reference: str, nominee: str) -> str:
    return f"{reference} {nominee}".strip()


def _when(value: dt.datetime, language: str) -> str:
    """A moment in Warsaw time, to the minute."""
    local = value.astimezone(TIMEZONE)
    return f"{format_date(local.date(), 'long', locale=language)}, {format_time(local, 'short', locale=language)}"


def _names(names: Iterable[str]) -> str:
    return ", ".join(names)


async def require_results(edition_id: int) -> EditionView:
    """The edition, if its results exist (from jury scoring on); NotScoredYet otherwise."""
    edition = await get_edition(edition_id)
    if edition.state not in RESULT_STATES:
        raise NotScoredYet()
    return edition


# --- sections -------------------------------------------------------------------------------


def _jury_section(s: Standings, matrix: Matrix, language: str) -> pdf.Section:
    document = s.rules.appointment_document
    paragraphs = [
        translate(language, N_("Appointed by: %(document)s"), document=document)
        if document
        else translate(language, N_("The document appointing the jury has not been recorded."))
    ]
    if not matrix.jurors:
        paragraphs.append(translate(language, N_("No juror has been appointed.")))
        return pdf.Section(translate(language, N_("The jury")), tuple(paragraphs))
    table = pdf.Table(
        header=(translate(language, N_("Juror")), translate(language, N_("Role"))),
        rows=tuple(
            (j.display_name, translate(language, N_("chair") if j.is_chair else N_("member"))) for j in matrix.jurors
        ),
    )
    return pdf.Section(translate(language, N_("The jury")), tuple(paragraphs), (table,))


def _conflicts_section(matrix: Matrix, references: dict[int, str], language: str) -> pdf.Section:
    heading = translate(language, N_("Conflicts of interest"))
    rows: list[tuple[str, ...]] = []
    for nomination_id, nominee, _category in matrix.nominations:
        nomination = _nomination(references.get(nomination_id, ""), nominee)
        for juror in matrix.jurors:
            cell = matrix.cell(juror.user_id, nomination_id)
            if cell.declared_kind:
                rows.append(
                    (
                        nomination,
                        juror.display_name,
                        translate(language, N_("declared")),
                        translate_label(language, CONFLICT_KINDS, cell.declared_kind),
                        translate(language, N_("confirmed") if cell.pinned else N_("not confirmed")),
                    )
                )
            if cell.detection_id is not None:
                rows.append(
                    (
                        nomination,
                        juror.display_name,
                        translate(language, N_("detected")),
                        " ".join(describe(found, language) for found in cell.evidence),
                        translate_label(language, DETECTION_STATUSES, cell.detection_status),
                    )
                )
    explanation = translate(
        language,
        N_(
            "A conflicted juror saw neither the dossier nor the others' scores on it, did not score it or vote "
            "on it, and does not count towards its averages or quorum. A dismissed detection blocks nothing."
        ),
    )
    if not rows:
        nothing = translate(language, N_("No conflict of interest was declared or detected."))
        return pdf.Section(heading, (explanation, nothing))
    header = tuple(
        translate(language, m)
        for m in (N_("Nomination"), N_("Juror"), N_("Source"), N_("Kind or evidence"), N_("Status"))
    )
    return pdf.Section(heading, (explanation,), (pdf.Table(header, tuple(rows)),))


def _method_section(s: Standings, language: str) -> pdf.Section:
    edition, rules = s.edition, s.rules
    chain = _names(translate_label(language, TIE_BREAKS, step) for step in rules.tie_break)
    paragraphs = (
        translate(
            language,
            N_("Each criterion is scored with a whole number from %(min)s to %(max)s."),
            min=edition.score_min,
            max=edition.score_max,
        ),
        translate(
            language,
            N_(
                "A score sheet's total is the weighted mean of its scores. A nomination's mean, median, "
                "standard deviation (of the population) and spread are computed over the totals of the submitted "
                "sheets of the jurors without a conflict of interest."
            ),
        ),
        translate(
            language,
            N_("A nomination is ranked when it has at least %(count)s valid score sheets."),
            count=rules.min_scores,
        ),
        translate(
            language,
            N_(
                "Normalisation: yes. Each juror's totals are turned into z-scores and rescaled to the scale; "
                "the ranking uses the normalised mean."
            )
            if rules.normalise
            else N_("Normalisation: no. The ranking uses the mean of the totals."),
        ),
        translate(language, N_("Ties on the ranking score are broken in this order: %(chain)s."), chain=chain),
        translate(
            language,
            N_(
                "A proposal is voted on by the jurors without a conflict of interest on it; the quorum is "
                "%(percent)s per cent of them. Majority: %(majority)s. The chair's vote decides a tie."
            ),
            percent=rules.vote_quorum_percent,
            majority=translate_label(language, MAJORITIES, rules.majority),
        ),
    )
    criteria = pdf.Table(
        header=(translate(language, N_("Criterion")), translate(language, N_("Weight"))),
        rows=tuple((c.name(language), str(c.weight)) for c in edition.criteria),
    )
    return pdf.Section(translate(language, N_("Method")), paragraphs, (criteria,))


def tie_note(place: RankedNomination, references: dict[int, str], language: str) -> str:
    """What decided a place among equal means: a pending vote, or the tie-break that did."""
    if place.needs_vote:
        others = _names(references.get(n, str(n)) for n in place.tied_with)
        return translate(language, N_("tied with %(others)s: the jury decides by a vote"), others=others)
    if place.decided_by:
        return translate(
            language, N_("tie broken by: %(rule)s"), rule=translate_label(language, TIE_BREAKS, place.decided_by)
        )
    return ""


def stability_notes(s: Standings, category: str, language: str) -> list[str]:
    """The leave-one-out verdict on a category's top places, as sentences."""
    top = s.top(category)
    if top <= 0:
        return []
    ranking = s.computed.rankings.get(category)
    if ranking is None or not ranking.ranked:
        # Nothing ranked, nothing to check: "stable" would claim places that do not exist.
        return [
            translate(
                language,
                N_("Leave-one-out check: not made; no nomination in this category has enough scores to be ranked."),
            )
        ]
    effects = [e for e in s.stability.effects if e.category == category]
    changing = [s.jurors.get(e.juror_id, str(e.juror_id)) for e in effects if e.set_changed]
    reordering = [s.jurors.get(e.juror_id, str(e.juror_id)) for e in effects if e.order_changed and not e.set_changed]
    notes = []
    if changing:
        notes.append(
            translate(
                language,
                N_(
                    "Leave-one-out check: without the scores of one of these jurors "
                    "the top %(count)s changes: %(jurors)s."
                ),
                count=top,
                jurors=_names(changing),
            )
        )
    else:
        notes.append(
            translate(
                language,
                N_("Leave-one-out check: stable; without any single juror's scores the top %(count)s stays the same."),
                count=top,
            )
        )
    if reordering:
        notes.append(
            translate(
                language,
                N_(
                    "Without the scores of one of these jurors only the order within "
                    "the top %(count)s changes: %(jurors)s."
                ),
                count=top,
                jurors=_names(reordering),
            )
        )
    return notes


def _ranking_section(s: Standings, ranking: CategoryRanking, language: str) -> pdf.Section:
    normalise = s.rules.normalise
    heading = translate(
        language, N_("Ranking, category %(category)s"), category=s.edition.category_label(ranking.category, language)
    )
    header = [
        translate(language, m)
        for m in (N_("Rank"), N_("Nomination"), N_("Mean"), N_("Median"), N_("Std. dev."), N_("Spread"))
    ]
    header.append(translate(language, N_("Scores")))
    if normalise:
        header.append(translate(language, N_("Normalised mean")))
    header.append(translate(language, N_("Note")))
    rows = []
    for place in ranking.ranked:
        stats = s.computed.nominations[place.nomination_id]
        row = [
            str(place.rank),
            _nomination(s.references.get(place.nomination_id, ""), s.nominees.get(place.nomination_id, "")),
            decimal(stats.mean, language),
            decimal(stats.median, language),
            decimal(stats.stdev, language),
            decimal(stats.spread, language),
            str(stats.count),
        ]
        if normalise:
            row.append(decimal(stats.norm_mean, language))
        row.append(tie_note(place, s.references, language))
        rows.append(tuple(row))
    paragraphs: list[str] = []
    if not ranking.ranked:
        paragraphs.append(translate(language, N_("No nomination in this category has enough valid score sheets.")))
    if ranking.not_rankable:
        listed = _names(
            f"{_nomination(s.references.get(n, ''), s.nominees.get(n, ''))} ({s.computed.nominations[n].count})"
            for n in ranking.not_rankable
        )
        paragraphs.append(
            translate(
                language,
                N_("Not ranked, with fewer than %(count)s valid score sheets (number in brackets): %(nominations)s."),
                count=s.rules.min_scores,
                nominations=listed,
            )
        )
    ids = [p.nomination_id for p in ranking.ranked] + list(ranking.not_rankable)
    left_out = [f"{s.references.get(n, '')}: {_names(s.excluded[n])}" for n in ids if s.excluded.get(n)]
    if left_out:
        paragraphs.append(
            translate(language, N_("Jurors left out for a conflict of interest: %(list)s."), list="; ".join(left_out))
        )
    paragraphs.extend(stability_notes(s, ranking.category, language))
    tables = (pdf.Table(tuple(header), tuple(rows)),) if rows else ()
    return pdf.Section(heading, tuple(paragraphs), tables)


def vote_result(tally: Tally, majority: Majority, language: str) -> str:
    passed, by_chair = deliberation.decide(tally, majority)
    if not tally.quorum_met:
        return translate(language, N_("no quorum"))
    result = translate(language, N_("passed") if passed else N_("not passed"))
    if by_chair:
        result += "; " + translate(language, N_("decided by the chair's vote"))
    return result


def _votes_section(s: Standings, tallies: list[Tally], language: str) -> pdf.Section:
    heading = translate(language, N_("Votes"))
    if not tallies:
        return pdf.Section(heading, (translate(language, N_("No proposal was put to the vote.")),))
    header = tuple(
        translate(language, m)
        for m in (
            N_("Nomination"),
            N_("Distinction"),
            N_("For / against / abstaining"),
            N_("Votes cast / quorum"),
            N_("Result"),
            N_("Left out for a conflict of interest"),
        )
    )
    rows = tuple(
        (
            _nomination(t.reference, t.nominee_name),
            translate_label(language, DISTINCTIONS, t.distinction),
            f"{t.votes_for} / {t.against} / {t.abstain}",
            f"{t.cast} / {t.quorum}",
            vote_result(t, s.rules.majority, language),
            _names(s.jurors.get(j, str(j)) for j in t.excluded),
        )
        for t in tallies
    )
    return pdf.Section(heading, (), (pdf.Table(header, rows),))


async def _signature(edition_id: int) -> tuple[str, dt.datetime] | None:
    """Who signed the recommendation and when (from the audit log), if it is signed."""
    row = (
        await AuditEntry.select(AuditEntry.created_at, AuditEntry.actor.display_name.as_alias("name"))
        .where(
            (AuditEntry.action == "deliberation.recommended")
            & (AuditEntry.object_type == "edition")
            & (AuditEntry.object_id == str(edition_id))
        )
        .order_by(AuditEntry.id, ascending=False)
        .first()
    )
    return (str(row["name"] or ""), row["created_at"]) if row else None


def _recommendation_section(
    s: Standings, tallies: list[Tally], signature: tuple[str, dt.datetime] | None, language: str
) -> pdf.Section:
    heading = translate(language, N_("Recommendation"))
    passed = [t for t in tallies if deliberation.decide(t, s.rules.majority)[0]]
    signed = s.edition.state in SIGNED_STATES
    paragraphs: list[str] = []
    if signed and signature is not None:
        name, when = signature
        paragraphs.append(
            translate(
                language,
                N_("The chair %(name)s signed the recommendation on %(date)s."),
                name=name,
                date=_when(when, language),
            )
        )
    if signed:
        paragraphs.append(translate(language, N_("The jury recommends conferring these distinctions:")))
    elif passed:
        paragraphs.append(
            translate(language, N_("The recommendation has not been signed yet. Proposals that have passed so far:"))
        )
    else:
        paragraphs.append(translate(language, N_("The recommendation has not been signed yet.")))
    if not passed:
        return pdf.Section(heading, tuple(paragraphs))
    table = pdf.Table(
        header=tuple(translate(language, m) for m in (N_("Category"), N_("Distinction"), N_("Nomination"))),
        rows=tuple(
            (
                s.edition.category_label(t.category, language),
                translate_label(language, DISTINCTIONS, t.distinction),
                _nomination(t.reference, t.nominee_name),
            )
            for t in passed
        ),
    )
    return pdf.Section(heading, tuple(paragraphs), (table,))


# --- the document ---------------------------------------------------------------------------


async def minutes(edition_id: int, language: str, today: dt.date | None = None) -> pdf.Document:
    """The jury's minutes of the edition in ``language`` (a draft until the chair signs)."""
    await require_results(edition_id)
    s = await results.compute(edition_id)
    matrix = await conflicts.matrix(edition_id)
    tallies = await deliberation.tallies(edition_id)
    references = {
        r["id"]: r["reference"]
        for r in await Nomination.select(Nomination.id, Nomination.reference).where(Nomination.edition == edition_id)
    }
    signature = await _signature(edition_id)
    today = today or utcnow().astimezone(TIMEZONE).date()
    edition = s.edition
    sections = [
        _jury_section(s, matrix, language),
        _conflicts_section(matrix, references, language),
        _method_section(s, language),
        *(_ranking_section(s, ranking, language) for _, ranking in s.ordered_rankings()),
        _votes_section(s, tallies, language),
        _recommendation_section(s, tallies, signature, language),
    ]
    if edition.state not in SIGNED_STATES:
        draft = translate(language, N_("Draft: the chair has not signed the jury's recommendation yet."))
        sections.insert(0, pdf.Section(translate(language, N_("Draft")), (draft,)))
    produced = translate(language, N_("Produced on %(date)s"), date=format_date(today, "long", locale=language))
    signers = sorted(matrix.jurors, key=lambda j: not j.is_chair)  # the chair first, then the members
    signatures = pdf.Signatures(
        heading=translate(language, N_("Signatures")),
        people=tuple(
            (j.display_name, translate(language, N_("chair") if j.is_chair else N_("member"))) for j in signers
        ),
        signature_label=translate(language, N_("signature")),
        date_label=translate(language, N_("date")),
    )
    return pdf.Document(
        signatures=signatures if signers else None,
        title=translate(
            language,
            N_("Minutes of the jury of the title %(title)s, %(edition)s"),
            title=honour.active().text("name", language),
            edition=edition.label,
        ),
        subtitle=f"{edition.name(language)} · {produced}",
        sections=tuple(sections),
        footer=f"{edition.label} · {produced}",
    )


async def minutes_for_chair(edition_id: int, chair_id: int, language: str) -> pdf.Document:
    """The minutes as the chair reads them; NotAllowed for other jurors, NotFound for others."""
    await require_chair(edition_id, chair_id)
    if await conflicts.conflicted_ids(edition_id, chair_id):
        # The minutes hold every nomination's scores and votes; the clerk hands them over.
        raise NotAllowed(N_("You have a conflict of interest on a nomination: the clerk provides the minutes."))
    return await minutes(edition_id, language)
