"""Invitations, password resets and the TOTP second factor, end to end over HTTP."""

from __future__ import annotations

import datetime as dt
import re
import time

import pyotp

from ambassador.db import utcnow
from ambassador.domain import account_links, accounts, second_factor
from ambassador.domain.login_limits import ThrottlePolicy
from ambassador.enums import Role
from ambassador.tables import AuthToken, OutboxMail, User
from tests.conftest import Client
from tests.factories import PASSWORD, make_user
from tests.helpers import login, post_form, session_id

POLICY = ThrottlePolicy(base_url="http://testserver.local", key_secret="test")


async def process_resets() -> int:
    """What the mail sender does before each claim: the recorded reset requests."""
    return await account_links.process_reset_requests(policy=POLICY)


async def last_link(path: str) -> str:
    mail = await OutboxMail.objects().order_by(OutboxMail.id, ascending=False).first()
    assert mail is not None
    match = re.search(rf"http://testserver\.local({re.escape(path)}\?token=[\w-]+)", mail.body_text)
    assert match is not None, mail.body_text
    return match.group(1)


async def test_admin_invites_a_juror_who_sets_a_password_once_and_logs_in(client: Client) -> None:
    await make_user("admin@example.org", (Role.ADMIN,))
    await login(client, "admin@example.org")

    invited = await post_form(
        client,
        "/admin/users/new",
        {"email": "new.juror@example.org", "display_name": "Nowa Jurorka", "roles": ["juror"], "language": "uk"},
    )
    assert invited.status_code == 302
    mail = await OutboxMail.objects().first()
    assert mail is not None
    assert (mail.to_address, mail.language) == ("new.juror@example.org", "uk")
    link = await last_link("/account/activate")
    await post_form(client, "/logout", {})

    form = await client.get(link)
    assert form.status_code == 200
    token = link.split("token=")[1]
    new_password = "my own juror passphrase"
    done = await post_form(
        client,
        "/account/activate",
        {"token": token, "password": new_password, "password_again": new_password},
    )
    assert done.status_code == 302
    assert (await login(client, "new.juror@example.org", new_password)).headers["location"] == "/staff"

    reused = await post_form(
        client,
        "/account/activate",
        {"token": token, "password": "another passphrase!", "password_again": "another passphrase!"},
    )
    assert reused.status_code == 400


async def test_invitation_with_a_taken_email_shows_the_error_and_keeps_input(client: Client) -> None:
    await make_user("admin@example.org", (Role.ADMIN,))
    await make_user("taken@example.org", (Role.CLERK,))
    await login(client, "admin@example.org")

    response = await post_form(
        client, "/admin/users/new", {"email": "taken@example.org", "display_name": "Zofia <b>", "roles": ["clerk"]}
    )

    assert response.status_code == 400
    assert 'value="Zofia &lt;b&gt;"' in response.text
    assert await User.count() == 2


async def test_expired_links_are_refused(client: Client) -> None:
    await make_user("clerk@example.org", (Role.CLERK,))
    await account_links.request_password_reset(email="clerk@example.org", address="192.0.2.1", policy=POLICY)
    await process_resets()
    link = await last_link("/password/reset")
    await AuthToken.update({AuthToken.expires_at: utcnow() - dt.timedelta(seconds=1)}).where(AuthToken.id > 0)

    response = await client.get(link)

    assert response.status_code == 400


async def test_password_reset_answers_the_same_for_unknown_addresses(client: Client) -> None:
    await make_user("clerk@example.org", (Role.CLERK,))

    known = await post_form(client, "/password/forgot", {"email": "clerk@example.org"})
    unknown = await post_form(client, "/password/forgot", {"email": "nobody@example.org"})

    assert known.status_code == unknown.status_code == 302
    assert known.headers["location"] == unknown.headers["location"] == "/login"
    assert await OutboxMail.count() == 0  # the mail sender processes the requests
    assert await process_resets() == 2
    assert [mail.to_address for mail in await OutboxMail.objects()] == ["clerk@example.org"]


async def test_password_reset_sets_a_new_password_and_ends_old_sessions(client: Client) -> None:
    await make_user("clerk@example.org", (Role.CLERK,))
    await login(client, "clerk@example.org")
    old_session = session_id(client)
    await post_form(client, "/password/forgot", {"email": "clerk@example.org"})
    await process_resets()
    link = await last_link("/password/reset")

    response = await post_form(
        client,
        "/password/reset",
        {"token": link.split("token=")[1], "password": "fresh passphrase 1", "password_again": "fresh passphrase 1"},
    )

    assert response.status_code == 302
    assert session_id(client) == old_session
    assert (await client.get("/staff")).status_code == 302
    assert (await login(client, "clerk@example.org", PASSWORD)).status_code == 400
    assert (await login(client, "clerk@example.org", "fresh passphrase 1")).status_code == 302


async def enable_totp(client: Client) -> str:
    page = await client.get("/account/totp")
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page.text)
    assert secret is not None
    code = pyotp.TOTP(secret.group(1)).now()
    assert (await post_form(client, "/account/totp", {"code": code})).status_code == 302
    return secret.group(1)


async def test_totp_login_needs_a_code_and_refuses_a_replayed_one(client: Client) -> None:
    await make_user("clerk@example.org", (Role.CLERK,))
    await login(client, "clerk@example.org")
    secret = await enable_totp(client)
    await post_form(client, "/logout", {})

    first_step = await login(client, "clerk@example.org")
    assert first_step.headers["location"].startswith("/login/totp")
    # Half logged in is not logged in; trying a staff page drops the half login.
    assert (await client.get("/staff")).status_code == 302
    await login(client, "clerk@example.org")
    wrong = await post_form(
        client, "/login/totp", {"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"}
    )
    assert wrong.status_code == 400
    before = session_id(client)
    # The enrolment used this step's code; the next step's code is within the drift window.
    code = pyotp.TOTP(secret).at(time.time() + 30)
    assert (await post_form(client, "/login/totp", {"code": code, "next": "/staff"})).status_code == 302
    assert session_id(client) != before
    assert (await client.get("/staff")).status_code == 200

    await post_form(client, "/logout", {})
    await login(client, "clerk@example.org")
    replay = await post_form(client, "/login/totp", {"code": code})
    assert replay.status_code == 400


async def test_mandatory_totp_for_a_role_forces_enrolment_before_anything_else(client: Client) -> None:
    admin = await make_user("admin@example.org", (Role.ADMIN,))
    await make_user("juror@example.org", (Role.JUROR,))
    await second_factor.set_totp_required(actor_id=admin.id, role=Role.JUROR, required=True)

    response = await login(client, "juror@example.org")

    assert response.headers["location"] == "/account/totp"
    blocked = await client.get("/staff")
    assert blocked.status_code == 302
    assert blocked.headers["location"] == "/account/totp"
    await enable_totp(client)
    assert (await client.get("/staff")).status_code == 200
    refused = await post_form(client, "/account/totp/disable", {"password": PASSWORD})
    assert refused.headers["location"] == "/account/totp"
    assert (await accounts.require_account((await accounts.list_accounts())[1].id)).totp_enabled is True


async def test_making_totp_mandatory_logs_out_holders_without_it(client: Client) -> None:
    admin = await make_user("admin@example.org", (Role.ADMIN,))
    await make_user("juror@example.org", (Role.JUROR,))
    await login(client, "juror@example.org")
    assert (await client.get("/staff")).status_code == 200

    await second_factor.set_totp_required(actor_id=admin.id, role=Role.JUROR, required=True)

    assert (await client.get("/staff")).status_code == 302
