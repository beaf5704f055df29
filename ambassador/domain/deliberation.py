"""Deliberation: the chair proposes laureates, the jury votes, the chair signs the recommendation.

Conflicted jurors neither see nor vote on a proposal for that nomination, and they do not
count towards its quorum. A proposal passes with the majority the edition chose among the
votes cast, when enough of the eligible jurors voted; the chair's vote decides a tie.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ambassador.db import unique_or, utcnow, write_transaction
from ambassador.domain import audit, bulk, conflicts, editions, mail_schedule
from ambassador.domain.editions import EditionView, get_edition
from ambassador.domain.jury import Juror, JuryRules, members, require_chair, require_member, rules_of
from ambassador.domain.outbox import queue_mail
from ambassador.domain.scoring import DeclareFirst
from ambassador.enums import Distinction, EditionState, Majority, NominationState, Role, VoteChoice
from ambassador.errors import N_, DomainError, Message, NotAllowed, NotFound
from ambassador.i18n import translate
from ambassador.tables import Nomination, Proposal, User, UserRole, Vote


class NotDeliberating(DomainError):
    message = N_("The jury is not deliberating on this edition.")


@dataclass(frozen=True)
class Tally:
    """One proposal's votes among the jurors eligible for it."""

    proposal_id: int
    nomination_id: int
    reference: str
    nominee_name: str
    category: str
    distinction: Distinction
    eligible: tuple[int, ...]
    excluded: tuple[int, ...]
    votes_for: int
    against: int
    abstain: int
    quorum: int
    chair_choice: VoteChoice | None

    @property
    def cast(self) -> int:
        return self.votes_for + self.against + self.abstain

    @property
    def quorum_met(self) -> bool:
        return self.cast >= self.quorum


def decide(t: Tally, majority: Majority) -> tuple[bool, bool]:
    """(passed, decided by the chair's vote). Pure, so the rule is tested on its own."""
    if not t.quorum_met:
        return False, False
    if majority == Majority.SIMPLE:
        margin = t.votes_for - t.against
    else:
        margin = 2 * t.votes_for - t.cast
    if margin != 0:
        return margin > 0, False
    return t.chair_choice == VoteChoice.FOR, True


def quorum_for(eligible: int, rules: JuryRules) -> int:
    return max(1, math.ceil(eligible * rules.vote_quorum_percent / 100))


async def _deliberating(edition_id: int) -> EditionView:
    edition = await get_edition(edition_id)
    if edition.state != EditionState.DELIBERATION:
        raise NotDeliberating()
    return edition


def _limit(edition: EditionView, category: str, distinction: Distinction) -> int:
    """The category's quota of the distinction; a code the edition does not have gives none."""
    row = edition.category(category)
    return row.quota(distinction) if row else 0


async def propose(
    *, chair_id: int, edition_id: int, nomination_id: int, distinction: Distinction, base_url: str
) -> int:
    """Put a shortlisted nomination to the vote for a title or an honourable mention.

    The jurors who may vote on it are mailed (``mail_schedule.mail_vote_started``: one mail per
    juror for proposals made in a row).
    """
    async with unique_or(NotAllowed(N_("This nomination is already proposed."))), write_transaction():
        edition = await _deliberating(edition_id)
        await require_chair(edition_id, chair_id)
        row = (
            await Nomination.select(Nomination.category, Nomination.state)
            .where((Nomination.id == nomination_id) & (Nomination.edition == edition_id))
            .first()
        )
        if row is None or row["state"] != NominationState.SHORTLISTED.value:
            raise NotFound()
        if nomination_id in await conflicts.conflicted_ids(edition_id, chair_id):
            raise NotFound()
        taken = await Proposal.count().where(
            (Proposal.edition == edition_id)
            & (Proposal.distinction == distinction.value)
            & (Proposal.nomination.category == row["category"])
        )
        if taken >= _limit(edition, row["category"], distinction):
            raise NotAllowed(N_("The edition's number of these distinctions in this category is reached."))
        proposal = Proposal(
            edition=edition_id,
            nomination=nomination_id,
            distinction=distinction.value,
            proposed_by=chair_id,
            proposed_at=utcnow(),
        )
        await proposal.save()
        mailed = await mail_schedule.mail_vote_started(
            edition=edition, nomination_id=nomination_id, proposer_id=chair_id, base_url=base_url, now=utcnow()
        )
        await audit.record(
            "deliberation.proposed",
            actor_id=chair_id,
            object_type="nomination",
            object_id=nomination_id,
            data={"distinction": distinction.value, "mailed": mailed},
        )
    return int(proposal.id)


