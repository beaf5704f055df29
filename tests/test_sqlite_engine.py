"""The pooled SQLite engine overrides Piccolo internals: fail loudly when Piccolo changes them.

``ambassador/sqlite_engine.py`` lists the Piccolo minor versions it was written for
(``PICCOLO_VERSIONS``, pinned in pyproject.toml). These tests need no project database: the
engine runs on a file of its own, so they pass (or fail) the same on both test databases.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib.metadata
import inspect
import threading
from pathlib import Path

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction

from ambassador import sqlite_engine
from ambassador.sqlite_engine import PooledSQLiteEngine, PooledTransaction, stop_thread


def test_the_installed_piccolo_is_a_version_the_engine_was_written_for() -> None:
    installed = importlib.metadata.version("piccolo")
    minor = ".".join(installed.split(".")[:2])
    assert minor in sqlite_engine.PICCOLO_VERSIONS, (
        f"piccolo {installed} is installed, but ambassador/sqlite_engine.py overrides Piccolo's "
        f"private SQLite internals and was written for piccolo {', '.join(sqlite_engine.PICCOLO_VERSIONS)}. "
        "Check those internals in the new version, then add it to PICCOLO_VERSIONS and the pin in pyproject.toml."
    )


def test_the_overridden_query_methods_still_exist_with_the_same_parameters() -> None:
    for name in ("_run_in_new_connection", "_run_in_existing_connection"):
        original = getattr(SQLiteEngine, name, None)
        assert original is not None, f"Piccolo's SQLiteEngine has no {name} any more: sqlite_engine.py overrides it"
        ours = getattr(PooledSQLiteEngine, name)
        assert list(inspect.signature(original).parameters) == list(inspect.signature(ours).parameters), name
    for name in ("get_connection", "begin", "commit", "rollback", "__aenter__", "__aexit__"):
        assert callable(getattr(SQLiteTransaction, name, None)), f"SQLiteTransaction.{name} is gone"


async def test_the_transaction_state_the_engine_reads_is_still_there(tmp_path: Path) -> None:
    engine = PooledSQLiteEngine(path=str(tmp_path / "engine.sqlite3"))
    assert isinstance(engine.current_transaction, contextvars.ContextVar)
    assert engine.connection_kwargs["database"] == str(tmp_path / "engine.sqlite3")
    try:
        transaction = engine.transaction()
        assert isinstance(transaction, PooledTransaction)
        assert (transaction._parent, transaction._committed, transaction._rolled_back) == (None, False, False)
        async with transaction:
            assert isinstance(transaction.context, contextvars.Token)
            assert engine.current_transaction.get() is transaction
            await engine.run_ddl("CREATE TABLE t (n INTEGER)")
            await engine.run_ddl("INSERT INTO t VALUES (1)")
        assert (transaction._committed, engine.current_transaction.get()) == (True, None)
        assert await engine.run_ddl("SELECT n FROM t") == [{"n": 1}]
    finally:
        await engine.close_connections()


async def test_aiosqlite_still_runs_each_connection_in_a_thread_of_its_own(tmp_path: Path) -> None:
    connection = aiosqlite.connect(str(tmp_path / "thread.sqlite3"))
    assert isinstance(connection._thread, threading.Thread), "aiosqlite.Connection._thread is gone"
    await connection
    await connection.close()


def test_a_stranded_connection_stops_without_a_loop_to_answer(tmp_path: Path) -> None:
    """Regression: a stale pool's connections were stopped with aiosqlite's ``stop()``, whose
    answer goes to the running loop; when that (test's) loop closed before the connection's
    thread got to it, the thread raised "Event loop is closed" into whichever test ran next."""

    async def open_one() -> aiosqlite.Connection:
        connection = aiosqlite.connect(str(tmp_path / "stranded.sqlite3"))
        connection._thread.daemon = True
        await connection
        return connection

    connection = asyncio.run(open_one())  # the loop it was opened in is gone
    gate = threading.Event()
    connection._tx.put_nowait((None, gate.wait))  # the thread is busy until the gate opens
    raised: list[BaseException | None] = []
    previous = threading.excepthook
    threading.excepthook = lambda args: raised.append(args.exc_value)
    try:

        async def stop() -> None:
            stop_thread(connection)

        asyncio.run(stop())  # this loop closes before the thread reaches the stop
        gate.set()
        connection._thread.join(5)
    finally:
        threading.excepthook = previous
    assert (connection._thread.is_alive(), raised) == (False, [])
