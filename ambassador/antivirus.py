"""Scanning uploads for malware with a ClamAV daemon (clamd), ASVS 5.4.3.

A small asyncio client for clamd's ``INSTREAM`` command (no third-party client: the old
``clamd`` package is unmaintained and blocks; ``aioclamd`` has one maintainer and adds
nothing this page does not). The file is sent as chunks, each preceded by its length as four
big-endian bytes, and ended by a zero length; clamd answers ``stream: OK``,
``stream: <signature> FOUND`` or an error such as ``INSTREAM size limit exceeded. ERROR``
(the file is larger than clamd's ``StreamMaxLength``).

Every answer other than OK or FOUND, a refused connection and a timeout raise
:class:`ScanUnavailable`: the caller refuses the upload (fail closed). Addresses are
``unix:/run/clamav/clamd.ctl`` or ``tcp:host:port`` (setting ``AMBASSADOR_CLAMD``).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass

CHUNK_BYTES = 64 * 1024
# A 10 MB file takes well under a second; a daemon that takes longer is stuck or reloading.
TIMEOUT_SECONDS = 30.0
MAX_ANSWER_BYTES = 4096


class ScanUnavailable(Exception):
    """clamd could not give a verdict (unreachable, timed out, answered with an error)."""


@dataclass(frozen=True)
class Address:
    """Where clamd listens: a Unix socket path, or a TCP host and port."""

    path: str | None = None
    host: str = ""
    port: int = 0

    def __str__(self) -> str:
        return f"unix:{self.path}" if self.path is not None else f"tcp:{self.host}:{self.port}"


def parse_address(value: str) -> Address:
    """``unix:/path`` or ``tcp:host:port`` (an IPv6 host in brackets); ValueError otherwise."""
    kind, _, rest = value.partition(":")
    if kind == "unix" and rest.startswith("/"):
        return Address(path=rest)
    if kind == "tcp":
        host, _, port = rest.rpartition(":")
        host = host.removeprefix("[").removesuffix("]")
        if host and port.isdigit() and 0 < int(port) < 65536:
            return Address(host=host, port=int(port))
    raise ValueError(f"{value!r} is not unix:/path/to/clamd.ctl or tcp:host:port")


def parse_answer(answer: bytes) -> str | None:
    """None for a clean stream, the signature's name for an infected one; else ScanUnavailable."""
    text = answer.rstrip(b"\0\n").decode("utf-8", "replace")
    if text == "stream: OK":
        return None
    if text.startswith("stream: ") and text.endswith(" FOUND"):
        return text.removeprefix("stream: ").removesuffix(" FOUND") or "unknown"
    raise ScanUnavailable(f"clamd answered {text[:200]!r}")


class Clamd:
    """A clamd daemon at ``address``; each scan uses its own connection."""

    def __init__(self, address: str | Address, timeout: float = TIMEOUT_SECONDS) -> None:
        self.address = parse_address(address) if isinstance(address, str) else address
        self.timeout = timeout

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.address.path is not None:
            return await asyncio.open_unix_connection(self.address.path)
        return await asyncio.open_connection(self.address.host, self.address.port)

    async def scan(self, data: bytes) -> str | None:
        """The signature found in ``data``, or None when clean; ScanUnavailable when unknown."""
        try:
            async with asyncio.timeout(self.timeout):
                return await self._scan(data)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            raise ScanUnavailable(f"clamd at {self.address}: {type(exc).__name__}: {exc}") from exc

    async def _scan(self, data: bytes) -> str | None:
        reader, writer = await self._open()
        try:
            writer.write(b"zINSTREAM\0")
            try:
                for start in range(0, len(data), CHUNK_BYTES):
                    chunk = data[start : start + CHUNK_BYTES]
                    writer.write(struct.pack(">I", len(chunk)) + chunk)
                    await writer.drain()
                writer.write(struct.pack(">I", 0))
                await writer.drain()
            except (BrokenPipeError, ConnectionResetError):
                # Over StreamMaxLength clamd answers and closes while the file is still being
                # sent: its answer, if it got out, says why.
                pass
            answer = await reader.read(MAX_ANSWER_BYTES)
            if not answer:
                raise ScanUnavailable(f"clamd at {self.address} closed the connection without an answer")
            return parse_answer(answer)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def ping(self) -> bool:
        """Whether clamd answers PING with PONG (``ambassador check --deploy``)."""
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await self._open()
                try:
                    writer.write(b"zPING\0")
                    await writer.drain()
                    return (await reader.read(64)).rstrip(b"\0\n") == b"PONG"
                finally:
                    writer.close()
        except (OSError, TimeoutError):
            return False
