"""Drafts of the public nomination form (issue 14): the ``nomination_draft`` table.

A draft is not a nomination: it has no reference, no state and no place in any staff list.
``submission_key`` (unique) ties it to the form's held files; ``token_hash`` (unique) is the
SHA-256 of the secret in the mailed resume link. Drafts are erased when their edition's
window closes (domain.drafts, run by the retention job).
"""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import JSON, ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-05T17:11:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "nomination drafts"


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
            on_delete=OnDelete.restrict,
            on_update=OnUpdate.restrict,
            target_column=None,
            index=True,
        ),
    ),
    ("submission_key", Varchar, _params(length=64, default="", unique=True)),
    ("token_hash", Varchar, _params(length=64, default="", unique=True)),
    ("nominator_email", Varchar, _params(length=254, default="")),
    ("language", Varchar, _params(length=5, default="pl")),
    ("form_values", JSON, _params(default="{}")),
    ("created_at", Timestamptz, _params(default=TimestamptzNow())),
    ("updated_at", Timestamptz, _params(default=TimestamptzNow())),
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ambassador", description=DESCRIPTION)
    manager.add_table(class_name="NominationDraft", tablename="nomination_draft", schema=None, columns=None)
    for name, column_class, params in COLUMNS:
        manager.add_column(
            table_class_name="NominationDraft",
            tablename="nomination_draft",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )
    return manager
