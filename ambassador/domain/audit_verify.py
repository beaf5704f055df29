"""Verifying the audit log: every link of the chain recomputed in order, then the anchor."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any

from ambassador import security_log
from ambassador.domain.audit import GENESIS, SCHEME_KEYED, SCHEME_LEGACY, Keyring, config, entry_hash, entry_mac
from ambassador.domain.audit_anchors import AnchorReport, check_anchor
from ambassador.tables import AuditEntry


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
