"""Piccolo tables. Only structure lives here; rules live in ambassador.domain.

Foreign keys are non-null with RESTRICT: nothing that an audit entry or a decision points to
may disappear silently. Composite uniqueness is created by raw indexes in the migrations.

The tables live in modules by concern; every one is importable from here
(``from ambassador.tables import User``). ``ambassador.piccolo_app`` lists the modules.
"""

from __future__ import annotations

from ambassador.tables.accounts import (
    AuthToken,
    PasswordResetRequest,
    RolePolicy,
    StaffSession,
    ThrottleCounter,
    User,
    UserRole,
)
from ambassador.tables.categories import Category
from ambassador.tables.drafts import NominationDraft
from ambassador.tables.editions import Attachment, Criterion, Edition, Nomination, NominationToken
from ambassador.tables.held_files import HeldFile
from ambassador.tables.jury import (
    ConflictDeclaration,
    DetectedConflict,
    JuryMember,
    JurySettings,
    Proposal,
    Score,
    ScoreSheet,
    Vote,
)
from ambassador.tables.laureates import Decision, DecisionItem, Laureate, LaureateRevision
from ambassador.tables.portraits import Portrait, PortraitImage
from ambassador.tables.records import AuditEntry, KeyValue, OutboxMail

__all__ = [
    "Attachment",
    "AuditEntry",
    "AuthToken",
    "Category",
    "ConflictDeclaration",
    "Criterion",
    "Decision",
    "DecisionItem",
    "DetectedConflict",
    "Edition",
    "HeldFile",
    "JuryMember",
    "JurySettings",
    "KeyValue",
    "Laureate",
    "LaureateRevision",
    "Nomination",
    "NominationDraft",
    "NominationToken",
    "OutboxMail",
    "PasswordResetRequest",
    "Portrait",
    "PortraitImage",
    "Proposal",
    "RolePolicy",
    "Score",
    "ScoreSheet",
    "StaffSession",
    "ThrottleCounter",
    "User",
    "UserRole",
    "Vote",
]

# The modules Piccolo's table_finder searches (ambassador.piccolo_app).
MODULES = (
    "ambassador.tables.accounts",
    "ambassador.tables.records",
    "ambassador.tables.editions",
    "ambassador.tables.categories",
    "ambassador.tables.jury",
    "ambassador.tables.laureates",
    "ambassador.tables.portraits",
    "ambassador.tables.held_files",
    "ambassador.tables.drafts",
)
