"""ASVS 5.0 chapter V3 (web frontend): the controls of docs/security.md's table that no
other test file traces. Each test fails when its control is removed.
"""

from __future__ import annotations

import re
from pathlib import Path

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from ambassador.enums import Role
from ambassador.settings import Argon2Params, Settings
from ambassador.web.app import create_app
from tests.conftest import Client
from tests.factories import make_user
from tests.helpers import login

PACKAGE = Path(__file__).resolve().parent.parent / "ambassador"
STATIC = PACKAGE / "static"
TEMPLATES = PACKAGE.parent / "templates"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A URL another host serves: scheme-relative or absolute (XML namespaces are names, not loads).
EXTERNAL = re.compile(rb"""(?:url\(\s*['"]?|src=['"]|href=['"]|import\s+['"]|fetch\(\s*['"])(?:https?:)?//""")


def production(settings: Settings) -> Settings:
    return settings.with_changes(
        env="production",
        base_url="https://ambassador.example.org",
        smtp_url="smtps://mail.example.org:465",
        argon2=Argon2Params(),
    )


async def test_the_api_and_its_errors_are_json_that_no_browser_sniffs_as_html(client: Client) -> None:
    """ASVS 3.2.1: API responses are served as JSON with nosniff, also when they are errors,
    so a browser opening them directly never renders them as a page."""
    for path in ("/api/v1/laureates?q=%3Cscript%3E", "/api/v1/editions", "/api/v1/laureates?page=-1", "/api/v1/x"):
        response = await client.get(path)
        assert response.headers["content-type"] == "application/json", path
        assert response.headers["x-content-type-options"] == "nosniff", path


async def test_a_foreign_origin_gets_no_cors_grant(client: Client) -> None:
    """ASVS 3.4.2, 3.5.2: no CORS: a foreign Origin gets no Access-Control-* header on a GET
    or a preflight, so no other site may read an answer with the visitor's cookies."""
    foreign = {"origin": "https://evil.example", "access-control-request-method": "POST"}
    answers = [
        await client.get("/api/v1/laureates", headers=foreign),
        await client.get("/login", headers=foreign),
        await client.options("/api/v1/laureates", headers=foreign),
        await client.options("/login", headers=foreign),
    ]
    granted = [name for r in answers for name in r.headers if name.lower().startswith("access-control-")]
    assert granted == []


