"""Issue 14, step 2 of 2: one resized copy per (portrait, version, width).

Piccolo's table-level Unique constraint does not work on SQLite, so a raw unique index is
used; it works the same on PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-05T17:21:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "portrait images: unique per portrait, version and width"


class PortraitImage(Table, tablename="portrait_image"):
    pass


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ambassador", description=DESCRIPTION)

    async def run() -> None:
        await PortraitImage._meta.db.run_ddl(
            "CREATE UNIQUE INDEX portrait_image_version_width_uniq ON portrait_image (portrait, version, width)"
        )

    async def run_backwards() -> None:
        await PortraitImage._meta.db.run_ddl("DROP INDEX portrait_image_version_width_uniq")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
