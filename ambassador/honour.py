"""The honour this installation runs: its names, texts, logo and default categories.

Configuration of the installation, not code (docs/honour.md): a TOML file named by
``AMBASSADOR_HONOUR_FILE``, else the shipped ``ambassador/honours/krakow.toml``. Every text
is given in Polish, English and Ukrainian. The file is read and checked once at start-up
(``Settings.check`` refuses a bad one with a line naming the file and the key); the app and
the command line then :func:`activate` it, and pages, mails, feeds and documents ask
:func:`active` for its texts.

A leaf module: the standard library and ``ambassador.enums``/``ambassador.resources`` only.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ambassador.enums import LANGUAGES, NomineeField, NomineeKind
from ambassador.resources import SHIPPED_HONOUR

# The texts of the honour (each a table with pl, en and uk): required, and the optional ones
# with the text they fall back to.
TEXTS = (
    "name",
    "description",
    "approving_body",
    "controller",
    "legal_basis",
    "publisher",
    "mail_signature",
    "footer",
)
OPTIONAL_TEXTS = {"short_name": "name"}
KEYS = (*TEXTS, *OPTIONAL_TEXTS, "logo", "criteria", "categories")
CATEGORY_KEYS = ("code", "name", "nominee_kind", "titles", "mentions", "fields")
NOMINEE_KINDS = tuple(kind.value for kind in NomineeKind)
NOMINEE_FIELDS = tuple(field.value for field in NomineeField)
# The limits of an edition's categories (ambassador.domain.categories uses them too).
MAX_CATEGORIES = 12
MAX_CODE = 8
CODE = re.compile(rf"[A-Z0-9]{{1,{MAX_CODE}}}")
MAX_DISTINCTIONS = 20  # titles, and mentions, per category
MAX_NAME = 200
MAX_TEXT = 2000
# What a logo may be, by its file's ending: the media type it is served with.
LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".webp": "image/webp", ".jpg": "image/jpeg"}
MAX_LOGO_BYTES = 512 * 1024

Texts = Mapping[str, str]


class HonourError(ValueError):
    """The honour file cannot be used; the message names the file and the key, on one line."""


@dataclass(frozen=True)
class CategoryDefault:
    """A category a new edition starts with (the clerk may change them while it is a draft)."""

    code: str
    names: Texts  # keys "pl", "en", "uk"
    nominee_kind: str  # enums.NomineeKind
    titles: int
    mentions: int
    fields: tuple[str, ...]  # enums.NomineeField


@dataclass(frozen=True)
class Honour:
    """One honour: its texts per language, its logo, default criteria and categories."""

    name: Texts
    short_name: Texts
    description: Texts
    # Who confers the title, as the subject of a sentence ("the Mayor of the City of Kraków").
    approving_body: Texts
    # The personal data controller, as the subject of a sentence, with its address.
    controller: Texts
    # The sentence giving the legal basis of the processing (GDPR art. 6).
    legal_basis: Texts
    # Who publishes the archive (the feed's author, the open data's publisher).
    publisher: Texts
    mail_signature: Texts
    footer: Texts
    logo: Path | None
    criteria: tuple[Texts, ...]
    categories: tuple[CategoryDefault, ...]

    def text(self, field: str, language: str) -> str:
        """A text in ``language``, else in Polish, else in English."""
        if field not in TEXTS and field not in OPTIONAL_TEXTS:
            raise KeyError(f"the honour has no text {field!r}")
        texts: Texts = getattr(self, field)
        return texts.get(language) or texts.get("pl") or texts.get("en") or ""

    @property
    def logo_media_type(self) -> str | None:
        return None if self.logo is None else LOGO_TYPES[self.logo.suffix.lower()]


class _File:
    """Reading one file: every error names the file and the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, key: str, problem: str) -> HonourError:
        where = f"{self.path}: {key}: " if key else f"{self.path}: "
        return HonourError(where + problem)

    def read(self) -> dict[str, Any]:
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise self.error("", f"cannot be read ({exc.strerror or exc})") from exc
        try:
            return tomllib.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise self.error("", "is not UTF-8 text") from exc
        except tomllib.TOMLDecodeError as exc:
            raise self.error("", f"is not valid TOML ({exc})") from exc

    def texts(self, key: str, value: object, limit: int = MAX_TEXT) -> Texts:
        """A table with a non-empty text for each of pl, en and uk, and nothing else."""
        if not isinstance(value, dict):
            raise self.error(key, "must be a table of texts with the keys pl, en and uk")
        for language in value:
            if language not in LANGUAGES:
                raise self.error(key, f"unknown language {language!r} (the languages are pl, en and uk)")
        found: dict[str, str] = {}
        for language in LANGUAGES:
            text = value.get(language)
            if not isinstance(text, str) or not text.strip():
                raise self.error(f"{key}.{language}", "the text is missing or empty")
            if len(text) > limit:
                raise self.error(f"{key}.{language}", f"the text is longer than {limit} characters")
            found[language] = text.strip()
        return MappingProxyType(found)

    def unknown(self, key: str, value: dict[str, Any], known: tuple[str, ...]) -> None:
        for name in value:
            if name not in known:
                where = f"{key}.{name}" if key else name
                raise self.error(where, f"unknown key (the keys are {', '.join(known)})")

    def logo(self, value: object) -> Path | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error("logo", "must be the path of an image file (relative to this file)")
        path = (self.path.parent / value).resolve()
        if path.suffix.lower() not in LOGO_TYPES:
            raise self.error("logo", f"must be a {', '.join(LOGO_TYPES)} file, not {path.name}")
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise self.error("logo", f"{path} cannot be read ({exc.strerror or exc})") from exc
        if not path.is_file():
            raise self.error("logo", f"{path} is not a file")
        if size > MAX_LOGO_BYTES:
            raise self.error("logo", f"{path} is larger than {MAX_LOGO_BYTES // 1024} KiB")
        return path

    def criteria(self, value: object) -> tuple[Texts, ...]:
        if not isinstance(value, list) or not value:
            raise self.error("criteria", "must be a list of one or more criteria ([[criteria]] tables)")
        return tuple(self.texts(f"criteria[{index}]", item, MAX_NAME) for index, item in enumerate(value, start=1))

    def categories(self, value: object) -> tuple[CategoryDefault, ...]:
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_CATEGORIES:
            raise self.error("categories", f"must be a list of 1 to {MAX_CATEGORIES} categories ([[categories]])")
        found = tuple(self.category(f"categories[{index}]", item) for index, item in enumerate(value, start=1))
        codes = [category.code for category in found]
        if len(set(codes)) != len(codes):
            raise self.error("categories", f"two categories have the same code ({', '.join(codes)})")
        return found

    def category(self, key: str, value: object) -> CategoryDefault:
        if not isinstance(value, dict):
            raise self.error(key, "must be a table")
        self.unknown(key, value, CATEGORY_KEYS)
        code = value.get("code")
        if not isinstance(code, str) or not CODE.fullmatch(code):
            raise self.error(f"{key}.code", f"must be 1 to {MAX_CODE} capital letters or digits")
        kind = value.get("nominee_kind")
        if kind not in NOMINEE_KINDS:
            raise self.error(f"{key}.nominee_kind", f"must be one of {', '.join(NOMINEE_KINDS)}")
        fields = value.get("fields", [])
        known = isinstance(fields, list) and all(f in NOMINEE_FIELDS for f in fields)
        if not known or len(set(fields)) < len(fields):
            raise self.error(f"{key}.fields", f"must be a list of distinct fields from {', '.join(NOMINEE_FIELDS)}")
        return CategoryDefault(
            code=code,
            names=self.texts(f"{key}.name", value.get("name"), MAX_NAME),
            nominee_kind=str(kind),
            titles=self.count(f"{key}.titles", value.get("titles")),
            mentions=self.count(f"{key}.mentions", value.get("mentions", 0)),
            fields=tuple(str(f) for f in fields),
        )

    def count(self, key: str, value: object) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_DISTINCTIONS:
            raise self.error(key, f"must be a whole number from 0 to {MAX_DISTINCTIONS}")
        return value


