"""Response headers: public pages, private pages, and serving uploaded files."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import quote

from litestar import Response

from ambassador.domain.nominations import AttachmentInfo
from ambassador.web.middleware import ATTACHMENT_CONTENT_SECURITY_POLICY

# Public pages revalidate every time: a publication must appear everywhere at its moment.
PUBLIC_CACHE = {"cache-control": "no-cache"}
NO_STORE = {"cache-control": "no-store"}
# Pages whose address holds a secret: never cached, never sent on as a Referer.
PRIVATE = {"cache-control": "no-store", "referrer-policy": "no-referrer"}


def content_disposition(filename: str) -> str:
    """``attachment`` with the name in RFC 5987 form (any script, no header injection)."""
    return f"attachment; filename*=UTF-8''{quote(filename, safe='')}"


def attachment_response(info: AttachmentInfo, content: bytes) -> Response[bytes]:
    """An uploaded file as a download that can run nothing under this origin, never cached."""
    return Response(
        content=content,
        media_type=info.content_type,
        headers={
            **PRIVATE,
            "content-disposition": content_disposition(info.filename),
            # Replaces the global policy: it repeats frame-ancestors 'none' (ASVS 3.4.6, F10).
            "content-security-policy": ATTACHMENT_CONTENT_SECURITY_POLICY,
        },
    )


def csv_download(rows: Iterable[Sequence[object]], filename: str, headers: Mapping[str, str]) -> Response[bytes]:
    """Rows as a CSV file for spreadsheets: UTF-8 with a BOM (so Excel reads the letters), CRLF line ends.

    ``filename`` is quoted as it is: callers pass ASCII names of their own making.
    """
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return Response(
        content=("\ufeff" + buffer.getvalue()).encode("utf-8"),
        media_type="text/csv",  # Litestar adds "; charset=utf-8"
        headers={"content-disposition": f'attachment; filename="{filename}"', **headers},
    )
