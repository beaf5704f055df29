"""A laureate's picture: a portrait of a person or an organisation's logo, and its resized copies.

One ``Portrait`` row per laureate, kept when the picture is removed (its texts emptied,
``has_image`` false, ``changed_at`` moved on) so the archive's stamp sees the removal. The
bytes live in ``PortraitImage``: only the resized copies (WebP, metadata stripped), never the
uploaded original. Nothing here is public before the laureate's edition is
(``ambassador.domain.portraits``).
"""

from __future__ import annotations

from piccolo.columns import Boolean, Bytea, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from ambassador.tables.accounts import User
from ambassador.tables.laureates import Laureate


class Portrait(Table, tablename="portrait"):
    """The picture's description, credit, licence and the recorded consent (one per laureate)."""

    id: Serial
    laureate = ForeignKey(Laureate, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, unique=True)
    has_image = Boolean(default=False)
    kind = Varchar(length=20, default="portrait")  # portrait | logo
    # Raised by each new picture: it is part of the images' addresses, which are cached for a year.
    version = Integer(default=0)
    alt_pl = Text(default="")
    alt_en = Text(default="")
    alt_uk = Text(default="")
    credit = Varchar(length=300, default="")
    licence = Varchar(length=300, default="")
    consent_recorded_by = ForeignKey(
        User, null=True, default=None, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict
    )
    consent_recorded_at = Timestamptz(null=True, default=None)
    width = Integer(default=0)  # of the largest copy
    height = Integer(default=0)
    changed_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict)
    changed_at = Timestamptz(default=TimestamptzNow())


class PortraitImage(Table, tablename="portrait_image"):
    """One resized copy of a picture (one per width and version)."""

    id: Serial
    portrait = ForeignKey(Portrait, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict, index=True)
    version = Integer()
    width = Integer()
    height = Integer()
    content_type = Varchar(length=30)
    size = Integer()
    sha256 = Varchar(length=64)
    content = Bytea()
