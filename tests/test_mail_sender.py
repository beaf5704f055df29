"""The sender that keeps up: kept-open connections, concurrency, rate, reconnection, several
senders, TLS in production, and the ``mail send --loop`` service stopping on SIGTERM.

Every server here is a real aiosmtpd; the waits poll with a deadline.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme

from ambassador.db import utcnow
from ambassador.domain import outbox
from ambassador.enums import MailStatus
from ambassador.mail import SmtpTransport
from ambassador.settings import Settings
from ambassador.tables import OutboxMail
from tests.conftest import SECRET
from tests.helpers import eventually
from tests.smtp import RecordingHandler, smtp_server

SENDER = "Ambassador <no-reply@example.org>"
DEADLINE = 60.0


async def _queue(count: int) -> list[str]:
    mails = [
        await outbox.queue_mail(to=f"person-{n}@example.org", subject=f"Mail {n}", body="Treść", language="pl")
        for n in range(count)
    ]
    return sorted(m.message_id for m in mails)


async def _statuses() -> dict[str, int]:
    rows = await OutboxMail.select(OutboxMail.status).output(as_list=True)
    return {status: rows.count(status) for status in sorted(set(rows))}


async def _until(condition: Callable[[], bool], what: str, deadline: float = DEADLINE) -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"not within {deadline:.0f} s: {what}")
        await asyncio.sleep(0.05)


def _sender(url: str, **options: object) -> outbox.OutboxSender:
    return outbox.OutboxSender(SmtpTransport(url, timeout=10), SENDER, **options)  # type: ignore[arg-type]


async def test_many_mails_go_over_one_kept_open_connection() -> None:
    expected = await _queue(12)
    with smtp_server() as (handler, url):
        report = await _sender(url, concurrency=1, rate=1000).run()

        assert (report.sent, report.failed) == (12, 0)
        assert sorted(handler.message_ids()) == expected
        assert handler.connections == 1
        await _until(lambda: handler.open_now == 0, "the connection closed after the run")
    assert await _statuses() == {"sent": 12}


async def test_connections_at_once_never_exceed_the_concurrency() -> None:
    expected = await _queue(30)
    with smtp_server(delay_seconds=0.05) as (handler, url):
        report = await _sender(url, concurrency=3, rate=1000).run()

    assert (report.sent, report.failed) == (30, 0)
    assert sorted(handler.message_ids()) == expected
    assert await _statuses() == {"sent": 30}
    # Each of the three connections is opened once and kept for every batch.
    assert (handler.connections, handler.most_open) == (3, 3)


async def test_the_rate_spaces_the_mails_evenly() -> None:
    expected = await _queue(5)
    now = [0.0]
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    with smtp_server() as (handler, url):
        report = await _sender(url, concurrency=1, rate=4, clock=lambda: now[0], sleep=fake_sleep).run()

    assert (report.sent, report.failed) == (5, 0)
    assert sorted(handler.message_ids()) == expected
    assert waits == [0.25, 0.25, 0.25, 0.25]
    assert await _statuses() == {"sent": 5}


async def test_the_rate_limiter_does_not_save_up_idle_time() -> None:
    now = [0.0]
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limiter = outbox.RateLimiter(2, clock=lambda: now[0], sleep=fake_sleep)
    for _ in range(3):
        await limiter.wait()
    now[0] += 10.0  # idle for a while: no burst afterwards
    for _ in range(3):
        await limiter.wait()

    assert waits == [0.5, 0.5, 0.5, 0.5]


async def test_a_server_that_drops_the_connection_loses_nothing_and_doubles_nothing() -> None:
    expected = await _queue(10)
    with smtp_server(drop_every=3) as (handler, url):
        report = await _sender(url, concurrency=1, rate=1000).run()

    assert (report.sent, report.failed) == (10, 0)
    assert sorted(handler.message_ids()) == expected
    # Dropped after the 3rd, 6th and 9th message: four connections for ten mails.
    assert handler.connections == 4
    assert await _statuses() == {"sent": 10}


async def test_a_failed_delivery_keeps_its_retry_and_the_rest_go() -> None:
    expected = await _queue(3)
    refused = await outbox.queue_mail(to="nobody@", subject="s", body="b", language="en")
    with smtp_server() as (handler, url):
        report = await _sender(url, concurrency=2, rate=1000).run()

    assert (report.sent, report.failed) == (3, 1)
    assert sorted(handler.message_ids()) == expected
    assert await _statuses() == {"pending": 1, "sent": 3}
    stored = await OutboxMail.objects().where(OutboxMail.id == refused.id).first()
    assert stored is not None
    assert (stored.status, stored.attempts, stored.message_id) == ("pending", 1, refused.message_id)


def _env(database_url: str, tmp_path: Path, url: str, **extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("AMBASSADOR_")},
        "AMBASSADOR_DATABASE_URL": database_url,
        "AMBASSADOR_SECRET_KEY": SECRET,
        "AMBASSADOR_VAR_DIR": str(tmp_path / "var"),
        "AMBASSADOR_SMTP_URL": url,
        "AMBASSADOR_MAIL_POLL_SECONDS": "0.2",
        **extra,
    }


def _loop(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "ambassador", "mail", "send", "--loop"], env=env, stdout=out, stderr=out
        )


async def _stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    await _until(lambda: process.poll() is not None, "the sender exited after SIGTERM", 30)
    return int(process.returncode)


async def test_two_sender_processes_deliver_each_mail_once(database_url: str, tmp_path: Path) -> None:
    expected = await _queue(60)
    with smtp_server(delay_seconds=0.01) as (handler, url):
        env = _env(database_url, tmp_path, url, AMBASSADOR_MAIL_CONCURRENCY="2", AMBASSADOR_MAIL_RATE="200")
        senders = [_loop(env, tmp_path / f"sender-{n}.log") for n in range(2)]
        try:
            await _until(lambda: len(handler.messages) >= 60, "60 mails received")
            codes = [await _stop(p) for p in senders]
        finally:
            for process in senders:
                if process.poll() is None:
                    process.kill()
                    process.wait(10)

    assert codes == [0, 0]
    assert sorted(handler.message_ids()) == expected
    assert await _statuses() == {"sent": 60}
    logs = "".join((tmp_path / f"sender-{n}.log").read_text() for n in range(2))
    assert '"message": "mail sender stopped"' in logs


async def test_the_loop_stops_on_sigterm_and_loses_nothing(database_url: str, tmp_path: Path) -> None:
    expected = await _queue(20)
    with smtp_server(delay_seconds=0.2) as (handler, url):
        env = _env(database_url, tmp_path, url, AMBASSADOR_MAIL_CONCURRENCY="2", AMBASSADOR_MAIL_RATE="100")
        sender = _loop(env, tmp_path / "sender.log")
        try:
            await _until(lambda: len(handler.messages) >= 2, "the first mails received")
            code = await _stop(sender)
        finally:
            if sender.poll() is None:
                sender.kill()
                sender.wait(10)
        received_at_stop = sorted(handler.message_ids())
        sent = OutboxMail.status == MailStatus.SENT.value
        sent_rows = await OutboxMail.select(OutboxMail.message_id).where(sent).output(as_list=True)
        # The rest: nothing leased or counted as tried, ready for the next sender at once.
        pending = OutboxMail.status == MailStatus.PENDING.value
        left = await OutboxMail.select(OutboxMail.attempts, OutboxMail.lease_until).where(pending)

        report = await _sender(url, concurrency=2, rate=1000).run()

    assert code == 0
    assert received_at_stop == sorted(sent_rows)
    assert 2 <= len(received_at_stop) < 20
    assert {(row["attempts"], row["lease_until"]) for row in left} == {(0, None)}
    assert report.sent == 20 - len(received_at_stop)
    assert sorted(handler.message_ids()) == expected
    log_lines = (tmp_path / "sender.log").read_text()
    assert '"message": "mails sent"' in log_lines


# --- TLS in production (audit finding F4) -----------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


def _production(settings: Settings, url: str, ca_file: Path | None) -> Settings:
    """The test's settings in production mode (TLS required), sending to ``url``."""
    return settings.with_changes(env="production", smtp_url=url, smtp_ca_file=ca_file, mail_from=SENDER, mail_rate=1000)


