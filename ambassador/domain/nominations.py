"""The nomination as stored: the form's data, the limits, reading, the private links' tokens, saving.

A nomination is saved ``unconfirmed`` and becomes ``submitted`` when the nominator opens the
emailed link (``submission``). The nominator then holds a private link to view, edit or
withdraw it until the window closes (``nominator_link``); the nominee (or a minor's guardian)
gets a link to consent or refuse (``consent``). Links are random tokens stored only as hashes,
so a guessed reference opens nothing. ``nomination_rules`` cleans and validates what a form
carries; ``nomination_mails`` writes the nominator's and the nominee's mails.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ambassador import files
from ambassador.db import utcnow, write_transaction
from ambassador.domain import audit
from ambassador.domain.editions import EditionView
from ambassador.enums import ConsentState, EditionState, NominationState, NominationTokenPurpose
from ambassador.errors import N_, DomainError, InvalidToken, NotFound
from ambassador.tables import Attachment, Edition, Nomination, NominationToken
from ambassador.text import fold
from ambassador.tokens import new_token, token_hash

# Limits: shown beside the fields and enforced here.
MAX_NAME = 200
MAX_PHONE = 40
MAX_URL = 500
MAX_DESCRIPTION = 4000
MAX_LINKS_TEXT = 2000
MAX_LINKS = 10
MAX_RELATION = 200
MAX_ATTACHMENTS = 5
MB = 1024 * 1024
MAX_ATTACHMENT_BYTES = 10 * MB
CONFIRM_HOURS = 72


class WindowClosed(DomainError):
    message = N_("Nominations for this edition are closed.")


class AttachmentProblem(DomainError):
    """An upload broke a rule; nothing was stored."""


@dataclass(frozen=True)
class Upload:
    """A file as received; the web layer reads at most one byte over the limit."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class NominationData:
    """Everything the form carries; strings as typed, cleaned by ``cleaned``."""

    category: str = ""
    nominee_name: str = ""
    nominee_is_minor: bool = False
    nominee_email: str = ""
    nominee_phone: str = ""
    organisation_kind: str = ""
    organisation_website: str = ""
    registry_number: str = ""
    descriptions: dict[int, str] = field(default_factory=dict)
    links: str = ""
    nominator_name: str = ""
    nominator_email: str = ""
    nominator_phone: str = ""
    nominator_organisation: str = ""
    nominator_relation: str = ""
    privacy_ack: bool = False
    language: str = "pl"


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class NominationView:
    """A nomination as staff and its own nominator may see it (never shown publicly)."""

    id: int
    edition_id: int
    reference: str
    state: NominationState
    category: str  # the code of one of the edition's categories
    nominee_name: str
    nominee_is_minor: bool
    nominee_email: str
    nominee_phone: str
    organisation_kind: str
    organisation_website: str
    registry_number: str
    descriptions: dict[int, str]
    links: str
    nominator_name: str
    nominator_email: str
    nominator_phone: str
    nominator_organisation: str
    nominator_relation: str
    language: str
    consent: ConsentState
    consent_note: str
    consent_at: dt.datetime | None
    formal_reason: str
    merged_into: int | None
    entered_by: int | None
    received_on: dt.date | None
    created_at: dt.datetime
    confirmed_at: dt.datetime | None
    attachments: tuple[AttachmentInfo, ...] = ()

    @property
    def link_list(self) -> list[str]:
        return [line for line in self.links.splitlines() if line.strip()]

    def data(self) -> NominationData:
        names = {f.name for f in fields(NominationData)} - {"privacy_ack"}
        return NominationData(**{n: getattr(self, n) for n in names}, privacy_ack=True)


# --- reading ----------------------------------------------------------------------------


def parse_descriptions(raw: Any) -> dict[int, str]:
    value = json.loads(raw) if isinstance(raw, str) else (raw or {})
    return {int(k): str(v) for k, v in value.items()}


