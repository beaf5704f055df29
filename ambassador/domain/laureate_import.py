"""Importing laureates of earlier editions from a CSV file (the format of the shipped
``ambassador/data/laureates-2018-2024.csv``).

Each row creates (once) a published historical edition for its activity year and a
laureate with its source address and its citation in English (``citation``) and, where the
file has them, in Polish and Ukrainian (``citation_pl``, ``citation_uk``). The import is
idempotent: a row already present (same year, category, distinction and name) is not added
again; it only receives the citations it lacks (a database that imported an older file gets
the Polish and Ukrainian citations by running the import again; a citation already stored,
perhaps corrected by the clerk, is never replaced). Bad rows are reported by line and
skipped; the others are imported. Nothing is invented: only what the file says is stored.

An imported edition is named as the honour, without its label (the pages add "A.D. 2022");
editions imported by earlier versions, named "… A.D. 2022", are renamed by the next import.
Its ``published_at`` is the moment of the import (it makes the edition public); the pages
do not show it as a publication date (``PublicEdition.publication_date``).
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
from ambassador.domain.editions import default_criteria, without_label
from ambassador.enums import ApprovingBody, EditionState, NomineeField, NomineeKind
from ambassador.resources import SHIPPED_LAUREATES
from ambassador.tables import Criterion, Edition, Laureate
from ambassador.text import clean_line, clean_text, fold

SHIPPED = SHIPPED_LAUREATES
HEADER = ["edition", "category", "distinction", "name", "citation", "citation_pl", "citation_uk", "source"]
# The first format, with the English citation only (still read).
HEADER_V1 = ["edition", "category", "distinction", "name", "citation", "source"]
DISTINCTIONS = {"title": "title", "honourable_mention": "mention", "mention": "mention"}
URL_RE = re.compile(r"^https?://\S{3,490}$")
MAX_NAME = 300
MAX_CITATION = 4000


@dataclass
class ImportReport:
    created: int = 0
    unchanged: int = 0
    editions_created: int = 0
    # Laureates already present that received citations they lacked; editions renamed.
    updated: int = 0
    editions_renamed: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Row:
    line: int
    year: int
    category: str
    distinction: str
    name: str
    citation: str  # English
    source: str
    citation_pl: str = ""
    citation_uk: str = ""

    def citations(self) -> dict[str, str]:
        return {"citation_en": self.citation, "citation_pl": self.citation_pl, "citation_uk": self.citation_uk}


def parse(text: str, report: ImportReport) -> list[Row]:
    """Rows of the file; unquoted commas in the last column (addresses) belong to it."""
    rows: list[Row] = []
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, None) or []]
    if header[: len(HEADER)] == HEADER:
        columns = len(HEADER)
    elif header[: len(HEADER_V1)] == HEADER_V1:
        columns = len(HEADER_V1)
    else:
        report.errors.append((1, f"the header must be: {','.join(HEADER)}"))
        return rows
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) < columns:
            report.errors.append((line, f"expected {columns} columns, found {len(values)}"))
            continue
        first = tuple(v.strip() for v in values[: columns - 1])
        year_raw, category, distinction, name, citation = first[:5]
        translated = first[5:] if columns == len(HEADER) else ("", "")
        source = ",".join(values[columns - 1 :]).strip()
        problem = _problem(first[:5], source) or next(
            (
                f"{column} is longer than {MAX_CITATION} characters"
                for column, text in zip(("citation_pl", "citation_uk"), translated, strict=True)
                if len(text) > MAX_CITATION
            ),
            "",
        )
        if problem:
            report.errors.append((line, problem))
            continue
        rows.append(
            Row(
                line,
                int(year_raw),
                category,
                DISTINCTIONS[distinction],
                clean_line(name),
                clean_text(citation),
                source,
                citation_pl=clean_text(translated[0]),
                citation_uk=clean_text(translated[1]),
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
    row = (
        await Edition.select(Edition.id, Edition.name_pl, Edition.name_en, Edition.name_uk, Edition.historical)
        .where(Edition.activity_year == year)
        .first()
    )
    if row is not None:
        await _without_label(row, year, report)
        return int(row["id"])
    chosen = honour.active()  # the past editions of this installation's honour
    edition = Edition(
        activity_year=year,
        state=EditionState.PUBLISHED.value,
        # The name only: every page adds the label ("A.D. 2022") itself (editions.edition_label).
        name_pl=chosen.text("name", "pl"),
        name_en=chosen.text("name", "en"),
        name_uk=chosen.text("name", "uk"),
        # The activity year: the call itself did not run on this platform.
        opens_at=dt.datetime(year, 1, 1, tzinfo=dt.UTC),
        closes_at=dt.datetime(year, 12, 31, 23, 59, tzinfo=dt.UTC),
        approving_body=ApprovingBody.COUNCIL_RESOLUTION.value,
        historical=True,
        # Makes the edition public now; no page shows it as the edition's publication date.
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


async def _without_label(row: dict[str, object], year: int, report: ImportReport) -> None:
    """An imported edition named "… A.D. 2022" by an earlier version loses the label from its name."""
    if not row["historical"]:
        return
    names = {key: without_label(str(row[key]), year) for key in ("name_pl", "name_en", "name_uk")}
    if all(names[key] == row[key] for key in names):
        return
    await Edition.update({getattr(Edition, key): value for key, value in names.items()}).where(Edition.id == row["id"])
    report.editions_renamed += 1


async def _add_missing_citations(row: Row, laureate: dict[str, object], report: ImportReport) -> None:
    """The citations the stored laureate lacks, from the file; a stored one is never replaced."""
    missing = {key: text for key, text in row.citations().items() if text and not laureate[key]}
    if not missing:
        report.unchanged += 1
        return
    await Laureate.update({getattr(Laureate, key): text for key, text in missing.items()}).where(
        Laureate.id == laureate["id"]
    )
    report.updated += 1


async def import_rows(
    rows: list[Row], report: ImportReport, progress: Callable[[int, int], None] | None = None
) -> ImportReport:
    now = utcnow()
    for index, row in enumerate(rows, start=1):
        try:
            async with write_transaction():
                edition_id = await _historical_edition(row.year, report, now)
                stored = (
                    await Laureate.select(Laureate.id, Laureate.citation_pl, Laureate.citation_en, Laureate.citation_uk)
                    .where(
                        (Laureate.edition == edition_id)
                        & (Laureate.category == row.category)
                        & (Laureate.distinction == row.distinction)
                        & (Laureate.name_key == fold(row.name))
                    )
                    .first()
                )
                if stored is not None:
                    await _add_missing_citations(row, stored, report)
                else:
                    await Laureate(
                        edition=edition_id,
                        slug=await free_slug(row.year, row.name),
                        name=row.name,
                        name_key=fold(row.name),
                        category=row.category,
                        distinction=row.distinction,
                        citation_pl=row.citation_pl,
                        citation_en=row.citation,
                        citation_uk=row.citation_uk,
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
    if report.created or report.editions_created or report.updated or report.editions_renamed:
        await audit.record(
            "laureates.imported",
            actor_id=None,
            object_type="laureate",
            object_id="*",
            data={
                "created": report.created,
                "editions_created": report.editions_created,
                "citations_added": report.updated,
                "editions_renamed": report.editions_renamed,
            },
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
