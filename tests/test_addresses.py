"""Addresses per language (/pl/ /en/ /uk/), their alternates and canonical links, the cards of
shared links, ``lang`` on the texts people wrote, and compressed responses (issue 14)."""

from __future__ import annotations

import gzip
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, cast

import brotli
import pytest
from litestar.testing import AsyncTestClient

from ambassador.settings import Settings
from ambassador.tables import Edition
from ambassador.web.addresses import describe, in_language, is_public_page, localized, split_prefix
from ambassador.web.app import create_app
from ambassador.web.compression import MIN_SIZE, Compressed, accepted, compress, compressed
from tests.archive_factories import add_laureate, archive_edition
from tests.clerk_factories import PNG, citizen_nomination, clerk_logged_in, open_edition
from tests.conftest import Client
from tests.factories import make_edition
from tests.helpers import csrf_token
from tests.honours import FICTIONAL, honour_active

BASE = "http://testserver.local"


class Head(HTMLParser):
    """The <link> and <meta> elements of a page, and the elements carrying ``lang``."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[dict[str, str]] = []
        self.meta: dict[str, str] = {}
        self.langs: list[tuple[str, str]] = []
        self._open: list[tuple[str, str]] = []
        self._text: dict[int, list[str]] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "link":
            self.links.append(found)
        elif tag == "meta" and ("property" in found or "name" in found):
            self.meta[found.get("property") or found["name"]] = found.get("content", "")
        if "lang" in found and tag != "html":
            self.langs.append((tag, found["lang"]))

    def alternates(self) -> dict[str, str]:
        return {
            link["hreflang"]: link["href"]
            for link in self.links
            if link.get("rel") == "alternate" and "hreflang" in link
        }

    def canonical(self) -> list[str]:
        return [link["href"] for link in self.links if link.get("rel") == "canonical"]


def expected_alternates(path: str, query: str = "") -> dict[str, str]:
    found = {code: f"{BASE}/{code}{path}{query}" for code in ("pl", "en", "uk")}
    return {**found, "x-default": f"{BASE}{path}{query}"}


# --- the addresses ------------------------------------------------------------------------------


def test_public_pages_and_prefixes() -> None:
    assert [is_public_page(p) for p in ("/", "/nominate", "/laureates", "/laureates/anna-nowak", "/editions/2024")] == [
        True
    ] * 5
    assert [is_public_page(p) for p in ("/about", "/about/easy-read", "/accessibility")] == [True] * 3
    not_public = (
        "/about/sign-language-video",
        "/staff",
        "/login",
        "/laureates.csv",
        "/laureates.json",
        "/n/abc",
        "/api/v1/laureates",
        "/laureates/a\n",
    )
    assert [is_public_page(p) for p in not_public] == [False] * len(not_public)
    assert [split_prefix(p) for p in ("/uk/laureates", "/uk", "/uk/", "/ukraine", "/laureates")] == [
        ("uk", "/laureates"),
        ("uk", None),
        ("uk", "/"),
        (None, "/ukraine"),
        (None, "/laureates"),
    ]
    assert localized("/laureates?year=2024", "en") == "/en/laureates?year=2024"
    assert localized("/", "uk") == "/uk/"
    assert localized("/staff", "uk") == "/staff"
    assert in_language("/pl/laureates?q=a", "uk") == "/uk/laureates?q=a"
    assert in_language("/pl/", "en") == "/en/"
    assert in_language("/account", "en") == "/account"


async def test_old_addresses_redirect_to_the_visitors_language(client: Client) -> None:
    by_default = await client.get("/laureates?year=2024&q=ann")
    by_browser = await client.get("/laureates", headers={"accept-language": "uk-UA,uk;q=0.9,en;q=0.5"})
    client.cookies.set("lang", "en", domain="testserver.local")
    by_cookie = await client.get("/editions/2023", headers={"accept-language": "uk"})
    head = await client.head("/")

    assert (by_default.status_code, by_default.headers["location"]) == (302, "/pl/laureates?year=2024&q=ann")
    assert (by_browser.status_code, by_browser.headers["location"]) == (302, "/uk/laureates")
    assert (by_cookie.status_code, by_cookie.headers["location"]) == (302, "/en/editions/2023")
    assert (head.status_code, head.headers["location"]) == (302, "/en/")
    assert by_default.headers["vary"] == "accept-language, cookie"
    assert by_default.headers["x-frame-options"] == "DENY"  # the security headers of every answer
    home = await client.get("/uk")
    assert (home.status_code, home.headers["location"]) == (301, "/uk/")


async def test_what_has_one_address_for_every_language_is_not_redirected(client: Client) -> None:
    for path in ("/login", "/feed.atom", "/laureates.csv", "/laureates.json", "/api/v1/editions", "/healthz"):
        assert (await client.get(path)).status_code == 200, path
    for path in ("/pl/login", "/en/staff", "/uk/laureates.csv", "/pl/api/v1/editions", "/en/laureates/"):
        assert (await client.get(path)).status_code == 404, path


async def test_the_prefix_sets_the_language_over_the_cookie_and_the_browser(client: Client) -> None:
    client.cookies.set("lang", "pl", domain="testserver.local")

    page = await client.get("/uk/laureates", headers={"accept-language": "pl"})
    missing = await client.get("/en/laureates/nobody", headers={"accept-language": "pl"})

    assert page.status_code == 200
    assert '<html lang="uk">' in page.text
    assert (missing.status_code, '<html lang="en">' in missing.text, "Page not found" in missing.text) == (
        404,
        True,
        True,
    )


async def test_the_language_links_lead_to_the_page_in_that_language(client: Client) -> None:
    page = await client.get("/pl/laureates?year=2023")
    chosen = await client.get("/language/uk?next=/pl/laureates%3Fyear%3D2023")

    assert 'href="/language/en?next=/en/laureates%3Fyear%3D2023"' in page.text
    assert (chosen.status_code, chosen.headers["location"]) == (302, "/uk/laureates?year=2023")
    assert "lang=uk" in chosen.headers["set-cookie"]


async def test_links_to_public_pages_are_in_the_pages_language(client: Client) -> None:
    edition = await archive_edition(2023)
    await add_laureate(edition, "Anna Public", slug="anna-public")

    index = (await client.get("/uk/laureates")).text
    laureate = (await client.get("/en/laureates/anna-public")).text

    assert 'href="/uk/laureates/anna-public"' in index and 'href="/uk/editions/2023"' in index
    assert 'action="/uk/laureates"' in index
    assert 'href="/en/editions/2023"' in laureate and 'href="/en/"' in laureate


async def test_the_form_posted_from_a_language_address_answers_in_it_and_is_rate_limited(settings: Settings) -> None:
    """The form's action is its address in the page's language; the limit counts those posts too."""
    app = create_app(settings.with_changes(nomination_posts_per_hour=2))
    async with AsyncTestClient(app=app) as client:
        client.follow_redirects = False
        await make_edition()
        form = await client.get("/uk/nominate", headers={"accept-language": "pl"})
        assert 'action="/uk/nominate"' in form.text
        data = {"_csrf_token": await csrf_token(client), "nominee_name": ""}
        files = [("attachments", ("", b"", "application/octet-stream"))]
        refused = await client.post("/uk/nominate", data=data, files=files)
        second = await client.post("/uk/nominate", data=data, files=files)
        third = await client.post("/nominate", data=data, files=files)

    assert (refused.status_code, '<html lang="uk">' in refused.text) == (400, True)
    assert [second.status_code, third.status_code] == [400, 429]


# --- alternates, canonical, cards ---------------------------------------------------------------


async def test_every_public_page_kind_names_its_languages_and_its_canonical_address(client: Client) -> None:
    await make_edition()
    edition = await archive_edition(2023)
    await add_laureate(edition, "Anna Public", slug="anna-public")
    pages = ["/", "/nominate", "/laureates", "/editions/2023", "/laureates/anna-public"]

    for path in pages:
        for code in ("pl", "en", "uk"):
            response = await client.get(f"/{code}{path}")
            assert response.status_code == 200, (code, path)
            head = Head(response.text)
            assert head.canonical() == [f"{BASE}/{code}{path}"], (code, path)
            assert head.alternates() == expected_alternates(path), (code, path)
            assert head.meta["og:url"] == f"{BASE}/{code}{path}"


async def test_the_canonical_address_keeps_the_archive_filters_only(client: Client) -> None:
    page = Head((await client.get("/en/laureates?distinction=title&utm_source=x&year=2023")).text)

    assert page.canonical() == [f"{BASE}/en/laureates?year=2023&distinction=title"]
    assert page.alternates() == expected_alternates("/laureates", "?year=2023&distinction=title")


async def test_pages_with_one_address_and_error_pages_have_no_alternates(client: Client) -> None:
    for path in ("/login", "/pl/laureates/nobody", "/no/such/page"):
        head = Head((await client.get(path)).text)
        assert (head.canonical(), head.alternates(), "og:title" in head.meta) == ([], {}, False), path


async def test_cards_of_the_home_page_the_form_an_edition_and_a_laureate(client: Client) -> None:
    await make_edition()
    edition = await archive_edition(2023)
    await add_laureate(edition, "Anna Public", slug="anna-public", citation_en="For bringing neighbours together.")
    await add_laureate(edition, "Bohdan Second", category="A")

    home = Head((await client.get("/en/")).text).meta
    form = Head((await client.get("/uk/nominate")).text).meta
    shown = Head((await client.get("/en/editions/2023")).text).meta
    laureate = Head((await client.get("/en/laureates/anna-public")).text).meta

    assert home["og:title"] == home["og:site_name"] == home["twitter:title"]
    assert home["description"] == home["og:description"] == home["twitter:description"] != ""
    assert (home["og:type"], home["og:locale"], home["twitter:card"]) == ("website", "en_GB", "summary")
    assert form["og:locale"] == "uk_UA"
    assert "Амбасадор 2025" in form["description"]
    assert "A.D. 2023" in shown["description"]
    assert "Anna Public" in shown["description"] and "Bohdan Second" in shown["description"]
    assert laureate["og:title"] == f"Anna Public – {laureate['og:site_name']} A.D. 2023"
    assert laureate["description"] == (
        f"{laureate['og:site_name']} A.D. 2023. Category: B: individual. For bringing neighbours together."
    )
    assert "og:image" not in laureate  # the shipped honour has no logo


def test_a_description_is_one_line_cut_at_a_word() -> None:
    assert describe("  Two\n lines  ") == "Two lines"
    assert describe("word " * 100, limit=22) == "word word word word…"


# --- lang on what people wrote ------------------------------------------------------------------


async def test_a_nominators_texts_carry_the_language_they_were_written_in(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    edition = await open_edition(clerk_id=clerk.id)
    first = edition.criteria[0].id
    assert first is not None
    nomination = await citizen_nomination(
        edition,
        "k" * 32,
        language="uk",
        descriptions={first: "Веде двомовний читацький клуб."},
        nominator_relation="Сусідка",
    )

    page = await client.get(f"/staff/nominations/{nomination}", headers={"accept-language": "pl"})

    assert page.status_code == 200
    assert '<p class="prose" lang="uk">Веде двомовний читацький клуб.</p>' in page.text
    assert '<dd lang="uk">Сусідка</dd>' in page.text


async def test_an_edition_text_shown_in_polish_for_want_of_a_translation_says_so(client: Client) -> None:
    edition = await make_edition()
    await Edition.update({Edition.intro_pl: "Wstęp po polsku.", Edition.intro_en: ""}).where(Edition.id == edition.id)

    english = (await client.get("/en/")).text
    polish = (await client.get("/pl/")).text

    assert '<div class="prose" lang="pl">Wstęp po polsku.</div>' in english
    assert '<span lang="en">Ambassador 2025</span>' in english
    assert '<div class="prose" lang="pl">Wstęp po polsku.</div>' in polish


# --- compression --------------------------------------------------------------------------------


def test_accept_encoding_is_read_with_its_weights() -> None:
    assert [
        accepted(h) for h in ("gzip, deflate, br", "gzip", "br;q=0, gzip;q=0.5", "identity", "*", "br;q=x, gzip")
    ] == [
        "br",
        "gzip",
        "gzip",
        None,
        "br",
        "gzip",
    ]


def test_compressed_bodies_are_remembered_by_content() -> None:
    memory = Compressed(max_entries=2)
    body = b"<p>Laureates</p>" * 200
    first = memory.get(body, "br")

    assert memory.get(body, "br") is first
    assert brotli.decompress(first) == body
    assert gzip.decompress(memory.get(body, "gzip")) == body
    memory.get(b"other" * 300, "gzip")
    assert len(memory) == 2


@pytest.mark.parametrize("encoding", ["br", "gzip"])
async def test_public_pages_are_compressed_as_the_client_accepts(client: Client, encoding: str) -> None:
    edition = await archive_edition(2023)
    for number in range(15):
        await add_laureate(edition, f"Laureate {number:02d}")

    plain = await client.get("/en/laureates", headers={"accept-encoding": "identity"})
    packed = await client.get("/en/laureates", headers={"accept-encoding": encoding})

    assert plain.status_code == packed.status_code == 200
    assert "content-encoding" not in plain.headers
    assert "accept-encoding" in plain.headers["vary"]  # it could have been compressed
    assert packed.headers["content-encoding"] == encoding
    assert "accept-encoding" in packed.headers["vary"]
    assert int(packed.headers["content-length"]) < int(plain.headers["content-length"]) / 3
    assert packed.content == plain.content  # decoded by the client
    assert packed.headers["etag"] == plain.headers["etag"]  # the same page: a 304 answers either


async def test_a_compressed_page_still_answers_304_and_head_has_the_gets_headers(client: Client) -> None:
    await archive_edition(2023)
    first = await client.get("/pl/laureates", headers={"accept-encoding": "br"})
    again = await client.get("/pl/laureates", headers={"accept-encoding": "br", "if-none-match": first.headers["etag"]})
    head = await client.head("/pl/laureates", headers={"accept-encoding": "br"})
    cached = await client.get("/pl/laureates", headers={"accept-encoding": "gzip"})

    assert (again.status_code, again.content, "content-encoding" in again.headers) == (304, b"", False)
    assert "accept-encoding" in again.headers["vary"]
    assert (head.status_code, head.headers["content-encoding"]) == (200, "br")
    assert head.headers["content-length"] == first.headers["content-length"]
    assert (cached.headers["content-encoding"], cached.content) == ("gzip", first.content)


async def test_small_bodies_staff_pages_and_staff_sessions_are_not_compressed(client: Client) -> None:
    await archive_edition(2023)
    br = {"accept-encoding": "br, gzip"}
    small = await client.get("/healthz", headers=br)
    login_page = await client.get("/login", headers=br)
    open_data = await client.get("/api/v1/editions", headers=br)
    await clerk_logged_in(client)
    as_staff = await client.get("/pl/laureates", headers=br)

    assert len(small.content) < MIN_SIZE and "content-encoding" not in small.headers
    assert "content-encoding" not in login_page.headers  # BREACH: a CSRF token next to values of the address
    assert "content-encoding" not in as_staff.headers  # the session's CSRF token is in the logout form
    assert len(open_data.content) < MIN_SIZE or open_data.headers["content-encoding"] == "br"


def test_compress_round_trips() -> None:
    body = "Zażółć gęślą jaźń. ".encode() * 100
    assert brotli.decompress(compress(body, "br")) == body
    assert gzip.decompress(compress(body, "gzip")) == body


async def test_a_raster_logo_is_the_cards_image_an_svg_one_is_not(settings: Settings, tmp_path: Path) -> None:
    """Social sites show PNG, JPEG or WebP cards, not SVG: the fictional honour's SVG logo gives none."""
    text = FICTIONAL.read_text(encoding="utf-8")
    (tmp_path / "logo.png").write_bytes(PNG)
    raster = tmp_path / "honour.toml"
    raster.write_text(text.replace("lakeside-logo.svg", "logo.png"), encoding="utf-8")
    cards = {}
    for name, path in (("svg", FICTIONAL), ("png", raster)):
        with honour_active(None):
            async with AsyncTestClient(app=create_app(settings.with_changes(honour_file=path))) as client:
                cards[name] = Head((await client.get("/en/")).text).meta

    assert "og:image" not in cards["svg"]
    assert cards["png"]["og:image"].startswith(f"{BASE}/honour/logo?v=")
    assert cards["png"]["og:image:alt"] == cards["png"]["og:site_name"]


