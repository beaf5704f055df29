"""An edition's categories (honours as data): the rows nominations and laureates name by code."""

from __future__ import annotations

from piccolo.columns import ForeignKey, Integer, Serial, Text, Varchar
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.table import Table

from ambassador.tables.editions import Edition


class Category(Table, tablename="category"):
    """One category of an edition's honour: its names, who may be nominated, its quotas.

    ``code`` (unique per edition, by a raw index in the migration) is what nominations and
    laureates hold. ``fields`` lists the extra nominee fields it asks for, comma-joined
    (``enums.NomineeField``).
    """

    id: Serial
    edition = ForeignKey(Edition, null=False, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, index=True)
    code = Varchar(length=8)
    position = Integer(default=1)
    name_pl = Varchar(length=200)
    name_en = Varchar(length=200)
    name_uk = Varchar(length=200)
    nominee_kind = Varchar(length=20, default="either")
    titles = Integer(default=0)
    mentions = Integer(default=0)
    fields = Text(default="")
