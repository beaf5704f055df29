"""The jury (the Chapter) of an edition: appointment, the chair, and how the jury works.

Jurors see only editions they belong to: every jury query starts from ``require_member``.
The settings are fixed once scoring opens, so the rules cannot change under the jurors; only
the scoring deadline and the days of its reminder may still move while the jury scores.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ambassador import honour
from ambassador.db import unique_or, utcnow, write_transaction
from ambassador.domain import account_links, accounts, audit
from ambassador.domain.editions import EditionView, get_edition
from ambassador.domain.outbox import queue_mail
from ambassador.enums import EditionState, Majority, Role, ScoreVisibility
from ambassador.errors import N_, DomainError, InvalidInput, Message, NotAllowed, NotFound, too_long
from ambassador.i18n import translate
from ambassador.tables import ConflictDeclaration, DetectedConflict, JuryMember, JurySettings, User, UserRole
from ambassador.text import clean_line

TIE_BREAKS = ("median", "top_scores", "mean", "vote")
MAX_DOCUMENT = 300
MAX_ORGANISATIONS = 2000
MAX_MIN_SCORES = 50
MAX_PERCENT = 100
MAX_REMINDER_DAYS = 30
# Until scoring opens the jury and its rules may change; afterwards they are fixed.
SETUP_STATES = frozenset({EditionState.DRAFT, EditionState.OPEN, EditionState.FORMAL_CHECK})
# States in which the jury works on an edition (and sees it).
JURY_STATES = frozenset(
    {
        EditionState.FORMAL_CHECK,
        EditionState.JURY_SCORING,
        EditionState.DELIBERATION,
        EditionState.RECOMMENDED,
        EditionState.APPROVED,
        EditionState.PUBLISHED,
    }
)


class NotAJuror(DomainError):
    message = N_("Only accounts with the juror role can be appointed.")


@dataclass(frozen=True)
class JuryRules:
    appointment_document: str = ""
    score_visibility: ScoreVisibility = ScoreVisibility.AFTER_OWN
    min_scores: int = 3
    normalise: bool = False
    tie_break: tuple[str, ...] = ("median", "top_scores", "vote")
    vote_quorum_percent: int = 50
    majority: Majority = Majority.SIMPLE
    # The deadline given to the jurors for their sheets, and the reminder N days before it.
    scoring_closes_at: dt.datetime | None = None
    reminder_days: int = 3


@dataclass(frozen=True)
class Juror:
    user_id: int
    display_name: str
    email: str
    is_chair: bool
    organisations: tuple[str, ...]
    language: str = "pl"


@dataclass(frozen=True)
class Candidate:
    """An active juror account the clerk may appoint."""

    user_id: int
    display_name: str
    email: str


async def rules_of(edition_id: int) -> JuryRules:
    row = await JurySettings.select().where(JurySettings.edition == edition_id).first()
    if row is None:
        return JuryRules()
    return JuryRules(
        appointment_document=row["appointment_document"],
        score_visibility=ScoreVisibility(row["score_visibility"]),
        min_scores=row["min_scores"],
        normalise=row["normalise"],
        tie_break=tuple(t for t in row["tie_break"].split(",") if t),
        vote_quorum_percent=row["vote_quorum_percent"],
        majority=Majority(row["majority"]),
        scoring_closes_at=row["scoring_closes_at"],
        reminder_days=row["reminder_days"],
    )


def schedule_errors(
    closes_at: dt.datetime | None, reminder_days: int, *, now: dt.datetime, kept: dt.datetime | None = None
) -> dict[str, str]:
    """The deadline lies ahead (unless it is the stored one, ``kept``); N is from 0 to 30."""
    errors: dict[str, str] = {}
    if closes_at is not None and closes_at != kept and closes_at <= now:
        errors["scoring_closes_at"] = N_("The scoring deadline must be in the future.")
    if not 0 <= reminder_days <= MAX_REMINDER_DAYS:
        errors["reminder_days"] = Message(N_("Enter a whole number from 0 to %(limit)d."), limit=MAX_REMINDER_DAYS)
    return errors


def reminder_due(
    closes_at: dt.datetime | None, reminder_days: int, reminded_for: dt.datetime | None
) -> dt.datetime | None:
    """When the automatic reminder is due: N days before the deadline, once per deadline."""
    if closes_at is None or reminder_days <= 0 or closes_at == reminded_for:
        return None
    return closes_at - dt.timedelta(days=reminder_days)


def rules_errors(
    rules: JuryRules, *, now: dt.datetime | None = None, kept: dt.datetime | None = None
) -> dict[str, str]:
    errors: dict[str, str] = schedule_errors(
        rules.scoring_closes_at, rules.reminder_days, now=now or utcnow(), kept=kept
    )
    if len(rules.appointment_document) > MAX_DOCUMENT:
        errors["appointment_document"] = too_long(MAX_DOCUMENT)
    if not 1 <= rules.min_scores <= MAX_MIN_SCORES:
        errors["min_scores"] = Message(N_("Enter a whole number from 1 to %(limit)d."), limit=MAX_MIN_SCORES)
    if not 1 <= rules.vote_quorum_percent <= MAX_PERCENT:
        errors["vote_quorum_percent"] = Message(N_("Enter a whole number from 1 to %(limit)d."), limit=MAX_PERCENT)
    if (
        not rules.tie_break
        or any(t not in TIE_BREAKS for t in rules.tie_break)
        or len(set(rules.tie_break)) != len(rules.tie_break)
    ):
        errors["tie_break"] = N_("Choose each tie-break at most once.")
    return errors


async def _stored_schedule(edition_id: int) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The stored deadline and the deadline the last reminder went out for."""
    row = (
        await JurySettings.select(JurySettings.scoring_closes_at, JurySettings.reminded_for)
        .where(JurySettings.edition == edition_id)
        .first()
    )
    return (row["scoring_closes_at"], row["reminded_for"]) if row else (None, None)


