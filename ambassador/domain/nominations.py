"""Nominations: the citizen's path from the public form to a confirmed, editable nomination.

A nomination is saved ``unconfirmed`` and becomes ``submitted`` when the nominator opens the
emailed link. The nominator then holds a private link to view, edit or withdraw it until the
window closes; the nominee (or a minor's guardian) gets a link to consent or refuse. Links
are random tokens stored only as hashes, so a guessed reference opens nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ambassador import files
from ambassador.db import is_unique_violation, utcnow, write_transaction
from ambassador.domain import audit
from ambassador.domain import uploads as upload_rules
from ambassador.domain.accounts import email_error, normalise_email
from ambassador.domain.editions import EditionView, get_edition
from ambassador.domain.outbox import queue_mail
from ambassador.domain.uploads import UploadRules
from ambassador.enums import (
    LANGUAGES,
    Category,
    ConsentState,
    EditionState,
    NominationState,
    NominationTokenPurpose,
    OrganisationKind,
)
from ambassador.errors import N_, DomainError, InvalidInput, InvalidToken, Message, NotAllowed, NotFound
from ambassador.i18n import TIMEZONE, translate
from ambassador.tables import Attachment, Edition, Nomination, NominationToken
from ambassador.text import clean_line, clean_text, fold
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
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
CONFIRM_HOURS = 72

PHONE_RE = re.compile(r"^\+?[0-9 ()\-]{6,40}$")
URL_RE = re.compile(r"^https?://[^\s<>\"]{3,490}$", re.IGNORECASE)
KRS_RE = re.compile(r"^[0-9]{10}$")
SUBMISSION_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

# The nominee answers (or changes the answer) through the link until the jury starts scoring.
CONSENT_OPEN_STATES = frozenset({EditionState.OPEN, EditionState.FORMAL_CHECK})
# Where a nominator may still edit or withdraw (while the window is open).
NOMINATOR_EDITABLE = {NominationState.SUBMITTED, NominationState.ACCEPTED, NominationState.REJECTED}


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
    category: Category
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


# --- validation -------------------------------------------------------------------------


def cleaned(data: NominationData) -> NominationData:
    """Text cleaned as it will be stored: no control characters, spaces collapsed."""
    lines = [clean_line(line) for line in clean_text(data.links).splitlines()]
    return replace(
        data,
        category=data.category.strip().upper(),
        nominee_name=clean_line(data.nominee_name),
        nominee_email=normalise_email(clean_line(data.nominee_email)),
        nominee_phone=clean_line(data.nominee_phone),
        organisation_kind=data.organisation_kind.strip() if data.category.strip().upper() == "A" else "",
        organisation_website=clean_line(data.organisation_website) if data.category.strip().upper() == "A" else "",
        registry_number=re.sub(r"[\s-]", "", clean_line(data.registry_number))
        if data.category.strip().upper() == "A"
        else "",
        nominee_is_minor=data.nominee_is_minor and data.category.strip().upper() == "B",
        descriptions={k: clean_text(v) for k, v in data.descriptions.items()},
        links="\n".join(line for line in lines if line),
        nominator_name=clean_line(data.nominator_name),
        nominator_email=normalise_email(clean_line(data.nominator_email)),
        nominator_phone=clean_line(data.nominator_phone),
        nominator_organisation=clean_line(data.nominator_organisation),
        nominator_relation=clean_line(data.nominator_relation),
        language=data.language if data.language in LANGUAGES else "pl",
    )


def _text_error(value: str, limit: int, required: bool) -> str | None:
    if required and not value:
        return N_("This field is required.")
    if len(value) > limit:
        return {
            MAX_NAME: N_("At most 200 characters."),
            MAX_DESCRIPTION: N_("At most 4000 characters."),
        }.get(limit, N_("The text is too long."))
    return None


def _contact_errors(data: NominationData, *, nominator_email_required: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, required in (("nominee_email", False), ("nominator_email", nominator_email_required)):
        value = getattr(data, name)
        if (value or required) and (problem := email_error(value)) is not None:
            errors[name] = problem
    for name in ("nominee_phone", "nominator_phone"):
        value = getattr(data, name)
        if value and not PHONE_RE.match(value):
            errors[name] = N_("Enter a phone number with digits only, like +48 12 345 67 89.")
    return errors


def _organisation_errors(data: NominationData) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.category != Category.A:
        return errors
    if data.organisation_kind not in set(OrganisationKind):
        errors["organisation_kind"] = N_("Choose the kind of organisation.")
    if data.organisation_website and (
        len(data.organisation_website) > MAX_URL or not URL_RE.match(data.organisation_website)
    ):
        errors["organisation_website"] = N_("Enter a web address starting with https:// or http://.")
    if data.registry_number and not KRS_RE.match(data.registry_number):
        errors["registry_number"] = N_("A KRS number has 10 digits.")
    return errors


def _description_errors(data: NominationData, criteria_ids: list[int]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for criterion_id in criteria_ids:
        if len(data.descriptions.get(criterion_id, "")) > MAX_DESCRIPTION:
            errors[f"description_{criterion_id}"] = N_("At most 4000 characters.")
    if criteria_ids and not any(data.descriptions.get(c) for c in criteria_ids):
        errors[f"description_{criteria_ids[0]}"] = N_("Describe the activities for at least one criterion.")
    links = data.links.splitlines()
    if len(data.links) > MAX_LINKS_TEXT or len(links) > MAX_LINKS:
        errors["links"] = N_("Give at most 10 links, one per line.")
    elif any(not URL_RE.match(link) for link in links):
        errors["links"] = N_("Enter a web address starting with https:// or http://.")
    return errors


def validate(data: NominationData, criteria_ids: list[int], *, by_clerk: bool = False) -> dict[str, str]:
    """Field name → msgid of every problem in cleaned data."""
    errors: dict[str, str] = {}
    if data.category not in set(Category):
        errors["category"] = N_("Choose a category.")
    for name, limit, required in (
        ("nominee_name", MAX_NAME, True),
        ("nominator_name", MAX_NAME, True),
        ("nominator_organisation", MAX_NAME, False),
        ("nominator_relation", MAX_RELATION, False),
    ):
        if (problem := _text_error(getattr(data, name), limit, required)) is not None:
            errors[name] = problem
    errors.update(_contact_errors(data, nominator_email_required=not by_clerk))
    errors.update(_organisation_errors(data))
    errors.update(_description_errors(data, criteria_ids))
    if not data.privacy_ack:
        errors["privacy_ack"] = N_("Please confirm that you have read the privacy notice.")
    if "nominee_name" not in errors and "nominator_name" not in errors and _self_nomination(data):
        errors["nominee_name"] = N_("You cannot nominate yourself. Someone else must nominate you.")
    return errors


def _self_nomination(data: NominationData) -> bool:
    """The nominator is the nominee: same email, or (for a person) the same name, folded.

    A minor's email is the guardian's, so a parent may nominate their child with their own.
    """
    if data.nominee_email and data.nominee_email == data.nominator_email and not data.nominee_is_minor:
        return True
    return data.category == Category.B and fold(data.nominee_name) == fold(data.nominator_name)


def check_uploads(uploads: list[Upload], existing: int = 0) -> tuple[list[tuple[Upload, str]], str | None]:
    """Each upload with its sniffed type, or the first problem (msgid) found."""
    accepted: list[tuple[Upload, str]] = []
    uploads = [u for u in uploads if u.data or u.filename]
    if existing + len(uploads) > MAX_ATTACHMENTS:
        return [], N_("Attach at most 5 files.")
    for upload in uploads:
        if len(upload.data) > MAX_ATTACHMENT_BYTES:
            return [], N_("Each file may have at most 10 MB.")
        content_type = files.sniff(upload.data)
        if content_type is None:
            return [], N_("Attach only PDF, JPEG or PNG files. A file's content did not match these types.")
        if files.image_too_large(upload.data, content_type):
            return [], Message(
                N_("The image %(name)s is too large: at most 40 megapixels and 20,000 pixels on a side."),
                name=files.safe_filename(upload.filename, content_type),
            )
        accepted.append((upload, content_type))
    return accepted, None


# --- reading ----------------------------------------------------------------------------


def _descriptions(raw: Any) -> dict[int, str]:
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
        category=Category(row["category"]),
        consent=ConsentState(row["consent"]),
        descriptions=_descriptions(row["descriptions"]),
        attachments=attachments,
    )


async def get_nomination(nomination_id: int) -> NominationView:
    row = await Nomination.select().where(Nomination.id == nomination_id).first()
    if row is None:
        raise NotFound()
    return view(row, (await attachments_of([nomination_id]))[nomination_id])


async def _by_token(token: str, purpose: NominationTokenPurpose, now: dt.datetime) -> tuple[dict[str, Any], int]:
    """The nomination row a live token points to, and the token's id."""
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
    return row, found["id"]


