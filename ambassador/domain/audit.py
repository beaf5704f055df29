"""The append-only, keyed and anchored audit log (docs/audit.md; ASVS 16.4.2, 16.2.1, 16.4.3).

Every entry stores the previous entry's MAC and its own: an HMAC-SHA256 over its content
(time, actor, action, object, data, client address, request id) under the audit key, which
the database does not hold. Changing or deleting a row breaks the chain at that point, and
recomputing the chain needs the key. Each entry names its key by a short id, so that after
a rotation the old keys (``AMBASSADOR_AUDIT_OLD_KEYS``) still verify the old entries. Rows
written before the key existed keep their plain SHA-256 ("sha256" scheme) and still verify;
the first keyed entry links to their head, and no unkeyed entry may follow a keyed one.

Deleting the newest entries leaves a shorter chain that is still sound, and someone with
the key can rewrite one. So the head (id and MAC) is written elsewhere: a file of signed
anchors, one JSON line each (``write_anchor``), and optionally a daily mail to the admins.
``verify_chain`` checks the chain, then the newest valid anchor: the anchored entry must
still be there with the anchored MAC.

Appends are serialised so the chain never forks (the unique ``prev_hash`` column is the
database's backstop); triggers refuse UPDATE and DELETE on the table.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ambassador import requestcontext, security_log
from ambassador.db import serialise_writers, utcnow, write_transaction
from ambassador.tables import AuditEntry

if TYPE_CHECKING:
    from ambassador.settings import Settings

GENESIS = "0" * 64
SCHEME_LEGACY = "sha256"
SCHEME_KEYED = "hmac-sha256"
# Longest client address and request id kept (an IPv6 address is at most 45 characters).
MAX_CONTEXT = 64
# How much of the anchor file's end is read to find its last line.
ANCHOR_TAIL_BYTES = 8192

log = logging.getLogger("ambassador.audit")


def key_id(key: str) -> str:
    """A short public name of a key (a hash of it: it tells nothing about the key)."""
    return hashlib.sha256(b"ambassador audit key id\0" + key.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Keyring:
    """The current audit key, which signs new entries and anchors, and the earlier ones."""

    current: str = field(repr=False)
    old: tuple[str, ...] = field(default=(), repr=False)

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    def get(self, kid: str) -> bytes | None:
        for key in (self.current, *self.old):
            if key_id(key) == kid:
                return key.encode()
        return None


@dataclass(frozen=True)
class AuditConfig:
    keyring: Keyring
    anchor_file: Path
    anchor_mail: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditConfig:
        if not settings.audit_key:
            from ambassador.settings import ConfigurationError

            raise ConfigurationError("AMBASSADOR_AUDIT_KEY must be set (the audit log's HMAC key)")
        return cls(
            keyring=Keyring(settings.audit_key, settings.audit_old_keys),
            anchor_file=settings.audit_anchor_path,
            anchor_mail=settings.audit_anchor_mail,
        )


_config: AuditConfig | None = None


def configure(config: AuditConfig | None) -> None:
    """Set the key and the anchor file (the app and tests); None: read the environment again."""
    global _config  # noqa: PLW0603 (one configuration per process, set at start-up)
    _config = config


def config() -> AuditConfig:
    """The configuration set by ``configure``, else the environment's (command-line runs)."""
    global _config  # noqa: PLW0603
    if _config is None:
        from ambassador.settings import read_settings

        _config = AuditConfig.from_settings(read_settings())
    return _config


