"""A Litestar store kept in the database, shared by every worker and machine.

Used for server-side sessions (and later rate limits) when Redis is not configured.
"""

from __future__ import annotations

import datetime as dt
from typing import Self

from litestar.stores.base import NamespacedStore

from ambassador.db import queued_write, utcnow
from ambassador.tables import KeyValue


def _seconds(value: int | dt.timedelta | None) -> int | None:
    if value is None:
        return None
    return int(value.total_seconds()) if isinstance(value, dt.timedelta) else int(value)


class DatabaseStore(NamespacedStore):
    """Key-value rows with an optional expiry; expired rows read as missing."""

    def __init__(self, namespace: str = "ambassador") -> None:
        self.namespace = namespace

    def with_namespace(self, namespace: str) -> Self:
        return type(self)(f"{self.namespace}.{namespace}")

    def _key(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    async def set(self, key: str, value: str | bytes, expires_in: int | dt.timedelta | None = None) -> None:
        data = value.encode() if isinstance(value, str) else value
        seconds = _seconds(expires_in)
        expires_at = utcnow() + dt.timedelta(seconds=seconds) if seconds else None
        async with queued_write():
            await KeyValue.insert(KeyValue(key=self._key(key), value=data, expires_at=expires_at)).on_conflict(
                target=KeyValue.key,
                action="DO UPDATE",
                values=[KeyValue.value, KeyValue.expires_at],
            )

    async def get(self, key: str, renew_for: int | dt.timedelta | None = None) -> bytes | None:
        row = await KeyValue.select(KeyValue.value, KeyValue.expires_at).where(KeyValue.key == self._key(key)).first()
        if row is None:
            return None
        now = utcnow()
        if row["expires_at"] is not None and row["expires_at"] <= now:
            await self.delete(key)
            return None
        seconds = _seconds(renew_for)
        if seconds and row["expires_at"] is not None:
            async with queued_write():
                await KeyValue.update({KeyValue.expires_at: now + dt.timedelta(seconds=seconds)}).where(
                    KeyValue.key == self._key(key)
                )
        value = row["value"]
        return bytes(value)

    async def delete(self, key: str) -> None:
        async with queued_write():
            await KeyValue.delete().where(KeyValue.key == self._key(key))

    async def delete_all(self) -> None:
        async with queued_write():
            await KeyValue.delete().where(KeyValue.key.like(f"{self.namespace}:%"))

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        row = await KeyValue.select(KeyValue.expires_at).where(KeyValue.key == self._key(key)).first()
        if row is None or row["expires_at"] is None:
            return None
        return max(0, int((row["expires_at"] - utcnow()).total_seconds()))

    async def delete_expired(self) -> int:
        async with queued_write():
            rows = await KeyValue.delete().where(KeyValue.expires_at < utcnow()).returning(KeyValue.id)
        return len(rows)

    async def count_live(self) -> int:
        """Unexpired entries of this namespace (the active sessions, for the metrics)."""
        now = utcnow()
        count: int = await KeyValue.count().where(
            KeyValue.key.like(f"{self.namespace}:%") & (KeyValue.expires_at.is_null() | (KeyValue.expires_at > now))
        )
        return count