async def for_manage_token(token: str, now: dt.datetime | None = None) -> NominationView:
    """The nominator's own nomination; only its token opens it."""
    row, _ = await _by_token(token, NominationTokenPurpose.MANAGE, now or utcnow())
    return view(row, (await attachments_of([row["id"]]))[row["id"]])


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


# --- mails ------------------------------------------------------------------------------


def mail_body(language: str, name: str, *paragraphs: str) -> str:
    parts = [translate(language, N_("Hello %(name)s,"), name=name), *paragraphs]
    parts.append(translate(language, N_("If you did not expect this message, ignore it.")))
    return "\n\n".join(parts)


async def _issue_token(
    nomination_id: int, purpose: NominationTokenPurpose, expires_at: dt.datetime | None, token: str | None = None
) -> str:
    token = token or new_token()
    await NominationToken(
        nomination=nomination_id, purpose=purpose.value, token_hash=token_hash(token), expires_at=expires_at
    ).save()
    return token


async def mail_receipt(row: dict[str, Any], edition: EditionView, base_url: str) -> None:
    """The reference number and the private link to view, edit or withdraw."""
    if not row["nominator_email"]:
        return
    language = row["language"]
    token = await _issue_token(row["id"], NominationTokenPurpose.MANAGE, None)
    closes = edition.closes_at.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M")
    await queue_mail(
        to=row["nominator_email"],
        subject=translate(language, N_("Your nomination %(reference)s is registered"), reference=row["reference"]),
        body=mail_body(
            language,
            row["nominator_name"],
            translate(
                language,
                N_("Thank you. Your nomination of %(nominee)s is registered under the number %(reference)s."),
                nominee=row["nominee_name"],
                reference=row["reference"],
            ),
            translate(
                language,
                N_("You can view, change or withdraw it until %(closes)s (Warsaw time) with this private link:"),
                closes=closes,
            ),
            f"{base_url}/n/{token}",
            translate(language, N_("Do not share the link: whoever has it can change the nomination.")),
        ),
        language=language,
    )


