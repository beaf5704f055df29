"""A small HTTP/1.1 keep-alive load client, used by `bench/bench_archive.py` when wrk is missing.

Raw asyncio streams (uvloop when installed), N connections each sending one GET at a time
for a warm-up and then a measured period, like ``wrk -c N -d S --latency``. Counts status
codes and socket errors (connect, read, timeout), records every measured latency and prints
one JSON object: requests, seconds, rps, p50_ms, p90_ms, p99_ms, statuses, non_2xx_3xx,
socket_errors.

It is a fallback: on a small machine the client itself takes a core, so absolute figures
are lower than wrk's and compare only with runs made by the same client.

    python bench/loadgen.py http://127.0.0.1:8000/laureates -c 64 -d 10 --warmup 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Stats:
    measure_from: float
    measure_until: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    socket_errors: Counter[str] = field(default_factory=Counter)
    last_done: float = 0.0


class ProtocolError(Exception):
    """The server's answer is not a well-formed HTTP/1.1 response."""


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


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bool]:
    """Send the request, read the whole response; (status, server keeps the connection)."""
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
    return status, headers.get(b"connection", b"").lower() != b"close"


async def _connection(host: str, port: int, request: bytes, stats: Stats, request_timeout: float) -> None:
    """One client connection: requests back to back until the end; reconnects after errors."""
    writer: asyncio.StreamWriter | None = None
    reader: asyncio.StreamReader | None = None
    while time.perf_counter() < stats.measure_until:
        started = time.perf_counter()
        kind = "read"
        try:
            async with asyncio.timeout(request_timeout):
                if writer is None or reader is None:
                    kind = "connect"
                    reader, writer = await asyncio.open_connection(host, port)
                    kind = "read"
                status, keep = await _exchange(reader, writer, request)
        except TimeoutError:
            kind = "timeout"
            status, keep = 0, False
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ProtocolError, ValueError):
            status, keep = 0, False
        done = time.perf_counter()
        if started >= stats.measure_from:
            if status:
                stats.statuses[status] += 1
                stats.latencies.append(done - started)
            else:
                stats.socket_errors[kind] += 1
            stats.last_done = max(stats.last_done, done)
        if not keep and writer is not None:
            writer.close()
            writer, reader = None, None
    if writer is not None:
        writer.close()


def _percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted values, in milliseconds."""
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index] * 1000


async def run(url: str, connections: int, duration: float, warmup: float, request_timeout: float) -> dict[str, object]:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise SystemExit("only http:// addresses")
    host, port = parts.hostname, parts.port or 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request = f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUser-Agent: ambassador-bench\r\n\r\n".encode("ascii")
    now = time.perf_counter()
    stats = Stats(measure_from=now + warmup, measure_until=now + warmup + duration)
    await asyncio.gather(*(_connection(host, port, request, stats, request_timeout) for _ in range(connections)))
    seconds = max(stats.last_done, stats.measure_until) - stats.measure_from
    ordered = sorted(stats.latencies)
    non_ok = sum(n for status, n in stats.statuses.items() if not 200 <= status < 400)
    return {
        "requests": len(ordered),
        "seconds": round(seconds, 3),
        "rps": round(len(ordered) / seconds, 1) if seconds > 0 else 0.0,
        "p50_ms": round(_percentile(ordered, 0.50), 2),
        "p90_ms": round(_percentile(ordered, 0.90), 2),
        "p99_ms": round(_percentile(ordered, 0.99), 2),
        "statuses": {str(k): v for k, v in sorted(stats.statuses.items())},
        "non_2xx_3xx": non_ok,
        "socket_errors": dict(stats.socket_errors),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="HTTP/1.1 keep-alive load client (wrk fallback)")
    parser.add_argument("url")
    parser.add_argument("-c", "--connections", type=int, default=64)
    parser.add_argument("-d", "--duration", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring")
    parser.add_argument("--timeout", type=float, default=2.0, help="per request, like wrk's default")
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    result = runner(run(args.url, args.connections, args.duration, args.warmup, args.timeout))
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
