"""Throughput of the public archive, as a ratio to a bare Litestar route (run by `make bench`).

The target (PERF-SECURITY.md, A5): the archive index ``GET /laureates`` serves at least 0.5x
the requests per second of R0, a bare Litestar plain-text route (``bench/bare_app.py``)
served the same way on the same machine, measured in the same run.

What it does, never touching ``var/``:

1. a fresh SQLite database in a temporary directory: ``ambassador migrate``, ``ambassador
   laureates import`` of the shipped 2018-2024 record, then ``bench/archive_data.py`` adds
   fictional published editions ("Test Laureate 042") up to 150 laureates;
2. the app as deployed (``uvicorn --factory ambassador.web.app:create_app``, one worker, no
   access log, background tasks on as by default) and the bare app with the same uvicorn
   flags on another port; both must answer (``/healthz``, ``/plaintext``) within 30 s;
3. a load generator in another process: ``wrk -t1 -c64 -d10s --latency`` after a 2 s warm-up
   run, or without wrk ``bench/loadgen.py`` (same connections, warm-up and duration);
4. bare and archive index alternately, 3 pairs (medians reported; the ratio is the median of
   the three pairs' ratios), then a laureate page and ``GET /api/v1/laureates`` once each.

Prints a markdown table and whether the target is met. Exit status: 0 even when the target is
missed (this is a report), 1 when any request failed (non-2xx/3xx or socket error), 2 when the
database could not be prepared or a server did not start, 130 when interrupted. Servers and
the temporary directory are removed in every case, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import IO, Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SHIPPED_CSV = ROOT / "ambassador" / "data" / "laureates-2018-2024.csv"
APP = "ambassador.web.app:create_app"
BARE = "bare_app:create_app"
TARGET_RATIO = 0.5
START_TIMEOUT = 30.0


class SetupError(Exception):
    """The database could not be prepared or a server did not start."""


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    detail: str = ""


@dataclass
class Row:
    label: str
    runs: list[Result] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return statistics.median(r.rps for r in self.runs)

    @property
    def p50_ms(self) -> float:
        return statistics.median(r.p50_ms for r in self.runs)

    @property
    def p99_ms(self) -> float:
        return statistics.median(r.p99_ms for r in self.runs)

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.runs)


def _write(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --- load generators ---------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _wrk_ms(text: str, percent: str) -> float:
    found = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.MULTILINE)
    if found is None:
        raise ValueError(f"no {percent}% latency in wrk's output")
    return float(found.group(1)) * _UNITS[found.group(2)]


def parse_wrk(text: str) -> Result:
    """requests/s, p50, p99 and errors from ``wrk --latency`` output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if rps is None:
        raise ValueError("no Requests/sec in wrk's output")
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = sum(int(n) for n in sockets.groups()) if sockets else 0
    non_2xx = int(non_ok.group(1)) if non_ok else 0
    detail = f"{non_2xx} non-2xx/3xx, socket errors: {sockets.group(0) if sockets else 'none'}"
    return Result(float(rps.group(1)), _wrk_ms(text, "50"), _wrk_ms(text, "99"), non_2xx + socket_errors, detail)


def parse_loadgen(text: str) -> Result:
    data = json.loads(text)
    socket_errors = sum(data["socket_errors"].values())
    detail = f"statuses {data['statuses']}, socket errors {data['socket_errors']}"
    return Result(
        float(data["rps"]), float(data["p50_ms"]), float(data["p99_ms"]), data["non_2xx_3xx"] + socket_errors, detail
    )


@dataclass(frozen=True)
class LoadSettings:
    client: str  # "wrk" or "python"
    connections: int
    duration: int
    warmup: int
    pin: tuple[str, ...]  # command prefix putting the load generator on its own core, or ()

    def commands(self, url: str) -> list[list[str]]:
        """The commands to run in turn; the output of the last one is the measurement."""
        if self.client == "wrk":
            wrk = [*self.pin, "wrk", "-t1", f"-c{self.connections}"]
            return [[*wrk, f"-d{self.warmup}s", url], [*wrk, f"-d{self.duration}s", "--latency", url]]
        return [
            [
                *self.pin,
                sys.executable,
                str(BENCH / "loadgen.py"),
                url,
                f"--connections={self.connections}",
                f"--duration={self.duration}",
                f"--warmup={self.warmup}",
            ]
        ]

    def parse(self, output: str) -> Result:
        return parse_wrk(output) if self.client == "wrk" else parse_loadgen(output)


