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

import datetime as dt
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
KEYS = (
    *TEXTS,
    *OPTIONAL_TEXTS,
    "easy_read",
    "logo",
    "criteria",
    "categories",
    "accessibility",
    "sign_language",
)
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
# The accessibility statement (deklaracja dostępności; docs/honour.md): its variable parts.
ACCESSIBILITY_TEXTS = ("entity", "address", "contact_person", "complaints_to", "architecture")
ACCESSIBILITY_OPTIONAL_TEXTS = ("mobile_apps", "additional")
ACCESSIBILITY_DATES = ("published", "updated", "prepared", "reviewed")
ACCESSIBILITY_KEYS = (
    *ACCESSIBILITY_TEXTS,
    *ACCESSIBILITY_OPTIONAL_TEXTS,
    *ACCESSIBILITY_DATES,
    "site_url",
    "status",
    "non_compliant",
    "exclusions",
    "assessment",
    "assessor",
    "email",
    "phone",
)
# Compliance with the act of 4 April 2019: zgodna, częściowo zgodna, niezgodna.
STATUSES = ("full", "partial", "none")
# How the statement was prepared: the body's own assessment, or a study by another body.
ASSESSMENTS = ("self", "external")
MAX_ITEMS = 30  # non-compliant parts, exclusions
MAX_LINE = 300
URL = re.compile(r"https?://[^\s\x00-\x1f<>\"]{3,490}")
EMAIL = re.compile(r"[^@\s<>\"]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}")
PHONE = re.compile(r"\+?[0-9][0-9 ()-]{4,28}[0-9]")
# The recording in Polish Sign Language (PJM): an address, or a file beside the honour file.
SIGN_LANGUAGE_KEYS = ("video", "transcript")
VIDEO_TYPES = {".mp4": "video/mp4", ".webm": "video/webm"}
MAX_VIDEO_BYTES = 500 * 1024 * 1024

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
class Accessibility:
    """The variable parts of the accessibility statement (the act of 4 April 2019, art. 10)."""

    entity: Texts  # the public body, as the subject of "… undertakes to make its website accessible"
    address: Texts  # its seat's postal address
    site_url: str  # "" = the installation's own address (AMBASSADOR_BASE_URL)
    published: dt.date  # the website's publication
    updated: dt.date  # its last significant update
    prepared: dt.date  # the statement's preparation
    reviewed: dt.date | None  # its last review, if any since
    status: str  # STATUSES
    non_compliant: tuple[Texts, ...]  # the parts that do not comply, with the reason
    exclusions: tuple[Texts, ...]  # content outside the act (its art. 3)
    assessment: str  # ASSESSMENTS
    assessor: str  # the body that made the study (external only)
    contact_person: Texts
    email: str  # "" when none is given (the statement then gives the postal address)
    phone: str  # "" when none is given
    complaints_to: Texts  # who a complaint is addressed to, with the address
    architecture: Texts  # the accessibility of the seat's buildings (paragraphs: blank lines)
    mobile_apps: Texts | None  # None: the body publishes no mobile application for this site
    additional: Texts | None


@dataclass(frozen=True)
class SignLanguage:
    """The recording in Polish Sign Language the city provides: an address or a file."""

    video_url: str  # "" when the recording is a file
    video_file: Path | None
    transcript_url: str  # "" = the page's own text is the transcript

    @property
    def media_type(self) -> str:
        suffix = (self.video_file.suffix if self.video_file else Path(self.video_url.split("?")[0]).suffix).lower()
        return VIDEO_TYPES.get(suffix, "")


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
    accessibility: Accessibility
    # What the title is for, in easy-to-read text (paragraphs: blank lines); None: not written.
    easy_read: Texts | None = None
    sign_language: SignLanguage | None = None

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


