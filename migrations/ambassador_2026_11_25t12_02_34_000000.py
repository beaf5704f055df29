"""Composite uniqueness for editions' criteria and nomination numbers.

Raw unique indexes, as in the user-role migration: they work the same on SQLite and
PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-25T12:02:34:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique criterion position and nomination number per edition"

INDEXES = {
    "criterion_edition_position_uniq": 'criterion (edition, "position")',
    "nomination_edition_number_uniq": "nomination (edition, number)",
}


class Criterion(Table, tablename="criterion"):
    pass


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ambassador", description=DESCRIPTION)

    async def run() -> None:
        for name, target in INDEXES.items():
            await Criterion._meta.db.run_ddl(f"CREATE UNIQUE INDEX {name} ON {target}")

    async def run_backwards() -> None:
        for name in INDEXES:
            await Criterion._meta.db.run_ddl(f"DROP INDEX {name}")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
