"""Load and fault tests: collected only with ``AMBASSADOR_LOAD_TESTS=1``, which ``make test-load`` sets.

``make test`` (and a bare ``pytest``) never runs them: they take minutes and start servers.
PostgreSQL runs use their own databases ``ambassador_load_*`` on the server named by
``AMBASSADOR_LOAD_POSTGRES_URL`` (default: the local server), dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.load.harness import REPORTS

if os.environ.get("AMBASSADOR_LOAD_TESTS") != "1":
    collect_ignore_glob = ["test_*.py"]

PG_SERVER_URL = os.environ.get("AMBASSADOR_LOAD_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def with_database(server_url: str, name: str, port: int | None = None) -> str:
    parts = urlsplit(server_url)
    netloc = parts.netloc if port is None else f"{parts.netloc.rsplit(':', 1)[0]}:{port}"
    return urlunsplit((parts.scheme, netloc, f"/{name}", parts.query, ""))


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A fresh database ``ambassador_load_<random>``, dropped afterwards; skip if no server answers."""
    import asyncpg

    try:
        admin = await asyncpg.connect(PG_SERVER_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_SERVER_URL}: {exc}")
    name = f"ambassador_load_{secrets.token_hex(4)}"
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield with_database(PG_SERVER_URL, name)
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


async def terminate_backends(database_url: str) -> int:
    """End every session on the given database as a server shutdown does (FATAL 57P01 to each client)."""
    import asyncpg

    admin = await asyncpg.connect(PG_SERVER_URL, timeout=5)
    try:
        ended = await admin.fetchval(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1",
            urlsplit(database_url).path.lstrip("/"),
        )
    finally:
        await admin.close()
    return int(ended)


@pytest.fixture
def workdir() -> Iterator[Path]:
    """The run's own directory (SQLite file, server log, mail files), not pytest's ``tmp_path``.

    Other pytest sessions on the machine prune pytest's numbered temporary directories;
    this one lives until the test ends. ``AMBASSADOR_LOAD_KEEP=1`` keeps it for inspection.
    """
    path = Path(tempfile.mkdtemp(prefix="ambassador-load-"))
    yield path
    if os.environ.get("AMBASSADOR_LOAD_KEEP") == "1":
        sys.stderr.write(f"load test files kept in {path}\n")
    else:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
async def load_database(request: pytest.FixtureRequest, workdir: Path) -> AsyncIterator[str]:
    """An empty database for one run: a SQLite file (WAL) in the work directory, or PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{workdir / 'load.sqlite3'}"
        return
    async with postgres_database() as url:
        yield url


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not REPORTS:
        return
    terminalreporter.section("load and fault test figures")
    for outcome in REPORTS:
        terminalreporter.write_line(f"{outcome.name}:")
        for key, value in outcome.figures.items():
            terminalreporter.write_line(f"  {key}: {value}")
        for problem in outcome.problems:
            terminalreporter.write_line(f"  PROBLEM: {problem}")
