"""Open data: the OpenAPI document, the Atom feed, the sitemap and robots.txt, JSON-LD."""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from ambassador.db import utcnow
from ambassador.enums import EditionState
from ambassador.tables import Edition
from tests.archive_factories import add_laureate, archive_edition
from tests.clerk_factories import english
from tests.conftest import Client

BASE = "http://testserver.local"
A = "{http://www.w3.org/2005/Atom}"
S = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
PUBLISHED = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
JSONLD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.DOTALL)


def _xml(body: bytes) -> ET.Element:
    return ET.fromstring(body)  # noqa: S314 - the app's own output, in a test


async def _feed(client: Client) -> ET.Element:
    response = await client.get("/feed.atom")
    assert (response.status_code, response.headers["content-type"]) == (200, "application/atom+xml; charset=utf-8")
    return _xml(response.content)


def _everywhere(pages: dict[str, str | None]) -> dict[str, str | None]:
    """The sitemap's entries for these pages: one per language (``/pl/…``, ``/en/…``, ``/uk/…``)."""
    return {f"{BASE}/{code}{path}": moment for path, moment in pages.items() for code in ("pl", "en", "uk")}


async def _sitemap(client: Client) -> dict[str, str | None]:
    """loc -> lastmod (None when there is none)."""
    response = await client.get("/sitemap.xml")
    assert (response.status_code, response.headers["content-type"]) == (200, "application/xml; charset=utf-8")
    return {url.findtext(f"{S}loc", ""): url.findtext(f"{S}lastmod") for url in _xml(response.content)}


async def _jsonld(client: Client, slug: str) -> dict[str, Any]:
    response = await client.get(f"/laureates/{slug}", follow_redirects=True)
    assert response.status_code == 200
    found = JSONLD.findall(response.text)
    assert len(found) == 1
    data: dict[str, Any] = json.loads(found[0])
    return data


def _titles(feed: ET.Element) -> list[str]:
    return [entry.findtext(f"{A}title", "") for entry in feed.iter(f"{A}entry")]


async def test_openapi_document_describes_only_the_public_api(client: Client) -> None:
    response = await client.get("/schema/openapi.json")
    assert (response.status_code, response.headers["content-type"]) == (200, "application/vnd.oai.openapi+json")
    document = response.json()
    assert document["info"]["title"] == "ambassador open data"
    assert sorted(document["paths"]) == ["/api/v1/editions", "/api/v1/laureates", "/laureates.json"]
    laureates = document["paths"]["/api/v1/laureates"]["get"]
    assert [p["name"] for p in laureates["parameters"]] == ["year", "category", "distinction", "q", "page"]
    assert all(p["in"] == "query" and not p["required"] and p["description"] for p in laureates["parameters"])
    assert laureates["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LaureatePage"
    }
    schemas = document["components"]["schemas"]
    assert sorted(schemas) == ["Category", "Edition", "Laureate", "LaureatePage", "Texts"]
    assert schemas["Laureate"]["properties"]["category"]["pattern"] == "^[A-Z0-9]{1,8}$"
    assert schemas["Edition"]["properties"]["categories"]["items"] == {"$ref": "#/components/schemas/Category"}
    assert sorted(schemas["Category"]["properties"]) == ["code", "mentions", "name", "nominee_kind", "titles"]
    assert sorted(schemas["Texts"]["properties"]) == ["en", "pl", "uk"]
    # No login is needed for any operation, whatever the app's session scheme says.
    assert [op["get"]["security"] for op in document["paths"].values()] == [[{}], [{}], [{}]]
    # Only the document: no documentation UI, no YAML.
    for path in ("/schema/swagger", "/schema/redoc", "/schema/elements", "/schema/rapidoc", "/schema/openapi.yaml"):
        assert (await client.get(path)).status_code == 404, path


