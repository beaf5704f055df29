"""Scoring: jurors score shortlisted nominations on the edition's criteria.

Every read for a juror passes ``_open_for`` (member, all conflicts declared, not conflicted,
nomination before the jury), so a conflicted juror gets NotFound from the query itself.
Scores can be saved as a draft, submitted, and revised until the chair closes scoring;
each save writes the old and new values to the audit. ``scoring_round`` holds the clerk's
and chair's side: opening, progress, reminders, closing and the export.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ambassador.db import is_unique_violation, utcnow, write_transaction
from ambassador.domain import audit, conflicts
from ambassador.domain.editions import EditionView, get_edition
from ambassador.domain.jury import Juror, require_member, rules_of
from ambassador.domain.nominations import AttachmentInfo, attachment_content, attachments_of, view
from ambassador.enums import EditionState, NominationState, ScoreVisibility, SheetStatus
from ambassador.errors import N_, DomainError, InvalidInput, NotFound, too_long
from ambassador.tables import Nomination, Score, ScoreSheet
from ambassador.text import clean_text

MAX_COMMENT = 4000
# The jury scores these; earlier states are still with the clerk.
SCORED = (
    NominationState.SHORTLISTED,
    NominationState.RECOMMENDED,
    NominationState.APPROVED,
    NominationState.NOT_APPROVED,
    NominationState.LAUREATE,
)
_SCORED_VALUES = frozenset(s.value for s in SCORED)


class DeclareFirst(DomainError):
    message = N_("Declare your conflicts of interest for every nomination first.")


class ScoringClosed(DomainError):
    message = N_("Scoring is not open for this edition.")


@dataclass(frozen=True)
class JuryDossier:
    """What a juror sees of a nomination: no contact data, no nominator's address."""

    id: int
    reference: str
    category: str
    nominee_name: str
    organisation_kind: str
    organisation_website: str
    descriptions: dict[int, str]
    links: tuple[str, ...]
    nominator_name: str
    nominator_relation: str
    attachments: tuple[AttachmentInfo, ...]
    merged: tuple[JuryDossier, ...] = ()
    # The language of the form the nominator wrote in (the texts' ``lang`` on the page).
    language: str = "pl"


@dataclass(frozen=True)
class SheetView:
    juror_id: int
    juror_name: str
    nomination_id: int
    status: SheetStatus
    values: dict[int, int | None]
    comments: dict[int, str]
    comment: str
    submitted_at: dt.datetime | None


@dataclass(frozen=True)
class ScoreInput:
    values: dict[int, int | None] = field(default_factory=dict)
    comments: dict[int, str] = field(default_factory=dict)
    comment: str = ""


async def _open_for(
    juror_id: int, nomination_id: int, *, whole: bool = True
) -> tuple[dict[str, Any], EditionView, Juror]:
    """The nomination row if this juror may see it; NotFound otherwise (even if it exists).

    A few queries on this juror and this nomination only, however large the edition. Without
    ``whole`` the row holds only its id, edition and state (what a save needs).
    """
    columns = () if whole else (Nomination.id, Nomination.edition, Nomination.state)
    row = await Nomination.select(*columns).where(Nomination.id == nomination_id).first()
    if row is None or row["state"] not in _SCORED_VALUES:
        raise NotFound()
    juror = await require_member(row["edition"], juror_id)
    if await conflicts.is_conflicted(row["edition"], juror_id, nomination_id):
        raise NotFound()
    if not await conflicts.declared_all(row["edition"], juror_id):
        raise DeclareFirst()
    return row, await get_edition(row["edition"]), juror


def _jury_view(
    row: dict[str, Any], files: tuple[AttachmentInfo, ...], merged: tuple[JuryDossier, ...] = ()
) -> JuryDossier:
    n = view(row, files)
    return JuryDossier(
        id=n.id,
        reference=n.reference,
        category=n.category,
        nominee_name=n.nominee_name,
        organisation_kind=n.organisation_kind,
        organisation_website=n.organisation_website,
        descriptions=n.descriptions,
        links=tuple(n.link_list),
        nominator_name=n.nominator_name,
        nominator_relation=n.nominator_relation,
        attachments=files,
        merged=merged,
        language=n.language,
    )


