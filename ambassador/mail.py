"""Mail transports: SMTP (aiosmtplib) or .eml files under var/mail/ in development.

A leaf module: it knows how to deliver one message and nothing about the outbox.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib
import anyio.to_thread
from aiosmtplib.email import extract_recipients, extract_sender, flatten_message


class Connection(Protocol):
    """One open line to the mail server, reused for many messages."""

    async def deliver(self, message: EmailMessage) -> None: ...

    async def close(self) -> None: ...


class Transport(Protocol):
    def connection(self) -> Connection:
        """A connection to deliver many messages on (opened when first used)."""
        ...


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

    def connection(self) -> FileTransport:
        return self

    async def close(self) -> None:
        return None

    def _write(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = "".join(c for c in str(message["Message-ID"]) if c.isalnum() or c in "-_.")
        target = self.directory / f"{name}.eml"
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(message.as_bytes())
        Path(tmp).replace(target)


_SMTP_ERRORS = (aiosmtplib.SMTPException, OSError, TimeoutError)


def _reason(exc: BaseException) -> str:
    """What went wrong, for ``last_error`` and the log (server replies, never the password)."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class SmtpTransport:
    """``smtp://user:pass@host:port`` or ``smtps://`` (implicit TLS, port 465 by default).

    ``require_tls`` (production): ``smtp://`` must upgrade with STARTTLS, and a server that
    does not offer it, or whose certificate does not verify, gets nothing, neither the
    password nor a message. Without it (development) STARTTLS is used when the server offers
    it. ``ca_file``: a CA bundle to verify the server's certificate with (an internal relay)
    instead of the system's.
    """

    def __init__(
        self, url: str, timeout: float = 30.0, *, require_tls: bool = False, ca_file: Path | None = None
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("AMBASSADOR_SMTP_URL must start with smtp:// or smtps://")
        self.hostname = parts.hostname or "localhost"
        self.port = parts.port or (465 if parts.scheme == "smtps" else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.use_tls = parts.scheme == "smtps"
        # True: STARTTLS or nothing; None: STARTTLS when offered (aiosmtplib's meaning).
        self.start_tls: bool | None = None if self.use_tls or not require_tls else True
        self.ca_file = ca_file
        self.timeout = timeout

    def client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            start_tls=self.start_tls,
            cert_bundle=str(self.ca_file) if self.ca_file else None,
            timeout=self.timeout,
        )

    def connection(self) -> SmtpConnection:
        return SmtpConnection(self)


class SmtpConnection:
    """One SMTP session kept open between messages.

    It connects when first used and again when the server has closed it. When the server
    closed a reused connection before the message was handed over (it answers MAIL FROM or
    RCPT TO with a disconnect), nothing was sent and the message goes at once on a new
    connection. A failure during DATA is not retried here: the server may have taken the
    message, so the outbox retries it later with the same Message-ID. After any other error
    the connection is dropped and the next message opens a new one.
    """

    def __init__(self, transport: SmtpTransport) -> None:
        self.transport = transport
        self._client: aiosmtplib.SMTP | None = None

    @property
    def is_open(self) -> bool:
        return self._client is not None and self._client.is_connected

    async def _open(self) -> aiosmtplib.SMTP:
        client = self.transport.client()
        try:
            await client.connect()
        except _SMTP_ERRORS as exc:
            client.close()
            where = f"{self.transport.hostname}:{self.transport.port}"
            raise DeliveryError(f"connecting to {where}: {_reason(exc)}") from exc
        self._client = client
        return client

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None

    async def deliver(self, message: EmailMessage) -> None:
        try:
            sender = extract_sender(message)
            recipients = extract_recipients(message)
        except (ValueError, IndexError) as exc:  # the email package on a malformed address
            raise DeliveryError(f"bad address: {type(exc).__name__}: {exc}") from exc
        if not sender or not recipients:
            raise DeliveryError("the message has no sender or no recipient")
        for _ in range(2):
            fresh = not self.is_open
            client = await self._open() if fresh else self._client
            assert client is not None
            options = ["BODY=8BITMIME"] if client.supports_extension("8BITMIME") else []
            utf8 = not (sender + "".join(recipients)).isascii()
            if utf8:
                if not client.supports_extension("SMTPUTF8"):
                    raise DeliveryError("an address is not ASCII and the server does not offer SMTPUTF8")
                options.append("SMTPUTF8")
            try:
                await client.mail(sender, options=options)
                for recipient in recipients:
                    await client.rcpt(recipient)
            except aiosmtplib.SMTPServerDisconnected as exc:
                self._drop()
                if fresh:
                    raise DeliveryError(_reason(exc)) from exc
                continue  # the server closed the reused connection; nothing was sent
            except _SMTP_ERRORS as exc:
                self._drop()
                raise DeliveryError(_reason(exc)) from exc
            flat = flatten_message(message, utf8=utf8, cte_type="8bit" if "BODY=8BITMIME" in options else "7bit")
            try:
                await client.data(flat)
            except _SMTP_ERRORS as exc:
                self._drop()
                raise DeliveryError(_reason(exc)) from exc
            return
        raise DeliveryError("the server closed the connection twice")  # pragma: no cover - loop exits above

    async def close(self) -> None:
        """QUIT politely (a few seconds at most), then close."""
        client, self._client = self._client, None
        if client is None:
            return
        if client.is_connected:
            with contextlib.suppress(*_SMTP_ERRORS):
                await client.quit(timeout=5)
        client.close()


def transport_for(
    smtp_url: str | None, mail_dir: Path, *, require_tls: bool = False, ca_file: Path | None = None
) -> Transport:
    """SMTP when a URL is set, else .eml files; ``require_tls`` in production (no STARTTLS, no mail)."""
    if smtp_url:
        return SmtpTransport(smtp_url, require_tls=require_tls, ca_file=ca_file)
    return FileTransport(mail_dir)