async def test_the_api_answers_what_the_document_promises(client: Client) -> None:
    edition = await archive_edition(2023)
    await add_laureate(edition, "Anna Public", category="A", citation_en="For dialogue.")
    assert (await client.get("/api/v1/editions")).json() == [
        {
            "year": 2023,
            "label": "A.D. 2023",
            "name": {"pl": "Ambasador 2023", "en": "Ambassador 2023", "uk": "Амбасадор 2023"},
            "laureates": 1,
            "url": "/editions/2023",
            "categories": [
                {
                    "code": "A",
                    "name": {"pl": "organizacja", "en": "organisation", "uk": "організація"},
                    "nominee_kind": "organisation",
                    "titles": 2,
                    "mentions": 0,
                },
                {
                    "code": "B",
                    "name": {"pl": "osoba fizyczna", "en": "individual", "uk": "фізична особа"},
                    "nominee_kind": "person",
                    "titles": 2,
                    "mentions": 0,
                },
            ],
        }
    ]
    item = {
        "slug": "anna-public",
        "name": "Anna Public",
        "category": "A",
        "distinction": "title",
        "year": 2023,
        "citations": {"pl": "", "en": "For dialogue.", "uk": ""},
        "source": "",
        "withdrawn": False,
        "url": "/laureates/anna-public",
    }
    assert (await client.get("/api/v1/laureates")).json() == {"items": [item], "total": 1, "page": 1, "pages": 1}
    assert (await client.get("/laureates.json")).json() == [item]
    # Invalid filters are ignored, as the document says; odd input never breaks the API.
    for query in (
        "year=%FF",
        "year=1&year=x",
        "page=0",
        "page=" + "9" * 40,
        "q=%00%25_",
        "category=<b>",
        "category=Z",
        "q=" + "anna+" * 1000,
    ):
        response = await client.get("/api/v1/laureates?" + query)
        assert (response.status_code, response.json()["total"]) == (200, 1), query


async def test_nothing_of_an_embargoed_edition_shows_until_its_moment(client: Client) -> None:
    english(client)
    public = await archive_edition(2023, published_at=PUBLISHED)
    await add_laureate(public, "Anna Public")
    future = await archive_edition(2024, published_at=utcnow() + dt.timedelta(days=3))
    await add_laureate(future, "Zenobia Embargoed", slug="zenobia-embargoed", citation_en="Secret until then.")
    approved = await archive_edition(2022, state=EditionState.APPROVED, published_at=PUBLISHED)
    await add_laureate(approved, "Ksawery Approved", slug="ksawery-approved")
    hidden = ("Zenobia", "Secret until", "zenobia-embargoed", "A.D. 2024", "Ambassador 2024", "/editions/2024")

    async def bodies() -> dict[str, str]:
        urls = ("/feed.atom", "/sitemap.xml", "/api/v1/editions", "/api/v1/laureates", "/laureates.json")
        searches = ("/api/v1/laureates?q=Zenob", "/api/v1/laureates?year=2024", "/laureates?q=Zenob")
        return {url: (await client.get(url)).text for url in (*urls, *searches)}

    for url, body in (await bodies()).items():
        assert [word for word in hidden if word in body] == [], url
        assert "Ksawery" not in body and "A.D. 2022" not in body, url
    assert _titles(await _feed(client)) == ["Laureates of A.D. 2023"]
    assert sorted(await _sitemap(client)) == sorted(
        _everywhere(dict.fromkeys(["/", "/nominate", "/editions/2023", "/laureates", "/laureates/anna-public"]))
    )
    assert (await client.get("/laureates/zenobia-embargoed", follow_redirects=True)).status_code == 404
    assert (await client.get("/api/v1/laureates", params={"q": "Zenobia"})).json()["total"] == 0

    moment = utcnow() - dt.timedelta(seconds=1)
    await Edition.update({Edition.published_at: moment}).where(Edition.id == future)
    assert _titles(await _feed(client)) == ["Laureates of A.D. 2024", "Laureates of A.D. 2023"]
    pages = ["/", "/nominate", "/editions/2023", "/editions/2024", "/laureates", "/laureates/anna-public"]
    assert sorted(await _sitemap(client)) == sorted(
        _everywhere(dict.fromkeys([*pages, "/laureates/zenobia-embargoed"]))
    )
    names = {item["name"] for item in (await client.get("/api/v1/laureates", params={"q": "Zenobia"})).json()["items"]}
    assert names == {"Zenobia Embargoed"}
    assert [e["year"] for e in (await client.get("/api/v1/editions")).json()] == [2024, 2023]
    assert (await _jsonld(client, "zenobia-embargoed"))["description"] == "Secret until then."


