"""The chair's irreversible steps, shown with their consequences before they are taken.

Closing scoring and signing the recommendation cannot be undone. As for the clerk's steps
(``steps``), the chair first sees what will change, what blocks the step and what to
acknowledge; :func:`close_scoring` and :func:`recommend` check the same again inside the step's
transaction, so what was shown is what is done.
"""

from __future__ import annotations

from collections import Counter

from ambassador.db import write_transaction
from ambassador.domain import deliberation, scoring_round
from ambassador.domain.consequences import Consequences, check
from ambassador.domain.editions import EditionView, get_edition
from ambassador.domain.jury import members, require_chair, rules_of
from ambassador.domain.scoring import SCORED, submitted_sheets
from ambassador.enums import Distinction, EditionState, Role
from ambassador.errors import N_, Message
from ambassador.tables import Nomination, User, UserRole, Vote
from ambassador.vocabulary import DISTINCTIONS

NOT_NOW = Message(N_("This step is not possible in the edition's current state."))


async def close_scoring_consequences(edition: EditionView) -> Consequences:
    """What closing scoring now would do: which nominations are ranked, who has not finished."""
    target = EditionState.DELIBERATION
    if edition.state != EditionState.JURY_SCORING:
        return Consequences(target, (), (NOT_NOW,), (), 0)
    minimum = (await rules_of(edition.id)).min_scores
    scored = await Nomination.select(Nomination.id, Nomination.reference).where(
        (Nomination.edition == edition.id) & Nomination.state.is_in([s.value for s in SCORED])
    )
    counts = Counter(sheet.nomination_id for sheet in await submitted_sheets(edition.id))
    short = sorted(str(r["reference"]) for r in scored if counts[int(r["id"])] < minimum)
    blocking: list[Message] = []
    if not counts:
        blocking.append(Message(N_("No juror has submitted a score sheet yet.")))
    warnings: list[Message] = []
    if short:
        warnings.append(
            Message(
                N_("These nominations have fewer than %(minimum)d scores and will not be ranked: %(list)s."),
                minimum=minimum,
                list=", ".join(short),
            )
        )
    behind = [p for p in await scoring_round.progress(edition.id) if p.left > 0]
    if behind:
        warnings.append(
            Message(
                N_("Jurors who have not submitted every score sheet (sheets left): %(list)s."),
                list=", ".join(f"{p.juror.display_name} ({p.left})" for p in behind),
            )
        )
    changes = (
        Message(N_("Scoring closes: no juror can change or submit a score any more.")),
        Message(N_("Nominations ranked: %(ranked)d of %(count)d."), ranked=len(scored) - len(short), count=len(scored)),
        Message(N_("The jury's deliberation begins: the chair proposes laureates and the jury votes.")),
    )
    return Consequences(target, changes, tuple(blocking), tuple(warnings), 0)


async def close_scoring(*, chair_id: int, edition_id: int, acknowledged: bool) -> EditionView:
    """The chair closes scoring, if nothing blocks it and its warnings were acknowledged."""
    async with write_transaction():
        await require_chair(edition_id, chair_id)
        check(await close_scoring_consequences(await get_edition(edition_id)), acknowledged)
        return await scoring_round.close_scoring(chair_id=chair_id, edition_id=edition_id)


def _outcome(t: deliberation.Tally, passed: bool) -> Message:
    said = (
        N_("%(reference)s %(name)s (%(distinction)s): passes the vote and is recommended.")
        if passed
        else N_("%(reference)s %(name)s (%(distinction)s): does not pass the vote and is not recommended.")
    )
    return Message(said, reference=t.reference, name=t.nominee_name, distinction=Message(DISTINCTIONS[t.distinction]))


async def _clerks() -> int:
    """How many active clerks the signed recommendation mails."""
    found = await User.count().where(
        User.id.is_in(UserRole.select(UserRole.user).where(UserRole.role == Role.CLERK.value))
        & (User.is_active == True)  # noqa: E712 - a column expression
    )
    return int(found)


async def _not_voted(edition_id: int, tallies: list[deliberation.Tally]) -> list[Message]:
    """Per proposal, the eligible jurors who have not voted on it."""
    names = {j.user_id: j.display_name for j in await members(edition_id)}
    votes = await Vote.select(Vote.proposal, Vote.juror).where(
        Vote.proposal.is_in([t.proposal_id for t in tallies] or [0])
    )
    cast = {(int(v["proposal"]), int(v["juror"])) for v in votes}
    found = []
    for t in tallies:
        missing = [names[j] for j in t.eligible if (t.proposal_id, j) not in cast and j in names]
        if missing:
            found.append(
                Message(
                    N_("%(reference)s (%(distinction)s): not voted yet by %(names)s."),
                    reference=t.reference,
                    distinction=Message(DISTINCTIONS[t.distinction]),
                    names=", ".join(missing),
                )
            )
    return found


def _unfilled(edition: EditionView, passed: list[deliberation.Tally]) -> list[Message]:
    """Categories whose titles or mentions are not all recommended."""
    given = Counter((t.category, t.distinction) for t in passed)
    found = []
    for category in edition.categories:
        for distinction in Distinction:
            limit = category.quota(distinction.value)
            if given[(category.code, distinction)] < limit:
                found.append(
                    Message(
                        N_("Category %(category)s, %(distinction)s: %(given)d recommended of the %(limit)d possible."),
                        category=category.code,
                        distinction=Message(DISTINCTIONS[distinction]),
                        given=given[(category.code, distinction)],
                        limit=limit,
                    )
                )
    return found


async def recommend_consequences(edition: EditionView) -> Consequences:
    """What signing the recommendation now would do: what passes, what fails, what is left open."""
    target = EditionState.RECOMMENDED
    if edition.state != EditionState.DELIBERATION:
        return Consequences(target, (), (NOT_NOW,), (), 0)
    rules = await rules_of(edition.id)
    tallies = await deliberation.tallies(edition.id)
    passed = [t for t in tallies if deliberation.decide(t, rules.majority)[0]]
    failed = [t for t in tallies if t not in passed]
    blocking = [] if passed else [Message(N_("No proposal has passed the vote."))]
    warnings = [*await _not_voted(edition.id, tallies), *_unfilled(edition, passed)]
    changes = [
        *(_outcome(t, True) for t in passed),
        *(_outcome(t, False) for t in failed),
        Message(N_("The recommendation is final: no vote or proposal can change after it is signed.")),
        Message(N_("The clerks are mailed to record the approving body's decision.")),
    ]
    return Consequences(target, tuple(changes), tuple(blocking), tuple(warnings), await _clerks())


async def recommend(*, chair_id: int, edition_id: int, acknowledged: bool) -> EditionView:
    """The chair signs the recommendation, if nothing blocks it and its warnings were acknowledged."""
    async with write_transaction():
        await require_chair(edition_id, chair_id)
        check(await recommend_consequences(await get_edition(edition_id)), acknowledged)
        return await deliberation.recommend(chair_id=chair_id, edition_id=edition_id)
