"""ASVS V7 through the real routes: the session registry, ending sessions, the concurrent
limit, step-up before sensitive changes, and the pending second factor's five minutes.

Several browsers of one account are several test clients of one app (one cookie jar each).
Session times come from the app's clock (``tests.helpers.SessionClock``): no sleeping.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pyotp
import pytest
from litestar.testing import AsyncTestClient

from ambassador.domain import accounts, editions, second_factor
from ambassador.domain import sessions as registry
from ambassador.enums import EditionState, Role
from ambassador.i18n import TIMEZONE
from ambassador.settings import ConfigurationError, Settings, load_settings
from ambassador.tables import AuditEntry, Decision, StaffSession
from ambassador.web.app import create_app, run_maintenance
from ambassador.web.sessions import browser_summary
from tests.conftest import Client
from tests.factories import make_user
from tests.helpers import SessionClock, confirm_password, login, post_form, session_id
from tests.test_approval_pages import decision_form, post_decision, recommended_edition, signed_pdf

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/120.0.0.0 Mobile Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.1 Mobile/15E148 Safari/604.1"
)
EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0"
    " Safari/537.36 Edg/120.0.2210.91"
)
STEP_UP = Settings.step_up_seconds


@contextlib.asynccontextmanager
async def browsers(client: Client, count: int) -> AsyncIterator[list[Client]]:
    """``count`` more browsers on the same app (and so the same clock and database)."""
    async with contextlib.AsyncExitStack() as stack:
        found = []
        for _ in range(count):
            other = await stack.enter_async_context(AsyncTestClient(app=client.app))
            other.follow_redirects = False
            found.append(other)
        yield found


async def signed_in(client: Client, email: str, user_agent: str = FIREFOX) -> None:
    client.headers["user-agent"] = user_agent
    client.headers["accept-language"] = "en"
    client.cookies.set("lang", "en", domain="testserver.local")
    response = await login(client, email)
    assert response.status_code == 302, response.text


def public_ids(html: str) -> list[str]:
    return re.findall(r'action="/account/sessions/([0-9a-f]{32})/end"', html)


async def audit_actions() -> list[str]:
    return [row["action"] for row in await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)]


@pytest.fixture
def security_events() -> Iterator[list[dict[str, object]]]:
    """The security log's events (its logger does not propagate to the root)."""
    found: list[dict[str, object]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            found.append(
                {k: v for k, v in vars(record).items() if k in ("event", "outcome", "reason", "by", "user_id")}
            )

    logger = logging.getLogger("ambassador.security")
    handler = Collect()
    logger.addHandler(handler)
    yield found
    logger.removeHandler(handler)


# --- the registry and the own sessions page (7.5.2) -------------------------------------


async def test_two_logins_are_listed_with_address_browser_and_this_session(client: Client) -> None:
    """ASVS 7.5.2: the user sees every active session: start, activity, address, browser."""
    await make_user("clerk@example.org", (Role.CLERK,))
    await signed_in(client, "clerk@example.org", FIREFOX)
    async with browsers(client, 1) as (phone,):
        await signed_in(phone, "clerk@example.org", CHROME_ANDROID)

        page = await client.get("/account/sessions")

    assert page.status_code == 200
    assert "Firefox 121, Windows" in page.text
    assert "Chrome 120, Android" in page.text
    assert page.text.count("testclient") >= 2  # the test client's address
    assert page.text.count("(this session)") == 1
    # Only the other session has an "end" button; this one is ended by logging out.
    assert len(public_ids(page.text)) == 1
    assert '<a href="/account/sessions">' in (await client.get("/account")).text


async def test_ending_the_other_session_sends_it_to_login(
    client: Client, security_events: list[dict[str, object]]
) -> None:
    """ASVS 7.5.2, 7.4.1: the user ends another of their sessions; its next request is refused."""
    user = await make_user("clerk@example.org", (Role.CLERK,))
    await signed_in(client, "clerk@example.org")
    async with browsers(client, 1) as (other,):
        await signed_in(other, "clerk@example.org", CHROME_ANDROID)
        assert (await other.get("/staff")).status_code == 200
        (other_id,) = public_ids((await client.get("/account/sessions")).text)

        response = await post_form(client, f"/account/sessions/{other_id}/end", {})

        assert (response.status_code, response.headers["location"]) == (303, "/account/sessions")
        refused = await other.get("/staff")
        assert (refused.status_code, refused.headers["location"]) == (302, "/login?next=/staff")
    assert (await client.get("/staff")).status_code == 200
    assert "session.ended" in await audit_actions()
    assert {"event": "session.ended", "outcome": "success", "reason": "user", "by": user.id, "user_id": user.id} in (
        security_events
    )


async def test_a_session_of_another_account_cannot_be_ended(client: Client) -> None:
    """ASVS 7.5.2: the id in the path must be one of the user's own sessions."""
    await make_user("clerk@example.org", (Role.CLERK,))
    await make_user("juror@example.org", (Role.JUROR,))
    async with browsers(client, 1) as (juror,):
        await signed_in(juror, "juror@example.org")
        (juror_sid,) = [row["public_id"] for row in await StaffSession.select(StaffSession.public_id)]
        await signed_in(client, "clerk@example.org")

        await post_form(client, f"/account/sessions/{juror_sid}/end", {})

        assert (await juror.get("/jury")).status_code == 200


async def test_end_all_others_asks_first_and_keeps_this_session(client: Client) -> None:
    """ASVS 7.5.2: "end all others" has a confirmation page (no JS) and keeps the current one."""
    await make_user("clerk@example.org", (Role.CLERK,))
    await signed_in(client, "clerk@example.org")
    async with browsers(client, 2) as others:
        for other in others:
            await signed_in(other, "clerk@example.org", SAFARI_IPHONE)
        ask = await client.get("/account/sessions/end-others")
        assert ask.status_code == 200
        assert "End your 2 other sessions?" in ask.text
        assert 'action="/account/sessions/end-others"' in ask.text
        assert [row["ended_at"] for row in await StaffSession.select(StaffSession.ended_at)] == [None] * 3

        response = await post_form(client, "/account/sessions/end-others", {})

        assert (response.status_code, response.headers["location"]) == (303, "/account/sessions")
        assert [(await other.get("/staff")).status_code for other in others] == [302, 302]
    assert (await client.get("/staff")).status_code == 200
    page = await client.get("/account/sessions")
    assert page.text.count("(this session)") == 1 and public_ids(page.text) == []


async def test_logout_ends_the_registered_session(client: Client) -> None:
    """ASVS 7.4.1: logout ends the registry row as well as the stored session."""
    await make_user("clerk@example.org", (Role.CLERK,))
    await signed_in(client, "clerk@example.org")

    await post_form(client, "/logout", {})

    rows = await StaffSession.select(StaffSession.ended_at, StaffSession.ended_reason)
    assert [row["ended_reason"] for row in rows] == ["logout"]
    assert rows[0]["ended_at"] is not None


async def test_a_session_without_a_registry_row_is_refused(client: Client) -> None:
    """ASVS 7.4.1: the registry row is required; deleting it (e.g. pruned) ends the session."""
    await make_user("clerk@example.org", (Role.CLERK,))
    await signed_in(client, "clerk@example.org")
    await StaffSession.delete(force=True)

    assert (await client.get("/staff")).status_code == 302


async def test_activity_is_noted_at_most_once_a_minute(client: Client) -> None:
    """ASVS 7.3.1: last activity moves with use, without a write on every request."""
    await make_user("clerk@example.org", (Role.CLERK,))
    clock = SessionClock(client)
    await signed_in(client, "clerk@example.org")
    first = (await StaffSession.select(StaffSession.last_seen_at).first() or {})["last_seen_at"]
    clock.advance(30)
    await client.get("/staff")
    assert (await StaffSession.select(StaffSession.last_seen_at).first() or {})["last_seen_at"] == first
    clock.advance(31)
    await client.get("/staff")
    later = (await StaffSession.select(StaffSession.last_seen_at).first() or {})["last_seen_at"]
    assert round((later - first).total_seconds()) == 61


async def test_maintenance_prunes_ended_and_expired_rows(client: Client, settings: Settings) -> None:
    """ASVS 7.3.1, 7.3.2: ended and expired registry rows are deleted by the maintenance loop."""
    user = await make_user("clerk@example.org", (Role.CLERK,))
    policy = registry.SessionPolicy()
    now = dt.datetime.now(dt.UTC)
    live = await registry.start(user_id=user.id, epoch=0, address="a", user_agent="", policy=policy, now=now)
    idle = await registry.start(
        user_id=user.id, epoch=0, address="b", user_agent="", policy=policy, now=now - dt.timedelta(hours=1)
    )
    ended = await registry.start(user_id=user.id, epoch=0, address="c", user_agent="", policy=policy, now=now)
    await registry.end_own(user_id=user.id, public_id=ended.public_id, policy=policy, now=now)

    await run_maintenance(settings, client.app.stores)

    remaining = [row["public_id"] for row in await StaffSession.select(StaffSession.public_id)]
    assert remaining == [live.public_id]
    assert idle.public_id not in remaining


# --- admin (7.4.5) ------------------------------------------------------------------------


async def test_admin_ends_one_users_sessions(client: Client, security_events: list[dict[str, object]]) -> None:
    """ASVS 7.4.5: an admin ends every session of one user, after a confirmation page."""
    admin = await make_user("admin@example.org", (Role.ADMIN,))
    juror = await make_user("juror@example.org", (Role.JUROR,))
    async with browsers(client, 2) as (laptop, phone):
        await signed_in(laptop, "juror@example.org")
        await signed_in(phone, "juror@example.org", CHROME_ANDROID)
        await signed_in(client, "admin@example.org")
        user_page = await client.get(f"/admin/users/{juror.id}")
        assert "2 active sessions." in user_page.text
        ask = await client.get(f"/admin/users/{juror.id}/sessions/end")
        assert "End 2 sessions of Juror?" in ask.text

        response = await post_form(client, f"/admin/users/{juror.id}/sessions/end", {})

        assert (response.status_code, response.headers["location"]) == (303, f"/admin/users/{juror.id}")
        assert [(await b.get("/jury")).status_code for b in (laptop, phone)] == [302, 302]
    assert (await client.get("/admin/users")).status_code == 200
    assert "sessions.ended_for_user" in await audit_actions()
    assert {"event": "sessions.ended_for_user", "outcome": "success", "user_id": admin.id} in security_events


async def test_admin_ends_everyones_sessions_but_their_own(client: Client) -> None:
    """ASVS 7.4.5: an admin ends all users' sessions; their own current one stays."""
    await make_user("admin@example.org", (Role.ADMIN,))
    await make_user("juror@example.org", (Role.JUROR,))
    await make_user("clerk@example.org", (Role.CLERK,))
    async with browsers(client, 3) as (juror, clerk, admin_phone):
        await signed_in(juror, "juror@example.org")
        await signed_in(clerk, "clerk@example.org")
        await signed_in(admin_phone, "admin@example.org", CHROME_ANDROID)
        await signed_in(client, "admin@example.org")
        ask = await client.get("/admin/sessions/end")
        assert ask.status_code == 200 and 'action="/admin/sessions/end"' in ask.text
        assert 'href="/admin/sessions/end"' in (await client.get("/admin/users")).text

        response = await post_form(client, "/admin/sessions/end", {})

        assert (response.status_code, response.headers["location"]) == (303, "/admin/users")
        assert [(await b.get("/account")).status_code for b in (juror, clerk, admin_phone)] == [302, 302, 302]
    assert (await client.get("/admin/users")).status_code == 200
    assert "sessions.ended_for_everyone" in await audit_actions()


# --- the concurrent limit (7.1.2) -----------------------------------------------------------


async def test_the_sixth_login_ends_the_least_recently_used_session(
    client: Client, security_events: list[dict[str, object]]
) -> None:
    """ASVS 7.1.2: five sessions at most; a sixth login ends the least recently used, says so."""
    user = await make_user("clerk@example.org", (Role.CLERK,))
    clock = SessionClock(client)
    async with browsers(client, 5) as others:
        for other in others:
            await signed_in(other, "clerk@example.org")
            clock.advance(100)
        first, second = others[0], others[1]
        assert (await first.get("/staff")).status_code == 200  # the oldest is used again: not the LRU

        await signed_in(client, "clerk@example.org")

        assert [(await b.get("/staff")).status_code for b in others] == [200, 302, 200, 200, 200]
        assert second.cookies.get("session") is not None
    page = await client.get("/staff")
    assert "least recently used session has been ended" in page.text
    assert (
        len(await registry.live_sessions(user_id=user.id, policy=registry.SessionPolicy(), now=clock_now(clock))) == 5
    )
    assert {"event": "session.ended", "outcome": "success", "reason": "limit", "by": None, "user_id": user.id} in (
        security_events
    )
    started = await AuditEntry.select(AuditEntry.data).where(AuditEntry.action == "session.started")
    assert [len(json.loads(row["data"])["ended_for_limit"]) for row in started] == [0, 0, 0, 0, 0, 1]


def clock_now(clock: SessionClock) -> dt.datetime:
    return dt.datetime.fromtimestamp(clock(), dt.UTC)


async def test_the_limit_is_a_setting(settings: Settings) -> None:
    """ASVS 7.1.2: AMBASSADOR_MAX_SESSIONS_PER_ACCOUNT=1 keeps only the newest login."""
    await make_user("clerk@example.org", (Role.CLERK,))
    async with AsyncTestClient(app=create_app(settings.with_changes(max_sessions_per_account=1))) as client:
        client.follow_redirects = False
        async with browsers(client, 1) as (other,):
            await signed_in(other, "clerk@example.org")
            await signed_in(client, "clerk@example.org")
            assert (await other.get("/staff")).status_code == 302
            assert (await client.get("/staff")).status_code == 200


# --- step-up (7.5.1, 7.5.3) ---------------------------------------------------------------


async def test_enabling_totp_needs_a_fresh_password(client: Client, security_events: list[dict[str, object]]) -> None:
    """ASVS 7.5.1 (audit F8), 7.2.4: enabling TOTP past the step-up window asks for the password
    first and changes nothing; after the confirmation (new session id) it works."""
    user = await make_user("clerk@example.org", (Role.CLERK,))
    clock = SessionClock(client)
    await signed_in(client, "clerk@example.org")
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', (await client.get("/account/totp")).text)
    assert secret is not None
    clock.advance(STEP_UP + 1)

    refused = await post_form(client, "/account/totp", {"code": pyotp.TOTP(secret.group(1)).now()})

    assert (refused.status_code, refused.headers["location"]) == (303, "/account/confirm?next=/account/totp")
    assert (await accounts.require_account(user.id)).totp_enabled is False
    asked = await client.get("/account/totp")
    assert (asked.status_code, asked.headers["location"]) == (302, "/account/confirm?next=/account/totp")
    form = await client.get(asked.headers["location"])
    assert 'name="next" value="/account/totp"' in form.text and 'autocomplete="current-password"' in form.text

    wrong = await confirm_password(client, "not my password", "/account/totp")
    assert wrong.status_code == 400
    before = session_id(client)
    confirmed = await confirm_password(client, next_url="/account/totp")
    assert (confirmed.status_code, confirmed.headers["location"]) == (303, "/account/totp")
    assert session_id(client) != before
    page = await client.get("/account/totp")
    assert secret.group(1) in page.text  # the same secret as shown before
    enabled = await post_form(client, "/account/totp", {"code": pyotp.TOTP(secret.group(1)).now()})
    assert enabled.status_code == 302
    assert (await accounts.require_account(user.id)).totp_enabled is True
    outcomes = [e["outcome"] for e in security_events if e.get("event") == "auth.reauth"]
    assert outcomes == ["failure", "success"]
    assert "auth.reauth_failed" in await audit_actions()


async def test_the_totp_policy_needs_a_fresh_password_and_asks_again_after_the_window(client: Client) -> None:
    """ASVS 7.5.3: the TOTP policy page and its POST need the password within the window."""
    await make_user("admin@example.org", (Role.ADMIN,))
    clock = SessionClock(client)
    await signed_in(client, "admin@example.org")
    assert (await client.get("/admin/security")).status_code == 200  # the login's password is fresh
    clock.advance(STEP_UP + 1)
    page = await client.get("/admin/security")
    assert (page.status_code, page.headers["location"]) == (303, "/account/confirm?next=/admin/security")
    refused = await post_form(client, "/admin/security", {"totp_required": "juror"})
    assert (refused.status_code, refused.headers["location"]) == (303, "/account/confirm?next=/admin/security")
    assert (await second_factor.role_policies())[Role.JUROR] is False

    await confirm_password(client, next_url="/admin/security")
    saved = await post_form(client, "/admin/security", {"totp_required": "juror"})

    assert (saved.status_code, saved.headers["location"]) == (302, "/admin/security")
    assert (await second_factor.role_policies())[Role.JUROR] is True
    clock.advance(STEP_UP + 1)
    again = await post_form(client, "/admin/security", {})
    assert again.headers["location"] == "/account/confirm?next=/admin/security"
    assert (await second_factor.role_policies())[Role.JUROR] is True


async def test_granting_a_role_needs_a_fresh_password(client: Client) -> None:
    """ASVS 7.5.3: any role change (here: granting admin) needs the password within the window."""
    await make_user("admin@example.org", (Role.ADMIN,))
    juror = await make_user("juror@example.org", (Role.JUROR,))
    clock = SessionClock(client)
    await signed_in(client, "admin@example.org")
    clock.advance(STEP_UP + 1)

    refused = await post_form(client, f"/admin/users/{juror.id}/roles", {"roles": ["juror", "admin"]})

    assert (refused.status_code, refused.headers["location"]) == (
        303,
        f"/account/confirm?next=/admin/users/{juror.id}",
    )
    assert (await accounts.require_account(juror.id)).roles == {Role.JUROR}
    await confirm_password(client, next_url=f"/admin/users/{juror.id}")
    granted = await post_form(client, f"/admin/users/{juror.id}/roles", {"roles": ["juror", "admin"]})
    assert granted.status_code == 302
    assert (await accounts.require_account(juror.id)).roles == {Role.JUROR, Role.ADMIN}


async def test_resetting_someones_totp_needs_a_fresh_password(client: Client) -> None:
    """ASVS 7.5.3: an admin's TOTP reset of another account needs the password within the window."""
    await make_user("admin@example.org", (Role.ADMIN,))
    clerk = await make_user("clerk@example.org", (Role.CLERK,))
    secret = second_factor.new_totp_secret()
    await second_factor.enable_totp(user_id=clerk.id, secret=secret, code=pyotp.TOTP(secret).now())
    clock = SessionClock(client)
    await signed_in(client, "admin@example.org")
    clock.advance(STEP_UP + 1)

    refused = await post_form(client, f"/admin/users/{clerk.id}/totp-reset", {})

    assert refused.headers["location"] == f"/account/confirm?next=/admin/users/{clerk.id}"
    assert (await accounts.require_account(clerk.id)).totp_enabled is True
    await confirm_password(client, next_url=f"/admin/users/{clerk.id}")
    assert (await post_form(client, f"/admin/users/{clerk.id}/totp-reset", {})).status_code == 302
    assert (await accounts.require_account(clerk.id)).totp_enabled is False


async def test_ending_sessions_needs_a_fresh_password(client: Client) -> None:
    """ASVS 7.5.2: ending sessions needs the user to have authenticated again (one factor)."""
    await make_user("clerk@example.org", (Role.CLERK,))
    clock = SessionClock(client)
    await signed_in(client, "clerk@example.org")
    async with browsers(client, 1) as (other,):
        await signed_in(other, "clerk@example.org")
        clock.advance(STEP_UP + 1)

        refused = await post_form(client, "/account/sessions/end-others", {})

        assert refused.headers["location"] == "/account/confirm?next=/account/sessions/end-others"
        assert (await other.get("/staff")).status_code == 200


async def test_recording_a_decision_needs_a_fresh_password(client: Client) -> None:
    """ASVS 7.5.3: the approving body's decision is recorded only within the step-up window."""
    setup, olena, bohdan = await recommended_edition()
    clock = SessionClock(client)
    await signed_in(client, setup.clerk.email)
    base = f"/staff/editions/{setup.edition.id}"
    clock.advance(STEP_UP + 1)

    page = await client.get(f"{base}/decision")
    assert (page.status_code, page.headers["location"]) == (302, f"/account/confirm?next={base}/decision")
    refused = await post_decision(client, setup.edition.id, decision_form(olena, bohdan), signed_pdf())
    assert (refused.status_code, refused.headers["location"]) == (303, f"/account/confirm?next={base}/decision")
    assert await Decision.count() == 0

    await confirm_password(client, next_url=f"{base}/decision")
    recorded = await post_decision(client, setup.edition.id, decision_form(olena, bohdan), signed_pdf())
    assert recorded.status_code == 303
    assert (await editions.get_edition(setup.edition.id)).state == EditionState.APPROVED


async def test_publishing_needs_a_fresh_password(client: Client) -> None:
    """ASVS 7.5.3: publication of the laureates happens only within the step-up window."""
    setup, olena, bohdan = await recommended_edition()
    clock = SessionClock(client)
    await signed_in(client, setup.clerk.email)
    base = f"/staff/editions/{setup.edition.id}"
    assert (
        await post_decision(client, setup.edition.id, decision_form(olena, bohdan), signed_pdf())
    ).status_code == 303
    clock.advance(STEP_UP + 1)
    moment = (dt.datetime.now(TIMEZONE) + dt.timedelta(days=2)).replace(hour=18, minute=0, second=0, microsecond=0)
    form: dict[str, str | list[str]] = {
        "published_on": moment.date().isoformat(),
        "published_time": "18:00",
        "acknowledged": "1",  # the citations are not written yet
    }

    page = await client.get(f"{base}/publication")
    assert page.headers["location"] == f"/account/confirm?next={base}/publication"
    refused = await post_form(client, f"{base}/publication", form)
    assert (refused.status_code, refused.headers["location"]) == (303, f"/account/confirm?next={base}/publication")
    assert (await editions.get_edition(setup.edition.id)).state == EditionState.APPROVED

    await confirm_password(client, next_url=f"{base}/publication")
    published = await post_form(client, f"{base}/publication", form)
    assert published.status_code == 303
    assert (await editions.get_edition(setup.edition.id)).state == EditionState.PUBLISHED


async def test_confirm_only_returns_to_this_site(client: Client) -> None:
    """ASVS 3.7.2: the confirmation's ``next`` is a local path only."""
    await make_user("clerk@example.org", (Role.CLERK,))
    await signed_in(client, "clerk@example.org")

    response = await confirm_password(client, next_url="//evil.example/")

    assert response.headers["location"] == "/staff"


# --- the pending second factor (F12) -------------------------------------------------------


async def test_a_pending_totp_login_expires_after_five_minutes(client: Client) -> None:
    """ASVS 7.3.1 (audit F12): password accepted, code due: five minutes, whatever the activity."""
    clerk = await make_user("clerk@example.org", (Role.CLERK,))
    secret = second_factor.new_totp_secret()
    await second_factor.enable_totp(
        user_id=clerk.id, secret=secret, code=pyotp.TOTP(secret).at(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30))
    )
    clock = SessionClock(client)
    assert (await login(client, "clerk@example.org")).headers["location"].startswith("/login/totp")
    clock.advance(5 * 60 + 1)

    late_form = await client.get("/login/totp")
    late = await post_form(client, "/login/totp", {"code": pyotp.TOTP(secret).now(), "next": "/staff"})

    assert (late_form.status_code, late_form.headers["location"]) == (302, "/login")
    assert (late.status_code, late.headers["location"]) == (302, "/login")
    assert (await client.get("/login/totp")).headers["location"] == "/login"  # the half login is gone
    assert await StaffSession.count() == 0
    clock.offset = 0
    assert (await login(client, "clerk@example.org")).headers["location"].startswith("/login/totp")
    in_time = await post_form(client, "/login/totp", {"code": pyotp.TOTP(secret).now(), "next": "/staff"})
    assert (in_time.status_code, in_time.headers["location"]) == (302, "/staff")