def _schedule_values(
    closes_at: dt.datetime | None, reminder_days: int, reminded_for: dt.datetime | None
) -> dict[Any, Any]:
    return {
        JurySettings.scoring_closes_at: closes_at,
        JurySettings.reminder_days: reminder_days,
        JurySettings.reminder_due_at: reminder_due(closes_at, reminder_days, reminded_for),
    }


async def _store_settings(edition_id: int, values: dict[Any, Any]) -> None:
    if await JurySettings.exists().where(JurySettings.edition == edition_id):
        await JurySettings.update(values).where(JurySettings.edition == edition_id)
    else:
        await JurySettings(edition=edition_id, **{c._meta.name: v for c, v in values.items()}).save()


def _audited(rules: JuryRules) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, tuple):
            return list(value)
        return value.isoformat() if isinstance(value, dt.datetime) else value

    return {k: plain(v) for k, v in rules.__dict__.items()}


async def set_rules(*, actor_id: int, edition_id: int, rules: JuryRules, now: dt.datetime | None = None) -> JuryRules:
    """Fix how the jury works, its scoring deadline included; refused once scoring has opened."""
    now = now or utcnow()
    rules = JuryRules(**{**rules.__dict__, "appointment_document": clean_line(rules.appointment_document)})
    kept, _ = await _stored_schedule(edition_id)
    if errors := rules_errors(rules, now=now, kept=kept):
        raise InvalidInput(errors)
    values: dict[Any, Any] = {
        JurySettings.appointment_document: rules.appointment_document,
        JurySettings.score_visibility: rules.score_visibility.value,
        JurySettings.min_scores: rules.min_scores,
        JurySettings.normalise: rules.normalise,
        JurySettings.tie_break: ",".join(rules.tie_break),
        JurySettings.vote_quorum_percent: rules.vote_quorum_percent,
        JurySettings.majority: rules.majority.value,
    }
    async with write_transaction():
        edition = await get_edition(edition_id)
        if edition.state not in SETUP_STATES:
            raise NotAllowed(N_("The jury's rules are fixed once scoring has opened."))
        _, reminded_for = await _stored_schedule(edition_id)
        values |= _schedule_values(rules.scoring_closes_at, rules.reminder_days, reminded_for)
        await _store_settings(edition_id, values)
        await audit.record(
            "jury.rules_set", actor_id=actor_id, object_type="edition", object_id=edition_id, data=_audited(rules)
        )
    return await rules_of(edition_id)


