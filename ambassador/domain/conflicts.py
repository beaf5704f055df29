"""Conflicts of interest: declared by jurors, detected automatically, confirmed or dismissed.

A juror is conflicted on a nomination when they declared it, or when a detection is pending
or confirmed (a false alarm blocks until a clerk dismisses it: the safe default). Every jury
query asks ``conflicted_ids`` first and answers NotFound for a conflicted nomination, so its
existence is not confirmed. Before declaring for every nomination, a juror opens nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from ambassador.db import utcnow, write_transaction
from ambassador.domain import audit
from ambassador.domain.editions import get_edition
from ambassador.domain.jury import Juror, members, require_member
from ambassador.enums import ConflictKind, DetectionStatus, EditionState, NominationState, SheetStatus
from ambassador.errors import N_, DomainError, InvalidInput, NotAllowed, NotFound
from ambassador.tables import ConflictDeclaration, DetectedConflict, JuryMember, Nomination, ScoreSheet
from ambassador.text import clean_text, fold

MAX_REASON = 2000
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
WEBMAIL = frozenset(
    {
        "gmail.com", "googlemail.com", "wp.pl", "onet.pl", "onet.eu", "op.pl", "o2.pl", "interia.pl",
        "interia.eu", "poczta.fm", "gazeta.pl", "tlen.pl", "vp.pl", "outlook.com", "hotmail.com",
        "live.com", "msn.com", "yahoo.com", "icloud.com", "me.com", "aol.com", "proton.me",
        "protonmail.com", "gmx.com", "gmx.de", "gmx.net", "ukr.net", "i.ua", "meta.ua", "yandex.ru",
        "mail.ru", "zoho.com",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Listed:
    """What a juror sees before declaring: the nominee's name and category only."""

    nomination_id: int
    nominee_name: str
    category: str
    answered: bool
    conflicted: bool
    kind: str
    pinned: bool


@dataclass(frozen=True)
class NomineeFacts:
    """The fields detection reads (never shown to the juror)."""

    nomination_id: int
    nominee_name: str
    nominee_email: str
    nominator_name: str
    nominator_email: str
    nominator_organisation: str


async def _visible_rows(edition_id: int) -> list[dict[str, object]]:
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


async def declaration_list(edition_id: int, juror_id: int) -> list[Listed]:
    await require_member(edition_id, juror_id)
    answers = {
        r["nomination"]: r
        for r in await ConflictDeclaration.select().where(
            (ConflictDeclaration.edition == edition_id) & (ConflictDeclaration.juror == juror_id)
        )
    }
    listed = []
    for row in await _visible_rows(edition_id):
        answer = answers.get(row["id"])
        listed.append(
            Listed(
                nomination_id=int(str(row["id"])),
                nominee_name=str(row["nominee_name"]),
                category=str(row["category"]),
                answered=answer is not None,
                conflicted=bool(answer and answer["conflicted"]),
                kind=str(answer["kind"]) if answer else "",
                pinned=bool(answer and answer["pinned"]),
            )
        )
    return listed


async def has_declared_all(edition_id: int, juror_id: int) -> bool:
    """The gate: a juror opens no dossier before answering for every nomination."""
    await require_member(edition_id, juror_id)
    return await declared_all(edition_id, juror_id)


