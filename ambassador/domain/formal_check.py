"""The clerk's formal check: listing, deciding, merging duplicates, paper nominations, export.

Only staff reach these functions (the web layer guards them); unconfirmed nominations are
never listed, because until confirmed they are not a nomination yet.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ambassador.db import utcnow, write_transaction
from ambassador.domain import audit, bulk
from ambassador.domain.editions import EditionView, get_edition
from ambassador.domain.nomination_mails import mail_submitted
from ambassador.domain.nomination_rules import prepare, screen
from ambassador.domain.nominations import (
    NominationData,
    NominationView,
    Upload,
    attachments_of,
    get_nomination,
    insert_nomination,
    view,
)
from ambassador.domain.outbox import queue_mail
from ambassador.domain.submission import Submitted
from ambassador.domain.uploads import UploadRules
from ambassador.domain.window_mails import mail_body
from ambassador.enums import ConsentState, EditionState, NominationState
from ambassador.errors import N_, DomainError, InvalidInput, NotAllowed, NotFound, too_long
from ambassador.i18n import TIMEZONE, translate
from ambassador.tables import Nomination
from ambassador.text import clean_text, fold
from ambassador.tokens import new_token

MAX_REASON = 2000
# The formal check runs while nominations come in and after they close.
CHECK_STATES = {EditionState.OPEN, EditionState.FORMAL_CHECK}
SHORTLIST_STATES = {EditionState.FORMAL_CHECK, EditionState.JURY_SCORING}
DECIDABLE = {NominationState.SUBMITTED, NominationState.ACCEPTED, NominationState.REJECTED}
MERGEABLE = {NominationState.SUBMITTED, NominationState.ACCEPTED, NominationState.REJECTED}


class MergeRefused(DomainError):
    pass


@dataclass(frozen=True)
class Filters:
    state: NominationState | None = None
    category: str | None = None  # a category code
    consent: ConsentState | None = None
    duplicates_only: bool = False


class Match(StrEnum):
    """Why two nominations may be the same nominee (``vocabulary.DUPLICATE_MATCHES``)."""

    NAME = "name"  # the same folded name in the same category
    REGISTRY_NUMBER = "registry_number"
    EMAIL = "email"


@dataclass(frozen=True)
class Duplicate:
    reference: str
    matches: tuple[Match, ...]


@dataclass(frozen=True)
class ListedNomination:
    nomination: NominationView
    duplicates: tuple[Duplicate, ...]  # possible duplicates, by reference, with why

    @property
    def is_duplicate(self) -> bool:
        return bool(self.duplicates)


def duplicate_keys(n: NominationView) -> list[tuple[Match, str]]:
    """What makes two nominations the same nominee: folded name, KRS number, email."""
    keys = [(Match.NAME, f"{n.category}:{_key(n)}")]
    if n.registry_number:
        keys.append((Match.REGISTRY_NUMBER, n.registry_number))
    if n.nominee_email:
        keys.append((Match.EMAIL, n.nominee_email))
    return keys


def _key(n: NominationView) -> str:
    return fold(n.nominee_name)


def find_duplicates(nominations: list[NominationView]) -> dict[int, dict[int, tuple[Match, ...]]]:
    """Nomination id → the others that share a duplicate key, each with the keys it shares
    (merged and withdrawn ones excluded)."""
    groups: dict[tuple[Match, str], set[int]] = defaultdict(set)
    for n in nominations:
        if n.state in (NominationState.MERGED, NominationState.WITHDRAWN):
            continue
        for key in duplicate_keys(n):
            groups[key].add(n.id)
    shared: dict[int, dict[int, set[Match]]] = defaultdict(lambda: defaultdict(set))
    for (match, _value), ids in groups.items():
        for i in ids:
            for other in ids - {i}:
                shared[i][other].add(match)
    order = list(Match)
    return {
        i: {other: tuple(sorted(matches, key=order.index)) for other, matches in others.items()}
        for i, others in shared.items()
    }


async def _edition_nominations(edition_id: int) -> list[NominationView]:
    rows = (
        await Nomination.select()
        .where((Nomination.edition == edition_id) & (Nomination.state != NominationState.UNCONFIRMED.value))
        .order_by(Nomination.number)
    )
    return [view(r) for r in rows]


async def list_nominations(edition_id: int, filters: Filters = Filters()) -> list[ListedNomination]:
    everything = await _edition_nominations(edition_id)
    duplicates = find_duplicates(everything)
    by_id = {n.id: n for n in everything}
    listed = [
        ListedNomination(
            n,
            tuple(
                sorted(
                    (Duplicate(by_id[i].reference, matches) for i, matches in duplicates.get(n.id, {}).items()),
                    key=lambda d: d.reference,
                )
            ),
        )
        for n in everything
        if (filters.state is None or n.state == filters.state)
        and (filters.category is None or n.category == filters.category)
        and (filters.consent is None or n.consent == filters.consent)
    ]
    return [item for item in listed if item.is_duplicate or not filters.duplicates_only]


@dataclass(frozen=True)
class Dossier:
    """One nomination with every nomination merged into it and its possible duplicates."""

    nomination: NominationView
    edition: EditionView
    merged: tuple[NominationView, ...]
    duplicates: tuple[NominationView, ...]
    matches: dict[int, tuple[Match, ...]]  # duplicate's id → why it may be one


async def dossier(nomination_id: int) -> Dossier:
    nomination = await get_nomination(nomination_id)
    if nomination.state == NominationState.UNCONFIRMED:
        raise NotFound()
    merged_rows = await Nomination.select().where(Nomination.merged_into == nomination_id).order_by(Nomination.number)
    files = await attachments_of([r["id"] for r in merged_rows])
    everything = await _edition_nominations(nomination.edition_id)
    matches = find_duplicates(everything).get(nomination_id, {})
    return Dossier(
        nomination=nomination,
        edition=await get_edition(nomination.edition_id),
        merged=tuple(view(r, files[r["id"]]) for r in merged_rows),
        duplicates=tuple(n for n in everything if n.id in matches),
        matches=matches,
    )


def _reason(reason: str, required: bool) -> str:
    reason = clean_text(reason)
    if required and not reason:
        raise InvalidInput({"reason": N_("Give the reason; it is sent to the nominator.")})
    if len(reason) > MAX_REASON:
        raise InvalidInput({"reason": too_long(MAX_REASON)})
    return reason


async def _checkable(nomination_id: int, allowed: set[NominationState]) -> NominationView:
    nomination = await get_nomination(nomination_id)
    edition = await get_edition(nomination.edition_id)
    if edition.state not in CHECK_STATES or nomination.state not in allowed:
        raise NotAllowed(N_("This nomination cannot be changed in its current state."))
    return nomination


async def decide(
    *, actor_id: int, nomination_id: int, accept: bool, reason: str, now: dt.datetime | None = None
) -> NominationView:
    """Accept or reject formally; the nominator is told, with the reason, in their language."""
    reason = _reason(reason, required=not accept)
    state = NominationState.ACCEPTED if accept else NominationState.REJECTED
    async with write_transaction():
        nomination = await _checkable(nomination_id, DECIDABLE)
        if nomination.state == state and nomination.formal_reason == reason:
            return nomination  # a repeated click: nothing changes, nobody is mailed twice
        await Nomination.update(
            {Nomination.state: state.value, Nomination.formal_reason: reason, Nomination.updated_at: now or utcnow()}
        ).where(Nomination.id == nomination_id)
        if nomination.nominator_email:
            language = nomination.language
            outcome = (
                N_("Your nomination %(reference)s of %(nominee)s has passed the formal check.")
                if accept
                else N_("Your nomination %(reference)s of %(nominee)s has not passed the formal check.")
            )
            paragraphs = [translate(language, outcome, reference=nomination.reference, nominee=nomination.nominee_name)]
            if reason:
                paragraphs.append(translate(language, N_("Reason: %(reason)s"), reason=reason))
            await queue_mail(
                to=nomination.nominator_email,
                subject=translate(
                    language, N_("The formal check of your nomination %(reference)s"), reference=nomination.reference
                ),
                body=mail_body(language, nomination.nominator_name, *paragraphs),
                language=language,
            )
        await audit.record(
            f"nomination.{state.value}",
            actor_id=actor_id,
            object_type="nomination",
            object_id=nomination_id,
            data={"from": nomination.state.value, "reason": reason},
        )
    return await get_nomination(nomination_id)


async def shortlist(*, actor_id: int, nomination_id: int) -> NominationView:
    """Put an accepted nomination before the jury; the nominee's consent is required."""
    async with write_transaction():
        nomination = await get_nomination(nomination_id)
        edition = await get_edition(nomination.edition_id)
        if edition.state not in SHORTLIST_STATES:
            raise NotAllowed(N_("Nominations are shortlisted after nominations close, until the jury deliberates."))
        if nomination.state != NominationState.ACCEPTED:
            raise NotAllowed(N_("Only accepted nominations can be shortlisted."))
        if nomination.consent != ConsentState.GIVEN:
            raise NotAllowed(N_("Without the nominee's consent a nomination cannot be shortlisted."))
        await Nomination.update({Nomination.state: NominationState.SHORTLISTED.value}).where(
            Nomination.id == nomination_id
        )
        await audit.record(
            "nomination.shortlisted", actor_id=actor_id, object_type="nomination", object_id=nomination_id
        )
    return await get_nomination(nomination_id)