async def dossier_for_juror(juror_id: int, nomination_id: int) -> JuryDossier:
    row, _, _ = await _open_for(juror_id, nomination_id)
    merged_rows = await Nomination.select().where(Nomination.merged_into == nomination_id).order_by(Nomination.number)
    files = await attachments_of([nomination_id, *[r["id"] for r in merged_rows]])
    merged = tuple(_jury_view(r, files[r["id"]]) for r in merged_rows)
    return _jury_view(row, files[nomination_id], merged)


async def attachment_for_juror(juror_id: int, nomination_id: int, attachment_id: int) -> tuple[AttachmentInfo, bytes]:
    """A file of the nomination or of one merged into it, if the juror may see the nomination."""
    await _open_for(juror_id, nomination_id, whole=False)
    owners = [
        nomination_id,
        *[r["id"] for r in await Nomination.select(Nomination.id).where(Nomination.merged_into == nomination_id)],
    ]
    for owner in owners:
        try:
            return await attachment_content(owner, attachment_id)
        except NotFound:
            continue
    raise NotFound()


async def _sheets(where: Any) -> list[SheetView]:
    rows = (
        await ScoreSheet.select(
            ScoreSheet.id,
            ScoreSheet.juror,
            ScoreSheet.nomination,
            ScoreSheet.status,
            ScoreSheet.comment,
            ScoreSheet.submitted_at,
            ScoreSheet.juror.display_name,
        )
        .where(where)
        .order_by(ScoreSheet.id)
    )
    if not rows:
        return []
    # The same condition as a sub-select: no parameter per sheet, however many sheets.
    scores = (
        await Score.select(Score.sheet, Score.criterion, Score.value, Score.comment)
        .where(Score.sheet.is_in(ScoreSheet.select(ScoreSheet.id).where(where)))
        .order_by(Score.id)
    )
    by_sheet: dict[int, list[dict[str, Any]]] = {}
    for s in scores:
        by_sheet.setdefault(s["sheet"], []).append(s)
    return [
        SheetView(
            juror_id=r["juror"],
            juror_name=r["juror.display_name"],
            nomination_id=r["nomination"],
            status=SheetStatus(r["status"]),
            values={s["criterion"]: s["value"] for s in by_sheet.get(r["id"], [])},
            comments={s["criterion"]: s["comment"] for s in by_sheet.get(r["id"], []) if s["comment"]},
            comment=r["comment"],
            submitted_at=r["submitted_at"],
        )
        for r in rows
    ]


async def own_sheet(juror_id: int, nomination_id: int) -> SheetView | None:
    await _open_for(juror_id, nomination_id, whole=False)
    found = await _sheets((ScoreSheet.juror == juror_id) & (ScoreSheet.nomination == nomination_id))
    return found[0] if found else None


async def others_sheets(juror_id: int, nomination_id: int) -> list[SheetView]:
    """Other jurors' submitted sheets, when the edition's rule lets this juror see them."""
    _, edition, _ = await _open_for(juror_id, nomination_id, whole=False)
    rule = (await rules_of(edition.id)).score_visibility
    if rule == ScoreVisibility.NEVER:
        return []
    if rule == ScoreVisibility.AFTER_OWN:
        own = (
            await ScoreSheet.select(ScoreSheet.status)
            .where((ScoreSheet.juror == juror_id) & (ScoreSheet.nomination == nomination_id))
            .order_by(ScoreSheet.id)
            .first()
        )
        if own is None or own["status"] != SheetStatus.SUBMITTED.value:
            return []
    sheets = await _sheets(
        (ScoreSheet.nomination == nomination_id)
        & (ScoreSheet.juror != juror_id)
        & (ScoreSheet.status == SheetStatus.SUBMITTED.value)
    )
    if not sheets:
        return []
    # Conflicted jurors' sheets are voided; this is the second safeguard, by the matrix's rule
    # (read for this nomination only).
    excluded = await conflicts.conflicted_jurors(edition.id, nomination_id)
    return [s for s in sheets if s.juror_id not in excluded]


