"""Browser-facing defences (ASVS V3): response headers, CSP reporting, cookies, CSRF (F10, F12).

docs/web-security.md lists every header and cookie these tests check.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import AsyncIterator, Iterator

import pyotp
import pytest
from httpx import Response
from litestar.testing import AsyncTestClient

from ambassador.domain.nominations import Upload
from ambassador.enums import Role
from ambassador.settings import Argon2Params, Settings, read_settings
from ambassador.tables import Attachment, User
from ambassador.web.app import create_app
from ambassador.web.csp_report import MAX_REPORT_BYTES, ReportBudget
from ambassador.web.csrf import origin_of
from tests.clerk_factories import PNG, clerk_logged_in, english, open_edition, paper_nomination
from tests.conftest import Client
from tests.factories import PASSWORD, make_user
from tests.helpers import csrf_token, login, post_form

PUBLIC_ORIGIN = "https://ambassador.example.org"
CSP_REPORT = {"content-type": "application/csp-report"}
REPORTS = {"content-type": "application/reports+json"}


@pytest.fixture
def security_events() -> Iterator[list[logging.LogRecord]]:
    """The security events (ambassador.security_log) written during the test."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    logger = logging.getLogger("ambassador.security")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def events(records: list[logging.LogRecord], name: str) -> list[dict[str, object]]:
    keys = ("outcome", "reason", "directive", "blocked_uri", "site", "origin")
    return [
        {key: getattr(record, key) for key in keys if hasattr(record, key)}
        for record in records
        if getattr(record, "event", None) == name
    ]


def production(settings: Settings, **changes: object) -> Settings:
    return settings.with_changes(
        env="production",
        base_url=PUBLIC_ORIGIN,
        smtp_url="smtps://mail.example.org:465",
        argon2=Argon2Params(),
        **changes,
    )


@pytest.fixture
async def prod_client(settings: Settings) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(production(settings)), base_url="https://testserver.local") as client:
        client.follow_redirects = False
        yield client


def directives(policy: str) -> dict[str, str]:
    pairs = (part.strip().partition(" ") for part in policy.split(";"))
    return {name: value for name, _, value in pairs}


# --- headers on every kind of response ------------------------------------------------------


EVERY_KIND = {
    "page": "/pl/",
    "language redirect": "/",
    "error": "/no-such-page",
    "static": "/static/css/app.css",
    "api": "/api/v1/editions",
    "feed": "/feed.atom",
}


async def test_every_response_carries_the_global_policy_and_the_headers(client: Client) -> None:
    """ASVS 3.4.3, 3.4.6, 3.4.7, 3.4.4, 3.4.8 (F10): base-uri 'none', frame-ancestors 'none',
    report-uri and report-to on pages, errors, static files, the API and the feed."""
    answers = {kind: await client.get(path) for kind, path in EVERY_KIND.items()}
    answers["csrf refusal"] = await client.post("/login", data={"email": "x@example.org"})
    statuses = {kind: response.status_code for kind, response in answers.items()}
    assert statuses == {
        "page": 200,
        "language redirect": 302,
        "error": 404,
        "static": 200,
        "api": 200,
        "feed": 200,
        "csrf refusal": 403,
    }
    for response in answers.values():
        policy = directives(response.headers["content-security-policy"])
        assert (policy["base-uri"], policy["frame-ancestors"], policy["object-src"]) == ("'none'", "'none'", "'none'")
        assert (policy["script-src"], policy["report-uri"], policy["report-to"]) == ("'self'", "/csp-report", "csp")
        assert response.headers["reporting-endpoints"] == 'csp="/csp-report"'
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cross-origin-opener-policy"] == "same-origin"
        assert "strict-transport-security" not in response.headers  # development: plain http


async def test_open_data_may_be_loaded_by_other_sites_and_nothing_else(client: Client) -> None:
    """ASVS 3.5.8: Cross-Origin-Resource-Policy same-origin, except the public open data."""
    paths = [
        "/",
        "/no-such-page",
        "/login",
        "/staff",
        "/static/css/app.css",
        "/api/v1/laureates",
        "/feed.atom",
        "/laureates.json",
        "/laureates.csv",
        "/sitemap.xml",
        "/robots.txt",
        "/schema/openapi.json",
    ]
    policies = {path: (await client.get(path)).headers["cross-origin-resource-policy"] for path in paths}
    assert policies == {
        "/": "same-origin",
        "/no-such-page": "same-origin",
        "/login": "same-origin",
        "/staff": "same-origin",
        "/static/css/app.css": "cross-origin",
        "/api/v1/laureates": "cross-origin",
        "/feed.atom": "cross-origin",
        "/laureates.json": "cross-origin",
        "/laureates.csv": "cross-origin",
        "/sitemap.xml": "cross-origin",
        "/robots.txt": "cross-origin",
        "/schema/openapi.json": "cross-origin",
    }


