"""Load benchmark of the app as deployed, every figure also as a ratio to a bare Litestar route.

Run by `make bench` (PERF-SECURITY.md: R0 and the targets P*). For each database (SQLite in a
temporary directory, PostgreSQL in a database ``ambassador_bench_*`` created for the run and
dropped after it) and each number of uvicorn workers (1 and 2):

1. the database: ``ambassador migrate``, ``ambassador laureates import`` of the shipped
   2018-2024 record, then ``bench/data.py build``: the realistic data set (7 generated
   editions, 2,000 nominations, 15 jurors, 4 criteria, 150 laureates; see its docstring);
2. the app as deployed, ``ambassador serve --workers N`` (uvicorn without access log,
   proxy headers or server header; default settings: argon2 at the OWASP minimum, background tasks on,
   sessions in the database; only the nomination rate limit is lifted, every request coming
   from one address), and the bare app (``bench/bare_app.py``) with the same flags on another
   port; both must answer within 30 s;
3. load from other processes: ``wrk -t1 --latency --timeout 10s`` after a warm-up run (a
   Lua script for the nomination POST), ``bench/loadgen.py`` for the stateful scenarios
   (confirmation links from the outbox, jurors' sessions, the login storm) and for everything
   when wrk is missing;
4. the scenarios, in this order: bare route and archive index alternately (3 pairs, medians;
   the index's ratio is the median of the pairs' ratios), a laureate page, the JSON API, the
   home page, the nomination form, the stylesheet under its hashed name (brotli), the chair's
   results page (the results computed from every submitted sheet
   and rendered), the archive index idle and then during a storm of logins, score saves by 50
   logged-in jurors, nomination POSTs (CSRF cookie and token, a unique submission each), and
   the confirmation of every nomination just made through the link in its mail.

After each run the workers' peak RSS (VmHWM) is read. Prints one markdown table (requests/s,
p50, p99, errors, peak RSS per worker, each with its ratio to the bare route of the same
setup, and whether a target is met) with the machine. Exit status: 0 even when a target is
missed (this is a report), 1 when any request failed, 2 when a database or a server could
not be prepared, 130 when interrupted. A complete run (every scenario, both databases, 1 and 2
workers, default durations) also writes its report into docs/benchmarks.md, between the
markers of its published run (``--publish``/``--no-publish`` decide otherwise). Servers,
temporary files and the PostgreSQL database are removed in every case, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import http.client
import json
import os
import platform
import re
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import IO, Any
from urllib.parse import quote, urlsplit

import asyncpg

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SHIPPED_CSV = ROOT / "ambassador" / "data" / "laureates-2018-2024.csv"
APP = "ambassador.web.app:create_app"
BARE = "bare_app:create_app"
START_TIMEOUT = 30.0
REQUEST_TIMEOUT = 10  # seconds; a slower answer counts as an error (wrk's and loadgen's)
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432"
SCENARIOS = ("archive", "laureate", "api", "home", "form", "static", "results", "storm", "score", "nominate")

# Targets (the issue; PERF-SECURITY.md P2-P5).
INDEX_RATIO = 0.5
# The home page and the form (issue 14): from the page cache, filled in per visitor.
PAGE_RATIO = 0.3
PAGE_P99_MS = 50.0
# A static file under its hashed name, as a browser asks for it (brotli accepted).
STATIC_RATIO = 0.5
BROWSER_ENCODINGS = {"Accept-Encoding": "gzip, deflate, br"}
TARGETED = frozenset({"home", "form", "static"})  # rows with a ratio target, each paired with a bare run
NOMINATE_RPS = 300.0
SCORE_P99_MS = 100.0
# A juror at work: a save every 2 s on average (one per dossier read would be minutes apart).
SCORE_PAUSE_S = 2.0
STORM_P99_FACTOR = 2.0
RSS_MB = 150.0

# Clients per scenario.
CLIENTS = {"get": 64, "results": 2, "storm": 16, "nominate": 64, "confirm": 64}
IDLE_CPU = 0.05  # the app is idle once its workers use less than 5% of a core ...
IDLE_WINDOW = 0.5  # ... over half a second
IDLE_WAIT = 120.0  # at most this long, then the run starts anyway (and says so)


class SetupError(Exception):
    """A database could not be prepared or a server did not start."""


def _write(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --- results and rows -----------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int = 0
    detail: str = ""
    cpu_us: float = 0.0  # the server's CPU time per request in the measured run (0: not measured)


@dataclass
class Row:
    setup: str
    label: str
    clients: int
    runs: list[Result] = field(default_factory=list)
    rss_mb: float | None = None
    ratio: float | None = None  # requests/s to bare, when computed from pairs
    target: str = "—"

    @property
    def rps(self) -> float:
        return statistics.median(r.rps for r in self.runs) if self.runs else 0.0

    @property
    def p50_ms(self) -> float:
        return statistics.median(r.p50_ms for r in self.runs) if self.runs else 0.0

    @property
    def p99_ms(self) -> float:
        return statistics.median(r.p99_ms for r in self.runs) if self.runs else 0.0

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.runs)

    @property
    def cpu_us(self) -> float:
        measured = [r.cpu_us for r in self.runs if r.cpu_us]
        return statistics.median(measured) if measured else 0.0


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
    total = re.search(r"(\d+) requests in", text)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = sum(int(n) for n in sockets.groups()) if sockets else 0
    non_2xx = int(non_ok.group(1)) if non_ok else 0
    requests = int(total.group(1)) if total else 0
    detail = f"{non_2xx} non-2xx/3xx, socket errors: {sockets.group(0) if sockets else 'none'}"
    if requests == 0:
        return Result(0.0, 0.0, 0.0, max(1, non_2xx + socket_errors), 0, f"no request completed; {detail}")
    return Result(
        float(rps.group(1)), _wrk_ms(text, "50"), _wrk_ms(text, "99"), non_2xx + socket_errors, requests, detail
    )


def parse_loadgen(text: str) -> Result:
    data = json.loads(text)
    socket_errors = sum(data["socket_errors"].values())
    detail = (
        f"statuses {data['statuses']}, socket errors {data['socket_errors']}, "
        f"{data['unfinished']} unanswered at the end, e.g. {data['failures']}"
    )
    if not data["requests"]:
        return Result(0.0, 0.0, 0.0, max(1, int(data["failed"]) + socket_errors), 0, f"no request completed; {detail}")
    return Result(
        float(data["rps"]),
        float(data["p50_ms"]),
        float(data["p99_ms"]),
        int(data["failed"]) + socket_errors,
        int(data["requests"]),
        detail,
    )


# --- load generators ------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadSettings:
    client: str  # "wrk" or "python"
    duration: int
    warmup: int
    pin: bool  # server on cpu0 and load on cpu1, for 1-worker setups

    def prefix(self, workers: int) -> tuple[str, ...]:
        return ("taskset", "-c", "1") if self.pin and workers == 1 else ()

    def wrk(
        self,
        workers: int,
        url: str,
        connections: int,
        extra: Sequence[str] = (),
        script_args: Sequence[Sequence[str]] = ((), ()),
    ) -> list[list[str]]:
        """wrk's warm-up run then its measured run (the output of the last is parsed).

        ``script_args``: the Lua script's arguments for each of the two runs.
        """
        base = [*self.prefix(workers), "wrk", "-t1", f"-c{connections}", f"--timeout={REQUEST_TIMEOUT}s", *extra]
        warm, measured = (["--", *a] if a else [] for a in script_args)
        return [
            [*base, f"-d{self.warmup}s", url, *warm],
            [*base, f"-d{self.duration}s", "--latency", url, *measured],
        ]

    def python(
        self, workers: int, url: str, connections: int, spec: Path | None = None, *, warm: bool = True
    ) -> list[list[str]]:
        command = [
            *self.prefix(workers),
            sys.executable,
            str(BENCH / "loadgen.py"),
            url,
            f"--connections={connections}",
            f"--duration={self.duration}",
            f"--warmup={self.warmup if warm else 0}",
            f"--timeout={REQUEST_TIMEOUT}",
        ]
        return [[*command, f"--spec={spec}"] if spec else command]


# --- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name), "")

    def cookies(self) -> dict[str, str]:
        jar: SimpleCookie = SimpleCookie()
        for name, value in self.headers:
            if name.lower() == "set-cookie":
                jar.load(value)
        return {key: morsel.value for key, morsel in jar.items()}


def http_request(
    port: int, method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes | None = None
) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, response.getheaders(), response.read())
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


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    with contextlib.suppress(OSError):
        return [int(p) for p in path.read_text(encoding="ascii").split()]
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text(encoding="ascii").rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 when it is gone)."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def _vm_hwm_mb(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Server:
    name: str
    process: subprocess.Popen[Any]
    port: int
    workers: int

    def worker_pids(self) -> list[int]:
        """uvicorn serves in its own process with one worker, in spawned children with more."""
        if self.workers == 1:
            return [self.process.pid]
        pids = []
        for child in _children(self.process.pid):
            with contextlib.suppress(OSError):
                if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes():
                    pids.append(child)
        return pids

    def peak_rss_mb(self) -> float:
        """The largest peak resident set (VmHWM) of any worker so far."""
        return max((_vm_hwm_mb(pid) for pid in self.worker_pids()), default=0.0)

    def cpu_seconds(self) -> float:
        return sum(_cpu_seconds(pid) for pid in self.worker_pids())

    def wait_idle(self) -> float:
        """Wait until the workers have finished what an earlier run left them (requests whose
        client gave up, a queue of them); the seconds waited, or -1 if they never went idle."""
        started = time.monotonic()
        while time.monotonic() - started < IDLE_WAIT:
            before = self.cpu_seconds()
            time.sleep(IDLE_WINDOW)
            if self.cpu_seconds() - before < IDLE_CPU * IDLE_WINDOW:
                return time.monotonic() - started
        return -1.0


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
            "AMBASSADOR_VAR_DIR": str(tmp / "var"),
            "AMBASSADOR_SECRET_KEY": secrets.token_urlsafe(48),
            # Every request comes from 127.0.0.1: the per-address limit (20/h) would stop the
            # nomination scenario after 20 requests. The limiter itself still runs.
            "AMBASSADOR_NOMINATION_POSTS_PER_HOUR": "1000000000",
            "PICCOLO_CONF": "ambassador.piccolo_conf",
        }
        harness = cls(tmp, env)
        try:
            yield harness
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
            harness.stop_all()
            for log in harness.logs:
                log.close()
            if keep:
                _write(f"temporary directory kept: {tmp}")
            else:
                shutil.rmtree(tmp, ignore_errors=True)

    def stop_all(self) -> None:
        for child in reversed(self.children):
            _stop(child)
        self.children.clear()

    def _popen(self, command: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
        process: subprocess.Popen[Any] = subprocess.Popen(  # noqa: S603 - fixed commands, no shell
            command, cwd=self.tmp, env=self.env, start_new_session=True, **kwargs
        )
        self.children.append(process)
        return process

    def run(self, command: Sequence[str], what: str, timeout: float = 900.0) -> str:
        """Run a command to its end in the temporary directory; its stdout, or SetupError."""
        return self.run_together([command], what, timeout)[0]

    def run_together(self, commands: Sequence[Sequence[str]], what: str, timeout: float = 900.0) -> list[str]:
        """Run commands at the same time; their stdouts, or SetupError if any failed."""
        # Output to files, not pipes: nobody has to read one process while waiting for another.
        with contextlib.ExitStack() as files:
            started = []
            for command in commands:
                out = files.enter_context(tempfile.TemporaryFile(dir=self.tmp))
                err = files.enter_context(tempfile.TemporaryFile(dir=self.tmp))
                started.append((self._popen(command, stdout=out, stderr=err), out, err))
            try:
                deadline = time.monotonic() + timeout
                outputs: list[str] = []
                for process, out, err in started:
                    try:
                        process.wait(timeout=max(1.0, deadline - time.monotonic()))
                    except subprocess.TimeoutExpired as exc:
                        raise SetupError(f"{what}: no answer within {timeout:.0f} s") from exc
                    out.seek(0)
                    err.seek(0)
                    if process.returncode != 0:
                        message = err.read().decode(errors="replace").strip()[-2000:]
                        raise SetupError(f"{what} failed (exit {process.returncode}):\n{message}")
                    outputs.append(out.read().decode(errors="replace"))
            finally:
                for process, _, _ in started:
                    _stop(process)
                    self.children.remove(process)
        return outputs

    def serve(self, name: str, target: str, ready_path: str, workers: int, pin: bool) -> Server:
        """Start the server on a free port as deployed; the server once it answers."""
        port = free_port()
        log = (self.tmp / f"{name}.log").open("ab")
        self.logs.append(log)
        listen = ["--host=127.0.0.1", f"--port={port}", f"--workers={workers}"]
        if target == APP:
            # As deployed: `ambassador serve` (uvicorn's proxy headers, access log, server header off).
            server_command = ["-m", "ambassador", "serve", *listen]
        else:
            # The bare app with the flags `ambassador serve` gives uvicorn.
            flags = ["--factory", "--no-access-log", "--no-proxy-headers", "--no-server-header", f"--app-dir={BENCH}"]
            server_command = ["-m", "uvicorn", target, *listen, *flags]
        command = [*(("taskset", "-c", "0") if pin and workers == 1 else ()), sys.executable, *server_command]
        process = self._popen(command, stdout=log, stderr=subprocess.STDOUT)
        server = Server(name, process, port, workers)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            with contextlib.suppress(OSError, http.client.HTTPException):
                if http_request(port, "GET", ready_path).status == 200 and len(server.worker_pids()) == workers:
                    return server
            time.sleep(0.2)
        log.flush()
        tail = (self.tmp / f"{name}.log").read_text(encoding="utf-8", errors="replace").strip()[-3000:]
        state = "exited" if process.poll() is not None else f"gave no 200 on {ready_path} within {START_TIMEOUT:.0f} s"
        raise SetupError(f"the {name} server {state}:\n{tail}")

    def stop(self, server: Server) -> None:
        _stop(server.process)
        if server.process in self.children:
            self.children.remove(server.process)


# --- databases ------------------------------------------------------------------------------


async def _admin(server_url: str, statement: str) -> str:
    connection = await asyncpg.connect(dsn=f"{server_url}/postgres", timeout=5)
    try:
        await connection.execute(statement)
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


def postgres_version(server_url: str) -> str | None:
    """The server's version, or None when it does not answer."""
    try:
        return asyncio.run(_admin(server_url, "SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return None


@contextlib.contextmanager
def database(kind: str, harness: Harness, server_url: str) -> Iterator[str]:
    """A fresh database URL: a file in the temporary directory, or ``ambassador_bench_*`` dropped after."""
    if kind == "sqlite":
        path = harness.tmp / f"bench-{secrets.token_hex(4)}.sqlite3"
        yield f"sqlite:///{path}"
        return
    name = f"ambassador_bench_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise SetupError(f"could not create the database {name}: {exc}") from exc
    try:
        yield f"{server_url}/{name}"
    finally:
        harness.stop_all()
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# --- the benchmark --------------------------------------------------------------------------


def prepare_database(harness: Harness, args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    cli = [sys.executable, "-m", "ambassador"]
    harness.run([*cli, "migrate"], "ambassador migrate")
    harness.run([*cli, "laureates", "import", str(SHIPPED_CSV)], "ambassador laureates import")
    shape = [
        f"--editions={args.editions}",
        f"--nominations={args.nominations}",
        f"--jurors={args.jurors}",
        f"--laureates={args.laureates}",
        f"--load-jurors={args.load_jurors}",
    ]
    data: dict[str, Any] = json.loads(harness.run([sys.executable, str(BENCH / "data.py"), "build", *shape], "data.py"))
    scoring = data["scoring"]
    _write(
        f"  data set: {data['laureates']} laureates in {data['published_editions']} published editions "
        f"({data['shipped_laureates']} shipped 2018-2024 + fictional), {data['nominations']:,} nominations in "
        f"{data['generated_editions']} generated editions; in jury scoring {len(scoring['nominations'])} nominations x "
        f"{data['jury']} jurors x {data['criteria']} criteria ({scoring['sheets']:,} submitted sheets) and "
        f"{len(data['jurors'])} jurors appointed; prepared in {time.monotonic() - started:.0f} s"
    )
    return data


def data_command(harness: Harness, *args: str) -> Any:
    return json.loads(harness.run([sys.executable, str(BENCH / "data.py"), *args], f"data.py {args[0]}"))


def csrf_cookie(port: int) -> str:
    answer = http_request(port, "GET", "/login")
    token = answer.cookies().get("csrftoken")
    if answer.status != 200 or not token:
        raise SetupError(f"GET /login gave {answer.status} without a CSRF cookie")
    return token


def form_post(port: int, path: str, fields: dict[str, str], cookies: dict[str, str]) -> Answer:
    body = "&".join(f"{quote(k)}={quote(v)}" for k, v in fields.items()).encode()
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    return http_request(port, "POST", path, headers=headers, body=body)


def login(port: int, email: str, password: str) -> dict[str, str]:
    """A logged-in session as a browser gets it: the CSRF cookie, then the session cookie."""
    csrf = csrf_cookie(port)
    answer = form_post(
        port,
        "/login",
        {"email": email, "password": password, "next": "/jury", "_csrf_token": csrf},
        {"csrftoken": csrf},
    )
    session = answer.cookies().get("session")
    if answer.status not in (302, 303) or not session:
        raise SetupError(f"login of {email} gave {answer.status} {answer.header('location')} without a session")
    # A staff session binds a fresh CSRF token, sent with the login's answer (web/csrf.py).
    csrf = answer.cookies().get("csrftoken") or csrf
    return {"cookie": f"session={session}; csrftoken={csrf}", "csrf": csrf}


def nomination_form(edition: dict[str, Any], csrf: str) -> tuple[str, str]:
    """(content type, body template) of a nomination as a browser sends it: multipart, no file."""
    boundary = f"----ambassadorbench{secrets.token_hex(8)}"
    first, second = edition["criteria"][0], edition["criteria"][1 % len(edition["criteria"])]
    fields = {
        "_csrf_token": csrf,
        "edition_id": str(edition["id"]),
        "submission_key": "bench-{key}",
        "category": "B",
        "nominee_name": "Test Nominee {key}",
        "nominee_email": "nominee-{key}@nominees.example.org",
        f"description_{first}": (
            "Fikcyjne zgłoszenie z testu wydajności. Od 2015 roku prowadzi w Krakowie kawiarenki "
            "językowe, sąsiedzkie kolacje i warsztaty dla szkół; w tym roku około 800 uczestników "
            "z 40 krajów i festiwal kultur nad Wisłą."
        ),
        f"description_{second}": "Spotkania co tydzień, 48 w roku, z tłumaczeniem na ukraiński i angielski.",
        "links": "https://example.org/bench/{key}",
        "nominator_name": "Test Nominator {key}",
        "nominator_email": "nominator-{key}@nominators.example.org",
        "nominator_relation": "sąsiadka",
        "privacy_ack": "1",
        "website": "",
    }
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    return f"multipart/form-data; boundary={boundary}", "".join(parts) + f"--{boundary}--\r\n"


@dataclass
class Setup:
    """One database with one number of workers: its servers, sessions and rows."""

    harness: Harness
    load: LoadSettings
    data: dict[str, Any]
    db: str
    workers: int
    app: Server
    bare: Server
    only: frozenset[str]
    repeat: int
    notes: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    spec_count: int = 0
    stylesheet: str = "/static/css/app.css"  # its content-hashed address, read from the home page
    addresses: dict[str, str] = field(default_factory=dict)  # public pages' addresses after redirects

    @property
    def name(self) -> str:
        return f"{'SQLite' if self.db == 'sqlite' else 'PostgreSQL'}, {self.workers} worker{'s' * (self.workers > 1)}"

    def url(self, server: Server, path: str = "") -> str:
        return f"http://127.0.0.1:{server.port}{path}"

    def spec(self, spec: dict[str, Any]) -> Path:
        self.spec_count += 1
        path = self.harness.tmp / f"spec-{self.spec_count}.json"
        path.write_text(json.dumps(spec), encoding="utf-8")
        return path

    def commands_get(
        self, server: Server, path: str, clients: int, headers: dict[str, str] | None = None
    ) -> list[list[str]]:
        if self.load.client == "wrk":
            extra = [a for k, v in (headers or {}).items() for a in ("-H", f"{k}: {v}")]
            return self.load.wrk(self.workers, self.url(server, path), clients, extra)
        if headers:
            spec = self.spec({"scenario": "get", "path": path, "headers": headers})
            return self.load.python(self.workers, self.url(server), clients, spec)
        return self.load.python(self.workers, self.url(server, path), clients)

    def parse(self, commands: list[list[str]], output: str) -> Result:
        return (
            parse_wrk(output) if commands[-1][len(self.load.prefix(self.workers))] == "wrk" else parse_loadgen(output)
        )

    def settle(self, server: Server) -> None:
        waited = server.wait_idle()
        if waited < 0:
            _write(f"    the {server.name} server was still busy after {IDLE_WAIT:.0f} s; measuring anyway")
        elif waited > 2 * IDLE_WINDOW + 1:
            _write(f"    waited {waited:.0f} s for the {server.name} server to finish earlier requests")

    def measure(self, row: Row, commands: list[list[str]], server: Server | None = None) -> Result:
        output = ""
        serving = server or self.app
        cpu = 0.0
        for command in commands:
            self.settle(serving)
            cpu = serving.cpu_seconds()
            output = self.harness.run(
                command, f"load on {row.label}", timeout=self.load.warmup + self.load.duration + 120
            )
        cpu = serving.cpu_seconds() - cpu  # of the last (measured) run
        result = self.parse(commands, output)
        if result.requests:
            result = dataclasses.replace(result, cpu_us=cpu / result.requests * 1e6)
        self.record(row, result, server or self.app)
        return result

    def record(self, row: Row, result: Result, server: Server) -> None:
        row.runs.append(result)
        row.rss_mb = server.peak_rss_mb()
        _write(
            f"  {row.label}: {result.rps:,.1f} requests/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
            f"{result.errors} errors, {result.cpu_us:,.0f} µs CPU per request, peak RSS {row.rss_mb:.0f} MB"
        )
        if result.errors:
            _write(f"    FAILED requests: {result.detail}")

    def row(self, label: str, clients: int) -> Row:
        row = Row(self.name, label, clients)
        self.rows.append(row)
        return row

    # --- checks before the load ---------------------------------------------------------

    def address(self, path: str) -> str:
        """Where a public page is answered: ``path``, or the address it redirects to (a
        per-language address, ``/pl/...``), as a browser without cookies ends up there."""
        if path not in self.addresses:
            current = path
            for _ in range(3):
                answer = http_request(self.app.port, "GET", current)
                location = answer.header("location")
                if answer.status not in (301, 302, 303, 307, 308) or not location.startswith("/"):
                    break
                current = location
            self.addresses[path] = current
        return self.addresses[path]

    def smoke(self, sessions: list[dict[str, str]], chair: dict[str, str]) -> None:
        """Every measured address answers as it should before the load starts."""
        checks = [
            (self.bare, "/plaintext", {}),
            (self.app, self.address("/laureates"), {}),
            (self.app, self.address(f"/laureates/{self.data['slug']}"), {}),
            (self.app, "/api/v1/laureates", {}),
            (self.app, self.address("/nominate"), {}),
            (self.app, f"/jury/editions/{self.data['scoring']['id']}/results", {"Cookie": chair["cookie"]}),
        ]
        home = http_request(self.app.port, "GET", self.address("/"))
        stylesheet = re.search(rb'href="(/static/css/app\.[0-9a-f]{12}\.css)"', home.body)
        if home.status != 200 or stylesheet is None:
            raise SetupError(f"GET / answered {home.status} without a content-hashed stylesheet")
        self.stylesheet = stylesheet.group(1).decode()
        checks.append((self.app, self.stylesheet, BROWSER_ENCODINGS))
        for server, path, headers in checks:
            answer = http_request(server.port, "GET", path, headers=headers)
            if answer.status != 200:
                raise SetupError(f"GET {path} answered {answer.status} before the load started")
            if path == self.stylesheet and answer.header("content-encoding") != "br":
                raise SetupError(f"GET {path} with brotli accepted came without brotli")
            if path == self.address("/nominate") and b'name="submission_key"' not in answer.body:
                raise SetupError("GET /nominate shows no form: no edition open for nominations")
        total = json.loads(http_request(self.app.port, "GET", "/api/v1/laureates").body)["total"]
        if total != self.data["laureates"]:
            raise SetupError(f"the archive shows {total} laureates, the database holds {self.data['laureates']}")
        if sessions:
            nomination = self.data["scoring"]["nominations"][0]
            fields = {f"score_{c}": "5" for c in self.data["scoring"]["criteria"]} | {
                "action": "save",
                "_csrf_token": sessions[-1]["csrf"],
            }
            cookies = dict(p.split("=", 1) for p in sessions[-1]["cookie"].split("; "))
            answer = form_post(self.app.port, f"/jury/nominations/{nomination}/score", fields, cookies)
            if answer.status not in (302, 303) or answer.header("location") != f"/jury/nominations/{nomination}":
                raise SetupError(f"a score save answered {answer.status} {answer.header('location')}")

    # --- scenarios ----------------------------------------------------------------------

    def run(self) -> None:
        sessions: list[dict[str, str]] = []
        if self.only & {"results", "score"}:
            started = time.monotonic()
            sessions = [login(self.app.port, e, self.data["password"]) for e in self.data["jurors"]]
            _write(f"  {len(sessions)} jurors logged in ({time.monotonic() - started:.1f} s)")
        chair = sessions[0] if sessions else login(self.app.port, self.data["chair"], self.data["password"])
        self.smoke(sessions, chair)
        bare = self.row("bare Litestar `GET /plaintext` (R0)", CLIENTS["get"])
        index = self.row("archive index `GET /laureates`", CLIENTS["get"]) if "archive" in self.only else None
        for n in range(1, self.repeat + 1 if index else 2):
            if index:
                _write(f"  pair {n}/{self.repeat}:")
            self.measure(bare, self.commands_get(self.bare, "/plaintext", CLIENTS["get"]), self.bare)
            if index:
                self.measure(index, self.commands_get(self.app, self.address("/laureates"), CLIENTS["get"]))
        if index:
            index.ratio = statistics.median(a.rps / b.rps for a, b in zip(index.runs, bare.runs, strict=True))
            index.target = target(f"≥ {INDEX_RATIO:g}× bare", index.ratio >= INDEX_RATIO)
        gets: list[tuple[str, str, str, dict[str, str]]] = [
            ("laureate", "laureate page `GET /laureates/{slug}`", self.address(f"/laureates/{self.data['slug']}"), {}),
            ("api", "JSON API `GET /api/v1/laureates`", "/api/v1/laureates", {}),
            ("home", "home page `GET /`", self.address("/"), {}),
            ("form", "nomination form `GET /nominate`", self.address("/nominate"), {}),
            ("static", "static file `GET /static/css/app.<hash>.css` (brotli)", self.stylesheet, BROWSER_ENCODINGS),
        ]
        for key, label, path, headers in gets:
            if key in self.only:
                self.get_row(key, label, path, headers, bare)
        if "results" in self.only:
            path = f"/jury/editions/{self.data['scoring']['id']}/results"
            row = self.row("results: chair's page `GET /jury/editions/{id}/results`", CLIENTS["results"])
            self.measure(row, self.commands_get(self.app, path, CLIENTS["results"], {"Cookie": chair["cookie"]}))
        if "storm" in self.only:
            self.storm()
        if "score" in self.only:
            self.score(sessions)
        if "nominate" in self.only:
            self.nominate()
        rss = self.row("every worker over the whole run", 0)
        rss.rss_mb = self.app.peak_rss_mb()
        rss.target = target(f"RSS ≤ {RSS_MB:g} MB", rss.rss_mb <= RSS_MB)

    def get_row(self, key: str, label: str, path: str, headers: dict[str, str], bare: Row) -> None:
        row = self.row(label, CLIENTS["get"])
        paired = None
        if key in TARGETED:
            # The bare route again just before: on a shared machine the load of the neighbours
            # changes within minutes; the ratio is that pair's.
            paired = self.measure(bare, self.commands_get(self.bare, "/plaintext", CLIENTS["get"]), self.bare)
        result = self.measure(row, self.commands_get(self.app, path, CLIENTS["get"], headers or None))
        if paired is not None:
            row.ratio = result.rps / paired.rps if paired.rps else 0.0
            self.judge(key, row)

    def judge(self, key: str, row: Row) -> None:
        """The targets of the home page, the form (each visitor's first view: no cookie, so a
        fresh CSRF cookie on every answer) and a static file, by the ratio to the bare run paired with it."""
        ratio = row.ratio or 0.0
        if key in ("home", "form"):
            met = ratio >= PAGE_RATIO and row.p99_ms < PAGE_P99_MS and row.errors == 0
            row.target = target(f"≥ {PAGE_RATIO:g}× bare, p99 < {PAGE_P99_MS:g} ms", met)
        elif key == "static":
            row.target = target(f"≥ {STATIC_RATIO:g}× bare", ratio >= STATIC_RATIO and row.errors == 0)

    def storm(self) -> None:
        clients = CLIENTS["storm"]
        idle = self.row("archive index idle", clients)
        self.measure(idle, self.commands_get(self.app, self.address("/laureates"), clients))
        logins = self.row("login `POST /login` (the storm)", clients)
        during = self.row("archive index during the login storm", clients)
        csrf = csrf_cookie(self.app.port)
        spec = self.spec(
            {
                "scenario": "login",
                "emails": self.data["storm"],
                "password": self.data["password"],
                "csrf": csrf,
                "next": "/jury",
            }
        )
        storm = self.load.python(self.workers, self.url(self.app), clients, spec)
        public = self.commands_get(self.app, self.address("/laureates"), clients)
        self.settle(self.app)
        # wrk's warm-up run, then its measured run, beside the login client (warm-up inside).
        outputs = self.harness.run_together(
            [storm[0], ["sh", "-c", " && ".join(shell_line(c) for c in public)]],
            "the login storm",
            timeout=2 * (self.load.warmup + self.load.duration) + 120,
        )
        self.record(logins, parse_loadgen(outputs[0]), self.app)
        self.record(during, self.parse(public, outputs[1]), self.app)
        ratio = during.p99_ms / idle.p99_ms if idle.p99_ms else float("inf")
        during.target = target(f"p99 ≤ {STORM_P99_FACTOR:g}× idle ({ratio:.1f}×)", ratio <= STORM_P99_FACTOR)

    def score(self, sessions: list[dict[str, str]]) -> None:
        """Two rows: jurors at work (the target) and the same jurors saving back to back.

        Fifty jurors at work each save now and then; with no pause between saves the run
        measures how many saves per second the server can take, and the latency is then just
        the queue (50 clients / throughput) rather than what a juror waits.
        """
        scoring = self.data["scoring"]
        jurors = len(sessions)
        for pause in (SCORE_PAUSE_S, 0.0):
            spec = self.spec(
                {
                    "scenario": "score",
                    "sessions": sessions,
                    "nominations": scoring["nominations"],
                    "criteria": scoring["criteria"],
                    "low": 0,
                    "high": 10,
                    "pause": pause,
                }
            )
            if pause:
                label = f"score save `POST /jury/nominations/{{id}}/score` ({jurors} jurors, each every ~{pause:g} s)"
            else:
                label = f"score save, the same {jurors} jurors without a pause (capacity)"
            row = self.row(label, jurors)
            self.measure(row, self.load.python(self.workers, self.url(self.app), jurors, spec))
            if pause:
                row.target = target(f"p99 < {SCORE_P99_MS:g} ms", row.p99_ms < SCORE_P99_MS and row.errors == 0)

    def nominate(self) -> None:
        edition = self.data["open"]
        before = data_command(self.harness, "count", f"--edition={edition['id']}")
        mark = int(data_command(self.harness, "mail-mark"))
        csrf = csrf_cookie(self.app.port)
        content_type, template = nomination_form(edition, csrf)
        # Posted as from the page a browser without cookies ends up on (``/pl/nominate``).
        form_path = self.address("/nominate")
        sent_path = f"{form_path}/sent"
        smoke = http_request(
            self.app.port,
            "POST",
            form_path,
            headers={"Content-Type": content_type, "Cookie": f"csrftoken={csrf}"},
            body=template.replace("{key}", f"smoke{secrets.token_hex(6)}").encode(),
        )
        if smoke.status != 303 or smoke.header("location") != sent_path:
            raise SetupError(f"a nomination POST answered {smoke.status}: {smoke.body[:2000]!r}")
        clients = CLIENTS["nominate"]
        row = self.row("nomination `POST /nominate` (CSRF, unique)", clients)
        prefix = secrets.token_hex(3)
        if self.load.client == "wrk":
            commands = self.load.wrk(
                self.workers,
                self.url(self.app, form_path),
                clients,
                ["-H", f"Cookie: csrftoken={csrf}", "-s", str(BENCH / "post_form.lua")],
                [(f"w{prefix}{n}", content_type, template) for n in range(2)],
            )
        else:
            spec = self.spec(
                {
                    "scenario": "form",
                    "path": form_path,
                    "template": template,
                    "content_type": content_type,
                    "headers": {"Cookie": f"csrftoken={csrf}"},
                    "prefix": f"p{prefix}",
                    "expect_location": sent_path,
                }
            )
            commands = self.load.python(self.workers, self.url(self.app), clients, spec)
        self.measure(row, commands)
        sqlite = self.db == "sqlite"
        met = row.rps >= NOMINATE_RPS and row.errors == 0
        row.target = target(f"≥ {NOMINATE_RPS:g}/s, 0 errors", met) if sqlite else "— (SQLite target)"
        tokens: list[str] = data_command(self.harness, "confirm-links", f"--after={mark}")
        spec = self.spec({"scenario": "confirm", "tokens": tokens, "csrf": csrf})
        confirm = self.row("confirmation `POST /n/confirm/{token}` (link from the mail)", CLIENTS["confirm"])
        # No warm-up: each link works once, and the app is warm from the nominations.
        commands = self.load.python(self.workers, self.url(self.app), CLIENTS["confirm"], spec, warm=False)
        self.measure(confirm, commands)
        after = data_command(self.harness, "count", f"--edition={edition['id']}")
        created = sum(after.values()) - sum(before.values())
        confirmed = after.get("submitted", 0) - before.get("submitted", 0)
        self.notes.append(
            f"{self.name}: the nomination runs (warm-up included) created {created:,} nominations and mailed "
            f"{len(tokens):,} confirmation links; {confirmed:,} were confirmed through them"
        )
        settled = data_command(self.harness, "settle")
        self.notes.append(f"{self.name}: {settled:,} mails still in the outbox were marked sent before the next setup")


def shell_line(command: Sequence[str]) -> str:
    """A command for ``sh -c``; a warm-up run's output is dropped (only the last one is parsed)."""
    line = " ".join(shlex.quote(a) for a in command)
    return line if "--latency" in command or "loadgen.py" in " ".join(command) else f"{line} >/dev/null"


def target(text: str, met: bool) -> str:
    return f"{text}: {'met' if met else '**NOT met**'}"


# --- the report -----------------------------------------------------------------------------


def _ratio(value: float, reference: float) -> str:
    return f"{value / reference:.2f}×" if reference else "—"


def table(rows: Sequence[Row]) -> list[str]:
    lines = [
        "| setup | endpoint | clients | requests/s (× bare) | p50 ms (× bare) | p99 ms (× bare) | errors "
        "| server CPU µs per request (× bare) | peak RSS MB per worker (× bare) | target |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    bare: Row | None = None
    for row in rows:
        if row.label.startswith("bare"):
            bare = row
        assert bare is not None
        runs = f" (median of {len(row.runs)})" if len(row.runs) > 1 else ""
        rss = f"{row.rss_mb:.0f} ({_ratio(row.rss_mb, bare.rss_mb or 0)})" if row.rss_mb else "—"
        if not row.runs:
            cells = ["—", "—", "—", "—", "—", "—"]
        else:
            ratio = row.ratio if row.ratio is not None else row.rps / bare.rps
            cells = [
                str(row.clients),
                f"{row.rps:,.0f} ({ratio:.2f}×)" if row.rps >= 100 else f"{row.rps:.1f} ({ratio:.3f}×)",
                f"{row.p50_ms:.1f} ({_ratio(row.p50_ms, bare.p50_ms)})",
                f"{row.p99_ms:.1f} ({_ratio(row.p99_ms, bare.p99_ms)})",
                str(row.errors),
                f"{row.cpu_us:,.0f} ({_ratio(row.cpu_us, bare.cpu_us)})" if row.cpu_us else "—",
            ]
        lines.append(f"| {row.setup} | {row.label}{runs} | {' | '.join(cells)} | {rss} | {row.target} |")
    return lines


def machine(load: LoadSettings, pg_version: str | None, loads: tuple[float, float, float]) -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text(encoding="ascii").split("\n", 1)[0].split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB RAM"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    packages = ("litestar", "uvicorn", "uvloop", "httptools", "piccolo", "aiosqlite", "asyncpg", "argon2-cffi")
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in packages)
    client = "bench/loadgen.py for every scenario"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        if load.client == "wrk":
            out = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)  # noqa: S607
            wrk = (out.stdout + out.stderr).split(" Copyright")[0].strip()
            client = f"{wrk} for the GETs and the nomination POST, bench/loadgen.py for the other scenarios"
    pinned = (
        "; 1-worker servers pinned to cpu0, load to cpu1"
        if load.pin
        else "; server, load and database share every core"
    )
    database = f"PostgreSQL {pg_version} on the same machine" if pg_version else "PostgreSQL not measured"
    return (
        f"{model}, {os.cpu_count()} cores ({usable} usable){memory}; Linux {platform.release()}, "
        f"Python {platform.python_version()}, {versions}; SQLite {sqlite_version()}; {database}; "
        f"load: {client}, {load.warmup} s warm-up + {load.duration} s per run{pinned}; "
        f"load average (1 min) {loads[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    )


def sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


def benchmark(args: argparse.Namespace, load: LoadSettings, harness: Harness) -> int:
    only = frozenset(args.only.split(",")) if args.only else frozenset(SCENARIOS)
    if unknown := only - set(SCENARIOS):
        raise SetupError(f"unknown scenarios {sorted(unknown)}; choose from {', '.join(SCENARIOS)}")
    workers = sorted({int(w) for w in args.workers.split(",")})
    dbs = ["sqlite", "postgres"] if args.db == "all" else [args.db]
    pg_version = postgres_version(args.postgres_url) if "postgres" in dbs else None
    notes: list[str] = []
    if "postgres" in dbs and pg_version is None:
        notes.append(f"PostgreSQL did not answer at {args.postgres_url}: its setups were skipped")
        _write(notes[-1])
        dbs.remove("postgres")
        if not dbs:
            raise SetupError(notes[-1])
    rows: list[Row] = []
    loads = os.getloadavg()
    for kind in dbs:
        with database(kind, harness, args.postgres_url) as url:
            _write(f"{kind}: {urlsplit(url).path.rsplit('/', 1)[-1]}")
            harness.env["AMBASSADOR_DATABASE_URL"] = url
            data = prepare_database(harness, args)
            for count in workers:
                app = harness.serve(f"app-{kind}-{count}", APP, "/healthz", count, load.pin)
                bare = harness.serve(f"bare-{kind}-{count}", BARE, "/plaintext", count, load.pin)
                setup = Setup(harness, load, data, kind, count, app, bare, only, args.repeat)
                _write(f"{setup.name}: app on :{app.port}, bare on :{bare.port}")
                try:
                    setup.run()
                finally:
                    harness.stop(app)
                    harness.stop(bare)
                rows.extend(setup.rows)
                notes.extend(setup.notes)
    report = [
        f"Application benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}",
        "",
        f"Machine: {machine(load, pg_version, loads)}",
        "",
        *table(rows),
        "",
    ]
    if 2 in workers and "sqlite" in dbs:
        report.append(
            "SQLite with 2 workers: two processes share one database file and SQLite admits one writer at a "
            "time (IMMEDIATE transactions wait up to the 30 s busy timeout), so writes do not scale with workers."
        )
        report.append("")
    report.extend(f"- {note}" for note in notes)
    failed = [(row, r) for row in rows for r in row.runs if r.errors]
    report.extend(f"- FAILED requests on {row.setup} / {row.label}: {r.errors} ({r.detail})" for row, r in failed)
    _write()
    for line in report:
        _write(line)
    if publishing(args):
        publish(args.publish_to, report)
        _write(f"\nPublished in {args.publish_to}")
    return 1 if failed else 0


# --- the published table ----------------------------------------------------------------------

BEGIN = "<!-- bench_app.py: the latest published run, written by the benchmark; do not edit -->"
END = "<!-- bench_app.py: end of the latest published run -->"


def commit() -> str:
    """The checked-out commit and its subject (what was measured), or "unknown"."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        git = ["git", "-C", str(ROOT)]
        out = subprocess.run([*git, "log", "-1", "--format=%h (%s)"], capture_output=True, text=True, check=True)  # noqa: S603
        dirty = subprocess.run(  # noqa: S603 - fixed commands, no shell
            [*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip() + (" with uncommitted changes" if dirty.stdout.strip() else "")
    return "unknown"


def publishing(args: argparse.Namespace) -> bool:
    """``--publish``/``--no-publish``; by default only a complete run replaces the published one."""
    if args.publish is not None:
        return bool(args.publish)
    complete = not args.quick and not args.only and args.db == "all" and args.workers == "1,2"
    return complete and args.duration == 10 and args.warmup == 2 and args.repeat == 3


def publish(path: Path, report: Sequence[str]) -> None:
    """Replace the block between the markers of ``path`` (docs/benchmarks.md) by ``report``."""
    text = path.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SetupError(f"{path} has no block between {BEGIN!r} and {END!r} to replace")
    before, rest = text.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    path.write_text(before + BEGIN + "\n\n" + "\n".join(report).strip() + "\n\n" + END + after, encoding="utf-8")


def _load_settings(args: argparse.Namespace) -> LoadSettings:
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    elif client == "wrk" and not shutil.which("wrk"):
        raise SetupError("wrk is not installed (apt-get install wrk), or use --client=python")
    if args.pin and (not shutil.which("taskset") or len(os.sched_getaffinity(0)) < 2):
        raise SetupError("--pin needs taskset and at least 2 usable cores")
    return LoadSettings(client, args.duration, args.warmup, args.pin)


def _interrupt(signum: int, _: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def run_main(name: str, body: Callable[[], int]) -> int:
    """A benchmark script's run: SIGTERM and SIGHUP stop it as Ctrl-C does (everything is
    cleaned up on the way out); ``body``'s exit status, 2 when set-up failed, 130 when interrupted."""
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    try:
        return body()
    except SetupError as exc:
        sys.stderr.write(f"{name}: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write(f"{name}: interrupted; servers stopped, temporary files and databases removed\n")
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s runs after 1 s warm-up, 1 pair (unless given)")
    parser.add_argument("--db", choices=("sqlite", "postgres", "all"), default="all")
    parser.add_argument("--workers", default="1,2", help="uvicorn workers, comma-separated (default 1,2)")
    parser.add_argument("--only", default="", help=f"scenarios, comma-separated: {','.join(SCENARIOS)}")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto", help="load generator for GETs")
    parser.add_argument("--duration", type=int, help="measured seconds per run (default 10)")
    parser.add_argument("--warmup", type=int, help="warm-up seconds before each run (default 2)")
    parser.add_argument("--repeat", type=int, help="bare + archive index pairs (default 3)")
    parser.add_argument("--postgres-url", default=os.environ.get("AMBASSADOR_BENCH_POSTGRES_URL", DEFAULT_POSTGRES))
    parser.add_argument("--editions", type=int, default=7)
    parser.add_argument("--nominations", type=int, default=2000)
    parser.add_argument("--jurors", type=int, default=15)
    parser.add_argument("--laureates", type=int, default=150)
    parser.add_argument("--load-jurors", type=int, default=50, help="concurrent jurors saving scores (default 50)")
    parser.add_argument("--pin", action="store_true", help="1-worker servers on cpu0, load on cpu1 (taskset)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (databases, logs)")
    parser.add_argument(
        "--publish",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write the table into --publish-to (default: only after a complete run with the default options)",
    )
    parser.add_argument("--publish-to", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    defaults = (3, 1, 1) if args.quick else (10, 2, 3)
    for name, default in zip(("duration", "warmup", "repeat"), defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, default)

    def measured() -> int:
        load = _load_settings(args)
        with Harness.create(keep=args.keep) as harness:
            return benchmark(args, load, harness)

    return run_main("bench_app", measured)


if __name__ == "__main__":
    sys.exit(main())
