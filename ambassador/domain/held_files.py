"""Held files: a citizen's attachments kept on the server until the form is sent.

A form that comes back with a problem (a missing field, a language switch, a saved draft)
cannot give the browser its files back: a file input is always empty when a page is shown.
So every file that passed its checks (type, size, count, pixels, the antivirus scan and the
quota, the same as for a sent nomination) is held here under the form's submission key, the
random key of the rendered form, and listed on the form again as "kept". Sending the form
stores them as the nomination's attachments (:func:`take`, in the sending transaction).

Held files expire when the edition's window closes or after :data:`HOLD_HOURS`, whichever
comes first; a saved draft may extend them to the window's close (:func:`extend`). Expired
ones are never shown or used, and the retention job erases them (:func:`erase_expired`).
They count toward the attachments' storage quota while they are held.

The submission key is the only way to reach them, as it is the only way to send the form:
whoever holds the page holds the key. Nothing here is ever served back as a download.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from ambassador import files
from ambassador.db import utcnow, write_transaction
from ambassador.domain import audit
from ambassador.domain.nomination_rules import check_uploads, screen
from ambassador.domain.nominations import MAX_ATTACHMENTS, Upload
from ambassador.domain.uploads import QUOTA_FULL, SCAN_UNAVAILABLE, UploadRules
from ambassador.errors import N_, InvalidInput, Message
from ambassador.tables import HeldFile

HOLD_HOURS = 24
# Refusals that are not about one file: the scanner is down or the storage is full.
STOPPING = (SCAN_UNAVAILABLE, QUOTA_FULL)
# The submission key's shape (``submission.SUBMISSION_KEY_RE``; repeated here to keep the
# import one way: submission uses this module).
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def valid_key(key: str) -> bool:
    return 16 <= len(key) <= 64 and set(key) <= _KEY_CHARS


@dataclass(frozen=True)
class Held:
    """A held file as the form lists it (its content is read only when the form is sent)."""

    id: int
    filename: str
    content_type: str
    size: int
    expires_at: dt.datetime


@dataclass(frozen=True)
class HoldResult:
    """Every file held under the key after :func:`hold`, and the problem of the first file
    that was not kept (a msgid or :class:`Message`), or None when every new file was kept."""

    held: list[Held]
    problem: str | None


def expiry(closes_at: dt.datetime, now: dt.datetime) -> dt.datetime:
    """When files held now expire: the window's close or :data:`HOLD_HOURS` later, the earlier."""
    return min(closes_at, now + dt.timedelta(hours=HOLD_HOURS))


async def held(key: str, now: dt.datetime | None = None) -> list[Held]:
    """The files held under ``key`` that have not expired, in the order they were held."""
    if not valid_key(key):
        return []
    rows = (
        await HeldFile.select(HeldFile.id, HeldFile.filename, HeldFile.content_type, HeldFile.size, HeldFile.expires_at)
        .where((HeldFile.submission_key == key) & (HeldFile.expires_at > (now or utcnow())))
        .order_by(HeldFile.id)
    )
    return [Held(r["id"], r["filename"], r["content_type"], r["size"], r["expires_at"]) for r in rows]


async def _digests(key: str, now: dt.datetime) -> set[str]:
    rows = await HeldFile.select(HeldFile.sha256).where((HeldFile.submission_key == key) & (HeldFile.expires_at > now))
    return {r["sha256"] for r in rows}


