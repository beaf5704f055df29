"""ASVS V5 file handling: antivirus scanning through a real clamd, the pixel-size limit, the
storage quota, and the size and type rules, on every upload path (docs/uploads.md)."""

from __future__ import annotations

import datetime as dt
import logging
import struct
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from markupsafe import escape

from ambassador import files, i18n
from ambassador.antivirus import Address, Clamd, ScanUnavailable, parse_address, parse_answer
from ambassador.domain import approval, deliberation, formal_check, uploads
from ambassador.domain.approval import DecisionData, Outcome
from ambassador.domain.nominations import Upload
from ambassador.domain.uploads import UploadRules
from ambassador.enums import ApprovingBody
from ambassador.errors import InvalidInput
from ambassador.settings import ConfigurationError, Settings, read_settings
from ambassador.tables import Attachment, Decision, Nomination
from ambassador.web.app import create_app
from tests.clamav import EICAR, REPORTED_AS, clamd_daemon
from tests.clerk_factories import checked_edition, deadline_of
from tests.conftest import Client
from tests.deliberation_factories import deliberated, scored_edition
from tests.factories import PDF, make_edition, make_user, nomination_data
from tests.smtp import RecordingHandler, smtp_server
from tests.test_nomination_public import confirmed_nomination, counts, open_form, pdf_file, send_form, use_language

INFECTED_PDF = PDF[:-6] + b"\n% " + EICAR + b"\n" + PDF[-6:]


def png(width: int, height: int) -> bytes:
    """A PNG whose header (IHDR) claims ``width`` x ``height``; the pixels themselves are not there."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def jpeg(width: int, height: int) -> bytes:
    """A JPEG whose frame header (SOF0) claims ``width`` x ``height``."""
    frame = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    scan = b"\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00"
    return b"\xff\xd8" + frame + scan + b"\x00" * 10 + b"\xff\xd9"


@pytest.fixture
def smtp() -> Iterator[tuple[RecordingHandler, str]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
async def scanned(settings: Settings, clamd: str) -> AsyncIterator[Client]:
    """The app with AMBASSADOR_CLAMD set to the session's real clamd."""
    async with AsyncTestClient(app=create_app(settings.with_changes(clamd=clamd))) as test_client:
        test_client.follow_redirects = False
        yield test_client


@contextmanager
def captured(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Capture our loggers' records: create_app leaves the ``ambassador`` logger only its own handler."""
    ours = logging.getLogger("ambassador")
    ours.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="ambassador"):
            yield
    finally:
        ours.removeHandler(caplog.handler)


def security_events(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "ambassador.security" and getattr(r, "event", None) == name]


# --- 5.4.3: antivirus -----------------------------------------------------------------------


@pytest.mark.parametrize("language", ["pl", "en", "uk"])
async def test_a_pdf_carrying_the_eicar_test_virus_is_refused_and_nothing_is_stored(
    scanned: Client, language: str, caplog: pytest.LogCaptureFixture
) -> None:
    """ASVS 5.4.3: clamd finds the test virus; the nominator is told which file, in their language."""
    use_language(scanned, language)
    await make_edition()
    form = await open_form(scanned)
    files_sent = pdf_file("clean.pdf") + pdf_file("Załącznik.pdf", INFECTED_PDF)

    with captured(caplog):
        refused = await send_form(scanned, "/nominate", form.fields(), files_sent)

    assert refused.status_code == 400
    message = i18n.translate(language, uploads.MALWARE, name="Załącznik.pdf")
    assert str(escape(message)) in refused.text
    assert 'id="f-attachments-error"' in refused.text
    assert await counts() == (0, 0, 0)
    [event] = security_events(caplog, "upload.malware")
    assert (event.outcome, event.signature) == ("blocked", REPORTED_AS)  # type: ignore[attr-defined]


