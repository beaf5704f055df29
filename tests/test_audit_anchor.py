"""Anchors of the audit log: the head written where a database attacker cannot rewrite it.

ASVS 16.4.2 (F5 probes 2 and 3: truncation and a recomputed chain), 16.4.3 (anchors shipped
to a file elsewhere and by mail). Tests that play the attacker take away the append-only
triggers first (``attacker`` fixture), as a database owner can.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ambassador.deploycheck import settings_findings
from ambassador.domain import audit, audit_anchors, audit_verify
from ambassador.enums import Role
from ambassador.settings import ConfigurationError, Settings, read_settings
from ambassador.tables import AuditEntry, OutboxMail
from ambassador.web.app import create_app, run_maintenance
from tests.conftest import AUDIT_KEY, Client
from tests.factories import make_user
from tests.helpers import login
from tests.test_audit import OTHER_KEY, attacker, fields_of, record_some, run_cli

__all__ = ["attacker"]  # the fixture, used by name

DAY = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)


async def rehash_from(entry_id: int, key: str, *, data: dict[str, int]) -> None:
    """As the F5 probe's script: rewrite one entry, then recompute every later link with ``key``."""
    await AuditEntry.update({AuditEntry.data: json.dumps(data)}).where(AuditEntry.id == entry_id)
    rows = await AuditEntry.select().where(AuditEntry.id >= entry_id).order_by(AuditEntry.id)
    before = (
        await AuditEntry.select(AuditEntry.entry_hash)
        .where(AuditEntry.id < entry_id)
        .order_by(AuditEntry.id, ascending=False)
        .first()
    )
    prev = before["entry_hash"] if before else audit.GENESIS
    for row in rows:
        row["prev_hash"] = prev
        prev = audit.entry_mac(
            key.encode(), kid=row["key_id"], client=row["client"], request_id=row["request_id"], **fields_of(row)
        )
        await AuditEntry.update({AuditEntry.prev_hash: row["prev_hash"], AuditEntry.entry_hash: prev}).where(
            AuditEntry.id == row["id"]
        )


@pytest.mark.usefixtures("attacker")
async def test_deleting_the_newest_entries_is_caught_by_the_anchor(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """ASVS 16.4.2 (F5, probe 2): the newest 5 deleted; the chain alone is sound, the anchor is not.
    The failure is also a security event (ASVS 16.3.3)."""
    entries = await record_some(10)
    anchored = await audit_anchors.write_anchor()
    assert anchored is not None
    assert (anchored.entry_id, anchored.mac) == (entries[-1].id, entries[-1].entry_hash)

    await AuditEntry.delete().where(AuditEntry.id > entries[4].id)

    report = await audit_verify.verify_chain()
    assert (report.chain_ok, report.checked, report.ok) == (True, 5, False)
    assert report.anchor is not None
    message = (
        f"the log ends at entry {entries[4].id}, before entry {entries[-1].id} anchored at {anchored.at}: "
        "the newest entries were deleted"
    )
    assert report.anchor.problem == message
    events = [(r.event, r.outcome, r.reason) for r in caplog.records if r.name == "ambassador.security"]  # type: ignore[attr-defined]
    assert events == [("audit.verify", "failure", message)]
    done = run_cli(database_url, "audit", "verify")
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"audit anchor BROKEN: {message}\n")


@pytest.mark.usefixtures("attacker")
async def test_a_chain_recomputed_without_the_key_is_caught() -> None:
    """ASVS 16.4.2 (F5, probe 3): entry rewritten and every later link recomputed with the app's
    own function, but without the audit key (a guessed one)."""
    entries = await record_some(6)

    await rehash_from(entries[2].id, OTHER_KEY, data={"n": 99})

    report = await audit_verify.verify_chain()
    assert (report.broken_at, report.reason) == (entries[2].id, "content does not match its hash")


