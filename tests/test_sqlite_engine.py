"""The SQLite engine's open connections: bounded, reused, never reused in a bad state."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from ambassador import sqlite_engine
from ambassador.db import write_transaction
from ambassador.piccolo_conf import DB
from ambassador.sqlite_engine import PooledSQLiteEngine
from ambassador.tables import KeyValue
from tests.conftest import IS_POSTGRES

pytestmark = pytest.mark.skipif(IS_POSTGRES, reason="the SQLite engine is tested on the SQLite run")


def engine() -> PooledSQLiteEngine:
    assert isinstance(DB, PooledSQLiteEngine)
    return DB


async def _keys() -> list[str]:
    return [r["key"] for r in await KeyValue.select(KeyValue.key).order_by(KeyValue.key)]


async def test_many_concurrent_queries_share_a_few_open_connections() -> None:
    await KeyValue.insert(KeyValue(key="k", value=b"v"))
    answers = await asyncio.gather(*(_keys() for _ in range(200)))
    assert answers == [["k"]] * 200
    pools = engine().pools()
    assert len(pools.readers.open) == sqlite_engine.READERS  # 200 at once fill every slot, no more
    opened = set(pools.readers.open)
    await asyncio.gather(*(_keys() for _ in range(50)))
    assert set(engine().pools().readers.open) == opened  # the same connections, none new


async def test_a_committed_write_is_seen_by_the_readers_and_a_failed_one_is_not() -> None:
    await _keys()  # the readers are open before the writes
    async with write_transaction():
        await KeyValue.insert(KeyValue(key="kept", value=b"1"))
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await KeyValue.insert(KeyValue(key="lost", value=b"2"))
            assert await _keys() == ["kept", "lost"]  # inside: the transaction's own connection
            raise RuntimeError("the domain refused")
    assert await _keys() == ["kept"]
    writer = next(iter(engine().pools().writers.open))
    assert not writer.in_transaction  # given back clean, and kept
    async with write_transaction():
        await KeyValue.insert(KeyValue(key="again", value=b"3"))
    assert engine().pools().writers.open == {writer}


async def test_a_constraint_error_keeps_the_connection_and_the_slot() -> None:
    await KeyValue.insert(KeyValue(key="same", value=b"1"))
    for _ in range(sqlite_engine.READERS + 2):
        with pytest.raises(sqlite3.IntegrityError):
            await KeyValue.insert(KeyValue(key="same", value=b"2"))
    assert await _keys() == ["same"]
    assert len(engine().pools().readers.open) == 1  # one after another: the same connection


async def test_a_connection_left_inside_a_transaction_is_closed_not_reused() -> None:
    pool = engine().pools().readers
    connection = await pool.acquire()
    await connection.execute("BEGIN")
    await pool.release(connection)
    assert connection not in pool.open
    assert await _keys() == []  # the slot came back: a new connection answers


async def test_pointing_the_engine_at_another_file_opens_connections_to_it(tmp_path: Path) -> None:
    await KeyValue.insert(KeyValue(key="first file", value=b"1"))
    first = engine().path
    second = tmp_path / "other.sqlite3"
    with closing(sqlite3.connect(first)) as source, closing(sqlite3.connect(second)) as target:
        source.backup(target)  # the WAL's pages included
    await KeyValue.insert(KeyValue(key="only in the first", value=b"2"))
    engine().path = str(second)
    try:
        assert await _keys() == ["first file"]
    finally:
        engine().path = first
    assert await _keys() == ["first file", "only in the first"]