async def test_session_and_csrf_cookies_are_httponly_samesite_and_small(client: Client) -> None:
    """ASVS 3.3.2, 3.3.4, 3.3.5: the session cookie is HttpOnly and SameSite=Lax, the CSRF
    cookie SameSite=Lax, and both stay far below 4096 bytes (name and value)."""
    await make_user("clerk@example.org", (Role.CLERK,))
    login_page = await client.get("/login")
    csrf_header = next(h for h in login_page.headers.get_list("set-cookie") if h.startswith("csrftoken="))
    answer = await login(client, "clerk@example.org")
    session_header = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("session="))

    session_attributes = {a.strip().lower() for a in session_header.split(";")[1:]}
    csrf_attributes = {a.strip().lower() for a in csrf_header.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/"} <= session_attributes
    assert "samesite=lax" in csrf_attributes
    assert [len(h.split(";", 1)[0]) <= 200 for h in (session_header, csrf_header)] == [True, True]


async def test_production_sends_hsts_on_every_kind_of_response(settings: Settings) -> None:
    """ASVS 3.4.1: in production every response, errors and static files included, carries
    Strict-Transport-Security for two years with subdomains."""
    async with AsyncTestClient(app=create_app(production(settings)), base_url="https://testserver.local") as client:
        for path in ("/", "/login", "/no/such/page", "/static/css/app.css", "/api/v1/editions", "/healthz"):
            response = await client.get(path)
            assert response.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains", path


async def test_every_page_isolates_its_browsing_context(client: Client) -> None:
    """ASVS 3.4.8: every response that renders a document carries
    Cross-Origin-Opener-Policy: same-origin (pages, error pages, the login)."""
    for path in ("/pl/", "/login", "/pl/laureates", "/uk/nominate", "/no/such/page", "/password/forgot"):
        response = await client.get(path)
        assert response.headers["content-type"].startswith("text/html"), path
        assert response.headers["cross-origin-opener-policy"] == "same-origin", path


def state_changing_routes(app: Litestar) -> list[tuple[str, frozenset[str]]]:
    """Each path that has a handler for an unsafe method, with the methods of that path."""
    found = []
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            methods = frozenset(str(m) for m in route.methods) - {"OPTIONS"}
            if methods - SAFE_METHODS:
                found.append((route.path, methods))
    return found


def test_no_handler_answers_both_a_safe_and_an_unsafe_method(settings: Settings) -> None:
    """ASVS 3.5.3: every handler that changes state is reached only by POST: no handler of
    the route table is registered for GET/HEAD together with an unsafe method."""
    app = create_app(settings)
    mixed = [
        f"{route.path} {sorted(handler.http_methods)}"
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        if handler.http_methods & SAFE_METHODS and handler.http_methods - SAFE_METHODS
    ]
    assert mixed == []


async def test_get_on_an_action_only_address_is_405(client: Client, settings: Settings) -> None:
    """ASVS 3.5.3: a GET (as a link or an image would send it) to an address that exists
    only for POST is refused with 405, for visitors and for signed-in staff alike."""
    await make_user("admin@example.org", (Role.ADMIN, Role.CLERK))
    parameters = re.compile(r"\{\w+:\w+\}")
    action_only = [
        parameters.sub("1", path)
        for path, methods in state_changing_routes(create_app(settings))
        if "GET" not in methods
    ]
    assert "/logout" in action_only
    anonymous = {path: (await client.get(path)).status_code for path in action_only}
    await login(client, "admin@example.org")
    signed_in = {path: (await client.get(path)).status_code for path in action_only}

    assert set(anonymous.values()) == {405}, anonymous
    assert set(signed_in.values()) == {405}, signed_in


async def test_a_callback_parameter_gives_plain_json_never_a_script(client: Client) -> None:
    """ASVS 3.5.6: no JSONP: ``?callback=`` is ignored and the answer stays application/json
    that starts as JSON, not as a function call."""
    for path in ("/api/v1/laureates?callback=steal", "/api/v1/editions?callback=steal", "/laureates.json?callback=x"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"] == "application/json", path
        assert response.content.lstrip()[:1] in (b"{", b"["), path
        assert b"steal(" not in response.content


async def test_no_asset_or_page_loads_anything_from_another_host(client: Client) -> None:
    """ASVS 3.6.1: every client-side asset is self-hosted: no stylesheet, script, font or
    template refers to another host, and the OpenAPI viewers (which load from CDNs) are off."""
    static = [p for p in STATIC.rglob("*") if p.suffix in (".css", ".js", ".svg")]
    templates = list(TEMPLATES.rglob("*.html"))
    referring = [str(p) for p in static + templates if EXTERNAL.search(p.read_bytes())]
    assert referring == []
    for path in ("/schema/swagger", "/schema/redoc", "/schema/elements", "/schema/rapidoc", "/schema/scalar"):
        assert (await client.get(path)).status_code == 404, path
    # The canonical and hreflang links name this site's own addresses, absolute (and load nothing).
    own = re.compile(rb'<link rel="(?:canonical|alternate)"(?: hreflang="[a-z-]+")? href="http://testserver\.local/')
    for path in ("/pl/", "/en/laureates", "/uk/nominate", "/login", "/static/css/app.css", "/static/js/nomination.js"):
        content = own.sub(b"", (await client.get(path)).content)
        assert EXTERNAL.search(content) is None, path


def test_scripts_are_strict_self_contained_and_carry_no_data() -> None:
    """ASVS 3.2.3, 3.5.7: each script is a strict-mode function expression that declares no
    global and holds no data needing authorisation (they are static files served to all)."""
    for script in sorted((STATIC / "js").glob("*.js")):
        code = script.read_text(encoding="utf-8")
        body = re.sub(r"^\s*/\*.*?\*/\s*|^\s*//[^\n]*\n", "", code, flags=re.S)
        assert body.lstrip().startswith("(function"), script.name
        assert '"use strict"' in code or "'use strict'" in code, script.name
        assert re.search(r"\bwindow\.\w+\s*=|\bglobalThis\b|\bdocument\.write\b|\binnerHTML\b|\beval\(", code) is None
        assert re.search(r"@|\bSECRET|\btoken\b", code) is None, script.name


def test_no_plugin_or_obsolete_client_technology_is_used() -> None:
    """ASVS 3.7.1: pages use HTML, CSS and plain JavaScript only: no <object>, <embed>,
    <applet> or plugin content anywhere in the templates."""
    pattern = re.compile(rb"<(object|embed|applet)\b|\.swf\b|x-shockwave|java-applet|silverlight", re.I)
    found = [str(p) for p in TEMPLATES.rglob("*.html") if pattern.search(p.read_bytes())]
    assert found == []
