"""`ambassador check --deploy` as an administrator runs it, and production start-up refusing its errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ambassador import deploycheck
from ambassador.settings import ConfigurationError, Settings, load_settings
from ambassador.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent
SOUND_SECRET = "s" * 48


def sound_env(database_url: str, tmp_path: Path, clamd: str) -> dict[str, str]:
    """A sound production configuration: one instance on SQLite, a fresh backup, and the
    session's real clamd (tests/clamav.py) scanning uploads."""
    backups = tmp_path / "backups"
    backups.mkdir(exist_ok=True)
    (backups / "ambassador-20261204T020000Z.sqlite3").write_bytes(b"a backup")
    return {
        "AMBASSADOR_ENV": "production",
        "AMBASSADOR_DATABASE_URL": database_url,
        "AMBASSADOR_SECRET_KEY": SOUND_SECRET,
        "AMBASSADOR_AUDIT_KEY": "a" * 48,
        "AMBASSADOR_BASE_URL": "https://ambassador.krakow.example",
        "AMBASSADOR_SMTP_URL": "smtps://app:password@mail.krakow.example:465",
        "AMBASSADOR_REDIS_URL": "redis://127.0.0.1:6379/0",
        "AMBASSADOR_TRUSTED_PROXIES": "127.0.0.1",
        "AMBASSADOR_VAR_DIR": str(tmp_path / "var"),
        "AMBASSADOR_BACKUP_DIR": str(backups),
        "AMBASSADOR_CLAMD": clamd,
    }


