"""The home page and the form from the page cache: per-visitor values, CSRF, invalidation, no sharing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any, cast

from litestar import Litestar
from litestar.testing import AsyncTestClient
from litestar.types import Scope

from ambassador.db import utcnow
from ambassador.domain.editions import EditionView
from ambassador.settings import Settings
from ambassador.tables import Category, Edition, Nomination
from ambassador.web.addresses import LANGUAGE_KEY
from ambassador.web.app import create_app
from ambassador.web.page_cache import CSRF_SLOT, KEY_SLOT, PageCache, phase, request_language, split
from tests.clerk_factories import clerk_logged_in
from tests.conftest import Client
from tests.factories import make_edition
from tests.helpers import eventually, post_form

ENGLISH = {"accept-language": "en", "accept-encoding": "identity"}
TOKEN = re.compile(r'name="_csrf_token" value="([^"]*)"')
KEY = re.compile(r'name="submission_key" value="([^"]*)"')


def page_cache(app: Litestar) -> PageCache:
    cache = app.state.page_cache
    assert isinstance(cache, PageCache)
    return cache


def cached_bytes(app: Litestar) -> bytes:
    """Everything the cache holds: the pages' headers and bodies."""
    pages = page_cache(app)._pages.values()
    return b"".join(b"".join(p.parts) + b"".join(n + v for n, v in p.headers) for p in pages)


def found(pattern: re.Pattern[str], html: str) -> str:
    match = pattern.search(html)
    assert match is not None
    return match.group(1)


async def test_each_visitor_gets_their_own_token_and_submission_key(client: Client) -> None:
    await make_edition()
    async with AsyncTestClient(app=client.app) as other:
        pages = [await client.get("/en/nominate", headers=ENGLISH) for _ in range(2)]
        others = await other.get("/en/nominate", headers=ENGLISH)
    assert [p.status_code for p in [*pages, others]] == [200, 200, 200]
    assert len(page_cache(client.app)) == 1  # one render, three visitors
    keys = {found(KEY, p.text) for p in [*pages, others]}
    assert len(keys) == 3
    # A visitor's token is their CSRF cookie's (set by the first page), another visitor's is another.
    mine = client.cookies["csrftoken"]
    assert [found(TOKEN, p.text) for p in pages] == [mine, mine]
    assert "set-cookie" not in pages[1].headers
    assert found(TOKEN, others.text) == other.cookies["csrftoken"] != mine
    for page in [*pages, others]:
        assert CSRF_SLOT not in page.text and KEY_SLOT not in page.text
        assert page.headers["content-length"] == str(len(page.content))
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["x-content-type-options"] == "nosniff"
    # Apart from those two values, everybody gets the same page.
    assert TOKEN.sub("", KEY.sub("", pages[0].text)) == TOKEN.sub("", KEY.sub("", others.text))


async def test_a_forged_csrf_cookie_is_replaced_not_echoed(client: Client) -> None:
    await make_edition()
    await client.get("/en/nominate", headers=ENGLISH)
    client.cookies.set("csrftoken", '"><script>x</script>', domain="testserver.local")
    page = await client.get("/en/nominate", headers=ENGLISH)
    token = found(TOKEN, page.text)
    assert "<script>x" not in page.text
    assert re.fullmatch(r"[0-9a-f]{128}", token)
    assert f"csrftoken={token};" in page.headers["set-cookie"]


async def test_a_form_from_the_cache_is_accepted_with_its_token(client: Client) -> None:
    edition = await make_edition()
    await client.get("/en/nominate", headers=ENGLISH)  # rendered and kept
    page = await client.get("/en/nominate", headers=ENGLISH)  # from the cache
    descriptions = re.findall(r'<textarea id="f-(description_\d+)"', page.text)
    fields = {
        "_csrf_token": found(TOKEN, page.text),
        "submission_key": found(KEY, page.text),
        "edition_id": str(edition.id),
        "category": "B",
        "nominee_name": "Olena Kovalenko",
        descriptions[0]: "Runs a bilingual reading club.",
        "nominator_name": "Anna Nowak",
        "nominator_email": "anna@example.org",
        "privacy_ack": "1",
        "website": "",
    }
    sent = await client.post(
        "/en/nominate", data=fields, files=[("attachments", ("", b"", "application/octet-stream"))]
    )
    assert (sent.status_code, sent.headers["location"]) == (303, "/en/nominate/sent")
    assert await Nomination.count().where(Nomination.nominee_name == "Olena Kovalenko") == 1
    forged = {**fields, "_csrf_token": "0" * 128, "submission_key": "another-key-0123456789abcdef"}
    refused = await client.post("/en/nominate", data=forged)
    assert refused.status_code == 403


