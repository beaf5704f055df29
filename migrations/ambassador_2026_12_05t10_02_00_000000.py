"""The session registry (ASVS 7.4.5, 7.5.2): one row per signed-in browser of a staff account.

Existing sessions have no row: they end at the first request after the upgrade and their
users sign in again (docs/sessions.md). The index on ``user`` serves the per-account reads (a
login counts the account's live sessions); ``public_id`` is unique, which serves each
request's check of its own session.
"""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-05T10:02:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "session registry"


class User(Table, tablename="app_user", schema=None):
    pass


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
    ("public_id", Varchar, _params(length=32, default="", unique=True)),
    (
        "user",
        ForeignKey,
        _params(
            references=User,
            on_delete=OnDelete.restrict,
            on_update=OnUpdate.restrict,
            target_column=None,
            index=True,
        ),
    ),
    ("epoch", Integer, _params(default=0)),
    ("created_at", Timestamptz, _params(default=TimestamptzNow())),
    ("last_seen_at", Timestamptz, _params(default=TimestamptzNow())),
    ("address", Varchar, _params(length=64, default="")),
    ("user_agent", Varchar, _params(length=200, default="")),
    ("ended_at", Timestamptz, _params(default=None, null=True)),
    ("ended_reason", Varchar, _params(length=20, default="")),
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ambassador", description=DESCRIPTION)
    manager.add_table(class_name="StaffSession", tablename="staff_session", schema=None, columns=None)
    for name, column_class, params in COLUMNS:
        manager.add_column(
            table_class_name="StaffSession",
            tablename="staff_session",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )
    return manager
