"""The benchmark's asyncio HTTP/1.1 load client: plain GETs (wrk's stand-in) and stateful scenarios.

Raw asyncio streams (uvloop when installed), N keep-alive connections, each sending one
request at a time for a warm-up and then a measured period, like ``wrk -c N -d S --latency``.
It records every measured latency, counts statuses, failed answers and socket errors
(connect, read, timeout), and prints one JSON object: requests, seconds, rps, p50_ms,
p90_ms, p99_ms, statuses, failed, socket_errors, failures (a few examples), exhausted
(a scenario ran out of work) and unfinished (requests still unanswered when the measured
period ended; those begun before it are not counted otherwise).

Scenarios (``--spec FILE``, a JSON object with ``scenario`` and its parameters):

``get``
    ``path``, optional ``headers``: the same GET again and again; 2xx/3xx is success.
``form``
    ``path``, ``template``, ``content_type``, optional ``headers``, ``prefix``,
    ``expect_location``: a form POST whose every ``{key}`` is replaced by a key unique to the
    request (the nomination form, as ``bench/post_form.lua`` does for wrk); 2xx/3xx is
    success, and a redirect must go to ``expect_location`` when given.
``confirm``
    ``tokens``, ``csrf``: ``POST /n/confirm/{token}``, each token once (the link from the
    nominator's mail); only 200 is success. The run ends early when the tokens run out.
``score``
    ``sessions`` (one ``{"cookie", "csrf"}`` per connection: a logged-in juror each),
    ``nominations``, ``criteria``, ``low``, ``high``, optional ``pause`` (seconds between a
    juror's saves; 0, the default, saves back to back): each juror saves a draft sheet on a
    random nomination with random scores; success is the redirect back to that dossier.
``login``
    ``emails``, ``password``, ``csrf``, ``next``: ``POST /login`` in turn for each account,
    without a session (a new one each time); success is a redirect that is not to ``/login``.

It is also wrk's fallback for GETs: on a small machine the client itself takes a core, so its
figures compare only with runs made by the same client.

    python bench/loadgen.py http://127.0.0.1:8000/laureates -c 64 -d 10 --warmup 2
    python bench/loadgen.py http://127.0.0.1:8000 --spec score.json -c 50 -d 10
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import ssl
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus, urlsplit

FORM = "application/x-www-form-urlencoded"
MAX_FAILURE_EXAMPLES = 5


@dataclass
class Stats:
    measure_from: float
    measure_until: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    socket_errors: Counter[str] = field(default_factory=Counter)
    last_done: float = 0.0
    exhausted: bool = False
    unfinished: int = 0  # requests still unanswered when the measured period ended

    def count(self, scenario: Scenario, request: Request, response: Response | None, kind: str, started: float) -> None:
        """Account for one exchange that began at ``started`` and ends now."""
        done = time.perf_counter()
        if started < self.measure_until < done:
            self.unfinished += 1
        if started < self.measure_from:
            return
        self.last_done = max(self.last_done, done)
        if response is None:
            self.socket_errors[kind] += 1
            return
        self.statuses[response.status] += 1
        self.latencies.append(done - started)
        if not scenario.check(request, response):
            self.failed += 1
            if len(self.failures) < MAX_FAILURE_EXAMPLES:
                self.failures.append(
                    f"{request.method} {request.path}: {response.status} {response.location()}".strip()
                    + (f" (expected {request.expect})" if request.expect else "")
                )


class ProtocolError(Exception):
    """The server's answer is not a well-formed HTTP/1.1 response."""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    expect: str = ""  # what a successful answer looks like, for the failure message

    def encode(self, host: str) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}", "User-Agent: ambassador-bench"]
        lines.extend(f"{name}: {value}" for name, value in self.headers)
        if self.method != "GET":
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[bytes, bytes]
    keep_alive: bool

    def location(self) -> str:
        return self.headers.get(b"location", b"").decode("latin-1")


def ok_2xx_3xx(_: Request, response: Response) -> bool:
    return 200 <= response.status < 400


def form_body(fields: dict[str, str]) -> bytes:
    return "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in fields.items()).encode("ascii")


class Scenario:
    """Makes each connection's next request (None: nothing left) and judges each answer.

    ``pause`` (seconds, from the spec's ``pause``): a person's time between an answer and the
    next request, drawn uniformly from half to one and a half times it; 0 sends back to back.
    """

    pause: float = 0.0

    def next_request(self, connection: int) -> Request | None:
        raise NotImplementedError

    def check(self, request: Request, response: Response) -> bool:
        return ok_2xx_3xx(request, response)


