"""Every route × every kind of visitor, against one data set full of things to leak.

The routes come from the app itself, so a route added without a row in ``MATRIX`` fails as
"unclassified route". Path parameters name the sensitive rows of ``tests.authz_factories``:
the edition deliberating in 2025, its nomination the conflicted juror may not see (with its
file, its detected conflict and its proposal), a juror of it, a laureate record. A ``{token}``
is the nominator's private manage link for the nominator, and a forged one for everyone else.

For each route and role the table states the answer. A GET (or HEAD) is sent and its status
checked; a POST is sent, with a valid CSRF token, unless the role may make it (``ALLOWED``:
it would change the data the other rows rely on; those flows are tested elsewhere). No
request sent may change the database (every table but the session store, its registry and the
login throttle is compared before and after), and no answer may show a secret of the data set
the role may not read (``hidden_from``).

The data set is built once and copied for each role (on PostgreSQL it is built per role).
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import Final

import pyotp
import pytest
from httpx import Response
from litestar import Litestar
from litestar.routes import HTTPRoute

from ambassador.piccolo_app import APP_CONFIG
from ambassador.piccolo_conf import DB
from ambassador.settings import Settings
from ambassador.tables import KeyValue, PasswordResetRequest, StaffSession, ThrottleCounter
from ambassador.web.addresses import localized
from ambassador.web.app import create_app
from tests.authz_factories import World, build_world
from tests.clerk_factories import english
from tests.conftest import IS_POSTGRES, Client
from tests.helpers import csrf_token, login, post_form

ANONYMOUS = "anonymous"
NOMINATOR = "nominator"  # no account: holds the private manage link of the conflicted nomination
JUROR = "juror"  # Marta, a plain juror of the 2025 edition
CONFLICTED = "conflicted juror"  # Tomasz, conflicted on the nomination in the path
OTHER_JUROR = "juror of another edition"  # Olga, who chairs the 2024 jury
CHAIR = "chair"  # Ewa, who chairs the 2025 jury
CLERK = "clerk"  # signed in with the password and the second factor
ADMIN = "admin"  # the admin role only
ENROLLING = "clerk without second factor"  # signed in with the password; the factor is mandatory
ROLES: Final = (ANONYMOUS, NOMINATOR, JUROR, CONFLICTED, OTHER_JUROR, CHAIR, CLERK, ADMIN, ENROLLING)

# The expected answer: a status code, or one of these classes.
LOGIN = "login"  # not signed in: a GET is redirected to /login?next=…, anything else is a 403
ENROL = "enrol"  # redirected to /account/totp to set up the mandatory second factor first
REDIRECT = "redirect"  # a redirect elsewhere (not a refusal)
ALLOWED = "allowed"  # a POST this role may make: not sent here
Expect = int | str
Row = tuple[Expect, ...]  # one answer per role, in the order of ROLES

OK = 200
EVERYONE = len(ROLES)
PUBLIC: Row = (OK,) * EVERYONE
PUBLIC_ACTION: Row = (ALLOWED,) * EVERYONE
NOBODY: Row = (404,) * EVERYONE
#                  anonymous nominator juror conflicted other chair clerk admin enrolling
ACCOUNT_PAGE: Row = (LOGIN, LOGIN, OK, OK, OK, OK, OK, OK, OK)
ACCOUNT_ACTION: Row = (LOGIN, LOGIN, ALLOWED, ALLOWED, ALLOWED, ALLOWED, ALLOWED, ALLOWED, ALLOWED)
ADMIN_PAGE: Row = (LOGIN, LOGIN, 403, 403, 403, 403, 403, OK, 403)
ADMIN_ACTION: Row = (LOGIN, LOGIN, 403, 403, 403, 403, 403, ALLOWED, 403)
CLERK_ACTION: Row = (LOGIN, LOGIN, 403, 403, 403, 403, ALLOWED, ALLOWED, ENROL)
JURY_HOME: Row = (LOGIN, LOGIN, OK, OK, OK, OK, 403, 403, 403)
MEMBER_PAGE: Row = (LOGIN, LOGIN, OK, OK, 404, OK, 403, 403, 403)
MEMBER_ACTION: Row = (LOGIN, LOGIN, ALLOWED, ALLOWED, 404, ALLOWED, 403, 403, 403)
CHAIR_PAGE: Row = (LOGIN, LOGIN, 403, 403, 404, OK, 403, 403, 403)
CHAIR_ACTION: Row = (LOGIN, LOGIN, 403, 403, 404, ALLOWED, 403, 403, 403)
# On the conflicted nomination (or its proposal): it does not exist for the conflicted juror.
UNCONFLICTED_PAGE: Row = (LOGIN, LOGIN, OK, 404, 404, OK, 403, 403, 403)
UNCONFLICTED_ACTION: Row = (LOGIN, LOGIN, ALLOWED, 404, 404, ALLOWED, 403, 403, 403)
# Only the right token opens a private link; a forged one is "this link does not work".
LINK_PAGE: Row = (404, OK, 404, 404, 404, 404, 404, 404, 404)
LINK_ACTION: Row = (404, ALLOWED, 404, 404, 404, 404, 404, 404, 404)
SIGNED_IN_REDIRECT: Row = (OK, OK, *(REDIRECT,) * (EVERYONE - 2))  # /login once signed in


def clerk_page(status: Expect = OK) -> Row:
    """A clerk's page: ``status`` for the clerk and the admin (the edition's state decides it)."""
    return (LOGIN, LOGIN, 403, 403, 403, 403, status, status, ENROL)


MATRIX: Final[Mapping[str, Row]] = {
    # --- public pages, open data and the archive ------------------------------------------
    "GET /": PUBLIC,
    "GET /healthz": PUBLIC,
    "GET /readyz": PUBLIC,
    # The shipped honour has no logo; a configured one is everyone's (tests/test_honour.py).
    "GET /honour/logo": NOBODY,
    # What Polish law asks of the site: the accessibility statement, the title told plainly.
    "GET /accessibility": PUBLIC,
    "GET /about": PUBLIC,
    "GET /about/easy-read": PUBLIC,
    # The shipped honour has no recording file; a configured one is everyone's (tests/test_about_pages.py).
    "GET /about/sign-language-video": NOBODY,
    # Metrics answer only direct (un-proxied) peers in AMBASSADOR_METRICS_ALLOW, whoever signed
    # in: to every visitor of the site they are an unknown address (tests/test_metrics.py).
    "GET /metrics": (404,) * EVERYONE,
    "GET /language/{code:str}": (REDIRECT,) * EVERYONE,
    "GET /api/v1/editions": PUBLIC,
    "GET /api/v1/laureates": PUBLIC,
    "GET /laureates": PUBLIC,
    "GET /laureates.csv": PUBLIC,
    "GET /laureates.json": PUBLIC,
    "GET /laureates/{slug:str}": NOBODY,  # the laureate published only next week
    "GET /editions/{year:int}": NOBODY,  # published only next week
    "GET /portraits/{slug:str}/{version:int}/{name:str}": NOBODY,  # the scheduled laureate's picture
    "GET /feed.atom": PUBLIC,
    "GET /sitemap.xml": PUBLIC,
    "GET /robots.txt": PUBLIC,
    "GET /schema": PUBLIC,
    "GET /schema/openapi.json": PUBLIC,
    "GET /schema/{path:str}": NOBODY,  # only the JSON document is served
    "GET /static/{file_path:path}": PUBLIC,
    "HEAD /static/{file_path:path}": PUBLIC,
    # Browsers post CSP violation reports as JSON; a form is not one (tests/test_web_security.py).
    "POST /csp-report": (415,) * EVERYONE,
    # --- signing in ---------------------------------------------------------------------------
    "GET /login": SIGNED_IN_REDIRECT,
    "POST /login": PUBLIC_ACTION,
    "GET /login/totp": (REDIRECT,) * EVERYONE,  # no password step passed in this session
    "POST /login/totp": (REDIRECT,) * EVERYONE,
    "POST /logout": PUBLIC_ACTION,
    "GET /password/forgot": PUBLIC,
    "POST /password/forgot": PUBLIC_ACTION,
    "GET /password/reset": (400,) * EVERYONE,  # no token
    "POST /password/reset": (400,) * EVERYONE,
    "GET /account/activate": (400,) * EVERYONE,
    "POST /account/activate": (400,) * EVERYONE,
    "GET /login/unlock": (400,) * EVERYONE,  # no token
    "POST /login/unlock": (400,) * EVERYONE,
    # --- the signed-in user's own account and the dashboard ---------------------------------
    "GET /account": ACCOUNT_PAGE,
    "GET /account/totp": ACCOUNT_PAGE,  # where the second factor is set up
    "POST /account/totp": ACCOUNT_ACTION,
    "POST /account/totp/disable": ACCOUNT_ACTION,
    "POST /account/password": ACCOUNT_ACTION,
    "POST /account/language": ACCOUNT_ACTION,
    "GET /account/confirm": ACCOUNT_PAGE,  # the step-up form (password again)
    "POST /account/confirm": ACCOUNT_ACTION,
    "GET /account/sessions": ACCOUNT_PAGE,
    "POST /account/sessions/{public_id:str}/end": ACCOUNT_ACTION,
    "GET /account/sessions/end-others": ACCOUNT_PAGE,  # the confirmation step
    "POST /account/sessions/end-others": ACCOUNT_ACTION,
    "GET /staff": (LOGIN, LOGIN, OK, OK, OK, OK, OK, OK, ENROL),
    # --- administration -----------------------------------------------------------------------
    "GET /admin/users": ADMIN_PAGE,
    "GET /admin/users/new": ADMIN_PAGE,
    "POST /admin/users/new": ADMIN_ACTION,
    "GET /admin/users/{user_id:int}": ADMIN_PAGE,
    "POST /admin/users/{user_id:int}/roles": ADMIN_ACTION,
    "POST /admin/users/{user_id:int}/active": ADMIN_ACTION,
    "POST /admin/users/{user_id:int}/totp-reset": ADMIN_ACTION,
    "GET /admin/security": ADMIN_PAGE,
    "POST /admin/security": ADMIN_ACTION,
    "GET /admin/audit": ADMIN_PAGE,
    "GET /admin/users/{user_id:int}/sessions/end": ADMIN_PAGE,  # the confirmation step
    "POST /admin/users/{user_id:int}/sessions/end": ADMIN_ACTION,
    "GET /admin/sessions/end": ADMIN_PAGE,
    "POST /admin/sessions/end": ADMIN_ACTION,
    # --- the citizen's pages --------------------------------------------------------------------
    "GET /nominate": PUBLIC,  # no edition open: the page says so
    "POST /nominate": PUBLIC_ACTION,
    "GET /nominate/sent": PUBLIC,
    "GET /n/confirm/{token:str}": PUBLIC,  # only a button: opening it confirms nothing
    "POST /n/confirm/{token:str}": NOBODY,  # a manage link is no confirmation link
    "GET /n/{token:str}": LINK_PAGE,
    "GET /n/{token:str}/edit": (404, 409, 404, 404, 404, 404, 404, 404, 404),  # before the jury: no changes
    "POST /n/{token:str}/edit": LINK_ACTION,
    "POST /n/{token:str}/withdraw": LINK_ACTION,
    "GET /n/{token:str}/attachments/{attachment_id:int}": LINK_PAGE,
    # A draft (web/drafts.py) is saved by anyone from the form; no manage link opens one.
    "POST /nominate/draft": PUBLIC_ACTION,
    "GET /n/draft/{token:str}": NOBODY,
    "POST /n/draft/{token:str}/delete": NOBODY,
    "GET /consent/{token:str}": NOBODY,  # a manage link is no consent link
    "POST /consent/{token:str}": NOBODY,
    "GET /laureate-check/{token:str}": NOBODY,
    "POST /laureate-check/{token:str}": NOBODY,
    # --- the clerk: editions and the formal check -----------------------------------------------
    "GET /staff/editions": clerk_page(),
    "GET /staff/editions/new": clerk_page(),
    "POST /staff/editions/new": CLERK_ACTION,
    "GET /staff/editions/{edition_id:int}": clerk_page(),
    "GET /staff/editions/{edition_id:int}/edit": clerk_page(REDIRECT),  # no longer editable
    "POST /staff/editions/{edition_id:int}/edit": CLERK_ACTION,
    "GET /staff/editions/{edition_id:int}/step": clerk_page(),
    "POST /staff/editions/{edition_id:int}/advance": CLERK_ACTION,
    # The categories change only while the edition is a draft: the pages send the clerk back.
    "GET /staff/editions/{edition_id:int}/categories/new": clerk_page(REDIRECT),
    "POST /staff/editions/{edition_id:int}/categories/new": CLERK_ACTION,
    "GET /staff/categories/{category_id:int}/edit": clerk_page(REDIRECT),
    "POST /staff/categories/{category_id:int}/edit": CLERK_ACTION,
    "GET /staff/categories/{category_id:int}/delete": clerk_page(REDIRECT),
    "POST /staff/categories/{category_id:int}/delete": CLERK_ACTION,
    "POST /staff/categories/{category_id:int}/move": CLERK_ACTION,
    "GET /staff/editions/{edition_id:int}/nominations": clerk_page(),
    "GET /staff/editions/{edition_id:int}/nominations.csv": clerk_page(),
    "GET /staff/editions/{edition_id:int}/nominations/new": clerk_page(409),  # the check is over
    "POST /staff/editions/{edition_id:int}/nominations/new": CLERK_ACTION,
    "POST /staff/editions/{edition_id:int}/nominations/bulk": CLERK_ACTION,
    "GET /staff/nominations/{nomination_id:int}": clerk_page(),
    "GET /staff/nominations/{nomination_id:int}/attachments/{attachment_id:int}": clerk_page(),
    "POST /staff/nominations/{nomination_id:int}/decision": CLERK_ACTION,
    "POST /staff/nominations/{nomination_id:int}/consent": CLERK_ACTION,
    "POST /staff/nominations/{nomination_id:int}/shortlist": CLERK_ACTION,
    "POST /staff/nominations/{nomination_id:int}/merge": CLERK_ACTION,
    "POST /staff/nominations/{nomination_id:int}/unmerge": CLERK_ACTION,
    # --- the clerk: jury, conflicts, scoring ------------------------------------------------------
    "GET /staff/editions/{edition_id:int}/jury": clerk_page(),
    "POST /staff/editions/{edition_id:int}/jury/appoint": CLERK_ACTION,
    "POST /staff/editions/{edition_id:int}/jury/invite": CLERK_ACTION,
    "POST /staff/editions/{edition_id:int}/jury/invite-list": CLERK_ACTION,
    "POST /staff/editions/{edition_id:int}/jury/invite-list/confirm": CLERK_ACTION,
    "POST /staff/editions/{edition_id:int}/jury/rules": CLERK_ACTION,
    "POST /staff/editions/{edition_id:int}/jury/schedule": CLERK_ACTION,
    "POST /staff/editions/{edition_id:int}/jury/{user_id:int}/chair": CLERK_ACTION,
    "POST /staff/editions/{edition_id:int}/jury/{user_id:int}/organisations": CLERK_ACTION,
    "POST /staff/editions/{edition_id:int}/jury/{user_id:int}/remove": CLERK_ACTION,
    "GET /staff/editions/{edition_id:int}/conflicts": clerk_page(),
    "POST /staff/editions/{edition_id:int}/conflicts/detect": CLERK_ACTION,
    "POST /staff/editions/{edition_id:int}/conflicts/detections/{detection_id:int}": CLERK_ACTION,
    "POST /staff/editions/{edition_id:int}/conflicts/pin": CLERK_ACTION,
    "POST /staff/editions/{edition_id:int}/conflicts/detections": CLERK_ACTION,
    "GET /staff/editions/{edition_id:int}/scoring": clerk_page(),
    "POST /staff/editions/{edition_id:int}/scoring/remind": CLERK_ACTION,
    "GET /staff/editions/{edition_id:int}/scores.csv": clerk_page(),
    # --- the clerk: results, decision, publication, laureates -------------------------------------
    "GET /staff/editions/{edition_id:int}/results": clerk_page(),
    "GET /staff/editions/{edition_id:int}/deliberation": clerk_page(),
    "GET /staff/editions/{edition_id:int}/minutes": clerk_page(),
    "GET /staff/editions/{edition_id:int}/minutes.pdf": clerk_page(),
    # Documents to hand over (web/documents.py): translated exports and the jury's dossier pack.
    "GET /staff/editions/{edition_id:int}/exports/nominations.xlsx": clerk_page(),
    "GET /staff/editions/{edition_id:int}/exports/nominations-excel.csv": clerk_page(),
    "GET /staff/editions/{edition_id:int}/exports/scores.xlsx": clerk_page(),
    "GET /staff/editions/{edition_id:int}/exports/scores-excel.csv": clerk_page(),
    "GET /staff/editions/{edition_id:int}/dossiers.pdf": clerk_page(),
    "GET /staff/editions/{edition_id:int}/decision": clerk_page(409),  # no recommendation yet
    "POST /staff/editions/{edition_id:int}/decision": CLERK_ACTION,
    "GET /staff/editions/{edition_id:int}/decision.pdf": clerk_page(404),  # no decision yet
    "GET /staff/editions/{edition_id:int}/publication": clerk_page(409),
    "POST /staff/editions/{edition_id:int}/publication": CLERK_ACTION,
    "GET /staff/editions/{edition_id:int}/laureates": clerk_page(),
    "POST /staff/editions/{edition_id:int}/laureates/confirmations": CLERK_ACTION,
    "GET /staff/laureates/{laureate_id:int}": clerk_page(),
    "GET /staff/privacy": clerk_page(),
    "POST /staff/privacy": CLERK_ACTION,
    "POST /staff/privacy/export": CLERK_ACTION,
    "POST /staff/privacy/correct": CLERK_ACTION,
    "POST /staff/privacy/erase": CLERK_ACTION,
    "POST /staff/laureates/{laureate_id:int}": CLERK_ACTION,
    "POST /staff/laureates/{laureate_id:int}/confirm": CLERK_ACTION,
    "GET /staff/laureates/{laureate_id:int}/withdraw": clerk_page(),
    "POST /staff/laureates/{laureate_id:int}/withdraw": CLERK_ACTION,
    "POST /staff/laureates/{laureate_id:int}/portrait": CLERK_ACTION,
    "GET /staff/laureates/{laureate_id:int}/portrait/remove": clerk_page(),
    "POST /staff/laureates/{laureate_id:int}/portrait/remove": CLERK_ACTION,
    "GET /staff/laureates/{laureate_id:int}/portrait/{version:int}/{name:str}": clerk_page(),
    # --- the jury ---------------------------------------------------------------------------------
    "GET /jury": JURY_HOME,
    "GET /jury/editions/{edition_id:int}": MEMBER_PAGE,
    "GET /jury/editions/{edition_id:int}/close-scoring": CHAIR_PAGE,
    "POST /jury/editions/{edition_id:int}/close-scoring": CHAIR_ACTION,
    "GET /jury/editions/{edition_id:int}/matrix": CHAIR_PAGE,
    "GET /jury/editions/{edition_id:int}/conflicts": MEMBER_PAGE,
    "POST /jury/editions/{edition_id:int}/conflicts": MEMBER_ACTION,
    "GET /jury/nominations/{nomination_id:int}": UNCONFLICTED_PAGE,
    "GET /jury/nominations/{nomination_id:int}/attachments/{attachment_id:int}": UNCONFLICTED_PAGE,
    "POST /jury/nominations/{nomination_id:int}/score": UNCONFLICTED_ACTION,
    "GET /jury/editions/{edition_id:int}/results": CHAIR_PAGE,
    "GET /jury/editions/{edition_id:int}/minutes": CHAIR_PAGE,
    "GET /jury/editions/{edition_id:int}/minutes.pdf": CHAIR_PAGE,
    # Each juror's pack leaves out the nominations they are conflicted on (tests/test_documents.py).
    "GET /jury/editions/{edition_id:int}/dossiers.pdf": MEMBER_PAGE,
    "GET /jury/editions/{edition_id:int}/deliberation": MEMBER_PAGE,
    "POST /jury/editions/{edition_id:int}/deliberation/proposals": CHAIR_ACTION,
    "POST /jury/editions/{edition_id:int}/deliberation/proposals/{proposal_id:int}/withdraw": CHAIR_ACTION,
    "POST /jury/editions/{edition_id:int}/deliberation/proposals/{proposal_id:int}/vote": UNCONFLICTED_ACTION,
    "GET /jury/editions/{edition_id:int}/deliberation/recommend": CHAIR_PAGE,
    "POST /jury/editions/{edition_id:int}/deliberation/recommend": CHAIR_ACTION,
    "POST /jury/editions/{edition_id:int}/deliberation/votes": MEMBER_ACTION,
}

# Rows every request may write: the session store and its registry, the throttle counters
# and the recorded password-reset requests (processed later by the mail sender).
SCRATCH_TABLES = (KeyValue, StaffSession, ThrottleCounter, PasswordResetRequest)
PARAMETER = re.compile(r"\{(\w+):\w+\}")


def app_routes(app: Litestar) -> list[str]:
    """``"METHOD /path"`` of every route the app answers (the automatic OPTIONS left out)."""
    found: set[str] = set()
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            found.update(f"{method} {route.path}" for method in route.methods if method != "OPTIONS")
        else:
            found.add(f"{route.scope_type.upper()} {route.path}")
    return sorted(found)


def forged(token: str) -> str:
    """A token of the right shape that opens nothing."""
    return token[::-1] if token[::-1] != token else "x" * len(token)


def url_of(path: str, role: str, world: World) -> str:
    values: dict[str, object] = {
        "edition_id": world.scored.edition.id,
        "category_id": world.scored.edition.categories[0].id,
        "nomination_id": world.conflicted_nomination,
        "attachment_id": world.attachment_id,
        "user_id": world.juror.id,
        "detection_id": world.detection_id,
        "proposal_id": world.proposal_id,
        "laureate_id": world.laureate_id,
        "year": world.scheduled_year,
        "slug": world.laureate_slug,
        "code": "en",
        "token": world.manage_token if role == NOMINATOR else forged(world.manage_token),
        "file_path": "css/app.css",
        "path": "swagger",
        "public_id": "0" * 32,
        "version": 1,  # the scheduled laureate's picture
        "name": "320.webp",
    }

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"no value for the path parameter {name!r} of {path}"
        return str(values[name])

    return PARAMETER.sub(value, path)


def hidden_from(role: str, world: World) -> frozenset[str]:
    """The secrets ``role`` may not read anywhere."""
    s = world.secrets
    conflicted = world.conflicted_nomination
    everything = s.everything()
    contacts = {c for group in s.contacts.values() for c in group} | set(s.other_contacts)
    # Any juror of 2025: no contact data, nothing of 2024, no laureate before its publication.
    juror = frozenset(contacts | set(s.other_texts) | set(s.scheduled))
    hidden = {
        ANONYMOUS: everything,
        # Their own nomination as they sent it; nothing of the jury's work nor of the others.
        NOMINATOR: everything - s.of(conflicted),
        JUROR: juror | set(s.results),
        # The nominee's name (to declare the conflict), nothing else of the nomination.
        CONFLICTED: juror | set(s.results) | set(s.texts[conflicted]) | set(s.comments[conflicted]),
        CHAIR: juror,
        OTHER_JUROR: everything - set(s.other_texts),  # the 2024 jury reads its own nomination
        CLERK: frozenset(),
        ADMIN: frozenset(),
        ENROLLING: everything,  # nothing before the second step
    }
    return frozenset(hidden[role])


def shown_to(route: str, role: str, world: World) -> frozenset[str]:
    """Secrets the answer must show: the leak checks look for strings that do get rendered."""
    s = world.secrets
    n = world.conflicted_nomination
    text, file = s.texts[n]
    ewa = next(c for c in s.comments[n] if c.startswith("SECRET-COMMENT-EWA"))
    expected: dict[tuple[str, str], set[str]] = {
        ("GET /staff/nominations/{nomination_id:int}", CLERK): {*s.contacts[n], s.names[n], text},
        ("GET /staff/nominations/{nomination_id:int}", ADMIN): {*s.contacts[n], s.names[n], text},
        ("GET /staff/nominations/{nomination_id:int}/attachments/{attachment_id:int}", CLERK): {file},
        ("GET /staff/editions/{edition_id:int}/scores.csv", CLERK): {ewa},
        ("GET /staff/editions/{edition_id:int}/results", CLERK): set(s.results),
        ("GET /staff/laureates/{laureate_id:int}", CLERK): set(s.scheduled),
        ("GET /jury/nominations/{nomination_id:int}", JUROR): {s.names[n], text, ewa},
        ("GET /jury/nominations/{nomination_id:int}/attachments/{attachment_id:int}", JUROR): {file},
        ("GET /jury/editions/{edition_id:int}/conflicts", CONFLICTED): {s.names[n]},
        ("GET /jury/editions/{edition_id:int}/results", CHAIR): set(s.results),
        ("GET /n/{token:str}", NOMINATOR): {*s.contacts[n], text},
        ("GET /n/{token:str}/attachments/{attachment_id:int}", NOMINATOR): {file},
        ("GET /laureates", ANONYMOUS): {world.public_laureate},
    }
    return frozenset(expected.get((route, role), set()))


async def fingerprint() -> dict[str, str]:
    """A digest of every table's rows (but the scratch tables), by table name."""
    found: dict[str, str] = {}
    async with DB.transaction():  # one connection for all the reads
        for table in APP_CONFIG.table_classes:
            if table not in SCRATCH_TABLES:
                rows = await table.select().order_by(table._meta.primary_key)
                found[table._meta.tablename] = sha256(repr(rows).encode()).hexdigest()
    return found