async def withdraw_proposal(*, chair_id: int, proposal_id: int) -> None:
    async with write_transaction():
        row = await Proposal.select().where(Proposal.id == proposal_id).first()
        if row is None:
            raise NotFound()
        await _deliberating(row["edition"])
        await require_chair(row["edition"], chair_id)
        await Vote.delete().where(Vote.proposal == proposal_id)
        await Proposal.delete().where(Proposal.id == proposal_id)
        await audit.record(
            "deliberation.proposal_withdrawn",
            actor_id=chair_id,
            object_type="nomination",
            object_id=row["nomination"],
        )


async def cast_vote(*, juror_id: int, proposal_id: int, choice: VoteChoice) -> None:
    """A non-conflicted juror votes (or changes the vote) while the jury deliberates."""
    async with write_transaction():
        row = await Proposal.select().where(Proposal.id == proposal_id).first()
        if row is None:
            raise NotFound()
        await require_member(row["edition"], juror_id)
        if row["nomination"] in await conflicts.conflicted_ids(row["edition"], juror_id):
            raise NotFound()
        if not await conflicts.has_declared_all(row["edition"], juror_id):
            raise DeclareFirst()
        await _deliberating(row["edition"])
        existing = await Vote.select(Vote.id).where((Vote.proposal == proposal_id) & (Vote.juror == juror_id)).first()
        if existing:
            await Vote.update({Vote.choice: choice.value, Vote.cast_at: utcnow()}).where(Vote.id == existing["id"])
        else:
            await Vote(proposal=proposal_id, juror=juror_id, choice=choice.value, cast_at=utcnow()).save()
        await audit.record(
            "deliberation.voted",
            actor_id=juror_id,
            object_type="nomination",
            object_id=row["nomination"],
            data={"choice": choice.value},
        )


INVALID_CHOICE = N_("Choose for, against or abstain.")


async def cast_votes(*, juror_id: int, edition_id: int, choices: dict[int, str]) -> bulk.Outcome:
    """A juror's votes on several proposals of one edition from one form (proposal id → the
    choice's value). Unchanged choices are left alone; each other one goes through
    ``cast_vote`` in its own transaction; proposals the juror may not see are refused, unnamed."""
    if not choices:
        raise bulk.NothingChosen()
    if len(choices) > bulk.MAX_ITEMS:
        raise bulk.TooMany()
    visible = {t.proposal_id: (t, own) for t, own in await for_juror(edition_id, juror_id)}
    changed: list[tuple[str, tuple[int, VoteChoice]]] = []
    failed: list[bulk.Failure] = []
    for proposal_id, raw in choices.items():
        if proposal_id not in visible:
            failed.extend(bulk.refused([f"#{proposal_id}"]))
            continue
        tally, own = visible[proposal_id]
        label = f"{tally.reference} {tally.nominee_name}"
        if raw not in set(VoteChoice):
            failed.append(bulk.Failure(label, Message(INVALID_CHOICE)))
        elif own != VoteChoice(raw):
            changed.append((label, (proposal_id, VoteChoice(raw))))

    async def one(item: tuple[int, VoteChoice]) -> None:
        await cast_vote(juror_id=juror_id, proposal_id=item[0], choice=item[1])

    done = await bulk.apply(changed, one)
    return bulk.Outcome(done.done, (*done.failed, *failed))


async def tallies(edition_id: int) -> list[Tally]:
    """Every proposal of the edition with its votes (clerk and chair; jurors via ``for_juror``)."""
    rules = await rules_of(edition_id)
    jury = await members(edition_id)
    chair = next((j.user_id for j in jury if j.is_chair), None)
    blocked = conflicts.conflicted_pairs(await conflicts.matrix(edition_id))
    rows = await _proposal_rows(edition_id)
    choices = await _choices_by_proposal([r["id"] for r in rows])
    return [
        _tally(row, jury=jury, blocked=blocked, choices=choices.get(row["id"], {}), chair=chair, rules=rules)
        for row in rows
    ]


async def _proposal_rows(edition_id: int) -> list[dict[str, Any]]:
    """The edition's proposals with their nominations, by category, distinction and order."""
    return list(
        await Proposal.select(
            Proposal.id,
            Proposal.nomination,
            Proposal.distinction,
            Proposal.nomination.reference,
            Proposal.nomination.nominee_name,
            Proposal.nomination.category,
        )
        .where(Proposal.edition == edition_id)
        .order_by(Proposal.nomination.category, Proposal.distinction, Proposal.id)
    )


