"""What every accepted upload passes before it is stored: the antivirus scan and the quota.

The type, size, count and pixel checks need only the bytes (``nomination_rules.check_uploads``);
these two need the outside world: clamd (ASVS 5.4.3, ``ambassador.antivirus``) and the sum
of the attachments already stored (ASVS 5.2.4). Both run before the write transaction, so a
slow scan holds no lock; a refusal stores nothing. docs/uploads.md describes every rule.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from piccolo.query.functions.aggregate import Sum

from ambassador import metrics, security_log
from ambassador.antivirus import Clamd, ScanUnavailable
from ambassador.errors import N_, Message
from ambassador.settings import DEFAULT_UPLOAD_QUOTA_BYTES, Settings
from ambassador.tables import Attachment, HeldFile

log = logging.getLogger("ambassador.uploads")

MALWARE = N_("The file %(name)s contains malware and was not accepted. Nothing was saved.")
SCAN_UNAVAILABLE = N_(
    "Files cannot be checked for viruses right now, so nothing was saved. Please try again in a few minutes."
)
QUOTA_FULL = N_(
    "Uploads are paused: the storage for attachments is full. Nothing was saved. Please contact the organisers."
)


@dataclass(frozen=True)
class UploadRules:
    """The scanner (None: no scanning, development only) and the attachments' total quota."""

    scanner: Clamd | None = None
    quota_bytes: int = DEFAULT_UPLOAD_QUOTA_BYTES

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadRules:
        return cls(Clamd(settings.clamd) if settings.clamd else None, settings.upload_quota_bytes)


DEVELOPMENT = UploadRules()


async def scan(named: list[tuple[str, bytes]], rules: UploadRules) -> str | None:
    """The problem (a msgid, or a :class:`Message` naming the file) or None when all are clean.

    ``named``: each file's display name and content. An infected file and an unreachable or
    failing clamd are logged and recorded as security events; the caller stores nothing.
    """
    if rules.scanner is None:
        return None
    for name, data in named:
        try:
            signature = await rules.scanner.scan(data)
        except ScanUnavailable as exc:
            log.error("upload refused: the antivirus scan is unavailable (%s)", exc)
            metrics.UPLOADS_REFUSED.inc(reason="scan_unavailable")
            security_log.event("upload.scan_unavailable", "failure", reason=type(exc.__cause__ or exc).__name__)
            return SCAN_UNAVAILABLE
        if signature is not None:
            log.warning("upload refused: malware %s found", signature)
            metrics.UPLOADS_REFUSED.inc(reason="malware")
            security_log.event("upload.malware", "blocked", signature=signature[:200], size=len(data))
            return Message(MALWARE, name=name)
    return None


async def stored_bytes() -> int:
    """The size of every stored attachment and every held file (``held_files``) together."""
    total = 0
    for table in (Attachment, HeldFile):
        row = await table.select(Sum(table.size)).first()
        total += int((row or {}).get("sum") or 0)
    return total


async def quota_problem(adding: int, rules: UploadRules) -> str | None:
    """QUOTA_FULL when ``adding`` more bytes would pass the quota (logged as an error).

    Checked before the write transaction: concurrent uploads may pass the quota by at most
    what they carry together (a few requests of at most 50 MB each).
    """
    if adding == 0:
        return None
    used = await stored_bytes()
    if used + adding <= rules.quota_bytes:
        return None
    log.error(
        "upload refused: the attachments' quota is full (%d bytes stored, %d more, quota %d)",
        used,
        adding,
        rules.quota_bytes,
    )
    metrics.UPLOADS_REFUSED.inc(reason="quota")
    security_log.event("upload.quota", "denied", stored=used, adding=adding, quota=rules.quota_bytes)
    return QUOTA_FULL
