"""Atomic attempt counters in the shared database (ASVS 2.3.2, 2.4.1; issue 12, F1).

An attempt is counted *before* the secret is checked, by one statement::

    INSERT INTO throttle_counter (bucket, …) VALUES (…, 1)
    ON CONFLICT (bucket) DO UPDATE SET attempts = throttle_counter.attempts + excluded.attempts
    RETURNING attempts

Concurrent attempts therefore each get a different count (SQLite runs one writer at a time;
PostgreSQL locks the row), and a burst of 50 guesses gets the counts 1 … 50: only those within
the limit go on to the password check. Every worker and machine shares the database, so the
counters are shared too.

Windows: a *sliding-window approximation* over fixed windows of ``window`` seconds. The
estimate is ``previous × (1 − elapsed/window) + current``; it never lets through more than
the limit in any window, and it does not reset all at once at a window's end (a fixed window
would allow twice the limit across its boundary). An attempt refused by a limit is taken back
(the count is decremented), so waiting the announced ``Retry-After`` is enough, and retries
while throttled do not extend the wait.

Keys are HMAC-SHA-256 of ``kind|value`` with the app's secret: the table holds no email or
address, and the hashes cannot be reversed by trying known emails without the secret.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
from dataclasses import dataclass

from ambassador.db import queued_write, utcnow
from ambassador.tables import ThrottleCounter

# A gate's row keeps, in ``window_start``, the moment it opens again; passing moves it on.
_OPEN_GATE = (
    "INSERT INTO throttle_counter (bucket, key_hash, window_start, attempts, keep_until) "
    "VALUES ({}, {}, {}, 1, {}) "
    "ON CONFLICT (bucket) DO UPDATE SET window_start = excluded.window_start, "
    "attempts = throttle_counter.attempts + 1, keep_until = excluded.keep_until "
    "WHERE throttle_counter.window_start <= {} "
    "RETURNING attempts"
)
_UPSERT = (
    "INSERT INTO throttle_counter (bucket, key_hash, window_start, attempts, keep_until) "
    "VALUES ({}, {}, {}, {}, {}) "
    "ON CONFLICT (bucket) DO UPDATE SET attempts = throttle_counter.attempts + excluded.attempts "
    "RETURNING attempts"
)


@dataclass(frozen=True)
class Decision:
    """The outcome of counting one attempt."""

    allowed: bool
    retry_after: int  # seconds until an attempt would be allowed; 0 when allowed
    bucket: str  # where the attempt was counted (for ``undo``)


def key(secret: str, kind: str, *parts: str) -> str:
    """The counter key of ``kind`` for ``parts`` (an HMAC: no personal data is stored)."""
    message = "|".join((kind, *parts)).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _seconds(now: dt.datetime) -> float:
    return now.timestamp()


def _bucket(key_hash: str, window: int, start: int) -> str:
    return f"{key_hash}:{window}:{start}"


async def _add(key_hash: str, window: int, start: int, delta: int) -> int:
    """Add ``delta`` to one window's count in one statement; the new count."""
    async with queued_write():
        rows = await ThrottleCounter.raw(
            _UPSERT, _bucket(key_hash, window, start), key_hash, start, delta, start + 2 * window
        )
    return int(rows[0]["attempts"])


async def _count(key_hash: str, window: int, start: int) -> int:
    row = (
        await ThrottleCounter.select(ThrottleCounter.attempts)
        .where(ThrottleCounter.bucket == _bucket(key_hash, window, start))
        .first()
    )
    return int(row["attempts"]) if row else 0


def _retry_after(previous: int, current: int, limit: int, window: int, elapsed: float) -> int:
    """Seconds until ``previous × (1 − t/window) + current + 1 ≤ limit`` (one more attempt fits)."""
    if current + 1 <= limit:
        # Only the previous window's share is in the way; it shrinks linearly.
        at = window * (1 - (limit - current - 1) / previous) if previous else elapsed
        wait = at - elapsed
    else:
        # This window's count becomes the next one's "previous" and has to shrink in turn.
        wait = window - elapsed + window * (1 - (limit - 1) / current)
    return max(1, math.ceil(wait))