async def enter_as(client: Client, role: str, world: World) -> None:
    """Sign in as ``role`` (the nominator and the anonymous visitor have no account)."""
    await csrf_token(client)
    if role == CLERK:
        first = await login(client, world.clerk.email)
        assert first.headers["location"].startswith("/login/totp"), "the clerk has a second factor"
        code = pyotp.TOTP(world.clerk_totp_secret).now()
        response = await post_form(client, "/login/totp", {"code": code, "next": "/staff"})
        assert response.status_code == 302, "the clerk could not sign in"
    elif role == ENROLLING:
        response = await login(client, world.enrolling_clerk.email)
        assert response.headers["location"] == "/account/totp", "the second factor is mandatory for clerks"
    elif role not in (ANONYMOUS, NOMINATOR):
        account = {
            JUROR: world.juror,
            CONFLICTED: world.conflicted_juror,
            OTHER_JUROR: world.other_juror,
            CHAIR: world.chair,
            ADMIN: world.admin,
        }[role]
        response = await login(client, account.email)
        assert response.status_code == 302, f"{role} could not sign in"
    english(client)


def problem(expected: Expect, method: str, response: Response) -> str | None:
    """Why the answer is not the expected one (None when it is)."""
    status, location = response.status_code, response.headers.get("location", "")
    got = f"got {status}" + (f" to {location}" if location else "")
    if expected == LOGIN:
        if method in ("GET", "HEAD"):
            ok = status in (302, 303) and location.startswith("/login?next=")
            return None if ok else f"expected a redirect to /login, {got}"
        return None if status == 403 else f"expected 403 (not signed in), {got}"
    if expected == ENROL:
        ok = status in (302, 303) and location == "/account/totp"
        return None if ok else f"expected a redirect to /account/totp, {got}"
    if expected == REDIRECT:
        ok = status in (301, 302, 303, 307, 308) and not location.startswith("/login?next=")
        return None if ok else f"expected a redirect, {got}"
    return None if status == expected else f"expected {expected}, {got}"


