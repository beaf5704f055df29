"""A whole edition through the jury: 7 jurors, 25 nominations, 2 declared and 2 detected
conflicts (one pinned, one dismissed), scores, ranking, votes and the recommendation.

Every expected value below is computed by hand in the comments. Each juror gives a
nomination the same value on every criterion, so a sheet's weighted total is that value.
Juror offsets d = (0, +1, -1, 0, +1, -1, 0) for jurors J0..J6 (J0 chairs).
"""

from __future__ import annotations

import datetime as dt

import pytest

from ambassador.db import utcnow
from ambassador.domain import (
    conflict_declarations,
    conflicts,
    consent,
    deliberation,
    editions,
    formal_check,
    jury,
    results,
    scoring,
    scoring_round,
)
from ambassador.domain.editions import EditionView
from ambassador.domain.jury import JuryRules
from ambassador.domain.scoring import ScoreInput
from ambassador.enums import ConflictKind, Distinction, EditionState, NominationState, Role, VoteChoice
from ambassador.errors import NotFound
from ambassador.tables import Edition, Nomination
from tests.factories import make_edition, make_user, nomination_data, set_quota

BASE = "http://testserver.local"
OFFSETS = (0, 1, -1, 0, 1, -1, 0)
JURORS = (
    ("Anna Zorawska", "anna.zorawska@jury.example.net"),
    ("Bartosz Kwiecien", "bartosz.kwiecien@jury.example.net"),
    ("Celina Dobrowolska", "celina.dobrowolska@jury.example.net"),
    ("Dorota Wierzbicka", "dorota@dialog.example.pl"),  # J3: same domain as B05's nominator
    ("Marek Jaśkowiak", "marek.jaskowiak@jury.example.net"),  # J4: named by A07's nominator
    ("Ewa Mlynarczyk", "ewa.mlynarczyk@jury.example.net"),
    ("Filip Grabowski", "filip.grabowski@jury.example.net"),
)
# Flat nominations: quality q, juror j gives q + d_j.
FLAT_A = {"A01": 9, "A03": 8, "A04": 7, "A05": 6, "A06": 5, "A07": 5, "A08": 4, "A09": 3, "A10": 3, "A11": 2, "A12": 1}
FLAT_B = {"B01": 9, "B02": 9, "B03": 8, "B04": 7, "B05": 6, "B06": 5, "B07": 5, "B08": 4, "B09": 4, "B10": 3}
FLAT_B |= {"B11": 2, "B12": 1, "B13": 1}
# A02: same mean (8) and median (8) as A03 but two sheets at the scale's top: wins on top_scores.
A02 = (10, 10, 6, 6, 8, 8, 8)
A03_FLAT = 8  # A03 gets 8 from everyone, no offset


def _values(label: str, juror: int) -> int:
    if label == "A02":
        return A02[juror]
    if label == "A03":
        return A03_FLAT
    quality = FLAT_A.get(label) or FLAT_B[label]
    return quality + OFFSETS[juror]


FOR, AGAINST, ABSTAIN = VoteChoice.FOR, VoteChoice.AGAINST, VoteChoice.ABSTAIN
LABELS = [f"A{i:02d}" for i in range(1, 13)] + [f"B{i:02d}" for i in range(1, 14)]


async def _shortlisted_edition(clerk: int) -> tuple[EditionView, dict[str, int]]:
    """25 nominations entered, accepted, consented and shortlisted; 2 titles + 1 mention each."""
    edition = await make_edition(clerk_id=clerk)
    for code in ("A", "B"):
        await set_quota(edition.id, code, mentions=1)
    edition = await editions.get_edition(edition.id)
    ids: dict[str, int] = {}
    for label in LABELS:
        nominator = {"A07": "Marek Jaskowiak"}.get(label, f"Citizen {label}")
        entered = await formal_check.enter_paper_nomination(
            actor_id=clerk,
            edition_id=edition.id,
            data=nomination_data(
                edition,
                category=label[0],
                organisation_kind="ngo" if label[0] == "A" else "",
                nominee_name=f"Nominee {label}",
                nominee_email="",
                nominator_name=nominator,
                nominator_email="biuro@dialog.example.pl" if label == "B05" else "",
            ),
            uploads=[],
            received_on=utcnow().date(),
            base_url=BASE,
        )
        ids[label] = entered.nomination_id
        await formal_check.decide(actor_id=clerk, nomination_id=entered.nomination_id, accept=True, reason="")
        await consent.record_paper_consent(
            actor_id=clerk, nomination_id=entered.nomination_id, given=True, note="signed form"
        )
    await Edition.update({Edition.closes_at: utcnow() - dt.timedelta(seconds=1)}).where(Edition.id == edition.id)
    await editions.advance(actor_id=clerk, edition_id=edition.id, target=EditionState.FORMAL_CHECK)
    for nomination_id in ids.values():
        await formal_check.shortlist(actor_id=clerk, nomination_id=nomination_id)
    return edition, ids


