"""The public laureate archive: what anyone may see, and nothing before its time.

Every query here starts from ``_public_editions``: an edition is public once it is published
and its publication moment has passed. Nothing else (contact data, nominators, scores,
non-laureates) is ever read by this module, so no public page can show it.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from piccolo.query.functions.aggregate import Count, Max

from ambassador.db import utcnow
from ambassador.domain import categories, portraits
from ambassador.domain.categories import CategoryRow
from ambassador.domain.editions import edition_label, without_label
from ambassador.enums import EditionState
from ambassador.i18n import current_language
from ambassador.tables import Category, Decision, Edition, Laureate, LaureateRevision
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
    categories: tuple[CategoryRow, ...] = ()

    @property
    def label(self) -> str:
        return edition_label(self.activity_year)

    def name(self, language: str) -> str:
        """The name in ``language`` (else Polish, else the label), without a trailing label."""
        text = str(getattr(self, f"name_{language}", "") or self.name_pl or "")
        return without_label(text, self.activity_year) if text else self.label

    @property
    def publication_date(self) -> dt.datetime | None:
        """When the edition was published here; None for editions imported from earlier years
        (their ``published_at`` is the moment of the import, which no page may show as theirs)."""
        return None if self.historical else self.published_at


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
    edition_id: int = 0
    # The edition's category of this code (None only if the edition has no such category).
    category_row: CategoryRow | None = None

    @property
    def edition_label(self) -> str:
        return edition_label(self.activity_year)

    def category_label(self, language: str | None = None) -> str:
        """The category as its edition names it ("A: organisation"), or its code."""
        row = self.category_row
        return row.label(language or current_language.get()) if row else self.category

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
    rows_by_edition: dict[int, list[CategoryRow]] = {}
    for row in (await categories.for_editions(e["id"] for e in rows)).values():
        rows_by_edition.setdefault(row.edition_id, []).append(row)
    return [
        PublicEdition(
            **r,
            laureates=counts.get(r["id"], 0),
            categories=tuple(sorted(rows_by_edition.get(r["id"], []), key=lambda c: (c.position, c.id))),
        )
        for r in rows
    ]


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
        edition_id=row["edition"],
    )


async def _with_categories(items: Sequence[PublicLaureate]) -> tuple[PublicLaureate, ...]:
    """The laureates with their editions' category rows (one query for all of them)."""
    found = await categories.for_editions(item.edition_id for item in items)
    return tuple(replace(item, category_row=found.get((item.edition_id, item.category))) for item in items)