async def test_a_change_of_the_edition_or_its_categories_shows_at_once(client: Client) -> None:
    edition = await make_edition(year=2026)
    assert "Ambassador 2026" in (await client.get("/en/", headers=ENGLISH)).text
    assert "Ambassador 2026" in (await client.get("/en/nominate", headers=ENGLISH)).text
    await Edition.update({Edition.name_en: "Ambassador of the Year 2026"}).where(Edition.id == edition.id)
    await Category.update({Category.name_en: "Mosaic makers"}).where(Category.edition == edition.id)
    for path in ("/en/", "/en/nominate"):
        text = (await client.get(path, headers=ENGLISH)).text
        assert "Ambassador of the Year 2026" in text, path
        assert "Mosaic makers" in text, path


async def test_other_processes_changes_show_within_the_refresh_time(settings: Settings) -> None:
    every_minute = dataclasses.replace(settings, edition_cache_seconds=60.0)
    edition = await make_edition(year=2026)
    app = create_app(every_minute)
    moved = [0.0]
    page_cache(app).clock = lambda: 1_000.0 + moved[0]
    async with AsyncTestClient(app=app) as client:
        assert "Ambassador 2026" in (await client.get("/en/", headers=ENGLISH)).text
        # Another process renames it: this one shows the old name until its next read.
        await Edition.update({Edition.name_en: "Renamed 2026"}).where(Edition.id == edition.id)
        assert "Ambassador 2026" in (await client.get("/en/", headers=ENGLISH)).text
        moved[0] = 59.0
        assert "Renamed 2026" not in (await client.get("/en/", headers=ENGLISH)).text
        moved[0] = 60.0  # the interval has passed: the edition is read again in the background

        async def shown() -> bool:
            return "Renamed 2026" in (await client.get("/en/", headers=ENGLISH)).text

        assert await eventually(shown, within=10)


async def test_a_staff_change_in_this_process_is_read_again_at_once(settings: Settings) -> None:
    slow = dataclasses.replace(settings, edition_cache_seconds=3600.0)
    edition = await make_edition(year=2026)
    app = create_app(slow)
    async with AsyncTestClient(app=app) as client, AsyncTestClient(app=app) as visitor:
        client.follow_redirects = False
        assert "Ambassador 2026" in (await visitor.get("/en/", headers=ENGLISH)).text
        # The window ends (written directly: this process's copy does not know yet).
        await Edition.update({Edition.closes_at: utcnow() - dt.timedelta(minutes=1)}).where(Edition.id == edition.id)
        await clerk_logged_in(client)  # a POST outside /staff/: the copy stays
        assert "Ambassador 2026" in (await visitor.get("/en/", headers=ENGLISH)).text
        closed = await post_form(client, f"/staff/editions/{edition.id}/advance", {"target": "formal_check"})
        assert (closed.status_code, closed.headers["location"]) == (302, f"/staff/editions/{edition.id}")
        after = await visitor.get("/en/", headers=ENGLISH)
        assert "Ambassador 2026" not in after.text
        assert "No edition is open for nominations at the moment." in after.text


async def test_staff_menus_are_never_served_to_visitors_and_never_kept(client: Client) -> None:
    await make_edition()
    async with AsyncTestClient(app=client.app) as visitor:
        await visitor.get("/en/nominate", headers=ENGLISH)  # the visitor's page is now in the cache
        await clerk_logged_in(client)
        for path in ("/en/", "/en/nominate"):
            staff = await client.get(path, headers=ENGLISH)
            assert "Log out" in staff.text and "/staff" in staff.text, path
            public = await visitor.get(path, headers=ENGLISH)
            assert public.status_code == 200
            assert "Log out" not in public.text and 'href="/staff"' not in public.text, path
    kept = cached_bytes(client.app)
    assert len(page_cache(client.app)) == 2
    assert b"Log out" not in kept and b"Celina" not in kept
    # No visitor's token, session or cookie is in the cache; only the placeholders are.
    for value in (client.cookies["csrftoken"], client.cookies["session"], visitor.cookies["csrftoken"]):
        assert value.encode() not in kept
    assert b"set-cookie" not in kept.lower()


