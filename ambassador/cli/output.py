"""What the commands print: results on stdout, refusals on stderr with an exit status."""

from __future__ import annotations

import logging
import sys


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def fail(text: str, code: int = 1) -> int:
    sys.stderr.write(text + "\n")
    return code


def quiet_security_log() -> None:
    """The audit commands say their result in one line themselves: no bare security-log line too."""
    logging.getLogger("ambassador.security").addHandler(logging.NullHandler())