# --- processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _stop(process: subprocess.Popen[Any]) -> None:
    """SIGTERM to the process group (its own session), then SIGKILL after 10 s."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(wait)
            return


@dataclass
class Harness:
    """The temporary directory, the environment and every child process (stopped on exit)."""

    tmp: Path
    env: dict[str, str]
    children: list[subprocess.Popen[Any]] = field(default_factory=list)
    logs: list[IO[bytes]] = field(default_factory=list)

    @classmethod
    @contextlib.contextmanager
    def create(cls, keep: bool = False) -> Iterator[Harness]:
        tmp = Path(tempfile.mkdtemp(prefix="ambassador-bench-"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AMBASSADOR_")}
        env |= {
            "AMBASSADOR_DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
            "AMBASSADOR_VAR_DIR": str(tmp / "var"),
            "AMBASSADOR_SECRET_KEY": secrets.token_urlsafe(48),
            "PICCOLO_CONF": "ambassador.piccolo_conf",
        }
        harness = cls(tmp, env)
        try:
            yield harness
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
            for child in reversed(harness.children):
                _stop(child)
            for log in harness.logs:
                log.close()
            if keep:
                _write(f"temporary directory kept: {tmp}")
            else:
                shutil.rmtree(tmp, ignore_errors=True)

    def run(self, command: Sequence[str], what: str, timeout: float = 600.0) -> str:
        """Run a command to its end in the temporary directory; its stdout, or SetupError."""
        process = subprocess.Popen(  # noqa: S603 - fixed commands, no shell
            command,
            cwd=self.tmp,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.children.append(process)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise SetupError(f"{what}: no answer within {timeout:.0f} s") from exc
        finally:
            _stop(process)
            self.children.remove(process)
        if process.returncode != 0:
            raise SetupError(f"{what} failed (exit {process.returncode}):\n{stderr.strip()[-2000:]}")
        return stdout

    def serve(self, name: str, target: str, ready_path: str, pin: tuple[str, ...]) -> int:
        """Start uvicorn on a free port with the deployment's flags; the port once it answers."""
        port = free_port()
        log = (self.tmp / f"{name}.log").open("wb")
        self.logs.append(log)
        command = [
            *pin,
            sys.executable,
            "-m",
            "uvicorn",
            target,
            "--factory",
            "--host=127.0.0.1",
            f"--port={port}",
            "--workers=1",
            "--no-access-log",
            f"--app-dir={BENCH}",
        ]
        process = subprocess.Popen(  # noqa: S603 - fixed commands, no shell
            command, cwd=self.tmp, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.children.append(process)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            with contextlib.suppress(OSError, http.client.HTTPException):
                if http_get(port, ready_path, timeout=1.0)[0] == 200:
                    return port
            time.sleep(0.1)
        log.flush()
        tail = (self.tmp / f"{name}.log").read_text(encoding="utf-8", errors="replace").strip()[-3000:]
        state = "exited" if process.poll() is not None else f"gave no 200 on {ready_path} within {START_TIMEOUT:.0f} s"
        raise SetupError(f"the {name} server {state}:\n{tail}")


# --- the benchmark --------------------------------------------------------------------------


def prepare_database(harness: Harness, laureates: int) -> dict[str, Any]:
    started = time.monotonic()
    cli = [sys.executable, "-m", "ambassador"]
    harness.run([*cli, "migrate"], "ambassador migrate")
    harness.run([*cli, "laureates", "import", str(SHIPPED_CSV)], "ambassador laureates import")
    data: dict[str, Any] = json.loads(
        harness.run([sys.executable, str(BENCH / "archive_data.py"), f"--laureates={laureates}"], "archive_data.py")
    )
    _write(
        f"database: {data['laureates']} laureates in {data['editions']} published editions "
        f"(shipped 2018-2024 + fictional), prepared in {time.monotonic() - started:.1f} s"
    )
    return data


def smoke_check(app_port: int, bare_port: int, paths: Sequence[str], laureates: int) -> None:
    """Every measured address answers 200 before the load starts; the archive shows everyone."""
    for port, path in [(bare_port, "/plaintext"), *((app_port, p) for p in paths)]:
        status, _ = http_get(port, path)
        if status != 200:
            raise SetupError(f"GET {path} answered {status} before the load started")
    status, body = http_get(app_port, "/api/v1/laureates")
    total = json.loads(body)["total"]
    if total != laureates:
        raise SetupError(f"the archive shows {total} laureates, the database holds {laureates}")


def measure(harness: Harness, load: LoadSettings, port: int, path: str) -> Result:
    output = ""
    for command in load.commands(f"http://127.0.0.1:{port}{path}"):
        output = harness.run(command, f"load on {path}", timeout=load.warmup + load.duration + 60)
    result = load.parse(output)
    _write(
        f"  {path}: {result.rps:,.0f} requests/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
        f"{result.errors} errors"
    )
    return result


def machine(load: LoadSettings) -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("litestar", "uvicorn", "piccolo"))
    client = "wrk" if load.client == "wrk" else "bench/loadgen.py (wrk not installed)"
    pinned = "; server pinned to cpu0, load generator to cpu1" if load.pin else ""
    return (
        f"machine: {model}, {os.cpu_count()} cores ({usable} usable); Linux {platform.release()}, "
        f"Python {platform.python_version()}, {versions}; load: {client}, {load.connections} connections, "
        f"{load.warmup} s warm-up + {load.duration} s{pinned}"
    )


