"""Drafts of the public nomination form: saved at any step, resumed by a mailed private link.

A citizen may save the form unfinished. The draft needs only the nominator's email (where
the link goes); everything else is kept as typed, within the form's limits, and the files
that passed their checks are held under the form's submission key (``held_files``) until
the window closes. The mail carries a private link (a random token; only its SHA-256 is
stored, as for the nominator's manage link). Opening it shows the form again with every
value and file and the same submission key, so saving again updates the same draft and
sending the form makes it a nomination (``submission.submit`` calls :func:`sent`, which
deletes the draft in the sending transaction).

A draft is not a nomination: it has no reference, no state, and no staff page reads it.
It lives while its edition takes nominations; then the link stops working and the
retention job erases it (:func:`erase_expired`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, fields, replace
from typing import Any

from ambassador import honour
from ambassador.db import is_unique_violation, utcnow, write_transaction
from ambassador.domain import audit, held_files
from ambassador.domain.accounts import email_error
from ambassador.domain.editions import EditionView, get_edition
from ambassador.domain.nomination_rules import cleaned
from ambassador.domain.nominations import (
    MAX_DESCRIPTION,
    MAX_LINKS_TEXT,
    MAX_NAME,
    MAX_PHONE,
    MAX_RELATION,
    MAX_URL,
    NominationData,
    Upload,
    WindowClosed,
)
from ambassador.domain.outbox import queue_mail
from ambassador.domain.uploads import UploadRules
from ambassador.enums import LANGUAGES, EditionState, OrganisationKind
from ambassador.errors import N_, InvalidInput, InvalidToken, NotFound, too_long
from ambassador.i18n import TIMEZONE, translate
from ambassador.tables import Edition, HeldFile, Nomination, NominationDraft
from ambassador.text import clean_line
from ambassador.tokens import new_token, token_hash

MAX_EMAIL = 254
MAX_REGISTRY = 20
# Where the mailed link leads (web.drafts serves it; it is not prefixed by language).
RESUME_PATH = "/n/draft/"

INCOMPLETE = N_("The form is incomplete. Please reload the page and try again.")
ALREADY_SENT = N_("This form has already been sent, so it cannot be saved as a draft. Open a new form to start again.")

# The text fields a draft checks only for length (the whole form's rules apply on sending).
_LIMITS = {
    "nominee_name": MAX_NAME,
    "nominee_email": MAX_EMAIL,
    "nominee_phone": MAX_PHONE,
    "organisation_website": MAX_URL,
    "registry_number": MAX_REGISTRY,
    "links": MAX_LINKS_TEXT,
    "nominator_name": MAX_NAME,
    "nominator_phone": MAX_PHONE,
    "nominator_organisation": MAX_NAME,
    "nominator_relation": MAX_RELATION,
}


@dataclass(frozen=True)
class Draft:
    """A live draft as its link opens it."""

    id: int
    edition: EditionView
    submission_key: str
    data: NominationData
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class SavedDraft:
    """What a save did: ``mailed_to`` is the address a new link went to ("" when none was
    sent: an update with the same email keeps the link mailed before); ``held`` the files
    held for the draft now; ``file_problem`` why a new file was not kept (or None)."""

    draft_id: int
    created: bool
    mailed_to: str
    nominator_email: str
    held: list[held_files.Held]
    file_problem: str | None


# --- the values -------------------------------------------------------------------------


def to_json(data: NominationData) -> dict[str, Any]:
    values = {f.name: getattr(data, f.name) for f in fields(NominationData)}
    values["descriptions"] = {str(k): v for k, v in data.descriptions.items()}
    return values


def from_json(raw: Any) -> NominationData:
    """The values stored by :func:`to_json` (a dict, or its JSON text as the database gives it
    back); unknown keys ignored, values of the wrong type left empty."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = {}
    stored: dict[str, Any] = raw if isinstance(raw, dict) else {}
    values: dict[str, Any] = {}
    for f in fields(NominationData):
        if f.name not in stored:
            continue
        value = stored[f.name]
        if f.name == "descriptions":
            items = value.items() if isinstance(value, dict) else ()
            values[f.name] = {int(k): str(v) for k, v in items if str(k).isdigit()}
        elif (f.type == "bool" and isinstance(value, bool)) or (f.type == "str" and isinstance(value, str)):
            values[f.name] = value
    data = NominationData(**values)
    return replace(data, language=data.language if data.language in LANGUAGES else "pl")


