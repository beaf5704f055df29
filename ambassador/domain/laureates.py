"""The laureate's record from the decision to the archive, as the clerk manages it.

The record is written when the decision is recorded, so the laureate can check the public
name and citation by an emailed link before publication. Until the edition is public the
clerk edits freely; afterwards every change is a correction: the replaced version is kept,
the reason is public and the page says "corrected on". A withdrawal keeps the entry with a
public notice instead of deleting it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ambassador.db import utcnow, write_transaction
from ambassador.domain import audit
from ambassador.domain.consequences import Consequences
from ambassador.domain.laureate_import import free_slug
from ambassador.domain.outbox import queue_mail
from ambassador.enums import EditionState
from ambassador.errors import N_, InvalidInput, Message, NotAllowed, NotFound, too_long
from ambassador.i18n import translate
from ambassador.tables import Edition, Laureate, LaureateRevision
from ambassador.text import clean_line, clean_text, fold
from ambassador.tokens import new_token, token_hash

MAX_NAME = 300
MAX_CITATION = 4000
MAX_REASON = 2000
LANGUAGES = ("pl", "en", "uk")


@dataclass(frozen=True)
class LaureateRecord:
    """What the clerk sees of a laureate: the public texts and the confirmation state."""

    id: int
    edition_id: int
    activity_year: int
    slug: str
    name: str
    category: str
    distinction: str
    citation_pl: str
    citation_en: str
    citation_uk: str
    version: int
    public: bool
    corrected_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    withdrawn_reason: str
    confirmation_sent_at: dt.datetime | None
    confirmed_at: dt.datetime | None
    confirmed_name: str
    confirmation_note: str
    reference: str
    has_email: bool

    def citation(self, language: str) -> str:
        return str(getattr(self, f"citation_{language}", ""))


@dataclass(frozen=True)
class RecordData:
    """The public texts a clerk may change."""

    name: str
    citation_pl: str = ""
    citation_en: str = ""
    citation_uk: str = ""


@dataclass(frozen=True)
class Revision:
    """A replaced version and the reason it was corrected."""

    version: int
    name: str
    category: str
    distinction: str
    citation_pl: str
    citation_en: str
    citation_uk: str
    reason: str
    changed_at: dt.datetime


_COLUMNS = (
    Laureate.id,
    Laureate.edition,
    Laureate.edition.activity_year,
    Laureate.edition.state,
    Laureate.edition.published_at,
    Laureate.slug,
    Laureate.name,
    Laureate.category,
    Laureate.distinction,
    Laureate.citation_pl,
    Laureate.citation_en,
    Laureate.citation_uk,
    Laureate.version,
    Laureate.corrected_at,
    Laureate.withdrawn_at,
    Laureate.withdrawn_reason,
    Laureate.confirmation_sent_at,
    Laureate.confirmed_at,
    Laureate.confirmed_name,
    Laureate.confirmation_note,
    Laureate.nomination.reference,
    Laureate.nomination.nominee_email,
)


def is_public(state: str, published_at: dt.datetime | None, now: dt.datetime) -> bool:
    """The archive's rule: published, and the publication moment has passed."""
    return state == EditionState.PUBLISHED.value and published_at is not None and published_at <= now


def _record(row: dict[str, Any], now: dt.datetime) -> LaureateRecord:
    return LaureateRecord(
        id=row["id"],
        edition_id=row["edition"],
        activity_year=row["edition.activity_year"],
        slug=row["slug"],
        name=row["name"],
        category=row["category"],
        distinction=row["distinction"],
        citation_pl=row["citation_pl"],
        citation_en=row["citation_en"],
        citation_uk=row["citation_uk"],
        version=row["version"],
        public=is_public(row["edition.state"], row["edition.published_at"], now),
        corrected_at=row["corrected_at"],
        withdrawn_at=row["withdrawn_at"],
        withdrawn_reason=row["withdrawn_reason"],
        confirmation_sent_at=row["confirmation_sent_at"],
        confirmed_at=row["confirmed_at"],
        confirmed_name=row["confirmed_name"],
        confirmation_note=row["confirmation_note"],
        reference=row["nomination.reference"] or "",
        has_email=bool(row["nomination.nominee_email"]),
    )


