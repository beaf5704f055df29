"""Results, deliberation and minutes pages through HTTP (numbers from ``deliberation_factories``)."""

from __future__ import annotations

import html
import io
import re

from babel.messages.extract import extract_from_file
from pypdf import PdfReader

from ambassador.domain import minutes, results
from ambassador.enums import Distinction, EditionState, NominationState, VoteChoice
from ambassador.tables import Edition, Nomination, Vote
from ambassador.web.results_chart import build_chart
from tests import confirm_pages
from tests.clerk_factories import clerk_logged_in, english
from tests.conftest import Client
from tests.deliberation_factories import deliberated, logged_in, propose, references, scored_edition, vote
from tests.helpers import login, post_form
from tests.jury_admin_factories import put_in_state
from tests.jury_factories import declare_none, scoring_edition

NOT_DELIBERATING = "The jury is not deliberating on this edition."


def ranked(html: str) -> list[str]:
    """Nomination ids in the order of the ranking tables."""
    tables = re.findall(r'<table class="results">.*?</table>', html, re.DOTALL)
    return [n for table in tables for n in re.findall(r'<tr data-nomination="(\d+)"', table)]


def row(html: str, nomination_id: int) -> str:
    found = re.search(rf'<tr data-nomination="{nomination_id}".*?</tr>', html, re.DOTALL)
    assert found is not None
    return found.group(0)