BULK_ACTIONS = ("accept", "shortlist")


async def decide_many(*, actor_id: int, edition_id: int, nomination_ids: list[int], action: str) -> bulk.Outcome:
    """Accept or shortlist several nominations of one edition, each through ``decide`` or
    ``shortlist`` in its own transaction; ids not of this edition are refused, unnamed."""
    if action not in BULK_ACTIONS:
        raise InvalidInput({"action": N_("Choose to accept or to shortlist.")})
    wanted = bulk.chosen_ids(nomination_ids)
    rows = await Nomination.select(Nomination.id, Nomination.reference).where(
        (Nomination.edition == edition_id)
        & Nomination.id.is_in(wanted)
        & (Nomination.state != NominationState.UNCONFIRMED.value)
    )
    references = {int(r["id"]): str(r["reference"]) for r in rows}

    async def one(nomination_id: int) -> object:
        if action == "accept":
            return await decide(actor_id=actor_id, nomination_id=nomination_id, accept=True, reason="")
        return await shortlist(actor_id=actor_id, nomination_id=nomination_id)

    found = await bulk.apply([(references[i], i) for i in wanted if i in references], one)
    missing = bulk.refused(f"#{i}" for i in wanted if i not in references)
    return bulk.Outcome(found.done, (*found.failed, *missing))