async def test_a_download_cannot_be_framed_or_embedded_by_another_origin(client: Client) -> None:
    """ASVS 3.4.6, 3.4.3, 3.5.8 (F10): an uploaded file's own policy keeps frame-ancestors 'none'."""
    clerk = await clerk_logged_in(client)
    edition = await open_edition(clerk_id=clerk.id)
    nomination_id = await paper_nomination(edition, clerk_id=clerk.id, uploads=[Upload("scan.png", PNG)])
    attachment = await Attachment.select(Attachment.id).first()
    assert attachment is not None

    download = await client.get(f"/staff/nominations/{nomination_id}/attachments/{attachment['id']}")

    assert download.status_code == 200
    policy = directives(download.headers["content-security-policy"])
    assert policy == {
        "sandbox": "",
        "default-src": "'none'",
        "form-action": "'none'",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
        "report-uri": "/csp-report",
        "report-to": "csp",
    }
    assert download.headers["x-frame-options"] == "DENY"
    assert download.headers["cross-origin-resource-policy"] == "same-origin"


async def test_production_sends_hsts_and_preload_only_when_asked(settings: Settings) -> None:
    """ASVS 3.4.1, 3.7.4: AMBASSADOR_HSTS_PRELOAD=1 adds preload (the list submission is the operator's)."""
    found = {}
    for preload in (False, True):
        app = create_app(production(settings, hsts_preload=preload))
        async with AsyncTestClient(app=app, base_url="https://testserver.local") as client:
            found[preload] = [(await client.get(path)).headers["strict-transport-security"] for path in ("/", "/nope")]
    assert found == {
        False: ["max-age=63072000; includeSubDomains"] * 2,
        True: ["max-age=63072000; includeSubDomains; preload"] * 2,
    }
    assert read_settings({"AMBASSADOR_HSTS_PRELOAD": "1"}).hsts_preload is True
    assert read_settings({}).hsts_preload is False


# --- CSP violation reports ----------------------------------------------------------------


async def test_a_legacy_csp_report_is_a_security_event_without_the_page_or_the_full_url(
    client: Client, security_events: list[logging.LogRecord]
) -> None:
    """ASVS 3.4.7, 16.3.3: report-uri's format; only the directive and the blocked origin are kept."""
    report = {
        "csp-report": {
            "document-uri": "http://testserver.local/n/SECRET-MANAGE-TOKEN-abcdefghijklmnopqrstuvwxyz",
            "referrer": "",
            "violated-directive": "script-src-elem",
            "effective-directive": "script-src-elem",
            "original-policy": "default-src 'self'",
            "blocked-uri": "https://evil.example:8443/steal.js?email=olena@example.org",
            "script-sample": "alert('olena@example.org')",
            "status-code": 200,
        }
    }

    response = await client.post("/csp-report", content=json.dumps(report), headers=CSP_REPORT)

    assert (response.status_code, response.content) == (204, b"")
    assert events(security_events, "csp.violation") == [
        {"outcome": "blocked", "directive": "script-src-elem", "blocked_uri": "https://evil.example:8443"}
    ]
    logged = json.dumps([record.__dict__ for record in security_events], default=str)
    assert "olena" not in logged and "SECRET-MANAGE-TOKEN" not in logged


async def test_reporting_api_reports_are_security_events(
    client: Client, security_events: list[logging.LogRecord]
) -> None:
    """ASVS 3.4.7: report-to's format (application/reports+json), several reports in one body."""
    reports = [
        {
            "type": "csp-violation",
            "age": 10,
            "url": "http://testserver.local/login",
            "body": {"effectiveDirective": "style-src-attr", "blockedURL": "inline", "disposition": "enforce"},
        },
        {"type": "csp-violation", "body": {"effectiveDirective": "img-src", "blockedURL": "http://cdn.example/x.png"}},
        {"type": "deprecation", "body": {"id": "x"}},
    ]

    response = await client.post("/csp-report", content=json.dumps(reports), headers=REPORTS)

    assert response.status_code == 204
    assert events(security_events, "csp.violation") == [
        {"outcome": "blocked", "directive": "style-src-attr", "blocked_uri": "inline"},
        {"outcome": "blocked", "directive": "img-src", "blocked_uri": "http://cdn.example"},
    ]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/csp-report", b"not json"),
        ("application/csp-report", b"\xff\xfe\x00garbage"),
        ("application/csp-report", b"[]"),
        ("application/csp-report", b'{"csp-report": "a string"}'),
        ("application/csp-report", b'{"csp-report": null}'),
        ("application/json", b"12"),
        ("application/reports+json", b"{}"),
        ("application/reports+json", b"[]"),
        ("application/reports+json", b"[1, 2]"),
        ("application/reports+json", b'[{"type": "csp-violation", "body": []}]'),
        ("application/reports+json", b"[" * 8000 + b"]" * 8000),
    ],
)
async def test_a_garbage_report_is_400_never_500(
    client: Client, security_events: list[logging.LogRecord], content_type: str, body: bytes
) -> None:
    """ASVS 3.4.7, 16.5.3: bad input gets a clear refusal; nothing is logged as a violation."""
    response = await client.post("/csp-report", content=body, headers={"content-type": content_type})

    assert response.status_code == 400
    assert events(security_events, "csp.violation") == []


