"""Login, sessions, CSRF, roles and throttling through HTTP, as a browser does them."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from ambassador.db import utcnow
from ambassador.enums import Role
from ambassador.settings import Settings
from ambassador.tables import KeyValue
from ambassador.web.app import create_app
from tests.conftest import Client
from tests.factories import PASSWORD, make_user
from tests.helpers import SessionClock, csrf_token, login, post_form, session_id, set_session_cookie, without_tokens


async def test_post_without_csrf_token_is_refused_with_a_clear_page(client: Client) -> None:
    await make_user("admin@example.org", (Role.ADMIN,))
    await csrf_token(client)

    response = await client.post("/login", data={"email": "admin@example.org", "password": PASSWORD})

    assert response.status_code == 403
    assert "Formularz wygasł lub został wysłany z innej strony." in response.text
    assert session_id(client) is None


async def test_login_rotates_the_session_id_and_the_old_id_is_dead(client: Client) -> None:
    await make_user("clerk@example.org", (Role.CLERK,))
    set_session_cookie(client, "attacker-chosen-" + "a" * 48)
    fixed = session_id(client)

    response = await login(client, "clerk@example.org")

    assert response.status_code == 302
    assert response.headers["location"] == "/staff"
    new_id = session_id(client)
    assert new_id is not None
    assert new_id != fixed
    assert (await client.get("/staff")).status_code == 200
    set_session_cookie(client, str(fixed))
    assert (await client.get("/staff")).status_code == 302


async def test_logout_destroys_the_server_side_session(client: Client) -> None:
    await make_user("clerk@example.org", (Role.CLERK,))
    await login(client, "clerk@example.org")
    stolen = session_id(client)
    assert await KeyValue.count().where(KeyValue.key.like(f"%:{stolen}")) == 1

    response = await post_form(client, "/logout", {})

    assert response.status_code == 302
    assert await KeyValue.count().where(KeyValue.key.like(f"%:{stolen}")) == 0
    set_session_cookie(client, str(stolen))
    replay = await client.get("/staff")
    assert replay.status_code == 302
    assert replay.headers["location"] == "/login?next=/staff"


async def test_anonymous_is_redirected_to_login_and_juror_gets_403_on_admin_pages(
    client: Client,
) -> None:
    anonymous = await client.get("/admin/users")
    assert anonymous.status_code == 302
    assert anonymous.headers["location"] == "/login?next=/admin/users"

    await make_user("juror@example.org", (Role.JUROR,))
    await login(client, "juror@example.org")

    assert (await client.get("/staff")).status_code == 200
    denied = await client.get("/admin/users")
    assert denied.status_code == 403
    assert "<h1>Brak dostępu</h1>" in denied.text


async def test_admin_reaches_admin_pages(client: Client) -> None:
    await make_user("admin@example.org", (Role.ADMIN,), name="Ada Admin")
    await login(client, "admin@example.org")

    response = await client.get("/admin/users")

    assert response.status_code == 200
    assert "Ada Admin" in response.text


async def test_an_id_no_row_can_have_is_a_404_not_a_500(client: Client) -> None:
    await make_user("admin@example.org", (Role.ADMIN,))
    await login(client, "admin@example.org")

    statuses = [(await client.get(f"/admin/users/{n}")).status_code for n in (99999999999999999999, 2**31, 0)]

    assert statuses == [404, 404, 404]


async def test_unknown_email_and_wrong_password_get_identical_answers(client: Client) -> None:
    await make_user("clerk@example.org", (Role.CLERK,))

    wrong_password = await login(client, "clerk@example.org", "not the password at all")
    unknown_email = await login(client, "nobody@example.org", "not the password at all")

    assert wrong_password.status_code == unknown_email.status_code == 400
    assert without_tokens(wrong_password.text).replace("clerk@", "X@") == without_tokens(unknown_email.text).replace(
        "nobody@", "X@"
    )
    assert session_id(client) is None


async def test_repeated_failures_throttle_the_account_even_with_the_right_password(
    client: Client,
) -> None:
    await make_user("clerk@example.org", (Role.CLERK,))
    for _ in range(5):
        assert (await login(client, "clerk@example.org", "wrong password here")).status_code == 400

    blocked = await login(client, "clerk@example.org")

    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert session_id(client) is None
    assert (await client.get("/staff")).status_code == 302


async def test_failures_for_unknown_emails_are_throttled_the_same_way(client: Client) -> None:
    for _ in range(5):
        assert (await login(client, "ghost@example.org", "wrong password here")).status_code == 400

    assert (await login(client, "ghost@example.org", "wrong password here")).status_code == 429


async def test_deactivated_account_cannot_log_in(client: Client) -> None:
    from ambassador.domain import accounts

    admin = await make_user("admin@example.org", (Role.ADMIN,))
    clerk = await make_user("clerk@example.org", (Role.CLERK,))
    await accounts.set_active(actor_id=admin.id, user_id=clerk.id, active=False)

    assert (await login(client, "clerk@example.org")).status_code == 400


async def test_role_change_ends_the_users_sessions(client: Client) -> None:
    from ambassador.domain import accounts

    admin = await make_user("admin@example.org", (Role.ADMIN,))
    clerk = await make_user("clerk@example.org", (Role.CLERK,))
    await login(client, "clerk@example.org")
    assert (await client.get("/staff")).status_code == 200

    await accounts.set_roles(actor_id=admin.id, user_id=clerk.id, roles=frozenset({Role.JUROR}))

    assert (await client.get("/staff")).status_code == 302


async def test_admin_changing_roles_through_the_page_is_audited(client: Client) -> None:
    from ambassador.domain import audit

    await make_user("admin@example.org", (Role.ADMIN,))
    juror = await make_user("juror@example.org", (Role.JUROR,))
    await login(client, "admin@example.org")

    response = await post_form(client, f"/admin/users/{juror.id}/roles", {"roles": ["juror", "clerk"]})

    assert response.status_code == 302
    entries = await audit.recent(limit=1)
    assert entries[0]["action"] == "user.roles_changed"
    assert entries[0]["object_id"] == str(juror.id)


async def test_the_last_admin_cannot_remove_their_own_admin_role(client: Client) -> None:
    admin = await make_user("admin@example.org", (Role.ADMIN,))
    await login(client, "admin@example.org")

    response = await post_form(client, f"/admin/users/{admin.id}/roles", {"roles": ["clerk"]})

    assert response.status_code == 400
    assert (await client.get("/admin/users")).status_code == 200


async def test_open_redirect_after_login_is_refused(client: Client) -> None:
    await make_user("clerk@example.org", (Role.CLERK,))

    response = await login(client, "clerk@example.org", next_url="//evil.example/steal")

    assert response.headers["location"] == "/staff"


async def test_password_change_ends_other_sessions_but_keeps_this_one(client: Client, settings: Settings) -> None:
    await make_user("clerk@example.org", (Role.CLERK,))
    await login(client, "clerk@example.org")
    async with AsyncTestClient(app=create_app(settings)) as other:
        other.follow_redirects = False
        await login(other, "clerk@example.org")
        assert (await other.get("/staff")).status_code == 200

        response = await post_form(
            client,
            "/account/password",
            {
                "current_password": PASSWORD,
                "new_password": "a brand new passphrase",
                "new_password_again": "a brand new passphrase",
            },
        )

        assert response.status_code == 302
        assert (await client.get("/staff")).status_code == 200
        assert (await other.get("/staff")).status_code == 302
    assert (await login(client, "clerk@example.org", "a brand new passphrase")).status_code == 302


async def test_a_session_past_its_absolute_lifetime_is_refused(settings: Settings) -> None:
    await make_user("clerk@example.org", (Role.CLERK,))
    short_lived = settings.with_changes(session_absolute_seconds=60)
    async with AsyncTestClient(app=create_app(short_lived)) as client:
        client.follow_redirects = False
        clock = SessionClock(client)
        assert (await login(client, "clerk@example.org")).status_code == 302
        clock.advance(58)
        assert (await client.get("/staff")).status_code == 200

        clock.advance(3)  # the session is now older than its absolute lifetime

        response = await client.get("/staff")
        assert response.status_code == 302
        assert response.headers["location"] == "/login?next=/staff"


async def test_idle_sessions_expire_in_the_store(client: Client, settings: Settings) -> None:
    await make_user("clerk@example.org", (Role.CLERK,))
    await login(client, "clerk@example.org")
    key = f"%:{session_id(client)}"
    stored = await KeyValue.select(KeyValue.expires_at).where(KeyValue.key.like(key)).first()
    assert stored is not None
    remaining = (stored["expires_at"] - utcnow()).total_seconds()
    assert settings.session_idle_seconds - 5 < remaining <= settings.session_idle_seconds

    await KeyValue.update({KeyValue.expires_at: utcnow()}).where(KeyValue.key.like(key))

    assert (await client.get("/staff")).status_code == 302


async def test_failures_from_one_address_across_accounts_are_throttled(settings: Settings) -> None:
    await make_user("clerk@example.org", (Role.CLERK,))
    strict = settings.with_changes(login_max_failures_per_address=3)
    async with AsyncTestClient(app=create_app(strict)) as client:
        client.follow_redirects = False
        for name in ("a", "b", "c"):
            assert (await login(client, f"{name}@example.org", "wrong password here")).status_code == 400

        blocked = await login(client, "clerk@example.org")

        assert blocked.status_code == 429


async def test_a_production_login_sets_the_signed_host_device_cookie(settings: Settings) -> None:
    """ASVS 2.4.1, 3.3.1 (F3): the device cookie that keeps the owner's browser out of an
    attacked account's slow-down is ``__Host-`` prefixed, Secure, HttpOnly and SameSite=Strict."""
    from ambassador.settings import Argon2Params

    await make_user("clerk@example.org", (Role.CLERK,))
    production = settings.with_changes(
        env="production",
        base_url="https://ambassador.example.org",
        smtp_url="smtps://mail.example.org:465",
        argon2=Argon2Params(),
    )
    async with AsyncTestClient(app=create_app(production), base_url="https://testserver.local") as client:
        client.follow_redirects = False
        await client.get("/login")
        token = str(client.cookies["__Host-csrftoken"])
        response = await client.post(
            "/login", data={"email": "clerk@example.org", "password": PASSWORD, "_csrf_token": token}
        )

    assert response.status_code == 302
    [device] = [c for c in response.headers.get_list("set-cookie") if c.startswith("__Host-device=")]
    attributes = {part.strip().split("=")[0].lower() for part in device.split(";")[1:]}
    assert attributes == {"max-age", "path", "samesite", "secure", "httponly"}
    assert "Path=/" in device
    assert "SameSite=strict" in device or "SameSite=Strict" in device
