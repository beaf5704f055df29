"""Corrections at a person's request (GDPR art. 16): a name, address or phone on a nomination.

The nomination must be among what ``subject_requests.collect`` finds for the person, on the
side corrected (their nomination made for the nominator's data, received for the nominee's).
The audit entry (``privacy.correct``) names the changed fields and holds keyed digests of the
old and new values, never the values (as ``nomination.edited`` names fields only).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ambassador.db import utcnow, write_transaction
from ambassador.domain import audit
from ambassador.domain.accounts import email_error, normalise_email
from ambassador.domain.nomination_rules import PHONE_RE
from ambassador.domain.nominations import MAX_NAME, MAX_PHONE
from ambassador.domain.subject_requests import (
    CORRECT,
    NOMINATION_MADE,
    NOMINATION_RECEIVED,
    SIDES,
    collect,
    parse_query,
    subject_digest,
)
from ambassador.errors import N_, InvalidInput, NotAllowed, NotFound, too_long
from ambassador.tables import Nomination
from ambassador.text import clean_line, fold


@dataclass(frozen=True)
class Correction:
    side: str  # "nominee" or "nominator"
    name: str
    email: str
    phone: str


def correction_errors(correction: Correction) -> dict[str, str]:
    errors: dict[str, str] = {}
    if correction.side not in SIDES:
        errors["side"] = N_("Choose whose data to correct.")
    if not correction.name:
        errors["name"] = N_("This field is required.")
    elif len(correction.name) > MAX_NAME:
        errors["name"] = too_long(MAX_NAME)
    if correction.email and (problem := email_error(correction.email)) is not None:
        errors["email"] = problem
    if correction.phone and (len(correction.phone) > MAX_PHONE or not PHONE_RE.match(correction.phone)):
        errors["phone"] = N_("Enter a phone number with digits only, like +48 12 345 67 89.")
    return errors


async def contact_of(nomination_id: int, side: str) -> Correction:
    """The name, address and phone of one side of a nomination, as the correction form shows them."""
    if side not in SIDES:
        raise NotFound()
    row = await Nomination.select().where(Nomination.id == nomination_id).first()
    if row is None:
        raise NotFound()
    return Correction(side, row[f"{side}_name"], row[f"{side}_email"], row[f"{side}_phone"])


async def correct(
    *, actor_id: int, raw_query: str, nomination_id: int, correction: Correction, now: dt.datetime | None = None
) -> list[str]:
    """Correct one side's name, address and phone on a nomination (art. 16); the changed
    fields' names. The audit holds digests of the old and new values, never the values."""
    query = parse_query(raw_query)
    correction = Correction(
        correction.side,
        clean_line(correction.name),
        normalise_email(clean_line(correction.email)),
        clean_line(correction.phone),
    )
    if errors := correction_errors(correction):
        raise InvalidInput(errors)
    now = now or utcnow()
    side = correction.side
    kind = NOMINATION_MADE if side == "nominator" else NOMINATION_RECEIVED
    if (await collect(query)).get(f"{kind}:{nomination_id}") is None:
        raise NotAllowed(N_("This nomination is not among the data found for this person."))
    async with write_transaction():
        row = await Nomination.select().where(Nomination.id == nomination_id).first()
        if row is None:
            raise NotFound()
        if row["erased_at"] is not None:
            raise NotAllowed(N_("This nomination's personal data has been erased."))
        wanted = {f"{side}_name": correction.name, f"{side}_email": correction.email, f"{side}_phone": correction.phone}
        changed = {k: v for k, v in wanted.items() if row[k] != v}
        if not changed:
            return []
        values: dict[Any, Any] = {getattr(Nomination, k): v for k, v in changed.items()}
        if "nominee_name" in changed:
            values[Nomination.nominee_key] = fold(correction.name)[:200]
        values[Nomination.updated_at] = now
        await Nomination.update(values).where(Nomination.id == nomination_id)
        await audit.record(
            CORRECT,
            actor_id=actor_id,
            object_type="nomination",
            object_id=nomination_id,
            data={
                "subject": query.digest(),
                "side": side,
                "fields": sorted(changed),
                "before": {k: subject_digest(row[k]) for k in sorted(changed)},
                "after": {k: subject_digest(v) for k, v in sorted(changed.items())},
                "outcome": "corrected",
            },
        )
    return sorted(changed)
