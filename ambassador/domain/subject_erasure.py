"""Erasure at a person's request (GDPR art. 17), where the law allows.

A nomination is blanked as retention blanks it (``retention.blank``: names, addresses,
phones, texts, links and files gone; reference, edition, category, state and dates stay),
and withdrawn first when its edition is still under way. A draft goes with its held files,
a mail from the outbox. A laureate's record (and a nomination that became one) stays: it is
public by design; the refusal and its reason are recorded. The clerk confirms first; the
request and its answer are one audit entry (``privacy.erase``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ambassador.db import utcnow, write_transaction
from ambassador.domain import audit, retention
from ambassador.domain.subject_requests import (
    ACCOUNT,
    CONSENT,
    DRAFT,
    ERASE,
    MAIL,
    NOMINATION_MADE,
    NOMINATION_RECEIVED,
    PORTRAIT,
    Found,
    Item,
    collect,
    parse_query,
)
from ambassador.enums import NominationState
from ambassador.errors import N_, InvalidInput, NotAcknowledged
from ambassador.tables import HeldFile, Nomination, NominationDraft, OutboxMail

ERASE_IT, WITHDRAW_IT, REFUSE_IT = "erase", "withdraw", "refuse"
NOT_HERE: dict[str, str] = {
    CONSENT: N_("The consent is part of the nomination received: erasing that nomination erases it."),
    PORTRAIT: N_("The picture belongs to the laureate's record: remove it on the laureate's page."),
    ACCOUNT: N_(
        "A staff account is deactivated by an administrator on its page; "
        "the audit log's entries about it stay (legal obligation)."
    ),
}
NOT_FOUND = N_("This item is not among the data found for this person.")


@dataclass(frozen=True)
class Planned:
    item: Item
    outcome: str  # ERASE_IT, WITHDRAW_IT (withdrawn, then erased) or REFUSE_IT
    reason: str = ""  # msgid, for a refusal


def plan(found: Found, tokens: list[str]) -> list[Planned]:
    """What erasing these items would do; InvalidInput when none or an unknown one is chosen."""
    if not tokens:
        raise InvalidInput({"items": N_("Choose at least one item.")})
    planned: list[Planned] = []
    for token in dict.fromkeys(tokens):
        item = found.get(token)
        if item is None:
            raise InvalidInput({"items": NOT_FOUND})
        if item.can_erase:
            planned.append(Planned(item, WITHDRAW_IT if item.withdraws else ERASE_IT))
        else:
            reason = item.refusal or NOT_HERE.get(item.kind, N_("This item cannot be erased here."))
            planned.append(Planned(item, REFUSE_IT, reason))
    return planned


async def preview(*, raw_query: str, tokens: list[str]) -> list[Planned]:
    """The plan shown before the clerk confirms (nothing changes, nothing is audited)."""
    return plan(await collect(parse_query(raw_query)), tokens)


def _outcome(planned: list[Planned]) -> str:
    refused = sum(1 for p in planned if p.outcome == REFUSE_IT)
    if refused == len(planned):
        return "refused"
    return "partly" if refused else "erased"


async def erase(
    *, actor_id: int, raw_query: str, tokens: list[str], confirmed: bool, now: dt.datetime | None = None
) -> list[Planned]:
    """Erase what may be erased of the chosen items, refuse the rest with its reason; audited."""
    query = parse_query(raw_query)
    planned = plan(await collect(query), tokens)
    if not confirmed:
        raise NotAcknowledged()
    now = now or utcnow()
    done = [p for p in planned if p.outcome != REFUSE_IT]
    nominations = {p.item.id for p in done if p.item.kind in (NOMINATION_MADE, NOMINATION_RECEIVED)}
    withdrawn = {p.item.id for p in done if p.outcome == WITHDRAW_IT}
    drafts = [p.item.id for p in done if p.item.kind == DRAFT]
    mails = [p.item.id for p in done if p.item.kind == MAIL]
    async with write_transaction():
        if withdrawn:
            await retention.blank(sorted(withdrawn), now, {Nomination.state: NominationState.WITHDRAWN.value})
        if rest := sorted(nominations - withdrawn):
            await retention.blank(rest, now)
        if drafts:
            keys = await NominationDraft.select(NominationDraft.submission_key).where(NominationDraft.id.is_in(drafts))
            await HeldFile.delete().where(HeldFile.submission_key.is_in([k["submission_key"] for k in keys]))
            await NominationDraft.delete().where(NominationDraft.id.is_in(drafts))
        if mails:
            await OutboxMail.delete().where(OutboxMail.id.is_in(mails))
        await audit.record(
            ERASE,
            actor_id=actor_id,
            object_type="data_subject",
            object_id=query.digest(),
            data={
                "subject": query.digest(),
                "items": [p.item.token for p in planned],
                "erased": [p.item.token for p in done],
                "withdrawn": sorted(withdrawn),
                "refused": [{"item": p.item.token, "reason": p.reason} for p in planned if p.outcome == REFUSE_IT],
                "outcome": _outcome(planned),
            },
        )
    return planned