async def declared_all(edition_id: int, juror_id: int) -> bool:
    """``has_declared_all`` for a juror already known to sit on the jury, in one query.

    True when no nomination before the jury lacks this juror's answer (as ``declaration_list``).
    """
    answered = ConflictDeclaration.select(ConflictDeclaration.nomination).where(
        (ConflictDeclaration.edition == edition_id) & (ConflictDeclaration.juror == juror_id)
    )
    # select(id).first() rather than exists(): Piccolo's EXISTS lists every column.
    unanswered = (
        await Nomination.select(Nomination.id)
        .where(
            (Nomination.edition == edition_id)
            & Nomination.state.is_in([s.value for s in JURY_VISIBLE])
            & Nomination.id.not_in(answered)
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


# A juror may take back a declared conflict only while scores can still change.
WITHDRAWABLE_IN = frozenset({EditionState.FORMAL_CHECK, EditionState.JURY_SCORING})


async def declare(
    *,
    juror_id: int,
    edition_id: int,
    nomination_id: int,
    conflicted: bool,
    kind: str = "",
    reason: str = "",
    now: dt.datetime | None = None,
) -> None:
    """Store a juror's answer; a conflict voids the juror's scores on that nomination.

    Reads only this nomination and this juror's answer on it, whatever the edition's size.
    """
    reason = clean_text(reason)
    _check_answer(conflicted, kind, reason)
    now = now or utcnow()
    async with write_transaction():
        await require_member(edition_id, juror_id)
        if not await _before_the_jury(edition_id, nomination_id):
            raise NotFound()
        current = (
            await ConflictDeclaration.select()
            .where((ConflictDeclaration.juror == juror_id) & (ConflictDeclaration.nomination == nomination_id))
            .first()
        )
        if current is not None and not conflicted:
            await _check_withdrawal(edition_id, current)
        values: dict[str, Any] = {
            "conflicted": conflicted,
            "kind": kind if conflicted else "",
            "reason": reason if conflicted else "",
            "declared_at": now,
        }
        await _store_answer(edition_id, juror_id, nomination_id, current, values)
        voided = await _void_sheets(juror_id, nomination_id, now) if conflicted else 0
        await audit.record(
            "conflict.declared" if conflicted else "conflict.none_declared",
            actor_id=juror_id,
            object_type="nomination",
            object_id=nomination_id,
            data={"kind": values["kind"], "before": bool(current and current["conflicted"]), "voided_sheets": voided},
        )


def _check_answer(conflicted: bool, kind: str, reason: str) -> None:
    """A conflict names its kind, and describes an "other" one; a reason is short enough."""
    if conflicted and kind not in set(ConflictKind):
        raise InvalidInput({"kind": N_("Choose the kind of conflict.")})
    if conflicted and kind == ConflictKind.OTHER and not reason:
        raise InvalidInput({"reason": N_("Describe the conflict.")})
    if len(reason) > MAX_REASON:
        raise InvalidInput({"reason": N_("At most 2000 characters.")})


async def _before_the_jury(edition_id: int, nomination_id: int) -> bool:
    """Whether this nomination of the edition is one the jury sees (one row at most)."""
    found = (
        await Nomination.select(Nomination.id)
        .where(
            (Nomination.id == nomination_id)
            & (Nomination.edition == edition_id)
            & Nomination.state.is_in([s.value for s in JURY_VISIBLE])
        )
        .first()
    )
    return found is not None


async def _store_answer(
    edition_id: int, juror_id: int, nomination_id: int, current: dict[str, Any] | None, values: dict[str, Any]
) -> None:
    if current is None:
        await ConflictDeclaration(edition=edition_id, juror=juror_id, nomination=nomination_id, **values).save()
    else:
        await ConflictDeclaration.update({getattr(ConflictDeclaration, k): v for k, v in values.items()}).where(
            ConflictDeclaration.id == current["id"]
        )


async def _check_withdrawal(edition_id: int, current: dict[str, Any]) -> None:
    """A declared conflict is taken back only unpinned and while scores can still change."""
    if current["pinned"]:
        raise NotAllowed(N_("A clerk has confirmed this conflict; it cannot be withdrawn."))
    if current["conflicted"] and (await get_edition(edition_id)).state not in WITHDRAWABLE_IN:
        # The jury's votes and the minutes already count this juror as excluded.
        raise NotAllowed(N_("Once scoring is closed, a declared conflict stays."))


async def _void_sheets(juror_id: int, nomination_id: int, now: dt.datetime) -> int:
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


# --- detection -------------------------------------------------------------------------


def _domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower() if "@" in email else ""


def _contains_words(haystack: str, needle: str) -> bool:
    """``needle`` (folded) appears in ``haystack`` (folded) as whole words."""
    if not needle or not haystack:
        return False
    return re.search(rf"(?<![a-z0-9]){re.escape(needle)}(?![a-z0-9])", haystack) is not None


def evidence(juror: Juror, facts: NomineeFacts) -> list[str]:
    """Why this juror may be conflicted on this nomination (empty: nothing found). Pure."""
    found: list[str] = []
    email = juror.email.lower()
    for label, other in (("nominee email", facts.nominee_email), ("nominator email", facts.nominator_email)):
        if other and other.lower() == email:
            found.append(f"same address as the {label}")
        elif other and _domain(other) == _domain(email) and _domain(email) not in WEBMAIL:
            found.append(f"same organisation domain as the {label} ({_domain(email)})")
    fields = {
        "nominee": fold(facts.nominee_name),
        "nominator": fold(facts.nominator_name),
        "nominator's organisation": fold(facts.nominator_organisation),
    }
    name = fold(juror.display_name)
    surname = name.rsplit(" ", 1)[-1] if " " in name else ""
    for label, text in fields.items():
        if " " in name and _contains_words(text, name):
            found.append(f"juror's name in the {label}")
        elif len(surname) >= 4 and _contains_words(text, surname):
            found.append(f"juror's surname in the {label}")
        for organisation in juror.organisations:
            if _contains_words(text, fold(organisation)):
                found.append(f"juror's organisation '{organisation}' in the {label}")
    return found


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
    visible = await _visible_rows(edition_id)
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
                        evidence="; ".join(found),
                        status=DetectionStatus.PENDING.value,
                        detected_at=now,
                    ).save()
                    await _void_sheets(juror.user_id, fact.nomination_id, now)
                    known.add((juror.user_id, fact.nomination_id))
                    created += 1
        if created:
            await audit.record(
                "conflict.detected", actor_id=None, object_type="edition", object_id=edition_id, data={"count": created}
            )
    return created


async def decide_detection(*, actor_id: int, detection_id: int, confirm: bool, reason: str) -> None:
    """A clerk confirms (pins) or dismisses a detected conflict; dismissing needs a reason."""
    reason = clean_text(reason)
    if not confirm and not reason:
        raise InvalidInput({"reason": N_("Give the reason for dismissing it.")})
    if len(reason) > MAX_REASON:
        raise InvalidInput({"reason": N_("At most 2000 characters.")})
    status = DetectionStatus.CONFIRMED if confirm else DetectionStatus.DISMISSED
    async with write_transaction():
        row = await DetectedConflict.select().where(DetectedConflict.id == detection_id).first()
        if row is None:
            raise NotFound()
        await DetectedConflict.update(
            {
                DetectedConflict.status: status.value,
                DetectedConflict.decided_by: actor_id,
                DetectedConflict.decision_reason: reason,
                DetectedConflict.decided_at: utcnow(),
            }
        ).where(DetectedConflict.id == detection_id)
        if confirm:
            # Confirming after a dismissal: the juror may have scored meanwhile.
            await _void_sheets(row["juror"], row["nomination"], utcnow())
        await audit.record(
            f"conflict.detection_{status.value}",
            actor_id=actor_id,
            object_type="nomination",
            object_id=row["nomination"],
            data={"juror": row["juror"], "reason": reason},
        )


async def pin(*, actor_id: int, edition_id: int, juror_id: int, nomination_id: int) -> None:
    """A clerk confirms a declared conflict: the juror can no longer withdraw it."""
    async with write_transaction():
        updated = (
            await ConflictDeclaration.update({ConflictDeclaration.pinned: True})
            .where(
                (ConflictDeclaration.edition == edition_id)
                & (ConflictDeclaration.juror == juror_id)
                & (ConflictDeclaration.nomination == nomination_id)
                & (ConflictDeclaration.conflicted == True)  # noqa: E712 - a column expression
            )
            .returning(ConflictDeclaration.id)
        )
        if not updated:
            raise NotFound()
        await audit.record(
            "conflict.pinned",
            actor_id=actor_id,
            object_type="nomination",
            object_id=nomination_id,
            data={"juror": juror_id},
        )


# --- the matrix ------------------------------------------------------------------------


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
    evidence: str

    @property
    def conflicted(self) -> bool:
        return bool(self.declared_kind) or self.detection_status in _BLOCKING


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
    rows = await _visible_rows(edition_id)
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
    alike: dict[tuple[bool, str, bool, int | None, str, str], Cell] = {}
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
                str(detected["evidence"]) if detected else "",
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