async def test_a_report_of_another_type_or_too_large_is_refused(client: Client) -> None:
    """ASVS 3.4.7: only report media types (415); a body over 16 KB is 413."""
    form = await client.post("/csp-report", data={"csp-report": "x"})
    text = await client.post("/csp-report", content=b"{}", headers={"content-type": "text/plain"})
    padding = "x" * MAX_REPORT_BYTES
    huge = json.dumps({"csp-report": {"blocked-uri": "inline", "effective-directive": "img-src", "p": padding}})
    oversized = await client.post("/csp-report", content=huge, headers=CSP_REPORT)

    assert (form.status_code, text.status_code, oversized.status_code) == (415, 415, 413)


def test_the_report_budget_logs_a_bounded_number_a_minute() -> None:
    """ASVS 3.4.7: a flood of reports cannot flood the log (60 a minute per process)."""
    now = [120.0]
    budget = ReportBudget(per_minute=3, clock=lambda: now[0])

    first_minute = [budget.take() for _ in range(5)]
    now[0] = 180.0
    next_minute = [budget.take() for _ in range(2)]

    assert (first_minute, next_minute) == ([True, True, True, False, False], [True, True])


# --- CSRF: where the request comes from -------------------------------------------------------


async def language_of(email: str) -> str:
    row = await User.select(User.language).where(User.email == email).first()
    assert row is not None
    return str(row["language"])


@pytest.mark.parametrize(
    "foreign",
    [
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
        {"origin": "https://evil.example"},
        {"origin": "http://testserver.local.evil.example"},
        {"origin": "https://testserver.local"},  # another scheme is another origin
        {"origin": "not a url"},
        {"origin": "http://testserver.local", "sec-fetch-site": "cross-site"},
    ],
)
async def test_a_post_from_another_site_is_refused_and_changes_nothing(
    client: Client, security_events: list[logging.LogRecord], foreign: dict[str, str]
) -> None:
    """ASVS 3.5.1, 3.5.8 (F12): Sec-Fetch-Site and Origin are checked on top of a valid token."""
    await clerk_logged_in(client)
    english(client)
    data = {"language": "en", "_csrf_token": await csrf_token(client)}

    refused = await client.post("/account/language", data=data, headers=foreign)

    assert refused.status_code == 403
    assert "The form expired or was sent from another site." in refused.text
    assert await language_of("clerk@example.org") == "pl"
    assert [event["outcome"] for event in events(security_events, "csrf.origin")] == ["blocked"]
    assert (await client.get("/staff")).status_code == 200  # still signed in


@pytest.mark.parametrize(
    "own",
    [
        {},  # an old browser, a script: the token alone decides
        {"origin": "http://testserver.local", "sec-fetch-site": "same-origin"},
        {"origin": "http://TestServer.local:80"},
        {"origin": "null"},  # a form on a no-referrer page
        {"sec-fetch-site": "none"},
    ],
)
async def test_a_post_from_the_site_itself_is_accepted(client: Client, own: dict[str, str]) -> None:
    """ASVS 3.5.1: the app's own origin (and, in development, the origin it is served on) passes."""
    await clerk_logged_in(client)
    data = {"language": "en", "_csrf_token": await csrf_token(client)}

    accepted = await client.post("/account/language", data=data, headers=own)

    assert (accepted.status_code, accepted.headers["location"]) == (302, "/account")
    assert await language_of("clerk@example.org") == "en"