async def edition_records(edition_id: int, now: dt.datetime | None = None) -> list[LaureateRecord]:
    """The edition's laureates for the clerk, by category, distinction and name."""
    rows = (
        await Laureate.select(*_COLUMNS)
        .where(Laureate.edition == edition_id)
        .order_by(Laureate.category, Laureate.distinction, Laureate.name_key)
    )
    return [_record(r, now or utcnow()) for r in rows]


async def get_record(laureate_id: int, now: dt.datetime | None = None) -> LaureateRecord:
    row = await Laureate.select(*_COLUMNS).where(Laureate.id == laureate_id).first()
    if row is None:
        raise NotFound()
    return _record(row, now or utcnow())


async def revisions(laureate_id: int) -> list[Revision]:
    """Earlier versions, newest first (staff only: the old texts are not public)."""
    rows = (
        await LaureateRevision.select(
            LaureateRevision.version,
            LaureateRevision.name,
            LaureateRevision.category,
            LaureateRevision.distinction,
            LaureateRevision.citation_pl,
            LaureateRevision.citation_en,
            LaureateRevision.citation_uk,
            LaureateRevision.reason,
            LaureateRevision.changed_at,
        )
        .where(LaureateRevision.laureate == laureate_id)
        .order_by(LaureateRevision.version, ascending=False)
    )
    return [Revision(**r) for r in rows]


def _clean(data: RecordData) -> RecordData:
    return RecordData(
        name=clean_line(data.name),
        citation_pl=clean_text(data.citation_pl),
        citation_en=clean_text(data.citation_en),
        citation_uk=clean_text(data.citation_uk),
    )


def _errors(data: RecordData) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.name:
        errors["name"] = N_("Give the name as it is to be published.")
    elif len(data.name) > MAX_NAME:
        errors["name"] = too_long(MAX_NAME)
    for code in LANGUAGES:
        if len(getattr(data, f"citation_{code}")) > MAX_CITATION:
            errors[f"citation_{code}"] = too_long(MAX_CITATION)
    return errors


def _reason(reason: str, required_message: str) -> str:
    cleaned = clean_text(reason)
    if not cleaned:
        raise InvalidInput({"reason": required_message})
    if len(cleaned) > MAX_REASON:
        raise InvalidInput({"reason": too_long(MAX_REASON)})
    return cleaned


async def edit(
    *, actor_id: int, laureate_id: int, data: RecordData, reason: str = "", now: dt.datetime | None = None
) -> LaureateRecord:
    """Change the public name or citations: freely before publication, as a correction after."""
    now = now or utcnow()
    data = _clean(data)
    if errors := _errors(data):
        raise InvalidInput(errors)
    async with write_transaction():
        record = await get_record(laureate_id, now)
        if record.withdrawn_at is not None:
            raise NotAllowed(N_("A withdrawn entry cannot be changed."))
        old = {"name": record.name, **{f"citation_{c}": record.citation(c) for c in LANGUAGES}}
        new = {"name": data.name, **{f"citation_{c}": getattr(data, f"citation_{c}") for c in LANGUAGES}}
        if old == new:
            return record
        changes: dict[Any, Any] = {getattr(Laureate, key): value for key, value in new.items()}
        changes[Laureate.name_key] = fold(data.name)
        if record.public:
            cleaned = _reason(reason, N_("Give the reason for the correction; it is shown with the entry."))
            await LaureateRevision(
                laureate=laureate_id,
                version=record.version,
                name=record.name,
                category=record.category,
                distinction=record.distinction,
                citation_pl=record.citation_pl,
                citation_en=record.citation_en,
                citation_uk=record.citation_uk,
                reason=cleaned,
                changed_by=actor_id,
                changed_at=now,
            ).save()
            changes.update({Laureate.version: record.version + 1, Laureate.corrected_at: now})
            action, extra = "laureate.corrected", {"reason": cleaned, "version": record.version + 1}
        else:
            if data.name != record.name:
                # Not public yet: the address may still follow the corrected spelling.
                changes[Laureate.slug] = await free_slug(record.activity_year, data.name)
            action, extra = "laureate.edited", {}
        await Laureate.update(changes).where(Laureate.id == laureate_id)
        changed = {key: {"old": old[key], "new": new[key]} for key in new if old[key] != new[key]}
        await audit.record(
            action, actor_id=actor_id, object_type="laureate", object_id=laureate_id, data={**changed, **extra}
        )
        return await get_record(laureate_id, now)


