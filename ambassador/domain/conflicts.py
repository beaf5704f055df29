"""Conflicts of interest: who is conflicted, the matrix, and the detection run.

A juror is conflicted on a nomination when they declared it, or when a detection is pending
or confirmed (a false alarm blocks until a clerk dismisses it: the safe default). Every jury
query asks ``conflicted_ids`` first and answers NotFound for a conflicted nomination, so its
existence is not confirmed. Before declaring for every nomination, a juror opens nothing.
The jurors' answers and the clerk's decisions are ``conflict_declarations``; what detection
looks for is ``conflict_evidence``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ambassador.db import utcnow, write_transaction
from ambassador.domain import audit
from ambassador.domain.conflict_evidence import Evidence, NomineeFacts, decode, encode, evidence
from ambassador.domain.editions import get_edition
from ambassador.domain.jury import Juror, members, require_member
from ambassador.enums import DetectionStatus, EditionState, NominationState, SheetStatus
from ambassador.errors import N_, DomainError
from ambassador.tables import ConflictDeclaration, DetectedConflict, JuryMember, Nomination, ScoreSheet

DETECTION_STATES = frozenset(
    {EditionState.DRAFT, EditionState.OPEN, EditionState.FORMAL_CHECK, EditionState.JURY_SCORING}
)


# Nominations the jury sees (and declares conflicts on): formally accepted and onwards.
JURY_VISIBLE = (
    NominationState.ACCEPTED,
    NominationState.SHORTLISTED,
    NominationState.RECOMMENDED,
    NominationState.APPROVED,
    NominationState.NOT_APPROVED,
    NominationState.LAUREATE,
)


async def visible_rows(edition_id: int) -> list[dict[str, object]]:
    return list(
        await Nomination.select(
            Nomination.id,
            Nomination.nominee_name,
            Nomination.category,
            Nomination.nominee_email,
            Nomination.nominator_name,
            Nomination.nominator_email,
            Nomination.nominator_organisation,
        )
        .where((Nomination.edition == edition_id) & Nomination.state.is_in([s.value for s in JURY_VISIBLE]))
        .order_by(Nomination.number)
    )


async def conflicted_ids(edition_id: int, juror_id: int) -> set[int]:
    """Nominations this juror must not see: declared, or detected and not dismissed."""
    declared = await ConflictDeclaration.select(ConflictDeclaration.nomination).where(
        (ConflictDeclaration.edition == edition_id)
        & (ConflictDeclaration.juror == juror_id)
        & (ConflictDeclaration.conflicted == True)  # noqa: E712 - a column expression
    )
    detected = await DetectedConflict.select(DetectedConflict.nomination).where(
        (DetectedConflict.edition == edition_id)
        & (DetectedConflict.juror == juror_id)
        & (DetectedConflict.status != DetectionStatus.DISMISSED.value)
    )
    return {int(r["nomination"]) for r in [*declared, *detected]}


async def has_declared_all(edition_id: int, juror_id: int) -> bool:
    """The gate: a juror opens no dossier before answering for every nomination."""
    await require_member(edition_id, juror_id)
    return await declared_all(edition_id, juror_id)


async def declared_all(edition_id: int, juror_id: int) -> bool:
    """``has_declared_all`` for a juror already known to sit on the jury, in one query.

    True when no nomination before the jury lacks this juror's answer (as ``declaration_list``);
    a nomination on which a clerk confirmed a detected conflict needs no answer.
    """
    answered = ConflictDeclaration.select(ConflictDeclaration.nomination).where(
        (ConflictDeclaration.edition == edition_id) & (ConflictDeclaration.juror == juror_id)
    )
    confirmed = DetectedConflict.select(DetectedConflict.nomination).where(
        (DetectedConflict.edition == edition_id)
        & (DetectedConflict.juror == juror_id)
        & (DetectedConflict.status == DetectionStatus.CONFIRMED.value)
    )
    # select(id).first() rather than exists(): Piccolo's EXISTS lists every column.
    unanswered = (
        await Nomination.select(Nomination.id)
        .where(
            (Nomination.edition == edition_id)
            & Nomination.state.is_in([s.value for s in JURY_VISIBLE])
            & Nomination.id.not_in(answered)
            & Nomination.id.not_in(confirmed)
        )
        .first()
    )
    return unanswered is None


async def is_conflicted(edition_id: int, juror_id: int, nomination_id: int) -> bool:
    """``nomination_id in conflicted_ids(edition_id, juror_id)``, reading only this pair (one query)."""
    declared = ConflictDeclaration.select(ConflictDeclaration.nomination).where(
        (ConflictDeclaration.edition == edition_id)
        & (ConflictDeclaration.juror == juror_id)
        & (ConflictDeclaration.nomination == nomination_id)
        & (ConflictDeclaration.conflicted == True)  # noqa: E712 - a column expression
    )
    detected = DetectedConflict.select(DetectedConflict.nomination).where(
        (DetectedConflict.edition == edition_id)
        & (DetectedConflict.juror == juror_id)
        & (DetectedConflict.nomination == nomination_id)
        & (DetectedConflict.status != DetectionStatus.DISMISSED.value)
    )
    found = (
        await Nomination.select(Nomination.id)
        .where((Nomination.id == nomination_id) & (Nomination.id.is_in(declared) | Nomination.id.is_in(detected)))
        .first()
    )
    return found is not None


async def void_sheets(juror_id: int, nomination_id: int, now: dt.datetime) -> int:
    sheets = await ScoreSheet.select(ScoreSheet.id).where(
        (ScoreSheet.juror == juror_id)
        & (ScoreSheet.nomination == nomination_id)
        & (ScoreSheet.status != SheetStatus.VOID.value)
    )
    if sheets:
        await ScoreSheet.update({ScoreSheet.status: SheetStatus.VOID.value, ScoreSheet.updated_at: now}).where(
            ScoreSheet.id.is_in([s["id"] for s in sheets])
        )
    return len(sheets)


class DetectionClosed(DomainError):
    message = N_("Conflicts are detected only until scoring closes.")


async def detect(edition_id: int, now: dt.datetime | None = None) -> int:
    """Record new potential conflicts for every juror and nomination; the number found.

    Only until scoring closes: a detection voids the juror's sheet, and after that the
    scores are what the jury deliberates on.
    """
    if (await get_edition(edition_id)).state not in DETECTION_STATES:
        raise DetectionClosed()
    now = now or utcnow()
    visible = await visible_rows(edition_id)
    # A duplicate merged into a dossier brings its own nominator: check it against the dossier.
    merged = await Nomination.select(
        Nomination.merged_into.as_alias("id"),
        Nomination.nominee_name,
        Nomination.nominee_email,
        Nomination.nominator_name,
        Nomination.nominator_email,
        Nomination.nominator_organisation,
    ).where(Nomination.merged_into.is_in([int(str(r["id"])) for r in visible] or [0]))
    facts = [
        NomineeFacts(
            nomination_id=int(str(r["id"])),
            nominee_name=str(r["nominee_name"]),
            nominee_email=str(r["nominee_email"]),
            nominator_name=str(r["nominator_name"]),
            nominator_email=str(r["nominator_email"]),
            nominator_organisation=str(r["nominator_organisation"]),
        )
        for r in [*visible, *merged]
    ]
    created = 0
    async with write_transaction():
        known = {
            (r["juror"], r["nomination"])
            for r in await DetectedConflict.select(DetectedConflict.juror, DetectedConflict.nomination).where(
                DetectedConflict.edition == edition_id
            )
        }
        for juror in await members(edition_id):
            for fact in facts:
                if (juror.user_id, fact.nomination_id) in known:
                    continue
                if found := evidence(juror, fact):
                    await DetectedConflict(
                        edition=edition_id,
                        juror=juror.user_id,
                        nomination=fact.nomination_id,
                        evidence=encode(found),
                        status=DetectionStatus.PENDING.value,
                        detected_at=now,
                    ).save()
                    await void_sheets(juror.user_id, fact.nomination_id, now)
                    known.add((juror.user_id, fact.nomination_id))
                    created += 1
        if created:
            await audit.record(
                "conflict.detected", actor_id=None, object_type="edition", object_id=edition_id, data={"count": created}
            )
    return created


# A detection in these states blocks the juror (the matrix's rule, ``Cell.conflicted``).
_BLOCKING = frozenset({DetectionStatus.PENDING.value, DetectionStatus.CONFIRMED.value})


@dataclass(frozen=True)
class Cell:
    """One juror × nomination: the declaration and the detection, if any."""

    answered: bool
    declared_kind: str
    pinned: bool
    detection_id: int | None
    detection_status: str
    evidence: tuple[Evidence, ...]

    @property
    def conflicted(self) -> bool:
        return bool(self.declared_kind) or self.detection_status in _BLOCKING

    @property
    def awaits_answer(self) -> bool:
        """The juror still has to declare here (a confirmed detection needs no answer)."""
        return not self.answered and self.detection_status != DetectionStatus.CONFIRMED.value


@dataclass(frozen=True)
class Matrix:
    jurors: tuple[Juror, ...]
    nominations: tuple[tuple[int, str, str], ...]  # id, nominee name, category
    cells: dict[tuple[int, int], Cell]  # (juror id, nomination id)

    def cell(self, juror_id: int, nomination_id: int) -> Cell:
        return self.cells[(juror_id, nomination_id)]


async def matrix(edition_id: int) -> Matrix:
    """Jurors × nominations with the source and kind of every conflict (clerk and chair)."""
    jurors = tuple(await members(edition_id))
    rows = await visible_rows(edition_id)
    declarations = {
        (r["juror"], r["nomination"]): r
        for r in await ConflictDeclaration.select(
            ConflictDeclaration.juror,
            ConflictDeclaration.nomination,
            ConflictDeclaration.conflicted,
            ConflictDeclaration.kind,
            ConflictDeclaration.pinned,
        ).where(ConflictDeclaration.edition == edition_id)
    }
    detections = {
        (r["juror"], r["nomination"]): r
        for r in await DetectedConflict.select(
            DetectedConflict.id,
            DetectedConflict.juror,
            DetectedConflict.nomination,
            DetectedConflict.status,
            DetectedConflict.evidence,
        ).where(DetectedConflict.edition == edition_id)
    }
    # Most cells are alike (answered, no conflict, nothing detected): equal cells are shared.
    alike: dict[tuple[bool, str, bool, int | None, str, tuple[Evidence, ...]], Cell] = {}
    cells: dict[tuple[int, int], Cell] = {}
    ids = [int(str(row["id"])) for row in rows]
    for juror in jurors:
        for nomination_id in ids:
            key = (juror.user_id, nomination_id)
            declared, detected = declarations.get(key), detections.get(key)
            fields = (
                declared is not None,
                str(declared["kind"]) if declared and declared["conflicted"] else "",
                bool(declared and declared["pinned"]),
                detected["id"] if detected else None,
                str(detected["status"]) if detected else "",
                decode(str(detected["evidence"])) if detected else (),
            )
            cell = alike.get(fields)
            if cell is None:
                cell = alike[fields] = Cell(*fields)
            cells[key] = cell
    return Matrix(
        jurors=jurors,
        nominations=tuple((int(str(r["id"])), str(r["nominee_name"]), str(r["category"])) for r in rows),
        cells=cells,
    )


async def conflicted_jurors(edition_id: int, nomination_id: int) -> set[int]:
    """The jurors the matrix marks conflicted on one nomination before the jury, reading only its rows.

    Equal to ``{j for (j, n) in conflicted_pairs(await matrix(edition_id)) if n == nomination_id}``
    for a nomination the jury sees: members only; a declared conflict with its kind, or a
    pending or confirmed detection (two queries).
    """
    jury = JuryMember.select(JuryMember.user).where(JuryMember.edition == edition_id)
    declared = await ConflictDeclaration.select(ConflictDeclaration.juror).where(
        (ConflictDeclaration.edition == edition_id)
        & (ConflictDeclaration.nomination == nomination_id)
        & (ConflictDeclaration.conflicted == True)  # noqa: E712 - a column expression
        & (ConflictDeclaration.kind != "")
        & ConflictDeclaration.juror.is_in(jury)
    )
    detected = await DetectedConflict.select(DetectedConflict.juror).where(
        (DetectedConflict.edition == edition_id)
        & (DetectedConflict.nomination == nomination_id)
        & DetectedConflict.status.is_in(sorted(_BLOCKING))
        & DetectedConflict.juror.is_in(jury)
    )
    return {int(r["juror"]) for r in [*declared, *detected]}


def excluded(matrix_: Matrix, nomination_id: int) -> list[Juror]:
    """The jurors conflicted on one nomination (listed in results and minutes)."""
    return [j for j in matrix_.jurors if matrix_.cell(j.user_id, nomination_id).conflicted]


def conflicted_pairs(matrix_: Matrix) -> set[tuple[int, int]]:
    return {key for key, cell in matrix_.cells.items() if cell.conflicted}


@dataclass(frozen=True)
class Exclusions:
    """The matrix's conflicted cells only: what the results need, without the whole matrix."""

    jurors: tuple[Juror, ...]
    pairs: frozenset[tuple[int, int]]  # (juror id, nomination id), as ``conflicted_pairs``

    def excluded(self, nomination_id: int) -> list[Juror]:
        """As ``excluded(matrix, nomination_id)``."""
        return [j for j in self.jurors if (j.user_id, nomination_id) in self.pairs]


