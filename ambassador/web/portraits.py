"""Laureates' pictures over HTTP: the public copies, and the clerk's form values.

A copy's address carries the picture's version (``/portraits/<slug>/<version>/<width>.webp``),
so it never changes content and is cached for a year, immutable. Before the laureate's edition
is public, or once the picture is removed or replaced, the address answers 404 like any
unknown one (``ambassador.domain.portraits`` holds the archive's embargo rule).
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from ambassador.domain import portrait_images, portraits
from ambassador.domain.portraits import PictureData, Stored
from ambassador.web.downloads import PRIVATE
from ambassador.web.forms import Form

# A copy's file name: its width and the only format made.
COPY_NAME = re.compile(r"^([0-9]{2,4})\.webp$")
MAX_VERSION = 1_000_000
IMMUTABLE = "public, max-age=31536000, immutable"
# The multipart body of the clerk's form: the picture and a few short texts.
PICTURE_MAX_BODY = portrait_images.MAX_BYTES + 256 * 1024
PUBLIC_BASE = "/portraits"


def public_base(slug: str) -> str:
    return f"{PUBLIC_BASE}/{slug}"


def staff_base(laureate_id: int) -> str:
    return f"/staff/laureates/{laureate_id}/portrait"


def copy_width(version: int, name: str) -> int:
    """The width a copy's file name asks for; 404 for anything else."""
    found = COPY_NAME.match(name)
    if found is None or not 0 < version <= MAX_VERSION:
        raise NotFoundException()
    return int(found.group(1))


def image_response(request: Request[Any, Any, Any], stored: Stored | None, headers: dict[str, str]) -> Response[bytes]:
    """The copy with its ETag (304 when the browser has it), or 404."""
    if stored is None:
        raise NotFoundException()
    etag = f'"{stored.sha256[:32]}"'
    headers = {**headers, "etag": etag}
    given = request.headers.get("if-none-match", "")
    if etag in {tag.strip().removeprefix("W/") for tag in given.split(",")}:
        return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(stored.content, media_type=stored.content_type, headers=headers)


def read_picture(form: Form) -> tuple[PictureData, dict[str, str]]:
    """The picture form's texts and consent box, and the values to show again."""
    values = {
        "kind": form.text("kind", 20),
        **{f"alt_{code}": form.text(f"alt_{code}", 2 * portraits.MAX_ALT + 16) for code in portraits.LANGUAGES},
        "credit": form.text("credit", 2 * portraits.MAX_CREDIT + 16),
        "licence": form.text("licence", 2 * portraits.MAX_LICENCE + 16),
    }
    data = PictureData(
        kind=values["kind"],
        alt_pl=values["alt_pl"],
        alt_en=values["alt_en"],
        alt_uk=values["alt_uk"],
        credit=values["credit"],
        licence=values["licence"],
        consent=form.flag("consent"),
    )
    return data, values


class PortraitController(Controller):
    """The public copies of the pictures of public laureates."""

    path = PUBLIC_BASE
    opt = {"exclude_from_auth": True}
    include_in_schema = False

    @get("/{slug:str}/{version:int}/{name:str}", name="portrait_copy")
    async def copy(
        self, request: Request[Any, Any, Any], slug: FromPath[str], version: FromPath[int], name: FromPath[str]
    ) -> Response[bytes]:
        width = copy_width(version, name)
        if not 0 < len(slug) <= 220 or not all(c.isalnum() or c == "-" for c in slug):
            raise NotFoundException()
        stored = await portraits.public_copy(slug, version, width)
        return image_response(request, stored, {"cache-control": IMMUTABLE})


STAFF_HEADERS = PRIVATE
