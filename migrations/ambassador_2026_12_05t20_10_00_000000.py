"""Mails that go by themselves (issue 15): the scoring deadline and its automatic reminder.

``jury_settings`` gets the deadline given to the jurors (``scoring_closes_at``), how many days
before it the reminder goes (``reminder_days``, 0 for none), when that reminder is due
(``reminder_due_at``, indexed: the mail sender asks for due reminders on every poll) and the
deadline the last one was sent for (``reminded_for``). ``jury_member.vote_mail`` is the id of a
juror's pending "votes have started" mail, into which the chair's next proposals are merged.
"""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Timestamptz
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-05T20:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "scoring deadline, reminder days and the pending vote mail"


class JurySettings(Table, tablename="jury_settings"):
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


COLUMNS: list[tuple[str, str, str, type[Any], dict[str, Any]]] = [
    ("JurySettings", "jury_settings", "scoring_closes_at", Timestamptz, _params(null=True, default=None)),
    ("JurySettings", "jury_settings", "reminder_days", Integer, _params(default=3)),
    ("JurySettings", "jury_settings", "reminder_due_at", Timestamptz, _params(null=True, default=None, index=True)),
    ("JurySettings", "jury_settings", "reminded_for", Timestamptz, _params(null=True, default=None)),
    ("JuryMember", "jury_member", "vote_mail", Integer, _params(null=True, default=None)),
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ambassador", description=DESCRIPTION)
    for class_name, tablename, name, column_class, params in COLUMNS:
        manager.add_column(
            table_class_name=class_name,
            tablename=tablename,
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )

    async def drop_index() -> None:
        # SQLite cannot drop a column that an index still names: the index goes first.
        await JurySettings._meta.db.run_ddl("DROP INDEX IF EXISTS jury_settings_reminder_due_at")

    manager.add_raw_backwards(drop_index)
    return manager
