"""A storm of logins hashes at most MAX_CONCURRENT_HASHES passwords at once per process, at low priority."""

from __future__ import annotations

import asyncio
import os
import threading
import time

from ambassador import passwords
from tests.conftest import CHEAP_ARGON2


async def test_at_most_the_limit_of_hashes_run_at_once() -> None:
    lock, active, peak = threading.Lock(), [0], [0]

    def work() -> None:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1

    await asyncio.gather(*(passwords._hashed(work) for _ in range(8)))
    assert peak[0] == passwords.MAX_CONCURRENT_HASHES


async def test_concurrent_verifications_all_answer_correctly() -> None:
    hasher = passwords.Passwords(CHEAP_ARGON2)
    stored = await hasher.hash("correct horse battery staple")
    answers = await asyncio.gather(
        *(hasher.verify(stored, "correct horse battery staple" if i % 2 else "wrong") for i in range(10))
    )
    assert answers == [bool(i % 2) for i in range(10)]


async def test_hashing_threads_yield_the_cpu_to_the_event_loop() -> None:
    """Hashes run at the lowest priority; the serving thread keeps its own."""

    def priority() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    assert await passwords._hashed(priority) == passwords.LOWEST_PRIORITY
    assert priority() == os.getpriority(os.PRIO_PROCESS, 0)
    assert priority() < passwords.LOWEST_PRIORITY
