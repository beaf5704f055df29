"""The register of people's requests about their data, read from the audit log (``privacy.*``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ambassador.domain.subject_requests import ACTIONS, CORRECT, FIND, OUTCOMES
from ambassador.tables import AuditEntry


@dataclass(frozen=True)
class RegisterEntry:
    at: dt.datetime
    action: str
    outcome: str
    actor: str
    subject: str
    items: int
    reasons: tuple[str, ...] = ()

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.action, self.action)

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome, self.outcome)


def _item_count(action: str, data: dict[str, Any]) -> int:
    if action == FIND:
        return sum(int(v) for v in data.get("found", {}).values())
    if action == CORRECT:
        return 1
    return len(data.get("items", []))


async def register(*, limit: int = 100) -> list[RegisterEntry]:
    """The newest requests and their answers, from the audit log."""
    rows = (
        await AuditEntry.select(
            AuditEntry.created_at,
            AuditEntry.action,
            AuditEntry.object_id,
            AuditEntry.data,
            AuditEntry.actor.display_name,
        )
        .where(AuditEntry.action.is_in(list(ACTIONS)))
        .order_by(AuditEntry.id, ascending=False)
        .limit(limit)
        .output(load_json=True)
    )
    entries: list[RegisterEntry] = []
    for row in rows:
        data: dict[str, Any] = row["data"] if isinstance(row["data"], dict) else {}
        entries.append(
            RegisterEntry(
                at=row["created_at"],
                action=row["action"],
                outcome=str(data.get("outcome", "")),
                actor=row["actor.display_name"] or "",
                subject=str(data.get("subject", row["object_id"])),
                items=_item_count(row["action"], data),
                reasons=tuple(sorted({str(r["reason"]) for r in data.get("refused", []) if "reason" in r})),
            )
        )
    return entries
