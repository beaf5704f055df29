"""Piccolo configuration: the engine is chosen by AMBASSADOR_DATABASE_URL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from ambassador.settings import DEFAULT_DATABASE_URL
from ambassador.sqlite_engine import PooledSQLiteEngine

SQLITE_BUSY_TIMEOUT_SECONDS = 30


def engine_for(url: str) -> Engine:  # type: ignore[type-arg]
    """Build the engine for a database URL (sqlite:///path or postgresql://...)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return PooledSQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresEngine(config={"dsn": url}, log_queries=False)
    raise ValueError("AMBASSADOR_DATABASE_URL must start with sqlite:/// or postgresql://")


DB = engine_for(os.environ.get("AMBASSADOR_DATABASE_URL", DEFAULT_DATABASE_URL))


def __getattr__(name: str) -> Any:
    """``APP_REGISTRY`` for Piccolo's commands (migrations), built when first asked for.

    Piccolo's app registry imports black (to format new migrations): a few MB that the
    serving workers, which only need ``DB``, do not load.
    """
    if name == "APP_REGISTRY":
        from piccolo.conf.apps import AppRegistry

        registry = AppRegistry(apps=["ambassador.piccolo_app"])
        globals()["APP_REGISTRY"] = registry
        return registry
    raise AttributeError(name)