async def test_each_language_has_its_own_page(client: Client) -> None:
    await make_edition(year=2026)
    english = await client.get("/en/", headers=ENGLISH)
    polish = await client.get("/pl/", headers={"accept-language": "pl"})
    client.cookies.set("lang", "uk", domain="testserver.local")
    ukrainian = await client.get("/uk/", headers=ENGLISH)  # the address's language wins
    assert '<html lang="en">' in english.text and "Ambassador 2026" in english.text
    assert '<html lang="pl">' in polish.text and "Ambasador 2026" in polish.text
    assert '<html lang="uk">' in ukrainian.text and "Амбасадор 2026" in ukrainian.text
    assert len(page_cache(client.app)) == 3


async def test_a_query_string_or_head_goes_the_usual_way_or_drops_the_body(client: Client) -> None:
    await make_edition()
    with_query = await client.get("/en/nominate?from=mail", headers=ENGLISH)
    assert with_query.status_code == 200 and len(page_cache(client.app)) == 0
    head = await client.head("/en/nominate", headers=ENGLISH)
    assert (head.status_code, head.content) == (200, b"")
    assert int(head.headers["content-length"]) > 1000


async def test_compressed_answers_decode_to_the_same_page(client: Client) -> None:
    await make_edition(year=2026)
    plain = await client.get("/en/", headers={**ENGLISH, "accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    for encoding in ("br", "gzip"):
        home = await client.get("/en/", headers={**ENGLISH, "accept-encoding": f"{encoding}, deflate"})
        assert (home.headers["content-encoding"], home.text) == (encoding, plain.text)
        assert int(home.headers["content-length"]) < len(plain.content)
        assert "accept-encoding" in home.headers["vary"]
    form = await client.get("/en/nominate", headers={**ENGLISH, "accept-encoding": "identity"})
    for accept in ("gzip", "gzip, deflate, br"):
        packed = await client.get("/en/nominate", headers={**ENGLISH, "accept-encoding": accept})
        assert packed.headers["content-encoding"] == "gzip"
        assert int(packed.headers["content-length"]) < len(form.content) // 3
        # The same page (same visitor, so the same token) but its own submission key.
        assert found(TOKEN, packed.text) == found(TOKEN, form.text) == client.cookies["csrftoken"]
        assert found(KEY, packed.text) != found(KEY, form.text)
        assert KEY.sub("", packed.text) == KEY.sub("", form.text)


def test_the_phase_follows_the_window() -> None:
    now = utcnow()
    assert phase(None, now) == "none"
    edition = EditionView.__new__(EditionView)  # only the window matters here
    fields = {"state": "open", "opens_at": now + dt.timedelta(hours=1), "closes_at": now + dt.timedelta(days=1)}
    for name, value in fields.items():
        object.__setattr__(edition, name, value)
    assert phase(edition, now) == "not-yet"
    assert phase(edition, now + dt.timedelta(hours=2)) == "open"
    assert phase(edition, now + dt.timedelta(days=2)) == "closed"


def test_the_body_is_cut_at_every_placeholder() -> None:
    body = f"a{CSRF_SLOT}b{KEY_SLOT}c{CSRF_SLOT}".encode()
    assert split(body) == ((b"a", b"b", b"c", b""), ("csrf", "key", "csrf"))
    assert split(b"plain") == ((b"plain",), ())


def test_the_language_is_the_address_s_then_the_cookie_s_then_the_browser_s() -> None:
    def scope(**extra: Any) -> Scope:
        return cast("Scope", {"type": "http", "state": {}, **extra})

    assert request_language(scope(), {}, "uk,en;q=0.5") == "uk"
    assert request_language(scope(), {"lang": "en"}, "uk") == "en"
    # /pl/… sets the language in the scope (ambassador.web.addresses): it wins over the cookie.
    assert request_language(scope(**{LANGUAGE_KEY: "pl"}), {"lang": "en"}, "uk") == "pl"
    assert request_language(scope(**{LANGUAGE_KEY: "xx"}), {"lang": "en"}, "uk") == "en"
