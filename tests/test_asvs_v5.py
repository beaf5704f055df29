"""ASVS 5.0 chapter V5 (files): the controls of docs/security.md's table that no other test
file traces. Each test fails when its control is removed.

Sizes, types, names and the download headers are tested in tests/test_hostile_input.py and
tests/test_nomination_public.py.
"""

from __future__ import annotations

from pathlib import Path

from ambassador.domain import submission
from ambassador.domain.nominations import Upload
from ambassador.resources import STATIC_DIR
from ambassador.settings import Settings
from ambassador.tables import Attachment
from tests.conftest import Client
from tests.factories import PDF, make_edition, nomination_data

MARKER = b"ASVS-5.3.1-UPLOADED-BYTES"
UPLOAD = PDF.replace(b"%%EOF", MARKER + b"\n%%EOF")


def files_holding(directory: Path, needle: bytes) -> list[str]:
    return [str(p) for p in directory.rglob("*") if p.is_file() and needle in p.read_bytes()]


async def test_uploads_live_in_the_database_and_no_address_serves_them_as_files(
    client: Client, settings: Settings
) -> None:
    """ASVS 5.3.1, 5.3.2: an upload is stored as a database row, never written to the static
    or data directory under its own name, so no request can reach it as a file (or run it)."""
    edition = await make_edition()
    submitted = await submission.submit(
        edition=edition,
        data=nomination_data(edition),
        uploads=[Upload("run.php.pdf", UPLOAD), Upload("../../static/x.pdf", UPLOAD)],
        submission_key="upload-key-000001",
        base_url=settings.base_url,
    )

    rows = await Attachment.select(Attachment.filename, Attachment.content).where(
        Attachment.nomination == submitted.nomination_id
    )
    assert [(r["filename"], bytes(r["content"]) == UPLOAD) for r in rows] == [("run.php.pdf", True), ("x.pdf", True)]
    assert files_holding(STATIC_DIR, MARKER) == []
    if settings.var_dir.exists():
        assert files_holding(settings.var_dir, MARKER) == []
    for path in ("/static/run.php.pdf", "/static/x.pdf", "/run.php.pdf", "/x.pdf", "/static/../x.pdf"):
        assert (await client.get(path)).status_code == 404, path