class Get(Scenario):
    def __init__(self, spec: dict[str, Any]) -> None:
        self.request = Request("GET", spec["path"], tuple(spec.get("headers", {}).items()))

    def next_request(self, _connection: int) -> Request:
        return self.request


class Form(Scenario):
    def __init__(self, spec: dict[str, Any]) -> None:
        self.path = str(spec["path"])
        self.template = str(spec["template"])
        self.headers = (*spec.get("headers", {}).items(), ("Content-Type", str(spec.get("content_type", FORM))))
        self.location = str(spec.get("expect_location", ""))
        self.prefix = str(spec.get("prefix", "p"))
        self.counter = itertools.count(1)

    def next_request(self, _connection: int) -> Request:
        key = f"{self.prefix}{next(self.counter):08d}"
        body = self.template.replace("{key}", key).encode("utf-8")
        return Request("POST", self.path, self.headers, body, expect=self.location)

    def check(self, _request: Request, response: Response) -> bool:
        if 300 <= response.status < 400 and self.location:
            return response.location() == self.location
        return 200 <= response.status < 400


class Confirm(Scenario):
    def __init__(self, spec: dict[str, Any]) -> None:
        self.tokens = iter(list(spec["tokens"]))
        csrf = str(spec["csrf"])
        self.headers = (("Cookie", f"csrftoken={csrf}"), ("Content-Type", FORM))
        self.body = form_body({"_csrf_token": csrf})

    def next_request(self, _connection: int) -> Request | None:
        token = next(self.tokens, None)
        if token is None:
            return None
        return Request("POST", f"/n/confirm/{token}", self.headers, self.body, expect="200")

    def check(self, _request: Request, response: Response) -> bool:
        return response.status == 200


class Score(Scenario):
    def __init__(self, spec: dict[str, Any]) -> None:
        self.sessions: list[dict[str, str]] = list(spec["sessions"])
        self.nominations: list[int] = [int(n) for n in spec["nominations"]]
        self.criteria: list[int] = [int(c) for c in spec["criteria"]]
        self.low, self.high = int(spec["low"]), int(spec["high"])
        self.pause = float(spec.get("pause", 0.0))
        self.rngs = [random.Random(n) for n in range(len(self.sessions))]  # noqa: S311 - load, not security

    def next_request(self, connection: int) -> Request:
        session = self.sessions[connection % len(self.sessions)]
        rng = self.rngs[connection % len(self.rngs)]
        nomination = rng.choice(self.nominations)
        fields = {"_csrf_token": session["csrf"]}
        for criterion in self.criteria:
            fields[f"score_{criterion}"] = str(rng.randint(self.low, self.high))
            fields[f"comment_{criterion}"] = ""
        fields["comment"] = f"Draft {rng.randint(1, 10**6)} saved by the benchmark."
        fields["action"] = "save"
        headers = (("Cookie", session["cookie"]), ("Content-Type", FORM))
        path = f"/jury/nominations/{nomination}"
        return Request("POST", f"{path}/score", headers, form_body(fields), expect=path)

    def check(self, request: Request, response: Response) -> bool:
        return response.status in (302, 303) and response.location() == request.expect


class Login(Scenario):
    def __init__(self, spec: dict[str, Any]) -> None:
        emails = list(spec["emails"])
        csrf = str(spec["csrf"])
        self.headers = (("Cookie", f"csrftoken={csrf}"), ("Content-Type", FORM))
        self.bodies = itertools.cycle(
            [
                form_body(
                    {"_csrf_token": csrf, "email": e, "password": str(spec["password"]), "next": str(spec["next"])}
                )
                for e in emails
            ]
        )

    def next_request(self, _connection: int) -> Request:
        return Request("POST", "/login", self.headers, next(self.bodies), expect="a redirect, not to /login")

    def check(self, _request: Request, response: Response) -> bool:
        return response.status in (302, 303) and not response.location().startswith("/login")


SCENARIOS: dict[str, Callable[[dict[str, Any]], Scenario]] = {
    "get": Get,
    "form": Form,
    "confirm": Confirm,
    "score": Score,
    "login": Login,
}


# --- the client -----------------------------------------------------------------------------


