"""The mail outbox: mails are rows written in the transaction of the change that causes them.

A sender claims one row at a time with a lease (compare-and-set), delivers it, then marks it
sent. A sender that dies leaves the lease to expire and the mail is retried, with the same
Message-ID, so nothing is lost. Failures back off exponentially up to ``max_attempts``.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

from ambassador import metrics
from ambassador.db import utcnow, write_transaction
from ambassador.enums import MailStatus
from ambassador.mail import DeliveryError, Transport, build_message
from ambassador.tables import OutboxMail

log = logging.getLogger("ambassador.outbox")

MAX_BACKOFF_SECONDS = 3600


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

    ``not_before`` holds it back until a moment (a publication's embargo).
    """
    mail = OutboxMail(
        message_id=f"<{secrets.token_hex(16)}@{domain}>",
        to_address=to,
        subject=subject[:300],
        body_text=body,
        language=language,
        status=MailStatus.PENDING.value,
        next_attempt_at=max(not_before, utcnow()) if not_before else utcnow(),
    )
    async with write_transaction():
        await mail.save()
    return mail


def backoff_seconds(attempts: int) -> int:
    """30 s, 1 min, 2 min … capped at an hour."""
    return int(min(MAX_BACKOFF_SECONDS, 30 * 2 ** max(0, attempts - 1)))


async def _claim_next(lease_seconds: int) -> OutboxMail | None:
    now = utcnow()
    due = (
        await OutboxMail.objects()
        .where(
            (OutboxMail.status == MailStatus.PENDING.value)
            & (OutboxMail.next_attempt_at <= now)
            & ((OutboxMail.lease_until.is_null()) | (OutboxMail.lease_until < now))
        )
        .order_by(OutboxMail.id)
        .first()
    )
    if due is None:
        return None
    # Compare-and-set: only one sender wins the row, whatever the number of processes.
    claimed = (
        await OutboxMail.update(
            {
                OutboxMail.lease_until: now + dt.timedelta(seconds=lease_seconds),
                OutboxMail.attempts: OutboxMail.attempts + 1,
            }
        )
        .where(
            (OutboxMail.id == due.id)
            & (OutboxMail.status == MailStatus.PENDING.value)
            & (OutboxMail.attempts == due.attempts)
        )
        .returning(OutboxMail.id)
    )
    if not claimed:
        return None
    due.attempts += 1
    return due


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    gave_up: int = 0


async def send_due(
    transport: Transport,
    *,
    sender: str,
    lease_seconds: int = 120,
    max_attempts: int = 8,
    limit: int = 100,
) -> SendReport:
    """Deliver the mails that are due, one claimed row at a time."""
    report = SendReport()
    for _ in range(limit):
        mail = await _claim_next(lease_seconds)
        if mail is None:
            break
        message = build_message(
            message_id=mail.message_id,
            sender=sender,
            to=mail.to_address,
            subject=mail.subject,
            body=mail.body_text,
            language=mail.language,
        )
        try:
            await transport.deliver(message)
        except DeliveryError as exc:
            gave_up = mail.attempts >= max_attempts
            await OutboxMail.update(
                {
                    OutboxMail.lease_until: None,
                    OutboxMail.last_error: str(exc)[:500],
                    OutboxMail.next_attempt_at: utcnow() + dt.timedelta(seconds=backoff_seconds(mail.attempts)),
                    OutboxMail.status: (MailStatus.FAILED if gave_up else MailStatus.PENDING).value,
                }
            ).where(OutboxMail.id == mail.id)
            log.warning("mail %s not delivered (attempt %s)", mail.id, mail.attempts)
            report.failed += 1
            metrics.MAILS_FAILED.inc()
            report.gave_up += int(gave_up)
            continue
        await OutboxMail.update(
            {
                OutboxMail.status: MailStatus.SENT.value,
                OutboxMail.sent_at: utcnow(),
                OutboxMail.lease_until: None,
                OutboxMail.last_error: "",
            }
        ).where(OutboxMail.id == mail.id)
        report.sent += 1
        metrics.MAILS_SENT.inc()
    return report


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