async def merge(*, actor_id: int, target_id: int, duplicate_id: int) -> NominationView:
    """Merge ``duplicate`` into ``target``: it keeps its texts and files, shown in the dossier."""
    if target_id == duplicate_id:
        raise MergeRefused(N_("A nomination cannot be merged into itself."))
    async with write_transaction():
        target = await _checkable(target_id, MERGEABLE)
        duplicate = await _checkable(duplicate_id, MERGEABLE)
        if target.edition_id != duplicate.edition_id or target.category != duplicate.category:
            raise MergeRefused(N_("Only nominations of the same edition and category can be merged."))
        if await Nomination.exists().where(Nomination.merged_into == duplicate_id):
            raise MergeRefused(N_("Other nominations are merged into this one. Undo those merges first."))
        await Nomination.update(
            {
                Nomination.state: NominationState.MERGED.value,
                Nomination.state_before_merge: duplicate.state.value,
                Nomination.merged_into: target_id,
                Nomination.updated_at: utcnow(),
            }
        ).where(Nomination.id == duplicate_id)
        await audit.record(
            "nomination.merged",
            actor_id=actor_id,
            object_type="nomination",
            object_id=duplicate_id,
            data={"into": target_id, "into_reference": target.reference, "reference": duplicate.reference},
        )
    return await get_nomination(target_id)