def load(path: Path | None) -> Honour:
    """The honour described by the TOML file ``path`` (None: the shipped Kraków honour).

    Raises :class:`HonourError` naming the file and the key when the file cannot be read, is
    not TOML, lacks a text in one of the languages or has a key this version does not know.
    """
    source = _File(SHIPPED_HONOUR if path is None else path)
    data = source.read()
    source.unknown("", data, KEYS)
    texts = {key: source.texts(key, data.get(key), MAX_NAME if key == "name" else MAX_TEXT) for key in TEXTS}
    for key, fallback in OPTIONAL_TEXTS.items():
        texts[key] = source.texts(key, data[key], MAX_NAME) if key in data else texts[fallback]
    return Honour(
        name=texts["name"],
        short_name=texts["short_name"],
        description=texts["description"],
        approving_body=texts["approving_body"],
        controller=texts["controller"],
        legal_basis=texts["legal_basis"],
        publisher=texts["publisher"],
        mail_signature=texts["mail_signature"],
        footer=texts["footer"],
        logo=source.logo(data.get("logo")),
        criteria=source.criteria(data.get("criteria")),
        categories=source.categories(data.get("categories")),
    )


@cache
def shipped() -> Honour:
    """The shipped default, Kraków's (read once)."""
    return load(None)


_active: Honour | None = None


def activate(honour: Honour) -> None:
    """Make ``honour`` the one this process serves (the app and the command line, at start-up)."""
    global _active  # noqa: PLW0603 (one honour per process, set at start-up)
    _active = honour


def active() -> Honour:
    """The honour activated at start-up, else the shipped default."""
    return _active or shipped()
