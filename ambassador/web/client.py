"""The real client of a request: X-Forwarded-* believed only from the trusted proxies.

:class:`ForwardedMiddleware` wraps Litestar's whole handler (before the router and every
middleware). It first records the TCP peer as it connected (:func:`direct_peer`, for
/metrics's guard). When the TCP peer
(``scope["client"]``) is one of ``AMBASSADOR_TRUSTED_PROXIES``, it rewrites the scope:

- ``client``: walking ``X-Forwarded-For`` from the right, trusted hops are skipped and the
  first untrusted address is the client (all trusted: the leftmost). An entry that is not an
  IP address stops the walk and the peer stays the client (port 0: the client's port is not
  forwarded).
- ``scheme``: the rightmost ``X-Forwarded-Proto`` value, when it is ``http`` or ``https``.
- the ``Host`` header: the rightmost ``X-Forwarded-Host`` value, when it is a valid
  ``host[:port]``.

From any other peer these headers change nothing. In both cases they are removed from the
scope (with ``Forwarded`` and ``X-Real-IP``, which are never believed), so no later code,
Litestar's included, can read them.

Started by plain ``uvicorn`` (proxy headers on by default, trusted from 127.0.0.1), the server
has already replaced the peer with an ``X-Forwarded-For`` address before this middleware
runs, and the real peer is lost. Such a request (an ``X-Forwarded-For`` header and a client
that the server derived from it: port 0, or equal to one of its entries) gets the client
``unknown``: every such request shares one address for limits and throttles, whatever it
claims, and an error is logged once telling how to start the app (``ambassador serve``, or
uvicorn's ``--no-proxy-headers``).
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from litestar.connection import ASGIConnection
from litestar.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("ambassador.client")

UNKNOWN = "unknown"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_FOR = b"x-forwarded-for"
_PROTO = b"x-forwarded-proto"
_HOST = b"x-forwarded-host"
_REMOVED = frozenset({_FOR, _PROTO, _HOST, b"x-forwarded-port", b"forwarded", b"x-real-ip"})
_SCHEMES = frozenset({"http", "https"})
_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_HOST_PORT = re.compile(rf"(?:{_LABEL}(?:\.{_LABEL})*\.?|\[[0-9A-Fa-f:.]+\])(?::(\d{{1,5}}))?")


def client_address(connection: ASGIConnection[Any, Any, Any, Any] | Mapping[str, Any]) -> str:
    """The client's address as the app believes it (after :class:`ForwardedMiddleware`)."""
    scope: Any = connection.scope if isinstance(connection, ASGIConnection) else connection
    client = scope.get("client")
    return str(client[0]) if client else UNKNOWN


def parse_address(text: str) -> IPAddress | None:
    """An IP address, IPv4-mapped IPv6 as IPv4; None when ``text`` is not one."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parse_networks(items: Iterable[str]) -> tuple[IPNetwork, ...]:
    """The settings' trusted proxies (already checked by ``load_settings``) as networks."""
    return tuple(ipaddress.ip_network(item, strict=True) for item in items)


