"""The clerk's lifecycle steps, shown with their consequences before they are taken.

Opening an edition, closing nominations and opening scoring cannot be undone. Before each,
the clerk sees what will change, what blocks the step (errors: it is refused), what deserves a
second look (warnings the clerk acknowledges) and who will be mailed; :func:`take` checks the
same again inside the step's transaction, so what was shown is what is done.

Closing nominations before the announced closing time is a step of its own ("close now"): the
closing time becomes now, and the nominators who were promised changes until the old time are
told by mail.
"""

from __future__ import annotations

import datetime as dt

from ambassador.db import utcnow, write_transaction
from ambassador.domain import audit, editions, scoring_round, window_mails
from ambassador.domain.consequences import Consequences, check
from ambassador.domain.editions import EditionView, TransitionRefused, get_edition
from ambassador.domain.jury import members, rules_of
from ambassador.domain.window_mails import editable_nominations, when
from ambassador.enums import EditionState, NominationState
from ambassador.errors import N_, Message
from ambassador.tables import ConflictDeclaration, Edition, Nomination

# The steps a clerk takes from the edition's page through this confirmation.
CLERK_STEPS = frozenset({EditionState.OPEN, EditionState.FORMAL_CHECK, EditionState.JURY_SCORING})


async def _refusal(edition: EditionView, target: EditionState, now: dt.datetime) -> Message | None:
    """The lifecycle's own precondition, as one blocking message (or None)."""
    try:
        await editions.check_step(edition, target, now)
    except TransitionRefused as refused:
        return Message(refused.message)
    return None


async def _open(edition: EditionView, now: dt.datetime) -> Consequences:
    blocking = [m for m in [await _refusal(edition, EditionState.OPEN, now)] if m]
    if await Edition.exists().where(Edition.state == EditionState.OPEN.value):
        blocking.append(Message(N_("Another edition is open for nominations. Close it first.")))
    changes = (
        Message(N_("The nomination form accepts nominations until %(moment)s."), moment=when(edition.closes_at)),
        Message(N_("The categories and the year can no longer be changed.")),
    )
    return Consequences(EditionState.OPEN, changes, tuple(blocking), (), 0)


async def _close(edition: EditionView, now: dt.datetime) -> Consequences:
    early = now < edition.closes_at
    editable = await editable_nominations(edition.id) if early else []
    mailed = sum(1 for r in editable if r["nominator_email"])  # one mail per nomination
    changes = (
        Message(N_("The nomination form stops accepting nominations.")),
        Message(N_("Nominators can no longer confirm, change or withdraw their nominations.")),
        Message(N_("The formal check of the nominations begins.")),
    )
    warnings: tuple[Message, ...] = ()
    if early:
        warnings = (
            Message(
                N_(
                    "The announced closing time, %(moment)s, has not come yet: nominations close now instead. "
                    "Nominations that could still be changed: %(count)d; their nominators are told by mail."
                ),
                moment=when(edition.closes_at),
                count=len(editable),
            ),
        )
    return Consequences(EditionState.FORMAL_CHECK, changes, (), warnings, mailed, early=early)


async def _scoring(edition: EditionView, now: dt.datetime) -> Consequences:
    blocking = [m for m in [await _refusal(edition, EditionState.JURY_SCORING, now)] if m]
    jurors = await members(edition.id)
    rules = await rules_of(edition.id)
    if not jurors:
        blocking.append(Message(N_("Appoint the jury first.")))
    elif not any(j.is_chair for j in jurors):
        blocking.append(Message(N_("Name the chair of the jury first.")))
    if jurors and len(jurors) < rules.min_scores:
        blocking.append(
            Message(
                N_(
                    "Jury members: %(jurors)d. A nomination needs at least %(minimum)d scores to be ranked: "
                    "appoint more jurors or lower the minimum in the jury's rules."
                ),
                jurors=len(jurors),
                minimum=rules.min_scores,
            )
        )
    warnings: list[Message] = []
    shortlisted = await Nomination.select(Nomination.id, Nomination.reference).where(
        (Nomination.edition == edition.id) & (Nomination.state == NominationState.SHORTLISTED.value)
    )
    declared = await ConflictDeclaration.select(ConflictDeclaration.nomination).where(
        (ConflictDeclaration.edition == edition.id)
        & (ConflictDeclaration.conflicted == True)  # noqa: E712 - a column expression
        & (ConflictDeclaration.kind != "")
    )
    conflicted: dict[int, int] = {}
    for row in declared:
        conflicted[int(row["nomination"])] = conflicted.get(int(row["nomination"]), 0) + 1
    short = sorted(
        str(r["reference"]) for r in shortlisted if len(jurors) - conflicted.get(int(r["id"]), 0) < rules.min_scores
    )
    if jurors and len(jurors) >= rules.min_scores and short:
        warnings.append(
            Message(
                N_("Because of declared conflicts, these nominations cannot reach %(minimum)d scores: %(list)s."),
                minimum=rules.min_scores,
                list=", ".join(short),
            )
        )
    changes = (
        Message(N_("Conflicts of interest are detected automatically.")),
        Message(
            N_("The jurors can declare conflicts and score the %(count)d shortlisted nominations."),
            count=len(shortlisted),
        ),
        Message(
            N_(
                "The criteria, the scale and the jury's rules can no longer be changed, "
                "except the scoring deadline and its reminder."
            )
        ),
    )
    return Consequences(EditionState.JURY_SCORING, changes, tuple(blocking), tuple(warnings), len(jurors))


async def consequences(edition: EditionView, target: EditionState, now: dt.datetime | None = None) -> Consequences:
    """What taking the clerk's step ``target`` now would do (nothing is changed)."""
    now = now or utcnow()
    if target not in CLERK_STEPS or edition.next_state != target:
        return Consequences(
            target, (), (Message(N_("This step is not possible in the edition's current state.")),), (), 0
        )
    if target == EditionState.OPEN:
        return await _open(edition, now)
    if target == EditionState.FORMAL_CHECK:
        return await _close(edition, now)
    return await _scoring(edition, now)


async def take(
    *,
    actor_id: int,
    edition_id: int,
    target: EditionState,
    acknowledged: bool,
    base_url: str,
    now: dt.datetime | None = None,
) -> EditionView:
    """Take the clerk's step, if nothing blocks it and its warnings were acknowledged."""
    now = now or utcnow()
    async with write_transaction():
        edition = await get_edition(edition_id)
        found = await consequences(edition, target, now)
        check(found, acknowledged)
        if found.early:
            await Edition.update({Edition.closes_at: now, Edition.updated_at: now}).where(Edition.id == edition_id)
            mailed = await window_mails.mail_new_deadline(
                edition_id=edition_id, label=edition.label, moment=now, closed=True
            )
            await audit.record(
                "edition.closed_early",
                actor_id=actor_id,
                object_type="edition",
                object_id=edition_id,
                data={"announced": edition.closes_at.isoformat(), "closed": now.isoformat(), "mailed": mailed},
            )
        if target == EditionState.JURY_SCORING:
            return await scoring_round.open_scoring(actor_id=actor_id, edition_id=edition_id, base_url=base_url)
        return await editions.advance(actor_id=actor_id, edition_id=edition_id, target=target, now=now)
