"""The front door (ambassador.web.front): one pass deciding addresses, HEAD, static files and compression."""

from __future__ import annotations

import logging
from typing import Any, cast

import brotli
import pytest

from ambassador.web import compression
from ambassador.web.compression import MIN_SIZE, Compressed, compressing, has_cookie
from ambassador.web.front import BARE_PREFIX, OLD, PASS, PREFIXED, way_of
from tests.archive_factories import archive_edition
from tests.conftest import Client


def test_the_way_of_a_path_is_decided_by_the_path_alone() -> None:
    ways = {
        path: (way.kind, way.language, way.path, way.compress)
        for path in ("/uk/laureates", "/pl", "/laureates", "/en/staff", "/api/v1/editions", "/staff/editions", "/")
        for way in [way_of(path)]
    }

    assert ways == {
        "/uk/laureates": (PREFIXED, "uk", "/laureates", compression.ANONYMOUS),
        "/pl": (BARE_PREFIX, "pl", "/pl", compression.NEVER),
        "/laureates": (OLD, None, "/laureates", compression.ANONYMOUS),
        "/en/staff": (PASS, None, "/en/staff", compression.NEVER),
        "/api/v1/editions": (PASS, None, "/api/v1/editions", compression.ALWAYS),
        "/staff/editions": (PASS, None, "/staff/editions", compression.NEVER),
        "/": (OLD, None, "/", compression.ANONYMOUS),
    }
    assert way_of("/pl/laureates") is way_of("/pl/laureates")  # remembered
    long = "/pl/laureates/" + "a" * 400
    assert (way_of(long).kind, way_of(long) is way_of(long)) == (PASS, False)  # too long to remember


def test_the_session_cookie_is_found_among_several_cookie_headers() -> None:
    assert has_cookie(b"lang=pl;session=abc", b"session") is True
    assert has_cookie(b"lang=pl; csrftoken=x", b"session") is False
    assert has_cookie(b"mysession=1; session_old=2", b"session") is False


def test_a_compressed_body_is_found_by_its_etag_only_when_the_body_is_the_same() -> None:
    memory = Compressed()
    page = b"<p>Laureates</p>" * 200
    first = memory.get(page, "br", b'W/"a"')
    other = b"<p>Editions</p>" * 200
    changed = memory.get(other, "br", b'W/"a"')  # the same tag for another body: compressed anew

    assert brotli.decompress(changed) == other
    assert memory.get(other, "br", b'W/"a"') is changed
    assert memory.get(page, "br", b'W/"a"') is first  # found by its content again
    assert brotli.decompress(first) == page


async def test_a_start_without_a_body_still_goes_out() -> None:
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    start = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]}
    wrapped, finish = compressing(cast("Any", send), "br", Compressed())
    await wrapped(cast("Any", start))
    await finish()

    assert sent == [start]


async def test_only_responses_that_could_be_compressed_get_vary() -> None:
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    big = b"x" * MIN_SIZE
    for kind, body in ((b"text/html", big), (b"text/html", b"small"), (b"image/png", big)):
        wrapped, _ = compressing(cast("Any", send), None, Compressed())
        await wrapped(cast("Any", {"type": "http.response.start", "status": 200, "headers": [(b"content-type", kind)]}))
        await wrapped(cast("Any", {"type": "http.response.body", "body": body}))
    varies = [dict(m["headers"]).get(b"vary") for m in sent if m["type"] == "http.response.start"]

    assert varies == [b"accept-encoding", None, None]


async def test_head_of_a_bare_prefix_and_of_an_old_address_with_its_query(client: Client) -> None:
    bare = await client.head("/en")
    old = await client.head("/laureates?year=2024")

    assert (bare.status_code, bare.headers["location"], bare.content) == (301, "/en/", b"")
    assert (old.status_code, old.headers["location"], old.content) == (302, "/pl/laureates?year=2024", b"")
    assert old.headers["x-frame-options"] == "DENY"


async def test_posts_to_moved_addresses_are_not_redirected(client: Client) -> None:
    answers = {path: await client.post(path) for path in ("/laureates", "/pl")}
    # No redirect to a language address: the POST is answered where it was sent.
    assert {path: (a.status_code, a.headers.get("location")) for path, a in answers.items()} == {
        "/laureates": (405, None),
        "/pl": (404, None),
    }


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_the_request_log_has_the_address_and_method_the_client_used(
    client: Client, caplog: pytest.LogCaptureFixture, method: str
) -> None:
    await archive_edition(2023)
    with caplog.at_level(logging.INFO, logger="ambassador.request"):
        answer = await client.request(method, "/uk/laureates", headers={"accept-encoding": "br"})
    logged = [
        (getattr(r, "method", None), getattr(r, "path", None), getattr(r, "status", None))
        for r in caplog.records
        if r.name == "ambassador.request"
    ]

    assert logged == [(method, "/uk/laureates", 200)]
    assert answer.headers["content-encoding"] == "br"