async def rehash_unkeyed_from(entry_id: int) -> None:
    """As the F5 probe's script: recompute with the app's plain ``entry_hash``, marking
    the rows as the unkeyed scheme so that verify takes them for entries from before the key."""
    rows = await AuditEntry.select().where(AuditEntry.id >= entry_id).order_by(AuditEntry.id)
    before = await AuditEntry.select(AuditEntry.entry_hash).where(AuditEntry.id == entry_id - 1).first()
    prev = before["entry_hash"] if before else audit.GENESIS
    for row in rows:
        row["prev_hash"] = prev
        prev = audit.entry_hash(**fields_of(row))
        await AuditEntry.update(
            {AuditEntry.prev_hash: row["prev_hash"], AuditEntry.entry_hash: prev, AuditEntry.scheme: "sha256"}
        ).where(AuditEntry.id == row["id"])


@pytest.mark.usefixtures("attacker")
async def test_a_chain_recomputed_as_unkeyed_is_caught_by_the_chain_or_the_anchor() -> None:
    """ASVS 16.4.2 (F5, probe 3 with the app's plain entry_hash): from the middle, an unkeyed entry
    after keyed ones; the whole log rewritten unkeyed, the anchored MAC is gone."""
    entries = await record_some(6)
    anchored = await audit_anchors.write_anchor()
    assert anchored is not None

    await rehash_unkeyed_from(entries[3].id)
    middle = await audit_verify.verify_chain()
    await rehash_unkeyed_from(entries[0].id)
    whole = await audit_verify.verify_chain()

    assert (middle.broken_at, middle.reason) == (entries[3].id, "an unkeyed entry after a keyed one")
    assert (whole.chain_ok, whole.ok) == (True, False)
    assert whole.anchor is not None
    assert whole.anchor.problem == (
        f"entry {entries[-1].id} differs from its anchor of {anchored.at}: the chain was rewritten"
    )


@pytest.mark.usefixtures("attacker")
async def test_a_chain_recomputed_with_the_key_contradicts_the_anchor(database_url: str) -> None:
    """ASVS 16.4.2 (F5, probe 3 with the key): the chain verifies, the anchored MAC does not."""
    entries = await record_some(6)
    anchored = await audit_anchors.write_anchor()
    assert anchored is not None

    await rehash_from(entries[2].id, AUDIT_KEY, data={"n": 99})

    report = await audit_verify.verify_chain()
    assert (report.chain_ok, report.ok) == (True, False)
    assert report.anchor is not None
    message = f"entry {entries[-1].id} differs from its anchor of {anchored.at}: the chain was rewritten"
    assert report.anchor.problem == message
    done = run_cli(database_url, "audit", "verify")
    assert (done.returncode, done.stderr) == (2, f"audit anchor BROKEN: {message}\n")


async def test_a_forged_or_edited_anchor_line_is_reported(database_url: str, audit_config: audit.AuditConfig) -> None:
    """ASVS 16.4.2, 16.4.3: each anchor line is signed; an edited or forged one is named by line."""
    await record_some(3)
    await audit_anchors.write_anchor()
    path = audit_config.anchor_file
    genuine = path.read_text(encoding="utf-8")
    edited = genuine.replace('"entry": 3', '"entry": 2')
    assert edited != genuine
    forged = audit_anchors.anchor_line(audit.Keyring(OTHER_KEY), 3, "f" * 64, DAY)
    path.write_text(edited + forged + "not json\n", encoding="utf-8")

    _, bad = audit_anchors.read_anchors(path, audit_config.keyring)
    assert bad == (
        f"{path} line 1: bad signature (the line was forged or edited)",
        f"{path} line 2: signed with an unknown key {audit.key_id(OTHER_KEY)} (add it to AMBASSADOR_AUDIT_OLD_KEYS)",
        f"{path} line 3: not an anchor (unreadable)",
    )
    done = run_cli(database_url, "audit", "verify")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"audit anchor BROKEN: {line}" for line in bad]


