"""Uploaded files: the type is decided by the content (magic bytes), never by the name."""

from __future__ import annotations

import io
import re
import warnings

from PIL import Image

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}
# Pixel-flood limit (ASVS 5.2.6): a 40-megapixel photo is 7,700 x 5,200, more than any
# camera a citizen uses for a nomination; decoded at 4 bytes a pixel that is 160 MB.
MAX_IMAGE_PIXELS = 40_000_000
MAX_IMAGE_SIDE = 20_000
_PILLOW_FORMATS = {JPEG: "JPEG", PNG: "PNG"}
_UNSAFE_NAME = re.compile(r"[^\w.\- ()]+", re.UNICODE)
# Names Windows gives to devices, whatever the extension: "con.pdf" cannot be saved there.
_DEVICE_NAMES = frozenset({"con", "prn", "aux", "nul", *(f"{d}{n}" for d in ("com", "lpt") for n in range(1, 10))})


def sniff(data: bytes) -> str | None:
    """The accepted type of ``data`` or None (forged or unsupported)."""
    if data.startswith(b"%PDF-") and b"%%EOF" in data[-2048:]:
        return PDF
    if data.startswith(b"\xff\xd8\xff") and len(data) > 4:
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return PNG
    return None


def safe_filename(name: str, content_type: str) -> str:
    """A display and download name without paths or odd characters, with the right extension."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = _UNSAFE_NAME.sub("_", base.rsplit(".", 1)[0] if "." in base else base).strip(" ._")[:150]
    if stem.split(".", 1)[0].rstrip(" ").lower() in _DEVICE_NAMES:
        stem = f"_{stem}"
    return f"{stem or 'file'}{EXTENSIONS[content_type]}"


def image_too_large(data: bytes, content_type: str) -> bool:
    """Whether a JPEG or PNG says it has more pixels than allowed (read from its header only).

    Pillow's ``Image.open`` reads the header and decodes nothing. An image it refuses as a
    decompression bomb (over twice ``Image.MAX_IMAGE_PIXELS``) is too large as well; one whose
    header it cannot read at all is left to the type check (no decoder will expand it).
    """
    if content_type not in _PILLOW_FORMATS:
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[content_type]]) as image:
                width, height = image.size
    except Image.DecompressionBombError:
        return True
    except Exception:  # noqa: BLE001 - any unreadable header: nothing to measure
        return False
    return width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE or width * height > MAX_IMAGE_PIXELS