def withdrawal(record: LaureateRecord) -> Consequences:
    """What withdrawing the distinction does (its confirmation page; :func:`withdraw` checks the same)."""
    blocking = []
    if not record.public:
        blocking.append(Message(N_("Only a published entry can be withdrawn.")))
    elif record.withdrawn_at is not None:
        blocking.append(Message(N_("This entry is already withdrawn.")))
    changes = (
        Message(
            N_('%(name)s\'s entry stays in the public archive with the notice "withdrawn", the date and the reason.'),
            name=record.name,
        ),
        Message(N_("The feed, the open data and the page's structured data show the distinction as withdrawn.")),
        Message(N_("The entry can no longer be edited or corrected, and the withdrawal cannot be undone.")),
    )
    return Consequences(None, changes, tuple(blocking), (), 0)


async def withdraw(*, actor_id: int, laureate_id: int, reason: str, now: dt.datetime | None = None) -> LaureateRecord:
    """Withdraw a published distinction; the entry stays with a public notice and the reason."""
    now = now or utcnow()
    cleaned = _reason(reason, N_("Give the reason for the withdrawal; it is shown with the entry."))
    async with write_transaction():
        record = await get_record(laureate_id, now)
        if refused := withdrawal(record).blocking:
            raise NotAllowed(str(refused[0]))
        await Laureate.update({Laureate.withdrawn_at: now, Laureate.withdrawn_reason: cleaned}).where(
            Laureate.id == laureate_id
        )
        await audit.record(
            "laureate.withdrawn",
            actor_id=actor_id,
            object_type="laureate",
            object_id=laureate_id,
            data={"reason": cleaned},
        )
        return await get_record(laureate_id, now)


@dataclass(frozen=True)
class Unfinished:
    """An edition's unwithdrawn laureates whose entry is not ready: names, in the order of the records."""

    citation_missing: tuple[str, ...]  # a citation is empty in some language
    unconfirmed: tuple[str, ...]  # the laureate has not confirmed the entry


async def unfinished(edition_id: int) -> Unfinished:
    """Which laureates miss a citation or a confirmation (the to-do list and publication's warnings)."""
    rows = await (
        Laureate.select(
            Laureate.name, Laureate.citation_pl, Laureate.citation_en, Laureate.citation_uk, Laureate.confirmed_at
        )
        .where((Laureate.edition == edition_id) & Laureate.withdrawn_at.is_null())
        .order_by(Laureate.id)
    )
    return Unfinished(
        citation_missing=tuple(str(r["name"]) for r in rows if not all(r[f"citation_{x}"] for x in LANGUAGES)),
        unconfirmed=tuple(str(r["name"]) for r in rows if r["confirmed_at"] is None),
    )


# --- the laureate's own check before publication --------------------------------------------


async def _editable_edition(edition_id: int, now: dt.datetime) -> None:
    edition = await Edition.select(Edition.state, Edition.published_at).where(Edition.id == edition_id).first()
    if edition is None:
        raise NotFound()
    if edition["state"] not in (EditionState.APPROVED.value, EditionState.PUBLISHED.value) or is_public(
        edition["state"], edition["published_at"], now
    ):
        raise NotAllowed(N_("Laureates confirm their entries between the decision and the publication."))