@pytest.mark.usefixtures("attacker")
async def test_an_old_anchor_line_replayed_at_the_end_does_not_hide_a_truncation(
    audit_config: audit.AuditConfig,
) -> None:
    """ASVS 16.4.2: the newest anchor is the one of the highest entry, not the last line."""
    entries = await record_some(2)
    await audit_anchors.write_anchor()
    await record_some(2)
    latest = await audit_anchors.write_anchor()
    assert latest is not None
    path = audit_config.anchor_file
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    with path.open("a", encoding="utf-8") as handle:
        handle.write(first_line + "\n")

    await AuditEntry.delete().where(AuditEntry.id > entries[-1].id)

    report = await audit_verify.verify_chain()
    assert report.anchor == audit_anchors.AnchorReport(
        str(path),
        latest,
        f"the log ends at entry {entries[-1].id}, before entry {latest.entry_id} anchored at {latest.at}: "
        "the newest entries were deleted",
    )


async def test_anchors_signed_with_an_old_key_verify_after_a_rotation(audit_config: audit.AuditConfig) -> None:
    """ASVS 16.4.2: rotation keeps earlier anchors and entries verifiable through the old keys."""
    await record_some(2)
    first = await audit_anchors.write_anchor()
    audit.configure(audit.AuditConfig(audit.Keyring(OTHER_KEY, old=(AUDIT_KEY,)), audit_config.anchor_file))
    await record_some(2)
    second = await audit_anchors.write_anchor()
    assert first is not None
    assert second is not None

    report = await audit_verify.verify_chain()

    assert report.ok is True
    assert report.anchor == audit_anchors.AnchorReport(str(audit_config.anchor_file), second)


