"""Piccolo tables. Only structure lives here; rules live in ambassador.domain.

Foreign keys are non-null with RESTRICT: nothing that an audit entry or a decision points to
may disappear silently. Composite uniqueness is created by raw indexes in the migrations.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    Bytea,
    Date,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class User(Table, tablename="app_user"):
    """A staff account (admin, clerk, juror). Citizens never have one."""

    id: Serial
    email = Varchar(length=254, unique=True)
    display_name = Varchar(length=200)
    password_hash = Text(default="", secret=True)
    is_active = Boolean(default=True)
    totp_secret = Varchar(length=64, default="", secret=True)
    totp_last_step = Integer(default=0)
    session_epoch = Integer(default=0)
    language = Varchar(length=5, default="pl")
    created_at = Timestamptz(default=TimestamptzNow())
    last_login_at = Timestamptz(null=True, default=None)


class UserRole(Table, tablename="user_role"):
    """One role held by one user; (user, role) is unique."""

    id: Serial
    user = ForeignKey(User, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    role = Varchar(length=20)


class RolePolicy(Table, tablename="role_policy"):
    """Per-role security policy an admin sets (whether TOTP is mandatory)."""

    id: Serial
    role = Varchar(length=20, unique=True)
    totp_required = Boolean(default=False)


class AuthToken(Table, tablename="auth_token"):
    """A single-use emailed link (invitation, password reset); only its hash is stored."""

    id: Serial
    user = ForeignKey(User, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    purpose = Varchar(length=30)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


# --- throttling and password-reset requests (issue 12: docs/authentication.md) ---------


class ThrottleCounter(Table, tablename="throttle_counter"):
    """Attempts counted for one throttling key in one fixed window (ambassador.domain.throttle).

    ``bucket`` is ``<key_hash>:<window length>:<window start>``: its uniqueness lets one
    ``INSERT … ON CONFLICT (bucket) DO UPDATE … RETURNING`` count an attempt atomically.
    ``key_hash`` is an HMAC of what is counted (an email, an address), never the value.
    """

    id: Serial
    bucket = Varchar(length=100, unique=True)
    key_hash = Varchar(length=64, index=True)
    window_start = Integer(default=0)  # Unix seconds
    attempts = Integer(default=0)
    keep_until = Integer(default=0, index=True)  # Unix seconds; pruned after


class PasswordResetRequest(Table, tablename="password_reset_request"):
    """A "forgot your password" request waiting for the mail sender (deleted once processed).

    The web request only writes this row, whether or not the account exists; the sender's
    loop looks the account up, applies the per-account limit and mails the link.
    """

    id: Serial
    email = Varchar(length=254)
    address_hash = Varchar(length=64)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class KeyValue(Table, tablename="key_value"):
    """Shared key-value store (server-side sessions, rate limits) when Redis is not used."""

    id: Serial
    key = Varchar(length=300, unique=True)
    value = Bytea()
    expires_at = Timestamptz(null=True, default=None, index=True)


class AuditEntry(Table, tablename="audit_entry"):
    """Append-only, hash-chained record of every state change (ambassador.domain.audit).

    ``actor`` is nullable on purpose: citizens and the system act without an account.
    ``entry_hash`` is an HMAC-SHA256 under the key ``key_id`` names (``scheme``
    "hmac-sha256"); rows written before the key existed keep "sha256", a plain hash.
    ``client`` and ``request_id`` are empty outside a request. Triggers refuse UPDATE
    and DELETE (migration 2026-12-05T10:01:00).
    """

    id: Serial
    created_at = Timestamptz()
    actor = ForeignKey(User, null=True, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    action = Varchar(length=80, index=True)
    object_type = Varchar(length=40)
    object_id = Varchar(length=64)
    data = JSON(default="{}")
    prev_hash = Varchar(length=64, unique=True)
    entry_hash = Varchar(length=64, unique=True)
    scheme = Varchar(length=12, default="sha256")
    key_id = Varchar(length=16, default="")
    client = Varchar(length=64, default="")
    request_id = Varchar(length=64, default="")


class OutboxMail(Table, tablename="outbox_mail"):
    """A mail waiting to be sent, committed with the change that caused it."""

    id: Serial
    created_at = Timestamptz(default=TimestamptzNow())
    message_id = Varchar(length=200, unique=True)
    to_address = Varchar(length=254)
    subject = Varchar(length=300)
    body_text = Text()
    language = Varchar(length=5, default="pl")
    status = Varchar(length=10, default="pending", index=True)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow(), index=True)
    lease_until = Timestamptz(null=True, default=None)
    last_error = Varchar(length=500, default="")
    sent_at = Timestamptz(null=True, default=None)


class Edition(Table, tablename="edition"):
    """One year's competition, named by its activity year ("A.D. 2025").

    ``open_slot`` is 1 while the edition is open for nominations and NULL otherwise; its
    unique index lets the database guarantee that at most one edition is open at a time.
    """

    id: Serial
    activity_year = Integer(unique=True)
    state = Varchar(length=20, default="draft", index=True)
    open_slot = Integer(null=True, default=None, unique=True)
    name_pl = Varchar(length=200)
    name_en = Varchar(length=200)
    name_uk = Varchar(length=200)
    intro_pl = Text(default="")
    intro_en = Text(default="")
    intro_uk = Text(default="")
    titles_a = Integer(default=2)
    mentions_a = Integer(default=0)
    titles_b = Integer(default=2)
    mentions_b = Integer(default=0)
    opens_at = Timestamptz()
    closes_at = Timestamptz()
    score_min = Integer(default=0)
    score_max = Integer(default=10)
    approving_body = Varchar(length=30, default="council_resolution")
    retention_months = Integer(default=24)
    next_number = Integer(default=1)
    # When the results become public (the gala); NULL until the clerk sets it.
    published_at = Timestamptz(null=True, default=None)
    # Imported from the record of earlier years: no call, no jury on the platform.
    historical = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Criterion(Table, tablename="criterion"):
    """One scoring criterion of an edition, with its weight; (edition, position) is unique."""

    id: Serial
    edition = ForeignKey(Edition, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    position = Integer()
    name_pl = Varchar(length=300)
    name_en = Varchar(length=300)
    name_uk = Varchar(length=300)
    weight = Integer(default=1)


class Nomination(Table, tablename="nomination"):
    """A citizen's (or a clerk-entered paper) nomination and the dossier it grows into.

    ``entered_by`` is nullable on purpose: citizens have no account. ``merged_into`` is
    nullable because only duplicates absorbed into another dossier point anywhere.
    ``descriptions`` maps a criterion id to the nominator's text for it.
    """

    id: Serial
    edition = ForeignKey(Edition, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    number = Integer()
    reference = Varchar(length=30, unique=True)
    state = Varchar(length=20, default="unconfirmed", index=True)
    category = Varchar(length=1)
    nominee_name = Varchar(length=200)
    nominee_key = Varchar(length=200, index=True)
    nominee_is_minor = Boolean(default=False)
    nominee_email = Varchar(length=254, default="")
    nominee_phone = Varchar(length=40, default="")
    organisation_kind = Varchar(length=20, default="")
    organisation_website = Varchar(length=500, default="")
    registry_number = Varchar(length=20, default="", index=True)
    descriptions = JSON(default="{}")
    links = Text(default="")
    nominator_name = Varchar(length=200)
    nominator_email = Varchar(length=254, default="")
    nominator_phone = Varchar(length=40, default="")
    nominator_organisation = Varchar(length=200, default="")
    nominator_relation = Varchar(length=200, default="")
    language = Varchar(length=5, default="pl")
    submission_key = Varchar(length=64, unique=True)
    entered_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict)
    received_on = Date(null=True, default=None)
    consent = Varchar(length=10, default="pending")
    consent_note = Text(default="")
    consent_at = Timestamptz(null=True, default=None)
    formal_reason = Text(default="")
    merged_into: ForeignKey[Nomination] = ForeignKey(
        "self", null=True, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True
    )
    state_before_merge = Varchar(length=20, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    confirmed_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())
    erased_at = Timestamptz(null=True, default=None)


class NominationToken(Table, tablename="nomination_token"):
    """An emailed link for a nomination (confirm, manage, consent); only its hash is stored."""

    id: Serial
    nomination = ForeignKey(
        Nomination, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True
    )
    purpose = Varchar(length=20)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(null=True, default=None)
    used_at = Timestamptz(null=True, default=None)


class Attachment(Table, tablename="attachment"):
    """A file of a nomination, kept in the database so every app machine sees it."""

    id: Serial
    nomination = ForeignKey(
        Nomination, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True
    )
    filename = Varchar(length=200)
    content_type = Varchar(length=50)
    size = Integer()
    sha256 = Varchar(length=64)
    content = Bytea(secret=True)
    created_at = Timestamptz(default=TimestamptzNow())


class JurySettings(Table, tablename="jury_settings"):
    """How an edition's jury works; fixed before scoring opens (one row per edition).

    ``score_visibility``: ``after_own`` (others' scores once one's own are submitted),
    ``never`` or ``always``. ``tie_break``: comma-separated chain (median, top_scores, mean,
    vote). ``majority``: ``simple`` (more for than against) or ``absolute`` (more than half
    of the votes cast, abstentions included).
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