async def hold(
    key: str,
    uploads: list[Upload],
    *,
    closes_at: dt.datetime,
    rules: UploadRules | None = None,
    now: dt.datetime | None = None,
) -> HoldResult:
    """Keep each upload that passes its checks under ``key``; say which one did not and why.

    Each file is checked on its own, so one refused file does not cost the others. A file
    whose content is already held under the key (the same file chosen again, a double click)
    is not held twice. At most :data:`~ambassador.domain.nominations.MAX_ATTACHMENTS` files
    are held per key. Nothing is held for an invalid key or after ``closes_at``. The new
    files expire at :func:`expiry`; the key's earlier files keep their (possibly later) expiry.
    """
    now = now or utcnow()
    if not valid_key(key):
        raise InvalidInput({"form": N_("The form is incomplete. Please reload the page and try again.")})
    if closes_at <= now:
        return HoldResult([], None)
    problem: str | None = None
    seen = await _digests(key, now)
    count = len(seen)
    keep: list[tuple[Upload, str, str]] = []
    for upload in uploads:
        digest = hashlib.sha256(upload.data).hexdigest()
        if digest in seen:
            continue
        accepted, refused = check_uploads([upload], existing=count)
        if not refused:
            try:
                await screen(accepted, rules)
            except InvalidInput as exc:
                refused = exc.errors["attachments"]
        if refused:
            problem = problem or refused
            if refused in STOPPING:
                break  # the same for every other file: not checked (nor logged) again
            continue
        seen.add(digest)
        count += 1
        keep.extend((u, content_type, digest) for u, content_type in accepted)
    if keep:
        until = expiry(closes_at, now)
        async with write_transaction():
            # Counted again under the write lock: two posts of one form at once hold no more
            # than the limit together.
            if len(await _digests(key, now)) + len(keep) > MAX_ATTACHMENTS:
                problem = Message(N_("Attach at most %(limit)d files."), limit=MAX_ATTACHMENTS)
                keep = []
            for upload, content_type, digest in keep:
                await HeldFile(
                    submission_key=key,
                    filename=files.safe_filename(upload.filename, content_type),
                    content_type=content_type,
                    size=len(upload.data),
                    sha256=digest,
                    content=upload.data,
                    created_at=now,
                    expires_at=until,
                ).save()
    return HoldResult(await held(key, now), problem)


async def remove(key: str, file_id: int) -> bool:
    """Forget one held file of ``key`` (the citizen's "remove"); whether there was one."""
    if not valid_key(key):
        return False
    async with write_transaction():
        rows = (
            await HeldFile.delete()
            .where((HeldFile.id == file_id) & (HeldFile.submission_key == key))
            .returning(HeldFile.id)
        )
    return bool(rows)


async def extend(key: str, until: dt.datetime, now: dt.datetime | None = None) -> int:
    """Keep the key's live files until ``until`` (a saved draft: the window's close); how many.

    Files that have already expired stay expired: they are not brought back.
    """
    if not valid_key(key):
        return 0
    async with write_transaction():
        rows = (
            await HeldFile.update({HeldFile.expires_at: until})
            .where((HeldFile.submission_key == key) & (HeldFile.expires_at > (now or utcnow())))
            .returning(HeldFile.id)
        )
    return len(rows)


async def take(key: str, now: dt.datetime | None = None) -> list[tuple[Upload, str]]:
    """The key's live files with their checked content types, deleted from the holding.

    Called inside the sending transaction, which stores them as attachments: if it fails,
    they stay held. Expired files of the key are deleted too, unused.
    """
    if not valid_key(key):
        return []
    async with write_transaction():
        rows = (
            await HeldFile.select(HeldFile.filename, HeldFile.content_type, HeldFile.content)
            .where((HeldFile.submission_key == key) & (HeldFile.expires_at > (now or utcnow())))
            .order_by(HeldFile.id)
        )
        await HeldFile.delete().where(HeldFile.submission_key == key)
    return [(Upload(r["filename"], bytes(r["content"])), r["content_type"]) for r in rows]


async def expired_count(now: dt.datetime | None = None) -> int:
    return int(await HeldFile.count().where(HeldFile.expires_at <= (now or utcnow())))


async def erase_expired(now: dt.datetime | None = None) -> int:
    """Erase every expired held file (the retention job); how many, recorded in the audit log."""
    now = now or utcnow()
    async with write_transaction():
        rows = await HeldFile.delete().where(HeldFile.expires_at <= now).returning(HeldFile.id)
        if rows:
            await audit.record(
                "held_files.expired_erased",
                actor_id=None,
                object_type="held_file",
                object_id="*",
                data={"count": len(rows)},
            )
    return len(rows)