_COLUMNS = (
    Laureate.edition,
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


async def _known_code(code: str, public: Any) -> bool:
    """Whether a public edition has a category of this code (any other filter value is ignored)."""
    if not categories.CODE.fullmatch(code):
        return False
    return bool(await Category.exists().where((Category.code == code) & Category.edition.is_in(public)))


async def laureates(filters: Filters, now: dt.datetime | None = None, page_size: int = PAGE_SIZE) -> Page:
    """Laureates of public editions, filtered; the search folds case and diacritics."""
    now = now or utcnow()
    public = Edition.select(Edition.id).where(_public_editions(now))
    where: Any = Laureate.edition.is_in(public)
    if filters.year is not None:
        where &= Laureate.edition.activity_year == filters.year
    if filters.category is not None and await _known_code(filters.category, public):
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
    items = await _with_categories([_laureate(r) for r in rows])
    return Page(items=items, total=total, page=page, pages=pages)


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
    return await _with_categories([_laureate(r) for r in rows])


def is_slug(text: str) -> bool:
    """Laureate addresses hold letters, digits and hyphens; anything else (a NUL byte, which
    PostgreSQL refuses in text) is no address and never reaches the database."""
    return 0 < len(text) <= 220 and all(c.isalnum() or c == "-" for c in text)


def _escape_like(word: str) -> str:
    """Folded words hold only letters, digits and spaces; LIKE wildcards cannot get in."""
    return "".join(c for c in word if c.isalnum())


async def laureate(slug: str, now: dt.datetime | None = None) -> PublicLaureate | None:
    """One laureate by its stable address, if its edition is public."""
    if not is_slug(slug):
        return None
    now = now or utcnow()
    public = Edition.select(Edition.id).where(_public_editions(now))
    row = await Laureate.select(*_COLUMNS).where((Laureate.slug == slug) & Laureate.edition.is_in(public)).first()
    return (await _with_categories([_laureate(row)]))[0] if row else None


@dataclass(frozen=True)
class Correction:
    """A public note on a corrected entry: when, and why (the old text stays with the staff)."""

    changed_at: dt.datetime
    reason: str


async def corrections(slug: str, now: dt.datetime | None = None) -> tuple[Correction, ...]:
    """The corrections of a public laureate's entry, oldest first."""
    if not is_slug(slug):
        return ()
    public = Edition.select(Edition.id).where(_public_editions(now or utcnow()))
    rows = (
        await LaureateRevision.select(LaureateRevision.changed_at, LaureateRevision.reason)
        .where((LaureateRevision.laureate.slug == slug) & LaureateRevision.laureate.edition.is_in(public))
        .order_by(LaureateRevision.version)
    )
    return tuple(Correction(**r) for r in rows)


@dataclass(frozen=True)
class Stamp:
    """What the public archive looks like now, in a few values.

    ``last_modified`` is the newest public change (a publication moment passing, a laureate
    added, corrected or withdrawn, an edition renamed); ``next_moment`` is the next scheduled
    publication, when everything public changes without any write. Cached pages are valid
    while the stamp stays the same and ``next_moment`` has not come.
    """

    last_modified: dt.datetime | None
    next_moment: dt.datetime | None
    public_editions: int
    public_laureates: int
    public_pictures: int = 0

    @functools.cached_property
    def token(self) -> str:
        moment = self.last_modified.isoformat() if self.last_modified else "-"
        return f"{moment}|{self.public_editions}|{self.public_laureates}|{self.public_pictures}"


def _moment(value: Any) -> dt.datetime | None:
    """A timestamp from an aggregate (SQLite gives text, PostgreSQL a datetime)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return None


async def stamp(now: dt.datetime | None = None) -> Stamp:
    """The archive's current stamp, in three queries (it is read about once a second)."""
    now = now or utcnow()
    published = await Edition.select(Edition.id, Edition.published_at, Edition.updated_at).where(
        (Edition.state == EditionState.PUBLISHED.value) & Edition.published_at.is_not_null()
    )
    shown = [row for row in published if row["published_at"] <= now]
    ids = [row["id"] for row in shown] or [0]
    latest = (
        await Laureate.select(
            Max(Laureate.created_at, alias="created"),
            Max(Laureate.corrected_at, alias="corrected"),
            Max(Laureate.withdrawn_at, alias="withdrawn"),
            Count(alias="laureates"),
        )
        .where(Laureate.edition.is_in(ids))
        .first()
    ) or {}
    # Pictures (ambassador.domain.portraits): a new, replaced, re-described or removed one.
    pictures_changed, pictures = await portraits.latest_change([row["id"] for row in shown])
    changes = [row["published_at"] for row in shown] + [row["updated_at"] for row in shown]
    changes += [_moment(latest.get(name)) for name in ("created", "corrected", "withdrawn")]
    changes.append(_moment(pictures_changed))
    upcoming = [row["published_at"] for row in published if row["published_at"] > now]
    return Stamp(
        last_modified=max((c for c in changes if c is not None), default=None),
        next_moment=min(upcoming, default=None),
        public_editions=len(shown),
        public_laureates=int(latest.get("laureates") or 0),
        public_pictures=pictures,
    )


@dataclass(frozen=True)
class PublicDecision:
    """The approving body's act as the public may cite it (no votes, no document)."""

    kind: str
    number: str
    decided_on: dt.date


async def decision(year: int, now: dt.datetime | None = None) -> PublicDecision | None:
    """The decision of a public edition (editions imported from earlier years have none)."""
    public = Edition.select(Edition.id).where(_public_editions(now or utcnow()))
    row = (
        await Decision.select(Decision.kind, Decision.number, Decision.decided_on)
        .where((Decision.edition.activity_year == year) & Decision.edition.is_in(public))
        .first()
    )
    return PublicDecision(**row) if row else None
