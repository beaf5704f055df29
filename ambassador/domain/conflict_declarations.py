"""The jurors' declarations of conflicts, and the clerk's decisions on them and on detections.

A conflict declared (or a detection confirmed) voids the juror's score sheets on that
nomination; who is conflicted is read through ``conflicts``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ambassador.db import utcnow, write_transaction
from ambassador.domain import audit, bulk
from ambassador.domain.conflicts import JURY_VISIBLE, visible_rows, void_sheets
from ambassador.domain.editions import get_edition
from ambassador.domain.jury import require_member
from ambassador.enums import ConflictKind, DetectionStatus, EditionState
from ambassador.errors import N_, InvalidInput, NotAllowed, NotFound, too_long
from ambassador.tables import ConflictDeclaration, DetectedConflict, Nomination
from ambassador.text import clean_text

MAX_REASON = 2000


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
    blocked: bool  # a clerk confirmed a detected conflict here: nothing to declare


async def declaration_list(edition_id: int, juror_id: int) -> list[Listed]:
    await require_member(edition_id, juror_id)
    answers = {
        r["nomination"]: r
        for r in await ConflictDeclaration.select().where(
            (ConflictDeclaration.edition == edition_id) & (ConflictDeclaration.juror == juror_id)
        )
    }
    confirmed = {
        r["nomination"]
        for r in await DetectedConflict.select(DetectedConflict.nomination).where(
            (DetectedConflict.edition == edition_id)
            & (DetectedConflict.juror == juror_id)
            & (DetectedConflict.status == DetectionStatus.CONFIRMED.value)
        )
    }
    listed = []
    for row in await visible_rows(edition_id):
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
                blocked=row["id"] in confirmed,
            )
        )
    return listed


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
        voided = await void_sheets(juror_id, nomination_id, now) if conflicted else 0
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
        raise InvalidInput({"reason": too_long(MAX_REASON)})


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


def detection_reason(reason: str, confirm: bool) -> str:
    """The clerk's reason, cleaned; dismissing needs one."""
    reason = clean_text(reason)
    if not confirm and not reason:
        raise InvalidInput({"reason": N_("Give the reason for dismissing it.")})
    if len(reason) > MAX_REASON:
        raise InvalidInput({"reason": too_long(MAX_REASON)})
    return reason


async def decide_detection(*, actor_id: int, detection_id: int, confirm: bool, reason: str) -> None:
    """A clerk confirms (pins) or dismisses a detected conflict; dismissing needs a reason."""
    reason = detection_reason(reason, confirm)
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
            await void_sheets(row["juror"], row["nomination"], utcnow())
        await audit.record(
            f"conflict.detection_{status.value}",
            actor_id=actor_id,
            object_type="nomination",
            object_id=row["nomination"],
            data={"juror": row["juror"], "reason": reason},
        )


async def decide_detections(
    *, actor_id: int, edition_id: int, detection_ids: list[int], confirm: bool, reason: str
) -> bulk.Outcome:
    """Confirm or dismiss several detections of one edition with one shared reason, each
    through ``decide_detection`` in its own transaction; others' ids are refused, unnamed.

    A missing or too long reason refuses the whole submission before anything changes.
    """
    reason = detection_reason(reason, confirm)
    wanted = bulk.chosen_ids(detection_ids)
    rows = await DetectedConflict.select(
        DetectedConflict.id, DetectedConflict.juror.display_name, DetectedConflict.nomination.reference
    ).where((DetectedConflict.edition == edition_id) & DetectedConflict.id.is_in(wanted))
    labels = {int(r["id"]): f"{r['juror.display_name']}, {r['nomination.reference']}" for r in rows}

    async def one(detection_id: int) -> None:
        await decide_detection(actor_id=actor_id, detection_id=detection_id, confirm=confirm, reason=reason)

    found = await bulk.apply([(labels[i], i) for i in wanted if i in labels], one)
    return bulk.Outcome(found.done, (*found.failed, *bulk.refused(f"#{i}" for i in wanted if i not in labels)))


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