def _check(edition: EditionView, data: ScoreInput, submit: bool) -> tuple[dict[int, int | None], dict[int, str], str]:
    errors: dict[str, str] = {}
    criteria = [c.id for c in edition.criteria if c.id is not None]
    values = {c: data.values.get(c) for c in criteria}
    comments = {c: clean_text(data.comments.get(c, "")) for c in criteria}
    comment = clean_text(data.comment)
    for c, value in values.items():
        if value is not None and not edition.score_min <= value <= edition.score_max:
            errors[f"score_{c}"] = N_("Give a whole number on the scale.")
        elif value is None and submit:
            errors[f"score_{c}"] = N_("Give a score for every criterion before submitting.")
        if len(comments[c]) > MAX_COMMENT:
            errors[f"comment_{c}"] = too_long(MAX_COMMENT)
    if len(comment) > MAX_COMMENT:
        errors["comment"] = too_long(MAX_COMMENT)
    if errors:
        raise InvalidInput(errors)
    return values, comments, comment


ScoreData = ScoreInput | Callable[[EditionView], ScoreInput]


async def save(
    *, juror_id: int, nomination_id: int, data: ScoreData, submit: bool, now: dt.datetime | None = None
) -> SheetView:
    """Save a draft or submit; a submitted sheet stays submitted when revised.

    ``data`` may be a function of the edition (read with the juror's access, inside the save's
    transaction) that gives the input: a form is read against the edition's criteria without a
    separate look-up. Two first saves at once (a double click) race for the unique (juror,
    nomination) sheet: the loser saves again, as a revision of the winner's sheet.
    """
    try:
        return await _save(juror_id=juror_id, nomination_id=nomination_id, data=data, submit=submit, now=now)
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
    return await _save(juror_id=juror_id, nomination_id=nomination_id, data=data, submit=submit, now=now)


async def _save(
    *, juror_id: int, nomination_id: int, data: ScoreData, submit: bool, now: dt.datetime | None
) -> SheetView:
    now = now or utcnow()
    async with write_transaction():
        row, edition, juror = await _open_for(juror_id, nomination_id, whole=False)
        if edition.state != EditionState.JURY_SCORING:
            raise ScoringClosed()
        values, comments, comment = _check(edition, data(edition) if callable(data) else data, submit)
        sheet = (
            await ScoreSheet.select()
            .where((ScoreSheet.juror == juror_id) & (ScoreSheet.nomination == nomination_id))
            .first()
        )
        old: dict[int, int | None] = {}
        if sheet is None:
            sheet_id, status = await _new_sheet(
                edition.id, juror_id, nomination_id, comment=comment, submit=submit, now=now
            )
        else:
            sheet_id, status, old = await _revise_sheet(sheet, values, comment, submit, now)
        if values:
            await Score.insert(
                *[
                    Score(sheet=sheet_id, criterion=criterion_id, value=value, comment=comments[criterion_id])
                    for criterion_id, value in values.items()
                ]
            )
        await audit.record(
            f"score.{status.value}",
            actor_id=juror_id,
            object_type="nomination",
            object_id=row["id"],
            data={"changes": _changes(old, values)},
        )
    # The sheet as just written (what reading it back would give).
    return SheetView(
        juror_id=juror_id,
        juror_name=juror.display_name,
        nomination_id=nomination_id,
        status=status,
        values=dict(values),
        comments={c: text for c, text in comments.items() if text},
        comment=comment,
        submitted_at=now if status == SheetStatus.SUBMITTED else None,
    )


