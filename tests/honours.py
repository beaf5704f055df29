"""The fictional honour for the tests (tests/data/honour-fictional.toml) and a way to run with it.

``ambassador.honour.activate`` is process-wide: whatever a test activates is put back after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ambassador import honour

FICTIONAL = Path(__file__).resolve().parent / "data" / "honour-fictional.toml"


@contextmanager
def honour_active(path: Path | None) -> Iterator[honour.Honour]:
    """The honour of ``path`` active inside the block (None: the shipped one); the previous one after."""
    before = honour.active()
    chosen = honour.load(path)
    honour.activate(chosen)
    try:
        yield chosen
    finally:
        honour.activate(before)
