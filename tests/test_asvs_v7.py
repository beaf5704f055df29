"""ASVS 5.0 chapter V7 (sessions): the controls of docs/security.md's table that no other
test file traces. Each test fails when its control is removed.
"""

from __future__ import annotations

import re

from litestar.testing import AsyncTestClient

from ambassador.domain import accounts
from ambassador.enums import Role
from ambassador.settings import Settings
from ambassador.tables import KeyValue, User
from ambassador.web.app import create_app
from tests.conftest import Client
from tests.factories import make_user
from tests.helpers import login, session_id

LOGOUT_FORM = re.compile(r'<form[^>]*action="/logout"[^>]*method="post"|<form[^>]*method="post"[^>]*action="/logout"')


async def test_session_ids_are_256_bit_random_reference_tokens(settings: Settings) -> None:
    """ASVS 7.2.2, 7.2.3: each login gets a fresh reference token of 64 hex characters
    (32 bytes from the CSPRNG); the cookie holds only that id and the data stays server-side."""
    await make_user("clerk@example.org", (Role.CLERK,))
    ids = []
    for _ in range(3):
        async with AsyncTestClient(app=create_app(settings)) as client:
            client.follow_redirects = False
            await login(client, "clerk@example.org")
            ids.append(session_id(client))
    assert [bool(re.fullmatch(r"[0-9a-f]{64}", str(i))) for i in ids] == [True, True, True]
    assert len(set(ids)) == 3
    stored = [await KeyValue.count().where(KeyValue.key.like(f"%:{i}")) for i in ids]
    assert stored == [1, 1, 1]


async def test_deactivating_an_account_ends_its_live_session(client: Client) -> None:
    """ASVS 7.4.2: an admin's deactivation ends the user's session at once: the next request
    with the same cookie is sent to the login page."""
    admin = await make_user("admin@example.org", (Role.ADMIN,))
    clerk = await make_user("clerk@example.org", (Role.CLERK,))
    await login(client, "clerk@example.org")
    assert (await client.get("/staff")).status_code == 200

    await accounts.set_active(actor_id=admin.id, user_id=clerk.id, active=False)

    after = await client.get("/staff")
    assert (after.status_code, after.headers["location"]) == (302, "/login?next=/staff")


async def test_an_account_disabled_outside_the_application_loses_its_session(client: Client) -> None:
    """ASVS 7.4.2: the active flag itself is read on every request, so an account disabled
    by a database change alone (a script, a DBA; no session epoch bump) is signed out too."""
    clerk = await make_user("clerk@example.org", (Role.CLERK,))
    await login(client, "clerk@example.org")
    assert (await client.get("/staff")).status_code == 200

    await User.update({User.is_active: False}).where(User.id == clerk.id)

    assert (await client.get("/staff")).status_code == 302


async def test_reactivation_does_not_revive_the_old_session(client: Client) -> None:
    """ASVS 7.4.2: a session ended by deactivation stays dead after the account is active again."""
    admin = await make_user("admin@example.org", (Role.ADMIN,))
    clerk = await make_user("clerk@example.org", (Role.CLERK,))
    await login(client, "clerk@example.org")
    await accounts.set_active(actor_id=admin.id, user_id=clerk.id, active=False)
    await accounts.set_active(actor_id=admin.id, user_id=clerk.id, active=True)

    assert (await client.get("/staff")).status_code == 302


async def test_every_signed_in_page_has_a_logout_button(client: Client) -> None:
    """ASVS 7.4.4: every page a signed-in user reaches shows the logout form (a POST button
    in the header), in each area: dashboard, account, administration, clerk and jury."""
    await make_user("all@example.org", (Role.ADMIN, Role.CLERK, Role.JUROR))
    await login(client, "all@example.org")
    pages = ["/staff", "/account", "/account/totp", "/admin/users", "/admin/audit", "/staff/editions", "/jury"]

    missing = []
    for path in pages:
        response = await client.get(path)
        assert response.status_code == 200, path
        if not LOGOUT_FORM.search(response.text):
            missing.append(path)
    assert missing == []


async def test_no_session_is_created_without_an_explicit_login(client: Client) -> None:
    """ASVS 7.6.2: browsing, reading the login page or failing to log in creates no session:
    only a successful login POST does."""
    await make_user("clerk@example.org", (Role.CLERK,))
    for path in ("/", "/login", "/laureates", "/nominate", "/staff", "/password/forgot"):
        await client.get(path)
    await login(client, "clerk@example.org", "a wrong password")
    # A protected page answers an anonymous visitor with an empty ``session=null`` cookie
    # (Litestar's), which names no stored session: nothing is kept server-side.
    assert session_id(client) in (None, "null")
    assert await KeyValue.count() == 0

    await login(client, "clerk@example.org")
    assert re.fullmatch(r"[0-9a-f]{64}", str(session_id(client)))
    assert await KeyValue.count() == 1