async def request_confirmations(
    *, actor_id: int, edition_id: int, base_url: str, now: dt.datetime | None = None
) -> int:
    """Mail each laureate not yet confirmed a link to check the public name and citation.

    Only laureates whose citation exists in the language they are written to are asked: a
    check of a citation not written yet would be asked again once it is.
    """
    now = now or utcnow()
    sent = 0
    async with write_transaction():
        await _editable_edition(edition_id, now)
        rows = await Laureate.select(
            Laureate.id,
            Laureate.name,
            Laureate.citation_pl,
            Laureate.citation_en,
            Laureate.citation_uk,
            Laureate.nomination.nominee_email,
            Laureate.nomination.language,
        ).where((Laureate.edition == edition_id) & Laureate.confirmed_at.is_null())
        for row in rows:
            to = row["nomination.nominee_email"]
            language = row["nomination.language"] or "pl"
            if not to or not row.get(f"citation_{language}"):
                continue
            token = new_token()
            sent_at: dict[Any, Any] = {
                Laureate.confirm_token_hash: token_hash(token),
                Laureate.confirmation_sent_at: now,
            }
            await Laureate.update(sent_at).where(Laureate.id == row["id"])
            await queue_mail(
                to=to,
                subject=translate(language, N_("Please check how your distinction will be published")),
                body="\n\n".join(
                    [
                        translate(language, N_("Hello %(name)s,"), name=row["name"]),
                        translate(
                            language,
                            N_(
                                "Congratulations! Before the results are announced, please check the spelling "
                                "of your name and the citation that will be published, and confirm them here:"
                            ),
                        ),
                        f"{base_url}/laureate-check/{token}",
                        translate(language, N_("Please keep the results to yourself until they are announced.")),
                    ]
                ),
                language=language,
            )
            sent += 1
        await audit.record(
            "laureate.confirmation_requested",
            actor_id=actor_id,
            object_type="edition",
            object_id=edition_id,
            data={"mails": sent},
        )
    return sent


async def for_token(token: str, now: dt.datetime | None = None) -> LaureateRecord | None:
    """The record an emailed link points to (whatever the edition's state)."""
    if not token or len(token) > 100:
        return None
    row = await Laureate.select(*_COLUMNS).where(Laureate.confirm_token_hash == token_hash(token)).first()
    return _record(row, now or utcnow()) if row else None


async def confirm(*, token: str, name: str, note: str, now: dt.datetime | None = None) -> LaureateRecord:
    """The laureate confirms the entry, asking for another spelling or a change if needed."""
    now = now or utcnow()
    name, note = clean_line(name), clean_text(note)
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(
            {
                "name": Message(
                    N_("Give your name as it should be published (at most %(limit)d characters)."), limit=MAX_NAME
                )
            }
        )
    if len(note) > MAX_REASON:
        raise InvalidInput({"note": too_long(MAX_REASON)})
    async with write_transaction():
        record = await for_token(token, now)
        if record is None:
            raise NotFound()
        await _editable_edition(record.edition_id, now)
        await Laureate.update(
            {
                Laureate.confirmed_at: now,
                Laureate.confirmed_name: "" if name == record.name else name,
                Laureate.confirmation_note: note,
            }
        ).where(Laureate.id == record.id)
        await audit.record(
            "laureate.confirmed",
            actor_id=None,
            object_type="laureate",
            object_id=record.id,
            data={"name_differs": name != record.name, "note": bool(note)},
        )
        return await get_record(record.id, now)


async def mark_confirmed(
    *, actor_id: int, laureate_id: int, note: str, now: dt.datetime | None = None
) -> LaureateRecord:
    """A confirmation received another way (phone, letter), recorded by the clerk."""
    now = now or utcnow()
    note = clean_text(note)
    if len(note) > MAX_REASON:
        raise InvalidInput({"note": too_long(MAX_REASON)})
    async with write_transaction():
        record = await get_record(laureate_id, now)
        await _editable_edition(record.edition_id, now)
        if record.confirmed_at is not None:
            # The laureate's own confirmation (and note) stays as it is.
            raise NotAllowed(N_("The laureate has already confirmed this entry."))
        await Laureate.update({Laureate.confirmed_at: now, Laureate.confirmation_note: note}).where(
            Laureate.id == laureate_id
        )
        await audit.record(
            "laureate.confirmed", actor_id=actor_id, object_type="laureate", object_id=laureate_id, data={"note": note}
        )
        return await get_record(laureate_id, now)
