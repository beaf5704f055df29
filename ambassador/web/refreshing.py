"""A value read again in the background, at most every ``refresh_seconds``, for the caches.

The archive cache's stamp and the page cache's copy of the open edition are both read from the
database while requests go on with the value they have: no visitor waits for a refresh under
load, and concurrent requests share one read.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger("ambassador.cache")


class BackgroundRefresh(ABC, Generic[T]):
    """The single-flight refresh shared by the caches; each says what it reads (:meth:`_read`)
    and when a request must wait for a fresh value."""

    what = "a cached value"  # for the log line when a background read fails

    def __init__(self, refresh_seconds: float, clock: Callable[[], float]) -> None:
        self.refresh_seconds = refresh_seconds
        # Injectable (tests move time on without sleeping).
        self.clock = clock
        self._checked = float("-inf")
        self._refreshing: asyncio.Task[T] | None = None

    @abstractmethod
    async def _read(self) -> T:
        """Read the value and take it in."""

    def _refresh(self) -> asyncio.Task[T]:
        """The running refresh, or a new one: concurrent requests share one."""
        if self._refreshing is None or self._refreshing.done():
            self._checked = self.clock()
            self._refreshing = asyncio.ensure_future(self._read())
        return self._refreshing

    async def _fresh(self) -> T:
        """Wait for a fresh value (none yet, or a change that must show now)."""
        return await asyncio.shield(self._refresh())

    def _refresh_when_due(self) -> None:
        """Start a background refresh once ``refresh_seconds`` have passed since the last."""
        if self.clock() - self._checked >= self.refresh_seconds:
            self._refresh().add_done_callback(self._log_failure)

    def _log_failure(self, task: asyncio.Task[T]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("reading %s failed", self.what, exc_info=task.exception())
