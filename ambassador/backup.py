"""Backups and restores: SQLite's online backup, ``pg_dump`` / ``pg_restore`` for PostgreSQL.

A backup is written to a temporary file beside its target and gets its name only when it is
complete and checked, so a file with the final name is always whole. A restore checks the
file before it changes anything (it is a database of this app, its migrations are known to
this code, the target is empty or the operator said ``--yes``) and then replaces the data in
one step: SQLite's backup API into the target (one transaction), ``pg_restore
--single-transaction`` on PostgreSQL. The app must be stopped during a restore.

The PostgreSQL password is handed to the client tools in ``PGPASSWORD``, never on their
command line, and never printed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import re
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

from ambassador.settings import Settings

if TYPE_CHECKING:
    from ambassador.domain.audit_verify import ChainReport

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
APP_NAME = "ambassador"
MIGRATION_TABLE = "migration"
BUSY_TIMEOUT_SECONDS = 30
INSTALL_CLIENT = (
    "install the PostgreSQL client tools (Debian/Ubuntu: apt-get install postgresql-client) "
    "in a version at least as new as the server"
)


class BackupError(Exception):
    """The operator asked for something that cannot be done; nothing was changed (exit 1)."""


class VerificationFailed(Exception):
    """A check of the data failed (exit 2)."""


@dataclass(frozen=True)
class BackupFile:
    path: Path
    size: int
    sha256: str


@dataclass(frozen=True)
class RestoreReport:
    source: BackupFile
    database: str
    pending_migrations: tuple[str, ...]
    integrity: str | None  # SQLite's integrity_check ("ok"); None on PostgreSQL
    chain: ChainReport | None  # None when pending migrations must run first

    @property
    def ok(self) -> bool:
        return self.integrity in (None, "ok") and (self.chain is None or self.chain.ok)


def describe(path: Path) -> BackupFile:
    """The file's size and SHA-256, as printed after a backup or a restore."""
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return BackupFile(path=path, size=path.stat().st_size, sha256=digest)


def default_path(settings: Settings, now: dt.datetime | None = None) -> Path:
    stamp = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = ".sqlite3" if settings.is_sqlite else ".dump"
    return settings.backup_dir / f"ambassador-{stamp}{suffix}"


def database_label(settings: Settings) -> str:
    """The configured database as it may be printed: the SQLite path, or the URL without password."""
    if settings.is_sqlite:
        return str(sqlite_path(settings.database_url))
    dsn, _ = pg_connection(settings.database_url)
    return dsn


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///`` URL, read the way ``piccolo_conf`` reads it."""
    return Path(url.removeprefix("sqlite:///"))


def pg_connection(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and the environment for libpq tools (PGPASSWORD)."""
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    env = dict(os.environ)
    user, colon, password = userinfo.partition(":")
    if colon:
        env["PGPASSWORD"] = unquote(password)
    netloc = f"{user}@{hostport}" if at else hostport
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), env


# --- backup ---------------------------------------------------------------------------------


async def backup(settings: Settings, target: Path | None = None, *, force: bool = False) -> BackupFile:
    """Copy the configured database to ``target`` (default under var/backups/)."""
    target = target or default_path(settings)
    temporary = _temporary_beside(target, force=force)
    try:
        if settings.is_sqlite:
            await asyncio.to_thread(_sqlite_backup, sqlite_path(settings.database_url), temporary)
        else:
            await _pg_dump(settings.database_url, temporary)
        _install(temporary, target, force=force)
    finally:
        _discard(temporary)
    return describe(target)


def _temporary_beside(target: Path, *, force: bool) -> Path:
    if target.is_dir():
        raise BackupError(f"{target} is a directory; give a file name")
    if target.exists() and not force:
        raise BackupError(f"{target} already exists; choose another name or add --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkstemp creates the file readable by its owner only: backups hold personal data.
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    return Path(name)


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)


def _sqlite_uri(path: Path, mode: str) -> str:
    return f"{path.resolve().as_uri()}?mode={mode}"


def _require_sqlite_file(path: Path, what: str) -> None:
    if not path.is_file():
        raise BackupError(f"{what} {path} does not exist")
    with path.open("rb") as handle:
        if handle.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise BackupError(f"{what} {path} is not an SQLite database")


def _integrity(conn: sqlite3.Connection) -> str:
    rows = conn.execute("PRAGMA integrity_check").fetchall()
    return "; ".join(str(row[0]) for row in rows)


def _sqlite_backup(source: Path, temporary: Path) -> None:
    """SQLite's online backup in one step: a consistent snapshot, while the app goes on writing."""
    _require_sqlite_file(source, "the database")
    try:
        src = sqlite3.connect(_sqlite_uri(source, "ro"), uri=True, timeout=BUSY_TIMEOUT_SECONDS)
        try:
            dst = sqlite3.connect(temporary, isolation_level=None)
            try:
                src.backup(dst)
                # One self-contained file: the copy must not depend on a -wal file beside it.
                dst.execute("PRAGMA journal_mode=DELETE")
                result = _integrity(dst)
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f"the backup of {source} failed: {exc}") from exc
    if result != "ok":
        raise VerificationFailed(f"the copy of {source} fails integrity_check ({result}); no backup was written")