async def _read_body(reader: asyncio.StreamReader, headers: dict[bytes, bytes]) -> None:
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                return
    length = headers.get(b"content-length")
    if length is None:
        raise ProtocolError("no content-length and not chunked")
    await reader.readexactly(int(length))


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> Response:
    """Send the request, read the whole response."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if not lines[0].startswith(b"HTTP/1."):
        raise ProtocolError(lines[0][:40].decode("latin-1"))
    status = int(lines[0][9:12])
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    await _read_body(reader, headers)
    return Response(status, headers, headers.get(b"connection", b"").lower() != b"close")


async def _connection(
    index: int,
    host: str,
    port: int,
    *,
    scenario: Scenario,
    stats: Stats,
    request_timeout: float,
    tls: ssl.SSLContext | None = None,
) -> None:
    """One client connection: requests back to back until the end; reconnects after errors."""
    writer: asyncio.StreamWriter | None = None
    reader: asyncio.StreamReader | None = None
    netloc = f"{host}:{port}"
    pauses = random.Random(index)  # noqa: S311 - load, not security
    if scenario.pause:
        await asyncio.sleep(pauses.uniform(0, scenario.pause))  # the people do not start in step
    while time.perf_counter() < stats.measure_until:
        request = scenario.next_request(index)
        if request is None:
            stats.exhausted = True
            break
        started = time.perf_counter()
        kind = "read"
        response: Response | None = None
        try:
            async with asyncio.timeout(request_timeout):
                if writer is None or reader is None:
                    kind = "connect"
                    reader, writer = await asyncio.open_connection(host, port, ssl=tls)
                    kind = "read"
                response = await _exchange(reader, writer, request.encode(netloc))
        except TimeoutError:
            kind = "timeout"
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ProtocolError, ValueError):
            pass
        stats.count(scenario, request, response, kind, started)
        if (response is None or not response.keep_alive) and writer is not None:
            writer.close()
            writer, reader = None, None
        if scenario.pause:
            await asyncio.sleep(pauses.uniform(0.5, 1.5) * scenario.pause)
    if writer is not None:
        writer.close()


def _percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted values, in milliseconds."""
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index] * 1000


async def run(
    url: str,
    scenario: Scenario,
    *,
    connections: int,
    duration: float,
    warmup: float,
    request_timeout: float,
    cafile: str | None = None,
) -> dict[str, object]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SystemExit("only http:// and https:// addresses")
    host = parts.hostname
    # https (a reverse proxy's TLS): the certificate is verified, against --cafile when given.
    tls = ssl.create_default_context(cafile=cafile) if parts.scheme == "https" else None
    port = parts.port or (443 if tls else 80)
    now = time.perf_counter()
    stats = Stats(measure_from=now + warmup, measure_until=now + warmup + duration)
    await asyncio.gather(
        *(
            _connection(n, host, port, scenario=scenario, stats=stats, request_timeout=request_timeout, tls=tls)
            for n in range(connections)
        )
    )
    end = stats.last_done if stats.exhausted else max(stats.last_done, stats.measure_until)
    seconds = end - stats.measure_from
    ordered = sorted(stats.latencies)
    return {
        "requests": len(ordered),
        "seconds": round(seconds, 3),
        "rps": round(len(ordered) / seconds, 1) if seconds > 0 else 0.0,
        "p50_ms": round(_percentile(ordered, 0.50), 2),
        "p90_ms": round(_percentile(ordered, 0.90), 2),
        "p99_ms": round(_percentile(ordered, 0.99), 2),
        "statuses": {str(k): v for k, v in sorted(stats.statuses.items())},
        "failed": stats.failed,
        "failures": stats.failures,
        "socket_errors": dict(stats.socket_errors),
        "exhausted": stats.exhausted,
        "unfinished": stats.unfinished,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="HTTP/1.1 keep-alive load client (wrk fallback, scenarios)")
    parser.add_argument("url", help="the address (with the path for a plain GET)")
    parser.add_argument("--spec", help="a JSON file describing the scenario (default: GET the url)")
    parser.add_argument("-c", "--connections", type=int, default=64)
    parser.add_argument("-d", "--duration", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring")
    parser.add_argument("--timeout", type=float, default=10.0, help="per request (the harness gives wrk the same)")
    parser.add_argument("--cafile", help="https: the CA certificate (PEM) to verify the server with")
    args = parser.parse_args()
    if args.spec:
        with open(args.spec, encoding="utf-8") as handle:  # noqa: PTH123 - one small file
            spec: dict[str, Any] = json.load(handle)
        scenario = SCENARIOS[spec["scenario"]](spec)
    else:
        parts = urlsplit(args.url)
        scenario = Get({"path": (parts.path or "/") + (f"?{parts.query}" if parts.query else "")})
    try:
        import uvloop
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    result = runner(
        run(
            args.url,
            scenario,
            connections=args.connections,
            duration=args.duration,
            warmup=args.warmup,
            request_timeout=args.timeout,
            cafile=args.cafile,
        )
    )
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
