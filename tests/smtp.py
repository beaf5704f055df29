"""A real SMTP server (aiosmtpd) that records what it accepts, optionally stalling."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RecordingHandler:
    def __init__(self, stall_seconds: float = 0.0) -> None:
        self.messages: list[Message] = []
        self.stall_seconds = stall_seconds

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.stall_seconds:
            await asyncio.sleep(self.stall_seconds)
            return "451 try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@contextmanager
def smtp_server(stall_seconds: float = 0.0) -> Iterator[tuple[RecordingHandler, str]]:
    handler = RecordingHandler(stall_seconds)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()
