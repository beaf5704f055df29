"""Honours as data (issue 13), step 3 of 3: the editions' category columns are dropped.

Their values live in the category rows since step 2. Backwards, the columns come back with
their old defaults and step 2 backwards fills them from the rows.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T10:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "editions' titles_a, mentions_a, titles_b, mentions_b dropped"

DROPPED = ("titles_a", "mentions_a", "titles_b", "mentions_b")


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ambassador", description=DESCRIPTION)
    for name in DROPPED:
        manager.drop_column(
            table_class_name="Edition", tablename="edition", column_name=name, db_column_name=name, schema=None
        )
    return manager
