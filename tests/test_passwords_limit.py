"""A storm of logins hashes at most MAX_CONCURRENT_HASHES passwords at once per process, at low priority."""

from __future__ import annotations

import asyncio
import os
import threading

from ambassador import passwords
from ambassador.settings import Argon2Params
from tests.conftest import CHEAP_ARGON2


async def test_at_most_the_limit_of_hashes_run_at_once() -> None:
    limit = passwords.MAX_CONCURRENT_HASHES
    # About a tenth of a second a hash: long enough that the pool fills before one finishes.
    hasher = passwords.Passwords(Argon2Params(time_cost=2, memory_cost=32_768, parallelism=1))
    stored = await hasher.hash("correct horse battery staple")
    passwords.gauge.reset()

    storm = asyncio.gather(*(hasher.verify(stored, "wrong passphrase") for _ in range(4 * limit)))
    reached = await asyncio.to_thread(passwords.gauge.wait_for_running, limit, 30)
    answers = await storm

    assert reached, f"{limit} hashes never ran at once within 30 s"
    assert passwords.gauge.most <= limit
    assert answers == [False] * (4 * limit)


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

    assert await passwords.in_hashing_thread(priority) == passwords.LOWEST_PRIORITY
    assert priority() == os.getpriority(os.PRIO_PROCESS, 0)
    assert priority() < passwords.LOWEST_PRIORITY
