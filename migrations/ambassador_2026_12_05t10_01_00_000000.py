"""The audit log becomes keyed and append-only (ASVS 16.4.2, 16.2.1; audit finding F5).

Four columns, with defaults that describe the rows written before: ``scheme`` "sha256"
(the unkeyed chain, still verifiable), no key id, no client address or request id. The
rows themselves are not touched. Then triggers refuse UPDATE and DELETE on the table: a
plpgsql function on PostgreSQL, ``RAISE(ABORT, …)`` triggers on SQLite.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-05T10:01:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit entries: keyed MAC scheme, key id, client address, request id; append-only triggers"

COLUMNS = {"scheme": (12, "sha256"), "key_id": (16, ""), "client": (64, ""), "request_id": (64, "")}

MESSAGE = "audit_entry is append-only"
POSTGRES_FORWARDS = (
    "CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION '{MESSAGE}: % refused', TG_OP; END; $$",
    "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
    "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()",
)
POSTGRES_BACKWARDS = (
    "DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry",
    "DROP FUNCTION IF EXISTS audit_entry_append_only()",
)
SQLITE_FORWARDS = tuple(
    f"CREATE TRIGGER audit_entry_no_{operation.lower()} BEFORE {operation} ON audit_entry "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {operation} refused'); END"
    for operation in ("UPDATE", "DELETE")
)
SQLITE_BACKWARDS = ("DROP TRIGGER IF EXISTS audit_entry_no_update", "DROP TRIGGER IF EXISTS audit_entry_no_delete")


class AuditEntry(Table, tablename="audit_entry"):
    pass


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ambassador", description=DESCRIPTION)
    for name, (length, default) in COLUMNS.items():
        manager.add_column(
            table_class_name="AuditEntry",
            tablename="audit_entry",
            column_name=name,
            db_column_name=name,
            column_class_name="Varchar",
            column_class=Varchar,
            params={
                "length": length,
                "default": default,
                "null": False,
                "primary_key": False,
                "unique": False,
                "index": False,
                "index_method": IndexMethod.btree,
                "choices": None,
                "db_column_name": None,
                "secret": False,
            },
            schema=None,
        )

    def statements(*, forwards: bool) -> tuple[str, ...]:
        if AuditEntry._meta.db.engine_type == "sqlite":
            return SQLITE_FORWARDS if forwards else SQLITE_BACKWARDS
        return POSTGRES_FORWARDS if forwards else POSTGRES_BACKWARDS

    async def run() -> None:
        for statement in statements(forwards=True):
            await AuditEntry._meta.db.run_ddl(statement)

    async def run_backwards() -> None:
        for statement in statements(forwards=False):
            await AuditEntry._meta.db.run_ddl(statement)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
