"""The hash-chained audit log: intact chains verify, any tampering is named."""

from __future__ import annotations

import os
import subprocess
import sys

from ambassador.domain import audit
from ambassador.enums import Role
from ambassador.tables import AuditEntry
from tests.conftest import SECRET
from tests.factories import make_user


def run_cli(
    database_url: str, *args: str, stdin: str = "", extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AMBASSADOR_DATABASE_URL": database_url,
        "AMBASSADOR_ARGON2_MEMORY_COST": "1024",
        "AMBASSADOR_SECRET_KEY": SECRET,
        **(extra_env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "ambassador", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


async def test_entries_chain_to_each_other_and_verify() -> None:
    first = await audit.record("test.one", actor_id=None, object_type="thing", object_id=1, data={"a": 1})
    second = await audit.record("test.two", actor_id=None, object_type="thing", object_id=2)

    assert first.prev_hash == audit.GENESIS
    assert second.prev_hash == first.entry_hash
    report = await audit.verify_chain()
    assert report == audit.ChainReport(checked=2, broken_at=None)


async def test_a_changed_row_is_detected_at_that_row() -> None:
    await make_user("clerk@example.org", (Role.CLERK,))
    victim = await audit.record("test.grant", actor_id=None, object_type="thing", object_id=7, data={"v": 1})
    await audit.record("test.after", actor_id=None, object_type="thing", object_id=8)

    await AuditEntry.update({AuditEntry.data: '{"v": 2}'}).where(AuditEntry.id == victim.id)

    report = await audit.verify_chain()
    assert report.ok is False
    assert report.broken_at == victim.id
    assert report.checked == 1


async def test_a_deleted_row_breaks_the_chain_at_the_next_one() -> None:
    await audit.record("test.one", actor_id=None, object_type="thing", object_id=1)
    middle = await audit.record("test.two", actor_id=None, object_type="thing", object_id=2)
    last = await audit.record("test.three", actor_id=None, object_type="thing", object_id=3)

    await AuditEntry.delete().where(AuditEntry.id == middle.id)

    report = await audit.verify_chain()
    assert report.broken_at == last.id
    assert report.reason == "previous hash does not match"


async def test_user_creation_is_audited() -> None:
    user = await make_user("clerk@example.org", (Role.CLERK,))

    entries = await audit.recent(limit=5)

    assert [(e["action"], e["object_id"]) for e in entries] == [("user.created", str(user.id))]


async def test_cli_audit_verify_exits_non_zero_on_tampering(database_url: str) -> None:
    entry = await audit.record("test.one", actor_id=None, object_type="thing", object_id=1)
    intact = run_cli(database_url, "audit", "verify")
    assert intact.returncode == 0
    assert "1 entries verified" in intact.stdout

    await AuditEntry.update({AuditEntry.action: "test.forged"}).where(AuditEntry.id == entry.id)

    broken = run_cli(database_url, "audit", "verify")
    assert broken.returncode == 2
    assert f"BROKEN at entry {entry.id}" in broken.stderr


async def test_cli_creates_and_lists_users_with_a_password_from_stdin(database_url: str) -> None:
    created = run_cli(
        database_url, "users", "create", "Clerk@Example.org", "--role", "clerk", stdin="a long enough password\n"
    )
    assert created.returncode == 0, created.stderr
    listed = run_cli(database_url, "users", "list")
    assert listed.stdout.split("\t")[1:3] == ["clerk@example.org", "clerk"]

    duplicate = run_cli(
        database_url, "users", "create", "clerk@example.org", "--role", "juror", stdin="another long password\n"
    )
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr

    short = run_cli(database_url, "users", "create", "x@example.org", "--role", "juror", stdin="short\n")
    assert short.returncode == 1
    assert "12 characters" in short.stderr