async def set_schedule(
    *,
    actor_id: int,
    edition_id: int,
    closes_at: dt.datetime | None,
    reminder_days: int,
    now: dt.datetime | None = None,
) -> JuryRules:
    """Move the scoring deadline or its reminder, before or while the jury scores.

    A new deadline makes a new reminder due (``mail_schedule.queue_due`` sends it once).
    """
    now = now or utcnow()
    kept, _ = await _stored_schedule(edition_id)
    if errors := schedule_errors(closes_at, reminder_days, now=now, kept=kept):
        raise InvalidInput(errors)
    async with write_transaction():
        edition = await get_edition(edition_id)
        if edition.state not in SETUP_STATES | {EditionState.JURY_SCORING}:
            raise NotAllowed(N_("The scoring deadline can no longer be changed."))
        _, reminded_for = await _stored_schedule(edition_id)
        await _store_settings(edition_id, _schedule_values(closes_at, reminder_days, reminded_for))
        await audit.record(
            "jury.schedule_set",
            actor_id=actor_id,
            object_type="edition",
            object_id=edition_id,
            data={"scoring_closes_at": closes_at.isoformat() if closes_at else None, "reminder_days": reminder_days},
        )
    return await rules_of(edition_id)


def _organisations(raw: str) -> tuple[str, ...]:
    return tuple(line for line in (clean_line(x) for x in raw.splitlines()) if line)


async def _jurors(where: Any) -> list[Juror]:
    rows = (
        await JuryMember.select(
            JuryMember.user,
            JuryMember.is_chair,
            JuryMember.organisations,
            JuryMember.user.display_name,
            JuryMember.user.email,
            JuryMember.user.language,
        )
        .where(where)
        .order_by(JuryMember.id)
    )
    return [
        Juror(
            user_id=r["user"],
            display_name=r["user.display_name"],
            email=r["user.email"],
            is_chair=r["is_chair"],
            organisations=_organisations(r["organisations"]),
            language=r["user.language"],
        )
        for r in rows
    ]


async def members(edition_id: int) -> list[Juror]:
    return await _jurors(JuryMember.edition == edition_id)


async def require_member(edition_id: int, user_id: int) -> Juror:
    """The juror's membership; NotFound for anyone else, so an edition's existence is not shown.

    Reads this juror's row only, however large the jury (it guards every juror's request).
    """
    found = await _jurors((JuryMember.edition == edition_id) & (JuryMember.user == user_id))
    if not found:
        raise NotFound()
    return found[0]


async def require_chair(edition_id: int, user_id: int) -> Juror:
    juror = await require_member(edition_id, user_id)
    if not juror.is_chair:
        raise NotAllowed(N_("Only the chair of the jury can do this."))
    return juror


async def editions_of(user_id: int) -> list[EditionView]:
    """The editions a juror belongs to, newest first (only those the jury works on)."""
    rows = await JuryMember.select(JuryMember.edition).where(JuryMember.user == user_id)
    found = [await get_edition(r["edition"]) for r in rows]
    return sorted((e for e in found if e.state in JURY_STATES), key=lambda e: e.activity_year, reverse=True)


async def _audit_juror(event: str, *, actor_id: int, edition_id: int, user_id: int) -> None:
    """An audit entry about one juror of the edition."""
    await audit.record(event, actor_id=actor_id, object_type="edition", object_id=edition_id, data={"juror": user_id})


async def appoint(*, actor_id: int, edition_id: int, user_id: int, organisations: str = "", base_url: str) -> Juror:
    """Appoint a juror (an account with the juror role) and tell them by mail."""
    if len(organisations) > MAX_ORGANISATIONS:
        raise InvalidInput({"organisations": too_long(MAX_ORGANISATIONS)})
    account = await accounts.get_account(user_id)
    if account is None or not account.is_active:
        raise NotFound()
    if not account.has_role(Role.JUROR):
        raise NotAJuror()
    async with unique_or(InvalidInput({"user_id": N_("This person is already on the jury.")})), write_transaction():
        edition = await get_edition(edition_id)
        if edition.state not in SETUP_STATES:
            raise NotAllowed(N_("Jurors are appointed before scoring opens."))
        await JuryMember(
            edition=edition_id,
            user=user_id,
            organisations="\n".join(_organisations(organisations)),
            appointed_at=utcnow(),
        ).save()
        language = account.language
        await queue_mail(
            to=account.email,
            subject=translate(language, N_("You are a member of the jury, %(edition)s"), edition=edition.label),
            body="\n\n".join(
                [
                    translate(language, N_("Hello %(name)s,"), name=account.display_name),
                    translate(
                        language,
                        N_(
                            "You have been appointed to the jury of the title %(title)s, %(edition)s. "
                            "Before you see any nomination you will declare possible conflicts of interest."
                        ),
                        title=honour.active().text("name", language),
                        edition=edition.label,
                    ),
                    f"{base_url}/jury",
                ]
            ),
            language=language,
        )
        await _audit_juror("jury.appointed", actor_id=actor_id, edition_id=edition_id, user_id=user_id)
    return await require_member(edition_id, user_id)


