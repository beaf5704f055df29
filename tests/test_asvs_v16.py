"""ASVS 5.0 chapter V16 (logging and errors): the controls of docs/security.md's table that
no other test file traces. Each test fails when its control is removed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator

import pytest

from ambassador.piccolo_conf import DB
from ambassador.settings import Settings
from ambassador.tables import Edition
from tests.conftest import SECRET, Client
from tests.factories import make_edition

HIDDEN = "edition_moved_away"
# What an error page must never show: the error, the code, the query, the key.
INTERNALS = ("Traceback", 'File "', ".py", "SELECT", "edition_moved_away", "no such table", "does not exist", SECRET)


@pytest.fixture
async def missing_table() -> AsyncIterator[None]:
    """A real fault in the middle of a request: the edition table is gone (renamed away)."""
    name = Edition._meta.tablename
    await make_edition()
    await DB.run_ddl(f'ALTER TABLE "{name}" RENAME TO "{HIDDEN}"')
    try:
        yield
    finally:
        await DB.run_ddl(f'ALTER TABLE "{HIDDEN}" RENAME TO "{name}"')


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


async def test_an_unexpected_error_gives_a_generic_page_and_json_without_internals(
    client: Client, missing_table: None
) -> None:
    """ASVS 16.5.1: an unhandled error answers a generic, localised 500 page (and generic
    JSON on the API): no stack trace, file, query, table name or secret reaches the client."""
    page = await client.get("/nominate", follow_redirects=True, headers={"accept-language": "en"})
    api = await client.get("/api/v1/editions", headers={"accept-language": "en"})

    assert page.status_code == 500
    assert "Something went wrong on our side" in page.text
    assert api.status_code == 500
    assert api.json() == {
        "status": 500,
        "title": "Something went wrong on our side",
        "detail": "The error has been logged. Please try again later.",
    }
    leaked = [s for s in INTERNALS for text in (page.text, api.text) if s in text]
    assert leaked == []


async def test_the_last_resort_handler_logs_the_error_and_the_app_keeps_serving(
    client: Client, missing_table: None, capfd: pytest.CaptureFixture[str]
) -> None:
    """ASVS 16.5.4, 16.3.4: the catch-all handler writes the unhandled error with its
    traceback to the log (not to the client), and the process goes on serving requests."""
    capfd.readouterr()
    assert (await client.get("/pl/nominate")).status_code == 500

    errors = [e for e in json_lines(capfd.readouterr().err) if e["level"] == "error"]
    assert [(e["logger"], e["message"], e["route"]) for e in errors] == [
        ("ambassador.errors", "unhandled error", "GET /pl/nominate")
    ]
    assert "Traceback" in str(errors[0]["exception"])
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/login")).status_code == 200


async def test_log_lines_are_json_with_utc_timestamps(client: Client, capfd: pytest.CaptureFixture[str]) -> None:
    """ASVS 16.2.2, 16.2.4: every log line is one JSON object (a common format any log
    processor reads) and its time is ISO 8601 in UTC with an explicit +00:00 offset."""
    capfd.readouterr()
    await client.get("/pl/")
    await client.get("/pl/laureates?q=%0a%7B%22level%22")

    lines = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]
    assert [e["path"] for e in entries if e["logger"] == "ambassador.request"] == ["/pl/", "/pl/laureates"]
    times = [dt.datetime.fromisoformat(str(e["time"])) for e in entries]
    assert {t.utcoffset() for t in times} == {dt.timedelta(0)}
    assert all(str(e["time"]).endswith("+00:00") for e in entries)


async def test_a_failed_validation_saves_nothing_of_the_change(settings: Settings) -> None:
    """ASVS 16.5.3, 2.3.3: a change refused by its checks fails closed: no row, no audit
    entry and no mail of it remain (the transaction is all or nothing)."""
    from ambassador.domain import submission
    from ambassador.domain.nominations import Upload
    from ambassador.errors import InvalidInput
    from ambassador.tables import AuditEntry, Nomination, OutboxMail
    from tests.factories import PDF, nomination_data

    edition = await make_edition()
    before = (await Nomination.count(), await AuditEntry.count(), await OutboxMail.count())
    with pytest.raises(InvalidInput):
        await submission.submit(
            edition=edition,
            data=nomination_data(edition, links="javascript:alert(1)"),
            uploads=[Upload("a.pdf", PDF)] * 6,
            submission_key="refused-key-00001",
            base_url=settings.base_url,
        )

    assert (await Nomination.count(), await AuditEntry.count(), await OutboxMail.count()) == before
