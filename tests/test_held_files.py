"""Held files (issue 14): a form's checked attachments kept under its submission key until sent."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ambassador.db import utcnow
from ambassador.domain import held_files, retention, submission, uploads
from ambassador.domain.nominations import MAX_ATTACHMENTS, Upload
from ambassador.domain.uploads import UploadRules
from ambassador.errors import InvalidInput
from ambassador.tables import Attachment, AuditEntry, HeldFile
from tests.factories import PDF, make_edition, nomination_data

BASE = "http://testserver.local"
KEY = "held-key-0123456789"
OTHER = "other-key-0123456789"


def _pdf(marker: str) -> bytes:
    return PDF + marker.encode()


async def test_checked_files_are_held_and_listed_in_order() -> None:
    now = utcnow()
    result = await held_files.hold(
        KEY,
        [Upload("report.pdf", _pdf("1")), Upload("letter.pdf", _pdf("22"))],
        closes_at=now + dt.timedelta(days=30),
        now=now,
    )
    assert result.problem is None
    assert [(f.filename, f.content_type, f.size) for f in result.held] == [
        ("report.pdf", "application/pdf", len(PDF) + 1),
        ("letter.pdf", "application/pdf", len(PDF) + 2),
    ]
    assert [f.expires_at for f in result.held] == [now + dt.timedelta(hours=24)] * 2
    assert await held_files.held(KEY, now) == result.held
    assert await held_files.held(OTHER, now) == []


async def test_a_refused_file_costs_no_other_file() -> None:
    now = utcnow()
    result = await held_files.hold(
        KEY,
        [Upload("fake.pdf", b"MZ not a pdf"), Upload("good.pdf", _pdf("a"))],
        closes_at=now + dt.timedelta(days=1),
        now=now,
    )
    assert result.problem == "Attach only PDF, JPEG or PNG files. A file's content did not match these types."
    assert [f.filename for f in result.held] == ["good.pdf"]


async def test_the_same_file_twice_is_held_once_and_the_count_is_limited() -> None:
    now = utcnow()
    closes = now + dt.timedelta(days=1)
    await held_files.hold(KEY, [Upload("a.pdf", _pdf("a"))], closes_at=closes, now=now)
    again = await held_files.hold(KEY, [Upload("a again.pdf", _pdf("a"))], closes_at=closes, now=now)
    assert (again.problem, [f.filename for f in again.held]) == (None, ["a.pdf"])
    many = [Upload(f"f{i}.pdf", _pdf(f"many {i}")) for i in range(MAX_ATTACHMENTS)]
    full = await held_files.hold(KEY, many, closes_at=closes, now=now)
    assert str(full.problem) == "Attach at most %(limit)d files."
    assert len(full.held) == MAX_ATTACHMENTS
    assert await HeldFile.count() == MAX_ATTACHMENTS


async def test_held_files_expire_at_the_window_close_if_that_comes_first() -> None:
    now = utcnow()
    closes = now + dt.timedelta(hours=2)
    result = await held_files.hold(KEY, [Upload("a.pdf", _pdf("a"))], closes_at=closes, now=now)
    assert [f.expires_at for f in result.held] == [closes]
    assert await held_files.held(KEY, closes) == []
    late = await held_files.hold(KEY, [Upload("b.pdf", _pdf("b"))], closes_at=closes, now=closes)
    assert (late.held, await HeldFile.count()) == ([], 1)


async def test_remove_only_with_the_files_key() -> None:
    now = utcnow()
    closes = now + dt.timedelta(days=1)
    mine = (await held_files.hold(KEY, [Upload("a.pdf", _pdf("a"))], closes_at=closes, now=now)).held[0]
    assert await held_files.remove(OTHER, mine.id) is False
    assert await held_files.remove(KEY, mine.id) is True
    assert await held_files.remove(KEY, mine.id) is False
    assert await held_files.held(KEY, now) == []


async def test_take_gives_the_content_once_and_extend_keeps_files_longer() -> None:
    now = utcnow()
    closes = now + dt.timedelta(days=10)
    await held_files.hold(KEY, [Upload("a.pdf", _pdf("a"))], closes_at=closes, now=now)
    assert await held_files.extend(KEY, closes, now=now) == 1
    later = now + dt.timedelta(days=5)
    assert [f.expires_at for f in await held_files.held(KEY, later)] == [closes]
    taken = await held_files.take(KEY, later)
    assert taken == [(Upload("a.pdf", _pdf("a")), "application/pdf")]
    assert (await held_files.take(KEY, later), await HeldFile.count()) == ([], 0)


async def test_an_invalid_key_holds_nothing() -> None:
    now = utcnow()
    with pytest.raises(InvalidInput):
        await held_files.hold("short", [Upload("a.pdf", PDF)], closes_at=now + dt.timedelta(days=1), now=now)
    assert (await held_files.held("short"), await held_files.take("x" * 100)) == ([], [])


async def test_held_files_count_toward_the_quota() -> None:
    now = utcnow()
    closes = now + dt.timedelta(days=1)
    await held_files.hold(KEY, [Upload("a.pdf", _pdf("a"))], closes_at=closes, now=now)
    assert await uploads.stored_bytes() == len(PDF) + 1
    full = UploadRules(quota_bytes=len(PDF) * 2)
    refused = await held_files.hold(OTHER, [Upload("b.pdf", _pdf("b"))], closes_at=closes, rules=full, now=now)
    assert (refused.problem, refused.held) == (uploads.QUOTA_FULL, [])


async def test_retention_erases_expired_held_files_and_says_so() -> None:
    now = utcnow()
    await held_files.hold(KEY, [Upload("a.pdf", _pdf("a"))], closes_at=now + dt.timedelta(hours=1), now=now)
    await held_files.hold(OTHER, [Upload("b.pdf", _pdf("b"))], closes_at=now + dt.timedelta(days=3), now=now)
    later = now + dt.timedelta(hours=2)
    dry = await retention.run(now=later, dry_run=True)
    assert (dry.held_files_erased, await HeldFile.count()) == (1, 2)
    report = await retention.run(now=later)
    assert report.held_files_erased == 1
    assert [r["submission_key"] for r in await HeldFile.select(HeldFile.submission_key)] == [OTHER]
    entry = await AuditEntry.select(AuditEntry.data).where(AuditEntry.action == "held_files.expired_erased").first()
    assert entry is not None
    assert json.loads(entry["data"]) == {"count": 1}


async def test_a_form_sent_after_its_files_expired_is_sent_without_them() -> None:
    edition = await make_edition()
    now = utcnow()
    await held_files.hold(KEY, [Upload("a.pdf", _pdf("a"))], closes_at=edition.closes_at, now=now)
    later = now + dt.timedelta(hours=held_files.HOLD_HOURS, seconds=1)

    sent = await submission.submit(
        edition=edition, data=nomination_data(edition), uploads=[], submission_key=KEY, base_url=BASE, now=later
    )

    assert await Attachment.count().where(Attachment.nomination == sent.nomination_id) == 0
    # The expired file is not read in the sending transaction; the retention job erases it.
    assert await held_files.erase_expired(later) == 1
    assert await HeldFile.count() == 0


async def test_a_refused_form_holds_its_good_files_and_the_next_send_attaches_them_first() -> None:
    edition = await make_edition()
    with pytest.raises(InvalidInput) as refused:
        await submission.submit(
            edition=edition,
            data=nomination_data(edition, nominator_name=""),
            uploads=[Upload("first.pdf", _pdf("1")), Upload("bad.pdf", b"not a file")],
            submission_key=KEY,
            base_url=BASE,
        )
    assert refused.value.errors == {
        "nominator_name": "This field is required.",
        "attachments": "Attach only PDF, JPEG or PNG files. A file's content did not match these types.",
    }
    sent = await submission.submit(
        edition=edition,
        data=nomination_data(edition),
        uploads=[Upload("second.pdf", _pdf("2"))],
        submission_key=KEY,
        base_url=BASE,
    )
    rows = (
        await Attachment.select(Attachment.filename)
        .where(Attachment.nomination == sent.nomination_id)
        .order_by(Attachment.id)
    )
    assert [r["filename"] for r in rows] == ["first.pdf", "second.pdf"]
    assert await HeldFile.count() == 0
