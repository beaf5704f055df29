"""A fictional honour runs a whole edition: three categories of its own, none of Kraków's.

The Lakeside Medal of Neighbourliness has N (neighbours: persons, 1 title and 1 mention),
O (organisations: with the kind and the KRS number, 1 title, no mention) and Y (youth
projects: persons or organisations, 2 titles and 1 mention). Three jurors; J1 declares a
conflict on O1, J2's email domain is Y4's nominator's (detected, confirmed). Each juror gives
a nomination the same value on every criterion, so a sheet's total is that value:

    N1 9  N2 7  N3 5  N4 3 | O1 8  O2 6  O3 4 | Y1 9 (a person)  Y2 8  Y3 6  Y4 2

The quotas decide what the chair may propose and what the decision may give; the public
archive, the laureate pages and the open data then show exactly these laureates under the
fictional categories' names.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from ambassador.db import utcnow
from ambassador.domain import (
    approval,
    categories,
    conflict_declarations,
    conflicts,
    consent,
    deliberation,
    editions,
    formal_check,
    jury,
    publication,
    results,
    scoring,
    scoring_round,
)
from ambassador.domain.approval import DecisionData, Outcome
from ambassador.domain.categories import CategoryInput
from ambassador.domain.editions import EditionData, EditionView, default_criteria
from ambassador.domain.jury import JuryRules
from ambassador.domain.nominations import Upload
from ambassador.domain.scoring import ScoreInput
from ambassador.enums import (
    ApprovingBody,
    Distinction,
    EditionState,
    NomineeField,
    NomineeKind,
    Role,
    VoteChoice,
)
from ambassador.errors import InvalidInput, NotAllowed
from ambassador.settings import Settings
from ambassador.tables import Edition, Laureate, Nomination
from ambassador.web.app import create_app
from tests.conftest import Client
from tests.factories import PDF, make_user, nomination_data
from tests.honours import FICTIONAL, honour_active

BASE = "http://testserver.local"
CATEGORIES = (
    CategoryInput(
        code="N",
        name_pl="Sąsiedzi",
        name_en="Neighbours",
        name_uk="Сусіди",
        nominee_kind=NomineeKind.PERSON,
        titles=1,
        mentions=1,
    ),
    CategoryInput(
        code="O",
        name_pl="Organizacje",
        name_en="Organisations",
        name_uk="Організації",
        nominee_kind=NomineeKind.ORGANISATION,
        titles=1,
        mentions=0,
        fields=(NomineeField.ORGANISATION_KIND, NomineeField.REGISTRY_NUMBER),
    ),
    CategoryInput(
        code="Y",
        name_pl="Projekty młodzieżowe",
        name_en="Youth projects",
        name_uk="Молодіжні проєкти",
        nominee_kind=NomineeKind.EITHER,
        titles=2,
        mentions=1,
    ),
)
VALUES = {"N1": 9, "N2": 7, "N3": 5, "N4": 3, "O1": 8, "O2": 6, "O3": 4, "Y1": 9, "Y2": 8, "Y3": 6, "Y4": 2}
NAMES = {
    "N1": "Hanna Brzeg",
    "N2": "Piotr Sosna",
    "N3": "Lena Trzcina",
    "N4": "Jan Olcha",
    "O1": "Lakeside Rowing Club",
    "O2": "Friends of the Pier",
    "O3": "Old Mill Choir",
    "Y1": "Ola Wierzba",  # a person, in the category open to either
    "Y2": "Lakeside Youth Radio",
    "Y3": "Shore Clean-up Crew",
    "Y4": "Skate Park Collective",
}
JURORS = (
    ("Greta Lind", "greta@jury.example.net"),
    ("Tomas Berg", "tomas@jury.example.net"),
    ("Ewa Sund", "ewa@lakeside-youth.example.org"),  # J2: the domain of Y4's nominator
)
PROPOSED = {
    "N1": Distinction.TITLE,
    "N2": Distinction.MENTION,
    "O1": Distinction.TITLE,
    "Y1": Distinction.TITLE,
    "Y2": Distinction.TITLE,
    "Y3": Distinction.MENTION,
}


async def _edition(clerk: int) -> EditionView:
    now = utcnow()
    created = await editions.create_edition(
        actor_id=clerk,
        data=EditionData(
            activity_year=2025,
            name_pl="Medal Sąsiedzkości Lakeside A.D. 2025",
            name_en="Lakeside Medal of Neighbourliness A.D. 2025",
            name_uk="Медаль добросусідства Лейксайд A.D. 2025",
            opens_at=now - dt.timedelta(days=1),
            closes_at=now + dt.timedelta(days=30),
            criteria=default_criteria(),
        ),
        categories=categories.installation_defaults(),
    )
    return await editions.advance(actor_id=clerk, edition_id=created.id, target=EditionState.OPEN)


async def _nominate(clerk: int, edition: EditionView) -> dict[str, int]:
    """Every nomination entered, accepted with consent and shortlisted; the category's rules hold."""
    ids: dict[str, int] = {}
    for label, name in NAMES.items():
        code = label[0]
        entered = await formal_check.enter_paper_nomination(
            actor_id=clerk,
            edition_id=edition.id,
            data=nomination_data(
                edition,
                category=code,
                nominee_name=name,
                nominee_email="",
                organisation_kind="ngo" if code == "O" else "",
                # Only O asks for the KRS number: given elsewhere, it is not stored.
                registry_number="0000123456" if label in ("O1", "N1") else "",
                nominee_is_minor=label == "Y1",
                nominator_name=f"Citizen {label}",
                nominator_email="office@lakeside-youth.example.org" if label == "Y4" else "",
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
    stored = {
        r["nominee_name"]: (r["category"], r["registry_number"], r["nominee_is_minor"])
        for r in await Nomination.select(
            Nomination.nominee_name, Nomination.category, Nomination.registry_number, Nomination.nominee_is_minor
        )
    }
    assert stored[NAMES["O1"]] == ("O", "0000123456", False)
    assert stored[NAMES["N1"]] == ("N", "", False)
    assert stored[NAMES["Y1"]] == ("Y", "", True)
    await Edition.update({Edition.closes_at: utcnow() - dt.timedelta(seconds=1)}).where(Edition.id == edition.id)
    await editions.advance(actor_id=clerk, edition_id=edition.id, target=EditionState.FORMAL_CHECK)
    for nomination_id in ids.values():
        await formal_check.shortlist(actor_id=clerk, nomination_id=nomination_id)
    return ids


@pytest.fixture
def lakeside() -> Iterator[None]:
    """The fictional honour active for the test (the one active before, after it)."""
    with honour_active(FICTIONAL):
        yield


@pytest.fixture
async def lakeside_client(lakeside: None, settings: Settings) -> AsyncIterator[Client]:
    """The app running the fictional honour, as its settings name it."""
    async with AsyncTestClient(app=create_app(settings.with_changes(honour_file=FICTIONAL))) as client:
        client.follow_redirects = False
        yield client


async def test_the_honour_file_gives_new_editions_these_categories(lakeside: None) -> None:
    assert categories.installation_defaults() == CATEGORIES


async def test_the_categories_own_rules_hold_on_nominations(lakeside: None) -> None:
    clerk = (await make_user("clerk@lakeside.example", (Role.CLERK,))).id
    edition = await _edition(clerk)

    async def refused(**changes: Any) -> dict[str, str]:
        with pytest.raises(InvalidInput) as caught:
            await formal_check.enter_paper_nomination(
                actor_id=clerk,
                edition_id=edition.id,
                data=nomination_data(edition, **changes),
                uploads=[],
                received_on=utcnow().date(),
                base_url=BASE,
            )
        return caught.value.errors

    assert await refused(category="B") == {"category": "Choose a category."}
    assert await refused(category="O", organisation_kind="") == {
        "organisation_kind": "Choose the kind of organisation."
    }
    assert await refused(category="O", organisation_kind="ngo", registry_number="123") == {
        "registry_number": "A KRS number has 10 digits."
    }
    refusal = "You cannot nominate yourself. Someone else must nominate you."
    self_nomination = {"nominee_name": refusal, "nominator_name": refusal}
    for code in ("N", "Y"):
        assert await refused(category=code, nominee_name="Anna Nowak", nominee_email="") == self_nomination
    # Only organisations in O: the same name as the nominator's is no self-nomination there.
    entered = await formal_check.enter_paper_nomination(
        actor_id=clerk,
        edition_id=edition.id,
        data=nomination_data(edition, category="O", organisation_kind="ngo", nominee_name="Anna Nowak"),
        uploads=[],
        received_on=utcnow().date(),
        base_url=BASE,
    )
    assert entered.nomination_id > 0


async def _jury(clerk: int, edition: EditionView, ids: dict[str, int]) -> list[int]:
    jurors = []
    for name, email in JURORS:
        user = await make_user(email, (Role.JUROR,), name=name)
        await jury.appoint(actor_id=clerk, edition_id=edition.id, user_id=user.id, base_url=BASE)
        jurors.append(user.id)
    await jury.set_chair(actor_id=clerk, edition_id=edition.id, user_id=jurors[0])
    await jury.set_rules(
        actor_id=clerk, edition_id=edition.id, rules=JuryRules(appointment_document="Order 7/2026", min_scores=2)
    )
    await scoring_round.open_scoring(base_url=BASE, actor_id=clerk, edition_id=edition.id)
    matrix = await conflicts.matrix(edition.id)
    detected = {key: cell for key, cell in matrix.cells.items() if cell.detection_id is not None}
    assert sorted(detected) == [(jurors[2], ids["Y4"])]
    detection = detected[(jurors[2], ids["Y4"])].detection_id or 0
    await conflict_declarations.decide_detection(actor_id=clerk, detection_id=detection, confirm=True, reason="")
    for juror in jurors:
        for label, nomination_id in ids.items():
            conflicted = (juror, label) in ((jurors[1], "O1"), (jurors[2], "Y4"))
            await conflict_declarations.declare(
                juror_id=juror,
                edition_id=edition.id,
                nomination_id=nomination_id,
                conflicted=conflicted,
                kind="organisation" if conflicted else "",
            )
        blocked = await conflicts.conflicted_ids(edition.id, juror)
        for label, nomination_id in ids.items():
            if nomination_id not in blocked:
                values: dict[int, int | None] = {c.id: VALUES[label] for c in edition.criteria if c.id is not None}
                await scoring.save(
                    juror_id=juror, nomination_id=nomination_id, data=ScoreInput(values=values), submit=True
                )
    return jurors


async def _deliberate(edition: EditionView, jurors: list[int], ids: dict[str, int]) -> None:
    chair = jurors[0]
    await scoring_round.close_scoring(chair_id=chair, edition_id=edition.id)
    proposals = {
        label: await deliberation.propose(
            base_url=BASE, chair_id=chair, edition_id=edition.id, nomination_id=ids[label], distinction=distinction
        )
        for label, distinction in PROPOSED.items()
    }
    # The quotas of the fictional categories: O gives no mention, N only one title.
    for label, distinction in (("O2", Distinction.MENTION), ("N3", Distinction.TITLE), ("Y4", Distinction.MENTION)):
        with pytest.raises(NotAllowed):
            await deliberation.propose(
                base_url=BASE, chair_id=chair, edition_id=edition.id, nomination_id=ids[label], distinction=distinction
            )
    for label, proposal in proposals.items():
        for juror in jurors:
            if not (juror == jurors[1] and label == "O1"):
                await deliberation.cast_vote(juror_id=juror, proposal_id=proposal, choice=VoteChoice.FOR)
    signed = await deliberation.recommend(chair_id=chair, edition_id=edition.id)
    assert signed.state == EditionState.RECOMMENDED


async def _decide_and_publish(clerk: int, edition: EditionView) -> None:
    listed = await approval.recommended(edition.id)
    assert sorted((r.category, r.distinction.value, r.nominee_name) for r in listed) == sorted(
        (label[0], distinction.value, NAMES[label]) for label, distinction in PROPOSED.items()
    )
    too_many = {r.nomination_id: Outcome(Distinction.MENTION, reason="Changed") for r in listed}
    decision = DecisionData(
        kind=ApprovingBody.MAYOR_ORDER,
        number="12/2026",
        decided_on=utcnow().date(),
        document=Upload("order.pdf", PDF),
        outcomes=too_many,
    )
    with pytest.raises(InvalidInput) as caught:
        await approval.record_decision(acknowledged=True, actor_id=clerk, edition_id=edition.id, data=decision)
    assert caught.value.errors == {"outcomes": "The decision gives more distinctions than the edition has."}
    decision = DecisionData(
        kind=ApprovingBody.MAYOR_ORDER,
        number="12/2026",
        decided_on=utcnow().date(),
        document=Upload("order.pdf", PDF),
        outcomes={r.nomination_id: Outcome(r.distinction) for r in listed},
    )
    await approval.record_decision(acknowledged=True, actor_id=clerk, edition_id=edition.id, data=decision)
    await publication.publish(
        actor_id=clerk, edition_id=edition.id, published_at=utcnow(), base_url=BASE, acknowledged=True
    )


def _jsonld(text: str) -> dict[str, Any]:
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', text, re.S)
    assert len(found) == 1
    data: dict[str, Any] = json.loads(found[0])
    return data


async def _public_pages(client: Client) -> None:
    """The archive, the laureate pages, the API and the feed show the fictional categories only."""
    client.cookies.set("lang", "en")
    page = await client.get("/editions/2025", follow_redirects=True)
    assert page.status_code == 200
    headings = re.findall(r'<h2 id="g-[^"]+">([^<]+)</h2>', page.text)
    assert headings == [
        "N: Neighbours: title",
        "N: Neighbours: honourable mention",
        "O: Organisations: title",
        "Y: Youth projects: title",
        "Y: Youth projects: honourable mention",
    ]
    assert "Lakeside Medal of Neighbourliness A.D. 2025" in page.text
    assert "<title>Lakeside Medal of Neighbourliness A.D. 2025 – Laureates" in page.text
    slugs = {r["name"]: r["slug"] for r in await Laureate.select(Laureate.name, Laureate.slug)}
    expected_types = {"N1": "Person", "O1": "Organization", "Y1": "Thing"}
    for label, schema_type in expected_types.items():
        laureate_page = await client.get(f"/laureates/{slugs[NAMES[label]]}", follow_redirects=True)
        assert laureate_page.status_code == 200
        assert _jsonld(laureate_page.text)["@type"] == schema_type
    youth = await client.get(f"/laureates/{slugs[NAMES['Y1']]}", follow_redirects=True)
    assert "<dd>Y: Youth projects</dd>" in youth.text
    listing = await client.get("/laureates?category=Y", follow_redirects=True)
    # The archive's order: category, distinction ("mention" before "title"), name.
    assert re.findall(r'<a href="/en/laureates/[^"]+">([^<]+)</a>', listing.text) == [
        NAMES["Y3"],
        NAMES["Y2"],
        NAMES["Y1"],
    ]
    select = re.search(r'<select id="f-category".*?</select>', listing.text, re.S)
    assert select is not None
    options = re.findall(r'<option value="([A-Z0-9]+)"[^>]*>([^<]+)</option>', select.group(0))
    assert options == [("N", "N: Neighbours"), ("O", "O: Organisations"), ("Y", "Y: Youth projects")]

    api = (await client.get("/api/v1/editions")).json()
    assert [
        (c["code"], c["name"]["en"], c["nominee_kind"], c["titles"], c["mentions"]) for c in api[0]["categories"]
    ] == [
        ("N", "Neighbours", "person", 1, 1),
        ("O", "Organisations", "organisation", 1, 0),
        ("Y", "Youth projects", "either", 2, 1),
    ]
    found = (await client.get("/api/v1/laureates?category=Y&distinction=title")).json()
    assert sorted(item["name"] for item in found["items"]) == sorted([NAMES["Y1"], NAMES["Y2"]])
    feed = (await client.get("/feed.atom")).text
    assert "N: Neighbours: title: Hanna Brzeg" in feed
    assert "Y: Youth projects: honourable mention: Shore Clean-up Crew" in feed
    # Nothing of Kraków anywhere public: neither its categories nor its name.
    openapi = (await client.get("/schema/openapi.json")).text
    for body in (page.text, youth.text, listing.text, feed, json.dumps(api, ensure_ascii=False), openapi):
        krakow_words = ("A: organisation", "B: individual", "organizacja", "osoba fizyczna", "Krak", "Multicultural")
        assert [k for k in krakow_words if k in body] == []
    assert "Lakeside Medal of Neighbourliness" in feed


async def test_a_fictional_honour_runs_a_whole_edition_to_its_public_archive(lakeside_client: Client) -> None:
    client = lakeside_client
    clerk = (await make_user("clerk@lakeside.example", (Role.CLERK,))).id
    edition = await _edition(clerk)
    assert [(c.code, c.nominee_kind, c.titles, c.mentions) for c in edition.categories] == [
        ("N", NomineeKind.PERSON, 1, 1),
        ("O", NomineeKind.ORGANISATION, 1, 0),
        ("Y", NomineeKind.EITHER, 2, 1),
    ]
    ids = await _nominate(clerk, edition)
    jurors = await _jury(clerk, edition, ids)

    s = await results.compute(edition.id)
    label_of = {v: k for k, v in ids.items()}
    ranked = {code: [label_of[p.nomination_id] for p in r.ranked] for code, r in s.ordered_rankings()}
    assert ranked == {"N": ["N1", "N2", "N3", "N4"], "O": ["O1", "O2", "O3"], "Y": ["Y1", "Y2", "Y3", "Y4"]}
    assert [code for code, _ in s.ordered_rankings()] == ["N", "O", "Y"]
    top = {code: [label_of[n] for n, _ in places] for code, places in s.stability.top.items()}
    assert top == {"N": ["N1"], "O": ["O1"], "Y": ["Y1", "Y2"]}
    # O1 without J1 (conflicted): two sheets; Y4 without J2 (detected, confirmed): two sheets.
    assert (s.computed.nominations[ids["O1"]].count, s.computed.nominations[ids["Y4"]].count) == (2, 2)

    await _deliberate(edition, jurors, ids)
    await _decide_and_publish(clerk, edition)

    laureates = await Laureate.select(Laureate.category, Laureate.distinction, Laureate.name).order_by(Laureate.name)
    by_group: dict[tuple[str, str], list[str]] = {}
    for row in laureates:
        by_group.setdefault((row["category"], row["distinction"]), []).append(row["name"])
    assert by_group == {
        ("N", "title"): [NAMES["N1"]],
        ("N", "mention"): [NAMES["N2"]],
        ("O", "title"): [NAMES["O1"]],
        ("Y", "title"): sorted([NAMES["Y1"], NAMES["Y2"]]),
        ("Y", "mention"): [NAMES["Y3"]],
    }

    await _public_pages(client)
