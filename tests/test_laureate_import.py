"""Importing the laureates of earlier editions: idempotent, errors by line, nothing invented."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ambassador.domain import archive, laureate_import
from ambassador.tables import Edition, Laureate

GOOD = '2022,B,title,Jan Słowiński,"President of the Rozstaje association.",https://example.org/a,b,c.html\n'
CSV = (
    "edition,category,distinction,name,citation,source\n"
    + GOOD
    + "2017,B,title,Too Early,,https://example.org/x\n"
    + "2024,C,title,Wrong Category,,https://example.org/y\n"
    + "2024,A,honourable_mention,Fundacja Kocham Dębniki,,https://example.org/z\n"
    + "2024,A,title,,,https://example.org/empty\n"
)


async def test_the_shipped_record_imports_once_and_becomes_public(tmp_path: Path) -> None:
    first = await laureate_import.import_file(laureate_import.SHIPPED)
    again = await laureate_import.import_file(laureate_import.SHIPPED)

    assert (first.created, first.editions_created, first.errors) == (24, 6, [])
    assert (again.created, again.unchanged, again.editions_created) == (0, 24, 0)
    assert await Laureate.count() == 24
    years = [e.activity_year for e in await archive.editions()]
    assert years == [2024, 2023, 2022, 2021, 2020, 2018]
    found = await archive.laureates(archive.Filters(query="Slowinski"))
    assert [(item.name, item.source_url) for item in found.items] == [("Jan Słowiński", found.items[0].source_url)]
    assert found.items[0].source_url.startswith("https://")


async def test_bad_lines_are_reported_and_the_rest_imported(tmp_path: Path) -> None:
    path = tmp_path / "laureates.csv"
    path.write_text(CSV, encoding="utf-8")

    report = await laureate_import.import_file(path)

    assert report.created == 2
    assert [line for line, _ in report.errors] == [3, 4, 6]
    stored = await Laureate.select(Laureate.name, Laureate.distinction, Laureate.source_url).order_by(Laureate.id)
    assert stored == [
        {"name": "Jan Słowiński", "distinction": "title", "source_url": "https://example.org/a,b,c.html"},
        {"name": "Fundacja Kocham Dębniki", "distinction": "mention", "source_url": "https://example.org/z"},
    ]
    assert await Edition.select(Edition.activity_year, Edition.historical).order_by(Edition.activity_year) == [
        {"activity_year": 2022, "historical": True},
        {"activity_year": 2024, "historical": True},
    ]


def test_the_command_reports_per_line_and_exits_non_zero_on_errors(tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "laureates.csv"
    path.write_text(CSV, encoding="utf-8")
    env = {**os.environ, "AMBASSADOR_DATABASE_URL": database_url, "AMBASSADOR_VAR_DIR": str(tmp_path / "var")}

    done = subprocess.run(
        [sys.executable, "-m", "ambassador", "laureates", "import", str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )

    assert done.returncode == 1
    assert done.stdout.strip() == "2 laureates imported, 0 already present, 2 editions created, 3 lines with errors"
    assert done.stderr.splitlines()[0].startswith("line 3: edition must be a year from 2018")


def _import_command(database_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AMBASSADOR_DATABASE_URL": database_url, "AMBASSADOR_VAR_DIR": str(tmp_path / "var")}
    return subprocess.run(
        [sys.executable, "-m", "ambassador", "laureates", "import", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_the_shipped_record_is_imported_by_name_without_its_path(tmp_path: Path, database_url: str) -> None:
    done = _import_command(database_url, tmp_path, "--shipped")

    assert (done.returncode, done.stdout.strip()) == (
        0,
        "24 laureates imported, 0 already present, 6 editions created, 0 lines with errors",
    )


def test_the_command_needs_exactly_one_source(tmp_path: Path, database_url: str) -> None:
    expected = "give either a CSV file or --shipped (the record of earlier editions that comes with the app)"
    neither = _import_command(database_url, tmp_path)
    both = _import_command(database_url, tmp_path, "--shipped", str(tmp_path / "x.csv"))

    assert (neither.returncode, neither.stderr.strip()) == (1, expected)
    assert (both.returncode, both.stderr.strip()) == (1, expected)
