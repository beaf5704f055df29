"""The append-only, hash-chained audit log.

Every entry stores the hash of the previous one, so changing or deleting a row breaks the
chain at that point and ``verify_chain`` names it. Appends are serialised so the chain
never forks (the unique ``prev_hash`` column is the database's backstop).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ambassador.db import serialise_writers, utcnow, write_transaction
from ambassador.tables import AuditEntry

GENESIS = "0" * 64


def _canonical(
    *,
    prev_hash: str,
    created_at: dt.datetime,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: str,
    data: dict[str, Any],
) -> bytes:
    payload = {
        "prev": prev_hash,
        "at": created_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": actor_id,
        "action": action,
        "object": [object_type, object_id],
        "data": data,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(**fields: Any) -> str:
    return hashlib.sha256(_canonical(**fields)).hexdigest()


async def record(
    action: str,
    *,
    actor_id: int | None,
    object_type: str,
    object_id: str | int,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry; joins the caller's transaction so it commits with the change."""
    payload = data or {}
    async with write_transaction():
        await serialise_writers("audit_chain")
        last = await AuditEntry.select(AuditEntry.entry_hash).order_by(AuditEntry.id, ascending=False).first()
        prev_hash = last["entry_hash"] if last else GENESIS
        created_at = utcnow()
        fields: dict[str, Any] = {
            "prev_hash": prev_hash,
            "created_at": created_at,
            "actor_id": actor_id,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "data": payload,
        }
        entry = AuditEntry(
            created_at=created_at,
            actor=actor_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            data=json.dumps(payload, sort_keys=True, ensure_ascii=False),
            prev_hash=prev_hash,
            entry_hash=entry_hash(**fields),
        )
        await entry.save()
    return entry


@dataclass(frozen=True)
class ChainReport:
    """The result of checking the chain: ``broken_at`` is the first bad entry's id."""

    checked: int
    broken_at: int | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


async def verify_chain(batch_size: int = 1000) -> ChainReport:
    """Recompute every link in order; stop at the first one that does not match."""
    prev_hash = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = await AuditEntry.select().where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch_size)
        if not rows:
            return ChainReport(checked=checked, broken_at=None)
        for row in rows:
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
                return ChainReport(checked, row["id"], "previous hash does not match")
            if entry_hash(**fields) != row["entry_hash"]:
                return ChainReport(checked, row["id"], "content does not match its hash")
            prev_hash = row["entry_hash"]
            checked += 1
            last_id = row["id"]


async def recent(*, limit: int = 50, before_id: int | None = None) -> list[dict[str, Any]]:
    """Newest entries first, for the admin's audit view (keyset pagination)."""
    query = AuditEntry.select(
        AuditEntry.id,
        AuditEntry.created_at,
        AuditEntry.action,
        AuditEntry.object_type,
        AuditEntry.object_id,
        AuditEntry.data,
        AuditEntry.actor.display_name.as_alias("actor_name"),
    ).order_by(AuditEntry.id, ascending=False)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return list(await query.limit(limit))
