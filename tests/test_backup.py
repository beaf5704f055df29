"""`ambassador backup` and `ambassador restore`: real databases, the real command in a subprocess."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from ambassador import backup
from ambassador.domain import audit_verify, laureate_import
from ambassador.enums import Role
from ambassador.piccolo_conf import DB
from ambassador.tables import AuditEntry, Edition
from tests.conftest import IS_POSTGRES, PG_SERVER_URL, SECRET
from tests.factories import PASSWORD, make_edition, make_user

sqlite_only = pytest.mark.skipif(IS_POSTGRES, reason="the SQLite backup is tested on the SQLite run")

Rows = dict[str, list[tuple[Any, ...]]]


def run_cli(database_url: str, tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AMBASSADOR_DATABASE_URL": database_url,
        "AMBASSADOR_VAR_DIR": str(tmp_path / "var"),
        "AMBASSADOR_SECRET_KEY": SECRET,
        "AMBASSADOR_ARGON2_MEMORY_COST": "1024",
    }
    return subprocess.run(
        [sys.executable, "-m", "ambassador", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_backup_report(done: subprocess.CompletedProcess[str], path: Path) -> None:
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].endswith(f"written to {path}")
    assert lines[1:] == [f"size: {path.stat().st_size} bytes", f"sha256: {sha256(path)}"]


def sqlite_file(database_url: str) -> Path:
    return Path(database_url.removeprefix("sqlite:///"))


def sqlite_rows(path: Path) -> Rows:
    """Every row of every table (SQLite's own sequence table included)."""
    conn = sqlite3.connect(path)
    try:
        names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in names}  # noqa: S608
    finally:
        conn.close()


def set_journal_mode(path: Path, mode: str) -> None:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute(f"PRAGMA journal_mode={mode}").fetchone()[0] == mode
    finally:
        conn.close()


async def make_data() -> None:
    """A clerk, an open edition and their audit entries, all through the domain."""
    clerk = await make_user("clerk@example.org", (Role.CLERK,))
    await make_edition(clerk_id=clerk.id)
    assert (await audit_verify.verify_chain()).checked >= 3


@sqlite_only
@pytest.mark.parametrize("journal_mode", ["wal", "delete"])
async def test_sqlite_round_trip_brings_back_exactly_the_data(
    tmp_path: Path, database_url: str, journal_mode: str
) -> None:
    database = sqlite_file(database_url)
    set_journal_mode(database, journal_mode)
    await make_data()
    before = sqlite_rows(database)
    copy = tmp_path / "saved.sqlite3"

    assert_backup_report(run_cli(database_url, tmp_path, "backup", str(copy)), copy)

    await make_user("late@example.org")
    await Edition.update({Edition.name_en: "Changed"}).where(Edition.activity_year == 2025)
    # As a database owner can: the append-only triggers dropped (tests/test_audit.py).
    await DB.run_ddl("DROP TRIGGER audit_entry_no_delete")
    await AuditEntry.delete().where(AuditEntry.id == 1)
    assert not (await audit_verify.verify_chain()).ok
    changed = sqlite_rows(database)
    assert changed != before

    refused = run_cli(database_url, tmp_path, "restore", str(copy))
    assert refused.returncode == 1
    assert "has data" in refused.stderr
    assert "--yes" in refused.stderr
    assert sqlite_rows(database) == changed

    done = run_cli(database_url, tmp_path, "restore", str(copy), "--yes")

    assert done.returncode == 0, done.stderr
    assert "integrity_check: ok" in done.stdout.splitlines()
    assert f"audit chain intact: {len(before['audit_entry'])} entries verified" in done.stdout
    assert sqlite_rows(database) == before
    assert (await audit_verify.verify_chain()).ok
    assert run_cli(database_url, tmp_path, "audit", "verify").returncode == 0