async def mail_consent_request(row: dict[str, Any], edition: EditionView, base_url: str) -> None:
    """The nominee's information notice and consent link (to the guardian for a minor)."""
    if not row["nominee_email"]:
        return
    language = row["language"]
    token = await _issue_token(row["id"], NominationTokenPurpose.CONSENT, None)
    intro = (
        N_(
            "%(nominee)s, a minor in your care, has been nominated for the title %(title)s, %(edition)s. "
            "As their guardian, please read the information notice and give or refuse consent:"
        )
        if row["nominee_is_minor"]
        else N_(
            "You have been nominated for the title %(title)s, %(edition)s. "
            "Please read the information notice and give or refuse your consent:"
        )
    )
    await queue_mail(
        to=row["nominee_email"],
        subject=translate(language, N_("A nomination for the Krakow Ambassador of Multiculturalism title")),
        body=mail_body(
            language,
            row["nominee_name"],
            translate(
                language,
                intro,
                nominee=row["nominee_name"],
                title=translate(language, N_("Krakow Ambassador of Multiculturalism")),
                edition=edition.label,
            ),
            f"{base_url}/consent/{token}",
        ),
        language=language,
    )


# --- the citizen's path -----------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    """The outcome of a submit: the new (or, for a repeated submit, the same) nomination."""

    nomination_id: int
    reference: str
    repeated: bool


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
) -> dict[str, Any]:
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
    await _store_uploads(row.id, uploads, now)
    return row.to_dict()


async def _store_uploads(nomination_id: int, uploads: list[tuple[Upload, str]], now: dt.datetime) -> None:
    for upload, content_type in uploads:
        await Attachment(
            nomination=nomination_id,
            filename=files.safe_filename(upload.filename, content_type),
            content_type=content_type,
            size=len(upload.data),
            sha256=hashlib.sha256(upload.data).hexdigest(),
            content=upload.data,
            created_at=now,
        ).save()


