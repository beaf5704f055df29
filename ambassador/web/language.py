"""The user's language: the address's prefix, else the cookie they chose, else their browser's Accept-Language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request

from ambassador import i18n
from ambassador.web.addresses import prefix_language

# The language choice: ``__Host-lang`` (Secure, host-only) in production, ``lang`` in
# development (plain http); ``lang`` is still read in production, from before the prefix.
LANGUAGE_COOKIE = "lang"
HOST_LANGUAGE_COOKIE = "__Host-lang"


def cookie_values(header: bytes) -> dict[str, str]:
    """A Cookie header's values by name, read before Litestar does (the ASGI wrappers and the
    caches); of two cookies with one name the first, the most specific, counts (RFC 6265 5.4)."""
    found: dict[str, str] = {}
    for part in header.decode("latin-1").split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            found.setdefault(name, value)
    return found


def chosen_language(cookies: Mapping[str, str]) -> str | None:
    """The language cookie's value: the ``__Host-`` one first, then the old name."""
    return cookies.get(HOST_LANGUAGE_COOKIE) or cookies.get(LANGUAGE_COOKIE)


def language_for(request: Request[Any, Any, Any]) -> str:
    """A public page's address names its language (``/uk/laureates``, ambassador.web.addresses)."""
    prefixed = prefix_language(request.scope)
    if prefixed is not None:
        return prefixed
    return i18n.negotiate(chosen_language(request.cookies), request.headers.get("accept-language"))


async def set_language(request: Request[Any, Any, Any]) -> None:
    """``before_request``: the current language for templates and messages."""
    i18n.current_language.set(language_for(request))
