"""Issue 12: atomic login throttles, lockout without denial of service, constant-work password
resets, revocation of reset links and throttled re-authentication (docs/authentication.md).

Findings of docs ASVS-AUDIT: F1 (concurrent guesses all evaluated), F2 (reset flood and
timing), F3 (anyone could lock an account), F6 (old reset links stayed valid), F7
(re-authentication neither throttled nor audited). Each runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest

from ambassador.db import utcnow
from ambassador.domain import account_links, login_limits, outbox, second_factor, signin, throttle
from ambassador.domain.login_limits import ThrottlePolicy
from ambassador.enums import Role, TokenPurpose
from ambassador.errors import InvalidCredentials, InvalidInput, InvalidToken, SlowedDown, Throttled
from ambassador.piccolo_app import APP_CONFIG
from ambassador.settings import ConfigurationError, Settings, read_settings
from ambassador.tables import AuditEntry, AuthToken, OutboxMail, PasswordResetRequest, ThrottleCounter, User
from tests.conftest import Client
from tests.factories import PASSWORD, make_user, passwords
from tests.helpers import csrf_token, login, post_form, session_id, without_tokens


@pytest.fixture
def policy(settings: Settings) -> ThrottlePolicy:
    """The policy the app builds from the test settings (same key secret, same limits)."""
    return ThrottlePolicy.from_settings(settings)


@pytest.fixture
def events() -> Iterator[list[logging.LogRecord]]:
    """The security events logged during the test (the ``ambassador.security`` logger)."""
    found: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            found.append(record)

    handler = Collect(level=logging.DEBUG)
    log = logging.getLogger("ambassador.security")
    log.addHandler(handler)
    previous = log.level
    log.setLevel(logging.DEBUG)
    yield found
    log.removeHandler(handler)
    log.setLevel(previous)


def outcomes(records: list[logging.LogRecord], name: str) -> list[tuple[str, str | None]]:
    return [(r.outcome, getattr(r, "limit", None)) for r in records if getattr(r, "event", "") == name]  # type: ignore[attr-defined]


async def audit_count(action: str) -> int:
    return int(await AuditEntry.count().where(AuditEntry.action == action))


async def wrong_logins(policy: ThrottlePolicy, email: str, addresses: list[str]) -> list[str]:
    """One wrong password per address, straight through the domain; what each got."""
    found = []
    for address in addresses:
        try:
            await signin.authenticate(
                email=email, password="not the password!", address=address, passwords=passwords, policy=policy
            )
        except InvalidCredentials:
            found.append("wrong")
        except SlowedDown:
            found.append("slowed")
        except Throttled:
            found.append("throttled")
    return found


# --- F1: every attempt counted before the check, atomically ------------------------------


async def test_fifty_concurrent_password_guesses_get_five_evaluated(
    client: Client, events: list[logging.LogRecord]
) -> None:
    """ASVS 2.3.2, 2.4.1 (F1): 50 concurrent POST /login from one address to one account: the
    audit's burst had all 50 checked; now exactly 5 are (400) and 45 are refused (429)."""
    await make_user("victim@example.org", (Role.CLERK,))
    token = await csrf_token(client)

    responses = await asyncio.gather(
        *[
            client.post(
                "/login",
                data={"_csrf_token": token, "email": "victim@example.org", "password": f"guess number {i:03}"},
            )
            for i in range(50)
        ]
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [400] * 5 + [429] * 45
    assert await audit_count("auth.login_failed") == 5
    assert all(int(r.headers["retry-after"]) > 0 for r in responses if r.status_code == 429)
    assert sorted(outcomes(events, "auth.login")) == [("failure", None)] * 5 + [("throttled", "pair")] * 45
    # The right password is refused too until the window has moved on: the guesses were spent.
    assert (await login(client, "victim@example.org")).status_code == 429


async def test_concurrent_domain_guesses_from_many_accounts_respect_the_address_limit(
    policy: ThrottlePolicy,
) -> None:
    """ASVS 2.4.1 (F1): 60 concurrent guesses from one address over 60 accounts: exactly the
    address limit (30) are checked."""

    async def guess(i: int) -> str:
        try:
            await signin.authenticate(
                email=f"user{i}@example.org",
                password="x" * 12,
                address="203.0.113.9",
                passwords=passwords,
                policy=policy,
            )
        except Throttled:
            return "throttled"
        except InvalidCredentials:
            return "checked"
        return "in"

    results = await asyncio.gather(*[guess(i) for i in range(60)])

    assert sorted(results) == ["checked"] * 30 + ["throttled"] * 30


async def test_hundred_concurrent_totp_codes_get_five_evaluated(
    client: Client, events: list[logging.LogRecord]
) -> None:
    """ASVS 2.3.2, 2.4.1 (F1): with the password known, 100 concurrent POST /login/totp with
    distinct wrong codes: the audit had all 100 checked; now 5 are (400), 95 refused (429)."""
    clerk = await make_user("clerk@example.org", (Role.CLERK,))
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    await second_factor.enable_totp(user_id=clerk.id, secret=secret, code=totp.now())
    first = await login(client, "clerk@example.org")
    assert first.headers["location"].startswith("/login/totp")
    now = utcnow()
    valid = {totp.at(now + dt.timedelta(seconds=30 * step)) for step in range(-3, 4)}
    codes = [code for code in (f"{n:06}" for n in range(100, 1000, 7)) if code not in valid][:100]
    token = await csrf_token(client)

    responses = await asyncio.gather(
        *[client.post("/login/totp", data={"_csrf_token": token, "code": code}) for code in codes]
    )

    assert sorted(r.status_code for r in responses) == [400] * 5 + [429] * 95
    assert await audit_count("auth.totp_failed") == 5
    assert sorted(outcomes(events, "auth.totp")) == [("failure", None)] * 5 + [("throttled", "user")] * 95


async def test_a_successful_login_clears_its_pair_count(client: Client) -> None:
    """ASVS 2.4.1: four mistakes and a success leave the pair's count at zero again."""
    await make_user("clerk@example.org", (Role.CLERK,))
    for _ in range(4):
        assert (await login(client, "clerk@example.org", "a wrong password!")).status_code == 400
    assert (await login(client, "clerk@example.org")).status_code == 302
    await post_form(client, "/logout", {})

    statuses = [(await login(client, "clerk@example.org", "a wrong password!")).status_code for _ in range(6)]

    assert statuses == [400] * 5 + [429]


async def test_successful_logins_from_one_address_are_not_throttled(client: Client, settings: Settings) -> None:
    """ASVS 2.4.1: the address limit counts failures; 35 staff logins behind one office address
    (more than the limit of 30) all succeed."""
    for i in range(35):
        await make_user(f"staff{i}@example.org", (Role.JUROR,))

    statuses = []
    for i in range(35):
        statuses.append((await login(client, f"staff{i}@example.org")).status_code)
        await post_form(client, "/logout", {})

    assert statuses == [302] * 35
    assert settings.login_max_failures_per_address < 35


async def test_the_sliding_window_lets_attempts_back_gradually(policy: ThrottlePolicy) -> None:
    """ASVS 2.4.1: five attempts fill the window; at the next window's start the estimate is
    still five (refused, with the exact wait), halfway through it two more fit."""
    key = throttle.key("s", "test", "one")
    window = 900
    start = dt.datetime.fromtimestamp(900 * 2_000_000, tz=dt.UTC)
    for _ in range(5):
        assert (await throttle.hit(key, limit=5, window=window, now=start)).allowed
    refused = await throttle.hit(key, limit=5, window=window, now=start + dt.timedelta(seconds=window))
    halfway = start + dt.timedelta(seconds=window * 1.5)
    later = [(await throttle.hit(key, limit=5, window=window, now=halfway)).allowed for _ in range(3)]

    assert (refused.allowed, refused.retry_after) == (False, 180)  # 5 × (1 − t/900) + 1 ≤ 5 at t = 180
    assert later == [True, True, False]


# --- F3: no lockout of the owner ---------------------------------------------------------


async def test_a_stranger_failing_from_another_address_does_not_lock_the_owner_out(
    client: Client, policy: ThrottlePolicy, events: list[logging.LogRecord]
) -> None:
    """ASVS 2.4.1 (F3): five wrong passwords from address A; the owner logs in from address B
    (the audit's probe got 429)."""
    await make_user("admin@example.org", (Role.ADMIN,))
    assert await wrong_logins(policy, "admin@example.org", ["10.0.0.1"] * 6) == ["wrong"] * 5 + ["throttled"]

    response = await login(client, "admin@example.org")

    assert response.status_code == 302
    assert response.headers["location"] == "/staff"
    assert ("throttled", "pair") in outcomes(events, "auth.login")


async def test_a_protected_account_slows_strangers_but_not_the_owners_browser(
    client: Client, policy: ThrottlePolicy, settings: Settings, events: list[logging.LogRecord]
) -> None:
    """ASVS 2.4.1 (F3): after 20 failures from 20 addresses the account is protected. The
    owner's browser (device cookie from an earlier login) logs in; a browser without it is
    refused with a Retry-After that grows; the owner gets one unlock mail per window."""
    from litestar.testing import AsyncTestClient

    from ambassador.web.app import create_app

    await make_user("admin@example.org", (Role.ADMIN,))
    assert (await login(client, "admin@example.org")).status_code == 302  # the owner's browser
    assert client.cookies.get("device")
    await post_form(client, "/logout", {})
    addresses = [f"198.51.100.{i}" for i in range(1, 21)]
    assert await wrong_logins(policy, "admin@example.org", addresses) == ["wrong"] * 20
    # Protected: one stranger's attempt passes the gate, which then stays shut for 30 s.
    assert await wrong_logins(policy, "admin@example.org", ["198.51.100.99", "198.51.100.98"]) == ["wrong", "slowed"]

    async with AsyncTestClient(app=create_app(settings)) as stranger:
        stranger.follow_redirects = False
        refused = await login(stranger, "admin@example.org")
        first_wait = int(refused.headers["retry-after"])
        # The gate opens again (its moment moved into the past); one more failure doubles the gap.
        await ThrottleCounter.update({ThrottleCounter.window_start: 0}).where(ThrottleCounter.bucket.like("%:gate"))
        assert await wrong_logins(policy, "admin@example.org", ["198.51.100.97"]) == ["wrong"]
        second = await login(stranger, "admin@example.org")

    assert refused.status_code == second.status_code == 429
    # 30 s after the 20th failure, 60 s after the 21st (less the moments the test itself took).
    assert (first_wait in range(25, 31), int(second.headers["retry-after"]) in range(55, 61)) == (True, True)
    assert "slowed down" in without_tokens(refused.text) or "spowolnione" in refused.text
    owner = await login(client, "admin@example.org")
    assert owner.status_code == 302
    unlock_mails = await OutboxMail.objects().where(OutboxMail.to_address == "admin@example.org")
    assert len(unlock_mails) == 1
    assert "/login/unlock?token=" in unlock_mails[0].body_text
    assert await audit_count("auth.unlock_mailed") == 1
    assert ("throttled", "account") in outcomes(events, "auth.login")


async def test_the_slow_down_says_nothing_about_whether_the_account_exists(
    client: Client, policy: ThrottlePolicy
) -> None:
    """ASVS 2.4.1, 6.3.8-style enumeration (F3): an unknown email under the same attack gets the
    same refusal, and no mail is sent for it."""
    await make_user("admin@example.org", (Role.ADMIN,))
    pages = []
    for email in ("admin@example.org", "nobody@example.org"):
        await wrong_logins(policy, email, [f"192.0.2.{i}" for i in range(1, 22)])
        response = await login(client, email, "a wrong password!")
        pages.append((response.status_code, without_tokens(response.text).replace(email, "X")))

    assert pages[0] == pages[1]
    assert pages[0][0] == 429
    assert [m.to_address for m in await OutboxMail.objects()] == ["admin@example.org"]


async def test_the_unlock_link_gives_the_browser_the_device_cookie_once(
    client: Client, policy: ThrottlePolicy, events: list[logging.LogRecord]
) -> None:
    """ASVS 2.4.1 (F3): the mailed link shows a page with a button (GET uses nothing); the POST
    clears the account's count, sets the device cookie, and the link works once."""
    await make_user("admin@example.org", (Role.ADMIN,))
    await wrong_logins(policy, "admin@example.org", [f"192.0.2.{i}" for i in range(1, 22)])
    assert (await login(client, "admin@example.org")).status_code == 429
    mail = await OutboxMail.objects().first()
    assert mail is not None
    link = re.search(r"http://testserver\.local(/login/unlock\?token=([\w-]+))", mail.body_text)
    assert link is not None

    page = await client.get(link.group(1))
    assert page.status_code == 200
    assert 'action="/login/unlock"' in page.text
    assert (await client.get(link.group(1))).status_code == 200  # opening it twice uses nothing
    without_csrf = await client.post("/login/unlock", data={"token": link.group(2)})
    unlocked = await post_form(client, "/login/unlock", {"token": link.group(2)})
    again = await post_form(client, "/login/unlock", {"token": link.group(2)})

    assert without_csrf.status_code == 403
    assert (unlocked.status_code, unlocked.headers["location"]) == (302, "/login")
    assert "device=" in unlocked.headers["set-cookie"]
    assert again.status_code == 400
    assert (await login(client, "admin@example.org")).status_code == 302
    assert await audit_count("auth.unlock_used") == 1
    assert outcomes(events, "auth.unlock_used") == [("success", None), ("failure", None)]


async def test_a_device_cookie_of_another_account_or_a_forged_one_counts_for_nothing(
    client: Client, policy: ThrottlePolicy
) -> None:
    """ASVS 2.4.1 (F3): the device cookie is signed and bound to its account."""
    await make_user("admin@example.org", (Role.ADMIN,))
    await make_user("clerk@example.org", (Role.CLERK,))
    assert (await login(client, "clerk@example.org")).status_code == 302
    await post_form(client, "/logout", {})
    await wrong_logins(policy, "admin@example.org", [f"192.0.2.{i}" for i in range(1, 22)])
    clerk_cookie = str(client.cookies["device"])
    payload, _, _mac = clerk_cookie.rpartition(".")
    admin = await User.select(User.id).where(User.email == "admin@example.org").first()
    assert admin is not None
    parts = payload.split(".")
    parts[1] = str(admin["id"])
    forged = ".".join(parts) + "." + _mac

    refused = []
    for cookie in (clerk_cookie, forged):
        client.cookies.set("device", cookie, domain="testserver.local")
        refused.append((await login(client, "admin@example.org")).status_code)

    assert refused == [429, 429]


# --- F2: password-reset limits and constant work -----------------------------------------


async def table_state() -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of its rows (what a request wrote)."""
    found = {}
    for table in APP_CONFIG.table_classes:
        rows = await table.select().order_by(table._meta.primary_key)
        found[table._meta.tablename] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return found


async def test_reset_requests_for_known_and_unknown_addresses_do_the_same_work(client: Client) -> None:
    """ASVS 2.1.3, 2.4.1 (F2): the answer, and the tables written at request time, are the same
    whether or not the account exists (the audit measured 5.3 ms against 3.5 ms): no account
    is looked up, no token issued and no mail queued until the mail sender's turn."""
    await make_user("clerk@example.org", (Role.CLERK,))
    await post_form(client, "/password/forgot", {"email": "first@example.org"})  # session and counter made
    answers = []
    changes = []
    for email in ("clerk@example.org", "nobody@example.org"):
        before = await table_state()
        response = await post_form(client, "/password/forgot", {"email": email})
        after = await table_state()
        answers.append((response.status_code, response.headers["location"]))
        changes.append({name: after[name][0] - before[name][0] for name in after if after[name] != before[name]})

    assert answers[0] == answers[1] == (302, "/login")
    # One request row more; the address's counter and the session (its flash message) updated.
    assert changes[0] == changes[1] == {"password_reset_request": 1, "throttle_counter": 0, "key_value": 0}
    assert await OutboxMail.count() == 0
    assert await AuthToken.count() == 0


async def test_thirty_reset_requests_give_at_most_three_mails(
    client: Client, policy: ThrottlePolicy, events: list[logging.LogRecord]
) -> None:
    """ASVS 2.4.1, 2.1.3 (F2): 30 requests for one account (from 30 addresses, past the
    per-address limit) make 3 mails and 3 tokens, of which only the newest is live (F6)."""
    await make_user("clerk@example.org", (Role.CLERK,))
    for i in range(30):
        await account_links.request_password_reset(email="Clerk@Example.org ", address=f"192.0.2.{i}", policy=policy)
    assert await PasswordResetRequest.count() == 30

    processed = await account_links.process_reset_requests(policy=policy)

    assert processed == 30
    assert await PasswordResetRequest.count() == 0  # personal data not kept
    assert [m.to_address for m in await OutboxMail.objects()] == ["clerk@example.org"] * 3
    tokens = await AuthToken.select(AuthToken.used_at).where(AuthToken.purpose == TokenPurpose.PASSWORD_RESET.value)
    assert len(tokens) == 3
    assert [row["used_at"] is None for row in tokens] == [False, False, True]
    assert sorted(o for o, _ in outcomes(events, "auth.reset_processed")) == ["success"] * 3 + ["throttled"] * 27


async def test_reset_requests_from_one_address_are_limited(client: Client, settings: Settings) -> None:
    """ASVS 2.4.1 (F2): the eleventh request in an hour from one address is refused (429), for
    any email, with the same page."""
    await csrf_token(client)
    statuses = [
        (await post_form(client, "/password/forgot", {"email": f"someone{i}@example.org"})).status_code
        for i in range(11)
    ]

    assert statuses == [302] * settings.reset_max_per_address + [429]
    assert await PasswordResetRequest.count() == settings.reset_max_per_address


async def test_the_mail_sender_processes_reset_requests_before_it_claims(client: Client, settings: Settings) -> None:
    """ASVS 2.1.3 (F2): the sender's loop (web workers or ``ambassador mail send``) turns the
    recorded request into a delivered mail."""
    await make_user("clerk@example.org", (Role.CLERK,))
    await post_form(client, "/password/forgot", {"email": "clerk@example.org"})

    report = await outbox.sender_for(settings).run()

    assert report.sent == 1
    [delivered] = list(settings.mail_dir.glob("*.eml"))
    assert "To: clerk@example.org" in delivered.read_text(encoding="utf-8")
    assert await PasswordResetRequest.count() == 0


# --- F6: one live password link at a time ------------------------------------------------


async def reset_link(policy: ThrottlePolicy, email: str, address: str = "192.0.2.1") -> str:
    await account_links.request_password_reset(email=email, address=address, policy=policy)
    await account_links.process_reset_requests(policy=policy)
    mail = await OutboxMail.objects().order_by(OutboxMail.id, ascending=False).first()
    assert mail is not None
    found = re.search(r"token=([\w-]+)", mail.body_text)
    assert found is not None
    return found.group(1)


NEW_PASSWORD = "a fresh passphrase"


async def set_password(client: Client, path: str, token: str, password: str = NEW_PASSWORD) -> int:
    response = await post_form(client, path, {"token": token, "password": password, "password_again": password})
    return response.status_code


async def test_an_earlier_reset_link_fails_after_another_was_used(client: Client) -> None:
    """ASVS 7.4.3 (F6), the audit's probe: two live reset links (issued before this fix, so both
    still valid); link #1 sets a password, then link #2 is refused (it set one in the audit)."""
    clerk = await make_user("clerk@example.org", (Role.CLERK,))
    first = await account_links.issue_token(clerk.id, TokenPurpose.PASSWORD_RESET, 3600)
    second = await account_links.issue_token(clerk.id, TokenPurpose.PASSWORD_RESET, 3600)

    assert await set_password(client, "/password/reset", first) == 302
    assert await set_password(client, "/password/reset", second, "yet another passphrase") == 400
    assert (await login(client, "clerk@example.org", "a fresh passphrase")).status_code == 302


async def test_issuing_a_reset_link_revokes_the_earlier_ones(client: Client, policy: ThrottlePolicy) -> None:
    """ASVS 7.4.3 (F6): only the newest reset link works."""
    await make_user("clerk@example.org", (Role.CLERK,))
    older = await reset_link(policy, "clerk@example.org")
    newer = await reset_link(policy, "clerk@example.org", "192.0.2.2")

    assert (await client.get(f"/password/reset?token={older}")).status_code == 400
    assert await set_password(client, "/password/reset", newer) == 302


async def test_using_an_invitation_revokes_a_reset_link_and_the_reverse(client: Client, policy: ThrottlePolicy) -> None:
    """ASVS 7.4.3 (F6): any password-setting link used ends the account's other ones."""
    admin = await make_user("admin@example.org", (Role.ADMIN,))
    invited = await account_links.invite_user(
        actor_id=admin.id,
        email="new@example.org",
        display_name="New",
        roles=frozenset({Role.JUROR}),
        language="en",
        base_url="http://testserver.local",
        lifetime_seconds=3600,
    )
    invitation = await account_links.issue_token(invited.id, TokenPurpose.INVITATION, 3600)
    reset = await reset_link(policy, "new@example.org")

    assert await set_password(client, "/password/reset", reset) == 302
    assert await set_password(client, "/account/activate", invitation) == 400


async def test_changing_the_password_revokes_outstanding_reset_links(client: Client, policy: ThrottlePolicy) -> None:
    """ASVS 7.4.3 (F6): a link leaked from the mailbox dies when the owner changes the password."""
    await make_user("clerk@example.org", (Role.CLERK,))
    leaked = await reset_link(policy, "clerk@example.org")
    await login(client, "clerk@example.org")

    changed = await post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "new_password": "my new passphrase", "new_password_again": "my new passphrase"},
    )

    assert changed.status_code == 302
    assert await set_password(client, "/password/reset", leaked) == 400


