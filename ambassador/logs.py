"""Structured (JSON lines) logging. Callers log ids and outcomes, never secrets or personal data.

Two streams (docs/logging.md): everything on stderr, and the security events (logger
``ambassador.security``) either on stderr too or, with ``AMBASSADOR_SECURITY_LOG``, to syslog
(the local ``/dev/log``, or a remote collector over UDP or TCP) in the same JSON form.
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
import logging
import logging.handlers
import os
import queue
import re
import socket
import sys
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

SECURITY_LOGGER = "ambassador.security"
DEFAULT_FACILITY = "authpriv"
LOCAL_SYSLOG = "/dev/log"
# How many security events may wait for a slow collector before they go to stderr instead.
SYSLOG_QUEUE_SIZE = 10_000
SYSLOG_TCP_TIMEOUT_SECONDS = 5.0

# A last guard for ASVS 16.2.5: an address that reached a log line anyway (a mail server's
# refusal quoting the recipient, a database error quoting a row) is masked.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # json.dumps escapes CR, LF and quotes: one record is one line, whatever it holds (16.4.1).
        line = json.dumps(entry, default=str, ensure_ascii=False)
        return _EMAIL.sub("<email>", line) if "@" in line else line


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the moment (it may be replaced after set-up)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


# --- where the security events go -------------------------------------------------------


@dataclass(frozen=True)
class SyslogTarget:
    """A syslog destination: the local socket (``address`` a path) or a host and port."""

    address: str | tuple[str, int]
    tcp: bool = False


def syslog_target(value: str) -> SyslogTarget | None:
    """``AMBASSADOR_SECURITY_LOG``: None for ``stderr``; raises ValueError saying what is wrong."""
    if value in ("", "stderr"):
        return None
    if value == "syslog":
        return SyslogTarget(LOCAL_SYSLOG)
    parts = urlsplit(value)
    if parts.scheme == "syslog" and not parts.netloc and parts.path.startswith("/") and not parts.query:
        return SyslogTarget(parts.path)  # syslog:///path/of/a/local/socket
    if parts.scheme not in ("syslog", "syslog+tcp") or parts.path or parts.query or parts.username:
        raise ValueError(
            "AMBASSADOR_SECURITY_LOG must be stderr, syslog (the local /dev/log), syslog:///path (another "
            f"local socket), syslog://host:port (UDP) or syslog+tcp://host:port (TCP), got {value!r}"
        )
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise ValueError(f"AMBASSADOR_SECURITY_LOG must name a host and a port, like syslog://host:514, got {value!r}")
    return SyslogTarget((parts.hostname, port), tcp=parts.scheme == "syslog+tcp")


def syslog_facility(name: str) -> int:
    """A facility by name (auth, authpriv, local0 … local7, …); ValueError for an unknown one."""
    try:
        return logging.handlers.SysLogHandler.facility_names[name]
    except KeyError:
        known = ", ".join(sorted(logging.handlers.SysLogHandler.facility_names))
        raise ValueError(f"AMBASSADOR_SECURITY_LOG_FACILITY must be one of {known}, got {name!r}") from None


def _ident() -> str:
    """The syslog tag: journald's SYSLOG_IDENTIFIER and PID, rsyslog's programname."""
    return f"ambassador[{os.getpid()}]: "


class TcpSyslogHandler(logging.Handler):
    """Syslog over TCP with octet-counting framing (RFC 6587), as rsyslog and syslog-ng read it.

    It connects when it first sends, and once more after a failure, so that a collector that
    restarts loses no more than the line being sent when it went away.
    """

    def __init__(self, address: tuple[str, int], facility: int) -> None:
        super().__init__()
        self.address = address
        self.facility = facility
        self.sock: socket.socket | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            syslog = logging.handlers.SysLogHandler
            severity = syslog.priority_names[syslog.priority_map.get(record.levelname, "warning")]
            priority = (self.facility << 3) | severity
            payload = f"<{priority}>{_ident()}{self.format(record)}".encode()
            self._send(b"%d %b" % (len(payload), payload))
        except Exception:  # noqa: BLE001 (logging's rule: a handler reports its failure, never raises)
            self.handleError(record)

    def _send(self, data: bytes) -> None:
        for attempt in (1, 2):
            try:
                if self.sock is None:
                    self.sock = socket.create_connection(self.address, timeout=SYSLOG_TCP_TIMEOUT_SECONDS)
                self.sock.sendall(data)
                return
            except OSError:
                self._drop()
                if attempt == 2:
                    raise

    def _drop(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def close(self) -> None:
        self._drop()
        super().close()


def _syslog_handler(target: SyslogTarget, facility: int) -> logging.Handler:
    if target.tcp:
        assert isinstance(target.address, tuple)
        return TcpSyslogHandler(target.address, facility)
    # A local socket: datagram or stream, whichever it is (it may appear later: tried again on
    # each event). A remote one: UDP.
    socktype = None if isinstance(target.address, str) else socket.SOCK_DGRAM
    handler = logging.handlers.SysLogHandler(target.address, facility, socktype)
    handler.ident = _ident()
    return handler


class _Queue(logging.handlers.QueueHandler):
    """Hands the events to a thread that sends them, so a slow or unreachable collector never
    holds up a request; when too many wait, the event goes to ``overflow`` (stderr) instead."""

    def __init__(self, events: queue.Queue[logging.LogRecord], overflow: logging.Handler) -> None:
        super().__init__(events)
        self.overflow = overflow

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            self.overflow.handle(record)


# The running syslog sender (none with stderr).
_LISTENERS: list[logging.handlers.QueueListener] = []


def _stop_listener() -> None:
    """Send what is queued and close the connection (at exit, or before a new configuration)."""
    while _LISTENERS:
        listener = _LISTENERS.pop()
        listener.stop()
        for handler in listener.handlers:
            handler.close()


atexit.register(_stop_listener)


def configure_logging(
    level: int = logging.INFO, security_log: str = "stderr", facility: str = DEFAULT_FACILITY
) -> None:
    """Our loggers at ``level``; other libraries' warnings too, in the same JSON form.

    Libraries' INFO lines are left out: some (HTTP clients) log whole URLs, query strings
    and all. When something else already handles the root logger (pytest), it stays.
    ``security_log`` (``AMBASSADOR_SECURITY_LOG``) sends the ``ambassador.security`` events to
    syslog instead of stderr.
    """
    # Our lines carry neither the caller's file nor thread or process names: skip collecting
    # them (the logging manual's "Optimization" section); a request line then costs less.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    formatter = JsonFormatter()
    handler = StderrHandler()
    handler.setFormatter(formatter)
    ours = logging.getLogger("ambassador")
    ours.handlers[:] = [handler]
    ours.setLevel(level)
    ours.propagate = False
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(handler)
        root.setLevel(logging.WARNING)

    _stop_listener()
    security = logging.getLogger(SECURITY_LOGGER)
    # Only the queue handler set up here before is replaced; others (a test's) stay.
    security.handlers[:] = [h for h in security.handlers if not isinstance(h, _Queue)]
    target = syslog_target(security_log)
    if target is None:
        security.propagate = True
        return
    sender = _syslog_handler(target, syslog_facility(facility))
    sender.setFormatter(formatter)
    events: queue.Queue[logging.LogRecord] = queue.Queue(SYSLOG_QUEUE_SIZE)
    listener = logging.handlers.QueueListener(events, sender)
    listener.start()
    _LISTENERS.append(listener)
    security.handlers.append(_Queue(events, handler))
    security.propagate = False
