"""The staff home's to-do list: exact counts per edition and state, each linking to its page."""

from __future__ import annotations

import datetime as dt
import re

from ambassador.db import utcnow
from ambassador.domain import consent, formal_check, todo
from ambassador.domain.editions import get_edition
from ambassador.domain.todo import Chore, Task
from ambassador.enums import EditionState, Role
from tests.archive_factories import add_laureate, archive_edition
from tests.clerk_factories import clerk_logged_in, english, open_edition, paper_nomination
from tests.conftest import Client
from tests.deliberation_factories import logged_in
from tests.factories import make_user
from tests.helpers import text_of
from tests.jury_admin_factories import put_in_state
from tests.jury_factories import JURORS, declare_none, scoring_edition, submit_scores


def _todo_items(page: str) -> dict[str, tuple[str, str]]:
    """Each chore on a page: the link's address and the text a reader sees."""
    found = re.findall(r'<li data-chore="([a-z_]+)">\s*<a href="([^"]+)">(.*?)</a>', page, re.S)
    return {chore: (href, text_of(text)) for chore, href, text in found}


async def test_the_formal_check_waits_for_checks_consents_and_duplicates(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await open_edition(clerk_id=clerk.id)
    first = await paper_nomination(edition, clerk_id=clerk.id)
    await paper_nomination(edition, clerk_id=clerk.id, nominator_email="piotr@example.org")  # same nominee
    other = await paper_nomination(
        edition, clerk_id=clerk.id, nominee_name="Bohdan Melnyk", nominee_email="bohdan@example.org"
    )
    await formal_check.decide(actor_id=clerk.id, nomination_id=first, accept=True, reason="")
    await consent.record_paper_consent(actor_id=clerk.id, nomination_id=other, given=True, note="Letter")

    assert await todo.for_edition(await get_edition(edition.id)) == (
        Task(Chore.CHECK, 2),
        Task(Chore.CONSENTS, 2),
        Task(Chore.DUPLICATES, 2),
    )
    page = await client.get("/staff")
    base = f"/staff/editions/{edition.id}"
    assert page.headers["cache-control"] == "no-store"
    assert _todo_items(page.text) == {
        "check": (f"{base}/nominations?state=submitted", "2 nominations await the formal check"),
        "consents": (f"{base}/nominations?consent=pending", "2 nominees have not answered the consent request"),
        "duplicates": (f"{base}/nominations?duplicates=1", "2 nominations may be duplicates"),
    }
    detail = await client.get(base)
    assert _todo_items(detail.text) == _todo_items(page.text)
    client.cookies.set("lang", "pl")
    polish = await client.get("/staff")
    assert _todo_items(polish.text)["check"][1] == "2 zgłoszenia czekają na ocenę formalną"
    client.cookies.delete("lang")


async def test_scoring_waits_for_detections_declarations_and_scores() -> None:
    # The third juror nominated the second nominee and shares a mail domain with the first's
    # nominator: two detections await the clerk's decision.
    setup = await scoring_edition(year=2026, jurors=(*JURORS[:2], ("piotr@example.org", "Piotr Zieliński")))
    ewa, marta, _piotr = setup.jurors
    for juror in (ewa, marta):
        await declare_none(setup, juror)
    for nomination_id in setup.nominations:
        await submit_scores(setup, ewa, nomination_id, 4)

    assert await todo.for_edition(await get_edition(setup.edition.id)) == (
        Task(Chore.DETECTIONS, 2),
        Task(Chore.DECLARATIONS, 1),
        Task(Chore.SCORES, 1),  # Marta; Piotr is blocked on both nominations until the clerk decides
        Task(Chore.CHAIR, 1),
    )


async def test_laureates_wait_for_citations_confirmation_and_publication() -> None:
    edition_id = await archive_edition(2024, state=EditionState.APPROVED)
    full = {"citation_pl": "Za mosty.", "citation_en": "For bridges.", "citation_uk": "За мости."}
    await add_laureate(edition_id, "Anna Nowak", **full, confirmed_at=utcnow())
    await add_laureate(edition_id, "Fundacja Dialog", citation_pl="Za dialog.")
    await add_laureate(edition_id, "Olha Menko", **full, withdrawn_at=utcnow() - dt.timedelta(days=1))

    assert await todo.for_edition(await get_edition(edition_id)) == (
        Task(Chore.CITATIONS, 1),
        Task(Chore.CONFIRMATIONS, 1),
        Task(Chore.PUBLICATION, 1),
    )


async def test_nothing_waits_in_a_published_edition_with_everything_done_or_a_historical_one() -> None:
    edition_id = await archive_edition(2023)
    await add_laureate(
        edition_id, "Anna Nowak", citation_pl="a", citation_en="b", citation_uk="c", confirmed_at=utcnow()
    )
    await put_in_state(edition_id, EditionState.PUBLISHED)

    assert await todo.for_edition(await get_edition(edition_id)) == ()
    assert await todo.for_clerk() == []


async def test_a_juror_sees_no_clerks_list_and_the_edition_page_links_every_stage(client: Client) -> None:
    await clerk_logged_in(client)
    english(client)
    edition_id = await archive_edition(2025, state=EditionState.DELIBERATION)
    detail = await client.get(f"/staff/editions/{edition_id}")
    for stage in ("results", "deliberation", "minutes", "jury", "conflicts", "scoring", "nominations"):
        assert f'href="/staff/editions/{edition_id}/{stage}"' in detail.text
    assert _todo_items(detail.text) == {
        "chair": (
            f"/staff/editions/{edition_id}/deliberation",
            "The chair closes scoring, the jury votes and the chair signs the recommendation",
        )
    }

    juror = await make_user("juror-only@example.org", (Role.JUROR,), name="Jan Juror")
    client.cookies.clear()
    await logged_in(client, juror)
    english(client)
    page = await client.get("/staff")
    assert page.status_code == 200
    assert "What waits" not in page.text
    assert _todo_items(page.text) == {}
