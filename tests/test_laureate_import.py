"""Importing the laureates of earlier editions: idempotent, errors by line, nothing invented."""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ambassador import honour
from ambassador.domain import archive, laureate_import
from ambassador.tables import AuditEntry, Edition, Laureate
from tests.conftest import Client
from tests.helpers import text_of

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


# --- the record in three languages, its labels and dates (issue 14) --------------------------

SLOWINSKI = {
    "citation_pl": "Prezes Stowarzyszenia Rozstaje: U Zbiegu Kultur i Tradycji; "
    "dyrektor festiwalu EtnoKraków/Rozstaje.",
    "citation_en": "President of the Rozstaje association; director of the EtnoKraków/Rozstaje festival.",
    "citation_uk": "Голова товариства Rozstaje; директор фестивалю EtnoKraków/Rozstaje.",
}
WILLA_DECJUSZA_PL = (
    "Od 27 lat prowadzi międzynarodową działalność na rzecz wielokulturowości: rozwija współpracę kulturalną, "
    "chroni dziedzictwo kulturowe i kształtuje postawy tolerancji; w 2003 roku ustanowiło Polską Nagrodę "
    "im. Sérgio Vieira de Mello."
)
CITATIONS = (Laureate.citation_pl, Laureate.citation_en, Laureate.citation_uk)


def old_format(tmp_path: Path) -> Path:
    """The shipped record as the first format wrote it: the English citation only."""
    lines = laureate_import.SHIPPED.read_text(encoding="utf-8").splitlines()
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    path = tmp_path / "laureates-v1.csv"
    path.write_text(
        "\n".join(
            [",".join(laureate_import.HEADER_V1)]
            + [",".join(['"' + v.replace('"', '""') + '"' if v else "" for v in row[:5]] + row[7:]) for row in rows[1:]]
        )
        + "\n",
        encoding="utf-8",
    )
    return path


async def test_the_shipped_record_has_polish_and_ukrainian_citations() -> None:
    report = await laureate_import.import_file(laureate_import.SHIPPED)

    assert (report.created, report.errors) == (24, [])
    assert await Laureate.select(*CITATIONS).where(Laureate.name == "Jan Słowiński").first() == SLOWINSKI
    assert await Laureate.select(*CITATIONS).where(Laureate.name == "Olha Menko").first() == {
        "citation_pl": "Redaktor naczelna portalu informacyjnego dla Ukraińców.",
        "citation_en": "Editor-in-chief of an information portal for Ukrainians.",
        "citation_uk": "Головна редакторка інформаційного порталу для українців.",
    }
    willa = await Laureate.select(Laureate.citation_pl).where(Laureate.name == "Stowarzyszenie Willa Decjusza").first()
    assert willa == {"citation_pl": WILLA_DECJUSZA_PL}
    # Where the sources give no citation there is none, in any language: nothing is invented.
    assert await Laureate.select(*CITATIONS).where(Laureate.name == "Salam Lab").first() == {
        "citation_pl": "",
        "citation_en": "",
        "citation_uk": "",
    }
    rows = await Laureate.select(*CITATIONS)
    assert [row for row in rows if len({bool(text) for text in row.values()}) > 1] == []  # all three, or none
    assert sum(1 for row in rows if row["citation_pl"]) == 12