def is_trusted(address: IPAddress | None, networks: tuple[IPNetwork, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def forwarded_client(forwarded_for: str, networks: tuple[IPNetwork, ...]) -> str | None:
    """The client named by an ``X-Forwarded-For`` value that a trusted peer sent.

    From the right: trusted hops are skipped; the first untrusted address is the client. A
    malformed entry on the way, or an empty header, gives None (the peer stays the client).
    When every entry is trusted, the leftmost is the client.
    """
    entries = [entry.strip() for entry in forwarded_for.split(",")]
    if not entries or entries == [""]:
        return None
    for entry in reversed(entries):
        address = parse_address(entry)
        if address is None:
            return None
        if not is_trusted(address, networks):
            return str(address)
    return str(parse_address(entries[0]))


def forwarded_scheme(value: str) -> str | None:
    """The rightmost ``X-Forwarded-Proto`` value when it is http or https."""
    last = value.rsplit(",", 1)[-1].strip().lower()
    return last if last in _SCHEMES else None


def forwarded_host(value: str) -> str | None:
    """The rightmost ``X-Forwarded-Host`` value when it is a valid ``host[:port]``."""
    last = value.rsplit(",", 1)[-1].strip()
    match = _HOST_PORT.fullmatch(last)
    if match is None or len(last) > 261:
        return None
    port = match.group(1)
    if port is not None and not 0 < int(port) < 65536:
        return None
    return last.lower()


def _rewritten_by_server(client: tuple[str, int], forwarded_for: str) -> bool:
    """Whether the server (uvicorn's proxy headers) made ``client`` out of X-Forwarded-For.

    uvicorn gives such a client the port written in the header, or 0; a TCP peer never has
    port 0, and its real port is written in the header only by someone who guessed it.
    """
    if client[1] == 0:
        return True
    host, port = client
    claimed = {entry.strip() for entry in forwarded_for.split(",")}
    return f"{host}:{port}" in claimed or f"[{host}]:{port}" in claimed


# The TCP peer as it connected, and whether it sent proxy headers: read by /metrics's guard
# (ambassador.web.metrics), which must judge the peer itself, never the forwarded client.
DIRECT_PEER = "ambassador.direct_peer"
PROXY_HEADERS = frozenset({_FOR, b"forwarded", b"x-real-ip"})


def record_direct_peer(scope: Any) -> None:
    client = scope.get("client")
    proxied = any(name in PROXY_HEADERS for name, _ in scope["headers"])
    scope.setdefault("state", {})[DIRECT_PEER] = (str(client[0]) if client else None, proxied)


def direct_peer(scope: Any) -> tuple[str | None, bool]:
    """The peer's address before any forwarded header was believed, and whether it sent any."""
    recorded = scope.get("state", {}).get(DIRECT_PEER)
    if recorded is not None:
        return recorded  # type: ignore[no-any-return]
    client = scope.get("client")
    return (str(client[0]) if client else None, any(name in PROXY_HEADERS for name, _ in scope["headers"]))


class ForwardedMiddleware:
    """Pure ASGI: believe X-Forwarded-* from trusted peers only, and strip them always."""

    _warned = False

    def __init__(self, app: ASGIApp, trusted_proxies: Iterable[str] = ()) -> None:
        self.app = app
        self.networks = parse_networks(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            record_direct_peer(scope)
            self.rewrite(scope)
        await self.app(scope, receive, send)

    def rewrite(self, scope: Any) -> None:
        values: dict[bytes, list[str]] = {}
        kept: list[tuple[bytes, bytes]] = []
        for name, value in scope["headers"]:
            if name in _REMOVED:
                values.setdefault(name, []).append(value.decode("latin-1"))
            else:
                kept.append((name, value))
        if not values:
            return
        scope["headers"] = kept
        forwarded_for = ", ".join(values.get(_FOR, ()))
        client = scope.get("client")
        if client is None:
            return
        if forwarded_for and _rewritten_by_server(client, forwarded_for):
            self._warn_once()
            scope["client"] = (UNKNOWN, 0)
            return
        if not is_trusted(parse_address(str(client[0])), self.networks):
            return
        if forwarded_for and (real := forwarded_client(forwarded_for, self.networks)) is not None:
            scope["client"] = (real, 0)
        if _PROTO in values and (scheme := forwarded_scheme(", ".join(values[_PROTO]))) is not None:
            scope["scheme"] = scheme if scope["type"] == "http" else scheme.replace("http", "ws")
        if _HOST in values and (host := forwarded_host(", ".join(values[_HOST]))) is not None:
            scope["headers"] = [(n, v) for n, v in kept if n != b"host"] + [(b"host", host.encode("latin-1"))]

    @classmethod
    def _warn_once(cls) -> None:
        if not cls._warned:
            cls._warned = True
            log.error(
                "the server replaced the client's address with an X-Forwarded-For value before the app "
                "could check it; such requests all count as one client 'unknown'. Start the app with "
                "`ambassador serve`, or uvicorn with --no-proxy-headers, and name the proxies in "
                "AMBASSADOR_TRUSTED_PROXIES"
            )