def found_in(response: Response, secrets: frozenset[str]) -> list[str]:
    return sorted(s for s in secrets if s.encode() in response.content)


def test_every_route_is_classified_and_every_row_is_a_route(settings: Settings) -> None:
    routes = app_routes(create_app(settings))
    unclassified = [r for r in routes if r not in MATRIX]
    stale = [r for r in MATRIX if r not in routes]
    assert not unclassified, f"unclassified route(s): add them to MATRIX: {unclassified}"
    assert not stale, f"MATRIX rows for routes that no longer exist: {stale}"
    malformed = [r for r, row in MATRIX.items() if len(row) != len(ROLES)]
    assert not malformed, f"rows without one answer per role: {malformed}"
    unsent = [r for r, row in MATRIX.items() if ALLOWED in row and not r.startswith("POST ")]
    assert not unsent, f"ALLOWED is for actions only: {unsent}"


@dataclass
class Snapshot:
    """The data set, built by the first test of the module and copied for the others (SQLite)."""

    path: Path
    world: World | None = None


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    return Snapshot(tmp_path_factory.mktemp("authorization") / "world.sqlite3")


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup (the journal may be a WAL)."""
    with contextlib.closing(sqlite3.connect(source)) as src, contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


@pytest.fixture
async def world(snapshot: Snapshot, database_url: str) -> World:
    """This test's database holds the data set (requested before ``client`` starts the app)."""
    if IS_POSTGRES:
        return await build_world()
    here = Path(database_url.removeprefix("sqlite:///"))
    if snapshot.world is None:
        snapshot.world = await build_world()
        copy_database(here, snapshot.path)
    else:
        copy_database(snapshot.path, here)
    return snapshot.world