async def test_feed_escapes_names_and_dates_each_edition_by_its_latest_change(client: Client) -> None:
    english(client)
    older = await archive_edition(2022, published_at=PUBLISHED - dt.timedelta(days=365))
    await add_laureate(older, "Old One")
    edition = await archive_edition(2023, published_at=PUBLISHED)
    await add_laureate(edition, 'Ala <b>&" Co', slug="ala", category="A")
    await add_laureate(edition, "Maria Mention", distinction="mention")
    corrected = PUBLISHED + dt.timedelta(days=10, hours=3)
    await add_laureate(
        edition, "Piotr Withdrawn", withdrawn_at=PUBLISHED + dt.timedelta(days=2), corrected_at=corrected
    )

    response = await client.get("/feed.atom")
    assert "<b>" not in response.text and 'Ala &lt;b&gt;&amp;" Co' in response.text
    feed = _xml(response.content)
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert feed.findtext(f"{A}updated") == "2024-05-11T15:00:00Z"
    entries = [
        (
            entry.findtext(f"{A}id"),
            entry.findtext(f"{A}title"),
            entry.findtext(f"{A}updated"),
            entry.findtext(f"{A}published"),
            [link.get("href") for link in entry.iter(f"{A}link")],
            entry.findtext(f"{A}summary"),
        )
        for entry in feed.iter(f"{A}entry")
    ]
    assert entries == [
        (
            f"{BASE}/editions/2023",
            "Laureates of A.D. 2023",
            "2024-05-11T15:00:00Z",
            "2024-05-01T12:00:00Z",
            [f"{BASE}/en/editions/2023"],
            'A: organisation: title: Ala <b>&" Co\n'
            "B: individual: title: Piotr Withdrawn (withdrawn)\n"
            "B: individual: honourable mention: Maria Mention",
        ),
        (
            f"{BASE}/editions/2022",
            "Laureates of A.D. 2022",
            "2023-05-02T12:00:00Z",
            "2023-05-02T12:00:00Z",
            [f"{BASE}/en/editions/2022"],
            "B: individual: title: Old One",
        ),
    ]


async def test_sitemap_lastmod_and_robots(client: Client) -> None:
    assert await _sitemap(client) == _everywhere({"/": None, "/nominate": None, "/laureates": None})
    edition = await archive_edition(2023, published_at=PUBLISHED)
    await add_laureate(edition, "Anna Public")
    await add_laureate(edition, "Bob Corrected", corrected_at=PUBLISHED + dt.timedelta(days=30))
    assert await _sitemap(client) == _everywhere(
        {
            "/": None,
            "/nominate": None,
            "/laureates": "2024-05-31T12:00:00Z",
            "/editions/2023": "2024-05-31T12:00:00Z",
            "/laureates/anna-public": "2024-05-01T12:00:00Z",
            "/laureates/bob-corrected": "2024-05-31T12:00:00Z",
        }
    )
    response = await client.get("/robots.txt")
    assert (response.status_code, response.headers["content-type"]) == (200, "text/plain; charset=utf-8")
    assert response.text == f"User-agent: *\nDisallow:\n\nSitemap: {BASE}/sitemap.xml\n"


async def test_jsonld_on_laureate_pages(client: Client) -> None:
    english(client)
    edition = await archive_edition(2024)
    await add_laureate(edition, "Fundacja </script><b>", slug="fundacja", category="A", citation_en="For <all> & more.")
    await add_laureate(edition, "Jan Kowalski", category="B", distinction="mention", citation_pl="Za dialog.")
    await add_laureate(edition, "Ewa Withdrawn", category="B", withdrawn_at=utcnow())

    body = (await client.get("/laureates/fundacja", follow_redirects=True)).text
    assert body.count("</script>") == 1
    assert "\\u003c/script\\u003e\\u003cb\\u003e" in body and "\\u0026 more." in body
    assert await _jsonld(client, "fundacja") == {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": "Fundacja </script><b>",
        "url": f"{BASE}/en/laureates/fundacja",
        "award": "Krakow Ambassador of Multiculturalism A.D. 2024",
        "description": "For <all> & more.",
    }
    assert await _jsonld(client, "jan-kowalski") == {
        "@context": "https://schema.org",
        "@type": "Person",
        "name": "Jan Kowalski",
        "url": f"{BASE}/en/laureates/jan-kowalski",
        "award": "Krakow Ambassador of Multiculturalism A.D. 2024 – honourable mention",
        "description": "Za dialog.",
    }
    # A withdrawn distinction is no longer claimed.
    assert await _jsonld(client, "ewa-withdrawn") == {
        "@context": "https://schema.org",
        "@type": "Person",
        "name": "Ewa Withdrawn",
        "url": f"{BASE}/en/laureates/ewa-withdrawn",
    }


async def test_pages_link_to_the_feed(client: Client) -> None:
    assert (
        '<link rel="alternate" type="application/atom+xml" href="/feed.atom"'
        in (await client.get("/", follow_redirects=True)).text
    )
