"""Addresses per language: ``/pl/…``, ``/en/…``, ``/uk/…`` for the public pages.

The public pages (home, the nomination form, the archive, editions, laureates, the pages
about the title) have one address per language, so that a link shared in Ukrainian opens in
Ukrainian, search engines index each language, and a page can name its translations
(``hreflang``) and its canonical address. The front door (``ambassador.web.front``), before
Litestar's router, decides by the path (:func:`split_prefix`, :func:`is_public_page`) and:

- strips the prefix of a public page (``/uk/laureates`` is routed as ``/laureates``) and
  records the language in the scope (:data:`LANGUAGE_KEY`); ``set_language`` then uses it
  before the cookie and ``Accept-Language``. Any method: the form posted from ``/uk/nominate``
  is answered in Ukrainian;
- answers (:func:`redirect_old`) a GET or HEAD of a public page's old address (``/laureates``)
  with ``302 Found`` to the prefixed one in the language the visitor would have got there
  (cookie, else ``Accept-Language``, else Polish), its query string kept. A temporary redirect,
  since the target depends on who asks (``Vary: Accept-Language, Cookie``); it is the
  ``x-default`` of every page;
- redirects a GET or HEAD of ``/pl`` to ``/pl/`` (the home page's address, permanently);
- leaves everything else alone: posts to the old addresses, the staff area, the links mailed
  to nominators and nominees (``/n/…``, ``/consent/…``), the API, feed, CSV and JSON, static
  files and health probes have one address for every language.

The request's path as the application sees it is the unprefixed one, so routes, the archive
cache's keys, the rate limit of ``POST /nominate`` and the logs of the router are unchanged.

Templates get :func:`url` (a public path in the current language), :func:`page_url` (this page
in another language) and the ``hreflang`` alternates and canonical address of the page.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, cast

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from litestar.types import HTTPResponseBodyEvent, HTTPResponseStartEvent, Message, Scope, Send

from ambassador import i18n
from ambassador.enums import LANGUAGES

# The scope key holding the language of a prefixed address (read by web.language, web.cache
# and the page cache of the home page and the form).
LANGUAGE_KEY = "language"

# The public pages, by their unprefixed path (without the leading slash). Each has an address
# per language; their old address redirects. The archive's slugs are those of web.cache.
PUBLIC_PAGES: tuple[str, ...] = (
    "",
    "nominate",
    "nominate/sent",
    "laureates",
    r"laureates/[A-Za-z0-9-]{1,220}",
    r"editions/\d{1,4}",
    # The pages about the title and the accessibility statement (web.about); not the PJM
    # recording's file (/about/sign-language-video), which is the same in every language.
    "about",
    "about/easy-read",
    "accessibility",
)
_PUBLIC = re.compile("/(?:" + "|".join(PUBLIC_PAGES) + ")")
_PREFIX = re.compile("/(" + "|".join(LANGUAGES) + ")(/.*)?", re.DOTALL)

REDIRECT_VARY = b"accept-language, cookie"
OPEN_GRAPH_LOCALES = {"pl": "pl_PL", "en": "en_GB", "uk": "uk_UA"}

BeforeSend = Callable[[Message, Scope], Awaitable[None]]


def is_public_page(path: str) -> bool:
    """Whether ``path`` (unprefixed, no query) is a public page with an address per language."""
    return _PUBLIC.fullmatch(path) is not None


def split_prefix(path: str) -> tuple[str | None, str | None]:
    """(language, the rest) of a prefixed path: ``/uk/laureates`` gives ("uk", "/laureates").

    ``/uk`` gives ("uk", None): no rest, not even "/". A path without a prefix gives (None, path).
    """
    found = _PREFIX.fullmatch(path)
    if found is None:
        return None, path
    return found.group(1), found.group(2)


def localized(path: str, language: str) -> str:
    """The address of a public page in ``language``; any other path as it is.

    ``path`` may carry a query string or a fragment: ``/laureates?year=2024`` gives
    ``/en/laureates?year=2024``.
    """
    bare, mark, tail = _split_query(path)
    if not is_public_page(bare):
        return path
    return f"/{language}{bare}{mark}{tail}"


def in_language(target: str, language: str) -> str:
    """``target`` (a same-site path) for a visitor who just chose ``language``.

    A prefixed public page gets the chosen prefix (``/pl/laureates`` becomes ``/uk/laureates``),
    an old address its prefixed one; any other path stays (the cookie gives its language).
    """
    bare, mark, tail = _split_query(target)
    prefix, rest = split_prefix(bare)
    if prefix is not None:
        bare = rest or "/"
    return localized(bare + mark + tail, language)


def _split_query(path: str) -> tuple[str, str, str]:
    cut = min((index for index in (path.find("?"), path.find("#")) if index >= 0), default=-1)
    if cut < 0:
        return path, "", ""
    return path[:cut], path[cut], path[cut + 1 :]


def prefix_language(scope: Scope | dict[str, Any]) -> str | None:
    """The language of the address this request came to, if it had a prefix."""
    value = cast("dict[str, Any]", scope).get(LANGUAGE_KEY)
    return value if isinstance(value, str) else None


def _cookies(scope: Scope) -> dict[str, str]:
    from ambassador.web.language import cookie_values  # web.language reads LANGUAGE_KEY from here

    found: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            for key, item in cookie_values(value).items():
                found.setdefault(key, item)
    return found


def _header(scope: Scope, wanted: bytes) -> str:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return value.decode("latin-1")
    return ""


def visitor_language(scope: Scope) -> str:
    """The language an unprefixed address is shown in: cookie, else Accept-Language, else Polish."""
    from ambassador.web.language import chosen_language  # web.language reads LANGUAGE_KEY from here

    return i18n.negotiate(chosen_language(_cookies(scope)), _header(scope, b"accept-language"))


async def _redirect(send: Send, scope: Scope, location: str, status: int, before_send: BeforeSend | None) -> None:
    headers = [(b"location", location.encode("latin-1")), (b"content-length", b"0")]
    if status == 302:
        headers += [(b"vary", REDIRECT_VARY), (b"cache-control", b"no-cache")]
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": status, "headers": headers}
    if before_send is not None:
        await before_send(cast("Message", start), scope)  # the security headers every answer has
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": b"", "more_body": False}
    await send(end)


async def redirect_old(send: Send, scope: Scope, bare: str | None, before_send: BeforeSend | None) -> None:
    """Answer a GET or HEAD of an address that moved: ``/pl`` (``bare``, the language of a prefix
    with nothing after it) permanently to ``/pl/``; an old address of a public page (the
    scope's path) with 302 to the visitor's language, its query string kept."""
    if bare is not None:
        await _redirect(send, scope, f"/{bare}/", 301, before_send)
        return
    path = scope["path"]
    query = scope.get("query_string", b"").decode("latin-1")
    location = f"/{visitor_language(scope)}{path}" + (f"?{query}" if query else "")
    await _redirect(send, scope, location, 302, before_send)


# --- the templates' side -----------------------------------------------------------------------


def _request(context: Context) -> Any:
    return context.get("request")


def _current(context: Context) -> tuple[str, str]:
    """(path, query string) of the page being rendered, the path without its language prefix."""
    request = _request(context)
    if request is None:
        return "/", ""
    scope = request.scope
    return str(scope.get("path", "/")), scope.get("query_string", b"").decode("latin-1")


def _base_url(context: Context) -> str:
    request = _request(context)
    settings = getattr(getattr(getattr(request, "app", None), "state", None), "settings", None)
    return str(getattr(settings, "base_url", "")).rstrip("/")


def url(path: str) -> str:
    """``url('/laureates')``: a public page's address in the current language; other paths as they are."""
    return localized(path, i18n.current_language.get())


@pass_context
def page_url(context: Context, language: str) -> str:
    """The page being rendered in ``language``, its query string kept (the archive's filters).

    A page with one address for every language gives its path alone (the cookie gives its
    language; its query string may hold what no link should repeat).
    """
    path, query = _current(context)
    if not is_public_page(path):
        return path
    return f"/{language}{path}" + (f"?{query}" if query else "")


@pass_context
def is_public(context: Context) -> bool:
    """Whether the page being rendered is a public page (it has alternates and a canonical address)."""
    return is_public_page(_current(context)[0])


def _canonical_query(context: Context) -> str:
    """The query string that is part of the page's identity: a page's own ``canonical_query``.

    Anything else in the address (tracking parameters, a search) is not part of it.
    """
    value = context.get("canonical_query", "")
    return str(value) if value else ""


@pass_context
def canonical_url(context: Context) -> str:
    """The absolute address of this page in the current language."""
    path, _ = _current(context)
    return f"{_base_url(context)}/{i18n.current_language.get()}{path}{_canonical_query(context)}"


@pass_context
def alternate_urls(context: Context) -> list[tuple[str, str]]:
    """(hreflang, absolute address) of the page in every language, then ``x-default``.

    ``x-default`` is the old address: it sends each visitor to their language.
    """
    path, _ = _current(context)
    if not is_public_page(path):
        return []
    base, query = _base_url(context), _canonical_query(context)
    found = [(code, f"{base}/{code}{path}{query}") for code in LANGUAGES]
    return [*found, ("x-default", f"{base}{path}{query}")]


@pass_context
def absolute_url(context: Context, path: str) -> str:
    """``path`` on this site as an absolute address (from the ``base_url`` setting, not the Host header)."""
    return _base_url(context) + path


def describe(text: object, limit: int = 200) -> str:
    """A text for a meta description: one line, at most ``limit`` characters, cut at a word."""
    line = " ".join(str(text).split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.–-")
    return cut + "…"


def open_graph_locale(language: str) -> str:
    return OPEN_GRAPH_LOCALES.get(language, language)


def text_language(item: object, field: str) -> str:
    """The language a per-language text of ``item`` is shown in: the current one, else Polish.

    For texts that fall back to Polish when a translation is missing (an edition's name and
    introduction, a category's name), so the fallback carries ``lang="pl"``.
    """
    language = i18n.current_language.get()
    return language if getattr(item, f"{field}_{language}", "") else "pl"


def install(env: Environment) -> None:
    """The addresses' helpers for the templates."""
    env.globals.update(
        url=url,
        page_url=page_url,
        is_public=is_public,
        canonical_url=canonical_url,
        alternate_urls=alternate_urls,
        absolute_url=absolute_url,
        describe=describe,
        open_graph_locale=open_graph_locale,
        text_language=text_language,
    )