async def invite_and_appoint(
    *,
    actor_id: int,
    edition_id: int,
    email: str,
    display_name: str,
    language: str,
    organisations: str,
    base_url: str,
    lifetime_seconds: int,
) -> Juror:
    """Create a juror account, mail its invitation and appoint it: all or nothing.

    A refused invitation also names organisations that are too long, so every field's
    problem shows at once.
    """
    try:
        async with write_transaction():
            account = await account_links.invite_user(
                actor_id=actor_id,
                email=email,
                display_name=display_name,
                roles=frozenset({Role.JUROR}),
                language=language,
                base_url=base_url,
                lifetime_seconds=lifetime_seconds,
            )
            return await appoint(
                actor_id=actor_id,
                edition_id=edition_id,
                user_id=account.id,
                organisations=organisations,
                base_url=base_url,
            )
    except InvalidInput as exc:
        if len(organisations) > MAX_ORGANISATIONS and "organisations" not in exc.errors:
            raise InvalidInput({**exc.errors, "organisations": too_long(MAX_ORGANISATIONS)}) from exc
        raise


async def update_organisations(*, actor_id: int, edition_id: int, user_id: int, organisations: str) -> Juror:
    """The organisations a juror works for, used to detect conflicts."""
    if len(organisations) > MAX_ORGANISATIONS:
        raise InvalidInput({"organisations": too_long(MAX_ORGANISATIONS)})
    async with write_transaction():
        await require_member(edition_id, user_id)
        await JuryMember.update({JuryMember.organisations: "\n".join(_organisations(organisations))}).where(
            (JuryMember.edition == edition_id) & (JuryMember.user == user_id)
        )
        await _audit_juror("jury.organisations_set", actor_id=actor_id, edition_id=edition_id, user_id=user_id)
    return await require_member(edition_id, user_id)


async def set_chair(*, actor_id: int, edition_id: int, user_id: int) -> Juror:
    async with write_transaction():
        await require_member(edition_id, user_id)
        edition = await get_edition(edition_id)
        if edition.state not in SETUP_STATES | {EditionState.JURY_SCORING}:
            raise NotAllowed(N_("The chair can no longer be changed."))
        await JuryMember.update({JuryMember.is_chair: False}).where(JuryMember.edition == edition_id)
        await JuryMember.update({JuryMember.is_chair: True}).where(
            (JuryMember.edition == edition_id) & (JuryMember.user == user_id)
        )
        await _audit_juror("jury.chair_named", actor_id=actor_id, edition_id=edition_id, user_id=user_id)
    return await require_member(edition_id, user_id)


async def remove(*, actor_id: int, edition_id: int, user_id: int) -> None:
    """Take a juror off the jury before scoring opens (their declarations are kept in the audit)."""
    async with write_transaction():
        await require_member(edition_id, user_id)
        edition = await get_edition(edition_id)
        if edition.state not in SETUP_STATES:
            raise NotAllowed(N_("Jurors are removed only before scoring opens."))
        for table in (ConflictDeclaration, DetectedConflict):
            await table.delete().where((table.edition == edition_id) & (table.juror == user_id))
        await JuryMember.delete().where((JuryMember.edition == edition_id) & (JuryMember.user == user_id))
        await _audit_juror("jury.removed", actor_id=actor_id, edition_id=edition_id, user_id=user_id)


async def candidates(edition_id: int) -> list[Candidate]:
    """Active juror accounts not yet on this edition's jury (for the clerk's appointment list)."""
    taken = JuryMember.select(JuryMember.user).where(JuryMember.edition == edition_id)
    rows = await (
        User.select(User.id, User.display_name, User.email)
        .where(
            User.id.is_in(UserRole.select(UserRole.user).where(UserRole.role == Role.JUROR.value))
            & (User.is_active == True)  # noqa: E712 - a column expression, not a comparison
            & User.id.not_in(taken)
        )
        .order_by(User.display_name)
    )
    return [Candidate(r["id"], r["display_name"], r["email"]) for r in rows]