async def _choices_by_proposal(proposal_ids: list[int]) -> dict[int, dict[int, VoteChoice]]:
    """Each proposal's votes: juror to choice (in one query)."""
    votes = await Vote.select(Vote.proposal, Vote.juror, Vote.choice).where(Vote.proposal.is_in(proposal_ids or [0]))
    found: dict[int, dict[int, VoteChoice]] = {}
    for v in votes:
        found.setdefault(v["proposal"], {})[v["juror"]] = VoteChoice(v["choice"])
    return found


def _tally(
    row: dict[str, Any],
    *,
    jury: list[Juror],
    blocked: set[tuple[int, int]],
    choices: dict[int, VoteChoice],
    chair: int | None,
    rules: JuryRules,
) -> Tally:
    """One proposal's tally: only the votes of jurors not conflicted on its nomination count."""
    eligible = tuple(j.user_id for j in jury if (j.user_id, row["nomination"]) not in blocked)
    counted = {j: c for j, c in choices.items() if j in eligible}
    counts = Counter(counted.values())
    return Tally(
        proposal_id=row["id"],
        nomination_id=row["nomination"],
        reference=row["nomination.reference"],
        nominee_name=row["nomination.nominee_name"],
        category=row["nomination.category"],
        distinction=Distinction(row["distinction"]),
        eligible=eligible,
        excluded=tuple(j.user_id for j in jury if j.user_id not in eligible),
        votes_for=counts[VoteChoice.FOR],
        against=counts[VoteChoice.AGAINST],
        abstain=counts[VoteChoice.ABSTAIN],
        quorum=quorum_for(len(eligible), rules),
        chair_choice=counted.get(chair) if chair is not None else None,
    )


async def for_juror(edition_id: int, juror_id: int) -> list[tuple[Tally, VoteChoice | None]]:
    """The proposals a juror may see, with their own vote; conflicted ones are left out."""
    await require_member(edition_id, juror_id)
    blocked = await conflicts.conflicted_ids(edition_id, juror_id)
    own = {
        v["proposal"]: VoteChoice(v["choice"])
        for v in await Vote.select(Vote.proposal, Vote.choice).where(Vote.juror == juror_id)
    }
    return [(t, own.get(t.proposal_id)) for t in await tallies(edition_id) if t.nomination_id not in blocked]


async def recommend(*, chair_id: int, edition_id: int) -> EditionView:
    """The chair signs the recommendation: passed proposals become recommended nominations."""
    async with write_transaction():
        await _deliberating(edition_id)
        await require_chair(edition_id, chair_id)
        rules = await rules_of(edition_id)
        outcome = [(t, *decide(t, rules.majority)) for t in await tallies(edition_id)]
        passed = [t for t, ok, _ in outcome if ok]
        if not passed:
            raise NotAllowed(N_("No proposal has passed the vote."))
        await Nomination.update({Nomination.state: NominationState.RECOMMENDED.value}).where(
            Nomination.id.is_in([t.nomination_id for t in passed])
        )
        await audit.record(
            "deliberation.recommended",
            actor_id=chair_id,
            object_type="edition",
            object_id=edition_id,
            data={
                "passed": [
                    [t.reference, t.distinction.value, t.votes_for, t.against, t.abstain] for t, ok, _ in outcome if ok
                ],
                "failed": [
                    [t.reference, t.distinction.value, t.votes_for, t.against, t.abstain]
                    for t, ok, _ in outcome
                    if not ok
                ],
                "chair_decided": [t.reference for t, _, by_chair in outcome if by_chair],
            },
        )
        edition = await editions.advance(
            actor_id=chair_id, edition_id=edition_id, target=EditionState.RECOMMENDED, owned_step=True
        )
        await _mail_clerks(edition, len(passed))
    return edition


async def _mail_clerks(edition: EditionView, count: int) -> None:
    rows = await User.select(User.email, User.display_name, User.language).where(
        User.id.is_in(UserRole.select(UserRole.user).where(UserRole.role == Role.CLERK.value))
        & (User.is_active == True)  # noqa: E712 - a column expression
    )
    for r in rows:
        language = r["language"]
        await queue_mail(
            to=r["email"],
            subject=translate(language, N_("The jury's recommendation for %(edition)s"), edition=edition.label),
            body="\n\n".join(
                [
                    translate(language, N_("Hello %(name)s,"), name=r["display_name"]),
                    translate(
                        language,
                        N_("The chair has signed the jury's recommendation of %(count)s nominations for %(edition)s."),
                        count=count,
                        edition=edition.label,
                    ),
                ]
            ),
            language=language,
        )


def chair_of(jury: list[Juror]) -> Juror | None:
    return next((j for j in jury if j.is_chair), None)
