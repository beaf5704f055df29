"""The public laureate archive: index, edition pages, laureate pages, open data.

Everything shown here comes from ``ambassador.domain.archive``, whose queries hold the
embargo (only published editions whose publication moment has passed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal, cast
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.openapi.spec import Example
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Template

from ambassador import i18n
from ambassador.domain import archive, portrait_images, portraits
from ambassador.domain.archive import Filters, PublicEdition, PublicLaureate
from ambassador.domain.categories import CODE, CategoryRow
from ambassador.domain.formal_check import spreadsheet_cell
from ambassador.errors import N_
from ambassador.settings import Settings
from ambassador.vocabulary import DISTINCTIONS
from ambassador.web import labels, opendata
from ambassador.web.addresses import url
from ambassador.web.downloads import PUBLIC_CACHE, csv_download
from ambassador.web.portraits import public_base

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
# The API's own handlers need no login; the document says so over the app's session scheme.
NO_AUTHENTICATION: list[dict[str, list[str]]] = [{}]

CategoryCode = Annotated[str, msgspec.Meta(pattern=f"^{CODE.pattern}$")]
DistinctionCode = Literal["title", "mention"]


class Texts(msgspec.Struct):
    """One text in the three languages of the archive; empty where there is none."""

    pl: str
    en: str
    uk: str


class Category(msgspec.Struct):
    """One category of an edition: its laureates are grouped by it."""

    code: Annotated[CategoryCode, msgspec.Meta(description="The category's code in its edition.", examples=["A"])]
    name: Texts
    nominee_kind: Annotated[
        Literal["person", "organisation", "either"],
        msgspec.Meta(description="Who may be nominated in it: person, organisation, or either."),
    ]
    titles: Annotated[int, msgspec.Meta(description="How many titles the category may give.")]
    mentions: Annotated[int, msgspec.Meta(description="How many honourable mentions the category may give.")]


class Edition(msgspec.Struct):
    """A public edition of the title."""

    year: Annotated[int, msgspec.Meta(description="The year of activity the edition honours.", examples=[2024])]
    label: Annotated[str, msgspec.Meta(description="The edition's short label.", examples=["A.D. 2024"])]
    name: Texts
    laureates: Annotated[int, msgspec.Meta(description="How many laureates the edition has.")]
    url: Annotated[
        str, msgspec.Meta(description="The edition's page, relative to the site.", examples=["/editions/2024"])
    ]
    categories: Annotated[list[Category], msgspec.Meta(description="The edition's categories, in their order.")]


class Laureate(msgspec.Struct):
    """A laureate of a public edition, in one of the edition's categories."""

    slug: Annotated[str, msgspec.Meta(description="The laureate's stable identifier in addresses.")]
    name: str
    category: Annotated[
        CategoryCode, msgspec.Meta(description="The code of the laureate's category in its edition (see the edition).")
    ]
    distinction: Annotated[DistinctionCode, msgspec.Meta(description="title, or honourable mention.")]
    year: Annotated[int, msgspec.Meta(description="The year of the edition.", examples=[2024])]
    citations: Texts
    source: Annotated[str, msgspec.Meta(description="Address of the official source of the decision, or empty.")]
    withdrawn: Annotated[bool, msgspec.Meta(description="True when the distinction has been withdrawn.")]
    url: Annotated[str, msgspec.Meta(description="The laureate's page, relative to the site.")]


class LaureatePage(msgspec.Struct):
    """One page of laureates matching the filters."""

    items: list[Laureate]
    total: Annotated[int, msgspec.Meta(description="How many laureates match, on all pages.")]
    page: Annotated[int, msgspec.Meta(description="This page's number, from 1.")]
    pages: Annotated[int, msgspec.Meta(description="How many pages there are (at least 1).")]


