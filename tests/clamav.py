"""A real ClamAV daemon for the tests: Debian's clamd with a signature database of our own.

ClamAV's official signatures need the internet, so the database holds one signature: the
EICAR test file's bytes (an ``.ndb`` body signature), which every antivirus treats as a
virus by agreement. clamd runs in the foreground on a Unix socket in a temporary directory
and writes its log there; nothing touches the system's clamd.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# Split so that this source file is not itself the EICAR file to a scanner on a developer's machine.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SIGNATURE = "Ambassador.Test.EICAR"
# clamd names a signature from an unsigned database with this suffix.
REPORTED_AS = f"{SIGNATURE}.UNOFFICIAL"
CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"
START_SECONDS = 60.0


def missing_reason() -> str | None:
    if not Path(CLAMD).is_file():
        return "clamd is not installed (Debian package clamav-daemon; `make pytest` installs it when run as root)"
    return None


@contextmanager
def clamd_daemon(directory: Path, stream_max_length: str = "20M") -> Iterator[str]:
    """Start clamd with the EICAR-only database in ``directory``; yield its AMBASSADOR_CLAMD address."""
    if (reason := missing_reason()) is not None:
        if os.environ.get("CI"):  # as the browser tests: in CI a missing clamd is a failure
            pytest.fail(reason)
        pytest.skip(reason)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ambassador-test.ndb").write_text(f"{SIGNATURE}:0:*:{EICAR.hex()}\n", encoding="ascii")
    path = directory / "clamd.sock"
    log = directory / "clamd.log"
    config = directory / "clamd.conf"
    config.write_text(
        "\n".join(
            [
                f"LocalSocket {path}",
                f"DatabaseDirectory {directory}",
                f"TemporaryDirectory {directory}",
                f"LogFile {log}",
                "Foreground yes",
                f"StreamMaxLength {stream_max_length}",
                "",
            ]
        ),
        encoding="ascii",
    )
    address = f"unix:{path}"
    with (directory / "clamd.out").open("wb") as output:
        process = subprocess.Popen([CLAMD, "-c", str(config)], stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_SECONDS
        # Loading the database takes a moment; then clamd answers PING on its socket.
        while not answers_ping(path):
            if process.poll() is not None or time.monotonic() > deadline:
                details = log.read_text(errors="replace") if log.exists() else ""
                raise RuntimeError(f"clamd did not start (exit {process.poll()}):\n{details[-2000:]}")
            time.sleep(0.05)
        yield address
    finally:
        stop(process)


def answers_ping(path: Path) -> bool:
    """Whether clamd answers PING on its socket (a plain blocking socket: no event loop here)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(5)
            connection.connect(str(path))
            connection.sendall(b"zPING\0")
            return connection.recv(64).rstrip(b"\0\n") == b"PONG"
    except OSError:
        return False


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
