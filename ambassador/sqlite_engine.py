"""Piccolo's SQLite engine with connections kept open, one thread hop per query.

Piccolo opens a new aiosqlite connection for every query outside a transaction: a new
thread, ``connect``, a pragma, the query, a commit and a close, about seven round trips
between the event loop and a thread, and starting the thread blocks the loop. Measured on
the nomination POST, that was most of its cost. Here every event loop keeps a few open
connections (WAL lets them read while one writes); a query borrows one and runs as one
call (``execute_fetchall``). Transactions borrow a connection of their own and give it
back instead of closing it; one left inside a transaction (a failed commit or rollback)
is closed, never reused.

State lives in the database file only: the connections are a cache of open files, per
process and per loop, so several processes (uvicorn workers) share the database as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import weakref
from typing import Any

import aiosqlite
from aiosqlite.core import _STOP_RUNNING_SENTINEL
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

# The Piccolo minor versions whose internals this module was written against: it overrides
# SQLiteEngine's private ``_run_in_new_connection`` / ``_run_in_existing_connection``, reads
# SQLiteTransaction's ``_parent``, ``_committed``, ``_rolled_back`` and ``context``, and
# aiosqlite's ``Connection._thread``. pyproject.toml pins piccolo to these; a new one needs
# those internals checked (tests/test_sqlite_engine.py fails until it is added here).
PICCOLO_VERSIONS = ("1.38",)
# Readers per event loop: enough for the queries of concurrent requests to overlap, few
# enough that two workers on two cores keep a handful of threads.
READERS = 4
# Writers are serialised in the process (db.write_transaction); one connection serves them.
WRITERS = 1
# Piccolo inserts with RETURNING from SQLite 3.35; older libraries take Piccolo's own path.
RETURNING = sqlite3.sqlite_version_info >= (3, 35)


class _Pool:
    """Open connections to one file for one event loop; ``None`` marks a free slot."""

    def __init__(self, engine: PooledSQLiteEngine, size: int) -> None:
        self.engine = engine
        self.path = engine.path
        self.free: asyncio.LifoQueue[aiosqlite.Connection | None] = asyncio.LifoQueue()
        self.open: set[aiosqlite.Connection] = set()
        for _ in range(size):
            self.free.put_nowait(None)

    async def acquire(self) -> aiosqlite.Connection:
        connection = await self.free.get()
        if connection is not None:
            return connection
        try:
            connection = await self.engine.get_connection()
        except BaseException:
            self.free.put_nowait(None)
            raise
        self.open.add(connection)
        return connection

    async def release(self, connection: aiosqlite.Connection, broken: bool = False) -> None:
        """Give the connection back; a broken one, or one still inside a transaction, is closed."""
        if broken or connection.in_transaction or self.path != self.engine.path:
            self.open.discard(connection)
            self.free.put_nowait(None)
            with contextlib.suppress(sqlite3.Error, ValueError):
                await connection.close()
            return
        self.free.put_nowait(connection)

    def stop(self) -> None:
        """Stop every connection's thread without waiting (its loop may be gone)."""
        for connection in self.open:
            stop_thread(connection)
        self.open.clear()


def stop_thread(connection: aiosqlite.Connection) -> None:
    """Close a stranded connection and end its thread, with no loop waiting for the answer.

    aiosqlite's own ``stop()`` hands the thread a future of the running loop; a test's loop
    that closes before the thread gets to it makes the thread raise "Event loop is closed".
    """
    connection._running = False

    def close_and_stop() -> object:
        if connection._connection is not None:
            connection._connection.close()
            connection._connection = None
        return _STOP_RUNNING_SENTINEL

    connection._tx.put_nowait((None, close_and_stop))


class _LoopPools:
    def __init__(self, engine: PooledSQLiteEngine) -> None:
        self.readers = _Pool(engine, READERS)
        self.writers = _Pool(engine, WRITERS)

    def stop(self) -> None:
        self.readers.stop()
        self.writers.stop()


def _is_broken(exc: BaseException) -> bool:
    """Errors after which the connection is not trusted again (constraint errors are fine)."""
    if isinstance(exc, sqlite3.IntegrityError | sqlite3.ProgrammingError):
        return False
    return isinstance(exc, sqlite3.Error | ValueError | OSError) or not isinstance(exc, Exception)


class PooledTransaction(SQLiteTransaction):
    """A transaction on a borrowed connection, given back at the end instead of closed."""

    async def get_connection(self) -> aiosqlite.Connection:
        engine = self.engine
        assert isinstance(engine, PooledSQLiteEngine)
        connection = await engine.pools().writers.acquire()
        self._pool_connection = connection
        return connection

    async def __aenter__(self) -> SQLiteTransaction:
        try:
            return await super().__aenter__()
        except BaseException:
            # BEGIN failed (database locked past the busy timeout): the slot must come back.
            connection = getattr(self, "_pool_connection", None)
            if connection is not None:
                await self._release(connection, broken=True)
            raise

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        connection = self.connection
        broken = False
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()  # type: ignore[no-untyped-call]
            elif not self._committed and not self._rolled_back:
                await self.commit()  # type: ignore[no-untyped-call]
        except BaseException:
            broken = True
            raise
        finally:
            self.engine.current_transaction.reset(self.context)
            await self._release(connection, broken)
        return exception is None

    async def _release(self, connection: aiosqlite.Connection, broken: bool) -> None:
        engine = self.engine
        assert isinstance(engine, PooledSQLiteEngine)
        await engine.pools().writers.release(connection, broken)


class PooledSQLiteEngine(SQLiteEngine):
    """SQLiteEngine whose queries run on connections kept open per event loop."""

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopPools] = weakref.WeakKeyDictionary()

    def pools(self) -> _LoopPools:
        loop = asyncio.get_running_loop()
        pools = self._pools.get(loop)
        if pools is None or pools.readers.path != self.path:
            if pools is not None:
                pools.stop()  # the file changed (tests point the engine at a fresh copy)
            for other, stale in list(self._pools.items()):
                if other.is_closed():
                    stale.stop()
                    del self._pools[other]
            pools = self._pools[loop] = _LoopPools(self)
        return pools

    async def close_connections(self) -> None:
        """Close this loop's connections (at the app's shutdown)."""
        pools = self._pools.pop(asyncio.get_running_loop(), None)
        if pools is None:
            return
        for pool in (pools.readers, pools.writers):
            for connection in list(pool.open):
                await connection.close()
            pool.open.clear()

    async def get_connection(self) -> aiosqlite.Connection:
        connection = aiosqlite.connect(**self.connection_kwargs)
        # aiosqlite's thread is not a daemon: a connection stranded by a closed event loop
        # (tests run many) would keep the interpreter from exiting.
        connection._thread.daemon = True
        await connection
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
        return connection

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        return PooledTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        if query_type == "insert" and not RETURNING:
            return await super()._run_in_new_connection(query, args, query_type, table)
        pool = self.pools().readers
        connection = await pool.acquire()
        broken = False
        try:
            return await connection.execute_fetchall(query, args or [])
        except BaseException as exc:
            broken = _is_broken(exc)
            raise
        finally:
            await pool.release(connection, broken)

    async def _run_in_existing_connection(
        self,
        connection: Any,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        if query_type == "insert" and not RETURNING:
            return await super()._run_in_existing_connection(connection, query, args, query_type, table)
        # The connection was opened by get_connection: foreign keys are on already.
        return await connection.execute_fetchall(query, args or [])
