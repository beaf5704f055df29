"""Static files from memory: content-hashed names, immutable caching, precompressed variants.

Every file under ``ambassador/static`` is read once per process (:func:`static_files`). A
page names a file by :func:`hashed_path` (the templates' ``static_url``):
``/static/css/app.css`` becomes ``/static/css/app.<12 hex digits of its SHA-256>.css``, so a
changed file has a new address and the old one may be cached for good:
``Cache-Control: public, max-age=31536000, immutable``. The plain name (``/static/css/app.css``,
also with the ``?v=`` of earlier releases, which is ignored) is still served, with a short
cache (``public, max-age=300``), for pages and bookmarks that name it.

Text files (CSS, JavaScript, SVG, plain text) are compressed once, with gzip and brotli at
their highest levels, and the variant a client accepts (``Accept-Encoding``: brotli first,
then gzip, else the file as it is) is sent with ``Content-Encoding`` and ``Vary:
Accept-Encoding``. Each variant has its own strong ETag, and ``If-None-Match`` answers 304.
Fonts and other binary files are sent as they are.

The front door (``ambassador.web.front``, inside the request log and the HEAD handling, so these
requests are logged and HEAD works) looks a GET's path up in :func:`static_routes` and has a
known file answered by :func:`answer` before Litestar's routing and middleware,
with the same security headers every other response carries (``ambassador.web.middleware``).
Anything else under ``/static/`` (an unknown name, another method) goes on to Litestar, whose
static router still answers it (404 for an unknown file). Any compression added around the
app must leave responses that already have a ``Content-Encoding`` alone.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import brotli
from litestar.types import Send

from ambassador.resources import STATIC_DIR
from ambassador.settings import Settings
from ambassador.web.middleware import security_headers

PREFIX = "/static/"
DIGEST_LENGTH = 12
IMMUTABLE = b"public, max-age=31536000, immutable"
SHORT = b"public, max-age=300"
VARY = b"accept-encoding"
# Compressed once at start (highest levels): only text, and only files up to this size.
COMPRESSIBLE = frozenset({".css", ".js", ".svg", ".txt", ".json", ".map", ".xml", ".html"})
MAX_COMPRESSED_SOURCE = 512 * 1024
# A variant is kept only when it saves at least this share of the bytes.
MIN_SAVING = 0.1
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}


def digest_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:DIGEST_LENGTH]


def hashed_name(relative: str, digest: str) -> str:
    """``css/app.css`` -> ``css/app.<digest>.css`` (``LICENSE`` -> ``LICENSE.<digest>``)."""
    folder, _, name = relative.rpartition("/")
    stem, dot, suffix = name.rpartition(".")
    hashed = f"{stem}.{digest}.{suffix}" if dot and stem else f"{name}.{digest}"
    return f"{folder}/{hashed}" if folder else hashed


@dataclass(frozen=True)
class Variant:
    encoding: str  # "br", "gzip" or "" (the file as it is)
    body: bytes
    etag: bytes


@dataclass(frozen=True)
class StaticFile:
    relative: str
    media_type: str
    digest: str
    variants: tuple[Variant, ...]  # the best compression first, the file itself last

    @property
    def content(self) -> bytes:
        return self.variants[-1].body


def media_type_of(path: Path) -> str:
    if path.suffix in TYPES:
        return TYPES[path.suffix]
    guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


def _variants(path: Path, content: bytes, digest: str) -> tuple[Variant, ...]:
    found = []
    if path.suffix in COMPRESSIBLE and len(content) <= MAX_COMPRESSED_SOURCE:
        # mtime=0: the same bytes on every start and in every worker.
        candidates = (
            ("br", brotli.compress(content, quality=11)),
            ("gzip", gzip.compress(content, compresslevel=9, mtime=0)),
        )
        for encoding, body in candidates:
            if len(body) <= len(content) * (1 - MIN_SAVING):
                found.append(Variant(encoding, body, f'"{digest}-{encoding}"'.encode()))
    found.append(Variant("", content, f'"{digest}"'.encode()))
    return tuple(found)


def load(directory: Path) -> dict[str, StaticFile]:
    """Every file under ``directory`` by its relative name (``css/app.css``)."""
    files = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory).as_posix()
        if any(part.startswith(".") for part in relative.split("/")):
            continue
        content = path.read_bytes()
        digest = digest_of(content)
        files[relative] = StaticFile(relative, media_type_of(path), digest, _variants(path, content, digest))
    return files


@cache
def static_files(directory: Path = STATIC_DIR) -> dict[str, StaticFile]:
    """The files of ``directory``, read (and compressed) once per process."""
    return load(directory)


def hashed_path(relative: str, directory: Path = STATIC_DIR) -> str:
    """The address of a static file under its content-hashed name."""
    found = static_files(directory).get(relative)
    if found is None:
        raise FileNotFoundError(directory / relative)
    return PREFIX + hashed_name(relative, found.digest)


# --- serving ------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def accepted_encodings(header: bytes) -> frozenset[str]:
    """The codings an ``Accept-Encoding`` value accepts (q > 0); ``*`` stands for any."""
    accepted = set()
    for item in header.decode("latin-1").lower().split(","):
        name, _, params = item.partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if name.strip() and quality > 0:
            accepted.add(name.strip())
    return frozenset(accepted)


def choose(variants: Iterable[Variant], header: bytes) -> Variant:
    accepted = accepted_encodings(header) if header else frozenset()
    last = None
    for variant in variants:
        last = variant
        if not variant.encoding or variant.encoding in accepted or "*" in accepted:
            return variant
    assert last is not None  # the file itself is always there
    return last


def _matches(header: bytes, etag: bytes) -> bool:
    """``If-None-Match`` (weak comparison, RFC 9110 13.1.2)."""
    tags = {tag.strip().removeprefix(b"W/") for tag in header.split(b",")}
    return b"*" in tags or etag in tags


@dataclass(frozen=True)
class Route:
    """What one address answers: the file, and the headers of each of its variants."""

    file: StaticFile
    headers: dict[str, tuple[tuple[bytes, bytes], ...]]  # by variant encoding, without length
    not_modified: dict[str, list[tuple[bytes, bytes]]]


def _route(file: StaticFile, cache_control: bytes, common: list[tuple[bytes, bytes]]) -> Route:
    headers = {}
    not_modified = {}
    for variant in file.variants:
        validators = [(b"etag", variant.etag), (b"cache-control", cache_control), (b"vary", VARY)]
        encoding = [(b"content-encoding", variant.encoding.encode())] if variant.encoding else []
        headers[variant.encoding] = (
            (b"content-type", file.media_type.encode()),
            (b"content-length", str(len(variant.body)).encode()),
            *encoding,
            *validators,
            *common,
        )
        not_modified[variant.encoding] = [*validators, *common]
    return Route(file, headers, not_modified)


def routes(files: dict[str, StaticFile], production: bool, *, hsts_preload: bool = False) -> dict[str, Route]:
    """Every address a file answers on: its hashed name (immutable) and its plain name (short cache)."""
    policy = security_headers(production, hsts_preload=hsts_preload)
    common = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in policy.items()]
    common.append((b"cross-origin-resource-policy", b"cross-origin"))
    table = {}
    for relative, file in files.items():
        table[PREFIX + relative] = _route(file, SHORT, common)
        table[PREFIX + hashed_name(relative, file.digest)] = _route(file, IMMUTABLE, common)
    return table


async def answer(route: Route, headers: Iterable[tuple[bytes, bytes]], send: Send) -> None:
    """Answer a GET of a file from memory: the variant the request accepts, or 304."""
    accept = b""
    if_none_match = None
    for name, value in headers:
        if name == b"accept-encoding":
            accept = value
        elif name == b"if-none-match":
            if_none_match = value
    variant = choose(route.file.variants, accept)
    if if_none_match is not None and _matches(if_none_match, variant.etag):
        unchanged = list(route.not_modified[variant.encoding])
        await send({"type": "http.response.start", "status": 304, "headers": unchanged})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    # A fresh list each time: a wrapper outside may add to it.
    await send({"type": "http.response.start", "status": 200, "headers": list(route.headers[variant.encoding])})
    await send({"type": "http.response.body", "body": variant.body, "more_body": False})


def static_routes(settings: Settings, directory: Path = STATIC_DIR) -> dict[str, Route]:
    """The addresses the front door answers from memory (see the module's docstring)."""
    return routes(static_files(directory), settings.production, hsts_preload=settings.hsts_preload)
