"""A real SMTP server (aiosmtpd) that records what it accepts, optionally stalling.

It signals (``data_received``) when a message's DATA has arrived. It also counts the
connections it was opened (and how many were open at once), can close a
connection after every n-th accepted message (as servers that limit messages per session
do), offer STARTTLS or speak implicit TLS, and advertise AUTH, recording the attempts.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RecordingHandler:
    def __init__(self, stall_seconds: float = 0.0, delay_seconds: float = 0.0, drop_every: int = 0) -> None:
        self.messages: list[Message] = []
        self.stall_seconds = stall_seconds
        self.delay_seconds = delay_seconds
        self.drop_every = drop_every
        self.tls_sessions = 0
        self.auth_attempts: list[str] = []
        self.connections = 0
        self.open_now = 0
        self.most_open = 0
        self._lock = threading.Lock()
        # Set when a message's DATA has arrived (before any stall): a test waits on it to know
        # the sender is inside the SMTP conversation, instead of guessing a time.
        self.data_received = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.data_received.set()
        if self.stall_seconds:
            await asyncio.sleep(self.stall_seconds)
            return "451 try again later"
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        # Encrypted after STARTTLS and with implicit TLS (smtps://) alike; aiosmtpd's session.ssl
        # is set by STARTTLS only.
        self.tls_sessions += int(server.transport.get_extra_info("ssl_object") is not None)
        if self.drop_every and len(self.messages) % self.drop_every == 0:
            # After the reply has been written: the client saw "250", then the line goes.
            asyncio.get_running_loop().call_soon(server.transport.close)
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        self.auth_attempts.append(mechanism)
        return AuthResult(success=True)

    def opened(self) -> None:
        with self._lock:
            self.connections += 1
            self.open_now += 1
            self.most_open = max(self.most_open, self.open_now)

    def closed(self) -> None:
        with self._lock:
            self.open_now -= 1

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


class _CountingSMTP(SMTP):
    def __init__(self, recorder: RecordingHandler, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recorder = recorder
        self.counted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self.counted:  # called again after STARTTLS on the same connection
            self.counted = True
            self.recorder.opened()
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self.recorder.closed()
        super().connection_lost(error)


class _CountingController(Controller):
    def __init__(self, handler: RecordingHandler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.recorder = handler

    def factory(self) -> SMTP:
        return _CountingSMTP(self.recorder, self.handler, **self.SMTP_kwargs)


@contextmanager
def smtp_server(
    stall_seconds: float = 0.0,
    *,
    delay_seconds: float = 0.0,
    drop_every: int = 0,
    starttls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
    auth: bool = False,
) -> Iterator[tuple[RecordingHandler, str]]:
    """``smtp://`` (STARTTLS offered when ``starttls`` is given), or ``smtps://`` with ``implicit_tls``.

    ``auth``: AUTH is advertised even without TLS (as a careless relay would) and recorded.
    """
    handler = RecordingHandler(stall_seconds, delay_seconds, drop_every)
    port = free_port()
    options: dict[str, Any] = {}
    if starttls is not None:
        options["tls_context"] = starttls
    if implicit_tls is not None:
        options["ssl_context"] = implicit_tls
    if auth:
        options |= {"authenticator": handler.authenticate, "auth_require_tls": False}
    controller = _CountingController(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    # start() opened a connection of its own to see that the server answers: not counted.
    deadline = time.monotonic() + 10
    while handler.open_now:
        if time.monotonic() > deadline:
            controller.stop()
            raise AssertionError("the SMTP server's start-up probe connection stayed open for 10 s")
        time.sleep(0.01)
    handler.connections = handler.most_open = 0
    try:
        scheme = "smtps" if implicit_tls is not None else "smtp"
        yield handler, f"{scheme}://127.0.0.1:{port}"
    finally:
        controller.stop()
