"""Languages, catalogs, error pages, security headers and health probes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from ambassador import i18n
from ambassador.enums import LANGUAGES, Role
from tests.conftest import Client
from tests.factories import make_user
from tests.helpers import csrf_token, login

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "translate": (2,)}
METHOD_MAP = [("ambassador/**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}}


def source_messages() -> set[str]:
    found: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(str(ROOT), METHOD_MAP, OPTIONS, KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalog_translates_every_message_in_the_source(language: str) -> None:
    with i18n.po_path(language).open("rb") as handle:
        catalog = read_po(handle, locale=language)
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple | list) else m.string) and not m.fuzzy
    }

    missing = sorted(source_messages() - translated)

    assert missing == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_their_placeholders(language: str) -> None:
    with i18n.po_path(language).open("rb") as handle:
        catalog = read_po(handle, locale=language)
    wrong = [
        m.id
        for m in catalog
        if isinstance(m.id, str)
        and isinstance(m.string, str)
        and m.string
        and sorted(re.findall(r"%\(\w+\)s", m.id)) != sorted(re.findall(r"%\(\w+\)s", m.string))
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("cookie", "accept", "expected"),
    [
        (None, None, "pl"),
        (None, "uk-UA,uk;q=0.9,en;q=0.8", "uk"),
        (None, "de-DE, en;q=0.5", "en"),
        (None, "fr, de", "pl"),
        ("en", "uk", "en"),
        ("xx", "uk", "uk"),
        (None, "en;q=0.2, uk;q=0.9", "uk"),
        (None, "en;q=abc, uk;q=0", "pl"),
    ],
)
def test_language_is_negotiated_cookie_first_then_accept_language(
    cookie: str | None, accept: str | None, expected: str
) -> None:
    assert i18n.negotiate(cookie, accept) == expected


async def test_home_page_is_polish_by_default_with_the_right_lang_attribute(client: Client) -> None:
    response = await client.get("/", follow_redirects=True)

    assert response.status_code == 200
    assert '<html lang="pl">' in response.text
    assert "Przejdź do treści" in response.text


async def test_accept_language_selects_ukrainian(client: Client) -> None:
    response = await client.get("/", follow_redirects=True, headers={"accept-language": "uk"})

    assert '<html lang="uk">' in response.text


async def test_language_switch_is_remembered_in_a_cookie_and_wins(client: Client) -> None:
    switched = await client.get("/language/en?next=/login", headers={"accept-language": "uk"})
    assert switched.status_code == 302
    assert switched.headers["location"] == "/login"

    page = await client.get("/login", headers={"accept-language": "uk"})

    assert '<html lang="en">' in page.text
    assert "Staff login" in page.text


async def test_language_switch_refuses_foreign_redirects(client: Client) -> None:
    response = await client.get("/language/en?next=https://evil.example/")

    assert response.headers["location"] == "/en/"  # the home page, in the language chosen


async def test_not_found_page_speaks_the_users_language_and_hides_internals(client: Client) -> None:
    english = await client.get("/no/such/page", headers={"accept-language": "en"})
    ukrainian = await client.get("/no/such/page", headers={"accept-language": "uk"})

    assert english.status_code == ukrainian.status_code == 404
    assert "Page not found" in english.text
    assert '<html lang="uk">' in ukrainian.text
    assert "Traceback" not in english.text


async def test_bad_query_parameter_gets_a_400_page_not_a_500(client: Client) -> None:
    anonymous = await client.get("/admin/audit?before=abc")
    assert (anonymous.status_code, anonymous.headers["location"]) == (302, "/login?next=/admin/audit%3Fbefore%3Dabc")

    await make_user("admin@example.org", (Role.ADMIN,))
    await login(client, "admin@example.org")
    english = await client.get("/admin/audit?before=abc", headers={"accept-language": "en"})
    ukrainian = await client.get("/admin/audit?before=abc", headers={"accept-language": "uk"})

    assert (english.status_code, ukrainian.status_code) == (400, 400)
    assert "<h1>The request could not be understood</h1>" in english.text
    assert "Please go back, check what you entered and try again." in english.text
    assert "<h1>Не вдалося зрозуміти запит</h1>" in ukrainian.text
    assert "Поверніться назад, перевірте введені дані й спробуйте ще раз." in ukrainian.text
    assert "Traceback" not in english.text and "before" not in english.text


async def test_oversized_body_gets_413(client: Client) -> None:
    token = await csrf_token(client)
    response = await client.post(
        "/login",
        content=b"email=" + b"x" * 1_100_000,
        headers={"content-type": "application/x-www-form-urlencoded", "x-csrftoken": token},
    )

    assert response.status_code == 413


async def test_every_response_carries_the_security_headers(client: Client) -> None:
    for path in ("/", "/login", "/no/such/page", "/healthz", "/static/css/app.css"):
        response = await client.get(path)
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in response.headers


async def test_pages_contain_no_inline_script_or_external_asset(client: Client) -> None:
    for path in ("/", "/login", "/password/forgot"):
        html = (await client.get(path)).text
        assert "<script" not in html
        assert not re.search(r'(src|href)="(https?:)?//', html)


async def test_anonymous_visitors_get_no_session_cookie(client: Client) -> None:
    response = await client.get("/", follow_redirects=True)

    assert "session" not in response.cookies


async def test_health_and_readiness(client: Client) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}


@pytest.mark.parametrize(
    ("language", "sizes"),
    [
        ("en", ["0 B", "1,023 B", "1 kB", "2 kB", "1,000 kB", "1.0 MB", "10.0 MB", "12.5 MB"]),
        ("pl", ["0 B", "1 023 B", "1 kB", "2 kB", "1 000 kB", "1,0 MB", "10,0 MB", "12,5 MB"]),
        ("uk", ["0 Б", "1 023 Б", "1 КБ", "2 КБ", "1 000 КБ", "1,0 МБ", "10,0 МБ", "12,5 МБ"]),
    ],
)
def test_a_files_size_is_written_one_way_in_each_language(language: str, sizes: list[str]) -> None:
    """Binary units, as the upload limits count them; kB rounded up, so no file is "0 kB"."""
    token = i18n.current_language.set(language)
    try:
        written = [
            i18n.format_size(size)
            for size in (0, 1023, 1024, 1025, 1000 * 1024, 1024 * 1024, 10 * 1024 * 1024, int(12.5 * 1024 * 1024))
        ]
    finally:
        i18n.current_language.reset(token)
    assert [w.replace("\xa0", " ") for w in written] == sizes