# --- F7: re-authentication throttled and audited -----------------------------------------


async def test_wrong_current_passwords_are_throttled_and_audited(
    client: Client, events: list[logging.LogRecord]
) -> None:
    """ASVS 7.5.1, 16.3.1 (F7): the audit's 8 wrong current passwords gave 8 × 400 and no audit
    entry; now 5 × 400, then 429 with Retry-After, each failure audited and logged."""
    await make_user("clerk@example.org", (Role.CLERK,))
    await login(client, "clerk@example.org")

    responses = [
        await post_form(
            client,
            "/account/password",
            {
                "current_password": f"wrong guess {i:02}!",
                "new_password": "a new passphrase",
                "new_password_again": "a new passphrase",
            },
        )
        for i in range(8)
    ]

    assert [r.status_code for r in responses] == [400] * 5 + [429] * 3
    assert int(responses[-1].headers["retry-after"]) > 0
    assert await audit_count("auth.reauth_failed") == 5
    assert outcomes(events, "auth.reauth") == [("failure", None)] * 5 + [("throttled", "user")] * 3
    assert session_id(client) is not None


async def test_concurrent_reauthentication_guesses_get_five_evaluated(policy: ThrottlePolicy) -> None:
    """ASVS 7.5.1, 2.4.1 (F1, F7): the re-authentication path counts before it checks."""
    clerk = await make_user("clerk@example.org", (Role.CLERK,))

    async def guess(i: int) -> str:
        try:
            await signin.change_password(
                user_id=clerk.id,
                current=f"wrong guess {i:02}!",
                new="a new passphrase",
                passwords=passwords,
                address="192.0.2.7",
                policy=policy,
            )
        except Throttled:
            return "throttled"
        except InvalidInput:
            return "wrong"
        return "changed"

    results = await asyncio.gather(*[guess(i) for i in range(30)])

    assert sorted(results) == ["throttled"] * 25 + ["wrong"] * 5