def cells(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", html, re.DOTALL)]


async def test_the_chair_and_the_clerk_see_the_ranking_its_numbers_and_the_chart(client: Client) -> None:
    setup = await scored_edition()
    olena, bohdan, iryna = setup.nominations
    references_ = await references(setup)
    pages = []
    await logged_in(client, setup.chair)
    pages.append(await client.get(f"/jury/editions/{setup.edition.id}/results"))
    client.cookies.clear()
    await clerk_logged_in(client, "another.clerk@example.org")
    english(client)
    pages.append(await client.get(f"/staff/editions/{setup.edition.id}/results"))

    for page in pages:
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        body = page.text
        assert ranked(body) == [str(olena), str(iryna)]
        assert cells(row(body, olena))[:8] == [
            "1 top 2",
            references_[0],
            "Olena Kovalenko",
            "8.00",
            "8.00",
            "0.82",
            "2.00",
            "3",
        ]
        assert cells(row(body, iryna))[3:8] == ["7.33", "7.00", "0.47", "1.00", "3"]
        assert f"{references_[1]} Bohdan Melnyk: 2 valid score sheets" in body
        assert "Left out for a conflict of interest: Tomasz Dudek" in body
        assert "Leave-one-out check: stable; without any single juror&#39;s scores the top 2 stays the same." in body
        assert "only the order within the top 2 changes: Tomasz Dudek." in body
        # Bohdan has two sheets (Tomasz is conflicted): listed as not ranked, with his count.
        assert re.findall(r'<li data-nomination="(\d+)">([^<]*)', body) == [
            (str(bohdan), f"{references_[1]} Bohdan Melnyk: 2 valid score sheets ")
        ]
        svg = re.search(r"<svg [^>]*>", body)
        assert svg is not None
        assert 'role="img"' in svg.group(0)
        assert 'aria-labelledby="chart-title"' in svg.group(0)
        assert '<title id="chart-title">' in body
        assert "style=" not in body
        # The juror table gives the chart's numbers: Tomasz's mean is (9 + 7) / 2.
        jurors = re.search(r'<table class="jurors">.*?</table>', body, re.DOTALL)
        assert jurors is not None
        assert ["Tomasz Dudek", "2", "8.00"] in [
            cells(r)[:3] for r in re.findall(r"<tr>.*?</tr>", jurors.group(0), re.DOTALL)
        ]


async def test_a_juror_who_does_not_chair_gets_403_and_one_of_another_edition_404(client: Client) -> None:
    setup = await scored_edition()
    other = await scoring_edition(
        year=2024, jurors=(("other.chair@jury.example.net", "Irena Sowa"),), nominees=({"nominee_name": "Lev Hrytsak"},)
    )
    await declare_none(other, other.jurors[0])
    base = f"/jury/editions/{setup.edition.id}"

    await logged_in(client, setup.jurors[1])
    chair_only = [f"{base}/results", f"{base}/minutes", f"{base}/minutes.pdf"]
    assert [(await client.get(page)).status_code for page in chair_only] == [403, 403, 403]
    assert (await client.get(f"{base}/deliberation")).status_code == 200
    edition_page = (await client.get(base)).text
    assert f'<a href="{base}/deliberation">' in edition_page
    assert f'<a href="{base}/results">' not in edition_page
    assert (await post_form(client, f"{base}/deliberation/recommend", {})).status_code == 403

    client.cookies.clear()
    await logged_in(client, other.jurors[0])  # the chair of another edition
    pages = [*chair_only, f"{base}/deliberation"]
    assert [(await client.get(page)).status_code for page in pages] == [404] * 4
    proposal = await propose(setup, 0, Distinction.TITLE)
    voted = await post_form(client, f"{base}/deliberation/proposals/{proposal}/vote", {"choice": "for"})
    assert voted.status_code == 404
    assert await Vote.count() == 0


async def test_a_conflicted_juror_neither_sees_nor_votes_on_the_proposal(client: Client) -> None:
    setup = await scored_edition()
    ewa, marta, tomasz = setup.jurors
    olena = await propose(setup, 0, Distinction.TITLE)
    bohdan = await propose(setup, 1, Distinction.MENTION)
    await vote(bohdan, [(ewa, VoteChoice.FOR), (marta, VoteChoice.AGAINST)])
    await logged_in(client, tomasz)
    base = f"/jury/editions/{setup.edition.id}/deliberation"

    page = await client.get(base)
    voted = await post_form(client, f"{base}/proposals/{bohdan}/vote", {"choice": "for"})

    assert page.status_code == 200
    assert f'data-proposal="{olena}"' in page.text
    assert f'data-proposal="{bohdan}"' not in page.text
    assert "Bohdan Melnyk" not in page.text
    assert voted.status_code == 404
    assert await Vote.count().where(Vote.juror == tomasz.id) == 0
    assert await Vote.count().where(Vote.proposal == bohdan) == 2


async def test_refusals_come_back_as_messages(client: Client) -> None:
    setup = await scored_edition(close=False)
    await logged_in(client, setup.chair)
    base = f"/jury/editions/{setup.edition.id}/deliberation"
    first = str(setup.nominations[0])

    early = await post_form(client, f"{base}/proposals", {"nomination_id": first, "distinction": "title"})
    assert early.status_code == 409
    assert NOT_DELIBERATING in early.text

    await put_in_state(setup.edition.id, EditionState.DELIBERATION)
    olena = await propose(setup, 0, Distinction.TITLE)
    await propose(setup, 2, Distinction.TITLE)
    beyond = await post_form(
        client, f"{base}/proposals", {"nomination_id": str(setup.nominations[1]), "distinction": "title"}
    )
    assert beyond.status_code == 409
    assert "The edition&#39;s number of these distinctions in this category is reached." in beyond.text
    nonsense = await post_form(client, f"{base}/proposals", {"nomination_id": first, "distinction": "crown"})
    assert nonsense.status_code == 400
    assert "Choose a title or an honourable mention." in nonsense.text
    unsigned = await post_form(client, f"{base}/recommend", {})
    assert unsigned.status_code == 409
    assert "No proposal has passed the vote." in unsigned.text

    await put_in_state(setup.edition.id, EditionState.JURY_SCORING)
    late = await post_form(client, f"{base}/proposals/{olena}/vote", {"choice": "for"})
    assert late.status_code == 409
    assert NOT_DELIBERATING in late.text
    bad = await post_form(client, f"{base}/proposals/{olena}/vote", {"choice": "maybe"})
    assert bad.status_code == 400
    assert await Vote.count() == 0


async def test_propose_vote_and_sign_through_the_pages(client: Client) -> None:
    setup = await scored_edition()
    ewa, marta, tomasz = setup.jurors
    olena, bohdan, iryna = setup.nominations
    base = f"/jury/editions/{setup.edition.id}/deliberation"
    await logged_in(client, ewa)

    shortlist = await client.get(base)
    assert shortlist.status_code == 200
    assert re.findall(r'<tr data-nomination="(\d+)"', shortlist.text) == [str(olena), str(iryna), str(bohdan)]
    assert "Sign the recommendation" in shortlist.text
    for nomination_id, distinction in ((olena, "title"), (bohdan, "mention")):
        proposed = await post_form(
            client, f"{base}/proposals", {"nomination_id": str(nomination_id), "distinction": distinction}
        )
        assert proposed.status_code == 302
        assert proposed.headers["location"] == base
    page = await client.get(base)
    proposals = [int(p) for p in dict.fromkeys(re.findall(r'data-proposal="(\d+)"', page.text))]
    assert len(proposals) == 2
    for proposal in proposals:
        assert (await post_form(client, f"{base}/proposals/{proposal}/vote", {"choice": "for"})).status_code == 302
    for juror in (marta, tomasz):
        client.cookies.clear()
        await logged_in(client, juror)
        mine = await client.get(base)
        visible = [int(p) for p in dict.fromkeys(re.findall(r'data-proposal="(\d+)"', mine.text))]
        for proposal in visible:
            assert (await post_form(client, f"{base}/proposals/{proposal}/vote", {"choice": "for"})).status_code == 302
    client.cookies.clear()
    await logged_in(client, ewa)
    tallies = await client.get(base)
    assert tallies.text.count('data-passed="yes"') == 2

    # The confirmation first: what passes, what is left unfilled; a post without the tick changes nothing.
    confirmation = await client.get(f"{base}/recommend")
    assert confirmation.status_code == 200
    assert confirm_pages.items(confirmation.text, "changes") == [
        "2025/0002 Bohdan Melnyk (honourable mention): passes the vote and is recommended.",
        "2025/0001 Olena Kovalenko (title): passes the vote and is recommended.",
        "The recommendation is final: no vote or proposal can change after it is signed.",
        "The clerks are mailed to record the approving body's decision.",
    ]
    assert confirm_pages.items(confirmation.text, "warnings") == [
        "Category A, title: 0 recommended of the 2 possible.",
        "Category B, title: 1 recommended of the 2 possible.",
    ]
    assert confirm_pages.mails(confirmation.text) == "1 mail will be sent."
    unticked = await post_form(client, f"{base}/recommend", {})
    assert unticked.status_code == 400
    assert "Read the warnings and tick the box to confirm that you have." in unticked.text
    assert await Edition.select(Edition.state).where(Edition.id == setup.edition.id).first() == {
        "state": EditionState.DELIBERATION.value
    }
    signed = await post_form(client, f"{base}/recommend", {"acknowledged": "1"})

    assert signed.status_code == 302
    edition = await Edition.select(Edition.state).where(Edition.id == setup.edition.id).first()
    assert edition is not None and edition["state"] == EditionState.RECOMMENDED.value
    states = {r["id"]: r["state"] for r in await Nomination.select(Nomination.id, Nomination.state)}
    assert states == {
        olena: NominationState.RECOMMENDED.value,
        bohdan: NominationState.RECOMMENDED.value,
        iryna: NominationState.SHORTLISTED.value,
    }
    after = await client.get(base)
    assert "The chair has signed the recommendation." in after.text
    assert "Sign the recommendation" not in after.text


async def test_the_minutes_as_pdf_and_printable_page(client: Client) -> None:
    setup = await scored_edition()
    await deliberated(setup)
    await logged_in(client, setup.chair)
    await post_form(client, f"/jury/editions/{setup.edition.id}/deliberation/recommend", {})
    base = f"/jury/editions/{setup.edition.id}"

    chair_pdf = await client.get(f"{base}/minutes.pdf")
    printable = await client.get(f"{base}/minutes")
    client.cookies.clear()
    await clerk_logged_in(client, "another.clerk@example.org")
    clerk_pdf = await client.get(f"/staff/editions/{setup.edition.id}/minutes.pdf?language=en")
    tallies = await client.get(f"/staff/editions/{setup.edition.id}/deliberation")

    for response in (chair_pdf, clerk_pdf):
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["content-disposition"] == 'attachment; filename="minutes-A.D.-2025.pdf"'
        assert response.content.startswith(b"%PDF")
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
        assert "Olena Kovalenko" in text
        assert "A.D. 2025" in text
    assert printable.status_code == 200
    assert (
        "<h1>Minutes of the jury of the title Krakow Ambassador of Multiculturalism, A.D. 2025</h1>" in printable.text
    )
    assert '<article class="minutes" lang="en">' in printable.text
    assert "<td>2 / 1 / 0</td>" in printable.text
    assert tallies.status_code == 200
    assert tallies.text.count('data-passed="yes"') == 2
    assert "passed; decided by the chair" not in tallies.text
    assert "Withdraw" not in tallies.text


def minutes_sentences() -> list[str]:
    """The English sentences of the minutes (message ids of three words or more, up to a placeholder)."""
    found = extract_from_file("python", minutes.__file__, keywords={"N_": None, "translate": (2,)})
    texts = {str(message) for _lineno, message, _comments, _context in found}
    heads = {re.split(r"%\(\w+\)s", text)[0].strip(" :.,") for text in texts}
    return sorted(head for head in heads if len(head.split()) >= 3)


async def test_the_polish_minutes_hold_no_english_sentence(client: Client) -> None:
    setup = await scored_edition()
    await deliberated(setup)
    response = await login(client, setup.chair.email)
    assert response.status_code == 302
    client.cookies.set("lang", "pl", domain="testserver.local")

    page = await client.get(f"/jury/editions/{setup.edition.id}/minutes")

    assert page.status_code == 200
    article = re.search(r'<article class="minutes" lang="pl">.*?</article>', page.text, re.DOTALL)
    assert article is not None
    text = html.unescape(article.group(0))
    assert [sentence for sentence in minutes_sentences() if sentence in text] == []


async def test_results_wait_for_scoring(client: Client) -> None:
    setup = await scored_edition(close=False)
    await logged_in(client, setup.chair)
    base = f"/jury/editions/{setup.edition.id}"
    provisional = await client.get(f"{base}/results")
    assert provisional.status_code == 200
    assert "these results are provisional" in provisional.text
    edition_page = (await client.get(base)).text
    assert f'<a href="{base}/results">' in edition_page
    assert f'<a href="{base}/deliberation">' not in edition_page
    client.cookies.clear()

    await put_in_state(setup.edition.id, EditionState.FORMAL_CHECK)
    await clerk_logged_in(client, "another.clerk@example.org")
    english(client)

    pages = [f"/staff/editions/{setup.edition.id}/{page}" for page in ("results", "minutes", "minutes.pdf")]
    responses = [await client.get(page) for page in pages]

    assert [r.status_code for r in responses] == [409, 409, 409]
    assert all("The results are available once the jury has started scoring." in r.text for r in responses)
    assert (await client.get("/staff/editions/999999/results")).status_code == 404


async def test_the_chart_places_a_row_per_juror_then_per_nomination_under_their_headings() -> None:
    setup = await scored_edition()
    chart = build_chart(await results.compute(setup.edition.id))

    rows = [[(r.y, r.full_label, r.mean_x, r.mean, [d.x for d in r.dots]) for r in g.rows] for g in chart.groups]
    assert [g.y for g in chart.groups] == [30.0, 126.0]
    assert rows == [
        [
            (52.0, "Ewa Pawlak", 559.0, "7,00", [512.0, 559.0, 606.0]),
            (74.0, "Marta Krawczyk", 574.7, "7,33", [559.0, 559.0, 606.0]),
            (96.0, "Tomasz Dudek", 606.0, "8,00", [559.0, 653.0]),
        ],
        [
            (148.0, "2025/0001 Olena Kovalenko", 606.0, "8,00", [559.0, 606.0, 653.0]),
            (170.0, "2025/0003 Iryna Shevchenko", 574.7, "7,33", [559.0, 559.0, 606.0]),
            (192.0, "2025/0002 Bohdan Melnyk", 535.5, "6,50", [512.0, 559.0]),
        ],
    ]
    assert (chart.top, chart.bottom, chart.height) == (15.0, 203.0, 253)
