"""A juror declares conflicts and scores; the chair closes scoring and the jury votes."""

from __future__ import annotations

import re

from playwright.async_api import Locator, Page, expect

from ambassador.domain import deliberation
from ambassador.domain.editions import get_edition
from ambassador.enums import Distinction, EditionState, VoteChoice
from ambassador.tables import ConflictDeclaration, Nomination, Proposal, Score, ScoreSheet, Vote
from tests.browser.conftest import LOOP, Browsing
from tests.browser.helpers import assert_accessible, confirm_step, log_in
from tests.deliberation_factories import propose, scored_edition
from tests.jury_factories import scoring_edition

pytestmark = LOOP


async def test_a_juror_declares_conflicts_then_scores_what_is_left(page: Page) -> None:
    setup = await scoring_edition()
    marta = setup.jurors[1]
    olena, bohdan = setup.nominations
    criteria = [c.name_en for c in setup.edition.criteria]

    await log_in(page, marta.email)
    await page.get_by_role("link", name="My editions as a juror: conflicts of interest and scoring").click()
    await page.get_by_role("link", name=setup.edition.label).click()
    await expect(page.get_by_role("heading", name="Declare your conflicts of interest first")).to_be_visible()
    await page.get_by_role("link", name="Declare conflicts of interest").click()

    # Bohdan: a conflict of the kind "other" needs a reason; the form says so and keeps the answers.
    olena_answer = page.get_by_role("radiogroup", name="Your answer for Olena Kovalenko")
    bohdan_answer = page.get_by_role("radiogroup", name="Your answer for Bohdan Melnyk")
    await olena_answer.get_by_label("No conflict").check()
    await bohdan_answer.get_by_label("Conflict", exact=True).check()
    bohdan_box = page.locator(f"#n-{bohdan}")
    await bohdan_box.get_by_label("Kind of conflict").select_option(label="other")
    await page.get_by_role("button", name="Save my declarations").click()
    await expect(page.get_by_role("alert")).to_contain_text("Please correct the marked fields.")
    await expect(bohdan_answer.get_by_label("Conflict", exact=True)).to_be_checked()
    await assert_accessible(page)
    await bohdan_box.get_by_label("Kind of conflict").select_option(label="family")
    await page.get_by_role("button", name="Save my declarations").click()

    await expect(page.get_by_role("heading", name="Nominations to score")).to_be_visible()
    to_score = page.get_by_role("table", name="Nominations to score")
    await expect(to_score.get_by_role("link")).to_have_text(["Olena Kovalenko"])
    await to_score.get_by_role("link", name="Olena Kovalenko").click()

    # An empty submission is refused; then every criterion gets a score.
    await page.get_by_role("button", name="Submit", exact=True).click()
    await expect(page.get_by_role("alert")).to_contain_text("Please correct the marked fields.")
    await assert_accessible(page)
    for value, name in zip((8, 7, 9, 6), criteria, strict=True):
        await page.get_by_role("spinbutton", name=name).fill(str(value))
    await page.get_by_label("Overall comment (optional)").fill("A steady, lasting effort.")
    await page.get_by_role("button", name="Submit", exact=True).click()
    await expect(page.get_by_text("Status: submitted")).to_be_visible()

    declared = await ConflictDeclaration.select(
        ConflictDeclaration.nomination, ConflictDeclaration.conflicted, ConflictDeclaration.kind
    ).where(ConflictDeclaration.juror == marta.id)
    assert sorted((d["nomination"], d["conflicted"], d["kind"]) for d in declared) == [
        (olena, False, ""),
        (bohdan, True, "family"),
    ]
    sheets = await ScoreSheet.select(ScoreSheet.id, ScoreSheet.nomination, ScoreSheet.status, ScoreSheet.comment).where(
        ScoreSheet.juror == marta.id
    )
    assert [(s["nomination"], s["status"], s["comment"]) for s in sheets] == [
        (olena, "submitted", "A steady, lasting effort.")
    ]
    values = await Score.select(Score.criterion, Score.value).where(Score.sheet == sheets[0]["id"])
    assert {v["criterion"]: v["value"] for v in values} == dict(zip(setup.criteria, (8, 7, 9, 6), strict=True))


def shortlisted(page: Page, nominee: str) -> Locator:
    """The nominee's row in the chair's shortlist."""
    return page.locator("table.shortlist tr").filter(has=page.get_by_role("rowheader", name=nominee))


def proposal_row(page: Page, nominee: str) -> Locator:
    return page.get_by_role("table", name="Proposals to vote on").get_by_role("row").filter(has_text=nominee)


async def vote(page: Page, nominee: str, choice: str) -> None:
    """Choose ``choice`` on the nominee's proposal and save the form; the page then shows the vote."""
    row = proposal_row(page, nominee)
    await row.get_by_role("radio", name=choice, exact=True).check()
    await page.get_by_role("button", name="Save my votes").click()
    await expect(proposal_row(page, nominee).get_by_role("cell").nth(2)).to_have_text(choice)