# --- the browser summary -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_agent", "summary"),
    [
        (FIREFOX, "Firefox 121, Windows"),
        (CHROME_ANDROID, "Chrome 120, Android"),
        (SAFARI_IPHONE, "Safari 17, iPhone"),
        (EDGE, "Edge 120, Windows"),
        ("curl/8.4.0", ""),
        ("", ""),
    ],
)
def test_browser_summary(user_agent: str, summary: str) -> None:
    """ASVS 7.5.2: sessions are named by a short browser summary."""
    assert browser_summary(user_agent) == summary


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("AMBASSADOR_MAX_SESSIONS_PER_ACCOUNT", "0", "AMBASSADOR_MAX_SESSIONS_PER_ACCOUNT must be between 1 and 100"),
        ("AMBASSADOR_STEP_UP_SECONDS", "7200", "AMBASSADOR_STEP_UP_SECONDS must be between 1 and 3600"),
    ],
)
def test_session_limits_out_of_range_refuse_to_start(tmp_path: Path, variable: str, value: str, problem: str) -> None:
    """ASVS 7.1.2: the limits are read from the environment and checked, naming the variable."""
    env = {"AMBASSADOR_VAR_DIR": str(tmp_path), variable: value}
    with pytest.raises(ConfigurationError) as refused:
        load_settings(env)
    assert str(refused.value).startswith(problem)
    loaded = load_settings({"AMBASSADOR_VAR_DIR": str(tmp_path), "AMBASSADOR_MAX_SESSIONS_PER_ACCOUNT": "3"})
    assert (loaded.max_sessions_per_account, loaded.step_up_seconds) == (3, 300)