def prepare(
    edition: EditionView, data: NominationData, uploads: list[Upload], *, by_clerk: bool = False, existing: int = 0
) -> tuple[NominationData, list[tuple[Upload, str]]]:
    """Clean and validate; raise InvalidInput with every field problem at once."""
    data = cleaned(data)
    criteria_ids = [c.id for c in edition.criteria if c.id is not None]
    data = replace(data, descriptions={k: v for k, v in data.descriptions.items() if k in criteria_ids})
    errors = validate(data, criteria_ids, by_clerk=by_clerk)
    accepted, problem = check_uploads(uploads, existing)
    if problem:
        errors["attachments"] = problem
    if errors:
        raise InvalidInput(errors)
    return data, accepted


async def screen(accepted: list[tuple[Upload, str]], rules: UploadRules | None) -> None:
    """Scan the accepted files and check the quota before they are stored (InvalidInput).

    ``rules`` None: those of the default settings (no scanner; development and tests).
    """
    rules = rules or upload_rules.DEVELOPMENT
    named = [(files.safe_filename(upload.filename, content_type), upload.data) for upload, content_type in accepted]
    problem = await upload_rules.scan(named, rules)
    problem = problem or await upload_rules.quota_problem(sum(len(data) for _, data in named), rules)
    if problem:
        raise InvalidInput({"attachments": problem})


async def _existing_submission(submission_key: str) -> Submitted | None:
    row = (
        await Nomination.select(Nomination.id, Nomination.reference)
        .where(Nomination.submission_key == submission_key)
        .first()
    )
    return Submitted(row["id"], row["reference"], repeated=True) if row else None


async def submit(
    *,
    edition: EditionView,
    data: NominationData,
    uploads: list[Upload],
    submission_key: str,
    base_url: str,
    now: dt.datetime | None = None,
    rules: UploadRules | None = None,
) -> Submitted:
    """Save a public nomination as unconfirmed and mail the confirmation link.

    ``edition`` is the one the form was read for; its window is checked again inside the
    write transaction, at the moment of saving. The same ``submission_key`` (one per rendered
    form) submitted twice gives the first nomination.
    """
    if not SUBMISSION_KEY_RE.match(submission_key):
        raise InvalidInput({"form": N_("The form is incomplete. Please reload the page and try again.")})
    # A repeated submission (a double click, a resent form) gives the first nomination; it is
    # looked for only when this one cannot be saved, which keeps the common case one read
    # shorter.
    try:
        now = now or utcnow()
        if not edition.accepts_nominations(now):
            raise WindowClosed()  # before the field checks: a late form cannot be corrected into time
        data, accepted = prepare(edition, data, uploads)
        await screen(accepted, rules)
        # Everything that needs no lock is made before the write, which other writers wait for.
        token = new_token()
        language = data.language
        subject = translate(language, N_("Please confirm your nomination"))
        body = mail_body(
            language,
            data.nominator_name,
            translate(
                language,
                N_("Please confirm your nomination of %(nominee)s by opening this link:"),
                nominee=data.nominee_name,
            ),
            f"{base_url}/n/confirm/{token}",
            translate(
                language,
                N_("The link works for %(hours)s hours. Without confirmation the nomination is erased."),
                hours=CONFIRM_HOURS,
            ),
        )
        async with write_transaction():
            row = await insert_nomination(
                edition=edition,
                data=data,
                uploads=accepted,
                submission_key=submission_key,
                state=NominationState.UNCONFIRMED,
                now=now,
                public_window=True,
            )
            await _issue_token(
                row["id"], NominationTokenPurpose.CONFIRM, now + dt.timedelta(hours=CONFIRM_HOURS), token=token
            )
            await queue_mail(to=data.nominator_email, subject=subject, body=body, language=language)
            await audit.record(
                "nomination.submitted",
                actor_id=None,
                object_type="nomination",
                object_id=row["id"],
                data={"reference": row["reference"], "attachments": len(accepted)},
            )
    except Exception as exc:
        repeatable = isinstance(exc, InvalidInput | WindowClosed) or is_unique_violation(exc)
        if repeatable and (earlier := await _existing_submission(submission_key)) is not None:
            return earlier
        raise
    return Submitted(row["id"], row["reference"], repeated=False)


