"""The approving body's decision on the jury's recommendation, recorded by a clerk.

The body (a council by resolution, or a mayor by order) may approve fewer
nominations than recommended or change a distinction; every difference from the
recommendation needs a reason. Recording the decision approves the edition in one
transaction: the decision, its signed PDF, each nomination's outcome, the laureates' records
(not public until publication) and the audit entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from ambassador import files
from ambassador.db import unique_or, utcnow, write_transaction
from ambassador.domain import audit, decision_checks, editions, uploads
from ambassador.domain.consequences import Consequences, check
from ambassador.domain.editions import EditionView, get_edition
from ambassador.domain.laureate_import import free_slug
from ambassador.domain.nominations import MAX_ATTACHMENT_BYTES, MB, Upload
from ambassador.enums import ApprovingBody, Distinction, EditionState, NominationState
from ambassador.errors import N_, InvalidInput, Message, NotAllowed, too_long
from ambassador.i18n import TIMEZONE
from ambassador.tables import Decision, DecisionItem, Laureate, Nomination, Proposal
from ambassador.text import clean_line, clean_text, fold

MAX_NUMBER = 60
MAX_REASON = 2000
MAX_VOTES = 1000


@dataclass(frozen=True)
class Recommended:
    """A nomination the jury recommended, with the distinction it was recommended for."""

    nomination_id: int
    reference: str
    nominee_name: str
    category: str
    distinction: Distinction


@dataclass(frozen=True)
class Outcome:
    """The decision on one recommended nomination: a distinction, or None (not approved)."""

    distinction: Distinction | None
    reason: str = ""


@dataclass(frozen=True)
class DecisionData:
    kind: ApprovingBody
    number: str
    decided_on: dt.date | None
    document: Upload | None
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    votes_for: int | None = None
    votes_against: int | None = None
    votes_abstaining: int | None = None
    not_voting: str = ""


async def recommended(edition_id: int) -> list[Recommended]:
    """The jury's recommendation: passed proposals of nominations now recommended."""
    rows = (
        await Proposal.select(
            Proposal.nomination,
            Proposal.distinction,
            Proposal.nomination.reference,
            Proposal.nomination.nominee_name,
            Proposal.nomination.category,
        )
        .where((Proposal.edition == edition_id) & (Proposal.nomination.state == NominationState.RECOMMENDED.value))
        .order_by(Proposal.nomination.category, Proposal.distinction, Proposal.nomination.number)
    )
    return [
        Recommended(
            nomination_id=r["nomination"],
            reference=r["nomination.reference"],
            nominee_name=r["nomination.nominee_name"],
            category=r["nomination.category"],
            distinction=Distinction(r["distinction"]),
        )
        for r in rows
    ]


def _limit(edition: EditionView, category: str, distinction: Distinction) -> int:
    """The category's quota of the distinction; a code the edition does not have gives none."""
    row = edition.category(category)
    return row.quota(distinction) if row else 0


def _check(edition: EditionView, data: DecisionData, listed: list[Recommended], today: dt.date) -> dict[str, str]:
    """Field name → msgid of every problem (outcome fields are named ``outcome_<id>``)."""
    errors = _facts_errors(data, today)
    errors.update(_outcome_errors(edition, data, listed))
    return errors


