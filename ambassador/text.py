"""Text hygiene shared by every form: folding for comparison, cleaning user input."""

from __future__ import annotations

import re
import unicodedata

# Letters that carry no combining mark in Unicode and so survive NFKD.
_SPECIAL = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae"})
# Bidirectional overrides and isolates: allowed in prose, never in names (spoofing).
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


def fold(value: str) -> str:
    """Case- and diacritics-insensitive key: "Jaśkowiak" and "JASKOWIAK" fold alike."""
    decomposed = unicodedata.normalize("NFKD", value.translate(_SPECIAL))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    letters = "".join(c if c.isalnum() else " " for c in stripped.casefold())
    return _SPACES.sub(" ", letters).strip()


def clean_line(value: str) -> str:
    """A single-line field: no control or bidi-override characters, spaces collapsed."""
    value = _BIDI_CONTROLS.sub("", _CONTROL.sub("", value.replace("\x00", "")))
    return _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()


def clean_text(value: str) -> str:
    """A multi-line field: control characters removed, line ends normalised."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", _CONTROL.sub("", value)).strip()
