"""Static files from memory: hashed names, immutable caching, 304, brotli and gzip variants."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import brotli

from ambassador.resources import STATIC_DIR
from ambassador.web.static import accepted_encodings, hashed_name, load
from tests.conftest import Client

CSS = (STATIC_DIR / "css" / "app.css").read_bytes()
CSS_DIGEST = hashlib.sha256(CSS).hexdigest()[:12]


def test_a_hashed_name_carries_the_content_digest_before_the_suffix() -> None:
    assert hashed_name("css/app.css", "0123456789ab") == "css/app.0123456789ab.css"
    assert hashed_name("favicon.svg", "0123456789ab") == "favicon.0123456789ab.svg"
    assert hashed_name("fonts/LICENSE", "0123456789ab") == "fonts/LICENSE.0123456789ab"
    assert hashed_name(".hidden", "0123456789ab") == ".hidden.0123456789ab"


async def test_pages_name_static_files_by_their_content_hash(client: Client) -> None:
    home = await client.get("/en/")
    assert f'href="/static/css/app.{CSS_DIGEST}.css"' in home.text
    names = re.findall(r'(?:href|src)="(/static/[^"]+)"', (await client.get("/en/nominate")).text)
    assert names != []
    assert [n for n in names if not re.search(r"\.[0-9a-f]{12}\.[a-z]+$", n)] == []


async def test_a_hashed_name_is_cached_for_a_year_and_answers_304(client: Client) -> None:
    response = await client.get(f"/static/css/app.{CSS_DIGEST}.css", headers={"accept-encoding": "identity"})
    assert response.status_code == 200
    assert response.content == CSS
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.headers["vary"] == "accept-encoding"
    assert "content-encoding" not in response.headers
    etag = response.headers["etag"]
    assert etag == f'"{CSS_DIGEST}"'
    # The headers every response carries (ambassador.web.middleware), static files being open data.
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]

    again = await client.get(
        f"/static/css/app.{CSS_DIGEST}.css", headers={"accept-encoding": "identity", "if-none-match": etag}
    )
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    assert again.headers["cache-control"] == "public, max-age=31536000, immutable"
    other = await client.get(f"/static/css/app.{CSS_DIGEST}.css", headers={"if-none-match": '"0000"'})
    assert other.status_code == 200


async def test_brotli_and_gzip_variants_decode_to_the_file(client: Client) -> None:
    path = f"/static/css/app.{CSS_DIGEST}.css"
    both = await client.get(path, headers={"accept-encoding": "gzip, deflate, br"})
    assert both.headers["content-encoding"] == "br"
    assert both.headers["etag"] == f'"{CSS_DIGEST}-br"'
    # httpx decodes what it can; the raw body is checked through the decoder itself.
    assert both.content == CSS
    only_gzip = await client.get(path, headers={"accept-encoding": "gzip"})
    assert only_gzip.headers["content-encoding"] == "gzip"
    assert int(only_gzip.headers["content-length"]) < len(CSS)
    assert only_gzip.content == CSS
    refused = await client.get(path, headers={"accept-encoding": "br;q=0, gzip;q=0"})
    assert ("content-encoding" in refused.headers, refused.content) == (False, CSS)
    conditional = await client.get(path, headers={"accept-encoding": "br", "if-none-match": f'"{CSS_DIGEST}-br"'})
    assert conditional.status_code == 304


def test_the_precompressed_variants_are_the_file_compressed(tmp_path: Path) -> None:
    (tmp_path / "js").mkdir()
    script = b"(function () { 'use strict'; }());\n" * 200
    (tmp_path / "js" / "a.js").write_bytes(script)
    (tmp_path / "font.ttf").write_bytes(bytes(range(256)) * 4)
    files = load(tmp_path)
    variants = {v.encoding: v.body for v in files["js/a.js"].variants}
    assert set(variants) == {"br", "gzip", ""}
    assert brotli.decompress(variants["br"]) == script
    assert gzip.decompress(variants["gzip"]) == script
    assert variants[""] == script
    assert [v.encoding for v in files["font.ttf"].variants] == [""]  # binary: as it is


def test_accept_encoding_is_read_with_its_weights() -> None:
    assert accepted_encodings(b"gzip, deflate, br, zstd") == {"gzip", "deflate", "br", "zstd"}
    assert accepted_encodings(b"br;q=0, gzip;q=0.5") == {"gzip"}
    assert accepted_encodings(b"GZIP;q=bad, *") == {"*"}


async def test_old_plain_names_are_still_served_with_a_short_cache(client: Client) -> None:
    for path in ("/static/css/app.css", "/static/css/app.css?v=0123456789ab"):
        response = await client.get(path, headers={"accept-encoding": "identity"})
        assert (response.status_code, response.content) == (200, CSS), path
        assert response.headers["cache-control"] == "public, max-age=300"
        assert response.headers["etag"] == f'"{CSS_DIGEST}"'


async def test_head_and_unknown_static_names(client: Client) -> None:
    head = await client.head(f"/static/css/app.{CSS_DIGEST}.css", headers={"accept-encoding": "identity"})
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", str(len(CSS)))
    assert (await client.get("/static/css/app.000000000000.css")).status_code == 404
    assert (await client.get("/static/../pyproject.toml")).status_code == 404
    assert (await client.post(f"/static/css/app.{CSS_DIGEST}.css")).status_code in (403, 405)