async def test_production_accepts_only_the_public_origin(prod_client: Client) -> None:
    """ASVS 3.5.1: in production the origin of AMBASSADOR_BASE_URL, not whatever Host says."""
    await prod_client.get("/login")
    token = prod_client.cookies["__Host-csrftoken"]
    form = {"email": "nobody@example.org", "password": "wrong", "_csrf_token": token}

    served = await prod_client.post("/login", data=form, headers={"origin": "https://testserver.local"})
    await prod_client.get("/login")
    form["_csrf_token"] = prod_client.cookies["__Host-csrftoken"]
    public = await prod_client.post("/login", data=form, headers={"origin": PUBLIC_ORIGIN})

    assert (served.status_code, public.status_code) == (403, 400)  # 400: the credentials are wrong


def test_origins_are_compared_in_canonical_form() -> None:
    """ASVS 3.5.1: scheme and host in lower case, default ports dropped, junk is no origin."""
    assert [
        origin_of(url)
        for url in (
            "https://Ambassador.Example.org/path?q=1",
            "https://ambassador.example.org:443",
            "http://127.0.0.1:8000/",
            "http://[::1]:80",
            "javascript:alert(1)",
            "https://host:99999",
            "null",
        )
    ] == [
        "https://ambassador.example.org",
        "https://ambassador.example.org",
        "http://127.0.0.1:8000",
        "http://[::1]",
        None,
        None,
        None,
    ]


# --- CSRF: the token bound to the staff session -----------------------------------------------


async def test_another_sessions_cookie_and_token_pair_is_refused(
    settings: Settings, security_events: list[logging.LogRecord]
) -> None:
    """ASVS 3.5.1, 3.3.4 (F12): a valid cookie and field pair from another browser no longer works."""
    await make_user("clerk@example.org", (Role.CLERK,))
    await make_user("other@example.org", (Role.CLERK,))
    app = create_app(settings)
    async with AsyncTestClient(app=app) as victim, AsyncTestClient(app=app) as attacker:
        victim.follow_redirects = attacker.follow_redirects = False
        assert (await login(victim, "clerk@example.org")).status_code == 302
        assert (await login(attacker, "other@example.org")).status_code == 302
        stolen = attacker.cookies["csrftoken"]
        victim.cookies.delete("csrftoken")
        victim.cookies.set("csrftoken", stolen, domain="testserver.local")

        forged = await victim.post("/account/language", data={"language": "en", "_csrf_token": stolen})

        assert forged.status_code == 403
        assert "csrftoken" not in victim.cookies  # dropped with the refusal
        assert await language_of("clerk@example.org") == "pl"
        assert events(security_events, "csrf.session") == [{"outcome": "blocked", "reason": "token of another session"}]
        assert events(security_events, "csrf.failed") == []  # one refusal, one event
        # The owner is not locked out: the next page view binds a fresh token.
        assert (await victim.get("/account")).status_code == 200
        saved = await post_form(victim, "/account/language", {"language": "en"})
        assert saved.status_code == 302
        assert await language_of("clerk@example.org") == "en"


async def test_the_token_from_before_the_login_is_refused_after_it(client: Client) -> None:
    """ASVS 3.5.1 (F12): the login gives a new CSRF cookie; the old pair no longer works."""
    await make_user("clerk@example.org", (Role.CLERK,))
    before = await csrf_token(client)

    assert (await login(client, "clerk@example.org")).status_code == 302
    after = client.cookies["csrftoken"]
    client.cookies.delete("csrftoken")
    client.cookies.set("csrftoken", before, domain="testserver.local")
    replayed = await client.post("/account/language", data={"language": "en", "_csrf_token": before})

    assert after != before
    assert replayed.status_code == 403
    assert await language_of("clerk@example.org") == "pl"


async def test_the_second_factor_step_and_the_logout_each_give_a_new_token(client: Client) -> None:
    """ASVS 3.5.1: every staff session begins with its own token, and the logout ends it."""
    await make_user("clerk@example.org", (Role.CLERK,))
    await login(client, "clerk@example.org")
    page = await client.get("/account/totp")
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page.text)
    assert secret is not None
    assert (await post_form(client, "/account/totp", {"code": pyotp.TOTP(secret.group(1)).now()})).status_code == 302
    signed_in = client.cookies["csrftoken"]

    await post_form(client, "/logout", {})
    logged_out = client.cookies["csrftoken"]
    assert (await login(client, "clerk@example.org")).headers["location"].startswith("/login/totp")
    password_step = client.cookies["csrftoken"]
    code = pyotp.TOTP(secret.group(1)).at(time.time() + 30)
    assert (await post_form(client, "/login/totp", {"code": code, "next": "/staff"})).status_code == 302
    second_factor = client.cookies["csrftoken"]

    tokens = [signed_in, logged_out, password_step, second_factor]
    assert len(set(tokens)) == len(tokens)
    assert (await post_form(client, "/account/language", {"language": "en"})).status_code == 302


