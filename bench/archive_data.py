"""Fill the benchmark's database with fictional published editions up to a number of laureates.

Run by `bench/bench_archive.py` after ``ambassador migrate`` and ``ambassador laureates import``,
with ``AMBASSADOR_DATABASE_URL`` pointing at its temporary database (Piccolo binds the engine
when ``ambassador`` is imported, so the environment must be set before this process starts).

Every generated record is obviously fictional ("Test Laureate 042"); editions follow the shipped
years (2025, 2026, ...), each with the shape of a real one: titles and honourable mentions in
categories A and B, citations in Polish, English and Ukrainian, published a day ago.
Prints one JSON line: {"laureates": total, "editions": public editions, "slug": a generated slug}.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys

from ambassador.db import utcnow, write_transaction
from ambassador.domain.editions import default_criteria
from ambassador.domain.history import free_slug
from ambassador.enums import ApprovingBody, EditionState
from ambassador.tables import Criterion, Edition, Laureate
from ambassador.text import fold

# (category, distinction, how many) of one generated edition: 14 laureates.
SHAPE = (("A", "title", 2), ("A", "mention", 4), ("B", "title", 2), ("B", "mention", 6))

CITATION_PL = (
    "{name} to fikcyjny wpis wygenerowany do testu wydajności archiwum. Od {years} lat prowadzi "
    "warsztaty, spotkania sąsiedzkie i festiwal kultur, a w roku {year} przygotował(a) cykl debat "
    "o dialogu międzykulturowym z udziałem szkół, bibliotek i organizacji pozarządowych."
)
CITATION_EN = (
    "{name} is a fictional record generated for the archive benchmark. For {years} years they have run "
    "workshops, neighbourhood meetings and a festival of cultures, and in {year} they organised a series "
    "of debates on intercultural dialogue with schools, libraries and non-governmental organisations."
)
CITATION_UK = (
    "{name} — вигаданий запис, створений для тесту швидкодії архіву. Уже {years} років проводить "
    "майстер-класи, сусідські зустрічі та фестиваль культур, а у {year} році організував(ла) цикл "
    "дебатів про міжкультурний діалог за участю шкіл, бібліотек і громадських організацій."
)


async def _edition(year: int, now: dt.datetime) -> int:
    label = f"A.D. {year}"
    edition = Edition(
        activity_year=year,
        state=EditionState.PUBLISHED.value,
        name_pl=f"Testowa edycja {label}",
        name_en=f"Test edition {label}",
        name_uk=f"Тестове видання {label}",
        intro_en="A fictional edition generated for the archive benchmark.",
        titles_a=2,
        mentions_a=4,
        titles_b=2,
        mentions_b=6,
        opens_at=dt.datetime(year, 3, 1, tzinfo=dt.UTC),
        closes_at=dt.datetime(year, 4, 30, 23, 59, tzinfo=dt.UTC),
        approving_body=ApprovingBody.COUNCIL_RESOLUTION.value,
        published_at=now - dt.timedelta(days=1),
    )
    await edition.save()
    for position, criterion in enumerate(default_criteria(), start=1):
        await Criterion(
            edition=edition.id,
            position=position,
            name_pl=criterion.name_pl,
            name_en=criterion.name_en,
            name_uk=criterion.name_uk,
            weight=position,
        ).save()
    return int(edition.id)


async def _laureate(edition_id: int, year: int, number: int, category: str, distinction: str) -> str:
    name = f"Test Laureate {number:03d}"
    values = {"name": name, "years": 3 + number % 12, "year": year}
    slug = await free_slug(year, name)
    await Laureate(
        edition=edition_id,
        slug=slug,
        name=name,
        name_key=fold(name),
        category=category,
        distinction=distinction,
        citation_pl=CITATION_PL.format(**values),
        citation_en=CITATION_EN.format(**values),
        citation_uk=CITATION_UK.format(**values),
        source_url=f"https://example.org/archive-benchmark/{number:03d}",
        created_at=utcnow(),
    ).save()
    return slug


async def fill(target: int) -> dict[str, object]:
    """Add fictional editions until the archive holds ``target`` laureates (at least)."""
    count = int(await Laureate.count())
    latest = await Edition.select(Edition.activity_year).order_by(Edition.activity_year, ascending=False).first()
    year = int(latest["activity_year"]) + 1 if latest else 2025
    now = utcnow()
    slugs: list[str] = []
    number = 1
    while count < target:
        async with write_transaction():
            edition_id = await _edition(year, now)
            for category, distinction, how_many in SHAPE:
                for _ in range(min(how_many, target - count)):
                    slugs.append(await _laureate(edition_id, year, number, category, distinction))
                    number, count = number + 1, count + 1
        year += 1
    if not slugs:  # already big enough: any laureate will do
        slugs = [str(row["slug"]) for row in await Laureate.select(Laureate.slug).order_by(Laureate.id).limit(1)]
    editions = int(await Edition.count().where(Edition.state == EditionState.PUBLISHED.value))
    return {"laureates": count, "editions": editions, "slug": slugs[len(slugs) // 2] if slugs else ""}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--laureates", type=int, default=150, help="total laureates wanted (default 150)")
    args = parser.parse_args()
    sys.stdout.write(json.dumps(asyncio.run(fill(args.laureates))) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
