"""argon2id hashing that never runs on the event loop.

argon2 releases the GIL, so worker threads give real parallelism and a login does not stall
other requests. Hashing runs in its own small pool of threads, at most half the machine's
cores: each hash takes its memory cost (19 MiB by default) and a full core, so a storm of
logins can neither starve the public pages of CPU nor grow a worker's memory (the C library
keeps freed memory per thread, so a few dedicated threads keep it to a few hashes' worth);
further logins wait their turn. The hashing threads also run at the lowest scheduling
priority (Linux: ``SCHED_IDLE`` and nice 19, per thread): when a core is wanted by both, the
event loops serving pages get it and a login waits longer, rather than the other way round.
While public traffic keeps every core busy, logins wait for it (measured: 2-21 logins/s
beside some 6,000-14,000 archive pages/s on 2 cores); a login storm cannot slow the pages.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ambassador.settings import Argon2Params

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
T = TypeVar("T")
MAX_CONCURRENT_HASHES = max(1, (os.cpu_count() or 2) // 2)
LOWEST_PRIORITY = 19
# glibc's mallopt parameter, and the size from which allocations are mapped on their own.
M_MMAP_THRESHOLD = -3
MMAP_FROM_BYTES = 1 << 20


def _prepare_thread() -> None:
    """In a new hashing thread: the lowest priority for this thread only (Linux), and memory
    that goes back to the system.

    glibc raises its mmap threshold after a large block is freed, so from the second hash on
    argon2's 19 MiB come from the heap and stay in the process after the login (measured: a
    worker grew by about 20 MB more over 50 logins). A fixed threshold keeps every block of
    1 MiB or more mapped on its own and returned when freed. Elsewhere than glibc: no change.
    """
    thread = threading.get_native_id()
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, thread, LOWEST_PRIORITY)
    with contextlib.suppress(AttributeError, OSError):
        # SCHED_IDLE: a serving thread that wakes up takes the core at once (a nice-19 thread
        # may still finish its time slice first).
        os.sched_setscheduler(thread, os.SCHED_IDLE, os.sched_param(0))
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, MMAP_FROM_BYTES)


# Per process, shared by every event loop (tests run several).
_hashing = ThreadPoolExecutor(
    max_workers=MAX_CONCURRENT_HASHES, thread_name_prefix="argon2", initializer=_prepare_thread
)


class HashingGauge:
    """How many hashes run in this process now, and the most at once since the last reset.

    Read by tests (``wait_for_running`` waits for a number of hashes running at once, with a
    deadline, instead of guessing a time); it does not change what is hashed or when.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.running = 0
        self.most = 0

    def reset(self) -> None:
        with self._changed:
            self.most = self.running

    def wait_for_running(self, count: int, timeout: float) -> bool:
        """Block (a thread, not the event loop) until ``count`` hashes run at once; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self.running >= count, timeout)

    def _run(self, work: Callable[[], T]) -> T:
        with self._changed:
            self.running += 1
            self.most = max(self.most, self.running)
            self._changed.notify_all()
        try:
            return work()
        finally:
            with self._changed:
                self.running -= 1
                self._changed.notify_all()


gauge = HashingGauge()


async def in_hashing_thread(work: Callable[[], T]) -> T:
    """Run ``work`` in the hashing pool (at most MAX_CONCURRENT_HASHES at once, lowest priority)."""
    return await asyncio.get_running_loop().run_in_executor(_hashing, partial(gauge._run, work))


class Passwords:
    """Hash and verify with one parameter set; ``dummy_verify`` equalises timing."""

    def __init__(self, params: Argon2Params) -> None:
        self._hasher = PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_cost,
            parallelism=params.parallelism,
            type=Type.ID,
        )
        self._dummy_hash = self._hasher.hash("dummy password that never matches")

    async def hash(self, password: str) -> str:
        return await in_hashing_thread(partial(self._hasher.hash, password))

    async def verify(self, stored_hash: str, password: str) -> bool:
        if not stored_hash:
            await self.dummy_verify(password)
            return False
        return await in_hashing_thread(partial(self._verify_sync, stored_hash, password))

    async def dummy_verify(self, password: str) -> None:
        """Spend the same time as a real verification (unknown account)."""
        await in_hashing_thread(partial(self._verify_sync, self._dummy_hash, password))

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)

    def _verify_sync(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
