"""What is unsafe or missing for production: the rules of ``ambassador check --deploy``.

Each rule gives a :class:`Finding` (level, code, message saying what is wrong and what to do).
Two groups:

- :func:`settings_findings` are decided by the settings alone. Their errors are also what a
  production start refuses (:func:`startup_errors`, called by ``Settings.check``), so the app
  never runs with a configuration the check calls unsafe.
- :func:`environment_findings` look at the disk and the database (the backup directory and
  its newest file, whether the database answers). They are reported by the check only: a
  start is not refused because the database is restarting or tonight's backup has not run.

No Litestar here: the settings module and the command line use it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import asyncpg

from ambassador.antivirus import Clamd, parse_address
from ambassador.settings import MIN_SECRET_LENGTH, Settings

Level = Literal["ERROR", "WARNING"]

# OWASP Password Storage Cheat Sheet, argon2id: (memory KiB, iterations) pairs of equal
# strength, with parallelism 1; a configuration is sound when it reaches one of them.
OWASP_ARGON2 = ((47_104, 1), (19_456, 2), (12_288, 3), (9_216, 4), (7_168, 5))
BACKUP_MAX_AGE = dt.timedelta(days=2)
DATABASE_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Finding:
    level: Level
    code: str
    message: str

    def line(self) -> str:
        return f"{self.level}: [{self.code}] {self.message}"


def _error(code: str, message: str) -> Finding:
    return Finding("ERROR", code, message)


def _warning(code: str, message: str) -> Finding:
    return Finding("WARNING", code, message)


def argon2_sound(time_cost: int, memory_cost: int) -> bool:
    return any(memory_cost >= memory and time_cost >= iterations for memory, iterations in OWASP_ARGON2)


def _smtp(settings: Settings) -> list[Finding]:
    if not settings.smtp_url:
        return [
            _error(
                "smtp",
                "AMBASSADOR_SMTP_URL must be set (mail would only go to files): "
                "set smtps://user:password@host:465 (TLS from the first byte)",
            )
        ]
    parts = urlsplit(settings.smtp_url)
    if parts.scheme == "smtps":
        return []
    if parts.scheme != "smtp":
        return [_error("smtp", f"AMBASSADOR_SMTP_URL must start with smtps:// or smtp://, not {parts.scheme}://")]
    # smtp:// is upgraded with STARTTLS, which production requires (ambassador.mail): a server
    # that does not offer it, or an attacker who strips the offer, gets no mail, not a clear one.
    return []


def _audit_key(settings: Settings) -> list[Finding]:
    """The audit log's HMAC key: set, long, and not the secret key (which is rotated)."""
    if len(settings.audit_key) < MIN_SECRET_LENGTH:
        return [
            _error(
                "audit-key",
                f"AMBASSADOR_AUDIT_KEY must be set to at least {MIN_SECRET_LENGTH} characters (the audit log's "
                "HMAC key, kept outside the database): generate one with "
                "`python3 -c 'import secrets; print(secrets.token_urlsafe(48))'` and keep a copy offline",
            )
        ]
    if settings.audit_key == settings.secret_key or settings.audit_key in settings.audit_old_keys:
        return [
            _error(
                "audit-key",
                "AMBASSADOR_AUDIT_KEY must differ from AMBASSADOR_SECRET_KEY and from AMBASSADOR_AUDIT_OLD_KEYS",
            )
        ]
    return []


def settings_findings(settings: Settings) -> list[Finding]:
    """The rules that the settings alone decide, in a fixed order."""
    found: list[Finding] = []
    if not settings.production:
        found.append(
            _error("env", f"AMBASSADOR_ENV is {settings.env!r}: set AMBASSADOR_ENV=production on a public server")
        )
    if len(settings.secret_key) < MIN_SECRET_LENGTH:
        found.append(
            _error(
                "secret-key",
                f"AMBASSADOR_SECRET_KEY must be set to at least {MIN_SECRET_LENGTH} characters: "
                "generate one with `python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`",
            )
        )
    if not settings.base_url.startswith("https://"):
        found.append(
            _error(
                "base-url",
                "AMBASSADOR_BASE_URL must be an https:// address (the public address of the site, "
                "used in every mailed link)",
            )
        )
    found.extend(_smtp(settings))
    found.extend(_audit_key(settings))
    if not settings.trusted_proxies and settings.production:
        found.append(
            _warning(
                "trusted-proxies",
                "AMBASSADOR_TRUSTED_PROXIES is empty: behind a reverse proxy every request has the proxy's "
                "address, so rate limits and login throttles count the whole city as one client; "
                "set it to the proxy's address (for example 127.0.0.1)",
            )
        )
    found.extend(_clamd_setting(settings))
    found.extend(_error("honour", problem) for problem in settings.honour_problems())
    if settings.instances > 1 and not settings.redis_url:
        found.append(
            _error(
                "redis",
                f"AMBASSADOR_INSTANCES is {settings.instances} but AMBASSADOR_REDIS_URL is not set: "
                "several instances need Redis for sessions and rate-limit counters; set redis://host:6379/0",
            )
        )
    if settings.instances > 1 and settings.is_sqlite:
        found.append(
            _error(
                "sqlite-instances",
                f"AMBASSADOR_INSTANCES is {settings.instances} with a SQLite database: a SQLite file cannot be "
                "shared by several machines; use PostgreSQL (AMBASSADOR_DATABASE_URL=postgresql://...)",
            )
        )
    if not argon2_sound(settings.argon2.time_cost, settings.argon2.memory_cost) or settings.argon2.parallelism < 1:
        found.append(
            _error(
                "argon2",
                f"argon2 cost (time {settings.argon2.time_cost}, memory {settings.argon2.memory_cost} KiB) is below "
                "the OWASP minimum: unset AMBASSADOR_ARGON2_TIME_COST and AMBASSADOR_ARGON2_MEMORY_COST "
                "(defaults t=2, m=19456 KiB) or raise them",
            )
        )
    return found


