"""Anchors of the audit log: its head (id and MAC), signed, in a file outside the database.

Deleting the newest entries, or rewriting the chain with the key, contradicts the newest
anchor; ``write_anchor`` refuses to anchor such a log afresh (docs/audit.md).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ambassador import security_log
from ambassador.db import utcnow, write_transaction
from ambassador.domain.audit import AuditConfig, Keyring, config
from ambassador.tables import AuditEntry

# How much of the anchor file's end is read to find its last line.
ANCHOR_TAIL_BYTES = 8192


@dataclass(frozen=True)
class Anchor:
    """A signed statement: at ``at``, the log's newest entry was ``entry_id`` with ``mac``."""

    entry_id: int
    mac: str
    at: str


def _anchor_body(entry_id: int, mac: str, at: str, kid: str) -> dict[str, Any]:
    return {"v": 1, "entry": entry_id, "mac": mac, "at": at, "key": kid}


def _signature(key: bytes, body: dict[str, Any]) -> str:
    message = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, b"ambassador audit anchor\0" + message, hashlib.sha256).hexdigest()


def anchor_line(keyring: Keyring, entry_id: int, mac: str, at: dt.datetime) -> str:
    """One line of the anchor file, signed with the current key."""
    body = _anchor_body(entry_id, mac, at.astimezone(dt.UTC).isoformat(timespec="seconds"), keyring.current_id)
    return json.dumps({**body, "sig": _signature(keyring.current.encode(), body)}, sort_keys=True) + "\n"


def parse_anchor(text: str, keyring: Keyring) -> Anchor:
    """Check one line's form and signature; ValueError says what is wrong."""
    try:
        item = json.loads(text)
        body = _anchor_body(int(item["entry"]), str(item["mac"]), str(item["at"]), str(item["key"]))
        signature = str(item["sig"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError("not an anchor (unreadable)") from exc
    key = keyring.get(body["key"])
    if key is None:
        raise ValueError(f"signed with an unknown key {body['key']} (add it to AMBASSADOR_AUDIT_OLD_KEYS)")
    if not hmac.compare_digest(_signature(key, body), signature):
        raise ValueError("bad signature (the line was forged or edited)")
    return Anchor(entry_id=body["entry"], mac=body["mac"], at=body["at"])


@dataclass(frozen=True)
class AnchorReport:
    """The anchor check: the newest valid anchor, what contradicts it, the lines that are bad."""

    path: str
    anchor: Anchor | None
    problem: str = ""
    bad_lines: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problem and not self.bad_lines


def read_anchors(path: Path, keyring: Keyring) -> tuple[Anchor | None, tuple[str, ...]]:
    """The newest anchor whose signature holds, and one message per line that does not.

    Newest is the one of the highest entry: an older genuine line copied to the end (a replay)
    does not take the place of the later ones.
    """
    if not path.exists():
        return None, ()
    newest: Anchor | None = None
    bad: list[str] = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                anchor = parse_anchor(text, keyring)
            except ValueError as exc:
                bad.append(f"{path} line {number}: {exc}")
                continue
            if newest is None or anchor.entry_id >= newest.entry_id:
                newest = anchor
    return newest, tuple(bad)


def _last_line(path: Path) -> str:
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - ANCHOR_TAIL_BYTES))
        lines = [line for line in handle.read().splitlines() if line.strip()]
    return lines[-1].decode("utf-8", errors="replace") if lines else ""


async def _head() -> dict[str, Any] | None:
    return await (
        AuditEntry.select(AuditEntry.id, AuditEntry.entry_hash).order_by(AuditEntry.id, ascending=False).first()
    )


async def _entry_mac(entry_id: int) -> str | None:
    row = await AuditEntry.select(AuditEntry.entry_hash).where(AuditEntry.id == entry_id).first()
    return None if row is None else str(row["entry_hash"])


class AnchorRefused(Exception):
    """The log contradicts the last anchor: no new anchor may paper over it."""