async def attachments_of(nomination_ids: list[int]) -> dict[int, tuple[AttachmentInfo, ...]]:
    if not nomination_ids:
        return {}
    rows = (
        await Attachment.select(
            Attachment.id, Attachment.nomination, Attachment.filename, Attachment.content_type, Attachment.size
        )
        .where(Attachment.nomination.is_in(nomination_ids))
        .order_by(Attachment.id)
    )
    found: dict[int, list[AttachmentInfo]] = {i: [] for i in nomination_ids}
    for r in rows:
        found[r["nomination"]].append(AttachmentInfo(r["id"], r["filename"], r["content_type"], r["size"]))
    return {k: tuple(v) for k, v in found.items()}


def view(row: dict[str, Any], attachments: tuple[AttachmentInfo, ...] = ()) -> NominationView:
    names = {f.name for f in fields(NominationView)} - {
        "state",
        "category",
        "consent",
        "descriptions",
        "attachments",
        "edition_id",
    }
    received = row["received_on"]
    return NominationView(
        **{n: row[n] for n in names if n != "received_on"},
        received_on=received if isinstance(received, dt.date) or received is None else dt.date.fromisoformat(received),
        edition_id=row["edition"],
        state=NominationState(row["state"]),
        category=str(row["category"]),
        consent=ConsentState(row["consent"]),
        descriptions=parse_descriptions(row["descriptions"]),
        attachments=attachments,
    )


async def with_attachments(nomination: NominationView) -> NominationView:
    """The nomination with its files listed (a view read without them has none)."""
    return replace(nomination, attachments=(await attachments_of([nomination.id]))[nomination.id])


async def get_nomination(nomination_id: int) -> NominationView:
    row = await Nomination.select().where(Nomination.id == nomination_id).first()
    if row is None:
        raise NotFound()
    return view(row, (await attachments_of([nomination_id]))[nomination_id])


@dataclass(frozen=True)
class Linked:
    """What a live link opens: the nomination as stored (its files not read), its search key
    (``nominee_key``, which the view leaves out) and the id of the link's token."""

    nomination: NominationView
    nominee_key: str
    token_id: int


async def opened_by_link(token: str, purpose: NominationTokenPurpose, now: dt.datetime) -> Linked:
    """The nomination a live token of this purpose points to (InvalidToken otherwise)."""
    found = (
        await NominationToken.select(NominationToken.id, NominationToken.nomination)
        .where(
            (NominationToken.token_hash == token_hash(token))
            & (NominationToken.purpose == purpose.value)
            & NominationToken.used_at.is_null()
            & (NominationToken.expires_at.is_null() | (NominationToken.expires_at > now))
        )
        .first()
    )
    if found is None:
        raise InvalidToken()
    row = await Nomination.select().where(Nomination.id == found["nomination"]).first()
    if row is None or row["erased_at"] is not None:
        raise InvalidToken()
    return Linked(view(row), row["nominee_key"], found["id"])


async def attachment_content(nomination_id: int, attachment_id: int) -> tuple[AttachmentInfo, bytes]:
    """A file of the given nomination (the caller has checked access to the nomination)."""
    row = (
        await Attachment.select()
        .where((Attachment.id == attachment_id) & (Attachment.nomination == nomination_id))
        .first()
    )
    if row is None:
        raise NotFound()
    info = AttachmentInfo(row["id"], row["filename"], row["content_type"], row["size"])
    return info, bytes(row["content"])


async def issue_token(
    nomination_id: int, purpose: NominationTokenPurpose, expires_at: dt.datetime | None, token: str | None = None
) -> str:
    token = token or new_token()
    await NominationToken(
        nomination=nomination_id, purpose=purpose.value, token_hash=token_hash(token), expires_at=expires_at
    ).save()
    return token


async def _next_reference(edition_id: int, year: int, window_at: dt.datetime | None) -> tuple[int, str]:
    """Numbers per edition without gaps from races: the row update serialises writers.

    With ``window_at``, only while the edition takes public nominations at that moment (its
    state and window read by the same statement): WindowClosed otherwise.
    """
    where: Any = Edition.id == edition_id
    if window_at is not None:
        is_open = Edition.state == EditionState.OPEN.value
        where = where & is_open & (Edition.opens_at <= window_at) & (Edition.closes_at > window_at)
    rows = (
        await Edition.update({Edition.next_number: Edition.next_number + 1}).where(where).returning(Edition.next_number)
    )
    if not rows:
        raise WindowClosed()
    number = int(rows[0]["next_number"]) - 1
    return number, f"{year}/{number:04d}"