class JuryMember(Table, tablename="jury_member"):
    """A juror appointed to one edition; (edition, user) is unique, one chair per edition."""

    id: Serial
    edition = ForeignKey(Edition, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    user = ForeignKey(User, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    is_chair = Boolean(default=False)
    organisations = Text(default="")
    appointed_at = Timestamptz(default=TimestamptzNow())


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


class Decision(Table, tablename="decision"):
    """The approving body's decision on an edition's recommendation (one per edition).

    The vote counts are nullable on purpose: a mayor's order has no vote.
    """

    id: Serial
    edition = ForeignKey(Edition, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, unique=True)
    kind = Varchar(length=30)
    number = Varchar(length=60)
    decided_on = Date()
    votes_for = Integer(null=True, default=None)
    votes_against = Integer(null=True, default=None)
    votes_abstaining = Integer(null=True, default=None)
    not_voting = Text(default="")
    document_name = Varchar(length=200)
    document = Bytea(secret=True)
    document_sha256 = Varchar(length=64)
    recorded_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict)
    recorded_at = Timestamptz(default=TimestamptzNow())


class DecisionItem(Table, tablename="decision_item"):
    """What the decision says of one recommended nomination; a difference carries a reason.

    ``distinction`` is empty when the nomination is not approved.
    """

    id: Serial
    decision = ForeignKey(Decision, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    nomination = ForeignKey(
        Nomination, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, unique=True
    )
    recommended = Varchar(length=20)
    distinction = Varchar(length=20, default="")
    reason = Text(default="")


class Laureate(Table, tablename="laureate"):
    """The public record of one laureate: name, category, distinction, citation, source.

    ``nomination`` is nullable on purpose: laureates imported from earlier years have none.
    Nothing here is contact data; the row is public once its edition is published.
    """

    id: Serial
    edition = ForeignKey(Edition, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    nomination = ForeignKey(
        Nomination, null=True, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, unique=True
    )
    slug = Varchar(length=220, unique=True)
    name = Varchar(length=300)
    name_key = Varchar(length=300, index=True)
    category = Varchar(length=1)
    distinction = Varchar(length=20)
    citation_pl = Text(default="")
    citation_en = Text(default="")
    citation_uk = Text(default="")
    source_url = Varchar(length=500, default="")
    withdrawn_reason = Text(default="")
    withdrawn_at = Timestamptz(null=True, default=None)
    corrected_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    # Raised by each correction after publication; earlier versions live in LaureateRevision.
    version = Integer(default=1)
    # The laureate's check of the public name and citation before publication (emailed link).
    confirm_token_hash = Varchar(length=64, default="", secret=True)
    confirmation_sent_at = Timestamptz(null=True, default=None)
    confirmed_at = Timestamptz(null=True, default=None)
    confirmed_name = Varchar(length=300, default="")
    confirmation_note = Text(default="")


class LaureateRevision(Table, tablename="laureate_revision"):
    """A replaced version of a published laureate record, and why it was corrected.

    The public page lists the corrections (date and reason); staff see the old texts.
    """

    id: Serial
    laureate = ForeignKey(Laureate, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    version = Integer()
    name = Varchar(length=300)
    category = Varchar(length=1)
    distinction = Varchar(length=20)
    citation_pl = Text(default="")
    citation_en = Text(default="")
    citation_uk = Text(default="")
    reason = Text(default="")
    changed_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict)
    changed_at = Timestamptz(default=TimestamptzNow())


# --- the session registry (ASVS V7; docs/sessions.md) ----------------------------------------


class StaffSession(Table, tablename="staff_session"):
    """One signed-in browser of a staff account: listed on /account/sessions, ended from there.

    ``public_id`` is a random handle for the pages; it is not the session cookie (which never
    reaches the database in clear). A row is live while ``ended_at`` is empty, its ``epoch`` is
    the account's ``session_epoch`` and neither the idle nor the absolute limit has passed.
    """

    id: Serial
    public_id = Varchar(length=32, unique=True)
    user = ForeignKey(User, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    epoch = Integer(default=0)
    created_at = Timestamptz()
    last_seen_at = Timestamptz()
    address = Varchar(length=64, default="")
    user_agent = Varchar(length=200, default="")
    ended_at = Timestamptz(null=True, default=None)
    ended_reason = Varchar(length=20, default="")
