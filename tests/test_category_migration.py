"""The migrations that make categories rows carry existing editions over unchanged.

Built at the schema before them (migrated backwards), an edition keeps its quotas in
``titles_a``/``mentions_a``/``titles_b``/``mentions_b``; after them it has the rows A and B,
its nominations and laureates keep their codes, and its results, archive and open data read
as before. Backwards, the quotas go back to the columns.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from piccolo.apps.migrations.commands.backwards import run_backwards
from piccolo.apps.migrations.commands.forwards import run_forwards

from ambassador.domain import categories, results
from ambassador.tables import Category, Edition, Laureate
from tests.conftest import Client
from tests.deliberation_factories import scored_edition

FIRST = "2026-12-05T10:03:00:000000"
ROWS = ["code", "position", "name_pl", "name_en", "name_uk", "nominee_kind", "titles", "mentions", "fields"]


async def _backwards() -> None:
    undone = await run_backwards("ambassador", migration_id=FIRST, auto_agree=True)
    assert undone.success, undone.message


async def _forwards() -> None:
    done = await run_forwards("ambassador")
    assert done.success, done.message


async def _rows() -> list[dict[str, Any]]:
    return list(await Category.select(Category.edition, *(getattr(Category, c) for c in ROWS)).order_by(Category.id))


async def test_an_edition_of_before_gets_its_categories_a_and_b(client: Client) -> None:
    await _backwards()
    published = dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC)
    await Edition.raw(
        "INSERT INTO edition (activity_year, state, name_pl, name_en, name_uk, titles_a, mentions_a, titles_b, "
        "mentions_b, opens_at, closes_at, published_at) VALUES (2024, 'published', 'Ambasador 2024', "
        "'Ambassador 2024', 'Амбасадор 2024', 3, 1, 1, 2, {}, {}, {})",
        published - dt.timedelta(days=200),
        published - dt.timedelta(days=100),
        published,
    )
    edition_id = (await Edition.raw("SELECT id FROM edition"))[0]["id"]
    for slug, category, distinction in (("org", "A", "title"), ("person", "B", "mention")):
        await Laureate.raw(
            "INSERT INTO laureate (edition, slug, name, name_key, category, distinction) "
            "VALUES ({}, {}, {}, {}, {}, {})",
            edition_id,
            slug,
            slug.title(),
            slug,
            category,
            distinction,
        )

    await _forwards()

    assert await _rows() == [
        {
            "edition": edition_id,
            "code": "A",
            "position": 1,
            "name_pl": "organizacja",
            "name_en": "organisation",
            "name_uk": "організація",
            "nominee_kind": "organisation",
            "titles": 3,
            "mentions": 1,
            "fields": "organisation_kind,registry_number",
        },
        {
            "edition": edition_id,
            "code": "B",
            "position": 2,
            "name_pl": "osoba fizyczna",
            "name_en": "individual",
            "name_uk": "фізична особа",
            "nominee_kind": "person",
            "titles": 1,
            "mentions": 2,
            "fields": "",
        },
    ]
    assert [(c.code, c.titles, c.mentions) for c in await categories.for_edition(edition_id)] == [
        ("A", 3, 1),
        ("B", 1, 2),
    ]
    assert "titles_a" not in (await Edition.select().first() or {})
    # The archive reads as before: the groups' headings and the schema.org types.
    client.cookies.set("lang", "en")
    page = (await client.get("/editions/2024", follow_redirects=True)).text
    assert "A: organisation: title" in page
    assert "B: individual: honourable mention" in page
    assert '"@type":"Organization"' in (await client.get("/laureates/org", follow_redirects=True)).text
    assert '"@type":"Person"' in (await client.get("/laureates/person", follow_redirects=True)).text
    client.cookies.set("lang", "pl")
    assert "A: organizacja: tytuł" in (await client.get("/editions/2024", follow_redirects=True)).text


async def test_results_are_the_same_after_the_migrations_back_and_forth() -> None:
    setup = await scored_edition()
    before = await results.compute(setup.edition.id)
    rows_before = await _rows()

    await _backwards()
    quotas = await Edition.raw("SELECT titles_a, mentions_a, titles_b, mentions_b FROM edition")
    assert quotas == [{"titles_a": 2, "mentions_a": 0, "titles_b": 2, "mentions_b": 1}]
    await _forwards()

    after = await results.compute(setup.edition.id)
    assert await _rows() == rows_before
    assert (after.computed, after.stability, after.references) == (before.computed, before.stability, before.references)
    assert [c.input() for c in after.edition.categories] == [c.input() for c in before.edition.categories]
