"""A jury and nominations before it, made through the domain as a clerk and the jurors would."""

from __future__ import annotations

from typing import Any

from ambassador.domain import conflict_declarations, consent, formal_check, jury, scoring
from ambassador.domain.accounts import Account
from ambassador.domain.editions import EditionView
from ambassador.domain.scoring import ScoreInput
from ambassador.enums import EditionState, Role
from ambassador.tables import Edition, OutboxMail
from tests.clerk_factories import BASE, paper_nomination
from tests.factories import make_user


async def accepted_nomination(edition: EditionView, *, clerk_id: int, **changes: Any) -> int:
    """A paper nomination accepted in the formal check (before the jury, not yet shortlisted)."""
    nomination_id = await paper_nomination(edition, clerk_id=clerk_id, **changes)
    await formal_check.decide(actor_id=clerk_id, nomination_id=nomination_id, accept=True, reason="")
    return nomination_id


async def shortlisted_nomination(edition: EditionView, *, clerk_id: int, **changes: Any) -> int:
    """Accepted, consent given on paper, and shortlisted for the jury to score."""
    nomination_id = await accepted_nomination(edition, clerk_id=clerk_id, **changes)
    await consent.record_paper_consent(actor_id=clerk_id, nomination_id=nomination_id, given=True, note="Folder 1")
    await formal_check.shortlist(actor_id=clerk_id, nomination_id=nomination_id)
    return nomination_id


async def appointed_juror(
    edition: EditionView,
    *,
    clerk_id: int,
    email: str,
    name: str,
    organisations: str = "",
    chair: bool = False,
    language: str = "en",
) -> Account:
    """A juror account (English mails) appointed to ``edition``, optionally as its chair."""
    juror = await make_user(email, (Role.JUROR,), name=name, language=language)
    await jury.appoint(
        actor_id=clerk_id, edition_id=edition.id, user_id=juror.id, organisations=organisations, base_url=BASE
    )
    if chair:
        await jury.set_chair(actor_id=clerk_id, edition_id=edition.id, user_id=juror.id)
    return juror


async def declare_all(edition: EditionView, juror_id: int, conflicted_on: dict[int, str] | None = None) -> None:
    """The juror answers for every nomination: no conflict, except the kinds in ``conflicted_on``."""
    kinds = conflicted_on or {}
    for listed in await conflict_declarations.declaration_list(edition.id, juror_id):
        kind = kinds.get(listed.nomination_id, "")
        await conflict_declarations.declare(
            juror_id=juror_id,
            edition_id=edition.id,
            nomination_id=listed.nomination_id,
            conflicted=bool(kind),
            kind=kind,
        )


async def score(
    edition: EditionView, juror_id: int, nomination_id: int, *, value: int, submit: bool, comment: str = ""
) -> None:
    """The juror gives ``value`` on every criterion, as a draft or submitted."""
    values: dict[int, int | None] = {c.id: value for c in edition.criteria if c.id is not None}
    await scoring.save(
        juror_id=juror_id,
        nomination_id=nomination_id,
        data=ScoreInput(values=values, comment=comment),
        submit=submit,
    )


async def mails_since(last_id: int) -> list[dict[str, Any]]:
    """Outbox rows queued after ``last_id``, oldest first."""
    return list(
        await OutboxMail.select(OutboxMail.to_address, OutboxMail.subject, OutboxMail.body_text)
        .where(OutboxMail.id > last_id)
        .order_by(OutboxMail.id)
    )


async def last_mail_id() -> int:
    row = await OutboxMail.select(OutboxMail.id).order_by(OutboxMail.id, ascending=False).first()
    return int(row["id"]) if row else 0


async def put_in_state(edition_id: int, state: EditionState) -> None:
    """Put an edition in a later state directly (the steps on the way are tested elsewhere)."""
    await Edition.update({Edition.state: state.value, Edition.open_slot: None}).where(Edition.id == edition_id)