def draft_values(edition: EditionView, data: NominationData) -> NominationData:
    """The values cleaned as the form cleans them; InvalidInput when the nominator's email is
    missing or invalid or a text is over its limit (nothing else is required in a draft)."""
    category = edition.category(data.category.strip().upper())
    tidy = cleaned(data, edition.categories)
    if category is None:
        # No category chosen yet: the organisation's fields stay as typed, not emptied.
        kind = data.organisation_kind.strip()
        tidy = replace(
            tidy,
            category="",
            organisation_kind=kind if kind in set(OrganisationKind) else "",
            organisation_website=clean_line(data.organisation_website),
            registry_number=clean_line(data.registry_number),
            nominee_is_minor=data.nominee_is_minor,
        )
    criteria = {c.id for c in edition.criteria if c.id is not None}
    tidy = replace(tidy, descriptions={k: v for k, v in tidy.descriptions.items() if k in criteria and v})
    errors: dict[str, str] = {}
    if (problem := email_error(tidy.nominator_email)) is not None:
        errors["nominator_email"] = (
            N_("Enter your email: we send the link to your draft there.") if not tidy.nominator_email else problem
        )
    for name, limit in _LIMITS.items():
        if len(getattr(tidy, name)) > limit:
            errors[name] = too_long(limit)
    for criterion_id, text in tidy.descriptions.items():
        if len(text) > MAX_DESCRIPTION:
            errors[f"description_{criterion_id}"] = too_long(MAX_DESCRIPTION)
    if errors:
        raise InvalidInput(errors)
    return tidy


# --- saving -----------------------------------------------------------------------------


def _body(language: str, name: str, *paragraphs: str) -> str:
    """Greeting, paragraphs and disclaimer, as the nominations' mails write them."""
    parts = [translate(language, N_("Hello %(name)s,"), name=name), *paragraphs]
    parts.append(translate(language, N_("If you did not expect this message, ignore it.")))
    return "\n\n".join(parts)


def _mail(data: NominationData, edition: EditionView, token: str, base_url: str) -> tuple[str, str]:
    """The resume mail's subject and body, in the language of the form."""
    language = data.language
    title = honour.active().text("name", language)
    closes = edition.closes_at.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M")
    subject = translate(language, N_("Your draft nomination is saved"))
    body = _body(
        language,
        data.nominator_name or data.nominator_email,
        translate(
            language,
            N_(
                "Your draft nomination for the title %(title)s, %(edition)s, is saved. "
                "To continue where you stopped, open this private link:"
            ),
            title=title,
            edition=edition.label,
        ),
        f"{base_url}{RESUME_PATH}{token}",
        translate(
            language,
            N_(
                "The draft is kept until nominations close on %(closes)s (Warsaw time); then it is erased. "
                "It is not a nomination yet: only sending the form makes it one."
            ),
            closes=closes,
        ),
        translate(language, N_("Do not share the link: whoever has it can read and change the draft.")),
    )
    return subject, body


async def save(
    *,
    edition: EditionView,
    data: NominationData,
    uploads: list[Upload],
    submission_key: str,
    base_url: str,
    now: dt.datetime | None = None,
    rules: UploadRules | None = None,
) -> SavedDraft:
    """Save the form as a draft of ``edition`` under its submission key; mail the link.

    The first save of a form creates the draft and mails the private link; saving the same
    form again (the key) updates it, and mails a new link only when the email changed (the
    old link stops working). New files are checked and held like the form's (also when a
    text is refused: InvalidInput then, and the form shows them as kept); a refused file
    does not stop the texts from being saved (``file_problem`` says why it was not kept).
    """
    now = now or utcnow()
    if not held_files.valid_key(submission_key):
        raise InvalidInput({"form": INCOMPLETE})
    if not edition.accepts_nominations(now):
        raise WindowClosed()
    if await Nomination.exists().where(Nomination.submission_key == submission_key):
        raise InvalidInput({"form": ALREADY_SENT})
    # The files' checks (the antivirus scan among them) run before the write lock. Files that
    # pass are held even when a text is refused, so the form shown again keeps them.
    result = await held_files.hold(submission_key, uploads, closes_at=edition.closes_at, rules=rules, now=now)
    try:
        data = draft_values(edition, data)
    except InvalidInput as exc:
        raise InvalidInput({**exc.errors, "attachments": result.problem} if result.problem else exc.errors) from None
    token = new_token()
    subject, body = _mail(data, edition, token, base_url)
    for attempt in (1, 2):
        try:
            draft_id, created, mailed = await _write(
                edition=edition,
                data=data,
                submission_key=submission_key,
                token=token,
                subject=subject,
                body=body,
                now=now,
            )
        except Exception as exc:
            # Two first saves of one form at once: the second finds the first's row.
            if attempt == 1 and is_unique_violation(exc):
                continue
            raise
        break
    await held_files.extend(submission_key, edition.closes_at, now=now)
    return SavedDraft(
        draft_id=draft_id,
        created=created,
        mailed_to=data.nominator_email if mailed else "",
        nominator_email=data.nominator_email,
        held=await held_files.held(submission_key, now),
        file_problem=result.problem,
    )