async def test_clean_files_are_scanned_and_stored(scanned: Client) -> None:
    """ASVS 5.4.3: a clean PDF, JPEG and PNG pass the real scanner and are stored as sent."""
    use_language(scanned, "en")
    await make_edition()
    form = await open_form(scanned)
    photo, chart = jpeg(800, 600), png(640, 480)
    sent = [
        *pdf_file("letter.pdf"),
        ("attachments", ("photo.jpg", photo, "image/jpeg")),
        ("attachments", ("chart.png", chart, "image/png")),
    ]

    response = await send_form(scanned, "/nominate", form.fields(), sent)

    assert response.status_code == 303
    stored = await Attachment.select(Attachment.filename, Attachment.content).order_by(Attachment.id)
    assert [(r["filename"], r["content"]) for r in stored] == [
        ("letter.pdf", PDF),
        ("photo.jpg", photo),
        ("chart.png", chart),
    ]


async def test_the_nominators_edit_is_scanned_too(
    scanned: Client, smtp: tuple[RecordingHandler, str], tmp_path: Path
) -> None:
    """ASVS 5.4.3: a file added through the private edit link is scanned before it is stored."""
    handler, smtp_url = smtp
    use_language(scanned, "en")
    await make_edition()
    manage = await confirmed_nomination(scanned, smtp_url, tmp_path, handler)
    form = await open_form_at(scanned, f"{manage}/edit")

    refused = await send_form(scanned, f"{manage}/edit", form, pdf_file("more.pdf", INFECTED_PDF))

    assert refused.status_code == 400
    assert "The file more.pdf contains malware and was not accepted. Nothing was saved." in refused.text
    assert await Attachment.count() == 1


async def open_form_at(client: Client, url: str) -> dict[str, str | list[str]]:
    from tests.test_nomination_public import FormPage

    page = await client.get(url)
    assert page.status_code == 200
    return FormPage(page.text).fields()


async def test_a_stopped_or_failing_clamd_refuses_every_upload(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """ASVS 5.4.3 (fail closed): clamd answering an error (over its StreamMaxLength) or not running
    at all: the upload is refused with "try again in a few minutes" and nothing is stored."""
    await make_edition()
    with clamd_daemon(tmp_path / "small", stream_max_length="1K") as address:
        async with AsyncTestClient(app=create_app(settings.with_changes(clamd=address))) as client:
            client.follow_redirects = False
            use_language(client, "en")
            form = await open_form(client)
            assert await Clamd(address).scan(PDF) is None  # the daemon works for small files
            big = PDF[:-6] + b"0" * 4096 + PDF[-6:]
            with captured(caplog):
                over_limit = await send_form(client, "/nominate", form.fields(), pdf_file("big.pdf", big))
    # The daemon has stopped now; the same app and address.
    async with AsyncTestClient(app=create_app(settings.with_changes(clamd=address))) as client:
        client.follow_redirects = False
        use_language(client, "en")
        form = await open_form(client)
        with captured(caplog):
            stopped = await send_form(client, "/nominate", form.fields(), pdf_file())
            without_files = await send_form(client, "/nominate", form.fields())

    unavailable = "Files cannot be checked for viruses right now, so nothing was saved."
    assert (over_limit.status_code, unavailable in over_limit.text) == (400, True)
    assert (stopped.status_code, unavailable in stopped.text) == (400, True)
    assert "Please try again in a few minutes." in stopped.text
    # A nomination without files needs no scanner.
    assert without_files.status_code == 303
    assert (await Nomination.count(), await Attachment.count()) == (1, 0)
    events = security_events(caplog, "upload.scan_unavailable")
    assert [e.outcome for e in events] == ["failure", "failure"]  # type: ignore[attr-defined]
    assert [r.levelname for r in caplog.records if r.name == "ambassador.uploads"] == ["ERROR", "ERROR"]


async def test_the_paper_entry_and_the_decision_pdf_are_scanned(clamd: str) -> None:
    """ASVS 5.4.3: the clerk's paper nomination and the signed decision PDF go through clamd too."""
    rules = UploadRules(scanner=Clamd(clamd))
    clerk = await make_user("clerk@example.org")
    edition = await checked_edition(clerk_id=clerk.id)
    with pytest.raises(InvalidInput) as paper:
        await formal_check.enter_paper_nomination(
            actor_id=clerk.id,
            edition_id=edition.id,
            data=nomination_data(edition),
            uploads=[Upload("skan.pdf", INFECTED_PDF)],
            received_on=deadline_of(edition),
            base_url="http://testserver.local",
            rules=rules,
        )
    assert paper.value.errors == {"attachments": uploads.MALWARE}
    assert paper.value.errors["attachments"].params == {"name": "skan.pdf"}  # type: ignore[attr-defined]
    assert await Nomination.count() == 0

    setup = await scored_edition(year=2026)
    await deliberated(setup)
    await deliberation.recommend(chair_id=setup.chair.id, edition_id=setup.edition.id)
    listed = await approval.recommended(setup.edition.id)

    def decision(document: bytes) -> DecisionData:
        return DecisionData(
            kind=ApprovingBody.COUNCIL_RESOLUTION,
            number="LXXXV/2418/22",
            decided_on=dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1),
            document=Upload("uchwała.pdf", document),
            outcomes={item.nomination_id: Outcome(item.distinction) for item in listed},
        )

    with pytest.raises(InvalidInput) as infected:
        await approval.record_decision(
            acknowledged=True,
            actor_id=setup.clerk.id,
            edition_id=setup.edition.id,
            data=decision(INFECTED_PDF),
            rules=rules,
        )
    assert infected.value.errors == {"document": uploads.MALWARE}
    assert await Decision.count() == 0
    await approval.record_decision(
        acknowledged=True, actor_id=setup.clerk.id, edition_id=setup.edition.id, data=decision(PDF), rules=rules
    )
    assert await Decision.count() == 1


