"""The client's address: X-Forwarded-* believed only from AMBASSADOR_TRUSTED_PROXIES.

The unit tests take the parsing and the right-to-left walk apart; the live tests run real
``ambassador serve`` processes (the TCP peer is this test process, 127.0.0.1), and one plain
``uvicorn`` start, whose own proxy-header handling trusts 127.0.0.1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from ambassador.settings import ConfigurationError, load_settings
from ambassador.tables import KeyValue, ThrottleCounter
from ambassador.web.client import (
    ForwardedMiddleware,
    client_address,
    forwarded_client,
    forwarded_host,
    forwarded_scheme,
    parse_networks,
)
from tests.factories import make_edition
from tests.test_live_server import form_post, live_server, nominate

PROXIES = parse_networks(["127.0.0.1", "10.0.0.0/8", "::1"])

# --- parsing ---------------------------------------------------------------------------------


def test_trusted_proxies_are_read_as_addresses_and_networks(tmp_path: Path) -> None:
    settings = load_settings(
        {"AMBASSADOR_VAR_DIR": str(tmp_path), "AMBASSADOR_TRUSTED_PROXIES": " 127.0.0.1, 10.0.0.0/8 ,::1,fd00::/8,"}
    )

    assert settings.trusted_proxies == ("127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8")
    assert load_settings({"AMBASSADOR_VAR_DIR": str(tmp_path)}).trusted_proxies == ()


@pytest.mark.parametrize("value", ["caddy", "127.0.0.1/33", "10.0.0.1/8", "1.2.3.4:80", "*"])
def test_an_invalid_trusted_proxy_is_refused_with_the_variable_named(value: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as refused:
        load_settings({"AMBASSADOR_VAR_DIR": str(tmp_path), "AMBASSADOR_TRUSTED_PROXIES": f"127.0.0.1,{value}"})

    assert str(refused.value).startswith(f"AMBASSADOR_TRUSTED_PROXIES: {value!r} is not an IP address")


@pytest.mark.parametrize(
    ("header", "client"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("203.0.113.7, 10.1.2.3", "203.0.113.7"),  # a trusted hop on the right is skipped
        ("6.6.6.6, 203.0.113.7", "203.0.113.7"),  # a forged left part is ignored
        ("6.6.6.6, 203.0.113.7, 10.0.0.5, 127.0.0.1", "203.0.113.7"),
        ("10.0.0.9, 10.0.0.5", "10.0.0.9"),  # every hop trusted: the leftmost
        (" 2001:db8::1 ", "2001:db8::1"),
        ("::ffff:198.51.100.4", "198.51.100.4"),
        ("garbage", None),  # malformed: the peer stays the client
        ("6.6.6.6, garbage, 10.0.0.5", None),
        ("203.0.113.7:5555", None),  # ports are not part of what a proxy sends here
        ("", None),
        (", ", None),
    ],
)
def test_the_client_is_the_first_untrusted_address_from_the_right(header: str, client: str | None) -> None:
    assert forwarded_client(header, PROXIES) == client


@pytest.mark.parametrize(
    ("header", "scheme"),
    [("https", "https"), ("HTTP", "http"), ("http, https", "https"), ("https, ftp", None), ("javascript", None)],
)
def test_the_scheme_is_the_rightmost_http_or_https(header: str, scheme: str | None) -> None:
    assert forwarded_scheme(header) == scheme


@pytest.mark.parametrize(
    ("header", "host"),
    [
        ("ambassador.krakow.pl", "ambassador.krakow.pl"),
        ("Ambassador.Krakow.PL:8443", "ambassador.krakow.pl:8443"),
        ("[2001:db8::1]:443", "[2001:db8::1]:443"),
        ("evil.example, ambassador.krakow.pl", "ambassador.krakow.pl"),
        ("a b", None),
        ("host:99999", None),
        ("host/path", None),
        ("-bad.example", None),
        ("", None),
    ],
)
def test_the_host_is_the_rightmost_valid_host_and_port(header: str, host: str | None) -> None:
    assert forwarded_host(header) == host


# --- the middleware on a scope -----------------------------------------------------------------


def _scope(peer: tuple[str, int], *headers: tuple[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "scheme": "http",
        "client": peer,
        "headers": [(b"host", b"127.0.0.1:8000"), *((k.encode(), v.encode()) for k, v in headers)],
    }


def _rewrite(scope: dict[str, Any], proxies: tuple[str, ...] = ("127.0.0.1",)) -> dict[str, Any]:
    async def app(*_: Any) -> None:
        return None

    ForwardedMiddleware(app, proxies).rewrite(scope)
    return scope


FORWARDED = (
    ("x-forwarded-for", "6.6.6.6, 203.0.113.7"),
    ("x-forwarded-proto", "https"),
    ("x-forwarded-host", "ambassador.krakow.pl"),
    ("forwarded", "for=1.1.1.1"),
    ("x-real-ip", "1.1.1.1"),
)


def test_a_trusted_peer_sets_client_scheme_and_host_and_the_headers_are_gone() -> None:
    scope = _rewrite(_scope(("127.0.0.1", 51000), *FORWARDED, ("accept", "text/html")))

    assert scope["client"] == ("203.0.113.7", 0)
    assert scope["scheme"] == "https"
    assert scope["headers"] == [(b"accept", b"text/html"), (b"host", b"ambassador.krakow.pl")]
    assert client_address(scope) == "203.0.113.7"


def test_an_untrusted_peer_changes_nothing_and_its_headers_are_gone() -> None:
    scope = _rewrite(_scope(("198.51.100.9", 51000), *FORWARDED))

    assert scope["client"] == ("198.51.100.9", 51000)
    assert scope["scheme"] == "http"
    assert scope["headers"] == [(b"host", b"127.0.0.1:8000")]


def test_without_trusted_proxies_even_localhost_is_not_believed() -> None:
    scope = _rewrite(_scope(("127.0.0.1", 51000), *FORWARDED), proxies=())

    assert (scope["client"], scope["scheme"]) == (("127.0.0.1", 51000), "http")


@pytest.mark.parametrize("rewritten", [("6.6.6.6", 0), ("6.6.6.6", 4444)])
def test_a_client_the_server_took_from_the_header_becomes_unknown(rewritten: tuple[str, int]) -> None:
    # uvicorn's own proxy headers ran first: the peer is lost, the header's claim is not taken.
    header = "6.6.6.6" if rewritten[1] == 0 else "6.6.6.6:4444"
    scope = _rewrite(_scope(rewritten, ("x-forwarded-for", header)), proxies=("127.0.0.1", "6.6.6.6"))

    assert scope["client"] == ("unknown", 0)
    assert client_address(scope) == "unknown"


# --- real servers --------------------------------------------------------------------------------

LIMITS = {"AMBASSADOR_NOMINATION_POSTS_PER_HOUR": "2", "AMBASSADOR_LOGIN_MAX_FAILURES_PER_ADDRESS": "3"}


async def _nominations(base: str, forwarded_for: Sequence[str | None]) -> list[int]:
    """One browser per request, each claiming its X-Forwarded-For (None: no header)."""
    statuses = []
    for claim in forwarded_for:
        headers = {"x-forwarded-for": claim} if claim else {}
        async with httpx.AsyncClient(base_url=base, headers=headers) as browser:
            statuses.append((await nominate(browser)).status_code)
    return statuses


async def _failed_logins(base: str, forwarded_for: Sequence[str | None]) -> list[int]:
    """Failed logins for different unknown emails (the per-account limit stays out of it)."""
    statuses = []
    for number, claim in enumerate(forwarded_for):
        headers = {"x-forwarded-for": claim} if claim else {}
        async with httpx.AsyncClient(base_url=base, headers=headers) as browser:
            answer = await form_post(browser, "/login", {"email": f"ghost{number}@example.org", "password": "x" * 20})
            statuses.append(answer.status_code)
    return statuses


def _request_lines(log: Path, path: str) -> list[dict[str, Any]]:
    lines = []
    for text in log.read_text(encoding="utf-8").splitlines():
        if text.startswith("{"):
            entry = json.loads(text)
            if entry.get("message") == "request" and entry.get("path") == path:
                lines.append(entry)
    return lines


async def test_spoofed_headers_from_an_untrusted_peer_change_no_limit(database_url: str, tmp_path: Path) -> None:
    await make_edition()
    spoofed = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"]
    with live_server(database_url, tmp_path / "spoofed", LIMITS) as base:
        nominations = await _nominations(base, spoofed[:3])
        logins = await _failed_logins(base, spoofed)
    # The throttle's counts are in the shared database, and so are the nomination limit's on
    # PostgreSQL (the database store; files in each server's var directory on SQLite).
    await ThrottleCounter.delete(force=True)
    await KeyValue.delete(force=True)
    with live_server(database_url, tmp_path / "plain", LIMITS) as base:
        plain_nominations = await _nominations(base, [None, None, None])
        plain_logins = await _failed_logins(base, [None, None, None, None])

    assert nominations == plain_nominations == [303, 303, 429]
    assert logins == plain_logins == [400, 400, 400, 429]


async def test_through_a_trusted_proxy_two_clients_are_counted_apart(database_url: str, tmp_path: Path) -> None:
    await make_edition()
    log = tmp_path / "server.log"
    trusted = {**LIMITS, "AMBASSADOR_TRUSTED_PROXIES": "127.0.0.1"}
    with live_server(database_url, tmp_path / "var", trusted, log=log) as base:
        first = await _nominations(base, ["203.0.113.1", "203.0.113.1", "203.0.113.1"])
        second = await _nominations(base, ["203.0.113.2"])
        # A forged left part is ignored: both are the client 203.0.113.3 (a third address).
        forged = await _nominations(base, ["6.6.6.6, 203.0.113.3", "7.7.7.7, 203.0.113.3", "8.8.8.8, 203.0.113.3"])
        logins_first = await _failed_logins(base, ["203.0.113.4"] * 4)
        logins_second = await _failed_logins(base, ["203.0.113.5"])
        async with httpx.AsyncClient(base_url=base) as browser:
            https = await browser.get(
                "/healthz", headers={"x-forwarded-for": "203.0.113.6", "x-forwarded-proto": "https"}
            )

    assert (first, second, forged) == ([303, 303, 429], [303], [303, 303, 429])
    assert (logins_first, logins_second) == ([400, 400, 400, 429], [400])
    assert https.status_code == 200
    posts = _request_lines(log, "/nominate")
    assert [line["client"] for line in posts if line["method"] == "POST"] == [
        *["203.0.113.1"] * 3,
        "203.0.113.2",
        *["203.0.113.3"] * 3,
    ]
    [health] = _request_lines(log, "/healthz")[-1:]
    assert (health["client"], health["scheme"]) == ("203.0.113.6", "https")


async def test_a_plain_uvicorn_start_cannot_be_spoofed_and_says_how_to_start(database_url: str, tmp_path: Path) -> None:
    # uvicorn's defaults: proxy headers on, X-Forwarded-For believed from 127.0.0.1.
    uvicorn = (sys.executable, "-m", "uvicorn", "ambassador.web.app:create_app", "--factory")
    log = tmp_path / "server.log"
    with live_server(database_url, tmp_path / "var", LIMITS, log=log, command=uvicorn) as base:
        logins = await _failed_logins(base, ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"])
        unspoofed = await _failed_logins(base, [None])

    # Every claim counts as the one client "unknown"; without a claim the peer is itself.
    assert logins == [400, 400, 400, 429]
    assert unspoofed == [400]
    posts = [line["client"] for line in _request_lines(log, "/login") if line["method"] == "POST"]
    assert posts == ["unknown"] * 4 + ["127.0.0.1"]
    errors = [line for line in log.read_text(encoding="utf-8").splitlines() if '"logger": "ambassador.client"' in line]
    assert len(errors) == 1
    assert "`ambassador serve`" in errors[0]
    assert "--no-proxy-headers" in errors[0]