async def test_the_chair_closes_scoring_proposes_and_the_jury_votes(page: Page, browsing: Browsing) -> None:
    setup = await scored_edition(close=False)
    ewa, marta, tomasz = setup.jurors
    edition_id = setup.edition.id

    await log_in(page, ewa.email)
    await page.goto(f"/jury/editions/{edition_id}")
    await page.get_by_role("button", name="Close scoring").click()
    await confirm_step(page)
    await page.get_by_role("link", name="Deliberation").first.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Deliberation of the jury, {setup.edition.label}")
    await shortlisted(page, "Olena Kovalenko").get_by_role("button", name=re.compile("^Propose for the title")).click()
    await vote(page, "Olena Kovalenko", "for")

    # The other jurors vote in browsers of their own.
    for juror, choice in ((marta, "for"), (tomasz, "against")):
        other = await browsing.new_page()
        await log_in(other, juror.email)
        await other.goto(f"/jury/editions/{edition_id}/deliberation")
        await vote(other, "Olena Kovalenko", choice)

    await page.reload()
    await page.get_by_role("button", name="Sign the recommendation").click()
    await confirm_step(page)
    await expect(page.get_by_role("status").filter(has_text="The chair has signed the recommendation.")).to_be_visible()

    assert (await get_edition(edition_id)).state == EditionState.RECOMMENDED
    proposal = await Proposal.select(Proposal.id, Proposal.nomination, Proposal.distinction).first()
    assert proposal is not None
    assert (proposal["nomination"], proposal["distinction"]) == (setup.nominations[0], "title")
    votes = await Vote.select(Vote.juror, Vote.choice).where(Vote.proposal == proposal["id"])
    assert sorted((v["juror"], v["choice"]) for v in votes) == [
        (ewa.id, "for"),
        (marta.id, "for"),
        (tomasz.id, "against"),
    ]
    state = await Nomination.select(Nomination.state).where(Nomination.id == setup.nominations[0]).first()
    assert state == {"state": "recommended"}


async def test_a_juror_votes_on_every_proposal_in_one_form(page: Page) -> None:
    setup = await scored_edition()
    marta = setup.jurors[1]
    olena = await propose(setup, 0, Distinction.TITLE)
    iryna = await propose(setup, 2, Distinction.TITLE)
    bohdan = await propose(setup, 1, Distinction.MENTION)

    await log_in(page, marta.email)
    await page.goto(f"/jury/editions/{setup.edition.id}/deliberation")
    for nominee, choice in (("Olena Kovalenko", "for"), ("Iryna Shevchenko", "against"), ("Bohdan Melnyk", "abstain")):
        group = page.get_by_role("group", name=re.compile(f"^Your vote: .* {nominee}$"))
        await group.get_by_role("radio", name=choice, exact=True).check()
    await assert_accessible(page)
    await page.get_by_role("button", name="Save my votes").click()

    await expect(page.get_by_role("status").filter(has_text="Your 3 votes are saved")).to_be_visible()
    for nominee, choice in (("Olena Kovalenko", "for"), ("Iryna Shevchenko", "against"), ("Bohdan Melnyk", "abstain")):
        await expect(proposal_row(page, nominee).get_by_role("cell").nth(2)).to_have_text(choice)
    votes = await Vote.select(Vote.proposal, Vote.choice).where(Vote.juror == marta.id)
    assert sorted((v["proposal"], v["choice"]) for v in votes) == sorted(
        [(olena, "for"), (iryna, "against"), (bohdan, "abstain")]
    )

    # Saved again unchanged: nothing is written.
    await page.get_by_role("button", name="Save my votes").click()
    await expect(page.get_by_role("status").filter(has_text="No vote was changed.")).to_be_visible()


async def test_the_chair_reads_the_consequences_before_closing_scoring_and_signing(page: Page) -> None:
    setup = await scored_edition(close=False)
    ewa, marta, _tomasz = setup.jurors
    edition_id = setup.edition.id
    await log_in(page, ewa.email)
    await page.goto(f"/jury/editions/{edition_id}")

    # Closing scoring: what changes, and Bohdan's two scores are under the minimum of three.
    await page.get_by_role("button", name="Close scoring").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Close scoring")
    await expect(page.locator("#changes + ul")).to_contain_text("Nominations ranked: 2 of 3.")
    await expect(page.locator("#warnings + ul")).to_have_text(
        "These nominations have fewer than 3 scores and will not be ranked: 2025/0002."
    )
    await assert_accessible(page)
    # The box is required: without it the browser does not send the form.
    await page.get_by_role("button", name="Close scoring").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Close scoring")
    assert (await get_edition(edition_id)).state == EditionState.JURY_SCORING
    await page.get_by_label("I have read the warnings above and want to take this step.").check()
    await page.get_by_role("button", name="Close scoring").click()
    await expect(page.get_by_role("status").filter(has_text="Scoring is closed.")).to_be_visible()
    assert (await get_edition(edition_id)).state == EditionState.DELIBERATION

    # Signing: Olena passes; Tomasz has not voted, and the other distinctions stay unfilled.
    await page.goto(f"/jury/editions/{edition_id}/deliberation")
    await shortlisted(page, "Olena Kovalenko").get_by_role("button", name=re.compile("^Propose for the title")).click()
    await vote(page, "Olena Kovalenko", "for")
    proposal = await Proposal.select(Proposal.id).first()
    assert proposal is not None
    await deliberation.cast_vote(juror_id=marta.id, proposal_id=proposal["id"], choice=VoteChoice.FOR)
    await page.reload()
    await page.get_by_role("button", name="Sign the recommendation").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign the recommendation")
    await expect(page.locator("#changes + ul li").first).to_have_text(
        "2025/0001 Olena Kovalenko (title): passes the vote and is recommended."
    )
    await expect(page.locator("#warnings + ul li").first).to_have_text(
        "2025/0001 (title): not voted yet by Tomasz Dudek."
    )
    await page.get_by_role("link", name="Cancel").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Deliberation of the jury, {setup.edition.label}")
    assert (await get_edition(edition_id)).state == EditionState.DELIBERATION
    await page.get_by_role("button", name="Sign the recommendation").click()
    await confirm_step(page)
    await expect(page.get_by_role("status").filter(has_text="The chair has signed the recommendation.")).to_be_visible()
    assert (await get_edition(edition_id)).state == EditionState.RECOMMENDED
