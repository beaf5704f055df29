"""Piccolo tables. Only structure lives here; rules live in ambassador.domain.

Foreign keys are non-null with RESTRICT: nothing that an audit entry or a decision points to
may disappear silently. Composite uniqueness is created by raw indexes in the migrations.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    Bytea,
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


class LoginFailure(Table, tablename="login_failure"):
    """A failed login, keyed by a hash of the account or the client address, for throttling."""

    id: Serial
    key_hash = Varchar(length=64, index=True)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class KeyValue(Table, tablename="key_value"):
    """Shared key-value store (server-side sessions, rate limits) when Redis is not used."""

    id: Serial
    key = Varchar(length=300, unique=True)
    value = Bytea()
    expires_at = Timestamptz(null=True, default=None, index=True)


class AuditEntry(Table, tablename="audit_entry"):
    """Append-only, hash-chained record of every state change.

    ``actor`` is nullable on purpose: citizens and the system act without an account.
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