def _append_after(path: Path, expected_last: str, text: str) -> bool:
    """Append ``text`` if the file still ends with ``expected_last`` (locked: several workers anchor)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o640)
    with os.fdopen(fd, "r+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if _last_line(path) != expected_last:
            return False
        handle.write(text.encode())
        handle.flush()
        os.fsync(handle.fileno())
    return True


def _read_last(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    return _last_line(path) if path.exists() else ""


async def write_anchor(chosen: AuditConfig | None = None, *, now: dt.datetime | None = None) -> Anchor | None:
    """Append the head to the anchor file when it moved since the last line; None when it did not.

    Refuses (AnchorRefused) when the last anchored entry is gone or changed, so that a
    truncated or rewritten log is not anchored afresh.
    """
    chosen = chosen or config()
    head = await _head()
    if head is None:
        return None
    path = chosen.anchor_file
    last_text = await asyncio.to_thread(_read_last, path)
    if last_text:
        try:
            last = parse_anchor(last_text, chosen.keyring)
        except ValueError as exc:
            raise AnchorRefused(f"the last line of {path} is not a valid anchor: {exc}") from exc
        if last.entry_id == head["id"] and last.mac == head["entry_hash"]:
            return None
        if await _entry_mac(last.entry_id) != last.mac:
            raise AnchorRefused(
                f"entry {last.entry_id} anchored at {last.at} is missing or changed: run `ambassador audit verify`"
            )
    text = anchor_line(chosen.keyring, head["id"], head["entry_hash"], now or utcnow())
    if not await asyncio.to_thread(_append_after, path, last_text, text):
        return None  # another process anchored meanwhile
    return parse_anchor(text, chosen.keyring)


async def check_anchor(head_id: int | None, chosen: AuditConfig | None = None) -> AnchorReport:
    """The newest valid anchor against the log: its entry there with its MAC, the log not shorter."""
    chosen = chosen or config()
    path = chosen.anchor_file
    anchor, bad = await asyncio.to_thread(read_anchors, path, chosen.keyring)
    if anchor is None:
        return AnchorReport(str(path), None, bad_lines=bad)
    mac = await _entry_mac(anchor.entry_id)
    problem = ""
    if mac is None and (head_id or 0) < anchor.entry_id:
        problem = (
            f"the log ends at entry {head_id or 0}, before entry {anchor.entry_id} anchored at {anchor.at}: "
            "the newest entries were deleted"
        )
    elif mac is None:
        problem = f"entry {anchor.entry_id} anchored at {anchor.at} is missing"
    elif not hmac.compare_digest(mac, anchor.mac):
        problem = f"entry {anchor.entry_id} differs from its anchor of {anchor.at}: the chain was rewritten"
    return AnchorReport(str(path), anchor, problem, bad)


@dataclass(frozen=True)
class AnchorRun:
    """What one anchoring did: the anchor written (None: the head had not moved), mails queued."""

    written: Anchor | None
    newest: Anchor | None
    mailed: int = 0


def _mailed_on(stamp: Path) -> str:
    return stamp.read_text(encoding="utf-8").strip() if stamp.exists() else ""


async def _mail_admins(anchor: Anchor, stamp: Path, today: dt.date) -> int:
    """Mail the anchor to each active admin, at most once a day (the day kept in ``stamp``)."""
    if await asyncio.to_thread(_mailed_on, stamp) == today.isoformat():
        return 0
    from ambassador.domain.accounts import list_accounts
    from ambassador.domain.outbox import queue_mail
    from ambassador.enums import Role
    from ambassador.errors import N_
    from ambassador.i18n import translate

    admins = [a for a in await list_accounts() if a.is_active and Role.ADMIN in a.roles]
    async with write_transaction():
        for admin in admins:
            intro = translate(
                admin.language,
                N_(
                    "The newest entry of the audit log, for you to keep outside the system. If "
                    "`ambassador audit verify` ever finds this entry missing or different, the log was changed."
                ),
            )
            await queue_mail(
                to=admin.email,
                subject=translate(admin.language, N_("Audit log anchor")),
                body=f"{intro}\n\nentry {anchor.entry_id}\nMAC {anchor.mac}\ntime {anchor.at}\n",
                language=admin.language,
            )
    await asyncio.to_thread(stamp.write_text, today.isoformat(), encoding="utf-8")
    return len(admins)


async def anchor_now(*, now: dt.datetime | None = None) -> AnchorRun:
    """``ambassador audit anchor`` and the maintenance chore: write the head, mail it daily if asked."""
    chosen = config()
    at = now or utcnow()
    try:
        written = await write_anchor(chosen, now=at)
    except AnchorRefused as exc:
        security_log.event("audit.anchor", "failure", reason=str(exc))
        raise
    newest = written
    if newest is None and (last := await asyncio.to_thread(_read_last, chosen.anchor_file)):
        newest = parse_anchor(last, chosen.keyring)
    mailed = 0
    if chosen.anchor_mail and newest is not None:
        stamp = chosen.anchor_file.with_name(chosen.anchor_file.name + ".mailed")
        mailed = await _mail_admins(newest, stamp, at.astimezone(dt.UTC).date())
    return AnchorRun(written, newest, mailed)
