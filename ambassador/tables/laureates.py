"""The approving body's decision and the public record of laureates."""

from __future__ import annotations

from piccolo.columns import (
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
from ambassador.tables.editions import Edition, Nomination


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
    category = Varchar(length=8)  # the code of one of the edition's categories
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
    category = Varchar(length=8)  # the code of one of the edition's categories
    distinction = Varchar(length=20)
    citation_pl = Text(default="")
    citation_en = Text(default="")
    citation_uk = Text(default="")
    reason = Text(default="")
    changed_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict)
    changed_at = Timestamptz(default=TimestamptzNow())
