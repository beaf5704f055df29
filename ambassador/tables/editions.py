"""Editions, their criteria, and the nominations with their links and files."""

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

from ambassador.tables.accounts import User


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
    category = Varchar(length=8)  # the code of one of the edition's categories
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