async def test_the_anchor_is_written_only_when_the_head_moved(database_url: str) -> None:
    """ASVS 16.4.3: `ambassador audit anchor` appends the head; again only after new entries."""
    empty = run_cli(database_url, "audit", "anchor")
    assert (empty.returncode, empty.stdout) == (0, "the audit log is empty: nothing to anchor\n")
    entries = await record_some(2)

    first = run_cli(database_url, "audit", "anchor")
    again = run_cli(database_url, "audit", "anchor")

    path = audit.config().anchor_file
    assert (first.returncode, first.stdout) == (0, f"anchored entry {entries[-1].id} in {path}\n")
    assert again.stdout == f"the head has not moved since the anchor of entry {entries[-1].id} in {path}\n"
    assert len(path.read_text(encoding="utf-8").splitlines()) == 1
    verified = run_cli(database_url, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    anchor, _ = audit_anchors.read_anchors(path, audit.config().keyring)
    assert anchor is not None
    assert verified.stdout == (
        f"audit chain intact: 2 entries verified; entry {entries[-1].id} matches the anchor of {anchor.at}\n"
    )


@pytest.mark.usefixtures("attacker")
async def test_no_new_anchor_papers_over_a_truncation(database_url: str) -> None:
    """ASVS 16.4.2: after the anchored entry was deleted, anchoring refuses (exit 2) and writes nothing."""
    entries = await record_some(4)
    await audit_anchors.write_anchor()
    await AuditEntry.delete().where(AuditEntry.id == entries[-1].id)

    done = run_cli(database_url, "audit", "anchor")

    assert done.returncode == 2
    assert done.stderr.startswith(f"audit anchor REFUSED: entry {entries[-1].id} anchored at ")
    assert len(audit.config().anchor_file.read_text(encoding="utf-8").splitlines()) == 1


async def test_the_maintenance_loop_anchors_the_head(settings: Settings) -> None:
    """ASVS 16.4.3: the web app's maintenance writes an anchor when the head moved."""
    app = create_app(settings)
    entries = await record_some(3)

    await run_maintenance(settings, app.stores)

    anchor, bad = audit_anchors.read_anchors(settings.audit_anchor_path, audit.config().keyring)
    assert bad == ()
    assert anchor is not None
    assert (anchor.entry_id, anchor.mac) == (entries[-1].id, entries[-1].entry_hash)


async def test_the_anchor_is_mailed_to_active_admins_at_most_once_a_day(audit_config: audit.AuditConfig) -> None:
    """ASVS 16.4.3: AMBASSADOR_AUDIT_ANCHOR_MAIL=1 sends the head to each active admin once a day."""
    admin = await make_user("admin@example.org", (Role.ADMIN,), language="en")
    await make_user("clerk@example.org", (Role.CLERK,))
    audit.configure(audit.AuditConfig(audit_config.keyring, audit_config.anchor_file, anchor_mail=True))

    first = await audit_anchors.anchor_now(now=DAY)
    await record_some(1)
    same_day = await audit_anchors.anchor_now(now=DAY + dt.timedelta(hours=5))
    next_day = await audit_anchors.anchor_now(now=DAY + dt.timedelta(days=1))

    assert (first.mailed, same_day.mailed, next_day.mailed) == (1, 0, 1)
    assert same_day.written is not None
    mails = await OutboxMail.select(OutboxMail.to_address, OutboxMail.subject, OutboxMail.body_text).order_by(
        OutboxMail.id
    )
    assert [(m["to_address"], m["subject"]) for m in mails] == [(admin.email, "Audit log anchor")] * 2
    assert first.written is not None
    assert f"entry {first.written.entry_id}\nMAC {first.written.mac}\n" in mails[0]["body_text"]


async def test_the_admin_page_shows_the_anchor_result(client: Client, attacker: None) -> None:
    """ASVS 16.4.2: /admin/audit?verify=1 says whether the newest anchor holds."""
    await make_user("admin@example.org", (Role.ADMIN,), language="en")
    await login(client, "admin@example.org")
    anchored = await audit_anchors.write_anchor()
    assert anchored is not None

    english = {"accept-language": "en"}
    intact = await client.get("/admin/audit?verify=1", headers=english)
    await AuditEntry.delete().where(AuditEntry.id == anchored.entry_id)
    truncated = await client.get("/admin/audit?verify=1", headers=english)

    assert f"Entry {anchored.entry_id} matches its anchor of {anchored.at}." in intact.text
    assert "The anchor check failed" in truncated.text
    assert "the newest entries were deleted" in truncated.text


def test_production_needs_an_audit_key_of_its_own(settings: Settings) -> None:
    """ASVS 16.4.2: no production start without AMBASSADOR_AUDIT_KEY, nor with the secret key as it."""
    production = settings.with_changes(
        env="production",
        secret_key="s" * 48,
        base_url="https://ambassador.krakow.example",
        smtp_url="smtps://mail.krakow.example:465",
        argon2=Settings().argon2,
    )
    create_app(production)  # sound: builds

    for audit_key in ("", "s" * 48):
        with pytest.raises(ConfigurationError, match="AMBASSADOR_AUDIT_KEY must"):
            create_app(production.with_changes(audit_key=audit_key))
        errors = [f.code for f in settings_findings(production.with_changes(audit_key=audit_key)) if f.level == "ERROR"]
        assert errors == ["audit-key"]


def test_settings_read_the_audit_key_its_old_keys_and_the_anchor_file(tmp_path: Path) -> None:
    """ASVS 16.4.2: in development the key is generated once into var/; rotation lists old keys."""
    development = {"AMBASSADOR_VAR_DIR": str(tmp_path)}
    first, second = read_settings(development), read_settings(development)
    assert len(first.audit_key) >= 32
    assert second.audit_key == first.audit_key == (tmp_path / "audit_key").read_text(encoding="utf-8")
    assert first.audit_key != first.secret_key
    assert (first.audit_old_keys, first.audit_anchor_path, first.audit_anchor_mail) == (
        (),
        tmp_path / "audit-anchors.jsonl",
        False,
    )

    configured = read_settings(
        {
            **development,
            "AMBASSADOR_AUDIT_KEY": OTHER_KEY,
            "AMBASSADOR_AUDIT_OLD_KEYS": f" {AUDIT_KEY}, ,older-key ",
            "AMBASSADOR_AUDIT_ANCHOR_FILE": "/mnt/worm/ambassador-anchors.jsonl",
            "AMBASSADOR_AUDIT_ANCHOR_MAIL": "1",
        }
    )
    assert (configured.audit_key, configured.audit_old_keys) == (OTHER_KEY, (AUDIT_KEY, "older-key"))
    assert configured.audit_anchor_path == Path("/mnt/worm/ambassador-anchors.jsonl")
    assert configured.audit_anchor_mail is True