async def unmerge(*, actor_id: int, nomination_id: int) -> NominationView:
    """Undo a merge: the nomination stands on its own again, in the state it had."""
    async with write_transaction():
        nomination = await get_nomination(nomination_id)
        edition = await get_edition(nomination.edition_id)
        if nomination.state != NominationState.MERGED or nomination.merged_into is None:
            raise NotAllowed(N_("This nomination is not merged."))
        if edition.state not in CHECK_STATES:
            raise NotAllowed(N_("This nomination cannot be changed in its current state."))
        row: Any = await Nomination.select(Nomination.state_before_merge).where(Nomination.id == nomination_id).first()
        await Nomination.update(
            {
                Nomination.state: row["state_before_merge"] or NominationState.SUBMITTED.value,
                Nomination.state_before_merge: "",
                Nomination.merged_into: None,
                Nomination.updated_at: utcnow(),
            }
        ).where(Nomination.id == nomination_id)
        await audit.record(
            "nomination.unmerged",
            actor_id=actor_id,
            object_type="nomination",
            object_id=nomination_id,
            data={"from": nomination.merged_into},
        )
    return await get_nomination(nomination_id)


async def enter_paper_nomination(
    *,
    actor_id: int,
    edition_id: int,
    data: NominationData,
    uploads: list[Upload],
    received_on: dt.date | None,
    base_url: str,
    now: dt.datetime | None = None,
    rules: UploadRules | None = None,
) -> Submitted:
    """A nomination received on paper or by post; the postmark date counts for the deadline."""
    now = now or utcnow()
    edition = await get_edition(edition_id)
    data, accepted = prepare(edition, data, uploads, by_clerk=True)
    # The last day on which sending still counted: closing at 00:00 means the day before.
    deadline = (edition.closes_at - dt.timedelta(microseconds=1)).astimezone(TIMEZONE).date()
    opened = edition.opens_at.astimezone(TIMEZONE).date()
    if received_on is None:
        raise InvalidInput({"received_on": N_("Enter the date of receipt or of the postmark.")})
    if received_on > now.astimezone(TIMEZONE).date():
        raise InvalidInput({"received_on": N_("The date cannot be in the future.")})
    if not opened <= received_on <= deadline:
        raise InvalidInput({"received_on": N_("The date is outside the nomination window.")})
    await screen(accepted, rules)
    async with write_transaction():
        edition = await get_edition(edition_id)
        if edition.state not in CHECK_STATES:
            raise NotAllowed(N_("Nominations cannot be entered in this edition's current state."))
        saved = await insert_nomination(
            edition=edition,
            data=data,
            uploads=accepted,
            submission_key=new_token()[:64],
            state=NominationState.SUBMITTED,
            now=now,
            entered_by=actor_id,
            received_on=received_on,
        )
        await mail_submitted(saved, edition, base_url)
        await audit.record(
            "nomination.entered_on_paper",
            actor_id=actor_id,
            object_type="nomination",
            object_id=saved.id,
            data={"reference": saved.reference, "received_on": received_on.isoformat()},
        )
    return Submitted(saved.id, saved.reference, repeated=False)


CSV_HEADER = (
    "reference",
    "state",
    "category",
    "nominee_name",
    "nominee_is_minor",
    "nominee_email",
    "nominee_phone",
    "organisation_kind",
    "organisation_website",
    "registry_number",
    "nominator_name",
    "nominator_email",
    "nominator_phone",
    "nominator_organisation",
    "nominator_relation",
    "language",
    "consent",
    "entered_on_paper",
    "received_on",
    "confirmed_at",
    "merged_into",
    "formal_reason",
    "attachments",
)


def spreadsheet_cell(value: object) -> str:
    """Text as a spreadsheet shows it; formulas are neutralised (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def export_rows(edition_id: int) -> list[list[str]]:
    """The edition's nominations (confirmed ones) as rows for CSV, header first."""
    nominations = await _edition_nominations(edition_id)
    files = await attachments_of([n.id for n in nominations])
    references = {n.id: n.reference for n in nominations}
    rows: list[list[str]] = [list(CSV_HEADER)]
    for n in nominations:
        values: dict[str, object] = {name: getattr(n, name, "") for name in CSV_HEADER}
        values.update(
            state=n.state.value,
            category=n.category,
            consent=n.consent.value,
            nominee_is_minor="yes" if n.nominee_is_minor else "no",
            entered_on_paper="yes" if n.entered_by else "no",
            confirmed_at=n.confirmed_at.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M") if n.confirmed_at else "",
            received_on=n.received_on.isoformat() if n.received_on else "",
            merged_into=references.get(n.merged_into or 0, ""),
            attachments=len(files[n.id]),
        )
        rows.append([spreadsheet_cell(values[name]) for name in CSV_HEADER])
    return rows
