"""The nominee's consent: answered through the emailed link, or recorded by a clerk from paper."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ambassador.db import utcnow, write_transaction
from ambassador.domain import audit
from ambassador.domain.editions import EditionView, get_edition
from ambassador.domain.nominations import NominationView, get_nomination, opened_by_link
from ambassador.enums import ConsentState, EditionState, NominationState, NominationTokenPurpose
from ambassador.errors import N_, InvalidInput, NotAllowed, too_long
from ambassador.tables import Nomination
from ambassador.text import clean_text

# The nominee answers (or changes the answer) through the link until the jury starts scoring.
CONSENT_OPEN_STATES = frozenset({EditionState.OPEN, EditionState.FORMAL_CHECK})


MAX_NOTE = 2000


@dataclass(frozen=True)
class ConsentRequest:
    """What the nominee sees: who is nominated for which edition, and the answer so far."""

    reference: str
    nominee_name: str
    nominee_is_minor: bool
    category: str  # the code of one of the edition's categories
    edition: EditionView
    consent: ConsentState


async def consent_request(token: str) -> ConsentRequest:
    nomination = (await opened_by_link(token, NominationTokenPurpose.CONSENT, utcnow())).nomination
    return ConsentRequest(
        reference=nomination.reference,
        nominee_name=nomination.nominee_name,
        nominee_is_minor=nomination.nominee_is_minor,
        category=nomination.category,
        edition=await get_edition(nomination.edition_id),
        consent=nomination.consent,
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
        nomination = (await opened_by_link(token, NominationTokenPurpose.CONSENT, now)).nomination
        edition = await get_edition(nomination.edition_id)
        if edition.state not in CONSENT_OPEN_STATES:
            raise NotAllowed(N_("The answer can no longer be changed here. Please contact the city office."))
        await _set_consent(nomination.id, given, actor_id=None, note="", channel="link", now=now)
    return ConsentState.GIVEN if given else ConsentState.REFUSED


async def record_paper_consent(
    *, actor_id: int, nomination_id: int, given: bool, note: str, now: dt.datetime | None = None
) -> NominationView:
    """A clerk records consent given (or refused) on paper, with a note saying where it is."""
    note = clean_text(note)
    if not note:
        raise InvalidInput({"consent_note": N_("Say where the signed consent is kept.")})
    if len(note) > MAX_NOTE:
        raise InvalidInput({"consent_note": too_long(MAX_NOTE)})
    async with write_transaction():
        current = await get_nomination(nomination_id)
        if current.state in (NominationState.UNCONFIRMED, NominationState.MERGED):
            raise NotAllowed()
        await _set_consent(nomination_id, given, actor_id=actor_id, note=note, channel="paper", now=now or utcnow())
    return await get_nomination(nomination_id)
