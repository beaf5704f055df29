"""The public laureate archive: the embargo, search, filters, pagination, downloads."""

from __future__ import annotations

import datetime as dt

from ambassador.db import utcnow
from ambassador.enums import EditionState
from ambassador.tables import Edition
from tests.archive_factories import add_laureate, archive_edition
from tests.clerk_factories import english
from tests.conftest import Client

PUBLIC_URLS = ("/laureates", "/api/v1/editions", "/api/v1/laureates", "/laureates.csv", "/laureates.json")


async def _bodies(client: Client, *extra: str) -> dict[str, tuple[int, str]]:
    found = {}
    for url in (*PUBLIC_URLS, *extra):
        response = await client.get(url, follow_redirects=True)
        found[url] = (response.status_code, response.text)
    return found


async def test_embargo_hides_everything_until_published_at(client: Client) -> None:
    english(client)
    await add_laureate(await archive_edition(2023), "Anna Public")
    future = await archive_edition(2024, published_at=utcnow() + dt.timedelta(days=3))
    await add_laureate(future, "Zenobia Embargoed", slug="zenobia-embargoed")
    approved = await archive_edition(2022, state=EditionState.APPROVED)
    await add_laureate(approved, "Ksawery Approved", slug="ksawery-approved")

    for url, (status, body) in (await _bodies(client)).items():
        assert status == 200, url
        assert ("2023" if url == "/api/v1/editions" else "Anna Public") in body, url
        assert "Zenobia" not in body and "Ksawery" not in body, url
        assert "2024" not in body and "2022" not in body, url
    for url in ("/laureates/zenobia-embargoed", "/laureates/ksawery-approved", "/editions/2024", "/editions/2022"):
        assert (await client.get(url, follow_redirects=True)).status_code == 404, url
    assert (await client.get("/editions/2023", follow_redirects=True)).status_code == 200

    await Edition.update({Edition.published_at: utcnow() - dt.timedelta(seconds=1)}).where(Edition.id == future)
    for url, (status, body) in (await _bodies(client, "/editions/2024", "/laureates/zenobia-embargoed")).items():
        assert status == 200, url
        assert ("2024" if url == "/api/v1/editions" else "Zenobia Embargoed") in body, url
        assert "Ksawery" not in body and "2022" not in body, url


async def test_search_folds_case_and_diacritics(client: Client) -> None:
    edition = await archive_edition(2023)
    await add_laureate(edition, "Jan Słowiński")
    await add_laureate(edition, "Maria Nowak")
    body = (await client.get("/laureates", follow_redirects=True, params={"q": "Slowinski"})).text
    assert "Jan Słowiński" in body and "Maria Nowak" not in body
    data = (await client.get("/api/v1/laureates", params={"q": "SŁOWIŃSKI"})).json()
    assert [item["name"] for item in data["items"]] == ["Jan Słowiński"]


async def test_filters_give_exactly_the_expected_names(client: Client) -> None:
    old = await archive_edition(2022)
    new = await archive_edition(2023)
    await add_laureate(old, "Org Old", category="A")
    await add_laureate(new, "Org Title", category="A")
    await add_laureate(new, "Org Mention", category="A", distinction="mention")
    await add_laureate(new, "Person Title", category="B")

    async def names(**params: str) -> set[str]:
        data = (await client.get("/api/v1/laureates", params=params)).json()
        return {item["name"] for item in data["items"]}

    assert await names(category="A") == {"Org Old", "Org Title", "Org Mention"}
    assert await names(category="B") == {"Person Title"}
    assert await names(distinction="mention") == {"Org Mention"}
    assert await names(year="2022") == {"Org Old"}
    assert await names(year="2023", category="A", distinction="title") == {"Org Title"}
    # Invalid values are ignored, never an error.
    assert len(await names(year="abc", category="Z", distinction="x", page="-1")) == 4
    response = await client.get(
        "/laureates", follow_redirects=True, params={"year": "x" * 50, "page": "9" * 30, "category": "<b>"}
    )
    assert response.status_code == 200
    body = (await client.get("/laureates", follow_redirects=True, params={"category": "B"})).text
    assert "Person Title" in body and "Org Title" not in body


async def test_pagination_keeps_the_filters(client: Client) -> None:
    english(client)
    edition = await archive_edition(2023)
    for number in range(25):
        await add_laureate(edition, f"Laureate {number:02d}", category="B")
    first = (await client.get("/laureates", follow_redirects=True, params={"category": "B"})).text
    assert 'href="/en/laureates?category=B&amp;page=2"' in first
    assert 'aria-current="page"' in first
    assert first.count('href="/en/laureates/laureate-') == 20
    second = (await client.get("/laureates?category=B&page=2", follow_redirects=True)).text
    assert second.count('href="/en/laureates/laureate-') == 5
    data = (await client.get("/api/v1/laureates", params={"page": "2"})).json()
    assert (data["total"], data["page"], data["pages"], len(data["items"])) == (25, 2, 2, 5)
    assert len((await client.get("/laureates.json")).json()) == 25


async def test_citation_fallback_withdrawn_and_corrected(client: Client) -> None:
    english(client)
    edition = await archive_edition(2023)
    await add_laureate(
        edition,
        "Olga Polska",
        citation_pl="Za dialog międzykulturowy.",
        source_url="https://www.krakow.pl/",
        withdrawn_at=utcnow(),
        withdrawn_reason="Obtained by fraud.",
        corrected_at=utcnow(),
    )
    await add_laureate(edition, "Eve English", citation_en="For dialogue.", citation_pl="Za dialog.")
    body = (await client.get("/laureates/olga-polska", follow_redirects=True)).text
    assert "Za dialog międzykulturowy." in body
    assert "Citation available in Polish" in body
    assert "withdrawn" in body and "Obtained by fraud." in body
    assert "Corrected on" in body
    assert 'href="https://www.krakow.pl/" rel="noopener noreferrer">Source<' in body
    assert 'href="/en/editions/2023"' in body
    other = (await client.get("/laureates/eve-english", follow_redirects=True)).text
    assert "For dialogue." in other and "Citation available" not in other and "Za dialog." not in other


async def test_csv_has_bom_header_and_neutralised_formulas(client: Client) -> None:
    edition = await archive_edition(2023)
    await add_laureate(edition, "=HYPERLINK(1)", slug="formula")
    response = await client.get("/laureates.csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("slug,name,category,distinction,year")
    assert "'=HYPERLINK(1)" in text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="laureates.csv"'
    assert response.headers["cache-control"] == "public, no-cache"
    assert text.count("\r\n") == len(text.splitlines())


async def test_home_and_nav_link_to_the_archive(client: Client) -> None:
    english(client)
    body = (await client.get("/", follow_redirects=True)).text
    assert 'href="/en/laureates"' in body and "Laureates of earlier editions" in body


async def test_an_address_with_a_nul_byte_is_not_found(client: Client) -> None:
    # Bug: PostgreSQL refuses NUL in text, so such an address would have been a 500 there.
    await add_laureate(await archive_edition(2023), "Anna Public", slug="anna-public")
    for url in ("/laureates/anna%00public", "/laureates/%00", "/laureates/anna-public%0A"):
        assert (await client.get(url)).status_code == 404, url
    assert (await client.get("/laureates/anna-public", follow_redirects=True)).status_code == 200