def _facts_errors(data: DecisionData, today: dt.date) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.number or len(data.number) > MAX_NUMBER:
        errors["number"] = N_("Give the number of the resolution or order, like XLV/1234/23.")
    if data.decided_on is None or data.decided_on > today:
        errors["decided_on"] = N_("Give the date of the decision; it cannot be in the future.")
    for name in ("votes_for", "votes_against", "votes_abstaining"):
        value = getattr(data, name)
        if value is not None and not 0 <= value <= MAX_VOTES:
            errors[name] = Message(
                N_("Give a number of votes from 0 to %(limit)d, or leave it empty."), limit=MAX_VOTES
            )
    if len(data.not_voting) > MAX_REASON:
        errors["not_voting"] = too_long(MAX_REASON)
    if data.document is None or files.sniff(data.document.data) != files.PDF:
        errors["document"] = N_("Attach the signed decision as a PDF file.")
    elif len(data.document.data) > MAX_ATTACHMENT_BYTES:
        errors["document"] = Message(N_("Each file may have at most %(limit)d MB."), limit=MAX_ATTACHMENT_BYTES // MB)
    return errors


def _outcome_errors(edition: EditionView, data: DecisionData, listed: list[Recommended]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for item in listed:
        outcome = data.outcomes.get(item.nomination_id)
        key = f"outcome_{item.nomination_id}"
        if outcome is None:
            errors[key] = N_("Say what the decision says of this nomination.")
        elif outcome.distinction != item.distinction and not outcome.reason:
            errors[key] = N_("Give the reason for the difference from the jury's recommendation.")
        elif len(outcome.reason) > MAX_REASON:
            errors[key] = too_long(MAX_REASON)
    given = [(i.category, o.distinction) for i in listed if (o := data.outcomes.get(i.nomination_id)) and o.distinction]
    for category, distinction in set(given):
        if given.count((category, distinction)) > _limit(edition, category, distinction):
            errors["outcomes"] = N_("The decision gives more distinctions than the edition has.")
    return errors


def _cleaned(data: DecisionData) -> DecisionData:
    return DecisionData(
        kind=data.kind,
        number=clean_line(data.number),
        decided_on=data.decided_on,
        document=data.document,
        outcomes={k: Outcome(v.distinction, clean_text(v.reason)) for k, v in data.outcomes.items()},
        votes_for=data.votes_for,
        votes_against=data.votes_against,
        votes_abstaining=data.votes_abstaining,
        not_voting=clean_text(data.not_voting),
    )


async def _checked(edition_id: int, data: DecisionData, now: dt.datetime) -> tuple[EditionView, list[Recommended]]:
    edition = await get_edition(edition_id)
    if edition.state != EditionState.RECOMMENDED:
        raise NotAllowed(N_("A decision is recorded once the jury's recommendation is signed."))
    listed = await recommended(edition_id)
    if errors := _check(edition, data, listed, now.astimezone(TIMEZONE).date()):
        raise InvalidInput(errors)
    return edition, listed


async def preview(*, edition_id: int, data: DecisionData, now: dt.datetime | None = None) -> Consequences:
    """What recording ``data`` would do (the confirmation page); field problems raise ``InvalidInput``."""
    data = _cleaned(data)
    edition, listed = await _checked(edition_id, data, now or utcnow())
    return decision_checks.consequences(edition, data, listed)


async def record_decision(
    *,
    actor_id: int,
    edition_id: int,
    data: DecisionData,
    acknowledged: bool = False,
    now: dt.datetime | None = None,
    rules: uploads.UploadRules | None = None,
) -> EditionView:
    """Record the approving body's decision and approve the edition.

    The signed PDF is scanned before anything is written (``rules`` None: no scanner). It is
    not counted against the attachments' quota: one staff upload per edition. The warnings of
    :func:`preview` (the document's number) must have been ``acknowledged``.
    """
    now = now or utcnow()
    if data.document is not None:
        name = files.safe_filename(data.document.filename, files.PDF)
        problem = await uploads.scan([(name, data.document.data)], rules or uploads.DEVELOPMENT)
        if problem:
            raise InvalidInput({"document": problem})
    data = _cleaned(data)
    async with unique_or(NotAllowed(N_("A decision is already recorded for this edition."))), write_transaction():
        edition, listed = await _checked(edition_id, data, now)
        found = decision_checks.consequences(edition, data, listed)
        check(found, acknowledged)
        assert data.document is not None and data.decided_on is not None
        decision = Decision(
            edition=edition_id,
            kind=data.kind.value,
            number=data.number,
            decided_on=data.decided_on,
            votes_for=data.votes_for,
            votes_against=data.votes_against,
            votes_abstaining=data.votes_abstaining,
            not_voting=data.not_voting,
            document_name=files.safe_filename(data.document.filename, files.PDF),
            document=data.document.data,
            document_sha256=hashlib.sha256(data.document.data).hexdigest(),
            recorded_by=actor_id,
            recorded_at=now,
        )
        await decision.save()
        for item in listed:
            outcome = data.outcomes[item.nomination_id]
            await DecisionItem(
                decision=decision.id,
                nomination=item.nomination_id,
                recommended=item.distinction.value,
                distinction=outcome.distinction.value if outcome.distinction else "",
                reason=outcome.reason,
            ).save()
            state = NominationState.APPROVED if outcome.distinction else NominationState.NOT_APPROVED
            if outcome.distinction:
                # The record exists from now on, so the laureate can check it before publication.
                await Laureate(
                    edition=edition_id,
                    nomination=item.nomination_id,
                    slug=await free_slug(edition.activity_year, item.nominee_name),
                    name=item.nominee_name,
                    name_key=fold(item.nominee_name),
                    category=item.category,
                    distinction=outcome.distinction.value,
                    created_at=now,
                ).save()
            await Nomination.update({Nomination.state: state.value, Nomination.updated_at: now}).where(
                Nomination.id == item.nomination_id
            )
        await audit.record(
            "decision.recorded",
            actor_id=actor_id,
            object_type="edition",
            object_id=edition_id,
            data={
                "kind": data.kind.value,
                "number": data.number,
                "decided_on": data.decided_on.isoformat(),
                "document_sha256": hashlib.sha256(data.document.data).hexdigest(),
                "acknowledged": [str(w) for w in found.warnings],
                "outcomes": {
                    i.reference: (data.outcomes[i.nomination_id].distinction or "not approved") for i in listed
                },
            },
        )
        return await editions.advance(
            actor_id=actor_id, edition_id=edition_id, target=EditionState.APPROVED, now=now, owned_step=True
        )


@dataclass(frozen=True)
class RecordedOutcome:
    """What the recorded decision says of one recommended nomination (None: not approved)."""

    nomination_id: int
    reference: str
    nominee_name: str
    category: str
    recommended: Distinction
    distinction: Distinction | None
    reason: str


@dataclass(frozen=True)
class RecordedDecision:
    """The approving body's decision as recorded; ``document`` holds the PDF only when asked for."""

    edition_id: int
    kind: ApprovingBody
    number: str
    decided_on: dt.date
    votes_for: int | None
    votes_against: int | None
    votes_abstaining: int | None
    not_voting: str
    document_name: str
    document_sha256: str
    recorded_by: int
    recorded_by_name: str
    recorded_at: dt.datetime
    outcomes: tuple[RecordedOutcome, ...]
    document: bytes = field(default=b"", repr=False)


async def recorded(edition_id: int, *, with_document: bool = False) -> RecordedDecision | None:
    """The decision recorded for the edition, or None; the signed PDF's bytes only ``with_document``."""
    columns = [
        Decision.id,
        Decision.kind,
        Decision.number,
        Decision.decided_on,
        Decision.votes_for,
        Decision.votes_against,
        Decision.votes_abstaining,
        Decision.not_voting,
        Decision.document_name,
        Decision.document_sha256,
        Decision.recorded_by,
        Decision.recorded_by.display_name,
        Decision.recorded_at,
    ]
    if with_document:
        columns.append(Decision.document)
    row = await Decision.select(*columns).where(Decision.edition == edition_id).first()
    if row is None:
        return None
    items = (
        await DecisionItem.select(
            DecisionItem.nomination,
            DecisionItem.nomination.reference,
            DecisionItem.nomination.nominee_name,
            DecisionItem.nomination.category,
            DecisionItem.recommended,
            DecisionItem.distinction,
            DecisionItem.reason,
        )
        .where(DecisionItem.decision == row["id"])
        .order_by(DecisionItem.nomination.category, DecisionItem.recommended, DecisionItem.nomination.number)
    )
    return RecordedDecision(
        edition_id=edition_id,
        kind=ApprovingBody(row["kind"]),
        number=row["number"],
        decided_on=row["decided_on"],
        votes_for=row["votes_for"],
        votes_against=row["votes_against"],
        votes_abstaining=row["votes_abstaining"],
        not_voting=row["not_voting"],
        document_name=row["document_name"],
        document_sha256=row["document_sha256"],
        recorded_by=row["recorded_by"],
        recorded_by_name=row["recorded_by.display_name"],
        recorded_at=row["recorded_at"],
        outcomes=tuple(
            RecordedOutcome(
                nomination_id=i["nomination"],
                reference=i["nomination.reference"],
                nominee_name=i["nomination.nominee_name"],
                category=i["nomination.category"],
                recommended=Distinction(i["recommended"]),
                distinction=Distinction(i["distinction"]) if i["distinction"] else None,
                reason=i["reason"],
            )
            for i in items
        ),
        document=bytes(row["document"]) if with_document else b"",
    )
