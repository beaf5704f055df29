"""Rotating AMBASSADOR_SECRET_KEY: a form refused for an old token works again after one reload."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from ambassador.enums import Role
from ambassador.settings import Argon2Params, Settings
from ambassador.web.app import create_app
from tests.factories import PASSWORD, make_user
from tests.helpers import login


async def test_after_a_key_rotation_the_refused_form_works_after_reloading_the_page(settings: Settings) -> None:
    """Bug: the old key's cookie stayed until the browser closed, and every form was refused."""
    await make_user("clerk@example.org", (Role.CLERK,))
    async with AsyncTestClient(app=create_app(settings)) as before:
        await before.get("/login")
        old_cookie = before.cookies["csrftoken"]
    rotated = create_app(settings.with_changes(secret_key="a-new-secret-" + "y" * 40))
    async with AsyncTestClient(app=rotated) as client:
        client.follow_redirects = False
        client.cookies.set("csrftoken", old_cookie, domain="testserver.local")

        refused = await client.post(
            "/login", data={"email": "clerk@example.org", "password": PASSWORD, "_csrf_token": old_cookie}
        )
        assert refused.status_code == 403
        assert "csrftoken" not in client.cookies  # dropped by the refusal

        reloaded = await client.get("/login")
        assert reloaded.status_code == 200
        assert client.cookies["csrftoken"] != old_cookie
        logged_in = await login(client, "clerk@example.org")
        assert (logged_in.status_code, logged_in.headers["location"]) == (302, "/staff")
        assert (await client.get("/staff")).status_code == 200


async def test_the_refusal_replaces_a_host_cookie_with_its_own_attributes(settings: Settings) -> None:
    production = settings.with_changes(
        env="production",
        base_url="https://ambassador.example.org",
        smtp_url="smtps://mail.example.org:465",
        argon2=Argon2Params(),
    )
    async with AsyncTestClient(app=create_app(production), base_url="https://testserver.local") as client:
        refused = await client.post("/login", data={"email": "x@example.org", "password": "y", "_csrf_token": "z"})

    assert refused.status_code == 403
    assert refused.headers.get_list("set-cookie") == ['__Host-csrftoken=""; Max-Age=0; Path=/; SameSite=lax; Secure']
