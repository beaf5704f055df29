"""Documents a clerk hands over: translated exports (XLSX, CSV for Excel), the dossier pack, signatures."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from openpyxl import load_workbook
from pypdf import PageObject, PdfReader

from ambassador import pdf, spreadsheet
from ambassador.domain import conflict_declarations, deliberation, dossier_pack, exports, minutes
from ambassador.domain.scoring import DeclareFirst
from ambassador.enums import ConflictKind
from ambassador.errors import NotFound
from ambassador.tables import Nomination
from tests.clerk_factories import checked_edition, clerk_logged_in, english, paper_nomination
from tests.conftest import Client
from tests.deliberation_factories import deliberated, logged_in, scored_edition
from tests.factories import make_user
from tests.jury_factories import Scoring, declare_none, scoring_edition, submit_scores

SECRET = "Bohdan's confidential plan for the district library"
NOMINEES: tuple[dict[str, object], ...] = (
    {
        "texts": {0: "Runs a bilingual reading club.", 1: '=HYPERLINK("http://evil.example")'},
        "links": "https://club.example.org",
    },
    {
        "nominee_name": "Bohdan Melnyk",
        "nominee_email": "bohdan@example.org",
        "nominator_name": "Piotr Zieliński",
        "nominator_email": "piotr@example.org",
        "texts": {0: SECRET},
        "links": "https://bohdan.example.org",
    },
)
HEADERS = {
    "pl": ["Numer", "Stan", "Tytuł lub wyróżnienie", "Kategoria", "Kandydat", "Kandydat jest niepełnoletni"],
    "en": ["Reference", "State", "Distinction", "Category", "Nominee", "Nominee is a minor"],
    "uk": ["Номер", "Стан", "Відзнака", "Категорія", "Кандидат", "Кандидат неповнолітній"],
}
# State, distinction (none yet), category, nominee, minor; then consent, on paper.
VALUES = {
    "pl": (["skierowane do oceny", "", "B: osoba fizyczna", "Olena Kovalenko", "nie"], ["zgoda wyrażona", "tak"]),
    "en": (["shortlisted", "", "B: individual", "Olena Kovalenko", "no"], ["consent given", "yes"]),
    "uk": (["передано на оцінювання", "", "B: фізична особа", "Olena Kovalenko", "ні"], ["згоду надано", "так"]),
}


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def page_stream(page: PageObject) -> str:
    stream = page.get_contents()
    assert stream is not None
    return stream.get_data().decode("latin1")


async def edition_with_texts() -> Scoring:
    return await scoring_edition(nominees=NOMINEES)


def column(sheet: spreadsheet.Sheet, heading: str) -> list[spreadsheet.Cell]:
    index = sheet.header.index(heading)
    return [row[index] for row in sheet.rows]


@pytest.mark.parametrize("language", ["pl", "en", "uk"])
async def test_the_csv_for_excel_has_a_bom_semicolons_and_translated_headers_and_values(language: str) -> None:
    setup = await edition_with_texts()
    sheet = await exports.nominations(setup.edition.id, language)

    content = spreadsheet.excel_csv(sheet)

    assert content[:3] == b"\xef\xbb\xbf"
    text = content[3:].decode("utf-8")
    assert text.split("\r\n")[0].split(";")[:6] == HEADERS[language]
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0] == list(sheet.header)
    assert [list(r) for r in rows[1:]] == [[str(c) for c in r] for r in sheet.rows]
    state_to_minor, consent_paper = VALUES[language]
    assert rows[1][1:6] == state_to_minor
    consent = sheet.header.index({"pl": "Zgoda", "en": "Consent", "uk": "Згода"}[language])
    assert rows[1][consent : consent + 2] == consent_paper
    assert len(rows) == 3


async def test_the_xlsx_export_reads_back_with_descriptions_and_no_formula() -> None:
    setup = await edition_with_texts()
    sheet = await exports.nominations(setup.edition.id, "en")

    book = load_workbook(io.BytesIO(spreadsheet.xlsx(sheet)))
    page = book.active
    assert page is not None
    read = [[("" if c.value is None else c.value) for c in row] for row in page.iter_rows()]

    assert read[0] == list(sheet.header)
    assert read[1:] == [list(r) for r in sheet.rows]
    assert page.title == "Nominations A.D. 2025"
    first, second = [c for c in sheet.header if c.startswith("Description: ")][:2]
    assert column(sheet, first) == ["Runs a bilingual reading club.", SECRET]
    # Formula-looking text is guarded and stored as text, never as a formula.
    assert column(sheet, second) == ['\'=HYPERLINK("http://evil.example")', ""]
    assert page.cell(row=2, column=sheet.header.index(second) + 1).data_type == "s"
    assert column(sheet, "Links") == ["https://club.example.org", "https://bohdan.example.org"]
    assert column(sheet, "Attachments") == ["scan 1.png (1 KB)", "scan 2.png (1 KB)"]
    assert column(sheet, "Language of the form") == ["English", "English"]


async def test_a_text_under_a_criterion_since_removed_gets_a_column_of_its_own() -> None:
    setup = await edition_with_texts()
    first = setup.criteria[0]
    await Nomination.update({Nomination.descriptions: json.dumps({str(first): "Kept.", "999999": "Orphaned."})}).where(
        Nomination.id == setup.nominations[0]
    )

    sheet = await exports.nominations(setup.edition.id, "en")

    assert column(sheet, "A criterion no longer in the edition") == ["Orphaned.", ""]
    assert len({len(row) for row in sheet.rows} | {len(sheet.header)}) == 1


async def test_the_scores_export_has_the_criteria_by_name_and_the_scores_as_numbers() -> None:
    setup = await edition_with_texts()
    ewa = setup.jurors[0]
    await declare_none(setup, ewa)
    await submit_scores(setup, ewa, setup.nominations[0], 7, comment="Strong.")

    sheet = await exports.scores(setup.edition.id, "pl")
    page = load_workbook(io.BytesIO(spreadsheet.xlsx(sheet))).active
    assert page is not None
    read = [[c.value for c in row] for row in page.iter_rows()]

    criteria = [c.name("pl") for c in setup.edition.criteria]
    assert read[0][:4] == ["Numer", "Kategoria", "Kandydat", "Członek Kapituły"]
    assert read[0][4 : 4 + len(criteria)] == [f"{name} (waga 1)" for name in criteria]
    assert read[1][:4] == ["2025/0001", "B: osoba fizyczna", "Olena Kovalenko", "Ewa Pawlak"]
    assert read[1][4 : 4 + len(criteria)] == [7] * len(criteria)
    assert read[1][4 + len(criteria)] == "Strong."
    assert len(read) == 2


async def conflicted_tomasz(setup: Scoring) -> None:
    tomasz = setup.jurors[2]
    await declare_none(setup, tomasz, except_for=(setup.nominations[1],))
    await conflict_declarations.declare(
        juror_id=tomasz.id,
        edition_id=setup.edition.id,
        nomination_id=setup.nominations[1],
        conflicted=True,
        kind=ConflictKind.FAMILY,
        reason="My cousin.",
    )


async def test_the_juror_pack_leaves_out_the_nomination_the_juror_is_conflicted_on() -> None:
    setup = await edition_with_texts()
    ewa, _, tomasz = setup.jurors
    await declare_none(setup, ewa)
    await conflicted_tomasz(setup)

    staff = pdf_text(pdf.render(await dossier_pack.for_staff(setup.edition.id, "en")))
    chair = pdf_text(pdf.render(await dossier_pack.for_juror(setup.edition.id, ewa.id, "en")))
    own = pdf_text(pdf.render(await dossier_pack.for_juror(setup.edition.id, tomasz.id, "en")))

    for text in (staff, chair, own):
        assert "Dossiers for the jury, A.D. 2025" in text
        assert "Olena Kovalenko" in text
        assert "Runs a bilingual reading club." in text
        assert "https://club.example.org" in text
        assert "scan 1.png" in text
    for text in (staff, chair):
        assert "Nominations in this pack: 2" in text
        assert SECRET in text
        assert "Piotr Zieliński" in text
        assert "scan 2.png" in text
    assert "Nominations in this pack: 1" in own
    for leak in ("Bohdan", "Melnyk", SECRET, "Piotr Zieliński", "scan 2.png", "bohdan.example.org", "2025/0002"):
        assert leak not in own
    # The cover, then one page per nomination.
    assert len(PdfReader(io.BytesIO(pdf.render(await dossier_pack.for_staff(setup.edition.id, "en")))).pages) == 3


async def test_the_juror_pack_waits_for_the_declarations_and_is_nobody_elses() -> None:
    setup = await edition_with_texts()
    other = await make_user("olga@jury.example.net", (), name="Olga")
    with pytest.raises(DeclareFirst):
        await dossier_pack.for_juror(setup.edition.id, setup.jurors[1].id, "en")
    with pytest.raises(NotFound):
        await dossier_pack.for_juror(setup.edition.id, other.id, "en")


async def test_the_pack_through_http_for_the_juror_the_clerk_and_the_others(client: Client) -> None:
    setup = await edition_with_texts()
    other = await scoring_edition(year=2024, jurors=(("olga@jury.example.net", "Olga Lis"),))
    await conflicted_tomasz(setup)
    base = f"/jury/editions/{setup.edition.id}"

    anonymous = await client.get(f"{base}/dossiers.pdf")
    assert (anonymous.status_code, anonymous.headers["location"].startswith("/login?next=")) == (302, True)
    exported = await client.get(f"/staff/editions/{setup.edition.id}/exports/nominations.xlsx")
    assert (exported.status_code, exported.headers["location"].startswith("/login?next=")) == (302, True)

    await logged_in(client, other.jurors[0])
    refused = await client.get(f"{base}/dossiers.pdf")
    assert refused.status_code == 404
    assert "Olena" not in refused.text
    assert (await client.get(f"/staff/editions/{setup.edition.id}/exports/nominations.xlsx")).status_code == 403

    client.cookies.clear()
    await logged_in(client, setup.jurors[1])  # Marta has not declared yet
    early = await client.get(f"{base}/dossiers.pdf")
    assert (early.status_code, early.headers["location"]) == (302, f"{base}/conflicts")

    client.cookies.clear()
    await logged_in(client, setup.jurors[2])
    page = await client.get(base)
    assert f'href="{base}/dossiers.pdf"' in page.text
    pack = await client.get(f"{base}/dossiers.pdf")
    assert pack.status_code == 200
    assert pack.headers["content-type"] == "application/pdf"
    assert pack.headers["cache-control"] == "no-store"
    text = pdf_text(pack.content)
    assert "Olena Kovalenko" in text
    assert "Bohdan" not in text
    assert SECRET not in text


async def test_the_clerk_downloads_the_exports_and_the_pack(client: Client) -> None:
    setup = await edition_with_texts()
    await logged_in(client, setup.clerk)
    staff = f"/staff/editions/{setup.edition.id}"

    listing = await client.get(f"{staff}/nominations")
    for link in ("/exports/nominations.xlsx", "/exports/nominations-excel.csv", "/dossiers.pdf", "/nominations.csv"):
        assert f'href="{staff}{link}"' in listing.text
    scoring = await client.get(f"{staff}/scoring")
    for link in ("/exports/scores.xlsx", "/exports/scores-excel.csv"):
        assert f'href="{staff}{link}"' in scoring.text

    xlsx = await client.get(f"{staff}/exports/nominations.xlsx?language=uk")
    assert xlsx.headers["content-type"] == spreadsheet.XLSX_TYPE
    assert xlsx.headers["content-disposition"] == "attachment; filename*=UTF-8''nominations-A.D.-2025.xlsx"
    page = load_workbook(io.BytesIO(xlsx.content)).active
    assert page is not None
    assert [c.value for c in page[1]][:6] == HEADERS["uk"]

    excel = await client.get(f"{staff}/exports/nominations-excel.csv")
    assert excel.headers["content-type"] == "text/csv; charset=utf-8"
    assert excel.content.startswith(b"\xef\xbb\xbf" + ";".join(HEADERS["en"]).encode())
    scores = await client.get(f"{staff}/exports/scores-excel.csv?language=pl")
    assert scores.content.startswith("\ufeffNumer;Kategoria;Kandydat;".encode())
    old = await client.get(f"{staff}/nominations.csv")  # the raw export for scripts stays as it was
    assert old.content.startswith(b"\xef\xbb\xbfreference,state,category")

    pack = await client.get(f"{staff}/dossiers.pdf")
    assert pack.status_code == 200
    assert pack.headers["content-disposition"] == "attachment; filename*=UTF-8''dossiers-A.D.-2025.pdf"
    assert "Bohdan Melnyk" in pdf_text(pack.content)


async def test_no_pack_before_a_nomination_is_shortlisted(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await checked_edition(clerk_id=clerk.id)
    await paper_nomination(edition, clerk_id=clerk.id)

    page = await client.get(f"/staff/editions/{edition.id}/dossiers.pdf")

    assert page.status_code == 409
    assert "The dossier pack is available once nominations are shortlisted for the jury." in page.text
    assert "Olena" not in page.text


async def test_the_dossiers_have_a_print_button_that_needs_no_inline_script(client: Client) -> None:
    setup = await edition_with_texts()
    await declare_none(setup, setup.jurors[0])
    await logged_in(client, setup.clerk)
    staff = await client.get(f"/staff/nominations/{setup.nominations[0]}")
    client.cookies.clear()
    await logged_in(client, setup.jurors[0])
    juror = await client.get(f"/jury/nominations/{setup.nominations[0]}")

    for page in (staff, juror):
        assert page.status_code == 200
        assert '<button type="button" class="secondary" data-print hidden>Print</button>' in page.text
        assert "To print this page, use your browser's print command (Ctrl+P)." in page.text
        assert "window.print" not in page.text
        script = re.findall(r'<script src="(/static/js/print\.[^"]+\.js)" defer></script>', page.text)
        assert len(script) == 1
        assert "window.print()" in (await client.get(script[0])).text


async def test_the_minutes_end_with_signature_lines_for_the_chair_and_the_jurors(client: Client) -> None:
    setup = await scored_edition()
    await deliberated(setup)
    await deliberation.recommend(chair_id=setup.chair.id, edition_id=setup.edition.id)

    document = await minutes.minutes(setup.edition.id, "pl")
    assert document.signatures == pdf.Signatures(
        heading="Podpisy",
        people=(("Ewa Pawlak", "przewodniczący"), ("Marta Krawczyk", "członek"), ("Tomasz Dudek", "członek")),
        signature_label="podpis",
        date_label="data",
    )
    content = pdf.render(await minutes.minutes(setup.edition.id, "en"))
    text = pdf_text(content)
    # Nothing is justified (TJ with spacing adjustments): a title's words are no longer stretched apart.
    streams = [page_stream(page) for page in PdfReader(io.BytesIO(content)).pages]
    assert [re.findall(r"\bTJ\b", stream) for stream in streams] == [[] for _ in streams]
    assert text.index("Signatures") > text.index("Recommendation")
    for line in ("Ewa Pawlak (chair)", "Marta Krawczyk (member)", "Tomasz Dudek (member)"):
        assert line in text
    assert text.count("signature") == 3

    sheet = await exports.nominations(setup.edition.id, "pl")
    assert list(zip(column(sheet, "Kandydat"), column(sheet, "Tytuł lub wyróżnienie"), strict=True)) == [
        ("Olena Kovalenko", "tytuł"),
        ("Bohdan Melnyk", "wyróżnienie"),
        ("Iryna Shevchenko", ""),  # her proposal failed
    ]

    await logged_in(client, setup.clerk)
    page = await client.get(f"/staff/editions/{setup.edition.id}/minutes?language=en")
    assert '<p class="signature-name">Tomasz Dudek (member)</p>' in page.text
