"""The benchmarks' reference route (``bench/bare_app.py``) with a ``/readyz`` of its own.

Behind the same Caddyfile as the app, Caddy's active health check asks every upstream for
``/readyz``; the bare app answers it so that Caddy sends it traffic. ``/plaintext`` is the
same handler as the benchmarks' R0.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from litestar import Litestar, get

_PATH = Path(__file__).resolve().parents[2] / "bench" / "bare_app.py"
_SPEC = importlib.util.spec_from_file_location("bare_app", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
_BARE: Any = importlib.util.module_from_spec(_SPEC)
sys.modules["bare_app"] = _BARE  # Litestar resolves the handler's annotations through it
_SPEC.loader.exec_module(_BARE)


@get("/readyz", sync_to_thread=False)
def readyz() -> str:
    return "ready"


def create_app() -> Litestar:
    return Litestar(route_handlers=[_BARE.plaintext, readyz])
