"""When the database is gone: clean 503 answers, readiness says so, nothing leaks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ambassador.enums import Role
from ambassador.piccolo_conf import DB
from tests.conftest import IS_POSTGRES, Client
from tests.factories import make_user
from tests.helpers import login

pytestmark = pytest.mark.skipif(IS_POSTGRES, reason="breaks the SQLite file path; PostgreSQL outages are issue 6")


@pytest.fixture
def broken_database(tmp_path: Path) -> Iterator[None]:
    working = DB.path  # type: ignore[attr-defined]
    DB.path = str(tmp_path / "missing-dir" / "db.sqlite3")  # type: ignore[attr-defined]
    yield
    DB.path = working  # type: ignore[attr-defined]


@pytest.fixture
async def logged_in(client: Client) -> Client:
    await make_user("clerk@example.org", (Role.CLERK,))
    await login(client, "clerk@example.org")
    return client


async def test_readiness_fails_while_the_database_is_unreachable(client: Client, broken_database: None) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert (await client.get("/healthz")).status_code == 200


async def test_a_page_needing_the_database_answers_503_with_retry_after(
    logged_in: Client, broken_database: None
) -> None:
    response = await logged_in.get("/staff", headers={"accept-language": "en"})

    assert response.status_code == 503
    assert response.headers["retry-after"] == "60"
    assert "temporarily unavailable" in response.text
    assert "Traceback" not in response.text
    assert "sqlite" not in response.text.lower()


async def test_logs_carry_no_password_token_or_query_string(capfd: pytest.CaptureFixture[str], client: Client) -> None:
    await make_user("clerk@example.org", (Role.CLERK,))
    await login(client, "clerk@example.org", "a wrong secret passphrase")
    await client.get("/password/reset?token=very-secret-token-value")

    logged = capfd.readouterr().err

    assert '"path": "/login"' in logged
    assert "a wrong secret passphrase" not in logged
    assert "very-secret-token-value" not in logged
    assert "clerk@example.org" not in logged
