"""Composite uniqueness the database must enforce.

Piccolo's table-level Unique constraint does not work on SQLite, so a raw unique index is
used; it works the same on PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T19:09:34:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique role per user"


class UserRole(Table, tablename="user_role"):
    pass


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ambassador", description=DESCRIPTION)

    async def run() -> None:
        await UserRole._meta.db.run_ddl(
            'CREATE UNIQUE INDEX user_role_user_role_uniq ON user_role ("user", role)'
        )

    async def run_backwards() -> None:
        await UserRole._meta.db.run_ddl("DROP INDEX user_role_user_role_uniq")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