def check_deploy(env: dict[str, str]) -> tuple[int, list[str]]:
    """Run the command with only ``env`` as configuration; its exit status and lines."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("AMBASSADOR_")}
    done = subprocess.run(
        [sys.executable, "-m", "ambassador", "check", "--deploy"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout.splitlines()


def codes(lines: list[str]) -> list[str]:
    return [line.split("]")[0] + "]" for line in lines if line.startswith(("ERROR:", "WARNING:"))]


def test_a_sound_production_configuration_passes(database_url: str, tmp_path: Path, clamd: str) -> None:
    status, lines = check_deploy(sound_env(database_url, tmp_path, clamd))

    assert (status, lines) == (0, ["0 errors, 0 warnings"])


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"AMBASSADOR_SECRET_KEY": "too-short"}, ["ERROR: [secret-key]"]),
        # ASVS 16.4.2: the audit log's HMAC key, set and not the (rotated) secret key.
        ({"AMBASSADOR_AUDIT_KEY": ""}, ["ERROR: [audit-key]"]),
        ({"AMBASSADOR_AUDIT_KEY": SOUND_SECRET}, ["ERROR: [audit-key]"]),
        ({"AMBASSADOR_BASE_URL": "http://ambassador.krakow.example"}, ["ERROR: [base-url]"]),
        ({"AMBASSADOR_BASE_URL": ""}, ["ERROR: [base-url]"]),
        ({"AMBASSADOR_SMTP_URL": ""}, ["ERROR: [smtp]"]),
        ({"AMBASSADOR_SMTP_URL": "ftp://mail.krakow.example"}, ["ERROR: [smtp]"]),
        ({"AMBASSADOR_ARGON2_MEMORY_COST": "1024"}, ["ERROR: [argon2]"]),
        ({"AMBASSADOR_ARGON2_TIME_COST": "1"}, ["ERROR: [argon2]"]),
        ({"AMBASSADOR_INSTANCES": "2"}, ["ERROR: [sqlite-instances]"]),
        ({"AMBASSADOR_INSTANCES": "2", "AMBASSADOR_REDIS_URL": ""}, ["ERROR: [redis]", "ERROR: [sqlite-instances]"]),
        ({"AMBASSADOR_ENV": "development"}, ["ERROR: [env]"]),
        ({"AMBASSADOR_BACKUP_DIR": "/nonexistent/backups"}, ["ERROR: [backup-dir]"]),
        ({"AMBASSADOR_DATABASE_URL": "sqlite:////nonexistent/db.sqlite3"}, ["ERROR: [database]"]),
        ({"AMBASSADOR_INSTANCES": "two"}, ["ERROR: [settings]"]),
        ({"AMBASSADOR_CLAMD": ""}, ["WARNING: [clamd]"]),
        ({"AMBASSADOR_CLAMD": "unix:/nonexistent/clamd.ctl"}, ["ERROR: [clamd]"]),
        ({"AMBASSADOR_CLAMD": "clamd.ctl"}, ["ERROR: [clamd]"]),
    ],
)
def test_each_unsound_setting_gives_its_error_and_exit_1(
    changes: dict[str, str], expected: list[str], database_url: str, tmp_path: Path, clamd: str
) -> None:
    if not database_url.startswith("sqlite:"):  # several instances on PostgreSQL are sound
        expected = [code for code in expected if code != "ERROR: [sqlite-instances]"]
    status, lines = check_deploy({**sound_env(database_url, tmp_path, clamd), **changes})

    assert (status, codes(lines)) == (1 if any(c.startswith("ERROR") for c in expected) else 0, expected)


def test_the_lines_say_what_is_wrong_and_what_to_do(database_url: str, tmp_path: Path, clamd: str) -> None:
    env = {**sound_env(database_url, tmp_path, clamd), "AMBASSADOR_INSTANCES": "2", "AMBASSADOR_REDIS_URL": ""}

    status, lines = check_deploy(env)

    redis = (
        "ERROR: [redis] AMBASSADOR_INSTANCES is 2 but AMBASSADOR_REDIS_URL is not set: several instances need "
        "Redis for sessions and rate-limit counters; set redis://host:6379/0"
    )
    sqlite = (
        "ERROR: [sqlite-instances] AMBASSADOR_INSTANCES is 2 with a SQLite database: a SQLite file cannot be "
        "shared by several machines; use PostgreSQL (AMBASSADOR_DATABASE_URL=postgresql://...)"
    )
    assert status == 1
    if database_url.startswith("sqlite:"):
        assert lines == [redis, sqlite, "2 errors, 0 warnings"]
    else:
        assert lines == [redis, "1 error, 0 warnings"]


def test_warnings_alone_exit_0(database_url: str, tmp_path: Path, clamd: str) -> None:
    env = sound_env(database_url, tmp_path, clamd)
    del env["AMBASSADOR_TRUSTED_PROXIES"]
    old = time.time() - 3 * 86400
    for backup in Path(env["AMBASSADOR_BACKUP_DIR"]).iterdir():
        os.utime(backup, (old, old))

    status, lines = check_deploy(env)

    assert (status, codes(lines)) == (0, ["WARNING: [trusted-proxies]", "WARNING: [backup-stale]"])
    assert lines[-1] == "0 errors, 2 warnings"


def test_an_empty_backup_directory_is_a_warning(database_url: str, tmp_path: Path, clamd: str) -> None:
    env = {**sound_env(database_url, tmp_path, clamd), "AMBASSADOR_BACKUP_DIR": str(tmp_path / "empty")}
    (tmp_path / "empty").mkdir()

    assert check_deploy(env) == (
        0,
        [
            f"WARNING: [backup-stale] no backup newer than 2 days in {tmp_path / 'empty'}: "
            "check the backup timer (`ambassador backup`)",
            "0 errors, 1 warning",
        ],
    )


def _production(settings: Settings) -> Settings:
    return settings.with_changes(
        env="production",
        secret_key=SOUND_SECRET,
        base_url="https://ambassador.krakow.example",
        smtp_url="smtps://mail.krakow.example:465",
        argon2=Settings().argon2,
    )


def test_production_create_app_refuses_what_the_check_calls_an_error(settings: Settings) -> None:
    create_app(_production(settings))  # sound: builds

    with pytest.raises(ConfigurationError) as refused:
        create_app(_production(settings).with_changes(instances=2))

    redis = (
        "AMBASSADOR_INSTANCES is 2 but AMBASSADOR_REDIS_URL is not set: several instances need Redis for "
        "sessions and rate-limit counters; set redis://host:6379/0"
    )
    sqlite = (
        "AMBASSADOR_INSTANCES is 2 with a SQLite database: a SQLite file cannot be shared by several machines; "
        "use PostgreSQL (AMBASSADOR_DATABASE_URL=postgresql://...)"
    )
    assert str(refused.value) == (f"{redis}; {sqlite}" if settings.is_sqlite else redis)


def test_production_start_is_not_refused_for_backups_or_the_database(
    database_url: str, tmp_path: Path, clamd: str
) -> None:
    env = {
        **sound_env(database_url, tmp_path, clamd),
        "AMBASSADOR_BACKUP_DIR": "/nonexistent/backups",
        "AMBASSADOR_DATABASE_URL": "sqlite:////nonexistent/db.sqlite3",
    }

    assert load_settings(env).production is True


def test_production_accepts_smtp_with_starttls_anywhere(tmp_path: Path, clamd: str) -> None:
    """smtp:// is sound: production requires the STARTTLS upgrade (no offer, no mail)."""
    env = {**sound_env("sqlite:///x.sqlite3", tmp_path, clamd), "AMBASSADOR_SMTP_URL": "smtp://mail.krakow.example:587"}

    assert load_settings(env).smtp_url == "smtp://mail.krakow.example:587"
    assert [f.code for f in deploycheck.settings_findings(load_settings(env))] == []