# The filters are lenient on purpose: a value that is not valid is ignored, never an error.
YearQuery = Annotated[
    str | None,
    QueryParameter(
        description="Only laureates of the edition of this year (1000 to 9999); any other value is ignored.",
        examples=[Example(value="2024")],
    ),
]
CategoryQuery = Annotated[
    str | None,
    QueryParameter(
        description=(
            "Only this category code (1 to 8 capital letters or digits, as the editions list them); "
            "any other value is ignored."
        ),
        examples=[Example(value="A")],
    ),
]
DistinctionQuery = Annotated[
    str | None,
    QueryParameter(
        description="Only this distinction: title or mention (honourable mention); any other value is ignored.",
        examples=[Example(value="title")],
    ),
]
SearchQuery = Annotated[
    str | None,
    QueryParameter(
        description=(
            "Words that must all occur in the name, ignoring case and diacritics "
            "(the first 200 characters and 10 words count)."
        ),
        examples=[Example(value="Slowinski")],
    ),
]
PageQuery = Annotated[
    str | None,
    QueryParameter(
        description=(
            f"The page, from 1 ({archive.PAGE_SIZE} laureates a page). A number past the last page "
            "gives the last page; any other value gives the first."
        ),
        examples=[Example(value="2")],
    ),
]


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
        category=category if category is not None and CODE.fullmatch(category) else None,
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
    return edition.name(i18n.current_language.get())


def laureate_url(laureate: PublicLaureate) -> str:
    return f"/laureates/{laureate.slug}"


def laureate_data(laureate: PublicLaureate) -> Laureate:
    """One laureate as open data."""
    return Laureate(
        slug=laureate.slug,
        name=laureate.name,
        category=laureate.category,
        distinction=cast("DistinctionCode", laureate.distinction),
        year=laureate.activity_year,
        citations=Texts(pl=laureate.citation_pl, en=laureate.citation_en, uk=laureate.citation_uk),
        source=laureate.source_url,
        withdrawn=laureate.withdrawn_at is not None,
        url=laureate_url(laureate),
    )


def category_data(row: CategoryRow) -> Category:
    return Category(
        code=row.code,
        name=Texts(pl=row.name_pl, en=row.name_en, uk=row.name_uk),
        nominee_kind=row.nominee_kind.value,
        titles=row.titles,
        mentions=row.mentions,
    )


def edition_data(edition: PublicEdition) -> Edition:
    return Edition(
        year=edition.activity_year,
        label=edition.label,
        name=Texts(pl=edition.name("pl"), en=edition.name("en"), uk=edition.name("uk")),
        laureates=edition.laureates,
        url=f"/editions/{edition.activity_year}",
        categories=[category_data(row) for row in edition.categories],
    )


def category_options(editions: list[PublicEdition]) -> list[tuple[str, str]]:
    """The filter's choices: every code of the public editions, named as its latest edition names it."""
    options: dict[str, str] = {}
    for edition in editions:  # newest first
        for row in edition.categories:
            options.setdefault(row.code, row.label(i18n.current_language.get()))
    return sorted(options.items())


def groups(
    edition: PublicEdition, items: tuple[PublicLaureate, ...]
) -> list[tuple[str, str, str, list[PublicLaureate]]]:
    """(code, label, distinction, laureates) in the edition's order of categories; empty groups left out."""
    language = i18n.current_language.get()
    named = [(row.code, row.label(language)) for row in edition.categories]
    known = {code for code, _ in named}
    named += [(code, code) for code in sorted({i.category for i in items} - known)]
    found = [
        (code, label, distinction, [i for i in items if i.category == code and i.distinction == distinction])
        for code, label in named
        for distinction in DISTINCTIONS
    ]
    return [group for group in found if group[3]]


def page_numbers(current: int, pages: int, around: int = 2) -> list[int | None]:
    """The page links of the navigation bar: the first, the last and ``around`` each side of the
    current page; None where pages are left out (shown as a gap)."""
    shown = sorted({1, pages, *range(max(1, current - around), min(pages, current + around) + 1)})
    numbers: list[int | None] = []
    for number in shown:
        if numbers and number - (numbers[-1] or 0) > 1:
            # One page left out is linked itself; more become a gap.
            numbers.append(None if number - (numbers[-1] or 0) > 2 else number - 1)
        numbers.append(number)
    return numbers