def _clamd_setting(settings: Settings) -> list[Finding]:
    """ASVS 5.4.3. Unset in production is a warning, not an error: the start is not refused (a
    site without clamd can still take nominations), but the check says uploads go unscanned."""
    if not settings.clamd:
        if not settings.production:
            return []
        return [
            _warning(
                "clamd",
                "AMBASSADOR_CLAMD is not set: uploaded files are not scanned for malware; install "
                "clamav-daemon and set AMBASSADOR_CLAMD=unix:/run/clamav/clamd.ctl",
            )
        ]
    try:
        parse_address(settings.clamd)
    except ValueError as exc:
        return [_error("clamd", f"AMBASSADOR_CLAMD: {exc}")]
    return []


async def _clamd_answers(settings: Settings) -> list[Finding]:
    if not settings.clamd or _clamd_setting(settings):
        return []
    if await Clamd(settings.clamd, timeout=DATABASE_TIMEOUT_SECONDS).ping():
        return []
    return [
        _error(
            "clamd",
            f"clamd does not answer at {settings.clamd} (AMBASSADOR_CLAMD): every upload is refused "
            "until it does; check `systemctl status clamav-daemon`",
        )
    ]


def startup_errors(settings: Settings) -> list[Finding]:
    """The errors a production start refuses (the settings' own; see the module's docstring)."""
    return [finding for finding in settings_findings(settings) if finding.level == "ERROR"]


def _backups(settings: Settings, now: dt.datetime) -> list[Finding]:
    directory = settings.backup_dir
    if not directory.is_dir():
        return [
            _error(
                "backup-dir",
                f"the backup directory {directory} (AMBASSADOR_BACKUP_DIR) does not exist: "
                "create it and run `ambassador backup` from a daily timer",
            )
        ]
    if not os.access(directory, os.W_OK | os.X_OK):
        return [_error("backup-dir", f"the backup directory {directory} is not writable by this user")]
    newest: float | None = None
    for entry in os.scandir(directory):
        if entry.is_file() and not entry.name.startswith("."):
            modified = entry.stat().st_mtime
            newest = modified if newest is None else max(newest, modified)
    limit = (now - BACKUP_MAX_AGE).timestamp()
    if newest is None or newest < limit:
        return [
            _warning(
                "backup-stale",
                f"no backup newer than {BACKUP_MAX_AGE.days} days in {directory}: "
                "check the backup timer (`ambassador backup`)",
            )
        ]
    return []


class _Missing(Exception):
    pass


def _sqlite_answers(path: Path) -> None:
    if not path.is_file():
        raise _Missing
    # Read-only: the check must not create an empty database where none is.
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=DATABASE_TIMEOUT_SECONDS)
    try:
        connection.execute("SELECT 1").fetchone()
    finally:
        connection.close()


async def _postgres_answers(url: str) -> None:
    connection = await asyncpg.connect(dsn=url, timeout=DATABASE_TIMEOUT_SECONDS)
    try:
        await connection.fetchval("SELECT 1")
    finally:
        await connection.close()


async def _database(settings: Settings) -> list[Finding]:
    url = settings.database_url
    try:
        if settings.is_sqlite:
            path = Path(url.removeprefix("sqlite:///"))
            await asyncio.to_thread(_sqlite_answers, path)
        else:
            await asyncio.wait_for(_postgres_answers(url), DATABASE_TIMEOUT_SECONDS + 1)
    except _Missing:
        return [_error("database", f"the SQLite database {path} does not exist: run `ambassador migrate`")]
    except (OSError, TimeoutError, ValueError, sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        host = urlsplit(url).hostname or url.partition("://")[0]
        return [_error("database", f"the database does not answer ({host}: {type(exc).__name__}: {exc})")]
    return []


async def environment_findings(settings: Settings, now: dt.datetime | None = None) -> list[Finding]:
    """The rules that need the disk and the database (reported by the check only)."""
    found = _backups(settings, now or dt.datetime.now(dt.UTC))
    found.extend(await _database(settings))
    found.extend(await _clamd_answers(settings))
    return found


async def check_deploy(settings: Settings) -> list[Finding]:
    """Every finding of ``ambassador check --deploy``, errors and warnings in rule order."""
    return settings_findings(settings) + await environment_findings(settings)
