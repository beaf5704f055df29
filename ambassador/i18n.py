"""Languages: catalogs read from the .po files, the current language, and formatting.

Catalogs are compiled in memory at first use, so no generated .mo file is kept in the tree.
The current language is a context variable set per request (and per mail being written).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_time as babel_format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

from ambassador.enums import DEFAULT_LANGUAGE, LANGUAGES
from ambassador.resources import LOCALE_DIR

DOMAIN = "messages"
TIMEZONE = ZoneInfo("Europe/Warsaw")
LANGUAGE_NAMES = {"pl": "Polski", "en": "English", "uk": "Українська"}

current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> Translations:
    """The compiled catalog of one language (English msgids are the source)."""
    with po_path(language).open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def gettext(message: str, **params: object) -> str:
    """Translate into the current language, then interpolate ``%(name)s`` parameters."""
    text = translations(current_language.get()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params: object) -> str:
    text = translations(current_language.get()).ngettext(singular, plural, n)
    return text % {"num": n, **params}


def translate(language: str, message: str, **params: object) -> str:
    """Translate into an explicit language (mails are written in the recipient's)."""
    text = translations(language).gettext(message)
    return text % params if params else text


def translate_label(language: str, table: dict[str, str], value: object) -> str:
    """A stored code (a state, a distinction) by its label in ``table``, or the code when unlabelled."""
    key = str(value)
    return translate(language, table[key]) if key in table else key


def supported(language: str | None) -> str | None:
    if language and language.lower()[:2] in LANGUAGES:
        return language.lower()[:2]
    return None


@functools.lru_cache(maxsize=512)
def negotiate(cookie_value: str | None, accept_language: str | None) -> str:
    """Explicit choice (cookie) first, then the browser's preferences, then Polish."""
    chosen = supported(cookie_value)
    if chosen:
        return chosen
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, quality = part.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            continue
        language = supported(tag.strip())
        if language and weight > 0:
            ranked.append((-weight, position, language))
    return sorted(ranked)[0][2] if ranked else DEFAULT_LANGUAGE


def to_local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(TIMEZONE)


def format_datetime(value: dt.datetime | None, style: str = "minutes") -> str:
    """Warsaw time in the current language; the default shows minutes, never seconds."""
    if value is None:
        return ""
    if style == "minutes":
        local, language = to_local(value), current_language.get()
        time = babel_format_time(local, "short", locale=language)
        return f"{babel_format_date(local.date(), 'medium', locale=language)}, {time}"
    return babel_format_datetime(value, style, tzinfo=TIMEZONE, locale=current_language.get())


def format_date(value: dt.date | dt.datetime | None, style: str = "long") -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = to_local(value).date()
    return babel_format_date(value, style, locale=current_language.get())


def format_number(value: float) -> str:
    return format_decimal(value, locale=current_language.get())


KIB = 1024
MIB = 1024 * KIB


def format_size(size: int) -> str:
    """A file's size, written one way on every page: binary units, as the upload limits count
    them (10 MB is 10 × 1024 × 1024 bytes); bytes under 1 kB, whole kB rounded up (a file is
    never "0 kB") under 1 MB, else MB with one decimal."""
    if size < KIB:
        return gettext("%(size)s B", size=format_number(size))
    kilobytes = math.ceil(size / KIB)
    if kilobytes < KIB:
        return gettext("%(size)s kB", size=format_number(kilobytes))
    megabytes = format_decimal(round(size / MIB, 1), format="#,##0.0", locale=current_language.get())
    return gettext("%(size)s MB", size=megabytes)


def language_name(language: str) -> str:
    return LANGUAGE_NAMES.get(language) or Locale.parse(language).display_name or language
