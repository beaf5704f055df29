"""When the database is gone: clean 503 answers, readiness says so, nothing leaks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteTransaction

from ambassador.db import write_transaction
from ambassador.enums import Role
from ambassador.piccolo_conf import DB
from ambassador.web import nominate
from ambassador.web.stores import DatabaseStore
from tests.conftest import IS_POSTGRES, Client
from tests.factories import make_user
from tests.helpers import login
from tests.smtp import free_port


@pytest.fixture
def broken_database(tmp_path: Path) -> Iterator[None]:
    """The database becomes unreachable: SQLite's file cannot be opened; PostgreSQL's new
    connections (the tests run without a pool) go to a port nobody listens on."""
    if IS_POSTGRES:
        assert isinstance(DB, PostgresEngine)
        working_config = DB.config
        DB.config = {"dsn": f"postgresql://postgres@127.0.0.1:{free_port()}/gone"}
        yield
        DB.config = working_config
    else:
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
    assert "postgres" not in response.text.lower()


# What a request meets when PostgreSQL restarts under it (found by tests/load): the server
# ends the session; the rollback on the lost connection fails; resetting it for the pool fails.
LOST_CONNECTION = [
    (asyncpg.AdminShutdownError, "terminating connection due to administrator command"),
    (asyncpg.InterfaceError, "cannot call Transaction.rollback(): the underlying connection is closed"),
    (asyncpg.InternalClientError, "cannot switch to state 15; another operation (2) is in progress"),
]


@pytest.mark.parametrize(("error", "message"), LOST_CONNECTION, ids=[error.__name__ for error, _ in LOST_CONNECTION])
async def test_a_postgresql_restart_mid_request_answers_503(
    client: Client, monkeypatch: pytest.MonkeyPatch, error: type[Exception], message: str
) -> None:
    async def restarting() -> None:
        raise error(message)

    monkeypatch.setattr(nominate, "open_edition_now", restarting)
    monkeypatch.setattr(client.app.state.page_cache, "read", restarting)  # the page cache reads it too

    response = await client.get("/nominate", follow_redirects=True, headers={"accept-language": "en"})

    assert response.status_code == 503
    assert response.headers["retry-after"] == "60"


async def test_misusing_a_live_connection_is_still_a_500(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    async def misused() -> None:
        raise asyncpg.InterfaceError("cannot perform operation: another operation is in progress")

    monkeypatch.setattr(nominate, "open_edition_now", misused)
    monkeypatch.setattr(client.app.state.page_cache, "read", misused)

    assert (await client.get("/nominate", follow_redirects=True)).status_code == 500


async def test_a_failed_rollback_leaves_no_transaction_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    # Piccolo keeps a transaction current when its rollback fails; the request's session
    # write then ran on the dead connection and answered 500. The rollback really happens,
    # then the connection is closed under it, as a restart of PostgreSQL does.
    if IS_POSTGRES:

        async def connection_lost(transaction: PostgresTransaction) -> None:
            await transaction.transaction.rollback()
            await transaction.connection.close()
            raise asyncpg.InterfaceError("cannot call Transaction.rollback(): the underlying connection is closed")

        monkeypatch.setattr(PostgresTransaction, "rollback", connection_lost)
    else:

        async def sqlite_connection_lost(transaction: SQLiteTransaction) -> None:
            await transaction.connection.execute("ROLLBACK")
            await transaction.connection.close()
            raise asyncpg.InterfaceError("cannot call Transaction.rollback(): the underlying connection is closed")

        monkeypatch.setattr(SQLiteTransaction, "rollback", sqlite_connection_lost)

    with pytest.raises(asyncpg.InterfaceError):
        async with write_transaction():
            raise ValueError("the write failed")

    assert not DB.transaction_exists()
    assert [dict(row) for row in await DB.run_ddl("SELECT 1 AS ok")] == [{"ok": 1}]


@pytest.mark.skipif(not IS_POSTGRES, reason="pg_terminate_backend is PostgreSQL's; SQLite has no server to restart")
async def test_a_connection_terminated_mid_transaction_leaves_no_transaction_behind() -> None:
    # A real loss: the server ends the transaction's connection (as a restart does).
    assert isinstance(DB, PostgresEngine)
    # The statement meets the terminated session (asyncpg's error varies with timing); the
    # rollback then finds the connection closed.
    with pytest.raises(asyncpg.InterfaceError, match=r"cannot call Transaction.rollback\(\)"):
        async with write_transaction():
            pid = (await DB.run_ddl("SELECT pg_backend_pid() AS pid"))[0]["pid"]
            admin = await asyncpg.connect(DB.config["dsn"])
            try:
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid) is True
            finally:
                await admin.close()
            await DB.run_ddl("SELECT 1 AS ok")

    assert not DB.transaction_exists()
    assert [dict(row) for row in await DB.run_ddl("SELECT 1 AS ok")] == [{"ok": 1}]


async def test_losing_the_database_while_the_session_is_saved_answers_503(
    logged_in: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The session is written as the response starts, after Litestar's exception handlers.
    async def lost(*args: object, **kwargs: object) -> None:
        raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")

    monkeypatch.setattr(DatabaseStore, "set", lost)

    response = await logged_in.get("/staff", headers={"accept-language": "en"})

    assert response.status_code == 503
    assert response.headers["retry-after"] == "60"
    assert "temporarily unavailable" in response.text


async def test_logs_carry_no_password_token_or_query_string(capfd: pytest.CaptureFixture[str], client: Client) -> None:
    await make_user("clerk@example.org", (Role.CLERK,))
    await login(client, "clerk@example.org", "a wrong secret passphrase")
    await client.get("/password/reset?token=very-secret-token-value")

    logged = capfd.readouterr().err

    assert '"path": "/login"' in logged
    assert "a wrong secret passphrase" not in logged
    assert "very-secret-token-value" not in logged
    assert "clerk@example.org" not in logged