def _canonical(
    *,
    prev_hash: str,
    created_at: dt.datetime,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: str,
    data: dict[str, Any],
    **keyed: str,
) -> bytes:
    """The bytes hashed: the legacy fields, plus scheme, key id, client and request id when keyed."""
    payload: dict[str, Any] = {
        "prev": prev_hash,
        "at": created_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": actor_id,
        "action": action,
        "object": [object_type, object_id],
        "data": data,
        **keyed,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(**fields: Any) -> str:
    """The unkeyed SHA-256 of entries written before the audit key (scheme "sha256")."""
    return hashlib.sha256(_canonical(**fields)).hexdigest()


def entry_mac(key: bytes, *, kid: str, client: str, request_id: str, **fields: Any) -> str:
    """The HMAC-SHA256 of a keyed entry (scheme "hmac-sha256")."""
    message = _canonical(**fields, scheme=SCHEME_KEYED, key=kid, client=client, request=request_id)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


async def record(
    action: str,
    *,
    actor_id: int | None,
    object_type: str,
    object_id: str | int,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry; joins the caller's transaction so it commits with the change.

    The client address and request id come from the request being served (empty outside one).
    """
    payload = data or {}
    keyring = config().keyring
    context = requestcontext.current()
    client, request_id = context.client[:MAX_CONTEXT], context.request_id[:MAX_CONTEXT]
    async with write_transaction():
        await serialise_writers("audit_chain")
        last = await AuditEntry.select(AuditEntry.entry_hash).order_by(AuditEntry.id, ascending=False).first()
        prev_hash = last["entry_hash"] if last else GENESIS
        created_at = utcnow()
        kid = keyring.current_id
        mac = entry_mac(
            keyring.current.encode(),
            kid=kid,
            client=client,
            request_id=request_id,
            prev_hash=prev_hash,
            created_at=created_at,
            actor_id=actor_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            data=payload,
        )
        entry = AuditEntry(
            created_at=created_at,
            actor=actor_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            data=json.dumps(payload, sort_keys=True, ensure_ascii=False),
            prev_hash=prev_hash,
            entry_hash=mac,
            scheme=SCHEME_KEYED,
            key_id=kid,
            client=client,
            request_id=request_id,
        )
        await entry.save()
    return entry


# --- anchors ---------------------------------------------------------------------------


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


# --- verification ----------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    """The result of checking the chain: ``broken_at`` is the first bad entry's id.

    ``anchor`` is the anchor check (None when it was not asked for).
    """

    checked: int
    broken_at: int | None
    reason: str = ""
    anchor: AnchorReport | None = None

    @property
    def chain_ok(self) -> bool:
        return self.broken_at is None

    @property
    def ok(self) -> bool:
        return self.broken_at is None and (self.anchor is None or self.anchor.ok)


def _check_row(row: dict[str, Any], prev_hash: str, keyed_seen: bool, keyring: Keyring) -> str:
    """Why this row does not verify ("" when it does)."""
    data = row["data"]
    fields = {
        "prev_hash": row["prev_hash"],
        "created_at": row["created_at"],
        "actor_id": row["actor"],
        "action": row["action"],
        "object_type": row["object_type"],
        "object_id": row["object_id"],
        "data": json.loads(data) if isinstance(data, str) else data,
    }
    if row["prev_hash"] != prev_hash:
        return "previous hash does not match"
    if row["scheme"] == SCHEME_LEGACY:
        if keyed_seen:
            return "an unkeyed entry after a keyed one"
        expected = entry_hash(**fields)
    elif row["scheme"] == SCHEME_KEYED:
        key = keyring.get(row["key_id"])
        if key is None:
            return f"made under an unknown key {row['key_id']} (add it to AMBASSADOR_AUDIT_OLD_KEYS)"
        expected = entry_mac(key, kid=row["key_id"], client=row["client"], request_id=row["request_id"], **fields)
    else:
        return f"unknown scheme {row['scheme']!r}"
    if not hmac.compare_digest(expected, row["entry_hash"]):
        return "content does not match its hash"
    return ""


async def verify_chain(batch_size: int = 1000, *, anchored: bool = True) -> ChainReport:
    """Recompute every link in order, stopping at the first that does not match; then the anchor.

    ``anchored=False`` skips the anchor (a restore of an older backup is shorter on purpose).
    """
    chosen = config()
    prev_hash = GENESIS
    checked = 0
    last_id = 0
    keyed_seen = False
    while True:
        rows = await AuditEntry.select().where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch_size)
        for row in rows:
            if reason := _check_row(row, prev_hash, keyed_seen, chosen.keyring):
                security_log.event("audit.verify", "failure", entry=row["id"], reason=reason)
                return ChainReport(checked, row["id"], reason)
            keyed_seen = keyed_seen or row["scheme"] == SCHEME_KEYED
            prev_hash = row["entry_hash"]
            checked += 1
            last_id = row["id"]
        if not rows:
            break
    anchor = await check_anchor(last_id or None, chosen) if anchored else None
    if anchor is not None and not anchor.ok:
        reason = "; ".join(filter(None, (anchor.problem, *anchor.bad_lines)))
        security_log.event("audit.verify", "failure", reason=reason)
    return ChainReport(checked=checked, broken_at=None, anchor=anchor)


async def recent(*, limit: int = 50, before_id: int | None = None) -> list[dict[str, Any]]:
    """Newest entries first, for the admin's audit view (keyset pagination)."""
    query = AuditEntry.select(
        AuditEntry.id,
        AuditEntry.created_at,
        AuditEntry.action,
        AuditEntry.object_type,
        AuditEntry.object_id,
        AuditEntry.data,
        AuditEntry.client,
        AuditEntry.request_id,
        AuditEntry.actor.display_name.as_alias("actor_name"),
    ).order_by(AuditEntry.id, ascending=False)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return list(await query.limit(limit))
