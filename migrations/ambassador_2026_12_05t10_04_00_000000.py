"""Honours as data (issue 13), step 2 of 3: every edition's categories A and B as rows.

Each existing edition gets the two categories it had: A, organisations (nominee fields: the
kind of organisation and the KRS number), and B, individuals, with the quotas from its
``titles_a``/``mentions_a``/``titles_b``/``mentions_b`` and the names the pages showed
("A: organisation", "B: individual" in Polish, English and Ukrainian), so their results,
archive and open data read as before. A raw unique index keeps codes unique per edition.
Backwards, the quotas go back to the edition's columns (step 3 backwards restores them).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-05T10:04:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "categories A and B of every edition from its columns"

INDEX = "category_edition_code_uniq"

# code, position, name_pl, name_en, name_uk, nominee_kind, fields
CATEGORIES = (
    ("A", 1, "organizacja", "organisation", "організація", "organisation", "organisation_kind,registry_number"),
    ("B", 2, "osoba fizyczna", "individual", "фізична особа", "person", ""),
)


class Category(Table, tablename="category"):
    pass


def _insert(code: str, position: int, name_pl: str, name_en: str, name_uk: str, kind: str, fields: str) -> str:
    # Literals, not parameters: the values are the constants above (none holds a quote), and
    # PostgreSQL would not infer a parameter's type in INSERT … SELECT.
    names = ", ".join(f"'{value}'" for value in (name_pl, name_en, name_uk, kind))
    suffix = code.lower()
    return (
        'INSERT INTO category (edition, code, "position", name_pl, name_en, name_uk, nominee_kind, titles, '
        f"mentions, fields) SELECT id, '{code}', {position}, {names}, titles_{suffix}, mentions_{suffix}, "
        f"'{fields}' FROM edition"
    )


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ambassador", description=DESCRIPTION)

    async def run() -> None:
        for category in CATEGORIES:
            await Category._meta.db.run_ddl(_insert(*category))
        await Category._meta.db.run_ddl(f"CREATE UNIQUE INDEX {INDEX} ON category (edition, code)")

    async def run_backwards() -> None:
        for code, *_ in CATEGORIES:
            suffix = code.lower()
            for column in ("titles", "mentions"):
                await Category.raw(
                    f"UPDATE edition SET {column}_{suffix} = COALESCE((SELECT {column} FROM category "
                    "WHERE category.edition = edition.id AND category.code = {}), 0)",
                    code,
                )
        await Category._meta.db.run_ddl(f"DROP INDEX {INDEX}")
        await Category.raw("DELETE FROM category")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
