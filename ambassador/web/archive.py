"""The public laureate archive: index, edition pages, laureate pages, open data.

Everything shown here comes from ``ambassador.domain.archive``, whose queries hold the
embargo (only published editions whose publication moment has passed).
"""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from ambassador import i18n
from ambassador.domain import archive
from ambassador.domain.archive import Filters, PublicEdition, PublicLaureate
from ambassador.domain.formal_check import spreadsheet_cell
from ambassador.enums import Category
from ambassador.errors import N_
from ambassador.vocabulary import CATEGORIES, DISTINCTIONS
from ambassador.web import labels

# Shown when the citation is not in the reader's language.
CITATION_IN: dict[str, str] = {
    "pl": N_("Citation available in Polish"),
    "en": N_("Citation available in English"),
    "uk": N_("Citation available in Ukrainian"),
}
CSV_HEADER = (
    "slug",
    "name",
    "category",
    "distinction",
    "year",
    "citation_pl",
    "citation_en",
    "citation_uk",
    "source",
    "withdrawn",
    "url",
)
MAX_PAGE = 100_000
# Revalidate every time: a publication must appear everywhere at its moment, not minutes later.
PUBLIC_CACHE = {"cache-control": "no-cache"}


def _int(raw: str | None, low: int, high: int) -> int | None:
    """A whole number within bounds, or None for anything else."""
    if raw is None:
        return None
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        return None
    value = int(text)
    return value if low <= value <= high else None


def parse_filters(
    year: str | None, category: str | None, distinction: str | None, q: str | None, page: str | None
) -> Filters:
    """The archive's filters from query values; invalid values are ignored."""
    return Filters(
        year=_int(year, 1000, 9999),
        category=category if category in {c.value for c in Category} else None,
        distinction=distinction if distinction in archive.DISTINCTIONS else None,
        query=(q or "").strip()[: archive.MAX_QUERY],
        page=_int(page, 1, MAX_PAGE) or 1,
    )


def query_string(filters: Filters, page: int | None = None) -> str:
    """A readable query string for the filters (and a page other than the first)."""
    pairs: list[tuple[str, str]] = []
    if filters.year is not None:
        pairs.append(("year", str(filters.year)))
    if filters.category:
        pairs.append(("category", filters.category))
    if filters.distinction:
        pairs.append(("distinction", filters.distinction))
    if filters.query:
        pairs.append(("q", filters.query))
    if page is not None and page > 1:
        pairs.append(("page", str(page)))
    return "?" + urlencode(pairs) if pairs else ""


def edition_name(edition: PublicEdition) -> str:
    language = i18n.current_language.get()
    return str(getattr(edition, f"name_{language}", "") or edition.name_pl or edition.label)


def laureate_url(laureate: PublicLaureate) -> str:
    return f"/laureates/{laureate.slug}"


def laureate_data(laureate: PublicLaureate) -> dict[str, Any]:
    """One laureate as open data (JSON-serialisable)."""
    return {
        "slug": laureate.slug,
        "name": laureate.name,
        "category": laureate.category,
        "distinction": laureate.distinction,
        "year": laureate.activity_year,
        "citations": {"pl": laureate.citation_pl, "en": laureate.citation_en, "uk": laureate.citation_uk},
        "source": laureate.source_url,
        "withdrawn": laureate.withdrawn_at is not None,
        "url": laureate_url(laureate),
    }


def edition_data(edition: PublicEdition) -> dict[str, Any]:
    return {
        "year": edition.activity_year,
        "label": edition.label,
        "name": {"pl": edition.name_pl, "en": edition.name_en, "uk": edition.name_uk},
        "laureates": edition.laureates,
        "url": f"/editions/{edition.activity_year}",
    }


class ArchiveController(Controller):
    opt = {"exclude_from_auth": True}

    @get("/laureates", name="archive_index")
    async def index(
        self,
        year: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        distinction: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        page: FromQuery[str | None] = None,
    ) -> Template:
        """Laureates of every public edition, filtered, searched and paginated."""
        filters = parse_filters(year, category, distinction, q, page)
        found = await archive.laureates(filters)
        return Template(
            template_name="archive/index.html",
            context={
                "filters": filters,
                "page": found,
                "editions": await archive.editions(),
                "categories": labels.options(CATEGORIES),
                "distinctions": labels.options(DISTINCTIONS),
                "page_url": lambda number: "/laureates" + query_string(filters, number),
                "labels": labels,
            },
        )

    @get("/editions/{year:int}", name="archive_edition")
    async def edition(self, year: FromPath[int]) -> Template:
        """One public edition and its laureates by category and distinction."""
        found = await archive.edition_by_year(year)
        if found is None:
            raise NotFoundException()
        items = await archive.all_laureates(year)
        groups = [
            (
                category,
                distinction,
                [item for item in items if item.category == category and item.distinction == distinction],
            )
            for category in CATEGORIES
            for distinction in DISTINCTIONS
        ]
        return Template(
            template_name="archive/edition.html",
            context={
                "edition": found,
                "name": edition_name(found),
                "groups": [group for group in groups if group[2]],
                "labels": labels,
            },
        )

    @get("/laureates/{slug:str}", name="archive_laureate")
    async def laureate(self, slug: FromPath[str]) -> Template:
        """One laureate of a public edition."""
        found = await archive.laureate(slug)
        if found is None:
            raise NotFoundException()
        language = i18n.current_language.get()
        citation, citation_language = found.citation(language)
        return Template(
            template_name="archive/laureate.html",
            context={
                "laureate": found,
                "citation": citation,
                "citation_language": citation_language,
                "source_url": found.source_url if found.source_url.startswith(("https://", "http://")) else "",
                "citation_note": CITATION_IN.get(citation_language, "")
                if citation and citation_language != language
                else "",
                "labels": labels,
            },
        )

    @get("/api/v1/editions", name="api_editions")
    async def api_editions(self) -> Response[list[dict[str, Any]]]:
        return Response([edition_data(e) for e in await archive.editions()], headers=PUBLIC_CACHE)

    @get("/api/v1/laureates", name="api_laureates")
    async def api_laureates(
        self,
        year: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        distinction: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        page: FromQuery[str | None] = None,
    ) -> Response[dict[str, Any]]:
        found = await archive.laureates(parse_filters(year, category, distinction, q, page))
        return Response(
            {
                "items": [laureate_data(item) for item in found.items],
                "total": found.total,
                "page": found.page,
                "pages": found.pages,
            },
            headers=PUBLIC_CACHE,
        )

    @get("/laureates.csv", name="archive_csv")
    async def download_csv(self) -> Response[bytes]:
        """All public laureates, for spreadsheets: UTF-8 with BOM, formulas neutralised."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(CSV_HEADER)
        for item in await archive.all_laureates():
            data = laureate_data(item)
            citations = data["citations"]
            row = (
                data["slug"], data["name"], data["category"], data["distinction"], data["year"],
                citations["pl"], citations["en"], citations["uk"], data["source"],
                "yes" if data["withdrawn"] else "", data["url"],
            )  # fmt: skip
            writer.writerow([spreadsheet_cell(value) for value in row])
        return Response(
            content=("\ufeff" + buffer.getvalue()).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="laureates.csv"', **PUBLIC_CACHE},
        )

    @get("/laureates.json", name="archive_json")
    async def download_json(self) -> Response[list[dict[str, Any]]]:
        """All public laureates as open data."""
        return Response([laureate_data(item) for item in await archive.all_laureates()], headers=PUBLIC_CACHE)
