"""The audit chain, the mail outbox and the shared key-value store."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
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

from ambassador.tables.accounts import User


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


class KeyValue(Table, tablename="key_value"):
    """Shared key-value store (server-side sessions, rate limits) when Redis is not used."""

    id: Serial
    key = Varchar(length=300, unique=True)
    value = Bytea()
    expires_at = Timestamptz(null=True, default=None, index=True)