async def confirm(*, token: str, base_url: str, now: dt.datetime | None = None) -> NominationView:
    """The nominator opened the confirmation link: the nomination counts from now on."""
    now = now or utcnow()
    async with write_transaction():
        row, token_id = await _by_token(token, NominationTokenPurpose.CONFIRM, now)
        if row["state"] != NominationState.UNCONFIRMED.value:
            raise InvalidToken()
        await NominationToken.update({NominationToken.used_at: now}).where(NominationToken.id == token_id)
        await Nomination.update(
            {
                Nomination.state: NominationState.SUBMITTED.value,
                Nomination.confirmed_at: now,
                Nomination.updated_at: now,
            }
        ).where(Nomination.id == row["id"])
        row = {**row, "state": NominationState.SUBMITTED.value, "confirmed_at": now}
        edition = await get_edition(row["edition"])
        await mail_receipt(row, edition, base_url)
        await mail_consent_request(row, edition, base_url)
        await audit.record(
            "nomination.confirmed",
            actor_id=None,
            object_type="nomination",
            object_id=row["id"],
            data={"reference": row["reference"]},
        )
    return await get_nomination(row["id"])


def edit_refusal(state: NominationState, edition: EditionView, now: dt.datetime) -> str | None:
    """Why the nominator cannot change or withdraw the nomination now (msgid), or None."""
    if not edition.accepts_nominations(now):
        return WindowClosed.message
    if state not in NOMINATOR_EDITABLE:
        return N_("This nomination can no longer be changed.")
    return None


async def _editable_by_nominator(token: str, now: dt.datetime) -> tuple[dict[str, Any], EditionView]:
    row, _ = await _by_token(token, NominationTokenPurpose.MANAGE, now)
    edition = await get_edition(row["edition"])
    refusal = edit_refusal(NominationState(row["state"]), edition, now)
    if refusal == WindowClosed.message:
        raise WindowClosed()
    if refusal is not None:
        raise NotAllowed(refusal)
    return row, edition


async def update_by_nominator(
    *,
    token: str,
    data: NominationData,
    uploads: list[Upload],
    remove_attachments: list[int],
    now: dt.datetime | None = None,
    rules: UploadRules | None = None,
) -> NominationView:
    """The nominator changes their nomination while the window is open."""
    now = now or utcnow()
    row, edition = await _editable_by_nominator(token, now)
    current = view(row, (await attachments_of([row["id"]]))[row["id"]])
    keep = [a for a in current.attachments if a.id not in remove_attachments]
    # The nominator's own identity and the category stay as confirmed.
    data = replace(
        data,
        category=current.category.value,
        nominator_email=current.nominator_email,
        language=data.language if data.language in LANGUAGES else current.language,
    )
    data, accepted = prepare(edition, data, uploads, existing=len(keep))
    await screen(accepted, rules)
    async with write_transaction():
        row, edition = await _editable_by_nominator(token, now)
        changed = _apply_changes(row, data, now)
        removed = [a.id for a in current.attachments if a.id in remove_attachments]
        recheck = row["state"] != NominationState.SUBMITTED.value and bool(len(changed) > 1 or removed or accepted)
        if recheck:
            # A formal decision was about the old text: the changed nomination is checked again.
            changed[Nomination.state] = NominationState.SUBMITTED.value
            changed[Nomination.formal_reason] = ""
        await Nomination.update(changed).where(Nomination.id == row["id"])
        if removed:
            await Attachment.delete().where((Attachment.nomination == row["id"]) & Attachment.id.is_in(removed))
        await _store_uploads(row["id"], accepted, now)
        await audit.record(
            "nomination.edited",
            actor_id=None,
            object_type="nomination",
            object_id=row["id"],
            data={
                "fields": sorted(
                    c._meta.name for c in changed if c._meta.name not in ("updated_at", "state", "formal_reason")
                ),
                "attachments_added": len(accepted),
                "attachments_removed": len(removed),
                "back_to_formal_check": recheck,
            },
        )
    return await get_nomination(row["id"])


def _apply_changes(row: dict[str, Any], data: NominationData, now: dt.datetime) -> dict[Any, Any]:
    """The columns whose values differ from the stored row."""
    values: dict[str, Any] = {
        "nominee_name": data.nominee_name,
        "nominee_key": fold(data.nominee_name)[:200],
        "nominee_is_minor": data.nominee_is_minor,
        "nominee_email": data.nominee_email,
        "nominee_phone": data.nominee_phone,
        "organisation_kind": data.organisation_kind,
        "organisation_website": data.organisation_website,
        "registry_number": data.registry_number,
        "links": data.links,
        "nominator_name": data.nominator_name,
        "nominator_phone": data.nominator_phone,
        "nominator_organisation": data.nominator_organisation,
        "nominator_relation": data.nominator_relation,
        "language": data.language,
    }
    changed: dict[Any, Any] = {getattr(Nomination, k): v for k, v in values.items() if row[k] != v}
    descriptions = {k: v for k, v in data.descriptions.items() if v}
    if _descriptions(row["descriptions"]) != descriptions:
        changed[Nomination.descriptions] = json.dumps({str(k): v for k, v in descriptions.items()}, ensure_ascii=False)
    changed[Nomination.updated_at] = now
    return changed