async def hit(key_hash: str, *, limit: int, window: int, now: dt.datetime | None = None) -> Decision:
    """Count one attempt, then decide: allowed while the estimate stays within ``limit``.

    A refused attempt is taken back at once (see the module's docstring).
    """
    moment = _seconds(now or utcnow())
    start = int(moment // window) * window
    current = await _add(key_hash, window, start, 1)
    previous = await _count(key_hash, window, start - window)
    elapsed = moment - start
    estimate = previous * (1 - elapsed / window) + current
    bucket = _bucket(key_hash, window, start)
    if estimate <= limit:
        return Decision(allowed=True, retry_after=0, bucket=bucket)
    await undo(bucket)
    wait = _retry_after(previous, current - 1, limit, window, elapsed)
    return Decision(allowed=False, retry_after=wait, bucket=bucket)


async def undo(bucket: str) -> None:
    """Take back an attempt counted by ``hit`` (refused by a later limit)."""
    async with queued_write():
        await ThrottleCounter.update({ThrottleCounter.attempts: ThrottleCounter.attempts - 1}).where(
            ThrottleCounter.bucket == bucket
        )


async def record(key_hash: str, *, window: int, now: dt.datetime | None = None) -> float:
    """Count an event that gates nothing by itself (a failure); the estimate after it."""
    moment = _seconds(now or utcnow())
    start = int(moment // window) * window
    current = await _add(key_hash, window, start, 1)
    previous = await _count(key_hash, window, start - window)
    return previous * (1 - (moment - start) / window) + current


async def estimate(key_hash: str, *, window: int, now: dt.datetime | None = None) -> float:
    """The sliding estimate of a key's count, without counting anything."""
    moment = _seconds(now or utcnow())
    start = int(moment // window) * window
    current = await _count(key_hash, window, start)
    previous = await _count(key_hash, window, start - window)
    return previous * (1 - (moment - start) / window) + current


async def once_per_window(key_hash: str, *, window: int, now: dt.datetime | None = None) -> Decision:
    """Allowed for the first attempt of each fixed window only (a slot, a mail per window)."""
    moment = _seconds(now or utcnow())
    start = int(moment // window) * window
    first = await _add(key_hash, window, start, 1) == 1
    return Decision(
        allowed=first,
        retry_after=0 if first else max(1, math.ceil(start + window - moment)),
        bucket=_bucket(key_hash, window, start),
    )


async def gate(key_hash: str, *, interval: int, now: dt.datetime | None = None) -> Decision:
    """One attempt per ``interval`` seconds, measured from the last one let through.

    One statement: the gate's row is moved on only when it is open, so of concurrent
    attempts exactly one passes. ``interval`` may differ from one call to the next (it grows
    while an account is attacked); the wait already set stays.
    """
    moment = math.ceil(_seconds(now or utcnow()))
    bucket = f"{key_hash}:gate"
    async with queued_write():
        passed = await ThrottleCounter.raw(_OPEN_GATE, bucket, key_hash, moment + interval, moment + interval, moment)
    if passed:
        return Decision(allowed=True, retry_after=0, bucket=bucket)
    row = await ThrottleCounter.select(ThrottleCounter.window_start).where(ThrottleCounter.bucket == bucket).first()
    opens = int(row["window_start"]) if row else moment + 1
    return Decision(allowed=False, retry_after=max(1, opens - moment), bucket=bucket)


async def clear(*key_hashes: str) -> None:
    """Forget every window of these keys (a success, an unlock)."""
    async with queued_write():
        await ThrottleCounter.delete().where(ThrottleCounter.key_hash.is_in(list(key_hashes)))


async def prune(now: dt.datetime | None = None) -> int:
    """Drop counters no estimate reads any more (older than two of their windows)."""
    moment = int(_seconds(now or utcnow()))
    async with queued_write():
        rows = await ThrottleCounter.delete().where(ThrottleCounter.keep_until < moment).returning(ThrottleCounter.id)
    return len(rows)
