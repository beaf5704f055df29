"""The outbox delivers through a real SMTP server, retries with back-off, survives crashes."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

from ambassador.db import utcnow, write_transaction
from ambassador.domain import outbox
from ambassador.enums import MailStatus
from ambassador.mail import FileTransport, SmtpTransport
from ambassador.tables import OutboxMail
from tests.conftest import SECRET
from tests.smtp import free_port, smtp_server

SENDER = "Ambassador <no-reply@example.org>"


async def test_queued_mail_is_delivered_once_over_smtp() -> None:
    mail = await outbox.queue_mail(to="juror@example.org", subject="Zaproszenie", body="Treść ąę", language="pl")
    with smtp_server() as (handler, url):
        report = await outbox.send_due(SmtpTransport(url), sender=SENDER)
        again = await outbox.send_due(SmtpTransport(url), sender=SENDER)

    assert (report.sent, again.sent) == (1, 0)
    assert len(handler.messages) == 1
    received = handler.messages[0]
    assert received["Message-ID"] == mail.message_id
    assert received["To"] == "juror@example.org"
    assert received["Content-Language"] == "pl"
    signature = "Krakowski Ambasador Wielokulturowości\nUrząd Miasta Krakowa"  # the shipped honour's, in Polish
    payload = received.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert payload.replace("\r\n", "\n").strip() == f"Treść ąę\n\n-- \n{signature}"
    stored = await OutboxMail.objects().where(OutboxMail.id == mail.id).first()
    assert stored is not None
    assert stored.status == MailStatus.SENT.value


async def test_mail_rolls_back_with_the_change_that_caused_it() -> None:
    class Refused(Exception):
        pass

    try:
        async with write_transaction():
            await outbox.queue_mail(to="a@example.org", subject="s", body="b", language="pl")
            raise Refused
    except Refused:
        pass

    assert await OutboxMail.count() == 0


async def test_unreachable_server_backs_off_and_keeps_the_mail() -> None:
    mail = await outbox.queue_mail(to="a@example.org", subject="s", body="b", language="en")
    dead = SmtpTransport(f"smtp://127.0.0.1:{free_port()}", timeout=2)

    report = await outbox.send_due(dead, sender=SENDER)

    assert (report.sent, report.failed) == (0, 1)
    stored = await OutboxMail.objects().where(OutboxMail.id == mail.id).first()
    assert stored is not None
    assert stored.status == MailStatus.PENDING.value
    assert stored.attempts == 1
    assert stored.next_attempt_at > utcnow() + dt.timedelta(seconds=20)
    # Not due yet: a second run leaves it alone.
    assert (await outbox.send_due(dead, sender=SENDER)).failed == 0


async def test_mail_gives_up_after_the_maximum_attempts() -> None:
    await outbox.queue_mail(to="a@example.org", subject="s", body="b", language="en")
    dead = SmtpTransport(f"smtp://127.0.0.1:{free_port()}", timeout=2)
    for _ in range(3):
        await OutboxMail.update({OutboxMail.next_attempt_at: utcnow()}).where(OutboxMail.id > 0)
        await outbox.send_due(dead, sender=SENDER, max_attempts=3)

    stored = await OutboxMail.objects().first()
    assert stored is not None
    assert (stored.status, stored.attempts) == (MailStatus.FAILED.value, 3)


async def test_without_smtp_mail_is_written_as_an_eml_file(tmp_path: Path) -> None:
    mail = await outbox.queue_mail(to="a@example.org", subject="Hello", body="Body", language="en")

    await outbox.send_due(FileTransport(tmp_path / "mail"), sender=SENDER)

    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1
    assert mail.message_id.strip("<>").split("@")[0] in files[0].name
    assert b"Subject: Hello" in files[0].read_bytes()


async def test_a_mail_survives_a_crash_of_the_sender(database_url: str, tmp_path: Path) -> None:
    mail = await outbox.queue_mail(to="a@example.org", subject="Crash", body="Body", language="en")
    env = {
        **os.environ,
        "AMBASSADOR_DATABASE_URL": database_url,
        "AMBASSADOR_SECRET_KEY": SECRET,
        "AMBASSADOR_VAR_DIR": str(tmp_path / "var"),
    }
    with smtp_server(stall_seconds=30) as (stalling, url):
        sender = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "ambassador", "mail", "send"),
            env={**env, "AMBASSADOR_SMTP_URL": url},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # The server saw the message's DATA: the sender is inside the SMTP conversation.
        reached = await asyncio.to_thread(stalling.data_received.wait, 30)
        sender.send_signal(signal.SIGKILL)
        await asyncio.wait_for(sender.wait(), 10)
    assert reached, "the sender never reached DATA within 30 s"
    assert stalling.messages == []
    stored = await OutboxMail.objects().where(OutboxMail.id == mail.id).first()
    assert stored is not None
    assert (stored.status, stored.attempts) == (MailStatus.PENDING.value, 1)
    assert stored.lease_until is not None and stored.lease_until > utcnow()  # the dead sender's lease

    # The lease runs out (moved into the past rather than waited for); the mail goes out again.
    await OutboxMail.update({OutboxMail.lease_until: utcnow() - dt.timedelta(seconds=1)}).where(
        OutboxMail.id == mail.id
    )
    with smtp_server() as (handler, url):
        report = await outbox.send_due(SmtpTransport(url), sender=SENDER)
        await outbox.send_due(SmtpTransport(url), sender=SENDER)

    assert report.sent == 1
    assert [m["Message-ID"] for m in handler.messages] == [mail.message_id]