@pytest.mark.parametrize("role", ROLES)
async def test_each_route_answers_each_role_as_the_matrix_says(
    role: str, world: World, client: Client, subtests: pytest.Subtests
) -> None:
    await enter_as(client, role, world)
    column = ROLES.index(role)
    hidden = hidden_from(role, world)
    routes = app_routes(client.app)
    # Pages first, then actions: each action is compared with the state just before it.
    routes.sort(key=lambda route: route.startswith("POST "))
    start = state = await fingerprint()
    for route in routes:
        method, path = route.split(" ", 1)
        if method == "POST" and state is start:
            with subtests.test(msg=f"every page as {role}"):
                state = await fingerprint()
                changed = sorted(table for table, digest in state.items() if start.get(table) != digest)
                assert not changed, f"reading pages as {role} changed {changed}"
        with subtests.test(msg=f"{route} as {role}"):
            row = MATRIX.get(route)
            assert row is not None, f"unclassified route: {route} (add it to MATRIX)"
            expected = row[column]
            if expected == ALLOWED:
                continue
            url = url_of(path, role, world)
            if method == "POST":
                response = await post_form(client, url, {})
                before, state = state, await fingerprint()
                changed = sorted(table for table, digest in state.items() if before.get(table) != digest)
                assert not changed, f"{route} as {role} changed {changed} (answer {response.status_code})"
            else:
                # A public page is read at its address in a language (the old one redirects there).
                response = await client.request(method, localized(url, "en"))
            wrong = problem(expected, method, response)
            assert wrong is None, f"{route} as {role} ({url}): {wrong}"
            shown = found_in(response, hidden)
            assert not shown, f"{route} as {role} ({url}) shows {shown}"
            missing = shown_to(route, role, world) - set(found_in(response, shown_to(route, role, world)))
            assert not missing, f"{route} as {role} ({url}) should show {sorted(missing)}"
