"""Uploaded files: the type is decided by the content (magic bytes), never by the name."""

from __future__ import annotations

import re

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}
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