def _install(temporary: Path, target: Path, *, force: bool) -> None:
    """Give the finished file its name atomically; never replace a file unless forced."""
    with temporary.open("rb") as handle:
        os.fsync(handle.fileno())
    if force:
        temporary.replace(target)
    else:
        try:
            os.link(temporary, target)  # fails if the name was taken meanwhile
        except FileExistsError:
            raise BackupError(f"{target} already exists; add --force to overwrite it") from None
        except OSError:  # a file system without hard links
            if target.exists():
                raise BackupError(f"{target} already exists; add --force to overwrite it") from None
            temporary.replace(target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


async def _run(*command: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace"), err.decode(errors="replace").strip()


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} was not found in PATH: {INSTALL_CLIENT}")
    return path


async def _tool_major(path: str) -> int:
    code, out, err = await _run(path, "--version")
    found = re.search(r"\(PostgreSQL\)\s+(\d+)", out)
    if code != 0 or found is None:
        raise BackupError(f"cannot tell the version of {path}: {err or out.strip()}")
    return int(found.group(1))


async def _pg_server_major(url: str) -> int:
    import asyncpg

    try:
        conn = await asyncpg.connect(url)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise BackupError(f"cannot connect to {pg_connection(url)[0]}: {exc}") from exc
    try:
        version = await conn.fetchval("SHOW server_version_num")
    finally:
        await conn.close()
    return int(version) // 10000


async def _pg_dump(url: str, temporary: Path) -> None:
    pg_dump = _tool("pg_dump")
    client, server = await _tool_major(pg_dump), await _pg_server_major(url)
    if client < server:
        raise BackupError(
            f"{pg_dump} is version {client}, older than the server (PostgreSQL {server}): "
            f"install postgresql-client-{server} or newer and put its pg_dump first in PATH"
        )
    dsn, env = pg_connection(url)
    code, _, err = await _run(
        pg_dump, "--format=custom", "--no-owner", f"--file={temporary}", f"--dbname={dsn}", env=env
    )
    if code != 0:
        raise BackupError(f"pg_dump failed: {err}")


# --- restore --------------------------------------------------------------------------------


def code_migrations() -> list[str]:
    """The migration IDs of this code, in order (as ``ambassador migrate`` finds them)."""
    from piccolo.apps.migrations.commands.base import BaseMigrationManager

    from ambassador.piccolo_app import APP_CONFIG

    manager = BaseMigrationManager()
    return manager.get_migration_ids(manager.get_migration_modules(str(APP_CONFIG.migrations_folder_path)))


def pending_migrations(source: Path, recorded: list[str], known: list[str]) -> tuple[str, ...]:
    """The code's migrations the backup lacks; refuse a backup made by newer code."""
    if not recorded:
        raise BackupError(f"{source} is not a backup of this app: it records no {APP_NAME} migrations")
    unknown = sorted(set(recorded) - set(known))
    if unknown:
        raise BackupError(
            f"{source} was made by a newer version of the app: its migrations {', '.join(unknown)} "
            "are not in this code; restore it with that version"
        )
    done = set(recorded)
    return tuple(m for m in known if m not in done)


async def restore(settings: Settings, source: Path, *, yes: bool = False) -> RestoreReport:
    """Replace the configured database's data with the backup ``source``, then check it."""
    head = _head(source)
    known = code_migrations()
    integrity: str | None = None
    if settings.is_sqlite:
        if head != SQLITE_MAGIC:
            kind = "a PostgreSQL dump" if head.startswith(PG_MAGIC) else "not an SQLite database"
            raise BackupError(f"{source} is {kind}; the configured database is SQLite")
        pending, integrity = await asyncio.to_thread(
            _sqlite_restore, source, sqlite_path(settings.database_url), known, yes
        )
    else:
        if not head.startswith(PG_MAGIC):
            kind = "an SQLite database" if head == SQLITE_MAGIC else "not a pg_dump archive (custom format)"
            raise BackupError(f"{source} is {kind}; the configured database is PostgreSQL")
        pending = await _pg_restore(settings.database_url, source, known, yes)
    chain = None
    if not pending:
        from ambassador.domain import audit_verify

        # The chain only: an older backup is shorter than the anchors on purpose (docs/audit.md).
        chain = await audit_verify.verify_chain(anchored=False)
    return RestoreReport(
        source=describe(source),
        database=database_label(settings),
        pending_migrations=pending,
        integrity=integrity,
        chain=chain,
    )


def _head(source: Path) -> bytes:
    if not source.exists():
        raise BackupError(f"no such file: {source}")
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    with source.open("rb") as handle:
        return handle.read(len(SQLITE_MAGIC))


def _sqlite_migrations(conn: sqlite3.Connection, source: Path) -> list[str]:
    try:
        rows = conn.execute(
            f'SELECT name FROM "{MIGRATION_TABLE}" WHERE app_name = ? ORDER BY name',  # noqa: S608
            (APP_NAME,),
        ).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            raise BackupError(f"{source} is not a backup of this app: it has no migration table") from exc
        raise
    return [str(row[0]) for row in rows]


def _sqlite_has_data(conn: sqlite3.Connection) -> bool:
    names = [
        str(row[0])
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != ?",
            (MIGRATION_TABLE,),
        )
    ]
    for name in names:
        quoted = name.replace('"', '""')
        if conn.execute(f'SELECT EXISTS (SELECT 1 FROM "{quoted}")').fetchone()[0]:  # noqa: S608
            return True
    return False