async def insert_nomination(
    *,
    edition: EditionView,
    data: NominationData,
    uploads: list[tuple[Upload, str]],
    submission_key: str,
    state: NominationState,
    now: dt.datetime,
    entered_by: int | None = None,
    received_on: dt.date | None = None,
    public_window: bool = False,
) -> NominationView:
    """Insert with the next reference; ``public_window``: only while the public form is open
    at ``now`` (WindowClosed otherwise)."""
    window_at = now if public_window else None
    number, reference = await _next_reference(edition.id, edition.activity_year, window_at)
    row = Nomination(
        edition=edition.id,
        number=number,
        reference=reference,
        state=state.value,
        category=data.category,
        nominee_name=data.nominee_name,
        nominee_key=fold(data.nominee_name)[:200],
        nominee_is_minor=data.nominee_is_minor,
        nominee_email=data.nominee_email,
        nominee_phone=data.nominee_phone,
        organisation_kind=data.organisation_kind,
        organisation_website=data.organisation_website,
        registry_number=data.registry_number,
        descriptions=json.dumps({str(k): v for k, v in data.descriptions.items() if v}, ensure_ascii=False),
        links=data.links,
        nominator_name=data.nominator_name,
        nominator_email=data.nominator_email,
        nominator_phone=data.nominator_phone,
        nominator_organisation=data.nominator_organisation,
        nominator_relation=data.nominator_relation,
        language=data.language,
        submission_key=submission_key,
        entered_by=entered_by,
        received_on=received_on,
        consent=ConsentState.PENDING.value,
        created_at=now,
        updated_at=now,
        confirmed_at=now if state == NominationState.SUBMITTED else None,
    )
    await row.save()
    return view(row.to_dict(), await store_uploads(row.id, uploads, now))


async def store_uploads(
    nomination_id: int, uploads: list[tuple[Upload, str]], now: dt.datetime
) -> tuple[AttachmentInfo, ...]:
    """Save the accepted files of a nomination; what was stored."""
    stored = []
    for upload, content_type in uploads:
        attachment = Attachment(
            nomination=nomination_id,
            filename=files.safe_filename(upload.filename, content_type),
            content_type=content_type,
            size=len(upload.data),
            sha256=hashlib.sha256(upload.data).hexdigest(),
            content=upload.data,
            created_at=now,
        )
        await attachment.save()
        stored.append(AttachmentInfo(attachment.id, attachment.filename, attachment.content_type, attachment.size))
    return tuple(stored)


# --- housekeeping -----------------------------------------------------------------------


async def erase_rows(nomination_ids: list[int]) -> None:
    """Delete nominations with their tokens and files (inside the caller's transaction)."""
    if not nomination_ids:
        return
    await NominationToken.delete().where(NominationToken.nomination.is_in(nomination_ids))
    await Attachment.delete().where(Attachment.nomination.is_in(nomination_ids))
    await Nomination.delete().where(Nomination.id.is_in(nomination_ids))


async def expired_unconfirmed(now: dt.datetime | None = None) -> list[int]:
    """Unconfirmed nominations whose confirmation link has run out."""
    cutoff = (now or utcnow()) - dt.timedelta(hours=CONFIRM_HOURS)
    rows = await Nomination.select(Nomination.id).where(
        (Nomination.state == NominationState.UNCONFIRMED.value) & (Nomination.created_at < cutoff)
    )
    return [r["id"] for r in rows]


async def erase_expired_unconfirmed(now: dt.datetime | None = None) -> int:
    """Unconfirmed nominations whose confirmation link has expired are erased."""
    async with write_transaction():
        ids = await expired_unconfirmed(now)
        await erase_rows(ids)
        if ids:
            await audit.record(
                "nomination.unconfirmed_erased",
                actor_id=None,
                object_type="nomination",
                object_id="*",
                data={"count": len(ids), "ids": ids},
            )
    return len(ids)