async def _new_sheet(
    edition_id: int, juror_id: int, nomination_id: int, *, comment: str, submit: bool, now: dt.datetime
) -> tuple[int, SheetStatus]:
    """A juror's first save on a nomination: the sheet, a draft or submitted."""
    status = SheetStatus.SUBMITTED if submit else SheetStatus.DRAFT
    created = ScoreSheet(
        edition=edition_id,
        juror=juror_id,
        nomination=nomination_id,
        status=status.value,
        comment=comment,
        updated_at=now,
        submitted_at=now if submit else None,
    )
    await created.save()
    return created.id, status


async def _revise_sheet(
    sheet: dict[str, Any], values: dict[int, int | None], comment: str, submit: bool, now: dt.datetime
) -> tuple[int, SheetStatus, dict[int, int | None]]:
    """A later save: the sheet updated and its scores cleared; the scores it had before.

    A submitted sheet stays submitted, so it must stay complete. A void sheet (its conflict
    since withdrawn or dismissed) starts again as a new one; ``_open_for`` has already refused
    a juror who is still conflicted.
    """
    sheet_id = int(sheet["id"])
    was_submitted = sheet["status"] == SheetStatus.SUBMITTED.value
    status = SheetStatus.SUBMITTED if submit or was_submitted else SheetStatus.DRAFT
    if was_submitted and not all(v is not None for v in values.values()):
        raise InvalidInput({"form": N_("Give a score for every criterion before submitting.")})
    old = {s["criterion"]: s["value"] for s in await Score.select().where(Score.sheet == sheet_id)}
    await ScoreSheet.update(
        {
            ScoreSheet.status: status.value,
            ScoreSheet.comment: comment,
            ScoreSheet.updated_at: now,
            ScoreSheet.submitted_at: now if status == SheetStatus.SUBMITTED else None,
        }
    ).where(ScoreSheet.id == sheet_id)
    await Score.delete().where(Score.sheet == sheet_id)
    return sheet_id, status, old


def _changes(old: dict[int, int | None], values: dict[int, int | None]) -> list[dict[str, Any]]:
    """The audit's account of a save: every criterion on a first save, the changed ones after."""
    return [{"criterion": c, "old": old.get(c), "new": v} for c, v in values.items() if old.get(c) != v or not old]


async def to_score(edition_id: int, juror_id: int) -> list[tuple[int, str, str, SheetStatus | None]]:
    """The juror's list: (id, nominee, category, own sheet status); conflicted ones left out."""
    await require_member(edition_id, juror_id)
    blocked = await conflicts.conflicted_ids(edition_id, juror_id)
    rows = (
        await Nomination.select(Nomination.id, Nomination.nominee_name, Nomination.category)
        .where((Nomination.edition == edition_id) & Nomination.state.is_in([s.value for s in SCORED]))
        .order_by(Nomination.number)
    )
    own = {
        s["nomination"]: SheetStatus(s["status"])
        for s in await ScoreSheet.select(ScoreSheet.nomination, ScoreSheet.status).where(
            (ScoreSheet.edition == edition_id) & (ScoreSheet.juror == juror_id)
        )
    }
    return [(r["id"], r["nominee_name"], r["category"], own.get(r["id"])) for r in rows if r["id"] not in blocked]


async def submitted_sheets(edition_id: int, excluded: set[tuple[int, int]] | None = None) -> list[SheetView]:
    """Every submitted, non-void sheet of the edition, conflicted pairs excluded (for results).

    ``excluded``: the edition's ``conflicts.conflicted_pairs`` when the caller has the matrix already.
    """
    sheets = await _sheets((ScoreSheet.edition == edition_id) & (ScoreSheet.status == SheetStatus.SUBMITTED.value))
    if excluded is None:
        excluded = conflicts.conflicted_pairs(await conflicts.matrix(edition_id))
    return [s for s in sheets if (s.juror_id, s.nomination_id) not in excluded]
