"""Public archive data: editions made through the domain, then published; laureate rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ambassador.db import utcnow
from ambassador.enums import EditionState
from ambassador.tables import Edition, Laureate
from ambassador.text import fold
from tests.factories import make_edition


async def archive_edition(
    year: int,
    *,
    published_at: dt.datetime | None = None,
    state: EditionState = EditionState.PUBLISHED,
) -> int:
    """An edition in ``state`` (published an hour ago unless told otherwise); its id."""
    edition = await make_edition(year=year, open_it=False)
    when = published_at if published_at is not None else utcnow() - dt.timedelta(hours=1)
    await Edition.update({Edition.state: state.value, Edition.published_at: when}).where(Edition.id == edition.id)
    return edition.id


async def add_laureate(
    edition_id: int,
    name: str,
    *,
    category: str = "B",
    distinction: str = "title",
    slug: str = "",
    **fields: Any,
) -> str:
    """A laureate row of the edition; its slug."""
    slug = slug or fold(name).replace(" ", "-")
    await Laureate(
        edition=edition_id,
        slug=slug,
        name=name,
        name_key=fold(name),
        category=category,
        distinction=distinction,
        **fields,
    ).save()
    return slug
