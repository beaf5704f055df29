"""argon2id hashing that never runs on the event loop.

argon2 releases the GIL, so worker threads give real parallelism and a login does not
stall other requests.
"""

from __future__ import annotations

from functools import partial

import anyio.to_thread
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ambassador.settings import Argon2Params

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


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
        return await anyio.to_thread.run_sync(self._hasher.hash, password)

    async def verify(self, stored_hash: str, password: str) -> bool:
        if not stored_hash:
            await self.dummy_verify(password)
            return False
        return await anyio.to_thread.run_sync(partial(self._verify_sync, stored_hash, password))

    async def dummy_verify(self, password: str) -> None:
        """Spend the same time as a real verification (unknown account)."""
        await anyio.to_thread.run_sync(partial(self._verify_sync, self._dummy_hash, password))

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)

    def _verify_sync(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
