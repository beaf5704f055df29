"""Composite uniqueness for the jury: one membership, one answer, one sheet, one vote each.

Raw unique indexes (as in the earlier migrations) work the same on SQLite and PostgreSQL.
The partial index lets the database keep at most one chair per edition.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-25T12:45:51:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique jury membership, chair, conflict answers, sheets, scores and votes"

INDEXES = {
    "jury_member_edition_user_uniq": 'jury_member (edition, "user")',
    "jury_member_one_chair_uniq": "jury_member (edition) WHERE is_chair",
    "conflict_declaration_juror_nomination_uniq": "conflict_declaration (juror, nomination)",
    "detected_conflict_juror_nomination_uniq": "detected_conflict (juror, nomination)",
    "score_sheet_juror_nomination_uniq": "score_sheet (juror, nomination)",
    "score_sheet_criterion_uniq": "score (sheet, criterion)",
    "vote_proposal_juror_uniq": "vote (proposal, juror)",
}


class JuryMember(Table, tablename="jury_member"):
    pass


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ambassador", description=DESCRIPTION)

    async def run() -> None:
        for name, target in INDEXES.items():
            await JuryMember._meta.db.run_ddl(f"CREATE UNIQUE INDEX {name} ON {target}")

    async def run_backwards() -> None:
        for name in INDEXES:
            await JuryMember._meta.db.run_ddl(f"DROP INDEX {name}")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