async def test_production_never_sends_in_clear_to_a_server_without_starttls(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    mail = await outbox.queue_mail(to="a@example.org", subject="Reset link", body="secret link", language="en")
    with smtp_server(auth=True) as (handler, url):
        credentials = url.replace("smtp://", "smtp://mailuser:S3cretSMTPpass@")
        with caplog.at_level(logging.WARNING, logger="ambassador.outbox"):
            report = await outbox.sender_for(_production(settings, credentials, None)).run()

    assert (report.sent, report.failed) == (0, 1)
    assert (handler.messages, handler.auth_attempts) == ([], [])
    stored = await OutboxMail.objects().where(OutboxMail.id == mail.id).first()
    assert stored is not None
    assert (stored.status, stored.attempts) == (MailStatus.PENDING.value, 1)
    assert "STARTTLS extension not supported" in stored.last_error
    assert "S3cret" not in stored.last_error
    warned = [r for r in caplog.records if r.getMessage() == "mail not delivered"]
    assert [r.reason for r in warned] == [stored.last_error]  # type: ignore[attr-defined]


async def test_development_still_sends_to_a_server_without_starttls(settings: Settings) -> None:
    expected = await _queue(1)
    with smtp_server() as (handler, url):
        report = await outbox.sender_for(_production(settings, url, None).with_changes(env="development")).run()

    assert (report.sent, handler.message_ids(), handler.tls_sessions) == (1, expected, 0)
    assert await _statuses() == {"sent": 1}


async def test_production_starttls_with_the_relays_ca_file_delivers(
    settings: Settings, tmp_path: Path, ca: trustme.CA
) -> None:
    expected = await _queue(3)
    ca_file = tmp_path / "relay-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with smtp_server(starttls=_server_context(ca), auth=True) as (handler, url):
        credentials = url.replace("smtp://", "smtp://mailuser:S3cretSMTPpass@")
        report = await outbox.sender_for(_production(settings, credentials, ca_file)).run()

    assert (report.sent, report.failed) == (3, 0)
    assert sorted(handler.message_ids()) == expected
    assert await _statuses() == {"sent": 3}
    # Three mails, four connections allowed: one each, each upgraded before it logged in.
    assert (handler.tls_sessions, handler.auth_attempts, handler.connections) == (3, ["PLAIN"] * 3, 3)


async def test_production_starttls_with_an_unknown_certificate_stays_queued(settings: Settings, ca: trustme.CA) -> None:
    await _queue(1)
    with smtp_server(starttls=_server_context(ca)) as (handler, url):
        report = await outbox.sender_for(_production(settings, url, None)).run()

    assert (report.sent, report.failed, handler.messages) == (0, 1, [])
    stored = await OutboxMail.objects().first()
    assert stored is not None
    assert (stored.status, stored.attempts) == (MailStatus.PENDING.value, 1)
    assert "CERTIFICATE_VERIFY_FAILED" in stored.last_error


async def test_production_smtps_is_implicit_tls(settings: Settings, tmp_path: Path, ca: trustme.CA) -> None:
    expected = await _queue(2)
    ca_file = tmp_path / "relay-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with smtp_server(implicit_tls=_server_context(ca)) as (handler, url):
        report = await outbox.sender_for(_production(settings, url, ca_file)).run()

    assert (report.sent, report.failed) == (2, 0)
    assert sorted(handler.message_ids()) == expected
    assert handler.tls_sessions == 2
    assert await _statuses() == {"sent": 2}


def test_recording_handler_counts_connections() -> None:
    handler = RecordingHandler()
    handler.opened()
    handler.opened()
    handler.closed()
    assert (handler.connections, handler.open_now, handler.most_open) == (2, 1, 2)


# --- the web workers' background task ---------------------------------------------------


@pytest.mark.parametrize("in_web", [True, False])
async def test_mail_in_web_decides_whether_the_web_workers_send(settings: Settings, in_web: bool) -> None:
    from litestar.testing import AsyncTestClient

    from ambassador.tables import ThrottleCounter
    from ambassador.web.app import create_app

    mail = await outbox.queue_mail(to="a@example.org", subject="s", body="b", language="en")
    await ThrottleCounter.insert(
        ThrottleCounter(bucket="x", key_hash="x" * 64, keep_until=int(utcnow().timestamp()) - 1)
    )
    # The chores stop at the rate-limit store's directory until a nomination has made it.
    (settings.var_dir / "rate-limits").mkdir(parents=True, exist_ok=True)
    app_settings = settings.with_changes(background_tasks=True, mail_in_web=in_web, mail_poll_seconds=0.05)
    async with AsyncTestClient(app=create_app(app_settings)):
        # The maintenance chores ran (the old failure is gone) and go on with mail_in_web off;
        # a sender, when there is one, is started before them and polls every 0.05 s.
        async def chores_ran() -> bool:
            return bool(await ThrottleCounter.count() == 0)

        async def sent() -> bool:
            return (await _statuses()).get("sent") == 1

        assert await eventually(chores_ran, DEADLINE)
        if in_web:
            assert await eventually(sent, DEADLINE)
    stored = await OutboxMail.objects().where(OutboxMail.id == mail.id).first()
    assert stored is not None
    assert stored.status == ("sent" if in_web else "pending")
    assert len(list((settings.mail_dir).glob("*.eml"))) == int(in_web)
