"""HEAD is answered wherever GET is: the GET's status and headers, no body (RFC 9110, 9.3.2)."""

from __future__ import annotations

import logging

import pytest

from tests.archive_factories import add_laureate, archive_edition
from tests.conftest import Client

PAGES = [
    "/",
    "/nominate",
    "/laureates",
    "/pl/",
    "/uk/nominate",
    "/en/laureates",
    "/laureates.csv",
    "/api/laureates",
    "/feed.atom",
    "/healthz",
    "/nowhere",
]


@pytest.mark.parametrize("path", PAGES)
async def test_head_answers_as_get_does_without_the_body(client: Client, path: str) -> None:
    """Regression: HEAD on every GET route answered 405 (Litestar routes HEAD only where declared)."""
    got = await client.get(path)
    head = await client.head(path)

    assert (head.status_code, head.content) == (got.status_code, b"")
    same = ("content-type", "content-length", "cache-control", "content-security-policy")
    assert {name: head.headers.get(name) for name in same} == {name: got.headers.get(name) for name in same}


async def test_head_on_a_published_laureate_and_on_a_post_only_address(client: Client) -> None:
    edition = await archive_edition(2024)
    slug = await add_laureate(edition, name="Olena Kovalenko")

    page = await client.head(f"/laureates/{slug}", follow_redirects=True)
    post_only = await client.head("/logout")

    assert (page.status_code, page.content, int(page.headers["content-length"]) > 0) == (200, b"", True)
    assert (post_only.status_code, post_only.content) == (405, b"")


async def test_the_request_log_still_says_head(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="ambassador.request"):
        await client.head("/pl/")
    methods = [getattr(record, "method", None) for record in caplog.records if record.name == "ambassador.request"]
    assert methods == ["HEAD"]