class ArchiveController(Controller):
    opt = {"exclude_from_auth": True}

    @get("/laureates", name="archive_index", include_in_schema=False)
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
        public = await archive.editions()
        return Template(
            template_name="archive/index.html",
            context={
                "filters": filters,
                "page": found,
                "editions": public,
                "categories": category_options(public),
                "distinctions": labels.options(DISTINCTIONS),
                # ``page_url`` is the page in another language (ambassador.web.addresses).
                "pagination_url": lambda number: url("/laureates") + query_string(filters, number),
                "canonical_query": query_string(filters, found.page),
                "page_numbers": page_numbers,
                "labels": labels,
                "portraits": await portraits.public_for(item.slug for item in found.items),
                "portrait_base": public_base,
            },
        )

    @get("/editions/{year:int}", name="archive_edition", include_in_schema=False)
    async def edition(self, year: FromPath[int]) -> Template:
        """One public edition and its laureates by category and distinction."""
        found = await archive.edition_by_year(year)
        if found is None:
            raise NotFoundException()
        items = await archive.all_laureates(year)
        return Template(
            template_name="archive/edition.html",
            context={
                "edition": found,
                "name": edition_name(found),
                "decision": await archive.decision(year),
                "groups": groups(found, items),
                "laureate_names": ", ".join(item.name for item in items if item.withdrawn_at is None),
                "labels": labels,
                "portraits": await portraits.public_for(item.slug for item in items),
                "portrait_base": public_base,
            },
        )

    @get("/laureates/{slug:str}", name="archive_laureate", include_in_schema=False)
    async def laureate(self, slug: FromPath[str], settings: NamedDependency[Settings]) -> Template:
        """One laureate of a public edition."""
        found = await archive.laureate(slug)
        if found is None:
            raise NotFoundException()
        language = i18n.current_language.get()
        citation, citation_language = found.citation(language)
        portrait = (await portraits.public_for([found.slug])).get(found.slug)
        image = portrait.src(public_base(found.slug), portrait_images.WIDTHS[-1]) if portrait else ""
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
                "corrections": await archive.corrections(slug),
                "labels": labels,
                "portrait": portrait,
                "portrait_base": public_base,
                # The card of a shared link names the title, its year and (in the description) the category.
                "award": opendata.award(found),
                "jsonld": opendata.laureate_jsonld(found, settings.base_url, language, image),
            },
        )

    @get("/api/v1/editions", name="api_editions", summary="Editions", tags=["open data"], security=NO_AUTHENTICATION)
    async def api_editions(self) -> Response[list[Edition]]:
        """The public editions, newest first."""
        return Response([edition_data(e) for e in await archive.editions()], headers=PUBLIC_CACHE)

    @get("/api/v1/laureates", name="api_laureates", summary="Laureates", tags=["open data"], security=NO_AUTHENTICATION)
    async def api_laureates(
        self,
        year: YearQuery = None,
        category: CategoryQuery = None,
        distinction: DistinctionQuery = None,
        q: SearchQuery = None,
        page: PageQuery = None,
    ) -> Response[LaureatePage]:
        """Laureates of the public editions, filtered, newest edition first, one page at a time."""
        found = await archive.laureates(parse_filters(year, category, distinction, q, page))
        return Response(
            LaureatePage(
                items=[laureate_data(item) for item in found.items],
                total=found.total,
                page=found.page,
                pages=found.pages,
            ),
            headers=PUBLIC_CACHE,
        )

    @get("/laureates.csv", name="archive_csv", include_in_schema=False)
    async def download_csv(self) -> Response[bytes]:
        """All public laureates, for spreadsheets: UTF-8 with BOM, formulas neutralised."""
        rows: list[Sequence[str]] = [CSV_HEADER]
        for item in await archive.all_laureates():
            data = laureate_data(item)
            citations = data.citations
            row = (
                data.slug, data.name, data.category, data.distinction, data.year,
                citations.pl, citations.en, citations.uk, data.source,
                "yes" if data.withdrawn else "", data.url,
            )  # fmt: skip
            rows.append(tuple(spreadsheet_cell(value) for value in row))
        return csv_download(rows, "laureates.csv", PUBLIC_CACHE)

    @get(
        "/laureates.json", name="archive_json", summary="All laureates", tags=["open data"], security=NO_AUTHENTICATION
    )
    async def download_json(self) -> Response[list[Laureate]]:
        """Every public laureate at once, in archive order (the download of the whole archive)."""
        return Response([laureate_data(item) for item in await archive.all_laureates()], headers=PUBLIC_CACHE)