class _Statement(_File):
    """Reading the [accessibility] and [sign_language] tables of one file."""

    def accessibility(self, value: object) -> Accessibility:
        key = "accessibility"
        if not isinstance(value, dict):
            raise self.error(key, "must be a table (the accessibility statement's variable parts, docs/honour.md)")
        self.unknown(key, value, ACCESSIBILITY_KEYS)
        texts = {name: self.texts(f"{key}.{name}", value.get(name)) for name in ACCESSIBILITY_TEXTS}
        optional = {
            name: self.texts(f"{key}.{name}", value[name]) if name in value else None
            for name in ACCESSIBILITY_OPTIONAL_TEXTS
        }
        published, updated, prepared = (self.date(f"{key}.{name}", value.get(name)) for name in ACCESSIBILITY_DATES[:3])
        reviewed = None if value.get("reviewed") is None else self.date(f"{key}.reviewed", value.get("reviewed"))
        if updated < published:
            raise self.error(f"{key}.updated", "must not be before accessibility.published")
        if reviewed is not None and reviewed < prepared:
            raise self.error(f"{key}.reviewed", "must not be before accessibility.prepared")
        status = self.choice(f"{key}.status", value.get("status"), STATUSES)
        non_compliant = self.items(f"{key}.non_compliant", value.get("non_compliant", []))
        if status != "full" and not non_compliant:
            raise self.error(f"{key}.non_compliant", f"must list what does not comply when the status is {status}")
        if status == "full" and non_compliant:
            raise self.error(f"{key}.non_compliant", "must be empty when the status is full")
        assessment = self.choice(f"{key}.assessment", value.get("assessment"), ASSESSMENTS)
        assessor = value.get("assessor", "")
        if (
            not isinstance(assessor, str)
            or len(assessor) > MAX_LINE
            or bool(assessor.strip()) != (assessment == "external")
        ):
            raise self.error(
                f"{key}.assessor", "names the body that assessed the site, given only when assessment is external"
            )
        return Accessibility(
            entity=texts["entity"],
            address=texts["address"],
            site_url=self.url(f"{key}.site_url", value.get("site_url", ""), required=False),
            published=published,
            updated=updated,
            prepared=prepared,
            reviewed=reviewed,
            status=status,
            non_compliant=non_compliant,
            exclusions=self.items(f"{key}.exclusions", value.get("exclusions", [])),
            assessment=assessment,
            assessor=assessor.strip(),
            contact_person=texts["contact_person"],
            email=self.pattern(
                f"{key}.email", value.get("email", ""), EMAIL, "must be an e-mail address", required=False
            ),
            phone=self.pattern(
                f"{key}.phone",
                value.get("phone", ""),
                PHONE,
                "must be a phone number (digits, spaces, +, -, brackets)",
                required=False,
            ),
            complaints_to=texts["complaints_to"],
            architecture=texts["architecture"],
            mobile_apps=optional["mobile_apps"],
            additional=optional["additional"],
        )

    def date(self, key: str, value: object) -> dt.date:
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise self.error(key, "must be a date written YYYY-MM-DD (without quotes)")
        return value

    def choice(self, key: str, value: object, choices: tuple[str, ...]) -> str:
        if value not in choices:
            raise self.error(key, f"must be one of {', '.join(choices)}")
        return str(value)

    def items(self, key: str, value: object) -> tuple[Texts, ...]:
        if not isinstance(value, list) or len(value) > MAX_ITEMS:
            raise self.error(key, f"must be a list of at most {MAX_ITEMS} texts ({{ pl = …, en = …, uk = … }})")
        return tuple(self.texts(f"{key}[{index}]", item, MAX_LINE) for index, item in enumerate(value, start=1))

    def url(self, key: str, value: object, *, required: bool) -> str:
        if (value == "" or value is None) and not required:
            return ""
        if not isinstance(value, str) or not URL.fullmatch(value.strip()):
            raise self.error(key, "must be an http:// or https:// address")
        return value.strip()

    def pattern(self, key: str, value: object, pattern: re.Pattern[str], problem: str, *, required: bool = True) -> str:
        if (value == "" or value is None) and not required:
            return ""
        if not isinstance(value, str) or not pattern.fullmatch(value.strip()):
            raise self.error(key, problem)
        return value.strip()

    def sign_language(self, value: object) -> SignLanguage | None:
        key = "sign_language"
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.error(key, "must be a table with video (an address or a file) and optionally transcript")
        self.unknown(key, value, SIGN_LANGUAGE_KEYS)
        video = value.get("video")
        if not isinstance(video, str) or not video.strip():
            raise self.error(
                f"{key}.video", "must be the recording's https:// address or the path of an .mp4 or .webm file"
            )
        video = video.strip()
        transcript = self.url(f"{key}.transcript", value.get("transcript", ""), required=False)
        if video.startswith(("http://", "https://")):
            return SignLanguage(
                video_url=self.url(f"{key}.video", video, required=True), video_file=None, transcript_url=transcript
            )
        path = (self.path.parent / video).resolve()
        if path.suffix.lower() not in VIDEO_TYPES:
            raise self.error(f"{key}.video", f"must be a {', '.join(VIDEO_TYPES)} file or an address, not {path.name}")
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise self.error(f"{key}.video", f"{path} cannot be read ({exc.strerror or exc})") from exc
        if not path.is_file() or size > MAX_VIDEO_BYTES:
            raise self.error(f"{key}.video", f"{path} is not a file of at most {MAX_VIDEO_BYTES // 1024 // 1024} MiB")
        return SignLanguage(video_url="", video_file=path, transcript_url=transcript)


def load(path: Path | None) -> Honour:
    """The honour described by the TOML file ``path`` (None: the shipped Kraków honour).

    Raises :class:`HonourError` naming the file and the key when the file cannot be read, is
    not TOML, lacks a text in one of the languages or has a key this version does not know.
    """
    source = _Statement(SHIPPED_HONOUR if path is None else path)
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
        accessibility=source.accessibility(data.get("accessibility")),
        easy_read=source.texts("easy_read", data["easy_read"]) if "easy_read" in data else None,
        sign_language=source.sign_language(data.get("sign_language")),
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