async def test_a_database_imported_from_the_old_file_is_completed_by_importing_again(tmp_path: Path) -> None:
    first = await laureate_import.import_file(old_format(tmp_path))
    # What earlier versions stored: editions named with their label, and a clerk's own Polish text.
    for edition in await Edition.select(Edition.id, Edition.activity_year, Edition.name_pl):
        label = f"A.D. {edition['activity_year']}"
        await Edition.update({Edition.name_pl: f"{edition['name_pl']} {label}"}).where(Edition.id == edition["id"])
    await Laureate.update({Laureate.citation_pl: "Tekst urzędu."}).where(Laureate.name == "Olha Menko")
    before = await Laureate.select(*CITATIONS).where(Laureate.name == "Jan Słowiński").first()

    again = await laureate_import.import_file(laureate_import.SHIPPED)
    once_more = await laureate_import.import_file(laureate_import.SHIPPED)

    assert (first.created, first.errors) == (24, [])
    assert before == {**SLOWINSKI, "citation_pl": "", "citation_uk": ""}
    assert (again.created, again.updated, again.unchanged, again.editions_renamed, again.errors) == (0, 12, 12, 6, [])
    assert (once_more.updated, once_more.unchanged, once_more.editions_renamed) == (0, 24, 0)
    assert await Laureate.select(*CITATIONS).where(Laureate.name == "Jan Słowiński").first() == SLOWINSKI
    menko = await Laureate.select(*CITATIONS).where(Laureate.name == "Olha Menko").first()
    assert menko == {
        "citation_pl": "Tekst urzędu.",  # a stored citation is never replaced
        "citation_en": "Editor-in-chief of an information portal for Ukrainians.",
        "citation_uk": "Головна редакторка інформаційного порталу для українців.",
    }
    assert {row["name_pl"] for row in await Edition.select(Edition.name_pl)} == {
        "Krakowski Ambasador Wielokulturowości"
    }
    entry = (
        await AuditEntry.select(AuditEntry.data)
        .where(AuditEntry.action == "laureates.imported")
        .order_by(AuditEntry.id, ascending=False)
        .first()
    )
    assert entry is not None
    assert json.loads(entry["data"]) == {
        "created": 0,
        "editions_created": 0,
        "citations_added": 12,
        "editions_renamed": 6,
    }


def test_the_command_says_what_a_second_import_completed(tmp_path: Path, database_url: str) -> None:
    old = _import_command(database_url, tmp_path, str(old_format(tmp_path)))
    done = _import_command(database_url, tmp_path, "--shipped")

    assert (old.returncode, done.returncode) == (0, 0)
    assert done.stdout.strip() == (
        "0 laureates imported, 12 already present, 12 given the citations they lacked, "
        "0 editions created, 0 lines with errors"
    )


async def imported_pages(client: Client, language: str, *paths: str) -> list[str]:
    client.cookies.set("lang", language, domain="testserver.local")
    pages = [await client.get(path, headers={"accept-language": language}, follow_redirects=True) for path in paths]
    assert [page.status_code for page in pages] == [200] * len(paths)
    return [page.text for page in pages]


@pytest.mark.parametrize(
    ("language", "published", "only_english"),
    [
        ("pl", "Opublikowano", "Uzasadnienie dostępne w języku angielskim"),
        ("en", "Published on", "Citation available in English"),
        ("uk", "Оприлюднено", "Обґрунтування доступне англійською"),
    ],
)
async def test_imported_laureates_read_in_their_language_with_one_label_and_no_invented_date(
    client: Client, language: str, published: str, only_english: str
) -> None:
    await laureate_import.import_file(laureate_import.SHIPPED)
    slug = (await Laureate.select(Laureate.slug).where(Laureate.name == "Jan Słowiński").first() or {})["slug"]

    laureate, edition, index, home = await imported_pages(
        client, language, f"/laureates/{slug}", "/editions/2022", "/laureates", "/"
    )

    assert f'<p class="prose" lang="{language}">{html.escape(SLOWINSKI[f"citation_{language}"])}</p>' in laureate
    assert only_english not in laureate
    name = honour.shipped().text("name", language)
    heading = re.search(r"<h1>(.*?)</h1>", edition, re.S)
    assert heading is not None
    assert text_of(heading.group(1)) == f"{name} A.D. 2022"
    assert '<span class="ad-label">A.D. 2022</span></h1>' in edition
    for page in (laureate, edition, index, home):
        assert re.search(r"A\.D\. (\d{4})\W+A\.D\. \1", re.sub(r"<[^>]+>", " ", page)) is None
        assert published not in page


async def test_open_data_names_imported_editions_once_and_claims_no_publication_moment(client: Client) -> None:
    await laureate_import.import_file(laureate_import.SHIPPED)

    editions = (await client.get("/api/v1/editions")).json()
    feed = (await client.get("/feed.atom")).text

    assert [(e["label"], e["name"]["en"]) for e in editions][:2] == [
        ("A.D. 2024", "Krakow Ambassador of Multiculturalism"),
        ("A.D. 2023", "Krakow Ambassador of Multiculturalism"),
    ]
    assert feed.count("<entry>") == 6
    assert "<published>" not in feed