async def test_the_client_reads_clamds_answers() -> None:
    """ASVS 5.4.3: OK, FOUND and error answers; an address nothing listens on is "unavailable"."""
    assert parse_answer(b"stream: OK\0") is None
    assert parse_answer(b"stream: Win.Test.EICAR_HDB-1 FOUND\0") == "Win.Test.EICAR_HDB-1"
    with pytest.raises(ScanUnavailable):
        parse_answer(b"INSTREAM size limit exceeded. ERROR\0")
    with pytest.raises(ScanUnavailable):
        await Clamd("unix:/nonexistent/clamd.ctl").scan(PDF)
    assert parse_address("unix:/run/clamav/clamd.ctl") == Address(path="/run/clamav/clamd.ctl")
    assert parse_address("tcp:clamav.internal:3310") == Address(host="clamav.internal", port=3310)
    assert parse_address("tcp:[::1]:3310") == Address(host="::1", port=3310)
    for wrong in ("clamd.ctl", "unix:relative", "tcp:host", "tcp:host:99999", "http://x"):
        with pytest.raises(ValueError, match="is not unix:"):
            parse_address(wrong)
    with pytest.raises(ConfigurationError, match="AMBASSADOR_CLAMD"):
        Settings(clamd="localhost:3310").check()
    assert read_settings({"AMBASSADOR_CLAMD": "tcp:127.0.0.1:3310"}).clamd == "tcp:127.0.0.1:3310"


# --- 5.2.6: pixel size ----------------------------------------------------------------------


def test_the_pixel_limit_is_read_from_the_header() -> None:
    """ASVS 5.2.6: 40 megapixels and 20,000 pixels a side at most, read without decoding."""
    assert files.image_too_large(png(30000, 30000), files.PNG)  # a pixel flood: Pillow's bomb limit
    assert files.image_too_large(png(7000, 6000), files.PNG)  # 42 MP
    assert files.image_too_large(png(20001, 10), files.PNG)
    assert files.image_too_large(jpeg(9000, 9000), files.JPEG)
    assert not files.image_too_large(png(8000, 5000), files.PNG)  # exactly 40 MP
    assert not files.image_too_large(png(20000, 2000), files.PNG)
    assert not files.image_too_large(jpeg(800, 600), files.JPEG)
    assert not files.image_too_large(PDF, files.PDF)


