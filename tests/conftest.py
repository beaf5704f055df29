"""Test set-up: a real database per test (SQLite file copy, or PostgreSQL truncated after).

``AMBASSADOR_TEST_DATABASE`` selects PostgreSQL: it names a server's maintenance database,
and the tests run in a fresh database ``ambassador_test`` (or ``AMBASSADOR_TEST_DATABASE_NAME``)
created from the migrations.
The environment is set before ``ambassador`` is imported, because Piccolo binds its engine
at import time.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

PG_SERVER_URL = os.environ.get("AMBASSADOR_TEST_DATABASE", "")
# The database the PostgreSQL run creates (and drops): runs side by side need their own.
PG_TEST_NAME = os.environ.get("AMBASSADOR_TEST_DATABASE_NAME", "ambassador_test")
_TMP = Path(tempfile.mkdtemp(prefix="ambassador-tests-"))
_TEMPLATE = _TMP / "template.sqlite3"


def _pg_database_url(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


if PG_SERVER_URL:
    DATABASE_URL = _pg_database_url(PG_SERVER_URL, PG_TEST_NAME)
else:
    DATABASE_URL = f"sqlite:///{_TEMPLATE}"


async def _recreate_pg_database() -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_SERVER_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{PG_TEST_NAME}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{PG_TEST_NAME}"')
    finally:
        await conn.close()


if PG_SERVER_URL:
    # Before the engine is built: Piccolo asks the server for its version at import time.
    asyncio.run(_recreate_pg_database())
os.environ["AMBASSADOR_DATABASE_URL"] = DATABASE_URL
os.environ["PICCOLO_CONF"] = "ambassador.piccolo_conf"
# The audit log's HMAC key for this process and the commands the tests run (docs/audit.md).
AUDIT_KEY = "test-audit-key-" + "k" * 40
os.environ["AMBASSADOR_AUDIT_KEY"] = AUDIT_KEY

from litestar import Litestar  # noqa: E402
from litestar.testing import AsyncTestClient  # noqa: E402

from ambassador.domain import audit  # noqa: E402
from ambassador.piccolo_conf import DB  # noqa: E402
from ambassador.settings import Argon2Params, Settings  # noqa: E402
from ambassador.web.app import create_app  # noqa: E402

Client = AsyncTestClient[Litestar]

CHEAP_ARGON2 = Argon2Params(time_cost=1, memory_cost=1024, parallelism=1)
SECRET = "test-secret-" + "x" * 40
IS_POSTGRES = bool(PG_SERVER_URL)


async def _migrate() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards("all")
    assert result.success, result.message


@pytest.fixture(scope="session")
def migrated() -> Iterator[None]:
    """Build the schema once from the real migrations (this also tests them)."""
    asyncio.run(_migrate())
    yield
    shutil.rmtree(_TMP, ignore_errors=True)


async def _truncate_all() -> None:
    from ambassador.piccolo_app import APP_CONFIG

    names = ", ".join(f'"{t._meta.tablename}"' for t in APP_CONFIG.table_classes)
    await DB.run_ddl(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture(autouse=True)
def database_url(migrated: None, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database for this test; its URL for subprocesses."""
    if IS_POSTGRES:
        yield DATABASE_URL
        asyncio.run(_truncate_all())
        return
    path = tmp_path / "db.sqlite3"
    shutil.copyfile(_TEMPLATE, path)
    DB.path = str(path)  # type: ignore[attr-defined]
    yield f"sqlite:///{path}"


@pytest.fixture(autouse=True)
def audit_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[audit.AuditConfig]:
    """The audit key, and an anchor file of this test's own (also for the commands it runs)."""
    anchors = tmp_path / "var" / "audit-anchors.jsonl"
    monkeypatch.setenv("AMBASSADOR_AUDIT_ANCHOR_FILE", str(anchors))
    chosen = audit.AuditConfig(keyring=audit.Keyring(AUDIT_KEY), anchor_file=anchors)
    audit.configure(chosen)
    yield chosen
    audit.configure(None)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env="development",
        database_url=database_url,
        secret_key=SECRET,
        audit_key=AUDIT_KEY,
        var_dir=tmp_path / "var",
        argon2=CHEAP_ARGON2,
        db_pool=False,
        background_tasks=False,
        base_url="http://testserver.local",
        # Tests change the database directly between requests: read the stamp every time.
        archive_cache_seconds=0.0,
        edition_cache_seconds=0.0,
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        test_client.follow_redirects = False  # assert on redirects, as a browser sees them
        yield test_client


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real clamd (tests/clamav.py) for the whole session: its AMBASSADOR_CLAMD address."""
    from tests.clamav import clamd_daemon

    with clamd_daemon(tmp_path_factory.mktemp("clamd")) as address:
        yield address
