"""The jury's minutes, assembled from a real edition (see ``deliberation_factories`` for the numbers)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pytest
from pypdf import PdfReader

from ambassador import pdf
from ambassador.domain import deliberation, minutes, results, scoring_round
from ambassador.domain.jury import JuryRules
from ambassador.domain.ranking_types import JurorEffect, LeaveOneOut, RankedNomination
from ambassador.enums import Distinction, EditionState, Role, VoteChoice
from ambassador.errors import NotAllowed, NotFound
from ambassador.tables import JurySettings
from tests.clerk_factories import BASE
from tests.deliberation_factories import APPOINTMENT, deliberated, references, scored_edition, vote
from tests.factories import make_edition, make_user
from tests.jury_factories import declare_none, scoring_edition, submit_scores

TODAY = dt.date(2026, 3, 2)


def section(document: pdf.Document, heading: str) -> pdf.Section:
    found = [s for s in document.sections if s.heading == heading]
    assert len(found) == 1, [s.heading for s in document.sections]
    return found[0]


def test_numbers_have_two_decimals_rounded_half_up_in_the_languages_notation() -> None:
    assert minutes.decimal(22 / 3, "en") == "7.33"
    assert minutes.decimal(7.125, "en") == "7.13"  # half up, as by hand (not half even)
    assert minutes.decimal(7.125, "pl") == "7,13"
    assert minutes.decimal(-0.001, "en") == "0.00"
    assert minutes.decimal(8, "uk") == "8,00"
    assert minutes.decimal(None, "en") == "–"


async def test_the_minutes_of_a_signed_recommendation() -> None:
    setup = await scored_edition()
    ewa, marta, tomasz = setup.jurors
    olena, bohdan, iryna = await references(setup)
    await deliberated(setup)
    await deliberation.recommend(chair_id=ewa.id, edition_id=setup.edition.id)

    document = await minutes.minutes(setup.edition.id, "en", today=TODAY)

    assert document.title == "Minutes of the jury of the title Krakow Ambassador of Multiculturalism, A.D. 2025"
    assert document.subtitle == "Ambassador 2025 · Produced on March 2, 2026"
    assert document.footer == "A.D. 2025 · Produced on March 2, 2026"
    assert [s.heading for s in document.sections] == [
        "The jury",
        "Conflicts of interest",
        "Method",
        "Ranking, category B: individual",
        "Votes",
        "Recommendation",
    ]
    jury = section(document, "The jury")
    assert jury.paragraphs == (f"Appointed by: {APPOINTMENT}",)
    assert jury.tables[0].rows == (("Ewa Pawlak", "chair"), ("Marta Krawczyk", "member"), ("Tomasz Dudek", "member"))

    conflicts = section(document, "Conflicts of interest")
    assert conflicts.tables[0].header == ("Nomination", "Juror", "Source", "Kind or evidence", "Status")
    assert conflicts.tables[0].rows == (
        (f"{bohdan} Bohdan Melnyk", "Tomasz Dudek", "declared", "family", "not confirmed"),
    )

    method = section(document, "Method")
    assert "Each criterion is scored with a whole number from 0 to 10." in method.paragraphs
    assert "A nomination is ranked when it has at least 3 valid score sheets." in method.paragraphs
    assert "Normalisation: no. The ranking uses the mean of the totals." in method.paragraphs
    assert (
        "Ties on the ranking score are broken in this order: median score, number of top scores, jury vote."
        in method.paragraphs
    )
    assert any("quorum is 50 per cent" in p and "simple (more votes for than against)" in p for p in method.paragraphs)
    assert [row[1] for row in method.tables[0].rows] == ["1", "1", "1", "1"]

    ranking = section(document, "Ranking, category B: individual")
    table = ranking.tables[0]
    assert table.header == ("Rank", "Nomination", "Mean", "Median", "Std. dev.", "Spread", "Scores", "Note")
    assert table.rows == (
        ("1", f"{olena} Olena Kovalenko", "8.00", "8.00", "0.82", "2.00", "3", ""),
        ("2", f"{iryna} Iryna Shevchenko", "7.33", "7.00", "0.47", "1.00", "3", ""),
    )
    assert ranking.paragraphs == (
        f"Not ranked, with fewer than 3 valid score sheets (number in brackets): {bohdan} Bohdan Melnyk (2).",
        f"Jurors left out for a conflict of interest: {bohdan}: Tomasz Dudek.",
        "Leave-one-out check: stable; without any single juror's scores the top 2 stays the same.",
        "Without the scores of one of these jurors only the order within the top 2 changes: Tomasz Dudek.",
    )

    votes = section(document, "Votes").tables[0]
    assert votes.rows == (
        (f"{bohdan} Bohdan Melnyk", "honourable mention", "2 / 0 / 0", "2 / 1", "passed", "Tomasz Dudek"),
        (f"{olena} Olena Kovalenko", "title", "2 / 1 / 0", "3 / 2", "passed", ""),
        (f"{iryna} Iryna Shevchenko", "title", "1 / 2 / 0", "3 / 2", "not passed", ""),
    )

    recommendation = section(document, "Recommendation")
    assert recommendation.paragraphs[0].startswith("The chair Ewa Pawlak signed the recommendation on ")
    assert recommendation.paragraphs[1] == "The jury recommends conferring these distinctions:"
    assert recommendation.tables[0].rows == (
        ("B: individual", "honourable mention", f"{bohdan} Bohdan Melnyk"),
        ("B: individual", "title", f"{olena} Olena Kovalenko"),
    )
    assert marta.id != tomasz.id

    body = pdf.render(document)
    assert body.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    assert "Olena Kovalenko" in text
    assert "A.D. 2025" in text


async def test_a_draft_before_signing_a_tie_decided_by_the_chair_and_a_missed_quorum() -> None:
    setup = await scored_edition()
    ewa, marta, tomasz = setup.jurors
    olena, bohdan, iryna = await references(setup)
    first = await deliberation.propose(
        base_url=BASE,
        chair_id=ewa.id,
        edition_id=setup.edition.id,
        nomination_id=setup.nominations[0],
        distinction=Distinction.TITLE,
    )
    await deliberation.propose(
        base_url=BASE,
        chair_id=ewa.id,
        edition_id=setup.edition.id,
        nomination_id=setup.nominations[2],
        distinction=Distinction.TITLE,
    )
    await vote(first, [(ewa, VoteChoice.FOR), (marta, VoteChoice.AGAINST), (tomasz, VoteChoice.ABSTAIN)])

    document = await minutes.minutes(setup.edition.id, "en", today=TODAY)

    assert document.sections[0] == pdf.Section(
        "Draft", ("Draft: the chair has not signed the jury's recommendation yet.",)
    )
    assert section(document, "Votes").tables[0].rows == (
        (f"{olena} Olena Kovalenko", "title", "1 / 1 / 1", "3 / 2", "passed; decided by the chair's vote", ""),
        (f"{iryna} Iryna Shevchenko", "title", "0 / 0 / 0", "0 / 2", "no quorum", ""),
    )
    recommendation = section(document, "Recommendation")
    assert recommendation.paragraphs == (
        "The recommendation has not been signed yet. Proposals that have passed so far:",
    )
    assert recommendation.tables[0].rows == (("B: individual", "title", f"{olena} Olena Kovalenko"),)
    assert section(document, "Ranking, category B: individual").paragraphs[0] == (
        f"Not ranked, with fewer than 3 valid score sheets (number in brackets): {bohdan} Bohdan Melnyk (2)."
    )


async def test_the_minutes_wait_for_scoring_and_only_the_chair_reads_them() -> None:
    clerk = await make_user("clerk.early@example.org", (Role.CLERK,))
    early = await make_edition(year=2024, clerk_id=clerk.id, open_it=False)
    with pytest.raises(minutes.NotScoredYet):
        await minutes.minutes(early.id, "en")

    setup = await scored_edition(close=False)
    assert setup.edition.state == EditionState.JURY_SCORING
    draft = await minutes.minutes_for_chair(setup.edition.id, setup.chair.id, "pl")
    assert draft.title.endswith("A.D. 2025")
    with pytest.raises(NotAllowed):
        await minutes.minutes_for_chair(setup.edition.id, setup.jurors[1].id, "en")
    with pytest.raises(NotFound):
        await minutes.minutes_for_chair(setup.edition.id, clerk.id, "en")


async def test_normalised_ranking_tie_notes_and_a_decisive_juror() -> None:
    setup = await scored_edition(normalise=True)
    _ewa, marta, _tomasz = setup.jurors
    olena, _bohdan, iryna = await references(setup)

    document = await minutes.minutes(setup.edition.id, "en", today=TODAY)
    found = await results.compute(setup.edition.id)

    ranking = section(document, "Ranking, category B: individual").tables[0]
    assert ranking.header[-2:] == ("Normalised mean", "Note")
    assert [row[1] for row in ranking.rows] == [f"{olena} Olena Kovalenko", f"{iryna} Iryna Shevchenko"]
    first = found.computed.nominations[setup.nominations[0]]
    assert ranking.rows[0][-2] == minutes.decimal(first.norm_mean, "en")
    assert any(p.startswith("Normalisation: yes.") for p in section(document, "Method").paragraphs)

    tied = RankedNomination(setup.nominations[0], 1, 7.5, (setup.nominations[2],), True, None)
    broken = RankedNomination(setup.nominations[0], 1, 7.5, (), False, "median")
    assert minutes.tie_note(tied, found.references, "en") == f"tied with {iryna}: the jury decides by a vote"
    assert minutes.tie_note(broken, found.references, "en") == "tie broken by: median score"

    decisive = dataclasses.replace(
        found,
        stability=LeaveOneOut(
            top=found.stability.top, effects=(JurorEffect("B", marta.id, (), True, True),), stable=False
        ),
    )
    assert minutes.stability_notes(decisive, "B", "en") == [
        "Leave-one-out check: without the scores of one of these jurors the top 2 changes: Marta Krawczyk."
    ]


async def test_nothing_ranked_gets_no_stability_verdict() -> None:
    # Bug: with fewer jurors than the minimum of scores both rankings were empty, yet the
    # results said "stable; the top 2 stays the same".
    setup = await scoring_edition(rules=JuryRules(appointment_document=APPOINTMENT, min_scores=3))
    # Scoring no longer opens for a jury below its minimum: an edition opened before that check.
    await JurySettings.update({JurySettings.min_scores: 4}).where(JurySettings.edition == setup.edition.id)
    for juror in setup.jurors:
        await declare_none(setup, juror)
        for nomination_id in setup.nominations:
            await submit_scores(setup, juror, nomination_id, 7)
    await scoring_round.close_scoring(chair_id=setup.chair.id, edition_id=setup.edition.id)

    standings = await results.compute(setup.edition.id)

    assert standings.computed.rankings["B"].ranked == ()
    assert minutes.stability_notes(standings, "B", "en") == [
        "Leave-one-out check: not made; no nomination in this category has enough scores to be ranked."
    ]
