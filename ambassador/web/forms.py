"""Reading HTML form posts: bounded text fields and safe redirect targets."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from litestar import Request
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException

from ambassador import i18n
from ambassador.domain.nominations import Upload

MAX_FIELD = 10_000
TRUE_VALUES = ("1", "on", "true", "yes")
# Row ids are 32-bit serials; a larger number in a URL names nothing (and must not reach the database).
MAX_ROW_ID = 2**31 - 1


def require_row_id(value: int) -> int:
    """The id itself, or 404 when no row can have it."""
    if not 1 <= value <= MAX_ROW_ID:
        raise NotFoundException()
    return value


class Form:
    """A parsed urlencoded or multipart body with typed accessors."""

    def __init__(self, data: FormMultiDict) -> None:
        self._data = data

    def text(self, name: str, max_length: int = MAX_FIELD) -> str:
        value = self._data.get(name)
        if value is None or isinstance(value, UploadFile):
            return ""
        return str(value).replace("\x00", "")[: max_length + 1]

    def values(self, name: str) -> list[str]:
        return [str(v) for v in self._data.getall(name, []) if not isinstance(v, UploadFile)]

    def flag(self, name: str) -> bool:
        return self.text(name, 10).lower() in TRUE_VALUES

    def integer(self, name: str, default: int | None = None) -> int | None:
        """A whole number, or ``default`` when the field is empty or not a number."""
        raw = self.text(name, 20).strip()
        try:
            return int(raw) if raw else default
        except ValueError:
            return default

    async def files(self, name: str, max_bytes: int) -> list[Upload]:
        """Uploaded files under ``name``, each read to at most ``max_bytes + 1`` bytes.

        Reading one byte past the limit lets the domain tell "too large" without holding
        more than that in memory. Empty file inputs (nothing chosen) are skipped.
        """
        found: list[Upload] = []
        for value in self._data.getall(name, []):
            if isinstance(value, UploadFile) and (value.filename or ""):
                data = await value.read(max_bytes + 1)
                await value.close()
                if data:
                    found.append(Upload(filename=value.filename or "", data=data))
        return found


async def read_form(request: Request[Any, Any, Any]) -> Form:
    """The posted form; a urlencoded body must be UTF-8, percent-encoded or not.

    Litestar reads raw bytes of a urlencoded body as Latin-1 and replaces undecodable escapes,
    which would store mojibake without a word. Here an undecodable body raises
    ``UnicodeDecodeError``, answered with 400 like an undecodable multipart part.
    """
    if request.content_type[0] == RequestEncodingType.URL_ENCODED:
        body = (await request.body()).decode()
        return Form(FormMultiDict(parse_qsl(body, keep_blank_values=True, encoding="utf-8", errors="strict")))
    return Form(await request.form())


def safe_next(value: str | None, default: str = "/staff") -> str:
    """Only same-site paths: never an absolute or protocol-relative URL."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(c in value for c in "\r\n\t\\"):
        return default
    return value


def translated_errors(errors: dict[str, str]) -> dict[str, str]:
    """Each field's message in the current language; a :class:`Message` with its parameters."""
    return {field: i18n.gettext(message, **getattr(message, "params", {})) for field, message in errors.items()}


# A number field that is not a whole number: out of every domain range, so the domain's own
# message for the field is shown.
NOT_A_NUMBER = -1
MAX_NUMBER_DIGITS = 6


def whole_number(raw: str, blank: int = NOT_A_NUMBER) -> int:
    """A typed whole number: ASCII digits only (``int()`` would take "١٢" or "1_000"), at most
    six of them; ``blank`` when nothing was typed, :data:`NOT_A_NUMBER` for anything else."""
    raw = raw.strip()
    if not raw:
        return blank
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= MAX_NUMBER_DIGITS else NOT_A_NUMBER