async def _write(
    *,
    edition: EditionView,
    data: NominationData,
    submission_key: str,
    token: str,
    subject: str,
    body: str,
    now: dt.datetime,
) -> tuple[int, bool, bool]:
    """Insert or update the draft, queue its mail, audit; (id, created, mailed)."""
    async with write_transaction():
        existing = (
            await NominationDraft.select(NominationDraft.id, NominationDraft.edition, NominationDraft.nominator_email)
            .where(NominationDraft.submission_key == submission_key)
            .first()
        )
        if existing is not None and existing["edition"] != edition.id:
            raise InvalidInput({"form": INCOMPLETE})
        created = existing is None
        mailed = existing is None or existing["nominator_email"] != data.nominator_email
        values: dict[Any, Any] = {
            NominationDraft.nominator_email: data.nominator_email,
            NominationDraft.language: data.language,
            NominationDraft.form_values: json.dumps(to_json(data), ensure_ascii=False),
            NominationDraft.updated_at: now,
        }
        if mailed:
            values[NominationDraft.token_hash] = token_hash(token)
        if existing is None:
            row = NominationDraft(
                edition=edition.id,
                submission_key=submission_key,
                created_at=now,
                **{column._meta.name: value for column, value in values.items()},
            )
            await row.save()
            draft_id = int(row.id)
        else:
            draft_id = int(existing["id"])
            await NominationDraft.update(values).where(NominationDraft.id == draft_id)
        if mailed:
            await queue_mail(to=data.nominator_email, subject=subject, body=body, language=data.language)
        files = await HeldFile.count().where((HeldFile.submission_key == submission_key) & (HeldFile.expires_at > now))
        await audit.record(
            "draft.saved",
            actor_id=None,
            object_type="nomination_draft",
            object_id=draft_id,
            data={"edition": edition.id, "created": created, "link_mailed": mailed, "attachments": int(files)},
        )
    return draft_id, created, mailed


# --- resuming and ending ----------------------------------------------------------------


async def resume(token: str, now: dt.datetime | None = None) -> Draft:
    """The draft a mailed link opens, while its edition takes nominations (InvalidToken
    otherwise: unknown, replaced and expired links look the same). Its held files are kept
    until the window's close (which may have moved since the draft was saved)."""
    now = now or utcnow()
    row = await NominationDraft.select().where(NominationDraft.token_hash == token_hash(token)).first()
    if row is None:
        raise InvalidToken()
    try:
        edition = await get_edition(row["edition"])
    except NotFound:
        raise InvalidToken() from None
    if not edition.accepts_nominations(now):
        raise InvalidToken()
    await held_files.extend(row["submission_key"], edition.closes_at, now=now)
    return Draft(
        id=row["id"],
        edition=edition,
        submission_key=row["submission_key"],
        data=from_json(row["form_values"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def discard(token: str) -> None:
    """The citizen deletes their draft by its link, with its held files (InvalidToken when
    the link opens nothing). Allowed whatever the window: erasing one's data always is."""
    async with write_transaction():
        row = (
            await NominationDraft.select(NominationDraft.id, NominationDraft.submission_key)
            .where(NominationDraft.token_hash == token_hash(token))
            .first()
        )
        if row is None:
            raise InvalidToken()
        await HeldFile.delete().where(HeldFile.submission_key == row["submission_key"])
        await NominationDraft.delete().where(NominationDraft.id == row["id"])
        await audit.record("draft.deleted", actor_id=None, object_type="nomination_draft", object_id=row["id"], data={})


async def exists(submission_key: str) -> bool:
    """Whether a draft was saved from the form with this key (read before the sending
    transaction, so a form that never was a draft adds nothing to it)."""
    return (
        await NominationDraft.select(NominationDraft.id).where(NominationDraft.submission_key == submission_key).first()
        is not None
    )


async def sent(submission_key: str, *, nomination_id: int) -> bool:
    """The form with this key became a nomination: its draft, if any, is deleted (call it
    inside the sending transaction). Whether there was one."""
    async with write_transaction():
        rows = (
            await NominationDraft.delete()
            .where(NominationDraft.submission_key == submission_key)
            .returning(NominationDraft.id)
        )
        for row in rows:
            await audit.record(
                "draft.sent",
                actor_id=None,
                object_type="nomination_draft",
                object_id=row["id"],
                data={"nomination": nomination_id},
            )
    return bool(rows)


async def expired(now: dt.datetime | None = None) -> list[tuple[int, str]]:
    """(id, submission key) of the drafts whose edition no longer takes nominations."""
    now = now or utcnow()
    open_ids = [
        r["id"]
        for r in await Edition.select(Edition.id).where(
            (Edition.state == EditionState.OPEN.value) & (Edition.closes_at > now)
        )
    ]
    query = NominationDraft.select(NominationDraft.id, NominationDraft.submission_key)
    if open_ids:
        query = query.where(NominationDraft.edition.not_in(open_ids))
    return [(r["id"], r["submission_key"]) for r in await query.order_by(NominationDraft.id)]


async def erase_expired(now: dt.datetime | None = None) -> int:
    """Erase the drafts whose window has closed, with their held files (the retention job)."""
    async with write_transaction():
        found = await expired(now)
        if not found:
            return 0
        ids = [i for i, _ in found]
        await HeldFile.delete().where(HeldFile.submission_key.is_in([k for _, k in found]))
        await NominationDraft.delete().where(NominationDraft.id.is_in(ids))
        await audit.record(
            "draft.expired_erased",
            actor_id=None,
            object_type="nomination_draft",
            object_id="*",
            data={"count": len(ids), "ids": ids},
        )
    return len(ids)