def _sqlite_restore(source: Path, target: Path, known: list[str], yes: bool) -> tuple[tuple[str, ...], str]:
    if target.exists() and source.resolve() == target.resolve():
        raise BackupError(f"{source} is the configured database itself")
    try:
        src = sqlite3.connect(_sqlite_uri(source, "ro"), uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    except sqlite3.Error as exc:
        raise BackupError(f"{source} cannot be opened: {exc}") from exc
    try:
        try:
            pending = pending_migrations(source, _sqlite_migrations(src, source), known)
            checked = _integrity(src)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not a usable SQLite database: {exc}") from exc
        if checked != "ok":
            raise VerificationFailed(f"{source} is damaged (integrity_check: {checked}); nothing was changed")
        return pending, _sqlite_replace(src, target, yes)
    finally:
        src.close()


def _sqlite_replace(src: sqlite3.Connection, target: Path, yes: bool) -> str:
    """Copy ``src`` over ``target`` in one transaction of the target (its WAL stays consistent)."""
    existed = target.exists()
    if not existed:
        target.parent.mkdir(parents=True, exist_ok=True)
    try:
        dst = sqlite3.connect(
            _sqlite_uri(target, "rw" if existed else "rwc"),
            uri=True,
            isolation_level=None,
            timeout=BUSY_TIMEOUT_SECONDS,
        )
    except sqlite3.Error as exc:
        raise BackupError(f"the database {target} cannot be opened: {exc}") from exc
    try:
        try:
            if existed and _sqlite_has_data(dst) and not yes:
                raise BackupError(
                    f"the database {target} has data, and restoring replaces all of it. "
                    "Stop the app, then run the command again with --yes."
                )
            # Wait for (or fail on) another writer here: the backup API itself would retry forever.
            dst.execute("BEGIN IMMEDIATE")
            dst.execute("ROLLBACK")
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"the database {target} cannot be used: {exc}; stop the app and try again") from exc
        try:
            src.backup(dst)
        except sqlite3.Error as exc:
            raise BackupError(f"the restore into {target} failed and changed nothing: {exc}") from exc
        dst.execute("PRAGMA journal_mode=WAL")  # as `ambassador migrate` leaves it
        return _integrity(dst)
    finally:
        dst.close()


