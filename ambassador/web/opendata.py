"""Open data around the archive: the OpenAPI document, the Atom feed, the sitemap, JSON-LD.

Everything here is built from ``ambassador.domain.archive``, whose queries hold the embargo
(only published editions whose publication moment has passed), so the feed, the sitemap and
the structured data show an edition exactly when its pages do. Absolute addresses come from
the ``base_url`` setting, never from the request's Host header.
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from typing import Any

from litestar import Controller, Response, Router, get
from litestar.di import NamedDependency
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin

from ambassador import honour, i18n
from ambassador.db import utcnow
from ambassador.domain import archive
from ambassador.domain.archive import PublicEdition, PublicLaureate
from ambassador.enums import LANGUAGES, Distinction, NomineeKind
from ambassador.errors import N_
from ambassador.settings import Settings
from ambassador.web import labels
from ambassador.web.addresses import localized
from ambassador.web.downloads import PUBLIC_CACHE
from ambassador.web.templating import honour_text

ATOM = "http://www.w3.org/2005/Atom"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML = "http://www.w3.org/1999/xhtml"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
XML_TYPE = "application/xml; charset=utf-8"
# The feed's "updated" while nothing is public yet (Atom requires one).
NEVER = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# The schema.org type of a laureate, from who its category honours.
SCHEMA_TYPES: dict[NomineeKind, str] = {
    NomineeKind.ORGANISATION: "Organization",
    NomineeKind.PERSON: "Person",
    NomineeKind.EITHER: "Thing",
}

OPENAPI_DESCRIPTION = (
    "Read-only open data of the public archive of the %(title)s: "
    "editions and laureates, with their citations in Polish, English and Ukrainian. An edition "
    "appears here at its publication moment, not before. No authentication is needed."
)


def openapi_config() -> OpenAPIConfig:
    """Only the JSON document at /schema/openapi.json: no documentation UI (those load from CDNs).

    Built when the app is, after the honour is activated: the description names it.

    The router is excluded from authentication, so anyone may read the document.
    """
    return OpenAPIConfig(
        title="ambassador open data",
        version="1",
        description=OPENAPI_DESCRIPTION % {"title": honour.active().text("name", "en")},
        path="/schema",
        use_handler_docstrings=True,
        render_plugins=[JsonRenderPlugin()],
        openapi_router=Router("/schema", route_handlers=[], include_in_schema=False, opt={"exclude_from_auth": True}),
    )


def absolute(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def timestamp(moment: dt.datetime) -> str:
    """RFC 3339 in UTC, to the second (Atom and sitemaps both accept it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _latest(moments: Iterable[dt.datetime | None]) -> dt.datetime | None:
    found = [m if m.tzinfo is not None else m.replace(tzinfo=dt.UTC) for m in moments if m is not None]
    return max(found) if found else None


def laureate_changed(edition: PublicEdition, laureate: PublicLaureate) -> dt.datetime | None:
    """The last public change of a laureate's entry: publication, correction or withdrawal."""
    return _latest((edition.published_at, laureate.corrected_at, laureate.withdrawn_at))


def edition_changed(edition: PublicEdition, laureates: Sequence[PublicLaureate]) -> dt.datetime | None:
    """The last public change of an edition: its publication, or a later correction or withdrawal."""
    return _latest([edition.published_at, *(laureate_changed(edition, item) for item in laureates)])


def by_year(laureates: Iterable[PublicLaureate]) -> dict[int, list[PublicLaureate]]:
    grouped: dict[int, list[PublicLaureate]] = {}
    for item in laureates:
        grouped.setdefault(item.activity_year, []).append(item)
    return grouped


def _summary(edition: PublicEdition, laureates: Sequence[PublicLaureate]) -> str:
    """The edition's laureates as plain text, one line per category (in its order) and distinction."""
    if not laureates:
        return i18n.gettext(N_("No laureates are listed for this edition."))
    codes = [row.code for row in edition.categories]
    codes += sorted({item.category for item in laureates} - set(codes))
    lines = []
    for code in codes:
        for distinction in Distinction:
            chosen = [item for item in laureates if item.category == code and item.distinction == distinction]
            names = [f"{i.name} ({i18n.gettext(N_('withdrawn'))})" if i.withdrawn_at else i.name for i in chosen]
            if names:
                label = chosen[0].category_label()
                lines.append(f"{label}: {labels.distinction(distinction)}: {', '.join(names)}")
    return "\n".join(lines)


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = text
    return element


def _document(root: ET.Element) -> bytes:
    """The element as a UTF-8 XML document; ElementTree escapes every text and attribute."""
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")).encode("utf-8")


def build_feed(
    editions: Sequence[PublicEdition], laureates: Iterable[PublicLaureate], base_url: str, language: str
) -> bytes:
    """An Atom feed: one entry per public edition, newest first, in the current language."""
    grouped = by_year(laureates)
    entries = [(edition, grouped.get(edition.activity_year, [])) for edition in editions]
    changes = [edition_changed(edition, items) or NEVER for edition, items in entries]
    feed = ET.Element("feed", {"xmlns": ATOM, XML_LANG: language})
    _text(feed, "id", absolute(base_url, "/feed.atom"))
    title = f"{honour_text('name')}: {i18n.gettext(N_('Laureates'))}"
    _text(feed, "title", title)
    _text(feed, "updated", timestamp(max(changes, default=NEVER)))
    ET.SubElement(
        feed, "link", {"rel": "self", "type": "application/atom+xml", "href": absolute(base_url, "/feed.atom")}
    )
    archive_page = absolute(base_url, localized("/laureates", language))
    ET.SubElement(feed, "link", {"rel": "alternate", "type": "text/html", "href": archive_page})
    author = ET.SubElement(feed, "author")
    _text(author, "name", honour_text("publisher"))
    for (edition, items), changed in zip(entries, changes, strict=True):
        # The entry's id stays the language-neutral address (an Atom id never changes); its
        # link is the page in the feed's language.
        url = absolute(base_url, f"/editions/{edition.activity_year}")
        entry = ET.SubElement(feed, "entry")
        _text(entry, "id", url)
        _text(entry, "title", i18n.gettext(N_("Laureates of %(edition)s"), edition=edition.label))
        _text(entry, "updated", timestamp(changed))
        if edition.publication_date is not None:  # none for editions imported from earlier years
            _text(entry, "published", timestamp(edition.publication_date))
        page = absolute(base_url, localized(f"/editions/{edition.activity_year}", language))
        ET.SubElement(entry, "link", {"rel": "alternate", "type": "text/html", "href": page})
        _text(entry, "summary", _summary(edition, items), type="text")
    return _document(feed)


def build_sitemap(editions: Sequence[PublicEdition], laureates: Iterable[PublicLaureate], base_url: str) -> bytes:
    """The public pages: home, the form, the archive, every public edition and laureate, with lastmod.

    Each page is listed at its address in each language, each naming the others and the
    ``x-default`` (the old address, which sends a visitor to their language) as alternates.
    """
    grouped = by_year(laureates)
    pages: list[tuple[str, dt.datetime | None]] = []
    for edition in editions:
        items = grouped.get(edition.activity_year, [])
        pages.append((f"/editions/{edition.activity_year}", edition_changed(edition, items)))
        pages.extend((f"/laureates/{item.slug}", laureate_changed(edition, item)) for item in items)
    # The home page and the form show more than the archive: no lastmod is claimed for them.
    pages = [("/", None), ("/nominate", None), ("/laureates", _latest(moment for _, moment in pages)), *pages]
    urlset = ET.Element("urlset", {"xmlns": SITEMAP, "xmlns:xhtml": XHTML})
    for path, moment in pages:
        alternates = [(code, absolute(base_url, localized(path, code))) for code in LANGUAGES]
        alternates.append(("x-default", absolute(base_url, path)))
        for _, href in alternates[:-1]:
            url = ET.SubElement(urlset, "url")
            _text(url, "loc", href)
            if moment is not None:
                _text(url, "lastmod", timestamp(moment))
            for code, other in alternates:
                ET.SubElement(url, "xhtml:link", {"rel": "alternate", "hreflang": code, "href": other})
    return _document(urlset)


def award(laureate: PublicLaureate) -> str:
    """The distinction's name in the current language, e.g. "… A.D. 2024 – honourable mention"."""
    title = f"{honour_text('name')} {laureate.edition_label}"
    if laureate.distinction == Distinction.MENTION:
        return f"{title} – {labels.distinction(laureate.distinction)}"
    return title


def script_json(data: Any) -> str:
    """JSON safe inside a <script> element: no <, > or & can close it or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def laureate_jsonld(laureate: PublicLaureate, base_url: str, language: str, image: str = "") -> str:
    """schema.org data of a laureate's page; a withdrawn distinction is no longer claimed.

    ``image``: the path of the laureate's public picture (its largest copy), if there is one.
    """
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": SCHEMA_TYPES[laureate.category_row.nominee_kind] if laureate.category_row else "Thing",
        "name": laureate.name,
        "url": absolute(base_url, localized(f"/laureates/{laureate.slug}", language)),
    }
    if laureate.withdrawn_at is None:
        data["award"] = award(laureate)
    citation, _ = laureate.citation(language)
    if citation:
        data["description"] = citation
    if image:
        data["image"] = absolute(base_url, image)
    return script_json(data)


def robots(base_url: str) -> str:
    return f"User-agent: *\nDisallow:\n\nSitemap: {absolute(base_url, '/sitemap.xml')}\n"


class OpenDataController(Controller):
    """The feed, the sitemap and robots.txt; public, and outside the OpenAPI document."""

    opt = {"exclude_from_auth": True}
    include_in_schema = False

    @get("/feed.atom", name="opendata_feed")
    async def feed(self, settings: NamedDependency[Settings]) -> Response[bytes]:
        """Publications of the laureates, newest first."""
        now = utcnow()  # one moment for both queries, so they agree on what is public
        editions, laureates = await archive.editions(now), await archive.all_laureates(now=now)
        body = build_feed(editions, laureates, settings.base_url, i18n.current_language.get())
        return Response(body, media_type=ATOM_TYPE, headers=PUBLIC_CACHE)

    @get("/sitemap.xml", name="opendata_sitemap")
    async def sitemap(self, settings: NamedDependency[Settings]) -> Response[bytes]:
        now = utcnow()
        body = build_sitemap(await archive.editions(now), await archive.all_laureates(now=now), settings.base_url)
        return Response(body, media_type=XML_TYPE, headers=PUBLIC_CACHE)

    @get("/robots.txt", name="opendata_robots")
    async def robots_txt(self, settings: NamedDependency[Settings]) -> Response[str]:
        return Response(robots(settings.base_url), media_type="text/plain")