def table(rows: Sequence[Row], index_ratio: float) -> list[str]:
    bare = rows[0].rps
    lines = [
        "| endpoint | requests/s | p50 ms | p99 ms | errors | ratio to bare |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for i, row in enumerate(rows):
        ratio = 1.0 if i == 0 else index_ratio if i == 1 else row.rps / bare
        runs = f" (median of {len(row.runs)})" if len(row.runs) > 1 else ""
        lines.append(
            f"| {row.label}{runs} | {row.rps:,.0f} | {row.p50_ms:.1f} | {row.p99_ms:.1f} | {row.errors} | {ratio:.2f} |"
        )
    return lines


def benchmark(args: argparse.Namespace, load: LoadSettings, harness: Harness) -> int:
    data = prepare_database(harness, args.laureates)
    server_pin = ("taskset", "-c", "0") if load.pin else ()
    app_port = harness.serve("app", APP, "/healthz", server_pin)
    bare_port = harness.serve("bare", BARE, "/plaintext", server_pin)
    slug_path = f"/laureates/{data['slug']}"
    smoke_check(app_port, bare_port, ["/laureates", slug_path, "/api/v1/laureates"], data["laureates"])
    _write(f"servers ready: app on :{app_port}, bare on :{bare_port}")

    rows = [
        Row("bare Litestar `GET /plaintext` (R0)"),
        Row("archive index `GET /laureates`"),
        Row(f"laureate page `GET {slug_path}`"),
        Row("`GET /api/v1/laureates`"),
    ]
    for n in range(1, args.repeat + 1):
        _write(f"pair {n}/{args.repeat}:")
        rows[0].runs.append(measure(harness, load, bare_port, "/plaintext"))
        rows[1].runs.append(measure(harness, load, app_port, "/laureates"))
    _write("once each:")
    rows[2].runs.append(measure(harness, load, app_port, slug_path))
    rows[3].runs.append(measure(harness, load, app_port, "/api/v1/laureates"))

    index_ratio = statistics.median(a.rps / b.rps for a, b in zip(rows[1].runs, rows[0].runs, strict=True))
    _write()
    _write(f"Archive benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    _write(machine(load))
    _write()
    for line in table(rows, index_ratio):
        _write(line)
    _write()
    verdict = "met" if index_ratio >= TARGET_RATIO else "NOT met"
    _write(f"archive index ratio {index_ratio:.2f} (target ≥ {TARGET_RATIO:.2f}): {verdict}")
    failed = [(row.label, r) for row in rows for r in row.runs if r.errors]
    for label, result in failed:
        _write(f"FAILED requests on {label}: {result.errors} ({result.detail})")
    return 1 if failed else 0


def _load_settings(args: argparse.Namespace) -> LoadSettings:
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    elif client == "wrk" and not shutil.which("wrk"):
        raise SetupError("wrk is not installed (apt-get install wrk), or use --client=python")
    pin: tuple[str, ...] = ()
    if args.pin:
        if not shutil.which("taskset") or len(os.sched_getaffinity(0)) < 2:
            raise SetupError("--pin needs taskset and at least 2 usable cores")
        pin = ("taskset", "-c", "1")
    return LoadSettings(client, args.connections, args.duration, args.warmup, pin)


def _interrupt(signum: int, _: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto", help="load generator")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=10, help="measured seconds per run")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds before each run")
    parser.add_argument("--repeat", type=int, default=3, help="bare + archive index pairs")
    parser.add_argument("--laureates", type=int, default=150, help="laureates in the archive")
    parser.add_argument("--pin", action="store_true", help="server on cpu0, load generator on cpu1 (taskset)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (database, logs)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    try:
        load = _load_settings(args)
        with Harness.create(keep=args.keep) as harness:
            return benchmark(args, load, harness)
    except SetupError as exc:
        sys.stderr.write(f"bench_archive: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("bench_archive: interrupted; servers stopped, temporary files removed\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