async def withdraw_by_nominator(*, token: str, now: dt.datetime | None = None) -> NominationView:
    """The nominator withdraws; allowed until the window closes."""
    now = now or utcnow()
    async with write_transaction():
        row, _ = await _editable_by_nominator(token, now)
        await Nomination.update({Nomination.state: NominationState.WITHDRAWN.value, Nomination.updated_at: now}).where(
            Nomination.id == row["id"]
        )
        await audit.record(
            "nomination.withdrawn",
            actor_id=None,
            object_type="nomination",
            object_id=row["id"],
            data={"from": row["state"]},
        )
    return await get_nomination(row["id"])


# --- the nominee's consent --------------------------------------------------------------


@dataclass(frozen=True)
class ConsentRequest:
    """What the nominee sees: who is nominated for which edition, and the answer so far."""

    reference: str
    nominee_name: str
    nominee_is_minor: bool
    category: Category
    edition: EditionView
    consent: ConsentState


async def consent_request(token: str) -> ConsentRequest:
    row, _ = await _by_token(token, NominationTokenPurpose.CONSENT, utcnow())
    return ConsentRequest(
        reference=row["reference"],
        nominee_name=row["nominee_name"],
        nominee_is_minor=row["nominee_is_minor"],
        category=Category(row["category"]),
        edition=await get_edition(row["edition"]),
        consent=ConsentState(row["consent"]),
    )


async def _set_consent(
    nomination_id: int, given: bool, *, actor_id: int | None, note: str, channel: str, now: dt.datetime
) -> None:
    state = ConsentState.GIVEN if given else ConsentState.REFUSED
    await Nomination.update(
        {Nomination.consent: state.value, Nomination.consent_note: note, Nomination.consent_at: now}
    ).where(Nomination.id == nomination_id)
    if not given:
        # Without consent a nomination cannot stay before the jury.
        await Nomination.update({Nomination.state: NominationState.ACCEPTED.value}).where(
            (Nomination.id == nomination_id) & (Nomination.state == NominationState.SHORTLISTED.value)
        )
    await audit.record(
        f"nomination.consent_{state.value}",
        actor_id=actor_id,
        object_type="nomination",
        object_id=nomination_id,
        data={"channel": channel},
    )


async def answer_consent(*, token: str, given: bool, now: dt.datetime | None = None) -> ConsentState:
    """The nominee (or guardian) answers; they may change the answer until the jury scores."""
    now = now or utcnow()
    async with write_transaction():
        row, _ = await _by_token(token, NominationTokenPurpose.CONSENT, now)
        edition = await get_edition(row["edition"])
        if edition.state not in CONSENT_OPEN_STATES:
            raise NotAllowed(N_("The answer can no longer be changed here. Please contact the city office."))
        await _set_consent(row["id"], given, actor_id=None, note="", channel="link", now=now)
    return ConsentState.GIVEN if given else ConsentState.REFUSED


MAX_NOTE = 2000


async def record_paper_consent(
    *, actor_id: int, nomination_id: int, given: bool, note: str, now: dt.datetime | None = None
) -> NominationView:
    """A clerk records consent given (or refused) on paper, with a note saying where it is."""
    note = clean_text(note)
    if not note:
        raise InvalidInput({"consent_note": N_("Say where the signed consent is kept.")})
    if len(note) > MAX_NOTE:
        raise InvalidInput({"consent_note": N_("At most 2000 characters.")})
    async with write_transaction():
        current = await get_nomination(nomination_id)
        if current.state in (NominationState.UNCONFIRMED, NominationState.MERGED):
            raise NotAllowed()
        await _set_consent(nomination_id, given, actor_id=actor_id, note=note, channel="paper", now=now or utcnow())
    return await get_nomination(nomination_id)


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
