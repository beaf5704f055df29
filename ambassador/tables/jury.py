"""The jury: its settings and members, conflicts, score sheets, proposals and votes."""

from __future__ import annotations

from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from ambassador.tables.accounts import User
from ambassador.tables.editions import Criterion, Edition, Nomination


class JurySettings(Table, tablename="jury_settings"):
    """How an edition's jury works; fixed before scoring opens (one row per edition).

    ``score_visibility``: ``after_own`` (others' scores once one's own are submitted),
    ``never`` or ``always``. ``tie_break``: comma-separated chain (median, top_scores, mean,
    vote). ``majority``: ``simple`` (more for than against) or ``absolute`` (more than half
    of the votes cast, abstentions included).

    ``scoring_closes_at`` (optional) is the deadline the jurors are given for their sheets and
    ``reminder_days`` how many days before it the jurors who have not submitted everything are
    reminded (0: never); unlike the other rules they may change while the jury scores.
    ``reminder_due_at`` is when that reminder is due (None: none is due, or it went out) and
    ``reminded_for`` the deadline the last reminder was sent for (``domain.mail_schedule``).
    """

    id: Serial
    edition = ForeignKey(Edition, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, unique=True)
    appointment_document = Varchar(length=300, default="")
    score_visibility = Varchar(length=20, default="after_own")
    min_scores = Integer(default=3)
    normalise = Boolean(default=False)
    tie_break = Varchar(length=200, default="median,top_scores,vote")
    vote_quorum_percent = Integer(default=50)
    majority = Varchar(length=20, default="simple")
    scoring_closes_at = Timestamptz(null=True, default=None)
    reminder_days = Integer(default=3)
    reminder_due_at = Timestamptz(null=True, default=None, index=True)
    reminded_for = Timestamptz(null=True, default=None)


class JuryMember(Table, tablename="jury_member"):
    """A juror appointed to one edition; (edition, user) is unique, one chair per edition.

    ``vote_mail`` is the id of the juror's pending "votes have started" mail in the outbox
    (None when there is none): proposals made before it goes out are added to it.
    """

    id: Serial
    edition = ForeignKey(Edition, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    user = ForeignKey(User, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    is_chair = Boolean(default=False)
    organisations = Text(default="")
    appointed_at = Timestamptz(default=TimestamptzNow())
    vote_mail = Integer(null=True, default=None)


class ConflictDeclaration(Table, tablename="conflict_declaration"):
    """A juror's answer for one nomination: no conflict, or a conflict of a kind.

    ``pinned`` is set when a clerk confirms it: the juror can no longer withdraw it.
    """

    id: Serial
    edition = ForeignKey(Edition, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    juror = ForeignKey(User, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    nomination = ForeignKey(
        Nomination, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True
    )
    conflicted = Boolean(default=False)
    kind = Varchar(length=30, default="")
    reason = Text(default="")
    pinned = Boolean(default=False)
    declared_at = Timestamptz(default=TimestamptzNow())


class DetectedConflict(Table, tablename="detected_conflict"):
    """A potential conflict found automatically; blocks the juror until a clerk dismisses it.

    ``decided_by`` is nullable on purpose: it is empty while the clerk has not decided.
    """

    id: Serial
    edition = ForeignKey(Edition, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    juror = ForeignKey(User, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    nomination = ForeignKey(
        Nomination, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True
    )
    evidence = Text(default="")
    status = Varchar(length=20, default="pending")
    decided_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict)
    decision_reason = Text(default="")
    detected_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)


class ScoreSheet(Table, tablename="score_sheet"):
    """One juror's scores on one nomination: draft, submitted, or void (after a conflict)."""

    id: Serial
    edition = ForeignKey(Edition, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    juror = ForeignKey(User, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    nomination = ForeignKey(
        Nomination, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True
    )
    status = Varchar(length=20, default="draft")
    comment = Text(default="")
    updated_at = Timestamptz(default=TimestamptzNow())
    submitted_at = Timestamptz(null=True, default=None)


class Score(Table, tablename="score"):
    """The value (and optional comment) for one criterion on one sheet; (sheet, criterion) unique."""

    id: Serial
    # No single-column index: its name would clash with the score_sheet table; the unique
    # (sheet, criterion) index serves lookups by sheet.
    sheet = ForeignKey(ScoreSheet, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict)
    criterion = ForeignKey(Criterion, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict)
    value = Integer(null=True, default=None)
    comment = Text(default="")


class Proposal(Table, tablename="proposal"):
    """The chair's proposal of a distinction for one nomination, put to the jury's vote."""

    id: Serial
    edition = ForeignKey(Edition, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    nomination = ForeignKey(
        Nomination, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, unique=True
    )
    distinction = Varchar(length=20)
    proposed_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict)
    proposed_at = Timestamptz(default=TimestamptzNow())


class Vote(Table, tablename="vote"):
    """A juror's vote on a proposal: for, against or abstain; (proposal, juror) unique."""

    id: Serial
    proposal = ForeignKey(Proposal, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    juror = ForeignKey(User, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    choice = Varchar(length=10)
    cast_at = Timestamptz(default=TimestamptzNow())