async def test_the_unlock_link_is_refused_when_unknown(policy: ThrottlePolicy) -> None:
    """ASVS 2.4.1 (F3): a made-up unlock token clears nothing."""
    with pytest.raises(InvalidToken):
        await signin.use_unlock_link(token="no-such-token", policy=policy)


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("AMBASSADOR_LOGIN_MAX_FAILURES_PER_ACCOUNT", "5", "AMBASSADOR_LOGIN_MAX_FAILURES_PER_PAIR"),
        ("AMBASSADOR_RESET_MAX_PER_ACCOUNT", "0", "AMBASSADOR_RESET_MAX_PER_ACCOUNT"),
        ("AMBASSADOR_LOGIN_WINDOW_SECONDS", "-1", "AMBASSADOR_LOGIN_WINDOW_SECONDS"),
    ],
)
def test_throttle_settings_are_checked(tmp_path: Path, variable: str, value: str, named: str) -> None:
    """ASVS 2.4.1: a limit of 0, a negative window or the replaced variable stops the start,
    naming the variable (a silently ignored limit would leave logins unthrottled)."""
    with pytest.raises(ConfigurationError, match=named):
        read_settings({"AMBASSADOR_VAR_DIR": str(tmp_path), variable: value})


def test_the_slow_down_doubles_with_each_failure_up_to_the_window(policy: ThrottlePolicy) -> None:
    """ASVS 2.4.1 (F3): the gap for browsers without the device cookie, exactly."""
    gaps = [login_limits.slow_down_seconds(failures, policy) for failures in (0, 20, 21, 22, 24, 25, 60)]
    assert gaps == [30, 30, 60, 120, 480, 900, 900]
