"""The mail outbox: mails are rows written in the transaction of the change that causes them.

A sender claims a batch of due rows in one statement, which sets a lease on each and counts
the attempt (a compare-and-set: a row is claimed only while it is pending, due and not leased
by anyone, so with several senders, in one process or many, each row goes to one of them).
It delivers the batch over up to ``concurrency`` SMTP connections kept open between mails, at
most ``rate`` mails a second, and marks each mail sent as soon as the server has accepted it
(a mark the database refused is made again before the next claim). A sender that dies leaves
its leases to expire and the mails are retried with the same Message-ID, so nothing is lost
(the mail each connection was delivering at the death may go twice). Failures back off
exponentially up to ``max_attempts``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from piccolo.custom_types import Combinable

from ambassador import honour, metrics
from ambassador.db import is_sqlite, queued_write, utcnow, write_transaction
from ambassador.enums import MailStatus
from ambassador.mail import Connection, DeliveryError, Transport, build_message, transport_for
from ambassador.settings import Settings
from ambassador.tables import OutboxMail

log = logging.getLogger("ambassador.outbox")

MAX_BACKOFF_SECONDS = 3600
# A batch is about a second of work at the rate, at most this many rows.
MAX_BATCH = 100
# Connections unused this long are closed (servers close idle ones anyway, after a minute or more).
IDLE_CLOSE_SECONDS = 30.0


async def queue_mail(
    *,
    to: str,
    subject: str,
    body: str,
    language: str,
    domain: str = "ambassador.local",
    not_before: dt.datetime | None = None,
) -> OutboxMail:
    """Queue one mail; call it inside the transaction of the change that causes it.

    ``not_before`` holds it back until a moment (a publication's embargo). The body ends with
    the honour's signature in the mail's language, after the usual ``-- `` line.
    """
    mail = OutboxMail(
        message_id=f"<{secrets.token_hex(16)}@{domain}>",
        to_address=to,
        subject=subject[:300],
        body_text=signed(body, language),
        language=language,
        status=MailStatus.PENDING.value,
        next_attempt_at=max(not_before, utcnow()) if not_before else utcnow(),
    )
    async with write_transaction():
        await mail.save()
    return mail


def signed(body: str, language: str) -> str:
    """A mail's body with the honour's signature in its language, after the ``-- `` line."""
    return f"{body}\n\n-- \n{honour.active().text('mail_signature', language)}"


def backoff_seconds(attempts: int) -> int:
    """30 s, 1 min, 2 min … capped at an hour."""
    return int(min(MAX_BACKOFF_SECONDS, 30 * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Claimed:
    """A row this sender holds the lease of; ``attempts`` counts this attempt."""

    id: int
    message_id: str
    to_address: str
    subject: str
    body_text: str
    language: str
    attempts: int


def _due(now: dt.datetime) -> Combinable:
    return (
        (OutboxMail.status == MailStatus.PENDING.value)
        & (OutboxMail.next_attempt_at <= now)
        & ((OutboxMail.lease_until.is_null()) | (OutboxMail.lease_until < now))
    )


async def has_due() -> bool:
    """The idle sender's question: one indexed read, no write lock."""
    return bool(await OutboxMail.exists().where(_due(utcnow())))


async def claim(limit: int, lease_seconds: int) -> list[Claimed]:
    """Lease up to ``limit`` due mails, oldest first, in one statement.

    The outer condition repeats the inner one: on PostgreSQL a row another sender updated
    meanwhile is checked again against its new version (and ``SKIP LOCKED`` passes over rows
    another sender is claiming right now); SQLite runs one write statement at a time.
    """
    now = utcnow()
    pick = OutboxMail.select(OutboxMail.id).where(_due(now)).order_by(OutboxMail.id).limit(limit)
    if not is_sqlite():
        pick = pick.lock_rows("UPDATE", skip_locked=True)
    async with queued_write():
        rows = (
            await OutboxMail.update(
                {
                    OutboxMail.lease_until: now + dt.timedelta(seconds=lease_seconds),
                    OutboxMail.attempts: OutboxMail.attempts + 1,
                }
            )
            .where(OutboxMail.id.is_in(pick) & _due(now))
            .returning(
                OutboxMail.id,
                OutboxMail.message_id,
                OutboxMail.to_address,
                OutboxMail.subject,
                OutboxMail.body_text,
                OutboxMail.language,
                OutboxMail.attempts,
            )
        )
    return sorted((Claimed(**row) for row in rows), key=lambda mail: mail.id)


async def _mark_sent(ids: list[int]) -> None:
    """Delivered: sent, whoever holds the lease now (it went out)."""
    async with queued_write():
        await OutboxMail.update(
            {
                OutboxMail.status: MailStatus.SENT.value,
                OutboxMail.sent_at: utcnow(),
                OutboxMail.lease_until: None,
                OutboxMail.last_error: "",
            }
        ).where(OutboxMail.id.is_in(ids))


async def _mark_failed(mail: Claimed, reason: str, max_attempts: int) -> bool:
    """Back off, or give up after ``max_attempts``; True when given up.

    Only while this attempt is still the row's last one: a sender whose lease ran out must
    not turn a mail that another sender has since delivered back into a pending one.
    """
    gave_up = mail.attempts >= max_attempts
    async with queued_write():
        await OutboxMail.update(
            {
                OutboxMail.lease_until: None,
                OutboxMail.last_error: reason[:500],
                OutboxMail.next_attempt_at: utcnow() + dt.timedelta(seconds=backoff_seconds(mail.attempts)),
                OutboxMail.status: (MailStatus.FAILED if gave_up else MailStatus.PENDING).value,
            }
        ).where(
            (OutboxMail.id == mail.id)
            & (OutboxMail.status == MailStatus.PENDING.value)
            & (OutboxMail.attempts == mail.attempts)
        )
    return gave_up


async def _release(mails: list[Claimed]) -> None:
    """Give back leases of mails not attempted (stopping, or the batch ran out of time)."""
    async with queued_write():
        for mail in mails:
            await OutboxMail.update({OutboxMail.lease_until: None, OutboxMail.attempts: OutboxMail.attempts - 1}).where(
                (OutboxMail.id == mail.id)
                & (OutboxMail.status == MailStatus.PENDING.value)
                & (OutboxMail.attempts == mail.attempts)
            )


Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class RateLimiter:
    """At most ``rate`` starts a second, evenly spaced (no burst); shared by the connections."""

    def __init__(self, rate: float, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        if rate <= 0:
            raise ValueError("the mail rate must be above 0")
        self.interval = 1.0 / rate
        self.clock = clock
        self.sleep = sleep
        self._next: float | None = None

    async def wait(self) -> None:
        now = self.clock()
        slot = now if self._next is None else max(now, self._next)
        self._next = slot + self.interval  # taken before waiting: the next caller queues behind
        if slot > now:
            await self.sleep(slot - now)


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    gave_up: int = 0
    released: int = 0


@dataclass
class OutboxSender:
    """Delivers the outbox: batches claimed in one statement, sent over kept-open connections.

    One sender per process (the web worker's background task, or ``ambassador mail send``);
    any number of them may share a database.
    """

    transport: Transport
    sender: str
    lease_seconds: int = 120
    max_attempts: int = 8
    concurrency: int = 4
    rate: float = 10.0
    poll_seconds: float = 1.0
    idle_close_seconds: float = IDLE_CLOSE_SECONDS
    clock: Clock = time.monotonic
    sleep: Sleep = asyncio.sleep
    report: SendReport = field(default_factory=SendReport)
    # Work that queues mails, done before each claim (the recorded password-reset requests).
    before_claim: Callable[[], Awaitable[object]] | None = None

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("the mail concurrency must be at least 1")
        self.limiter = RateLimiter(self.rate, self.clock, self.sleep)
        self._connections: list[Connection | None] = [None] * self.concurrency
        self._last_used = self.clock()
        self._unmarked: list[int] = []

    @property
    def batch_size(self) -> int:
        """About a second of work at the rate, at least one mail per connection."""
        return max(self.concurrency, min(MAX_BATCH, math.ceil(self.rate)))

    async def run(self, stop: asyncio.Event | None = None, *, limit: int | None = None) -> SendReport:
        """Send until ``stop`` is set (polling every ``poll_seconds`` when nothing is due).

        Without ``stop``: until nothing is due, or ``limit`` mails were claimed. A set ``stop``
        lets the mails being delivered finish; claimed mails not yet begun are given back.
        """
        claimed_total = 0
        failures_in_a_row = 0
        try:
            while stop is None or not stop.is_set():
                room = self.batch_size if limit is None else min(self.batch_size, limit - claimed_total)
                if room <= 0:
                    break
                try:
                    if self.before_claim is not None:
                        await self.before_claim()
                    await self._flush_unmarked()
                    if self._unmarked:
                        raise RuntimeError("the database does not take the marks of delivered mails")
                    batch = await claim(room, self.lease_seconds) if await has_due() else []
                    failures_in_a_row = 0
                except Exception:
                    failures_in_a_row += 1
                    log.exception("claiming mails failed; retrying")
                    if stop is None:
                        raise
                    await self._wait(stop, min(60.0, self.poll_seconds * 2**failures_in_a_row))
                    continue
                claimed_total += len(batch)
                if batch:
                    await self._send_batch(batch, stop)
                if len(batch) < room:
                    if stop is None:
                        break
                    await self._close_idle()
                    await self._wait(stop, self.poll_seconds)
        finally:
            with contextlib.suppress(Exception):
                await self._flush_unmarked()
            await self.close()
        return self.report

    async def _wait(self, stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    async def _send_batch(self, batch: list[Claimed], stop: asyncio.Event | None) -> None:
        pending = deque(batch)
        # Leave half of the lease as margin: mails not begun by then are given back.
        deadline = self.clock() + self.lease_seconds / 2
        sent: list[int] = []
        unstarted: list[Claimed] = []

        async def work(slot: int) -> None:
            while pending:
                if (stop is not None and stop.is_set()) or self.clock() > deadline:
                    unstarted.extend(pending)
                    pending.clear()
                    return
                mail = pending.popleft()
                await self.limiter.wait()
                if await self._deliver(slot, mail):
                    sent.append(mail.id)
                    await self._record_sent([mail.id])

        await asyncio.gather(*(work(slot) for slot in range(min(self.concurrency, len(batch)))))
        self._last_used = self.clock()
        if sent:
            self.report.sent += len(sent)
            metrics.MAILS_SENT.inc(len(sent))
            log.info("mails sent", extra={"mail_ids": sent})
        if unstarted:
            await _release(unstarted)
            self.report.released += len(unstarted)

    async def _record_sent(self, ids: list[int]) -> None:
        """Mark delivered mails sent at once, each as it goes: a crash repeats at most the mail
        each connection has in flight. When the database fails, the ids are kept and marked
        again before the next claim (within the lease, nothing is sent twice)."""
        try:
            await _mark_sent(ids)
        except Exception:
            self._unmarked.extend(ids)
            log.exception("marking delivered mails sent failed; retrying before the next claim")

    async def _flush_unmarked(self) -> None:
        if self._unmarked:
            ids, self._unmarked = self._unmarked, []
            await self._record_sent(ids)

    async def _deliver(self, slot: int, mail: Claimed) -> bool:
        connection = self._connections[slot]
        if connection is None:
            connection = self._connections[slot] = self.transport.connection()
        try:
            try:
                message = build_message(
                    message_id=mail.message_id,
                    sender=self.sender,
                    to=mail.to_address,
                    subject=mail.subject,
                    body=mail.body_text,
                    language=mail.language,
                )
            except (ValueError, IndexError) as exc:  # the email package on a malformed address
                raise DeliveryError(f"the message could not be built: {type(exc).__name__}: {exc}") from exc
            await connection.deliver(message)
        except DeliveryError as exc:
            reason = str(exc)
            gave_up = await _mark_failed(mail, reason, self.max_attempts)
            log.warning(
                "mail not delivered",
                extra={"mail_id": mail.id, "attempt": mail.attempts, "gave_up": gave_up, "reason": reason[:500]},
            )
            self.report.failed += 1
            metrics.MAILS_FAILED.inc()
            self.report.gave_up += int(gave_up)
            return False
        return True

    async def _close_idle(self) -> None:
        if self.clock() - self._last_used >= self.idle_close_seconds:
            await self.close()

    async def close(self) -> None:
        """Close every connection (QUIT); the next mail opens new ones."""
        connections, self._connections = self._connections, [None] * self.concurrency
        for connection in connections:
            if connection is not None:
                await connection.close()


async def send_due(
    transport: Transport,
    *,
    sender: str,
    lease_seconds: int = 120,
    max_attempts: int = 8,
    limit: int = 100,
    concurrency: int = 1,
    rate: float = 1000.0,
) -> SendReport:
    """Deliver the mails that are due now (at most ``limit``), then return."""
    worker = OutboxSender(
        transport,
        sender,
        lease_seconds=lease_seconds,
        max_attempts=max_attempts,
        concurrency=concurrency,
        rate=rate,
    )
    return await worker.run(limit=limit)


def sender_for(settings: Settings, **overrides: Any) -> OutboxSender:
    """The sender as the settings describe it: TLS required in production, the rate, the connections.

    Before each claim it processes the recorded password-reset requests and queues the
    scheduled mails that have come due (``mail_schedule.queue_due``: one indexed query when
    none has), both of which queue mails.
    """
    from ambassador.domain import account_links, login_limits, mail_schedule  # they queue mails through this module

    policy = login_limits.ThrottlePolicy.from_settings(settings)

    async def before_claim() -> None:
        await account_links.process_reset_requests(policy=policy)
        await mail_schedule.queue_due(base_url=settings.base_url)

    transport = transport_for(
        settings.smtp_url, settings.mail_dir, require_tls=settings.production, ca_file=settings.smtp_ca_file
    )
    options: dict[str, Any] = {
        "lease_seconds": settings.mail_lease_seconds,
        "max_attempts": settings.mail_max_attempts,
        "concurrency": settings.mail_concurrency,
        "rate": settings.mail_rate,
        "poll_seconds": settings.mail_poll_seconds,
        "before_claim": before_claim,
    }
    return OutboxSender(transport, settings.mail_from, **(options | overrides))


@dataclass(frozen=True)
class Backlog:
    """The outbox as the metrics see it."""

    due: int  # pending mails whose time has come (leased ones included: not yet sent)
    oldest_due_seconds: float  # how long the longest-waiting of them has been due; 0 when none
    failed: int  # mails given up after the last attempt


async def backlog() -> Backlog:
    """Two counts on the indexed status column, and the oldest due time when any is due."""
    now = utcnow()
    due_now = (OutboxMail.status == MailStatus.PENDING.value) & (OutboxMail.next_attempt_at <= now)
    due = await OutboxMail.count().where(due_now)
    oldest_seconds = 0.0
    if due:
        oldest = (
            await OutboxMail.select(OutboxMail.next_attempt_at)
            .where(due_now)
            .order_by(OutboxMail.next_attempt_at)
            .first()
        )
        if oldest is not None:
            oldest_seconds = max(0.0, (now - oldest["next_attempt_at"]).total_seconds())
    failed = await OutboxMail.count().where(OutboxMail.status == MailStatus.FAILED.value)
    return Backlog(due=due, oldest_due_seconds=oldest_seconds, failed=failed)
