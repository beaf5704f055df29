"""Mail transports: SMTP (aiosmtplib) or .eml files under var/mail/ in development.

A leaf module: it knows how to deliver one message and nothing about the outbox.
"""

from __future__ import annotations

import os
import tempfile
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib
import anyio.to_thread


class Transport(Protocol):
    async def deliver(self, message: EmailMessage) -> None: ...


class DeliveryError(Exception):
    """The message was not accepted; the outbox retries later."""


def build_message(*, message_id: str, sender: str, to: str, subject: str, body: str, language: str) -> EmailMessage:
    message = EmailMessage()
    message["Message-ID"] = message_id
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    # After set_content, which drops every Content-* header set before it.
    message["Content-Language"] = language
    return message


class FileTransport:
    """Writes each message as ``<id>.eml``; rewriting the same message is idempotent."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def deliver(self, message: EmailMessage) -> None:
        await anyio.to_thread.run_sync(self._write, message)

    def _write(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = "".join(c for c in str(message["Message-ID"]) if c.isalnum() or c in "-_.")
        target = self.directory / f"{name}.eml"
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(message.as_bytes())
        Path(tmp).replace(target)


class SmtpTransport:
    """``smtp://user:pass@host:port`` (STARTTLS when offered) or ``smtps://`` (implicit TLS)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("AMBASSADOR_SMTP_URL must start with smtp:// or smtps://")
        self.hostname = parts.hostname or "localhost"
        self.port = parts.port or (465 if parts.scheme == "smtps" else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.use_tls = parts.scheme == "smtps"
        self.timeout = timeout

    async def deliver(self, message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(
                message,
                hostname=self.hostname,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.use_tls,
                start_tls=None,
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryError(type(exc).__name__) from exc


def transport_for(smtp_url: str | None, mail_dir: Path) -> Transport:
    return SmtpTransport(smtp_url) if smtp_url else FileTransport(mail_dir)