async def test_after_a_key_rotation_a_signed_in_form_works_after_one_reload(settings: Settings) -> None:
    """ASVS 3.5.1: the binding is keyed like the token; the owner is refused once, not locked out."""
    await make_user("clerk@example.org", (Role.CLERK,))
    async with AsyncTestClient(app=create_app(settings)) as before:
        before.follow_redirects = False
        await login(before, "clerk@example.org")
        session, old_token = before.cookies["session"], before.cookies["csrftoken"]
    rotated = create_app(settings.with_changes(secret_key="a-new-secret-" + "y" * 40))
    async with AsyncTestClient(app=rotated) as client:
        client.follow_redirects = False
        client.cookies.set("session", session, domain="testserver.local")
        client.cookies.set("csrftoken", old_token, domain="testserver.local")

        refused = await client.post("/account/language", data={"language": "en", "_csrf_token": old_token})
        reloaded = await client.get("/account")
        saved = await post_form(client, "/account/language", {"language": "en"})

    assert (refused.status_code, reloaded.status_code, saved.status_code) == (403, 200, 302)
    assert await language_of("clerk@example.org") == "en"


# --- cookies ------------------------------------------------------------------------------


def language_cookies(response: Response) -> list[str]:
    return [cookie for cookie in response.headers.get_list("set-cookie") if "lang=" in cookie]


async def test_production_language_cookie_is_host_only_and_secure(prod_client: Client) -> None:
    """ASVS 3.3.1, 3.3.2, 3.3.3, 3.3.4 (F10): __Host-lang with Secure, SameSite=Lax and HttpOnly."""
    response = await prod_client.get("/language/en?next=/laureates")

    assert (response.status_code, response.headers["location"]) == (302, "/en/laureates")
    assert language_cookies(response) == [
        "__Host-lang=en; HttpOnly; Max-Age=31536000; Path=/; SameSite=lax; Secure",
        'lang=""; HttpOnly; Max-Age=0; Path=/; SameSite=lax',
    ]
    assert '<html lang="en">' in (await prod_client.get("/", follow_redirects=True)).text


async def test_the_old_language_cookie_is_still_read_and_the_new_one_wins(prod_client: Client) -> None:
    """ASVS 3.3.3: browsers that chose a language before the prefix keep it."""
    prod_client.cookies.set("lang", "uk", domain="testserver.local")
    assert '<html lang="uk">' in (await prod_client.get("/", follow_redirects=True)).text
    prod_client.cookies.set("__Host-lang", "en", domain="testserver.local")
    assert '<html lang="en">' in (await prod_client.get("/", follow_redirects=True)).text


async def test_development_keeps_the_plain_language_cookie(client: Client) -> None:
    """ASVS 3.3.1: plain http in development cannot hold a Secure cookie; the name stays lang."""
    response = await client.get("/language/uk")

    assert language_cookies(response) == ["lang=uk; HttpOnly; Max-Age=31536000; Path=/; SameSite=lax"]


async def test_production_cookies_all_have_the_host_prefix_and_secure(prod_client: Client) -> None:
    """ASVS 3.3.1, 3.3.3: the session, CSRF and language cookies as a production browser gets them."""
    await make_user("clerk@example.org", (Role.CLERK,))
    first = await prod_client.get("/login")
    token = prod_client.cookies["__Host-csrftoken"]
    signed_in = await prod_client.post(
        "/login",
        data={"email": "clerk@example.org", "password": PASSWORD, "_csrf_token": token},
        headers={"origin": PUBLIC_ORIGIN, "sec-fetch-site": "same-origin"},
    )
    language = await prod_client.get("/language/pl")

    cookies = [
        *first.headers.get_list("set-cookie"),
        *signed_in.headers.get_list("set-cookie"),
        language.headers.get_list("set-cookie")[0],
    ]
    assert signed_in.status_code == 302
    names = sorted(re.match(r"[^=]+", cookie).group(0) for cookie in cookies)  # type: ignore[union-attr]
    assert names == ["__Host-csrftoken", "__Host-csrftoken", "__Host-device", "__Host-lang", "__Host-session"]
    for cookie in cookies:
        # The device cookie is strict: only the site's own login page needs it.
        samesite = "SameSite=strict" if cookie.startswith("__Host-device=") else "SameSite=lax"
        assert ("; Path=/" in cookie, "; Secure" in cookie, samesite in cookie, "Domain" in cookie) == (
            True,
            True,
            True,
            False,
        )
