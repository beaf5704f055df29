"""Importing laureates of earlier editions from a CSV file (the format of the shipped
``ambassador/data/laureates-2018-2024.csv``).

Each row creates (once) a published historical edition for its activity year and a
laureate with its source address. The import is idempotent: a row already present (same
year, category, distinction and name) changes nothing. Bad rows are reported by line and
skipped; the others are imported. Nothing is invented: only what the file says is stored.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio

from ambassador import honour
from ambassador.db import is_unique_violation, utcnow, write_transaction
from ambassador.domain import audit, categories
from ambassador.domain.categories import CategoryInput
from ambassador.domain.editions import default_criteria
from ambassador.enums import ApprovingBody, EditionState, NomineeField, NomineeKind
from ambassador.resources import SHIPPED_LAUREATES
from ambassador.tables import Criterion, Edition, Laureate
from ambassador.text import clean_line, clean_text, fold

SHIPPED = SHIPPED_LAUREATES
HEADER = ["edition", "category", "distinction", "name", "citation", "source"]
DISTINCTIONS = {"title": "title", "honourable_mention": "mention", "mention": "mention"}
URL_RE = re.compile(r"^https?://\S{3,490}$")
MAX_NAME = 300
MAX_CITATION = 4000


@dataclass
class ImportReport:
    created: int = 0
    unchanged: int = 0
    editions_created: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Row:
    line: int
    year: int
    category: str
    distinction: str
    name: str
    citation: str
    source: str


def parse(text: str, report: ImportReport) -> list[Row]:
    """Rows of the file; unquoted commas in the last column (addresses) belong to it."""
    rows: list[Row] = []
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header[: len(HEADER)]] != HEADER:
        report.errors.append((1, f"the header must be: {','.join(HEADER)}"))
        return rows
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) < len(HEADER):
            report.errors.append((line, f"expected {len(HEADER)} columns, found {len(values)}"))
            continue
        first = tuple(v.strip() for v in values[:5])
        year_raw, category, distinction, name, citation = first
        source = ",".join(values[5:]).strip()
        problem = _problem(first, source)
        if problem:
            report.errors.append((line, problem))
            continue
        rows.append(
            Row(
                line, int(year_raw), category, DISTINCTIONS[distinction], clean_line(name), clean_text(citation), source
            )
        )
    return rows


def _problem(values: tuple[str, ...], source: str) -> str:
    """What is wrong with one row (year, category, distinction, name, citation), or ""."""
    year, category, distinction, name, citation = values
    checks = (
        (not year.isdigit() or not 2018 <= int(year) <= 2100, f"edition must be a year from 2018, got {year!r}"),
        (category not in {c.code for c in RECORD_CATEGORIES}, f"category must be A or B, got {category!r}"),
        (distinction not in DISTINCTIONS, f"distinction must be title or honourable_mention, got {distinction!r}"),
        (not clean_line(name) or len(name) > MAX_NAME, "name is empty or longer than 300 characters"),
        (len(citation) > MAX_CITATION, "citation is longer than 4000 characters"),
        (bool(source) and not URL_RE.match(source), f"source must be an http(s) address, got {source[:80]!r}"),
    )
    return next((message for failed, message in checks if failed), "")


# The record's categories (Kraków's A and B), given to each edition the import creates, as
# the migration gave them to the editions that existed before categories were rows.
RECORD_CATEGORIES = (
    CategoryInput(
        code="A",
        name_pl="organizacja",
        name_en="organisation",
        name_uk="організація",
        nominee_kind=NomineeKind.ORGANISATION,
        titles=2,
        fields=(NomineeField.ORGANISATION_KIND, NomineeField.REGISTRY_NUMBER),
    ),
    CategoryInput(
        code="B",
        name_pl="osoba fizyczna",
        name_en="individual",
        name_uk="фізична особа",
        nominee_kind=NomineeKind.PERSON,
        titles=2,
    ),
)


def slug_for(year: int, name: str) -> str:
    return f"{year}-{fold(name).replace(' ', '-')}"[:200] or str(year)


async def _historical_edition(year: int, report: ImportReport, now: dt.datetime) -> int:
    row = await Edition.select(Edition.id).where(Edition.activity_year == year).first()
    if row is not None:
        return int(row["id"])
    label = f"A.D. {year}"
    chosen = honour.active()  # the past editions of this installation's honour
    edition = Edition(
        activity_year=year,
        state=EditionState.PUBLISHED.value,
        name_pl=f"{chosen.text('name', 'pl')} {label}",
        name_en=f"{chosen.text('name', 'en')} {label}",
        name_uk=f"{chosen.text('name', 'uk')} {label}",
        # The activity year: the call itself did not run on this platform.
        opens_at=dt.datetime(year, 1, 1, tzinfo=dt.UTC),
        closes_at=dt.datetime(year, 12, 31, 23, 59, tzinfo=dt.UTC),
        approving_body=ApprovingBody.COUNCIL_RESOLUTION.value,
        historical=True,
        published_at=now,
    )
    await edition.save()
    for position, criterion in enumerate(default_criteria(), start=1):
        await Criterion(
            edition=edition.id,
            position=position,
            name_pl=criterion.name_pl,
            name_en=criterion.name_en,
            name_uk=criterion.name_uk,
            weight=1,
        ).save()
    await categories.insert_all(edition.id, RECORD_CATEGORIES)
    report.editions_created += 1
    return int(edition.id)


async def import_rows(
    rows: list[Row], report: ImportReport, progress: Callable[[int, int], None] | None = None
) -> ImportReport:
    now = utcnow()
    for index, row in enumerate(rows, start=1):
        try:
            async with write_transaction():
                edition_id = await _historical_edition(row.year, report, now)
                exists = await Laureate.exists().where(
                    (Laureate.edition == edition_id)
                    & (Laureate.category == row.category)
                    & (Laureate.distinction == row.distinction)
                    & (Laureate.name_key == fold(row.name))
                )
                if exists:
                    report.unchanged += 1
                else:
                    await Laureate(
                        edition=edition_id,
                        slug=await free_slug(row.year, row.name),
                        name=row.name,
                        name_key=fold(row.name),
                        category=row.category,
                        distinction=row.distinction,
                        citation_en=row.citation,
                        source_url=row.source,
                        created_at=now,
                    ).save()
                    report.created += 1
        except Exception as exc:
            if not is_unique_violation(exc):
                raise
            report.errors.append((row.line, "conflicts with a laureate already stored"))
        if progress is not None:
            progress(index, len(rows))
    if report.created or report.editions_created:
        await audit.record(
            "laureates.imported",
            actor_id=None,
            object_type="laureate",
            object_id="*",
            data={"created": report.created, "editions_created": report.editions_created},
        )
    return report


async def free_slug(year: int, name: str) -> str:
    """A laureate's address, readable and unique: "2022-jan-slowinski", then "-2", "-3"."""
    base = slug_for(year, name)
    slug, n = base, 2
    while await Laureate.exists().where(Laureate.slug == slug):
        slug, n = f"{base}-{n}", n + 1
    return slug


async def import_file(path: Path, progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Import a CSV file (UTF-8, optional BOM); every row's outcome is in the report."""
    report = ImportReport()
    try:
        text = await anyio.Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        report.errors.append((0, f"cannot read the file: {exc}"))
        return report
    return await import_rows(parse(text, report), report, progress)
