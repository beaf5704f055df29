"""A laureate's picture as bytes: the upload's checks and the WebP copies made of it.

Pillow only, no database: :mod:`ambassador.domain.portraits` stores what this makes. The checks
are the attachments' (``ambassador.files``: type by content, size, pixel flood) plus a minimum
size; the copies are decoded, turned upright by their EXIF orientation and re-encoded as WebP
without any metadata (EXIF, GPS, XMP, colour profiles).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

from ambassador import files
from ambassador.domain.nominations import MB, Upload
from ambassador.errors import N_, Message

# The copies made of each picture; a smaller original gives the widths below its own and one
# at its own width (never enlarged).
WIDTHS = (320, 640, 960)
MAX_MEGABYTES = 10
MAX_BYTES = MAX_MEGABYTES * MB
MIN_SIDE = 100
QUALITY = 82
WRONG_TYPE = N_("The picture must be a JPEG or PNG file. This file's content is not one of these.")
TOO_BIG = N_("The picture may have at most %(limit)d MB.")
TOO_MANY_PIXELS = N_("The picture is too large: at most 40 megapixels and 20,000 pixels on a side.")
TOO_SMALL = N_("The picture is too small: at least %(limit)d pixels on each side.")
UNREADABLE = N_("The picture could not be read; the file may be damaged. Please save it again and upload it.")


@dataclass(frozen=True)
class Copy:
    """One resized copy: its size and encoded bytes."""

    width: int
    height: int
    content: bytes


def check_file(upload: Upload) -> str | None:
    """The first problem of an uploaded picture (msgid or :class:`Message`), or None.

    The attachments' checks from the bytes alone: size, type by content (JPEG or PNG; a PDF
    is no picture), the pixel-flood limit read from the header; then the minimum size.
    """
    if len(upload.data) > MAX_BYTES:
        return Message(TOO_BIG, limit=MAX_BYTES // MB)
    content_type = files.sniff(upload.data)
    if content_type not in (files.JPEG, files.PNG):
        return WRONG_TYPE
    if files.image_too_large(upload.data, content_type):
        return TOO_MANY_PIXELS
    try:
        with Image.open(io.BytesIO(upload.data), formats=["JPEG", "PNG"]) as image:
            width, height = image.size
    except Exception:  # noqa: BLE001 - any unreadable header
        return UNREADABLE
    if min(width, height) < MIN_SIDE:
        return Message(TOO_SMALL, limit=MIN_SIDE)
    return None


def _upright(data: bytes) -> Image.Image:
    """The decoded picture, turned by its EXIF orientation, in RGB or RGBA; nothing else kept."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data), formats=["JPEG", "PNG"]) as opened:
            if opened.format == "JPEG":
                # Decode at a reduced scale when the photo is far larger than the copies need.
                opened.draft("RGB", (WIDTHS[-1] * 2, WIDTHS[-1] * 2))
            opened.load()
            image = ImageOps.exif_transpose(opened)
    if image.mode.startswith("I"):
        # 16-bit greyscale (a scan): scaled to 8 bits, not clipped to white.
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    converted = image.convert("RGBA" if has_alpha else "RGB")
    # A new image holds pixels only: no EXIF, XMP, ICC profile or comments come along.
    clean = Image.new(converted.mode, converted.size)
    clean.paste(converted)
    return clean


def resize(data: bytes) -> list[Copy]:
    """The copies of a checked picture at each width it reaches, WebP, without metadata.

    Raises ValueError (or Pillow's errors) when the picture cannot be decoded.
    """
    image = _upright(data)
    width, height = image.size
    largest = min(width, WIDTHS[-1])
    widths = [w for w in WIDTHS if w < largest] + [largest]
    copies: list[Copy] = []
    for target in widths:
        scaled = (
            image
            if target == width
            else image.resize((target, max(1, round(height * target / width))), Image.Resampling.LANCZOS)
        )
        out = io.BytesIO()
        scaled.save(out, format="WEBP", quality=QUALITY, method=4)
        copies.append(Copy(scaled.width, scaled.height, out.getvalue()))
    return copies
