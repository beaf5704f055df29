"""Honours as data (issue 13), step 1 of 3: the category table; category codes up to 8 characters.

An edition's categories become rows (names in three languages, who may be nominated, the
quotas of titles and mentions, the nominee fields asked for). The nominations', laureates'
and revisions' ``category`` keeps the category's code, widened from one character to eight:
PostgreSQL alters the columns; SQLite keeps no lengths, so there is nothing to widen.
Step 2 fills the table from the editions' old columns, step 3 drops them.
"""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import ForeignKey, Integer, Text, Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-12-05T10:03:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "category table; category codes widened to 8 characters"


class Edition(Table, tablename="edition", schema=None):
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
    (
        "edition",
        ForeignKey,
        _params(
            references=Edition,
            on_delete=OnDelete.cascade,
            on_update=OnUpdate.cascade,
            target_column=None,
            index=True,
        ),
    ),
    ("code", Varchar, _params(length=8, default="")),
    ("position", Integer, _params(default=1)),
    ("name_pl", Varchar, _params(length=200, default="")),
    ("name_en", Varchar, _params(length=200, default="")),
    ("name_uk", Varchar, _params(length=200, default="")),
    ("nominee_kind", Varchar, _params(length=20, default="either")),
    ("titles", Integer, _params(default=0)),
    ("mentions", Integer, _params(default=0)),
    ("fields", Text, _params(default="")),
]

# The tables whose ``category`` holds a category's code.
WIDENED = {"Nomination": "nomination", "Laureate": "laureate", "LaureateRevision": "laureate_revision"}


class _Manager(MigrationManager):
    """Alters column lengths on PostgreSQL only: SQLite has no ``ALTER COLUMN`` and no lengths."""

    async def _run_alter_columns(self, backwards: bool = False) -> None:
        engine = engine_finder()
        if engine is not None and engine.engine_type == "sqlite":
            return
        await super()._run_alter_columns(backwards=backwards)


async def forwards() -> MigrationManager:
    manager = _Manager(migration_id=ID, app_name="ambassador", description=DESCRIPTION)
    manager.add_table(class_name="Category", tablename="category", schema=None, columns=None)
    for name, column_class, params in COLUMNS:
        manager.add_column(
            table_class_name="Category",
            tablename="category",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )
    for class_name, tablename in WIDENED.items():
        manager.alter_column(
            table_class_name=class_name,
            tablename=tablename,
            column_name="category",
            db_column_name="category",
            params={"length": 8},
            old_params={"length": 1},
            column_class=Varchar,
            old_column_class=Varchar,
            schema=None,
        )
    return manager