async def exclusions(edition_id: int) -> Exclusions:
    """The edition's jury and ``conflicted_pairs(await matrix(edition_id))``, reading only conflicts.

    Four queries (the jury, the nominations before it, the conflicted declarations, the
    blocking detections) whose rows do not grow with the jurors' answers of no conflict.
    """
    jurors = tuple(await members(edition_id))
    visible = {
        int(r["id"])
        for r in await Nomination.select(Nomination.id).where(
            (Nomination.edition == edition_id) & Nomination.state.is_in([s.value for s in JURY_VISIBLE])
        )
    }
    # (juror, nomination) is unique in both tables: a pair's one row decides, as in the matrix.
    declared = await ConflictDeclaration.select(ConflictDeclaration.juror, ConflictDeclaration.nomination).where(
        (ConflictDeclaration.edition == edition_id)
        & (ConflictDeclaration.conflicted == True)  # noqa: E712 - a column expression
        & (ConflictDeclaration.kind != "")
    )
    detected = await DetectedConflict.select(DetectedConflict.juror, DetectedConflict.nomination).where(
        (DetectedConflict.edition == edition_id) & DetectedConflict.status.is_in(sorted(_BLOCKING))
    )
    member_ids = {j.user_id for j in jurors}
    pairs = frozenset(
        (int(r["juror"]), int(r["nomination"]))
        for r in [*declared, *detected]
        if r["juror"] in member_ids and r["nomination"] in visible
    )
    return Exclusions(jurors=jurors, pairs=pairs)
