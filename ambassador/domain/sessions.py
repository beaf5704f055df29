"""The session registry: every signed-in browser of a staff account, listed and endable.

The session itself lives in the session store (Redis or the ``KeyValue`` table) under a
random cookie id that never reaches this table. Each session carries the ``public_id`` of
its row here, and authentication accepts it only while the row is live: not ended, of the
account's current ``session_epoch`` (a password, TOTP or role change bumps it), and within
the idle and absolute limits. Ending a row therefore ends its session at its next request,
wherever the store is. See docs/sessions.md.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from piccolo.columns.combination import Where

from ambassador import security_log
from ambassador.db import write_transaction
from ambassador.domain import audit
from ambassador.tables import StaffSession, User

# How stale ``last_seen_at`` may get before a request writes it again (one write a minute).
SEEN_RESOLUTION_SECONDS = 60
MAX_USER_AGENT = 200
MAX_ADDRESS = 64


@dataclass(frozen=True)
class SessionPolicy:
    idle_seconds: int = 30 * 60
    absolute_seconds: int = 12 * 60 * 60
    max_per_account: int = 5


@dataclass(frozen=True)
class SessionView:
    """One live session as its owner (or an admin) sees it."""

    public_id: str
    user_id: int
    created_at: dt.datetime
    last_seen_at: dt.datetime
    address: str
    user_agent: str


@dataclass(frozen=True)
class Started:
    public_id: str
    # Sessions the concurrent limit ended to make room for this one (least recently used first).
    ended_for_limit: tuple[str, ...]


def _live(policy: SessionPolicy, now: dt.datetime) -> Any:
    return (
        StaffSession.ended_at.is_null()
        & (StaffSession.last_seen_at > now - dt.timedelta(seconds=policy.idle_seconds))
        & (StaffSession.created_at > now - dt.timedelta(seconds=policy.absolute_seconds))
    )


def _view(row: dict[str, Any]) -> SessionView:
    return SessionView(
        public_id=row["public_id"],
        user_id=row["user"],
        created_at=row["created_at"],
        last_seen_at=row["last_seen_at"],
        address=row["address"],
        user_agent=row["user_agent"],
    )


async def _live_rows(where: Where | Any, policy: SessionPolicy, now: dt.datetime) -> list[dict[str, Any]]:
    """Live rows matching ``where``: a row of an older epoch is dead already and left out."""
    rows: list[dict[str, Any]] = await StaffSession.select().where(where & _live(policy, now))
    if not rows:
        return rows
    epochs = await User.select(User.id, User.session_epoch).where(User.id.is_in(sorted({r["user"] for r in rows})))
    current = {row["id"]: row["session_epoch"] for row in epochs}
    return [row for row in rows if current.get(row["user"]) == row["epoch"]]


async def _end(rows: list[dict[str, Any]], *, actor_id: int | None, reason: str, now: dt.datetime) -> int:
    """End ``rows`` (in the caller's transaction): one audit entry and one security event each."""
    for row in rows:
        await StaffSession.update({StaffSession.ended_at: now, StaffSession.ended_reason: reason}).where(
            (StaffSession.id == row["id"]) & StaffSession.ended_at.is_null()
        )
        await audit.record(
            "session.ended",
            actor_id=actor_id,
            object_type="user",
            object_id=row["user"],
            data={"session": row["public_id"], "reason": reason},
        )
        security_log.event(
            "session.ended", "success", user_id=row["user"], session=row["public_id"], reason=reason, by=actor_id
        )
    return len(rows)


async def start(
    *, user_id: int, epoch: int, address: str, user_agent: str, policy: SessionPolicy, now: dt.datetime
) -> Started:
    """Register a new session after a complete login; beyond the limit the least recently used end.

    One transaction: the new row, the ended rows and their audit entries commit together.
    """
    public_id = secrets.token_hex(16)
    async with write_transaction():
        live = await _live_rows(StaffSession.user == user_id, policy, now)
        live.sort(key=lambda row: (row["last_seen_at"], row["created_at"], row["id"]))
        surplus = live[: max(0, len(live) - policy.max_per_account + 1)]
        await _end(surplus, actor_id=None, reason="limit", now=now)
        if surplus:
            security_log.event("session.limit", "success", user_id=user_id, ended=len(surplus))
        await StaffSession(
            public_id=public_id,
            user=user_id,
            epoch=epoch,
            created_at=now,
            last_seen_at=now,
            address=address[:MAX_ADDRESS],
            user_agent=user_agent[:MAX_USER_AGENT],
        ).save()
        await audit.record(
            "session.started",
            actor_id=user_id,
            object_type="user",
            object_id=user_id,
            data={"session": public_id, "ended_for_limit": [row["public_id"] for row in surplus]},
        )
    security_log.event("session.created", "success", user_id=user_id, session=public_id)
    return Started(public_id=public_id, ended_for_limit=tuple(row["public_id"] for row in surplus))


async def touch(*, public_id: str, user_id: int, epoch: int, policy: SessionPolicy, now: dt.datetime) -> bool:
    """Whether the session is live (one read by its unique id); notes the activity once a minute."""
    row = (
        await StaffSession.select(
            StaffSession.id,
            StaffSession.user,
            StaffSession.epoch,
            StaffSession.created_at,
            StaffSession.last_seen_at,
            StaffSession.ended_at,
        )
        .where(StaffSession.public_id == public_id)
        .first()
    )
    if row is None or row["ended_at"] is not None or row["user"] != user_id or row["epoch"] != epoch:
        return False
    if now - row["last_seen_at"] > dt.timedelta(seconds=policy.idle_seconds):
        return False
    if now - row["created_at"] > dt.timedelta(seconds=policy.absolute_seconds):
        return False
    if now - row["last_seen_at"] >= dt.timedelta(seconds=SEEN_RESOLUTION_SECONDS):
        async with write_transaction():
            await StaffSession.update({StaffSession.last_seen_at: now}).where(StaffSession.id == row["id"])
    return True


async def follow_epoch(*, public_id: str, user_id: int, epoch: int) -> None:
    """The session's own account changed its epoch (password, TOTP, roles): this session goes on."""
    async with write_transaction():
        await StaffSession.update({StaffSession.epoch: epoch}).where(
            (StaffSession.public_id == public_id) & (StaffSession.user == user_id) & StaffSession.ended_at.is_null()
        )


async def live_sessions(*, user_id: int, policy: SessionPolicy, now: dt.datetime) -> list[SessionView]:
    """The account's live sessions, most recently used first."""
    rows = await _live_rows(StaffSession.user == user_id, policy, now)
    rows.sort(key=lambda row: (row["last_seen_at"], row["created_at"]), reverse=True)
    return [_view(row) for row in rows]


async def end_own(*, user_id: int, public_id: str, policy: SessionPolicy, now: dt.datetime) -> bool:
    """The owner ends one of their sessions; False when it is not theirs or no longer live."""
    async with write_transaction():
        rows = await _live_rows((StaffSession.user == user_id) & (StaffSession.public_id == public_id), policy, now)
        return await _end(rows, actor_id=user_id, reason="user", now=now) == 1


async def end_others(*, user_id: int, keep: str, policy: SessionPolicy, now: dt.datetime) -> int:
    """The owner ends every session of theirs but ``keep`` (the one they are using)."""
    async with write_transaction():
        rows = await _live_rows((StaffSession.user == user_id) & (StaffSession.public_id != keep), policy, now)
        return await _end(rows, actor_id=user_id, reason="user", now=now)


async def end_for_user(*, actor_id: int, user_id: int, keep: str, policy: SessionPolicy, now: dt.datetime) -> int:
    """An admin ends one account's sessions (their own current one, ``keep``, excepted)."""
    async with write_transaction():
        rows = await _live_rows((StaffSession.user == user_id) & (StaffSession.public_id != keep), policy, now)
        ended = await _end(rows, actor_id=actor_id, reason="admin", now=now)
        await audit.record(
            "sessions.ended_for_user", actor_id=actor_id, object_type="user", object_id=user_id, data={"ended": ended}
        )
    security_log.event("sessions.ended_for_user", "success", user_id=actor_id, target=user_id, ended=ended)
    return ended


async def end_everyones(*, actor_id: int, keep: str, policy: SessionPolicy, now: dt.datetime) -> int:
    """An admin ends every staff session but their own current one (``keep``)."""
    async with write_transaction():
        rows = await _live_rows(StaffSession.public_id != keep, policy, now)
        ended = await _end(rows, actor_id=actor_id, reason="admin", now=now)
        await audit.record(
            "sessions.ended_for_everyone",
            actor_id=actor_id,
            object_type="system",
            object_id="sessions",
            data={"ended": ended},
        )
    security_log.event("sessions.ended_for_everyone", "success", user_id=actor_id, ended=ended)
    return ended


async def end_at_logout(*, public_id: str, user_id: int, now: dt.datetime) -> None:
    """Logout: the row ends with the session (the store entry is deleted by the caller)."""
    async with write_transaction():
        rows = await StaffSession.select().where(
            (StaffSession.public_id == public_id) & (StaffSession.user == user_id) & StaffSession.ended_at.is_null()
        )
        await _end(rows, actor_id=user_id, reason="logout", now=now)


async def count_live(*, user_id: int, policy: SessionPolicy, now: dt.datetime) -> int:
    return len(await _live_rows(StaffSession.user == user_id, policy, now))


async def prune(policy: SessionPolicy, now: dt.datetime) -> int:
    """Delete the rows of ended and expired sessions (their history is in the audit log)."""
    idle = now - dt.timedelta(seconds=policy.idle_seconds)
    absolute = now - dt.timedelta(seconds=policy.absolute_seconds)
    async with write_transaction():
        rows = (
            await StaffSession.delete()
            .where(
                StaffSession.ended_at.is_not_null()
                | (StaffSession.last_seen_at <= idle)
                | (StaffSession.created_at <= absolute)
            )
            .returning(StaffSession.id)
        )
    return len(rows)