@sqlite_only
@pytest.mark.parametrize("journal_mode", ["wal", "delete"])
async def test_a_backup_during_another_write_transaction_holds_the_committed_state(
    tmp_path: Path, database_url: str, journal_mode: str
) -> None:
    database = sqlite_file(database_url)
    set_journal_mode(database, journal_mode)
    await make_data()
    committed = sqlite_rows(database)
    copy = tmp_path / "during-write.sqlite3"
    writer = sqlite3.connect(database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE app_user SET display_name = 'Not Committed'")
        writer.execute("DELETE FROM criterion")

        done = run_cli(database_url, tmp_path, "backup", str(copy))

        writer.execute("COMMIT")
    finally:
        writer.close()
    assert_backup_report(done, copy)
    assert sqlite_rows(copy) == committed
    assert sqlite_rows(database) != committed
    saved = sqlite3.connect(copy)
    try:
        assert saved.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert saved.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one self-contained file
    finally:
        saved.close()


@sqlite_only
async def test_backup_never_overwrites_unless_forced(tmp_path: Path, database_url: str) -> None:
    await make_data()
    first = run_cli(database_url, tmp_path, "backup")
    assert first.returncode == 0, first.stderr
    [made] = (tmp_path / "var" / "backups").iterdir()
    assert made.name.startswith("ambassador-")
    assert made.suffix == ".sqlite3"
    assert made.stat().st_mode & 0o077 == 0  # personal data: the owner's only
    assert_backup_report(first, made)
    existing = tmp_path / "existing.sqlite3"
    existing.write_bytes(b"keep me")

    refused = run_cli(database_url, tmp_path, "backup", str(existing))
    assert refused.returncode == 1
    assert "already exists" in refused.stderr
    assert "--force" in refused.stderr
    assert existing.read_bytes() == b"keep me"

    forced = run_cli(database_url, tmp_path, "backup", str(existing), "--force")
    assert_backup_report(forced, existing)
    assert sqlite_rows(existing) == sqlite_rows(sqlite_file(database_url))
    assert sorted(name for name in await asyncio.to_thread(os.listdir, tmp_path) if name.endswith(".part")) == []


@sqlite_only
async def test_restore_refuses_what_is_not_a_backup_and_changes_nothing(tmp_path: Path, database_url: str) -> None:
    database = sqlite_file(database_url)
    await make_data()
    text = tmp_path / "notes.txt"
    text.write_text("SQLite is not in this file\n", encoding="utf-8")
    foreign = tmp_path / "foreign.sqlite3"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE thing (x)")
        conn.execute("INSERT INTO thing VALUES (1)")
    newer = tmp_path / "newer.sqlite3"
    assert run_cli(database_url, tmp_path, "backup", str(newer)).returncode == 0
    with sqlite3.connect(newer) as conn:
        conn.execute(
            "INSERT INTO migration (name, app_name, ran_on) VALUES ('2099-01-01T00:00:00:000000', 'ambassador', '')"
        )
    before = database.read_bytes()
    cases = [
        (tmp_path / "missing.sqlite3", f"no such file: {tmp_path / 'missing.sqlite3'}"),
        (tmp_path, "is not a file"),
        (text, f"{text} is not an SQLite database"),
        (foreign, f"{foreign} is not a backup of this app: it has no migration table"),
        (newer, "made by a newer version of the app: its migrations 2099-01-01T00:00:00:000000"),
    ]

    for source, message in cases:
        done = run_cli(database_url, tmp_path, "restore", str(source), "--yes")
        assert (done.returncode, done.stdout) == (1, ""), done.stderr
        assert done.stderr.startswith("restore refused: ")
        assert message in done.stderr

    assert database.read_bytes() == before


@sqlite_only
async def test_a_restored_backup_with_a_broken_audit_chain_exits_2(tmp_path: Path, database_url: str) -> None:
    await make_data()
    copy = tmp_path / "forged.sqlite3"
    assert run_cli(database_url, tmp_path, "backup", str(copy)).returncode == 0
    with sqlite3.connect(copy) as conn:
        conn.execute("DROP TRIGGER audit_entry_no_update")  # as the copy's owner can
        conn.execute("UPDATE audit_entry SET action = 'forged' WHERE id = 2")

    done = run_cli(database_url, tmp_path, "restore", str(copy), "--yes")

    assert done.returncode == 2
    assert "integrity_check: ok" in done.stdout
    assert (
        "audit chain BROKEN at entry 2: content does not match its hash (1 entries before it verified)" in done.stderr
    )
    assert "restore FAILED verification" in done.stderr


@sqlite_only
async def test_a_backup_older_than_the_code_is_restored_with_a_call_to_migrate(
    tmp_path: Path, database_url: str
) -> None:
    copy = tmp_path / "older.sqlite3"
    assert run_cli(database_url, tmp_path, "backup", str(copy)).returncode == 0
    with sqlite3.connect(copy) as conn:
        conn.execute("DELETE FROM migration WHERE id = (SELECT max(id) FROM migration)")

    done = run_cli(database_url, tmp_path, "restore", str(copy))

    assert done.returncode == 0, done.stderr
    assert "predates 1 migrations of this code: run `ambassador migrate`" in done.stdout
    assert "integrity_check: ok" in done.stdout


# --- PostgreSQL: a database of its own, created and dropped here --------------------------------

PG_SERVER = (
    os.environ.get("AMBASSADOR_TEST_POSTGRES_URL") or PG_SERVER_URL or "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _with_database(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


async def _on_server(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_SERVER, timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh database ``ambassador_backup_<random>``, dropped afterwards."""
    missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (apt-get install postgresql-client)")
    name = f"ambassador_backup_{secrets.token_hex(6)}"
    try:
        asyncio.run(_on_server(f"CREATE DATABASE {name}"))
    except (OSError, TimeoutError) as exc:
        pytest.skip(f"no PostgreSQL server answers at {urlsplit(PG_SERVER).hostname}: {exc}")
    try:
        yield _with_database(PG_SERVER, name)
    finally:
        asyncio.run(_on_server(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


async def _pg_rows(url: str) -> Rows:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        names = [
            r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        rows: Rows = {
            name: sorted((tuple(r) for r in await conn.fetch(f'SELECT * FROM public."{name}"')), key=repr)  # noqa: S608
            for name in names
        }
        sequences = await conn.fetch("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")
        rows["pg_sequences"] = sorted((tuple(r) for r in sequences), key=repr)
        return rows
    finally:
        await conn.close()


async def _pg_execute(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def test_postgres_round_trip_brings_back_exactly_the_data(tmp_path: Path, pg_database: str) -> None:
    url = pg_database
    assert run_cli(url, tmp_path, "migrate").returncode == 0
    made = run_cli(url, tmp_path, "users", "create", "clerk@example.org", "--role", "clerk", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    imported = run_cli(url, tmp_path, "laureates", "import", str(laureate_import.SHIPPED))
    assert imported.returncode == 0, imported.stderr
    before = asyncio.run(_pg_rows(url))
    assert len(before["audit_entry"]) >= 2
    assert before["edition"]
    dump = tmp_path / "saved.dump"

    assert_backup_report(run_cli(url, tmp_path, "backup", str(dump)), dump)
    assert dump.read_bytes().startswith(b"PGDMP")

    late = run_cli(url, tmp_path, "users", "create", "late@example.org", "--role", "juror", stdin=PASSWORD + "\n")
    assert late.returncode == 0, late.stderr
    asyncio.run(_pg_execute(url, "UPDATE edition SET name_en = 'Changed'"))
    asyncio.run(_pg_execute(url, "ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"))
    asyncio.run(_pg_execute(url, "UPDATE audit_entry SET action = 'forged' WHERE id = 1"))
    assert run_cli(url, tmp_path, "audit", "verify").returncode == 2
    changed = asyncio.run(_pg_rows(url))
    assert changed != before

    refused = run_cli(url, tmp_path, "restore", str(dump))
    assert refused.returncode == 1
    assert "has data" in refused.stderr
    assert asyncio.run(_pg_rows(url)) == changed

    done = run_cli(url, tmp_path, "restore", str(dump), "--yes")

    assert done.returncode == 0, done.stderr
    assert f"audit chain intact: {len(before['audit_entry'])} entries verified" in done.stdout
    assert asyncio.run(_pg_rows(url)) == before
    assert run_cli(url, tmp_path, "audit", "verify").returncode == 0
    # The sequences came back too: the next account gets a fresh id.
    again = run_cli(url, tmp_path, "users", "create", "again@example.org", "--role", "juror", stdin=PASSWORD + "\n")
    assert again.returncode == 0, again.stderr
    password = urlsplit(url).password
    if password:
        assert all(password not in output for output in (made.stdout, done.stdout, refused.stderr))


def test_the_postgres_password_goes_to_the_environment_not_the_command_line() -> None:
    dsn, env = backup.pg_connection("postgresql://app:s%40cret@db.example.org:5433/amb?sslmode=require")

    assert dsn == "postgresql://app@db.example.org:5433/amb?sslmode=require"
    assert env["PGPASSWORD"] == "s@cret"
