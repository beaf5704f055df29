"""The jury's rules in the domain: membership, conflicts, scoring phases, votes."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable

import pytest

from ambassador import vocabulary
from ambassador.db import utcnow
from ambassador.domain import (
    conflict_declarations,
    conflict_evidence,
    conflicts,
    consent,
    deliberation,
    editions,
    formal_check,
    jury,
    minutes,
    results,
    scoring,
    scoring_round,
)
from ambassador.domain.conflict_evidence import Clue, Evidence, NomineeFacts, Where
from ambassador.domain.deliberation import Tally
from ambassador.domain.editions import EditionView
from ambassador.domain.jury import Juror, JuryRules
from ambassador.domain.scoring import ScoreInput
from ambassador.enums import (
    ConflictKind,
    Distinction,
    EditionState,
    Majority,
    NominationState,
    Role,
    SheetStatus,
    VoteChoice,
)
from ambassador.errors import InvalidInput, Message, NotAllowed, NotFound
from ambassador.tables import AuditEntry, ConflictDeclaration, Edition, Nomination, ScoreSheet, User
from tests.clerk_factories import checked_edition
from tests.deliberation_factories import scored_edition
from tests.factories import make_edition, make_user, nomination_data
from tests.jury_admin_factories import last_mail_id, mails_since, put_in_state

BASE = "http://testserver.local"


def _juror(name: str = "Anna Jaśkowiak", email: str = "anna@um.krakow.pl", *organisations: str) -> Juror:
    return Juror(user_id=1, display_name=name, email=email, is_chair=False, organisations=organisations)


def _facts(**changes: str) -> NomineeFacts:
    values = {
        "nominee_name": "Fundacja Dialog",
        "nominee_email": "",
        "nominator_name": "Jan Nowak",
        "nominator_email": "jan@example.net",
        "nominator_organisation": "",
    } | changes
    return NomineeFacts(nomination_id=1, **values)


def test_detection_evidence_folds_case_and_diacritics_and_skips_webmail() -> None:
    assert conflict_evidence.evidence(_juror(), _facts()) == []
    assert conflict_evidence.evidence(_juror(), _facts(nominator_name="ANNA JASKOWIAK")) == [
        Evidence(Clue.NAME, Where.NOMINATOR)
    ]
    assert conflict_evidence.evidence(_juror(), _facts(nominee_name="Stowarzyszenie im. Jaśkowiak")) == [
        Evidence(Clue.SURNAME, Where.NOMINEE)
    ]
    assert conflict_evidence.evidence(_juror(), _facts(nominator_email="ANNA@um.krakow.pl")) == [
        Evidence(Clue.SAME_ADDRESS, Where.NOMINATOR_EMAIL)
    ]
    assert conflict_evidence.evidence(_juror(), _facts(nominee_email="biuro@um.krakow.pl")) == [
        Evidence(Clue.SAME_DOMAIN, Where.NOMINEE_EMAIL, "um.krakow.pl")
    ]
    webmail = _juror("Ewa Zielona", "ewa@gmail.com")
    assert conflict_evidence.evidence(webmail, _facts(nominator_email="other@gmail.com")) == []
    member = _juror("Ewa Zielona", "ewa@x.example", "Fundacja Dialog")
    assert conflict_evidence.evidence(member, _facts()) == [
        Evidence(Clue.ORGANISATION, Where.NOMINEE, "Fundacja Dialog")
    ]


def test_evidence_is_stored_as_codes_and_said_in_each_language() -> None:
    member = _juror("Anna Jaśkowiak", "anna@um.krakow.pl", "Fundacja Dialog")
    found = conflict_evidence.evidence(
        member, _facts(nominee_email="biuro@um.krakow.pl", nominee_name="Fundacja Dialog w Krakowie")
    )
    stored = conflict_evidence.encode(found)
    assert conflict_evidence.decode(stored) == tuple(found)
    assert [conflict_evidence.describe(e, "en") for e in found] == [
        "The juror's mail domain um.krakow.pl is the nominee's.",
        "The juror's organisation “Fundacja Dialog” appears in the nominee's name.",
    ]
    assert [conflict_evidence.describe(e, "pl") for e in found] == [
        "Domena pocztowa członka Kapituły um.krakow.pl jest też domeną kandydata.",
        "Organizacja członka Kapituły „Fundacja Dialog” występuje w nazwie kandydata.",
    ]
    assert [conflict_evidence.describe(e, "uk") for e in found] == [
        "Поштовий домен члена Капітули um.krakow.pl збігається з доменом кандидата.",
        "Організація члена Капітули «Fundacja Dialog» згадується в назві кандидата.",
    ]


def test_evidence_stored_as_english_sentences_before_the_codes_is_read_back() -> None:
    legacy = (
        "same address as the nominator email; same organisation domain as the nominee email (um.krakow.pl); "
        "juror's name in the nominator; juror's surname in the nominee; "
        "juror's organisation 'Fundacja Dialog' in the nominator's organisation; something unknown"
    )
    assert conflict_evidence.decode(legacy) == (
        Evidence(Clue.SAME_ADDRESS, Where.NOMINATOR_EMAIL),
        Evidence(Clue.SAME_DOMAIN, Where.NOMINEE_EMAIL, "um.krakow.pl"),
        Evidence(Clue.NAME, Where.NOMINATOR),
        Evidence(Clue.SURNAME, Where.NOMINEE),
        Evidence(Clue.ORGANISATION, Where.NOMINATOR_ORGANISATION, "Fundacja Dialog"),
    )
    assert conflict_evidence.decode("") == ()


def test_every_clue_the_detection_can_give_has_a_sentence() -> None:
    emails = {Where.NOMINEE_EMAIL, Where.NOMINATOR_EMAIL}
    possible = {
        f"{clue}:{where}"
        for clue in Clue
        for where in Where
        if (clue in (Clue.SAME_ADDRESS, Clue.SAME_DOMAIN)) == (where in emails)
    }
    assert possible == set(vocabulary.EVIDENCE)


def _tally(votes_for: int, against: int, abstain: int, chair: VoteChoice | None, eligible: int = 7) -> Tally:
    return Tally(
        proposal_id=1,
        nomination_id=1,
        reference="2025/0001",
        nominee_name="X",
        category="B",
        distinction=Distinction.TITLE,
        eligible=tuple(range(eligible)),
        excluded=(),
        votes_for=votes_for,
        against=against,
        abstain=abstain,
        quorum=deliberation.quorum_for(eligible, JuryRules()),
        chair_choice=chair,
    )


def test_vote_rules_majority_quorum_and_chairs_casting_vote() -> None:
    assert deliberation.quorum_for(7, JuryRules()) == 4
    assert deliberation.decide(_tally(3, 1, 0, None), Majority.SIMPLE) == (True, False)
    assert deliberation.decide(_tally(2, 1, 0, None), Majority.SIMPLE) == (False, False)  # 3 < quorum 4
    assert deliberation.decide(_tally(2, 2, 1, VoteChoice.FOR), Majority.SIMPLE) == (True, True)
    assert deliberation.decide(_tally(2, 2, 1, VoteChoice.AGAINST), Majority.SIMPLE) == (False, True)
    assert deliberation.decide(_tally(3, 1, 2, None), Majority.ABSOLUTE) == (False, True)  # 3 of 6 is not more
    assert deliberation.decide(_tally(4, 1, 2, None), Majority.ABSOLUTE) == (True, False)


async def _jury_edition(
    jurors: int = 3, before_scoring: Callable[[EditionView, int, list[int]], Awaitable[None]] | None = None
) -> tuple[EditionView, int, list[int], list[int]]:
    """An edition in jury scoring with two shortlisted nominations and ``jurors`` jurors.

    ``before_scoring`` runs during the formal check, before shortlisting.
    """
    clerk = (await make_user("clerk@city.example", (Role.CLERK,))).id
    edition = await make_edition(clerk_id=clerk)
    ids = []
    for index, name in enumerate(("Olena Kovalenko", "Tomasz Wiśniewski")):
        entered = await formal_check.enter_paper_nomination(
            actor_id=clerk,
            edition_id=edition.id,
            data=nomination_data(edition, nominee_name=name, nominee_email="", nominator_email=""),
            uploads=[],
            received_on=utcnow().date(),
            base_url=BASE,
        )
        ids.append(entered.nomination_id)
        await formal_check.decide(actor_id=clerk, nomination_id=entered.nomination_id, accept=True, reason="")
        await consent.record_paper_consent(
            actor_id=clerk, nomination_id=entered.nomination_id, given=True, note=f"binder {index}"
        )
    await Edition.update({Edition.closes_at: utcnow() - dt.timedelta(seconds=1)}).where(Edition.id == edition.id)
    await editions.advance(actor_id=clerk, edition_id=edition.id, target=EditionState.FORMAL_CHECK)
    if before_scoring is not None:
        await before_scoring(edition, clerk, ids)
    for nomination_id in ids:
        await formal_check.shortlist(actor_id=clerk, nomination_id=nomination_id)
    members = []
    for index in range(jurors):
        user = await make_user(f"juror{index}@jury.example.net", (Role.JUROR,), name=f"Juror Number{index}")
        await jury.appoint(actor_id=clerk, edition_id=edition.id, user_id=user.id, base_url=BASE)
        members.append(user.id)
    await jury.set_chair(actor_id=clerk, edition_id=edition.id, user_id=members[0])
    edition = await scoring_round.open_scoring(base_url=BASE, actor_id=clerk, edition_id=edition.id)
    return edition, clerk, members, ids


def _full(edition: EditionView, value: int, comment: str = "") -> ScoreInput:
    return ScoreInput(values={c.id: value for c in edition.criteria if c.id is not None}, comment=comment)


async def _declare_none(edition: EditionView, juror_id: int, nomination_ids: list[int]) -> None:
    for nomination_id in nomination_ids:
        await conflict_declarations.declare(
            juror_id=juror_id, edition_id=edition.id, nomination_id=nomination_id, conflicted=False
        )


async def test_a_juror_opens_nothing_before_declaring_and_nothing_conflicted_after() -> None:
    edition, _, (chair, second, _third), (first_id, second_id) = await _jury_edition()
    with pytest.raises(scoring.DeclareFirst):
        await scoring.dossier_for_juror(second, first_id)
    await conflict_declarations.declare(
        juror_id=second, edition_id=edition.id, nomination_id=first_id, conflicted=True, kind=ConflictKind.FAMILY
    )
    await conflict_declarations.declare(
        juror_id=second, edition_id=edition.id, nomination_id=second_id, conflicted=False
    )
    assert (await scoring.dossier_for_juror(second, second_id)).nominee_name == "Tomasz Wiśniewski"
    with pytest.raises(NotFound):
        await scoring.dossier_for_juror(second, first_id)
    with pytest.raises(NotFound):
        await scoring.save(juror_id=second, nomination_id=first_id, data=_full(edition, 5), submit=True)
    assert [item[0] for item in await scoring.to_score(edition.id, second)] == [second_id]
    outsider = await make_user("outsider@jury.example.net", (Role.JUROR,))
    with pytest.raises(NotFound):
        await scoring.dossier_for_juror(outsider.id, second_id)
    with pytest.raises(NotFound):
        await conflict_declarations.declaration_list(edition.id, outsider.id)
    assert chair != second


async def test_other_scores_are_visible_after_ones_own_and_a_late_conflict_voids_scores() -> None:
    edition, _, (chair, second, third), ids = await _jury_edition()
    for juror in (chair, second, third):
        await _declare_none(edition, juror, ids)
    await scoring.save(juror_id=chair, nomination_id=ids[0], data=_full(edition, 7, "Strong work"), submit=True)
    assert await scoring.others_sheets(second, ids[0]) == []
    await scoring.save(juror_id=second, nomination_id=ids[0], data=_full(edition, 4), submit=False)
    assert await scoring.others_sheets(second, ids[0]) == []
    await scoring.save(juror_id=second, nomination_id=ids[0], data=_full(edition, 5), submit=True)
    assert [(s.juror_id, s.comment) for s in await scoring.others_sheets(second, ids[0])] == [(chair, "Strong work")]
    await conflict_declarations.declare(
        juror_id=chair, edition_id=edition.id, nomination_id=ids[0], conflicted=True, kind=ConflictKind.BUSINESS
    )
    assert await scoring.others_sheets(second, ids[0]) == []
    sheets = await scoring.submitted_sheets(edition.id)
    assert [(s.juror_id, s.nomination_id) for s in sheets] == [(second, ids[0])]
    progress = {
        p.juror.user_id: (p.to_score, p.submitted, p.conflicted) for p in await scoring_round.progress(edition.id)
    }
    assert progress == {chair: (1, 0, 1), second: (2, 1, 0), third: (2, 0, 0)}


async def test_scores_are_checked_revisions_audited_and_closed_scoring_refuses() -> None:
    edition, _, (chair, second, _third), ids = await _jury_edition()
    await _declare_none(edition, second, ids)
    with pytest.raises(InvalidInput):
        await scoring.save(juror_id=second, nomination_id=ids[0], data=_full(edition, 11), submit=False)
    first = edition.criteria[0].id
    assert first is not None
    with pytest.raises(InvalidInput):
        await scoring.save(juror_id=second, nomination_id=ids[0], data=ScoreInput(values={first: 5}), submit=True)
    await scoring.save(juror_id=second, nomination_id=ids[0], data=_full(edition, 5), submit=True)
    revised = await scoring.save(juror_id=second, nomination_id=ids[0], data=_full(edition, 6), submit=False)
    assert revised.status == SheetStatus.SUBMITTED
    entry = await AuditEntry.select(AuditEntry.action, AuditEntry.data).order_by(AuditEntry.id, ascending=False).first()
    assert entry is not None
    assert entry["action"] == "score.submitted"
    assert '"old": 5' in str(entry["data"]) and '"new": 6' in str(entry["data"])
    with pytest.raises(NotAllowed):
        await scoring_round.close_scoring(chair_id=second, edition_id=edition.id)
    await _declare_none(edition, chair, ids)
    await scoring_round.close_scoring(chair_id=chair, edition_id=edition.id)
    with pytest.raises(scoring.ScoringClosed):
        await scoring.save(juror_id=second, nomination_id=ids[0], data=_full(edition, 9), submit=False)


async def test_proposals_votes_and_the_signed_recommendation() -> None:
    edition, _, (chair, second, third), ids = await _jury_edition()
    for juror in (chair, second, third):
        await _declare_none(edition, juror, ids)
    with pytest.raises(deliberation.NotDeliberating):
        await deliberation.propose(
            base_url=BASE, chair_id=chair, edition_id=edition.id, nomination_id=ids[0], distinction=Distinction.TITLE
        )
    await scoring_round.close_scoring(chair_id=chair, edition_id=edition.id)
    with pytest.raises(NotAllowed):
        await deliberation.propose(
            base_url=BASE, chair_id=second, edition_id=edition.id, nomination_id=ids[0], distinction=Distinction.TITLE
        )
    first = await deliberation.propose(
        base_url=BASE, chair_id=chair, edition_id=edition.id, nomination_id=ids[0], distinction=Distinction.TITLE
    )
    with pytest.raises(NotAllowed) as again:  # the database's unique nomination, as the domain's refusal
        await deliberation.propose(
            base_url=BASE, chair_id=chair, edition_id=edition.id, nomination_id=ids[0], distinction=Distinction.TITLE
        )
    assert again.value.message == "This nomination is already proposed."
    other = await deliberation.propose(
        base_url=BASE, chair_id=chair, edition_id=edition.id, nomination_id=ids[1], distinction=Distinction.TITLE
    )
    with pytest.raises(NotAllowed):  # an edition's B titles: 2, both used
        await deliberation.propose(
            base_url=BASE, chair_id=chair, edition_id=edition.id, nomination_id=ids[1], distinction=Distinction.TITLE
        )
    for juror, choice in ((chair, VoteChoice.FOR), (second, VoteChoice.FOR), (third, VoteChoice.AGAINST)):
        await deliberation.cast_vote(juror_id=juror, proposal_id=first, choice=choice)
    for juror, choice in ((chair, VoteChoice.AGAINST), (second, VoteChoice.FOR), (third, VoteChoice.ABSTAIN)):
        await deliberation.cast_vote(juror_id=juror, proposal_id=other, choice=choice)
    tallies = {t.proposal_id: (t.votes_for, t.against, t.abstain) for t in await deliberation.tallies(edition.id)}
    assert tallies == {first: (2, 1, 0), other: (1, 1, 1)}
    recommended = await deliberation.recommend(chair_id=chair, edition_id=edition.id)
    assert recommended.state == EditionState.RECOMMENDED
    states = await Nomination.select(Nomination.id, Nomination.state).order_by(Nomination.id)
    assert states == [
        {"id": ids[0], "state": NominationState.RECOMMENDED.value},
        {"id": ids[1], "state": NominationState.SHORTLISTED.value},
    ]


async def test_two_first_saves_at_once_give_one_sheet() -> None:
    edition, _, (_chair, second, _third), ids = await _jury_edition()
    await _declare_none(edition, second, ids)

    async def save(value: int) -> SheetStatus:
        sheet = await scoring.save(juror_id=second, nomination_id=ids[0], data=_full(edition, value), submit=False)
        return sheet.status

    assert list(await asyncio.gather(save(4), save(5))) == [SheetStatus.DRAFT, SheetStatus.DRAFT]
    assert await ScoreSheet.count() == 1


async def test_the_nominator_of_a_merged_duplicate_is_detected_on_the_dossier() -> None:
    async def merge_a_duplicate(edition: EditionView, clerk: int, ids: list[int]) -> None:
        duplicate = await formal_check.enter_paper_nomination(
            actor_id=clerk,
            edition_id=edition.id,
            data=nomination_data(
                edition,
                nominee_name="Olena Kovalenko",
                nominee_email="",
                nominator_email="",
                nominator_name="Juror Number1",
            ),
            uploads=[],
            received_on=utcnow().date(),
            base_url=BASE,
        )
        await formal_check.merge(actor_id=clerk, target_id=ids[0], duplicate_id=duplicate.nomination_id)

    edition, _, (chair, second, _third), ids = await _jury_edition(before_scoring=merge_a_duplicate)
    assert await conflicts.conflicted_ids(edition.id, second) == {ids[0]}
    assert await conflicts.conflicted_ids(edition.id, chair) == set()


async def test_a_conflicted_chair_sees_nothing_of_that_nomination() -> None:
    edition, _, (chair, second, third), ids = await _jury_edition()
    await conflict_declarations.declare(
        juror_id=chair, edition_id=edition.id, nomination_id=ids[0], conflicted=True, kind=ConflictKind.FAMILY
    )
    await _declare_none(edition, chair, ids[1:])
    for juror in (second, third):
        await _declare_none(edition, juror, ids)
        for nomination_id in ids:
            await scoring.save(juror_id=juror, nomination_id=nomination_id, data=_full(edition, 6), submit=True)
    seen = await results.for_chair(edition.id, chair)
    assert (set(seen.computed.nominations), set(seen.references)) == ({ids[1]}, {ids[1]})
    assert set((await results.compute(edition.id)).computed.nominations) == set(ids)
    with pytest.raises(NotAllowed):
        await minutes.minutes_for_chair(edition.id, chair, "en")
    await scoring_round.close_scoring(chair_id=chair, edition_id=edition.id)
    with pytest.raises(NotFound):
        await deliberation.propose(
            base_url=BASE, chair_id=chair, edition_id=edition.id, nomination_id=ids[0], distinction=Distinction.TITLE
        )


async def test_a_juror_votes_only_after_declaring() -> None:
    edition, _, (chair, second, _third), ids = await _jury_edition()
    await _declare_none(edition, chair, ids)
    await scoring_round.close_scoring(chair_id=chair, edition_id=edition.id)
    proposal = await deliberation.propose(
        base_url=BASE, chair_id=chair, edition_id=edition.id, nomination_id=ids[0], distinction=Distinction.TITLE
    )
    with pytest.raises(scoring.DeclareFirst):
        await deliberation.cast_vote(juror_id=second, proposal_id=proposal, choice=VoteChoice.FOR)


async def test_the_clerk_cannot_take_the_chairs_steps() -> None:
    edition, clerk, (chair, _second, _third), ids = await _jury_edition()
    with pytest.raises(editions.TransitionRefused) as refused:
        await editions.advance(actor_id=clerk, edition_id=edition.id, target=EditionState.DELIBERATION)
    assert refused.value.message == "Only the chair of the jury takes this step."
    await _declare_none(edition, chair, ids)
    assert (await scoring_round.close_scoring(chair_id=chair, edition_id=edition.id)).state == EditionState.DELIBERATION


async def test_a_declared_conflict_stays_once_scoring_is_closed() -> None:
    # Found by the authorisation matrix: a juror could take back a conflict during deliberation
    # and regain the dossier and a vote, changing the minutes' list of excluded members.
    setup = await scored_edition()
    juror, nomination_id = setup.jurors[2], setup.nominations[1]
    with pytest.raises(NotAllowed) as refused:
        await conflict_declarations.declare(
            juror_id=juror.id, edition_id=setup.edition.id, nomination_id=nomination_id, conflicted=False
        )
    assert refused.value.message == "Once scoring is closed, a declared conflict stays."
    row = await ConflictDeclaration.select(ConflictDeclaration.conflicted).where(
        (ConflictDeclaration.juror == juror.id) & (ConflictDeclaration.nomination == nomination_id)
    )
    assert row == [{"conflicted": True}]


async def _invite(edition_id: int, clerk_id: int, email: str, organisations: str = "") -> Juror:
    return await jury.invite_and_appoint(
        actor_id=clerk_id,
        edition_id=edition_id,
        email=email,
        display_name="Nowa Jurorka",
        language="pl",
        organisations=organisations,
        base_url=BASE,
        lifetime_seconds=3600,
    )


async def test_inviting_a_juror_creates_mails_and_appoints_in_one_transaction() -> None:
    clerk = await make_user("clerk@example.org", (Role.CLERK,))
    edition = await checked_edition(clerk_id=clerk.id)
    before_mail = await last_mail_id()
    last = await AuditEntry.select(AuditEntry.id).order_by(AuditEntry.id, ascending=False).first()
    assert last is not None

    juror = await _invite(edition.id, clerk.id, "nowa@example.net", "Rada Dzielnicy I")

    assert (juror.email, juror.organisations) == ("nowa@example.net", ("Rada Dzielnicy I",))
    assert [j.user_id for j in await jury.members(edition.id)] == [juror.user_id]
    assert [m["to_address"] for m in await mails_since(before_mail)] == ["nowa@example.net"] * 2
    actions = await AuditEntry.select(AuditEntry.action).where(AuditEntry.id > last["id"]).order_by(AuditEntry.id)
    assert [a["action"] for a in actions] == ["user.created", "user.invited", "jury.appointed"]

    # Refused after the account was created (too late to appoint): nothing of it stays.
    later = await checked_edition(clerk_id=clerk.id, year=2026)
    await put_in_state(later.id, EditionState.JURY_SCORING)
    with pytest.raises(NotAllowed) as refused:
        await _invite(later.id, clerk.id, "spozniona@example.net")
    assert refused.value.message == "Jurors are appointed before scoring opens."
    assert await User.exists().where(User.email == "spozniona@example.net") is False
    assert len(await mails_since(before_mail)) == 2

    # Every field's problem at once: the invitation's and the organisations' length.
    with pytest.raises(InvalidInput) as invalid:
        await _invite(edition.id, clerk.id, "not-an-email", "y" * (jury.MAX_ORGANISATIONS + 1))
    problem = invalid.value.errors["organisations"]
    assert isinstance(problem, Message)
    assert (str(problem), problem.params) == ("At most %(limit)d characters.", {"limit": 2000})
    assert "email" in invalid.value.errors
