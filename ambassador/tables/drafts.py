"""Saved drafts of the public nomination form (not nominations: staff never read them)."""

from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from ambassador.tables.editions import Edition


class NominationDraft(Table, tablename="nomination_draft"):
    """A citizen's unfinished form, kept until the edition's window closes (domain.drafts).

    ``submission_key`` is the key of the form the draft was saved from; the files held for
    it (domain.held_files) are the draft's files, and sending the form with that key turns
    the draft into a nomination. ``token_hash`` is the SHA-256 of the mailed link's secret;
    the link itself is stored nowhere. ``form_values`` holds the values as typed (JSON).
    """

    id: Serial
    edition = ForeignKey(Edition, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    submission_key = Varchar(length=64, unique=True)
    token_hash = Varchar(length=64, unique=True)
    nominator_email = Varchar(length=254)
    language = Varchar(length=5, default="pl")
    form_values = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
