"""Retention: personal data of non-laureates is anonymised when an edition's period ends.

The period (``Edition.retention_months``) runs from the close of nominations and applies
once the edition's outcome is final (approved or published). What stays is what statistics
need: reference, edition, category, state and dates. Laureates (and nominations the
approving body approved) are kept, because their record is public by design.

Each run also erases what was only ever kept for a while: unconfirmed nominations whose link
expired, drafts of the form whose edition's window has closed (``drafts``, with their held
files) and held files past their expiry (``held_files``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ambassador.db import utcnow, write_transaction
from ambassador.domain import audit, drafts, held_files
from ambassador.domain.editions import EditionView, list_editions
from ambassador.domain.nominations import erase_expired_unconfirmed, expired_unconfirmed
from ambassador.enums import EditionState, NominationState
from ambassador.tables import Attachment, Nomination, NominationToken

ANONYMISED = "—"
FINAL_STATES = {EditionState.APPROVED, EditionState.PUBLISHED}
KEPT = {NominationState.LAUREATE.value, NominationState.APPROVED.value}


@dataclass(frozen=True)
class EditionRetention:
    label: str
    due_at: dt.datetime
    anonymised: int


@dataclass(frozen=True)
class RetentionReport:
    editions: tuple[EditionRetention, ...]
    unconfirmed_erased: int
    dry_run: bool
    # Attachments of forms never sent, held past their expiry (domain/held_files.py).
    held_files_erased: int = 0
    # Drafts of the form whose edition's window has closed (domain/drafts.py), with their files.
    drafts_erased: int = 0


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day ``months`` later (clamped to the month's last day)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


def due_at(edition: EditionView) -> dt.datetime:
    return add_months(edition.closes_at, edition.retention_months)


async def _pending(edition_id: int) -> list[int]:
    rows = await Nomination.select(Nomination.id).where(
        (Nomination.edition == edition_id)
        & Nomination.erased_at.is_null()
        & Nomination.state.not_in(list(KEPT))
        & (Nomination.state != NominationState.UNCONFIRMED.value)
    )
    return [r["id"] for r in rows]


async def blank(ids: list[int], now: dt.datetime, extra: dict[Any, Any] | None = None) -> None:
    """Blank the personal data of these nominations, delete their links and files (inside the
    caller's transaction, which audits). Also a person's erasure request (subject_erasure)."""
    await NominationToken.delete().where(NominationToken.nomination.is_in(ids))
    await Attachment.delete().where(Attachment.nomination.is_in(ids))
    await Nomination.update(
        {
            Nomination.nominee_name: ANONYMISED,
            Nomination.nominee_key: "",
            Nomination.nominee_email: "",
            Nomination.nominee_phone: "",
            Nomination.organisation_website: "",
            Nomination.registry_number: "",
            Nomination.descriptions: "{}",
            Nomination.links: "",
            Nomination.nominator_name: ANONYMISED,
            Nomination.nominator_email: "",
            Nomination.nominator_phone: "",
            Nomination.nominator_organisation: "",
            Nomination.nominator_relation: "",
            Nomination.consent_note: "",
            Nomination.formal_reason: "",
            Nomination.erased_at: now,
            Nomination.updated_at: now,
            **(extra or {}),
        }
    ).where(Nomination.id.is_in(ids))


async def _anonymise(edition: EditionView, ids: list[int], now: dt.datetime) -> None:
    async with write_transaction():
        await blank(ids, now)
        await audit.record(
            "retention.anonymised",
            actor_id=None,
            object_type="edition",
            object_id=edition.id,
            data={"count": len(ids), "nominations": ids},
        )


async def run(*, now: dt.datetime | None = None, dry_run: bool = False) -> RetentionReport:
    """Anonymise what is due, erase expired unconfirmed nominations and expired held files;
    say what was done."""
    now = now or utcnow()
    done: list[EditionRetention] = []
    for edition in await list_editions():
        if edition.state not in FINAL_STATES or due_at(edition) > now:
            continue
        ids = await _pending(edition.id)
        if not ids:
            continue
        if not dry_run:
            await _anonymise(edition, ids, now)
        done.append(EditionRetention(edition.label, due_at(edition), len(ids)))
    erased = len(await expired_unconfirmed(now)) if dry_run else await erase_expired_unconfirmed(now)
    # Drafts first: they take their held files with them, whatever those files' expiry.
    gone_drafts = len(await drafts.expired(now)) if dry_run else await drafts.erase_expired(now)
    held = await held_files.expired_count(now) if dry_run else await held_files.erase_expired(now)
    return RetentionReport(tuple(done), erased, dry_run, held_files_erased=held, drafts_erased=gone_drafts)