async def _declare_and_score(edition: EditionView, jurors: list[int], ids: dict[str, int]) -> None:
    """J1 declares a conflict on A01, J2 on B02; everyone scores everything else."""
    declared = {(jurors[1], ids["A01"]): ConflictKind.ORGANISATION, (jurors[2], ids["B02"]): ConflictKind.FAMILY}
    for index, juror in enumerate(jurors):
        for nomination_id in ids.values():
            kind = declared.get((juror, nomination_id))
            await conflict_declarations.declare(
                juror_id=juror,
                edition_id=edition.id,
                nomination_id=nomination_id,
                conflicted=kind is not None,
                kind=kind or "",
            )
        blocked = await conflicts.conflicted_ids(edition.id, juror)
        for label, nomination_id in ids.items():
            if nomination_id in blocked:
                with pytest.raises(NotFound):
                    await scoring.dossier_for_juror(juror, nomination_id)
                continue
            value = _values(label, index)
            values: dict[int, int | None] = {c.id: value for c in edition.criteria if c.id is not None}
            await scoring.save(juror_id=juror, nomination_id=nomination_id, data=ScoreInput(values=values), submit=True)


async def test_a_full_edition_from_shortlist_to_signed_recommendation() -> None:
    clerk = (await make_user("clerk@city.example", (Role.CLERK,))).id
    edition, ids = await _shortlisted_edition(clerk)
    jurors = []
    for name, email in JURORS:
        user = await make_user(email, (Role.JUROR,), name=name)
        await jury.appoint(actor_id=clerk, edition_id=edition.id, user_id=user.id, base_url=BASE)
        jurors.append(user.id)
    await jury.set_chair(actor_id=clerk, edition_id=edition.id, user_id=jurors[0])
    await jury.set_rules(
        actor_id=clerk,
        edition_id=edition.id,
        rules=JuryRules(
            appointment_document="Zarządzenie nr 1/2026", min_scores=5, tie_break=("median", "top_scores", "vote")
        ),
    )
    edition = await scoring_round.open_scoring(base_url=BASE, actor_id=clerk, edition_id=edition.id)

    # Detection found exactly the two planted conflicts; the clerk pins one, dismisses one.
    matrix = await conflicts.matrix(edition.id)
    detected = {(j, n): c for (j, n), c in matrix.cells.items() if c.detection_id is not None}
    assert sorted(detected) == sorted([(jurors[3], ids["B05"]), (jurors[4], ids["A07"])])
    await conflict_declarations.decide_detection(
        actor_id=clerk, detection_id=detected[(jurors[3], ids["B05"])].detection_id or 0, confirm=True, reason=""
    )
    await conflict_declarations.decide_detection(
        actor_id=clerk,
        detection_id=detected[(jurors[4], ids["A07"])].detection_id or 0,
        confirm=False,
        reason="A namesake, not related",
    )
    await _declare_and_score(edition, jurors, ids)
    assert {p.juror.user_id: p.left for p in await scoring_round.progress(edition.id)} == dict.fromkeys(jurors, 0)

    computed = (await results.compute(edition.id)).computed
    ranked_a = [(r.nomination_id, r.rank, round(r.score, 4)) for r in computed.rankings["A"].ranked[:4]]
    # A01 without J1 (d=+1): 9,8,9,10,8,9 → 53/6 = 8.8333. A02: 56/7 = 8, median 8, two top
    # sheets; A03: 8, median 8, none: top_scores puts A02 first. A04: 7.
    assert ranked_a == [(ids["A01"], 1, 8.8333), (ids["A02"], 2, 8.0), (ids["A03"], 3, 8.0), (ids["A04"], 4, 7.0)]
    assert computed.rankings["A"].ranked[1].decided_by == "top_scores"
    ranked_b = [(r.nomination_id, r.rank, round(r.score, 4)) for r in computed.rankings["B"].ranked[:4]]
    # B02 without J2 (d=−1): 9,10,9,10,8,9 → 55/6 = 9.1667. B01: 63/7 = 9. B03: 8. B04: 7.
    assert ranked_b == [(ids["B02"], 1, 9.1667), (ids["B01"], 2, 9.0), (ids["B03"], 3, 8.0), (ids["B04"], 4, 7.0)]
    # B05 without J3 (d=0): 6,7,5,7,5,6 → 36/6 = 6; six sheets still reach the quorum of 5.
    assert computed.nominations[ids["B05"]].count == 6
    assert round(computed.nominations[ids["B05"]].mean or 0, 4) == 6.0

    await scoring_round.close_scoring(chair_id=jurors[0], edition_id=edition.id)
    proposals = {}
    for label, distinction in (
        ("A01", Distinction.TITLE),
        ("A02", Distinction.TITLE),
        ("A03", Distinction.MENTION),
        ("B02", Distinction.TITLE),
        ("B01", Distinction.TITLE),
        ("B03", Distinction.MENTION),
    ):
        proposals[label] = await deliberation.propose(
            base_url=BASE, chair_id=jurors[0], edition_id=edition.id, nomination_id=ids[label], distinction=distinction
        )
    ballots = {
        # J0..J6; None: no vote. J1 is conflicted on A01, J2 on B02.
        "A01": (FOR, None, FOR, FOR, FOR, FOR, FOR),  # 6 of 6 for: passes
        "A02": (FOR, AGAINST, AGAINST, AGAINST, FOR, FOR, ABSTAIN),  # 3 for, 3 against: chair J0 (for) decides
        "A03": (AGAINST, FOR, AGAINST, AGAINST, FOR, AGAINST, ABSTAIN),  # 2 for, 4 against: fails
        "B02": (FOR, FOR, None, FOR, FOR, AGAINST, FOR),  # 5 for, 1 against: passes
        "B01": (FOR, FOR, AGAINST, FOR, AGAINST, ABSTAIN, FOR),  # 4 for, 2 against: passes
        "B03": (FOR, FOR, FOR, None, None, None, None),  # 3 cast < quorum ceil(7 × 50 %) = 4: fails
    }
    for label, choices in ballots.items():
        for juror, choice in zip(jurors, choices, strict=True):
            if choice is not None:
                await deliberation.cast_vote(juror_id=juror, proposal_id=proposals[label], choice=choice)
    with pytest.raises(NotFound):
        await deliberation.cast_vote(juror_id=jurors[1], proposal_id=proposals["A01"], choice=FOR)

    rules = await jury.rules_of(edition.id)
    outcome = {
        t.reference: (t.votes_for, t.against, t.abstain, t.quorum, *deliberation.decide(t, rules.majority))
        for t in await deliberation.tallies(edition.id)
    }
    reference = {label: f"2025/{i + 1:04d}" for i, label in enumerate(LABELS)}
    assert outcome == {
        reference["A01"]: (6, 0, 0, 3, True, False),
        reference["A02"]: (3, 3, 1, 4, True, True),
        reference["A03"]: (2, 4, 1, 4, False, False),
        reference["B02"]: (5, 1, 0, 3, True, False),
        reference["B01"]: (4, 2, 1, 4, True, False),
        reference["B03"]: (3, 0, 0, 4, False, False),
    }

    signed = await deliberation.recommend(chair_id=jurors[0], edition_id=edition.id)
    assert signed.state == EditionState.RECOMMENDED
    recommended = (
        await Nomination.select(Nomination.reference)
        .where(Nomination.state == NominationState.RECOMMENDED.value)
        .order_by(Nomination.reference)
    )
    assert [r["reference"] for r in recommended] == sorted(
        [reference["A01"], reference["A02"], reference["B01"], reference["B02"]]
    )
