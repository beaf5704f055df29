"""The chair's and the decision's irreversible steps: each blocking check refuses, each warning is
shown and needs acknowledging, and what was shown is what is done (domain level; the pages are in
test_jury_pages, test_results_pages, test_approval_pages and test_laureate_pages)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ambassador.domain import approval, chair_steps, decision_checks, deliberation, jury, scoring_round
from ambassador.domain.approval import DecisionData, Outcome
from ambassador.domain.editions import TransitionRefused, get_edition
from ambassador.domain.nominations import Upload
from ambassador.enums import ApprovingBody, Distinction, EditionState, Role, VoteChoice
from ambassador.errors import Message, NotAcknowledged, NotAllowed
from ambassador.i18n import TIMEZONE
from ambassador.tables import AuditEntry, Decision, Edition
from tests.clerk_factories import BASE, PNG, checked_edition
from tests.confirm_pages import decision_pdf
from tests.deliberation_factories import deliberated, propose, scored_edition, vote
from tests.factories import PDF, make_user
from tests.jury_factories import accepted, scoring_edition, shortlist

NUMBER = "LXXXV/2418/22"
TODAY = dt.datetime.now(TIMEZONE).date()


def said(messages: tuple[Message, ...]) -> list[str]:
    """Messages with their parameters filled in (in English, the msgids)."""
    return [m % {k: str(v) if isinstance(v, str) else v for k, v in m.params.items()} for m in messages]


async def state_of(edition_id: int) -> str:
    row = await Edition.select(Edition.state).where(Edition.id == edition_id).first()
    return "" if row is None else str(row["state"])


async def audited(action: str) -> list[dict[str, object]]:
    rows = await AuditEntry.select(AuditEntry.data).where(AuditEntry.action == action)
    return [r["data"] if isinstance(r["data"], dict) else json.loads(r["data"]) for r in rows]


# --- opening scoring: the jury-size check holds for a direct call too ---------------------------


async def test_open_scoring_refuses_a_jury_smaller_than_its_minimum_even_when_called_directly() -> None:
    clerk = await make_user("clerk@example.org", (Role.CLERK,), name="Celina Clerk")
    edition = await checked_edition(clerk_id=clerk.id)
    first = await accepted(edition, clerk_id=clerk.id, uploads=[Upload("scan.png", PNG)])
    await shortlist(clerk_id=clerk.id, nomination_id=first)
    pair = [await make_user(f"juror{i}@jury.example.net", (Role.JUROR,), name=f"Juror Number{i}") for i in range(2)]
    for account in pair:
        await jury.appoint(actor_id=clerk.id, edition_id=edition.id, user_id=account.id, base_url=BASE)
    await jury.set_chair(actor_id=clerk.id, edition_id=edition.id, user_id=pair[0].id)

    with pytest.raises(NotAllowed) as refused:
        await scoring_round.open_scoring(actor_id=clerk.id, edition_id=edition.id, base_url=BASE)

    assert refused.value.params == {"jurors": 2, "minimum": 3}
    assert await state_of(edition.id) == EditionState.FORMAL_CHECK.value
    assert await audited("edition.jury_scoring") == []


# --- closing scoring ------------------------------------------------------------------------------


async def test_closing_scoring_with_no_sheet_submitted_is_refused() -> None:
    setup = await scoring_edition()
    found = await chair_steps.close_scoring_consequences(setup.edition)

    assert said(found.blocking) == ["No juror has submitted a score sheet yet."]
    with pytest.raises(TransitionRefused):
        await chair_steps.close_scoring(chair_id=setup.jurors[0].id, edition_id=setup.edition.id, acknowledged=True)
    with pytest.raises(NotAllowed):  # only the chair closes
        await chair_steps.close_scoring(chair_id=setup.jurors[1].id, edition_id=setup.edition.id, acknowledged=True)
    assert await state_of(setup.edition.id) == EditionState.JURY_SCORING.value


async def test_closing_scoring_warns_of_nominations_short_of_the_minimum_and_needs_the_tick() -> None:
    setup = await scored_edition(close=False)
    chair = setup.jurors[0]
    found = await chair_steps.close_scoring_consequences(await get_edition(setup.edition.id))

    assert said(found.changes) == [
        "Scoring closes: no juror can change or submit a score any more.",
        "Nominations ranked: 2 of 3.",
        "The jury's deliberation begins: the chair proposes laureates and the jury votes.",
    ]
    assert said(found.warnings) == ["These nominations have fewer than 3 scores and will not be ranked: 2025/0002."]
    assert (found.blocking, found.mailed) == ((), 0)
    with pytest.raises(NotAcknowledged):
        await chair_steps.close_scoring(chair_id=chair.id, edition_id=setup.edition.id, acknowledged=False)
    assert await state_of(setup.edition.id) == EditionState.JURY_SCORING.value

    await chair_steps.close_scoring(chair_id=chair.id, edition_id=setup.edition.id, acknowledged=True)

    assert await state_of(setup.edition.id) == EditionState.DELIBERATION.value
    assert len(await audited("edition.deliberation")) == 1


# --- signing the recommendation -------------------------------------------------------------------


async def test_signing_with_no_proposal_passed_is_refused() -> None:
    setup = await scored_edition()
    found = await chair_steps.recommend_consequences(await get_edition(setup.edition.id))

    assert said(found.blocking) == ["No proposal has passed the vote."]
    with pytest.raises(TransitionRefused):
        await chair_steps.recommend(chair_id=setup.jurors[0].id, edition_id=setup.edition.id, acknowledged=True)
    assert await state_of(setup.edition.id) == EditionState.DELIBERATION.value


async def test_signing_shows_outcomes_open_votes_and_unfilled_distinctions_and_needs_the_tick() -> None:
    setup = await scored_edition()
    ewa, marta, _tomasz = setup.jurors
    await make_user("clerk2@example.org", (Role.CLERK,), name="Second Clerk")
    olena = await propose(setup, 0, Distinction.TITLE)
    iryna = await propose(setup, 2, Distinction.TITLE)
    await vote(olena, [(ewa, VoteChoice.FOR), (marta, VoteChoice.FOR)])
    await vote(iryna, [(ewa, VoteChoice.AGAINST), (marta, VoteChoice.AGAINST)])
    found = await chair_steps.recommend_consequences(await get_edition(setup.edition.id))

    assert said(found.changes) == [
        "2025/0001 Olena Kovalenko (title): passes the vote and is recommended.",
        "2025/0003 Iryna Shevchenko (title): does not pass the vote and is not recommended.",
        "The recommendation is final: no vote or proposal can change after it is signed.",
        "The clerks are mailed to record the approving body's decision.",
    ]
    assert said(found.warnings) == [
        "2025/0001 (title): not voted yet by Tomasz Dudek.",
        "2025/0003 (title): not voted yet by Tomasz Dudek.",
        "Category A, title: 0 recommended of the 2 possible.",
        "Category B, title: 1 recommended of the 2 possible.",
        "Category B, honourable mention: 0 recommended of the 1 possible.",
    ]
    assert found.mailed == 2  # the edition's clerk and the second one
    with pytest.raises(NotAcknowledged):
        await chair_steps.recommend(chair_id=ewa.id, edition_id=setup.edition.id, acknowledged=False)
    assert await state_of(setup.edition.id) == EditionState.DELIBERATION.value

    await chair_steps.recommend(chair_id=ewa.id, edition_id=setup.edition.id, acknowledged=True)

    assert await state_of(setup.edition.id) == EditionState.RECOMMENDED.value
    assert [entry["passed"] for entry in await audited("deliberation.recommended")] == [
        [["2025/0001", "title", 2, 0, 0]]
    ]


# --- the decision's document ------------------------------------------------------------------------


def test_the_number_is_found_whatever_its_spacing_case_or_slash() -> None:
    text = "Uchwala nr xlv / 1234 / 23\nRady Miasta Krakowa z dnia 5 grudnia 2026"
    assert [
        decision_checks.carries(text, number)
        for number in ("XLV/1234/23", "nr XLV/1234/23", " XLV \\ 1234 \\ 23 ", "XLV\uff0f1234\u221523", "XLV/1234/230")
    ] == [True, True, True, True, False]
    assert decision_checks.carries("Uchwala nr XLV/1234/230", "XLV/1234/23") is False
    assert decision_checks.carries("Uchwala nr 1XLV/1234/23", "XLV/1234/23") is False


def test_the_text_of_a_real_pdf_is_read_and_a_scan_has_none() -> None:
    text = decision_checks.document_text(decision_pdf("Uchwala nr LXXXV/2418/22", "Rady Miasta Krakowa"))
    assert text == "Uchwala nr LXXXV/2418/22\nRady Miasta Krakowa"
    assert decision_checks.document_text(PDF) is None  # a page without text, as a scan is
    assert decision_checks.document_text(b"%PDF-1.4 broken") is None


async def _recommended() -> tuple[int, int, int, int]:
    """The edition id, its clerk, Olena (title) and Bohdan (mention) as recommended."""
    setup = await scored_edition()
    await deliberated(setup)
    await deliberation.recommend(chair_id=setup.chair.id, edition_id=setup.edition.id)
    listed = {r.nominee_name.split()[0]: r.nomination_id for r in await approval.recommended(setup.edition.id)}
    return setup.edition.id, setup.clerk.id, listed["Olena"], listed["Bohdan"]


def _decision(document: bytes, olena: int, bohdan: int) -> DecisionData:
    return DecisionData(
        kind=ApprovingBody.COUNCIL_RESOLUTION,
        number=NUMBER,
        decided_on=TODAY,
        document=Upload("uchwała.pdf", document),
        outcomes={olena: Outcome(Distinction.TITLE), bohdan: Outcome(None, "Too recent.")},
    )


async def test_a_document_carrying_the_number_needs_no_acknowledgement() -> None:
    edition_id, clerk, olena, bohdan = await _recommended()
    data = _decision(decision_pdf("Uchwała nr lxxxv / 2418 / 22".replace("ł", "l"), "Rady Miasta"), olena, bohdan)

    found = await approval.preview(edition_id=edition_id, data=data)

    assert said(found.changes) == [
        f"Decision {NUMBER} of {TODAY.isoformat()} is recorded with its document; it cannot be changed afterwards.",
        "2025/0002 Bohdan Melnyk: recommended honourable mention, decided: not approved.",
        "2025/0001 Olena Kovalenko: recommended title, decided: title.",
        "The laureates' records are made; nothing is public before the publication, and nobody is mailed.",
    ]
    assert (found.blocking, found.warnings, found.mailed) == ((), (), 0)
    await approval.record_decision(actor_id=clerk, edition_id=edition_id, data=data)
    assert await state_of(edition_id) == EditionState.APPROVED.value
    assert [entry["acknowledged"] for entry in await audited("decision.recorded")] == [[]]


async def test_a_document_without_the_number_is_a_warning_to_acknowledge() -> None:
    edition_id, clerk, olena, bohdan = await _recommended()
    data = _decision(decision_pdf("Uchwala nr XII/100/21", "w sprawie budzetu"), olena, bohdan)

    found = await approval.preview(edition_id=edition_id, data=data)

    assert said(found.warnings) == [
        f"The number {NUMBER} does not appear in the document's text: check that it is the signed decision."
    ]
    with pytest.raises(NotAcknowledged):
        await approval.record_decision(actor_id=clerk, edition_id=edition_id, data=data)
    assert (await Decision.count(), await state_of(edition_id)) == (0, EditionState.RECOMMENDED.value)

    await approval.record_decision(actor_id=clerk, edition_id=edition_id, data=data, acknowledged=True)

    assert await state_of(edition_id) == EditionState.APPROVED.value
    assert [entry["acknowledged"] for entry in await audited("decision.recorded")] == [
        ["The number %(number)s does not appear in the document's text: check that it is the signed decision."]
    ]


async def test_a_document_whose_text_cannot_be_read_asks_the_clerk_to_check_it() -> None:
    edition_id, clerk, olena, bohdan = await _recommended()
    data = _decision(PDF, olena, bohdan)

    found = await approval.preview(edition_id=edition_id, data=data)

    assert said(found.warnings) == [
        "The document's text could not be read (a scan?), so its number could not be checked: "
        f"check yourself that it is decision {NUMBER}."
    ]
    with pytest.raises(NotAcknowledged):
        await approval.record_decision(actor_id=clerk, edition_id=edition_id, data=data)
    assert await Decision.count() == 0
