"""The keyed, hash-chained audit log: intact chains verify, any tampering is named (ASVS 16.4.2, 16.2.1).

Tests that play the attacker first take away the append-only triggers, as someone with the
database owner's rights would (``attacker`` fixture), and show that the chain still catches it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ambassador.db import utcnow
from ambassador.domain import audit, audit_anchors, audit_verify
from ambassador.enums import Role
from ambassador.piccolo_conf import DB
from ambassador.tables import AuditEntry
from tests.conftest import AUDIT_KEY, IS_POSTGRES, SECRET, Client
from tests.factories import make_user
from tests.helpers import login

OTHER_KEY = "another-audit-key-" + "o" * 40


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


@pytest.fixture
async def attacker() -> AsyncIterator[None]:
    """The append-only triggers gone, as a database owner can do (PostgreSQL: enabled again after)."""
    if IS_POSTGRES:
        await DB.run_ddl("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only")
    else:
        await DB.run_ddl("DROP TRIGGER audit_entry_no_update")
        await DB.run_ddl("DROP TRIGGER audit_entry_no_delete")
    yield
    if IS_POSTGRES:
        await DB.run_ddl("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only")


def fields_of(row: dict[str, Any]) -> dict[str, Any]:
    """The hashed fields of a stored row, as ``entry_hash`` and ``entry_mac`` take them."""
    return {
        "prev_hash": row["prev_hash"],
        "created_at": row["created_at"],
        "actor_id": row["actor"],
        "action": row["action"],
        "object_type": row["object_type"],
        "object_id": row["object_id"],
        "data": json.loads(row["data"]) if isinstance(row["data"], str) else row["data"],
    }


async def record_some(count: int) -> list[AuditEntry]:
    return [
        await audit.record("test.entry", actor_id=None, object_type="thing", object_id=n, data={"n": n})
        for n in range(count)
    ]


async def test_entries_chain_to_each_other_with_a_keyed_mac_and_verify(audit_config: audit.AuditConfig) -> None:
    """ASVS 16.4.2: each entry is an HMAC-SHA256 under the audit key, linked to the previous one."""
    first = await audit.record("test.one", actor_id=None, object_type="thing", object_id=1, data={"a": 1})
    second = await audit.record("test.two", actor_id=None, object_type="thing", object_id=2)

    assert first.prev_hash == audit.GENESIS
    assert second.prev_hash == first.entry_hash
    assert (first.scheme, first.key_id) == (audit.SCHEME_KEYED, audit.key_id(AUDIT_KEY))
    row = await AuditEntry.select().where(AuditEntry.id == first.id).first()
    assert row is not None
    expected = audit.entry_mac(AUDIT_KEY.encode(), kid=first.key_id, client="", request_id="", **fields_of(row))
    assert first.entry_hash == expected
    assert first.entry_hash != audit.entry_hash(**fields_of(row))
    report = await audit_verify.verify_chain()
    assert report == audit_verify.ChainReport(
        checked=2, broken_at=None, anchor=audit_anchors.AnchorReport(str(audit_config.anchor_file), None)
    )
    assert report.ok is True


async def test_the_database_refuses_to_update_or_delete_audit_entries() -> None:
    """ASVS 16.4.2: append-only at the database level (triggers from the migration)."""
    entry = await audit.record("test.one", actor_id=None, object_type="thing", object_id=1)

    with pytest.raises(Exception, match="audit_entry is append-only"):
        await AuditEntry.update({AuditEntry.action: "test.forged"}).where(AuditEntry.id == entry.id)
    with pytest.raises(Exception, match="audit_entry is append-only"):
        await AuditEntry.delete().where(AuditEntry.id == entry.id)

    rows = await AuditEntry.select(AuditEntry.id, AuditEntry.action)
    assert rows == [{"id": entry.id, "action": "test.one"}]


@pytest.mark.usefixtures("attacker")
async def test_a_changed_row_is_detected_at_that_row() -> None:
    """ASVS 16.4.2 (F5, probe 1): an edited row breaks the chain at that row."""
    await make_user("clerk@example.org", (Role.CLERK,))
    victim = await audit.record("test.grant", actor_id=None, object_type="thing", object_id=7, data={"v": 1})
    await audit.record("test.after", actor_id=None, object_type="thing", object_id=8)

    await AuditEntry.update({AuditEntry.data: '{"v": 2}'}).where(AuditEntry.id == victim.id)

    report = await audit_verify.verify_chain()
    assert (report.ok, report.broken_at, report.checked) == (False, victim.id, 1)
    assert report.reason == "content does not match its hash"


@pytest.mark.usefixtures("attacker")
async def test_a_changed_client_address_is_detected() -> None:
    """ASVS 16.2.1, 16.4.2: the client address and request id are under the MAC."""
    entry = await audit.record("test.one", actor_id=None, object_type="thing", object_id=1)

    await AuditEntry.update({AuditEntry.client: "192.0.2.66"}).where(AuditEntry.id == entry.id)

    assert (await audit_verify.verify_chain()).broken_at == entry.id


@pytest.mark.usefixtures("attacker")
async def test_a_deleted_row_breaks_the_chain_at_the_next_one() -> None:
    """ASVS 16.4.2: a deleted middle row is named by the entry after it."""
    await audit.record("test.one", actor_id=None, object_type="thing", object_id=1)
    middle = await audit.record("test.two", actor_id=None, object_type="thing", object_id=2)
    last = await audit.record("test.three", actor_id=None, object_type="thing", object_id=3)

    await AuditEntry.delete().where(AuditEntry.id == middle.id)

    report = await audit_verify.verify_chain()
    assert (report.broken_at, report.reason) == (last.id, "previous hash does not match")


async def test_old_keys_verify_the_entries_made_before_a_rotation(audit_config: audit.AuditConfig) -> None:
    """ASVS 16.4.2: after a key rotation, AMBASSADOR_AUDIT_OLD_KEYS verifies the earlier entries."""
    before = await record_some(2)
    audit.configure(audit.AuditConfig(audit.Keyring(OTHER_KEY, old=(AUDIT_KEY,)), audit_config.anchor_file))
    after = await record_some(2)

    assert [e.key_id for e in before + after] == [audit.key_id(AUDIT_KEY)] * 2 + [audit.key_id(OTHER_KEY)] * 2
    assert after[0].prev_hash == before[-1].entry_hash
    assert (await audit_verify.verify_chain()).ok is True

    audit.configure(audit.AuditConfig(audit.Keyring(OTHER_KEY), audit_config.anchor_file))
    report = await audit_verify.verify_chain()
    assert (report.broken_at, report.reason) == (
        before[0].id,
        f"made under an unknown key {audit.key_id(AUDIT_KEY)} (add it to AMBASSADOR_AUDIT_OLD_KEYS)",
    )


async def insert_legacy(count: int) -> None:
    """Rows as the unkeyed chain wrote them before the migration (scheme "sha256")."""
    last = await AuditEntry.select(AuditEntry.entry_hash).order_by(AuditEntry.id, ascending=False).first()
    prev = last["entry_hash"] if last else audit.GENESIS
    for n in range(count):
        fields = {
            "prev_hash": prev,
            "created_at": utcnow(),
            "actor_id": None,
            "action": "legacy.entry",
            "object_type": "thing",
            "object_id": str(n),
            "data": {"n": n},
        }
        prev = audit.entry_hash(**fields)
        await AuditEntry.insert(
            AuditEntry(
                created_at=fields["created_at"],
                action="legacy.entry",
                object_type="thing",
                object_id=str(n),
                data=json.dumps({"n": n}),
                prev_hash=fields["prev_hash"],
                entry_hash=prev,
            )
        )


async def test_legacy_unkeyed_entries_followed_by_keyed_ones_verify() -> None:
    """ASVS 16.4.2: entries from before the key keep verifying; the first keyed entry links to them."""
    await insert_legacy(3)
    legacy = await AuditEntry.select().order_by(AuditEntry.id)
    keyed = await record_some(2)

    assert [row["scheme"] for row in legacy] == [audit.SCHEME_LEGACY] * 3
    assert keyed[0].prev_hash == legacy[-1]["entry_hash"]
    report = await audit_verify.verify_chain()
    assert (report.ok, report.checked) == (True, 5)


async def test_an_unkeyed_entry_after_a_keyed_one_is_refused() -> None:
    """ASVS 16.4.2 (F5, probe 3 without the key): a forger cannot fall back to the plain hash."""
    await record_some(2)
    await insert_legacy(1)
    forged = await AuditEntry.select(AuditEntry.id).order_by(AuditEntry.id, ascending=False).first()
    assert forged is not None

    report = await audit_verify.verify_chain()
    assert (report.broken_at, report.reason) == (forged["id"], "an unkeyed entry after a keyed one")


async def test_user_creation_is_audited() -> None:
    user = await make_user("clerk@example.org", (Role.CLERK,))

    entries = await audit.recent(limit=5)

    assert [(e["action"], e["object_id"]) for e in entries] == [("user.created", str(user.id))]


async def test_an_entry_made_in_a_request_records_its_client_and_request_id(client: Client) -> None:
    """ASVS 16.2.1: the client address and the request id of the request that made the change."""
    admin = await make_user("admin@example.org", (Role.ADMIN,))

    response = await login(client, "admin@example.org")

    assert response.status_code == 302
    rows = await AuditEntry.select(
        AuditEntry.action, AuditEntry.client, AuditEntry.request_id, AuditEntry.actor
    ).order_by(AuditEntry.id)
    made = {"client": "testclient", "request_id": response.headers["x-request-id"], "actor": admin.id}
    # The login and the session it registered, both from this request.
    assert rows[-2:] == [{"action": "auth.login", **made}, {"action": "session.started", **made}]
    assert (await audit_verify.verify_chain()).ok is True
    page = await client.get("/admin/audit")
    assert "<td>testclient</td>" in page.text
    assert f"<code>{response.headers['x-request-id']}</code>" in page.text


async def test_cli_audit_verify_exits_non_zero_on_tampering(database_url: str, attacker: None) -> None:
    """ASVS 16.4.2: `ambassador audit verify` exits 0 when intact, 2 with one line naming the entry."""
    entry = await audit.record("test.one", actor_id=None, object_type="thing", object_id=1)
    intact = run_cli(database_url, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.startswith("audit chain intact: 1 entries verified; no anchor in ")

    await AuditEntry.update({AuditEntry.action: "test.forged"}).where(AuditEntry.id == entry.id)

    broken = run_cli(database_url, "audit", "verify")
    assert broken.returncode == 2
    assert broken.stderr == (
        f"audit chain BROKEN at entry {entry.id}: content does not match its hash (0 entries before it verified)\n"
    )


async def test_cli_without_the_old_key_names_the_unknown_key(database_url: str) -> None:
    """ASVS 16.4.2: entries of a rotated-out key need AMBASSADOR_AUDIT_OLD_KEYS."""
    await record_some(1)
    rotated = {"AMBASSADOR_AUDIT_KEY": OTHER_KEY}

    assert run_cli(database_url, "audit", "verify", extra_env=rotated).returncode == 2
    kept = run_cli(database_url, "audit", "verify", extra_env={**rotated, "AMBASSADOR_AUDIT_OLD_KEYS": AUDIT_KEY})
    assert kept.returncode == 0, kept.stderr


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


async def test_the_migration_carries_existing_entries_over_unchanged() -> None:
    """ASVS 16.4.2: rows written by the unkeyed chain survive the migration as they were, and verify."""
    from piccolo.apps.migrations.commands.backwards import run_backwards
    from piccolo.apps.migrations.commands.forwards import run_forwards

    undone = await run_backwards("ambassador", migration_id="2026-12-05T10:01:00:000000", auto_agree=True)
    assert undone.success, undone.message
    at = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
    fields = {"created_at": at, "actor_id": None, "action": "user.created", "object_type": "user", "object_id": "1"}
    legacy = audit.entry_hash(prev_hash=audit.GENESIS, data={}, **fields)
    await AuditEntry.raw(
        "INSERT INTO audit_entry (created_at, action, object_type, object_id, data, prev_hash, entry_hash) "
        "VALUES ({}, 'user.created', 'user', '1', {}, {}, {})",
        at,
        "{}",
        audit.GENESIS,
        legacy,
    )
    query = "SELECT * FROM audit_entry"
    before = await AuditEntry.raw(query)

    done = await run_forwards("ambassador")
    assert done.success, done.message

    after = await AuditEntry.raw(query)
    assert [{k: v for k, v in row.items() if k in before[0]} for row in after] == before
    assert [(r["scheme"], r["key_id"], r["client"], r["request_id"]) for r in after] == [("sha256", "", "", "")]
    await record_some(1)
    assert (await audit_verify.verify_chain()).checked == 2
    with pytest.raises(Exception, match="audit_entry is append-only"):
        await AuditEntry.delete().where(AuditEntry.id == 1)
