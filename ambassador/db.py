"""Database helpers shared by the domain: transactions, clock, integrity errors, readiness."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
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
        async with _writer_lock(), transaction:
            yield
    finally:
        # When the rollback or the commit fails (the connection was lost), Piccolo leaves the
        # transaction current: the request's later queries (its session write) would run on
        # the dead connection.
        current = DB.current_transaction.get()
        if current is not None and current is transaction:
            DB.current_transaction.reset(current.context)


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
