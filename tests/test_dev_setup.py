"""``ambassador dev-setup`` (what ``make run`` does first) on a fresh SQLite database, as a subprocess.

The first run creates the three development accounts (passwords printed once), the demo edition
and the shipped record of earlier editions; a second run changes nothing and says so.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from argon2 import PasswordHasher

ACCOUNT_LINE = re.compile(r"^  (\w+) +(\S+@example\.org)  (\S+)$")


def run_command(database: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AMBASSADOR_DATABASE_URL": f"sqlite:///{database}",
        "AMBASSADOR_VAR_DIR": str(tmp_path / "var"),
        "AMBASSADOR_ENV": "development",
    }
    return subprocess.run(
        [sys.executable, "-m", "ambassador", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def rows(database: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(query).fetchall()


def test_dev_setup_creates_the_accounts_the_demo_and_the_record_once(tmp_path: Path) -> None:
    database = tmp_path / "fresh.sqlite3"
    migrated = run_command(database, tmp_path, "migrate")
    assert migrated.returncode == 0, migrated.stderr

    first = run_command(database, tmp_path, "dev-setup")

    assert (first.returncode, first.stderr) == (0, "")
    lines = first.stdout.splitlines()
    printed = [match.groups() for line in lines[1:4] if (match := ACCOUNT_LINE.match(line))]
    passwords = {email: password for _, email, password in printed}
    [(year,)] = rows(database, "SELECT activity_year FROM edition WHERE historical = 0")
    assert lines == [
        "Development accounts (shown once; change them under My account):",
        f"  admin   admin@example.org  {passwords['admin@example.org']}",
        f"  clerk   clerk@example.org  {passwords['clerk@example.org']}",
        f"  juror   juror@example.org  {passwords['juror@example.org']}",
        f"demo edition A.D. {year} created with nominations",
        "laureates of earlier editions (shipped record):",
        "24 laureates imported, 0 already present, 6 editions created, 0 lines with errors",
    ]
    assert [(role, email) for role, email, _ in printed] == [
        ("admin", "admin@example.org"),
        ("clerk", "clerk@example.org"),
        ("juror", "juror@example.org"),
    ]
    assert sorted(len(password) for password in passwords.values()) == [16, 16, 16]
    assert len(set(passwords.values())) == 3
    stored = rows(
        database,
        "SELECT u.email, r.role, u.password_hash FROM app_user u JOIN user_role r ON r.user = u.id ORDER BY u.email",
    )
    assert [(email, role) for email, role, _ in stored] == [
        ("admin@example.org", "admin"),
        ("clerk@example.org", "clerk"),
        ("juror@example.org", "juror"),
    ]
    hasher = PasswordHasher()
    assert [hasher.verify(str(hashed), passwords[str(email)]) for email, _, hashed in stored] == [True, True, True]
    assert rows(database, "SELECT state, historical, count(*) FROM edition GROUP BY 1, 2 ORDER BY 1") == [
        ("open", 0, 1),
        ("published", 1, 6),
    ]
    assert rows(database, "SELECT state, count(*) FROM nomination GROUP BY 1 ORDER BY 1") == [
        ("accepted", 2),
        ("submitted", 3),
        ("unconfirmed", 1),
    ]
    assert rows(
        database, "SELECT u.email, j.is_chair FROM jury_member j JOIN app_user u ON u.id = j.user ORDER BY 1"
    ) == [("juror@example.org", 1)]
    assert rows(database, "SELECT count(*) FROM laureate") == [(24,)]

    again = run_command(database, tmp_path, "dev-setup")

    assert (again.returncode, again.stderr, again.stdout.splitlines()) == (
        0,
        "",
        [
            "development accounts already present",
            "demo edition already present",
            "laureates of earlier editions (shipped record):",
            "0 laureates imported, 24 already present, 0 editions created, 0 lines with errors",
        ],
    )
    assert rows(database, "SELECT count(*) FROM app_user") == [(3,)]
    assert rows(database, "SELECT count(*) FROM nomination") == [(6,)]
