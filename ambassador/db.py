"""Database helpers shared by the domain: transactions, clock, integrity errors, readiness."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import os
import sqlite3
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from ambassador.piccolo_conf import DB
from ambassador.sqlite_engine import PooledSQLiteEngine


def engine() -> Engine:  # type: ignore[type-arg]
    """The engine every table uses (tests repoint it per test)."""
    return DB


def is_sqlite() -> bool:
    return isinstance(DB, SQLiteEngine)


def utcnow() -> dt.datetime:
    """Aware UTC now; every stored time is aware."""
    return dt.datetime.now(dt.UTC)


@asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """One atomic write: IMMEDIATE on SQLite (no lock upgrade deadlocks), plain on PostgreSQL.

    Nested use joins the outer transaction.
    """
    if DB.transaction_exists():
        yield
        return
    if isinstance(DB, SQLiteEngine):
        transaction: Any = DB.transaction(transaction_type=TransactionType.immediate)
    else:
        transaction = DB.transaction()
    try:
        async with _writer_lock(), _file_lock(), transaction:
            yield
    finally:
        # When the rollback or the commit fails (the connection was lost), Piccolo leaves the
        # transaction current: the request's later queries (its session write) would run on
        # the dead connection.
        current = DB.current_transaction.get()
        if current is not None and current is transaction:
            DB.current_transaction.reset(current.context)


@asynccontextmanager
async def queued_write() -> AsyncIterator[None]:
    """Around one write statement outside a transaction (a session or rate-limit record).

    On SQLite it waits in line with the write transactions (the two locks below) rather than
    meeting another process's transaction in SQLite's sleeping busy handler. Inside a write
    transaction, or on PostgreSQL, it adds nothing.
    """
    if not isinstance(DB, SQLiteEngine) or DB.transaction_exists():
        yield
        return
    async with _writer_lock(), _file_lock():
        yield


_WRITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _writer_lock() -> contextlib.AbstractAsyncContextManager[Any]:
    """On SQLite, one writer at a time in this process, waiting in line.

    SQLite admits one writer anyway; left to its busy handler, waiting writers sleep and
    retry with growing pauses, which is unfair and slow under load (measured: about ten
    times fewer writes per second, seconds of p99). An asyncio lock queues them instead.
    Other processes still meet at SQLite's lock (30 s busy timeout). PostgreSQL needs none.
    """
    if not isinstance(DB, SQLiteEngine):
        return contextlib.nullcontext()
    loop = asyncio.get_running_loop()
    lock = _WRITERS.get(loop)
    if lock is None:
        lock = _WRITERS[loop] = asyncio.Lock()
    return lock


# How long a writer waits for another process's write before the request gets a 503 (as
# SQLite's own busy timeout).
FILE_LOCK_TIMEOUT_SECONDS = 30.0
_FILE_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[str, int]] = weakref.WeakKeyDictionary()


def _lock_file(loop: asyncio.AbstractEventLoop, database: str) -> int:
    """This loop's descriptor of the database's lock file (one per loop: flock excludes
    other open descriptions, not the same one)."""
    held = _FILE_LOCKS.get(loop)
    if held is not None and held[0] == database:
        return held[1]
    if held is not None:
        os.close(held[1])
    fd = os.open(f"{database}-writer", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    _FILE_LOCKS[loop] = (database, fd)
    return fd


@asynccontextmanager
async def _file_lock() -> AsyncIterator[None]:
    """On SQLite, one writer at a time across processes (uvicorn workers, commands), in line.

    Without it, writers of different processes meet at SQLite's lock, whose busy handler
    sleeps and retries (1 ms, 2 ms, … 100 ms): a second worker added waits, not throughput.
    An exclusive ``flock`` on ``<database>-writer`` queues them in the kernel instead; a
    process that dies releases it. The wait runs in a thread; if the request is cancelled
    meanwhile, the lock is released as soon as it is granted.
    """
    if not isinstance(DB, SQLiteEngine):
        yield
        return
    loop = asyncio.get_running_loop()
    fd = _lock_file(loop, DB.path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        granted = loop.run_in_executor(None, fcntl.flock, fd, fcntl.LOCK_EX)
        try:
            await asyncio.wait_for(asyncio.shield(granted), FILE_LOCK_TIMEOUT_SECONDS)
        except TimeoutError:
            _release_when_granted(granted, fd)
            raise sqlite3.OperationalError("database is locked") from None
        except BaseException:
            _release_when_granted(granted, fd)
            raise
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _release_when_granted(granted: asyncio.Future[None], fd: int) -> None:
    def release(done: asyncio.Future[None]) -> None:
        if not done.cancelled() and done.exception() is None:
            fcntl.flock(fd, fcntl.LOCK_UN)

    granted.add_done_callback(release)


async def serialise_writers(name: str) -> None:
    """Inside a write transaction, wait for others writing the same sequence.

    SQLite's IMMEDIATE transaction already excludes other writers; PostgreSQL needs an
    advisory lock held until commit.
    """
    if isinstance(DB, PostgresEngine):
        await DB.run_ddl(f"SELECT pg_advisory_xact_lock(hashtext('{_identifier(name)}'))")


def _identifier(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError("lock names are identifiers")
    return name


def is_unavailable(exc: BaseException) -> bool:
    """True when the database cannot be reached or is locked: a retryable 503, not a bug.

    A PostgreSQL restart shows as: the server ending sessions (admin or crash shutdown),
    refusing connections while it starts, and connections lost mid-operation. Then the
    rollback on the dead connection raises asyncpg's "connection is closed" in place of the
    original error, and resetting it for the pool can raise asyncpg's internal state error.
    """
    if isinstance(
        exc,
        asyncpg.PostgresConnectionError
        | asyncpg.CannotConnectNowError
        | asyncpg.AdminShutdownError
        | asyncpg.CrashShutdownError
        | asyncpg.InternalClientError
        | ConnectionError,
    ):
        return True
    if isinstance(exc, asyncpg.InterfaceError) and "connection is closed" in str(exc):
        return True
    if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError):
        return True
    message = str(exc)
    return isinstance(exc, sqlite3.OperationalError) and (
        "unable to open database" in message or "database is locked" in message or "disk I/O error" in message
    )


def is_unique_violation(exc: BaseException) -> bool:
    """True when the database refused a duplicate (SQLite or PostgreSQL)."""
    if isinstance(exc, asyncpg.UniqueViolationError):
        return True
    return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)


@asynccontextmanager
async def unique_or(error: Exception) -> AsyncIterator[None]:
    """Around a write: a duplicate the database refuses is raised as ``error`` (a domain error).

    Outside the write transaction it wraps, so the transaction has rolled back when it is raised.
    """
    try:
        yield
    except Exception as exc:
        if is_unique_violation(exc):
            raise error from exc
        raise


async def ping() -> bool:
    """Whether the database answers a trivial query."""
    try:
        rows: Any = await DB.run_ddl("SELECT 1 AS ok")
    except (OSError, sqlite3.Error, asyncpg.PostgresError, TimeoutError):
        return False
    return bool(rows)


async def prepare() -> None:
    """Per-database settings that persist: WAL journal for SQLite."""
    if isinstance(DB, SQLiteEngine):
        await DB.run_ddl("PRAGMA journal_mode=WAL")


async def start_pool() -> None:
    if isinstance(DB, PostgresEngine):
        await DB.start_connection_pool(min_size=1, max_size=10)


async def close_pool() -> None:
    if isinstance(DB, PostgresEngine):
        await DB.close_connection_pool()


async def close_connections() -> None:
    """SQLite's open connections of this event loop (see sqlite_engine), at shutdown."""
    if isinstance(DB, PooledSQLiteEngine):
        await DB.close_connections()
