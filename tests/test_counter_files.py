"""The rate-limit counters' files on SQLite (ambassador.web.app.CounterFiles)."""

from __future__ import annotations

import shutil
from pathlib import Path

from ambassador.web.app import CounterFiles


async def test_a_counter_is_written_and_read_back_even_after_its_folder_went(tmp_path: Path) -> None:
    folder = tmp_path / "rate-limits"
    store = CounterFiles(folder, create_directories=True)
    await store.set("RateLimitMiddleware::127.0.0.1", '{"history": [1], "reset": 2}', expires_in=3600)
    first = await store.get("RateLimitMiddleware::127.0.0.1")
    shutil.rmtree(folder)  # an operator cleaned var/ while the app ran
    await store.set("RateLimitMiddleware::127.0.0.1", b'{"history": [1, 1], "reset": 2}', expires_in=3600)

    assert first == b'{"history": [1], "reset": 2}'
    assert await store.get("RateLimitMiddleware::127.0.0.1") == b'{"history": [1, 1], "reset": 2}'
    assert await store.expires_in("RateLimitMiddleware::127.0.0.1") is not None