async def _pg_restore(url: str, source: Path, known: list[str], yes: bool) -> tuple[str, ...]:
    pg_restore = _tool("pg_restore")
    code, listing, err = await _run(pg_restore, "--list", str(source))
    if code != 0:
        raise BackupError(f"{source} cannot be read by {pg_restore}: {err}")
    archived = set(re.findall(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ", listing, flags=re.MULTILINE))
    code, script, err = await _run(pg_restore, "--data-only", f"--table={MIGRATION_TABLE}", "--file=-", str(source))
    if code != 0:
        raise BackupError(f"{source} cannot be read by {pg_restore}: {err}")
    pending = pending_migrations(source, _copied_migrations(script, source), known)
    tables, has_data = await _pg_state(url)
    extra = sorted(tables - archived)
    if extra:
        raise BackupError(
            f"the database has tables the backup lacks ({', '.join(extra)}), which a restore would leave "
            "behind: restore into a new, empty database instead (createdb, then point "
            "AMBASSADOR_DATABASE_URL to it)"
        )
    if has_data and not yes:
        raise BackupError(
            f"the database {pg_connection(url)[0]} has data, and restoring replaces all of it. "
            "Stop the app, then run the command again with --yes."
        )
    dsn, env = pg_connection(url)
    code, _, err = await _run(
        pg_restore,
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        f"--dbname={dsn}",
        str(source),
        env=env,
    )
    if code != 0:
        raise BackupError(f"pg_restore failed; its single transaction was rolled back, nothing changed: {err}")
    return pending


def _copied_migrations(script: str, source: Path) -> list[str]:
    """The migration names in pg_restore's COPY block for the migration table."""
    lines = iter(script.splitlines())
    for line in lines:
        header = re.match(rf'COPY \S*?"?{MIGRATION_TABLE}"? \((.*)\) FROM stdin;', line)
        if header is None:
            continue
        columns = [c.strip().strip('"') for c in header.group(1).split(",")]
        name_at, app_at = columns.index("name"), columns.index("app_name")
        names: list[str] = []
        for row in lines:
            if row == "\\.":
                return sorted(names)
            values = row.split("\t")
            if values[app_at] == APP_NAME:
                names.append(values[name_at])
        break
    raise BackupError(f"{source} is not a backup of this app: it has no migration table")


async def _pg_state(url: str) -> tuple[set[str], bool]:
    """The tables of the target's public schema, and whether any (but migrations) has rows."""
    import asyncpg

    try:
        conn = await asyncpg.connect(url)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise BackupError(f"cannot connect to {pg_connection(url)[0]}: {exc}") from exc
    try:
        rows: list[Any] = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = {str(row["tablename"]) for row in rows}
        for name in sorted(tables - {MIGRATION_TABLE}):
            quoted = name.replace('"', '""')
            if await conn.fetchval(f'SELECT EXISTS (SELECT 1 FROM public."{quoted}")'):  # noqa: S608
                return tables, True
        return tables, False
    finally:
        await conn.close()
