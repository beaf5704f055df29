"""``/metrics`` for Prometheus, through Litestar's Prometheus plugin; see docs/metrics.md.

- :class:`RouteMetricsMiddleware` (the plugin's ``middleware_class``) counts each request by
  method, route template (``/n/{token}``, never the raw path with its secret) and
  status, and observes its duration. It is the outermost middleware, so cached archive pages
  and the 503s of the request log are counted too. It does less per request than the
  plugin's own (no in-progress gauge, no error counter: 5xx are a status of the counter), and
  it does not count ``/metrics``, ``/healthz``, ``/readyz`` and ``/static/``.
- :class:`MetricsController` (the plugin's controller with its handler replaced) adds, at
  scrape time, what the database knows: the outbox backlog, the oldest due mail and the
  active sessions.
- Only direct peers named by ``metrics_allow`` may read it, and only without
  ``X-Forwarded-For`` (the reverse proxy always adds one): every other request gets the
  404 page of an unknown address, decided before the session middleware so that nothing
  (no cookie) tells the two apart. The peer is the TCP peer as it connected, recorded by
  ``ForwardedMiddleware`` before it believes any forwarded header.

This module imports ``prometheus_client``: import it only after ``ambassador.metrics``'s
multiprocess set-up (``create_app`` imports it inside the function).
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from litestar import Request, get
from litestar.enums import ScopeType
from litestar.exceptions import NotFoundException
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController, PrometheusMiddleware
from litestar.response import Response
from litestar.stores.base import Store
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ambassador import db, metrics
from ambassador.domain import outbox
from ambassador.web.client import IPNetwork, direct_peer, is_trusted, parse_address
from ambassador.web.stores import DatabaseStore

log = logging.getLogger("ambassador.metrics")

METRICS_PATH = "/metrics"
# Route templates left out of the request metrics: the scrape itself, the proxy's health
# checks (every few seconds) and static files (many, cheap, cached by browsers and the proxy).
UNCOUNTED = frozenset({METRICS_PATH, "/healthz", "/readyz", "/static/{file_path}"})


class MetricsAccess:
    """Who may read /metrics: direct peers in the allow list, never a proxied request."""

    def __init__(self, allow: Iterable[str]) -> None:
        networks: list[IPNetwork] = []
        names: set[str] = set()
        for entry in allow:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                names.add(entry)  # a peer name as the server reports it (the test client's)
        self.networks = tuple(networks)
        self.names = frozenset(names)

    def allows(self, scope: Scope) -> bool:
        peer, proxied = direct_peer(scope)
        if proxied or peer is None:
            return False
        return peer in self.names or is_trusted(parse_address(peer), self.networks)


@dataclass
class RouteMetricsConfig(PrometheusConfig):
    """The plugin's configuration, carrying who may read /metrics."""

    access: MetricsAccess = field(default_factory=lambda: MetricsAccess(()))


class RouteMetricsMiddleware(PrometheusMiddleware):
    """Requests and latency per route template; guards /metrics (see the module's docstring)."""

    def __init__(self, app: ASGIApp, config: PrometheusConfig) -> None:
        super().__init__(app, config)
        self._access = config.access if isinstance(config, RouteMetricsConfig) else MetricsAccess(())
        self._requests = metrics.REQUESTS.metric()
        self._duration = metrics.REQUEST_DURATION.metric()
        # Label children per (method, template, status): one dict look-up per request.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        template: str = scope["path_template"]
        if template in UNCOUNTED:
            if template == METRICS_PATH and not self._access.allows(scope):
                raise NotFoundException()
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            method: str = scope["method"]  # type: ignore[typeddict-item]  # HTTP only (config.scopes)
            key = (method, template, status)
            children = self._children.get(key)
            if children is None:
                children = self._children[key] = (
                    self._requests.labels(method, template, str(status)),
                    self._duration.labels(method, template),
                )
            children[0].inc()
            children[1].observe(time.perf_counter() - started)


def prometheus_config(allow: Iterable[str]) -> RouteMetricsConfig:
    return RouteMetricsConfig(
        app_name="ambassador",
        prefix="ambassador",
        group_path=True,
        scopes={ScopeType.HTTP},
        middleware_class=RouteMetricsMiddleware,
        access=MetricsAccess(allow),
    )


class _Families(Collector):
    """A collector of metric families computed before the scrape (the database's figures)."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


class _Forward(Collector):
    """The process's own registry inside the scrape's registry (single-process mode)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


async def count_sessions(store: Store) -> int | None:
    """Live entries of the session store (None for a store that cannot count them cheaply)."""
    if isinstance(store, DatabaseStore):
        return await store.count_live()
    redis = getattr(store, "_redis", None)
    namespace = getattr(store, "namespace", None)
    if redis is None or not namespace:
        return None
    count = 0
    async for _ in redis.scan_iter(match=f"{namespace}:*", count=1000):
        count += 1
    return count


async def database_families(sessions: Store) -> list[Metric]:
    """What the database knows, read now: one count of due mails, one of failed ones, the
    oldest due mail when there is one, and the live sessions."""
    try:
        backlog = await outbox.backlog()
        live_sessions = await count_sessions(sessions)
    except Exception as exc:
        if not db.is_unavailable(exc):
            raise
        log.warning("metrics: database unavailable", extra={"error": type(exc).__name__})
        return [_gauge("ambassador_database_up", "1 when this scrape's database queries succeeded", 0)]
    families: list[Metric] = [
        _gauge("ambassador_database_up", "1 when this scrape's database queries succeeded", 1),
        _gauge("ambassador_outbox_due_mails", "Mails waiting to be sent whose time has come", backlog.due),
        _gauge(
            "ambassador_outbox_oldest_due_seconds",
            "How long the longest-waiting due mail has been due (0 when none is)",
            backlog.oldest_due_seconds,
        ),
        _gauge("ambassador_outbox_failed_mails", "Mails given up after the last attempt", backlog.failed),
    ]
    if live_sessions is not None:
        families.append(_gauge("ambassador_sessions_active", "Unexpired server-side sessions", live_sessions))
    return families


class MetricsController(PrometheusController):
    """The plugin's controller, with the scrape-time database figures and the access check."""

    path = METRICS_PATH
    include_in_schema = False
    opt = {"exclude_from_auth": True}

    @get(name="metrics", skip_session=True)
    async def get(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        config = request.app.state.metrics_config
        if not isinstance(config, RouteMetricsConfig) or not config.access.allows(request.scope):
            raise NotFoundException()  # the middleware refused already; this is the second lock
        families = await database_families(request.app.stores.get("sessions"))
        registry = CollectorRegistry(auto_describe=False)
        if metrics.multiprocess_dir() is not None:
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        else:
            registry.register(_Forward())
        registry.register(_Families(families))
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
