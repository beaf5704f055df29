"""Reference R0 for `bench/bench_app.py`: a bare Litestar plain-text route.

Served by uvicorn with the flags ``ambassador serve`` gives it (the same number of workers, no
access log, no proxy headers, no server header), in the same run, so every figure of the app
can be given as a ratio to it (PERF-SECURITY.md, A5).
"""

from __future__ import annotations

from litestar import Litestar, get


@get("/plaintext", sync_to_thread=False)
def plaintext() -> str:
    return "Hello, World!"


def create_app() -> Litestar:
    return Litestar(route_handlers=[plaintext])
