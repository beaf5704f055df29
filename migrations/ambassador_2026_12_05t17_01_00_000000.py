"""Held files (issue 14): attachments of a form not sent yet, kept under its submission key.

A citizen's files that passed their checks survive a validation error, a language switch
and a saved draft; they are stored as attachments when the form is sent and erased by the
retention job once ``expires_at`` has passed (domain/held_files.py).
"""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Bytea, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-05T17:01:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "held_file table"


def _params(**changes: Any) -> dict[str, Any]:
    return {
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
        **changes,
    }


COLUMNS: list[tuple[str, type[Any], dict[str, Any]]] = [
    ("submission_key", Varchar, _params(length=64, default="", index=True)),
    ("filename", Varchar, _params(length=200, default="")),
    ("content_type", Varchar, _params(length=50, default="")),
    ("size", Integer, _params(default=0)),
    ("sha256", Varchar, _params(length=64, default="")),
    ("content", Bytea, _params(default=b"", secret=True)),
    ("created_at", Timestamptz, _params(default=TimestamptzNow())),
    ("expires_at", Timestamptz, _params(default=TimestamptzNow(), index=True)),
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ambassador", description=DESCRIPTION)
    manager.add_table(class_name="HeldFile", tablename="held_file", schema=None, columns=None)
    for name, column_class, params in COLUMNS:
        manager.add_column(
            table_class_name="HeldFile",
            tablename="held_file",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )
    return manager
