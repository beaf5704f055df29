"""Staff accounts, their roles, sign-in links, throttling and sessions (docs/authentication.md, docs/sessions.md)."""

from __future__ import annotations

from piccolo.columns import (
    Boolean,
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