async def test_an_image_claiming_too_many_pixels_is_refused(client: Client) -> None:
    """ASVS 5.2.6: a PNG whose IHDR claims 30000 x 30000 is refused with a clear message; a small one is stored."""
    use_language(client, "en")
    await make_edition()
    form = await open_form(client)

    flood = await send_form(
        client, "/nominate", form.fields(), [("attachments", ("flood.png", png(30000, 30000), "image/png"))]
    )
    assert flood.status_code == 400
    assert "The image flood.png is too large: at most 40 megapixels and 20,000 pixels on a side." in flood.text
    assert await counts() == (0, 0, 0)

    small = await send_form(client, "/nominate", form.fields(), [("attachments", ("ok.png", png(2, 2), "image/png"))])
    assert small.status_code == 303
    assert await Attachment.count() == 1


# --- 5.2.4: quota ---------------------------------------------------------------------------


async def test_the_storage_quota_pauses_uploads(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    """ASVS 5.2.4: over AMBASSADOR_UPLOAD_QUOTA_BYTES the upload is refused ("contact the organisers"),
    logged as an error; nominations without files still go through."""
    await make_edition()
    quota = len(PDF) * 3 // 2
    async with AsyncTestClient(app=create_app(settings.with_changes(upload_quota_bytes=quota))) as client:
        client.follow_redirects = False
        use_language(client, "en")
        form = await open_form(client)
        first = await send_form(client, "/nominate", form.fields(), pdf_file())
        form = await open_form(client)
        with captured(caplog):
            second = await send_form(client, "/nominate", form.fields(), pdf_file())
        form = await open_form(client)
        without_files = await send_form(client, "/nominate", form.fields())

    assert first.status_code == 303
    assert second.status_code == 400
    assert "Uploads are paused: the storage for attachments is full." in second.text
    assert "Please contact the organisers." in second.text
    assert without_files.status_code == 303
    assert (await Nomination.count(), await Attachment.count()) == (2, 1)
    assert await uploads.stored_bytes() == len(PDF)
    [error] = [r for r in caplog.records if r.name == "ambassador.uploads"]
    assert (error.levelname, error.getMessage()) == (
        "ERROR",
        f"upload refused: the attachments' quota is full ({len(PDF)} bytes stored, {len(PDF)} more, quota {quota})",
    )
    assert [e.outcome for e in security_events(caplog, "upload.quota")] == ["denied"]  # type: ignore[attr-defined]


# --- 5.2.1, 5.2.2: size, count and type -----------------------------------------------------


async def test_size_count_and_type_are_decided_by_the_server(client: Client) -> None:
    """ASVS 5.2.1, 5.2.2: over 10 MB, more than 5 files, and content that is not PDF/JPEG/PNG
    whatever its name are refused; a polyglot is accepted by its magic bytes and stored under
    the sniffed type's extension (downloads neutralise it: tests/test_nomination_public.py
    checks the attachment disposition and the sandbox CSP)."""
    use_language(client, "en")
    await make_edition()
    form = await open_form(client)
    too_big = PDF[:-6] + b"0" * (10 * 1024 * 1024) + PDF[-6:]
    cases = [
        (pdf_file("big.pdf", too_big), "Each file may have at most 10 MB."),
        (pdf_file() * 6, "Attach at most 5 files."),
        (pdf_file("page.pdf", b"<html><script>alert(1)</script>"), "Attach only PDF, JPEG or PNG files."),
        (pdf_file("pic.svg", b"<svg onload=alert(1)>"), "Attach only PDF, JPEG or PNG files."),
    ]
    for sent, message in cases:
        refused = await send_form(client, "/nominate", form.fields(), sent)
        assert (refused.status_code, message in refused.text) == (400, True), message
    assert await counts() == (0, 0, 0)

    polyglot = b"\xff\xd8\xff\xe0\x00\x10JFIF<html><script>alert(1)</script>"
    form = await open_form(client)  # a new form: the one above keeps the PDF that passed
    accepted = await send_form(client, "/nominate", form.fields(), [("attachments", ("x.html", polyglot, "text/html"))])
    assert accepted.status_code == 303
    [stored] = await Attachment.select(Attachment.filename, Attachment.content_type)
    assert stored == {"filename": "x.jpg", "content_type": "image/jpeg"}
