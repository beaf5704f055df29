"""The public laureate archive: what anyone may see, and nothing before its time.

Every query here starts from ``_public_editions``: an edition is public once it is published
and its publication moment has passed. Nothing else (contact data, nominators, scores,
non-laureates) is ever read by this module, so no public page can show it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from ambassador.db import utcnow
from ambassador.enums import Category, EditionState
from ambassador.tables import Edition, Laureate
from ambassador.text import fold

PAGE_SIZE = 20
MAX_QUERY = 200
DISTINCTIONS = ("title", "mention")


@dataclass(frozen=True)
class PublicEdition:
    id: int
    activity_year: int
    name_pl: str
    name_en: str
    name_uk: str
    published_at: dt.datetime | None
    historical: bool
    laureates: int

    @property
    def label(self) -> str:
        return f"A.D. {self.activity_year}"


@dataclass(frozen=True)
class PublicLaureate:
    slug: str
    name: str
    category: str
    distinction: str
    activity_year: int
    citation_pl: str
    citation_en: str
    citation_uk: str
    source_url: str
    withdrawn_reason: str
    withdrawn_at: dt.datetime | None
    corrected_at: dt.datetime | None

    def citation(self, language: str) -> tuple[str, str]:
        """(citation, language it is in): the asked language, else Polish, English, Ukrainian."""
        for code in (language, "pl", "en", "uk"):
            text = str(getattr(self, f"citation_{code}", "") or "")
            if text:
                return text, code
        return "", language


@dataclass(frozen=True)
class Page:
    items: tuple[PublicLaureate, ...]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class Filters:
    year: int | None = None
    category: str | None = None
    distinction: str | None = None
    query: str = ""
    page: int = 1


def _public_editions(now: dt.datetime) -> Any:
    """The condition that makes an edition public: published, and its moment has passed."""
    return (
        (Edition.state == EditionState.PUBLISHED.value)
        & Edition.published_at.is_not_null()
        & (Edition.published_at <= now)
    )


async def editions(now: dt.datetime | None = None) -> list[PublicEdition]:
    """Public editions, newest first, with their number of laureates."""
    now = now or utcnow()
    rows = (
        await Edition.select(
            Edition.id,
            Edition.activity_year,
            Edition.name_pl,
            Edition.name_en,
            Edition.name_uk,
            Edition.published_at,
            Edition.historical,
        )
        .where(_public_editions(now))
        .order_by(Edition.activity_year, ascending=False)
    )
    counts: dict[int, int] = {}
    if rows:
        for r in await Laureate.select(Laureate.edition).where(Laureate.edition.is_in([e["id"] for e in rows])):
            counts[r["edition"]] = counts.get(r["edition"], 0) + 1
    return [PublicEdition(**r, laureates=counts.get(r["id"], 0)) for r in rows]


async def edition_by_year(year: int, now: dt.datetime | None = None) -> PublicEdition | None:
    found = [e for e in await editions(now) if e.activity_year == year]
    return found[0] if found else None


def _laureate(row: dict[str, Any]) -> PublicLaureate:
    return PublicLaureate(
        slug=row["slug"],
        name=row["name"],
        category=row["category"],
        distinction=row["distinction"],
        activity_year=row["edition.activity_year"],
        citation_pl=row["citation_pl"],
        citation_en=row["citation_en"],
        citation_uk=row["citation_uk"],
        source_url=row["source_url"],
        withdrawn_reason=row["withdrawn_reason"],
        withdrawn_at=row["withdrawn_at"],
        corrected_at=row["corrected_at"],
    )


_COLUMNS = (
    Laureate.slug,
    Laureate.name,
    Laureate.category,
    Laureate.distinction,
    Laureate.edition.activity_year,
    Laureate.citation_pl,
    Laureate.citation_en,
    Laureate.citation_uk,
    Laureate.source_url,
    Laureate.withdrawn_reason,
    Laureate.withdrawn_at,
    Laureate.corrected_at,
)


async def laureates(filters: Filters, now: dt.datetime | None = None, page_size: int = PAGE_SIZE) -> Page:
    """Laureates of public editions, filtered; the search folds case and diacritics."""
    now = now or utcnow()
    public = Edition.select(Edition.id).where(_public_editions(now))
    where: Any = Laureate.edition.is_in(public)
    if filters.year is not None:
        where &= Laureate.edition.activity_year == filters.year
    if filters.category in set(Category):
        where &= Laureate.category == filters.category
    if filters.distinction in DISTINCTIONS:
        where &= Laureate.distinction == filters.distinction
    words = fold(filters.query[:MAX_QUERY]).split()
    for word in words[:10]:
        where &= Laureate.name_key.like(f"%{_escape_like(word)}%")
    total = int(await Laureate.count().where(where))
    pages = max(1, math.ceil(total / page_size))
    page = min(max(1, filters.page), pages)
    rows = (
        await Laureate.select(*_COLUMNS)
        .where(where)
        .order_by(Laureate.edition.activity_year, ascending=False)
        .order_by(Laureate.category, Laureate.distinction, Laureate.name_key)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    return Page(items=tuple(_laureate(r) for r in rows), total=total, page=page, pages=pages)


async def all_laureates(year: int | None = None, now: dt.datetime | None = None) -> tuple[PublicLaureate, ...]:
    """Every public laureate (of one year, if given), in archive order, in one query."""
    public = Edition.select(Edition.id).where(_public_editions(now or utcnow()))
    where: Any = Laureate.edition.is_in(public)
    if year is not None:
        where &= Laureate.edition.activity_year == year
    rows = (
        await Laureate.select(*_COLUMNS)
        .where(where)
        .order_by(Laureate.edition.activity_year, ascending=False)
        .order_by(Laureate.category, Laureate.distinction, Laureate.name_key)
    )
    return tuple(_laureate(r) for r in rows)


def _escape_like(word: str) -> str:
    """Folded words hold only letters, digits and spaces; LIKE wildcards cannot get in."""
    return "".join(c for c in word if c.isalnum())


async def laureate(slug: str, now: dt.datetime | None = None) -> PublicLaureate | None:
    """One laureate by its stable address, if its edition is public."""
    now = now or utcnow()
    public = Edition.select(Edition.id).where(_public_editions(now))
    row = await Laureate.select(*_COLUMNS).where((Laureate.slug == slug[:220]) & Laureate.edition.is_in(public)).first()
    return _laureate(row) if row else None