async def _through(messages: list[Any], path: str = "/laureates") -> list[Any]:
    """What ``compressed`` sends for an app sending ``messages``, to a client accepting brotli."""
    sent: list[Any] = []

    async def app(scope: object, receive: object, send: Any) -> None:
        for message in messages:
            await send(dict(message))

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.disconnect"}

    scope = {"type": "http", "method": "GET", "path": path, "headers": [(b"accept-encoding", b"br")]}
    await compressed(cast("Any", app), "session")(cast("Any", scope), receive, send)
    return sent


async def test_streamed_and_already_encoded_bodies_pass_as_they_are() -> None:
    start = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]}
    big = b"x" * (MIN_SIZE * 4)
    streamed = [start, {"type": "http.response.body", "body": big, "more_body": True}, {"type": "http.response.body"}]
    encoded_start = {**start, "headers": [(b"content-type", b"text/html"), (b"content-encoding", b"gzip")]}
    encoded = [encoded_start, {"type": "http.response.body", "body": big}]
    image = [{**start, "headers": [(b"content-type", b"image/png")]}, {"type": "http.response.body", "body": big}]

    assert await _through(streamed) == streamed
    assert await _through(encoded) == encoded
    assert await _through(image) == image
    whole = await _through([start, {"type": "http.response.body", "body": big}])
    assert dict(cast("Any", whole[0])["headers"])[b"content-encoding"] == b"br"
    assert brotli.decompress(cast("Any", whole[1])["body"]) == big
