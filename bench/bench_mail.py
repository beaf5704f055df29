"""Mail delay benchmark: from a nomination's acknowledgement to the SMTP server accepting its mail.

Run by `make bench` after bench/bench_app.py. For each database (SQLite in a temporary
directory; PostgreSQL in a database ``ambassador_bench_mail`` created for the run and dropped
after it, when the server answers):

1. the database: ``ambassador migrate``, then a small ``bench/data.py build`` (an edition open
   for nominations);
2. a real SMTP server, aiosmtpd in its own process (``bench_mail.py sink``), which writes one
   line per accepted mail: the moment it accepted it (``time.time()``, after its 250 reply is
   decided) and the recipient;
3. the app as deployed, ``ambassador serve --workers N`` started by bench_app.py's
   ``Harness.serve`` with ``AMBASSADOR_MAIL_IN_WEB=0``, and the separate
   sender ``ambassador mail send --loop`` (``AMBASSADOR_MAIL_RATE``, ``AMBASSADOR_MAIL_CONCURRENCY``
   and ``AMBASSADOR_MAIL_POLL_SECONDS`` as given below; the default settings otherwise);
4. 64 clients (keep-alive connections of this process) nominating back to back for the run's
   seconds, each nomination unique (its key is in the nominator's address); the moment each
   ``303 /pl/nominate/sent`` arrives is its acknowledgement;
5. then it waits (at most ``--drain`` seconds) until every acknowledged nomination's
   confirmation mail has been accepted, and prints p50/p99/max of accept - acknowledgement.

Target (issue 11): p99 under 10 s with 64 clients nominating. Exit status: 0 when measured
(met or not), 1 when a nomination failed or a mail never arrived, 2 when something could not be
set up, 130 when interrupted; servers, files and the database are removed in every case.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from bench_app import (
    DEFAULT_POSTGRES,
    Harness,
    SetupError,
    _admin,
    csrf_cookie,
    free_port,
    http_request,
    nomination_form,
    postgres_version,
    run_main,
)

BENCH = Path(__file__).resolve().parent
APP = "ambassador.web.app:create_app"
DATABASE = "ambassador_bench_mail"
CLIENTS = 64
TARGET_P99_S = 10.0


def _write(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --- the SMTP sink, in its own process ------------------------------------------------------


def sink(port: int, out: Path) -> int:
    """Accept every mail; one line per mail: accept time and recipients (JSON)."""
    from aiosmtpd.controller import Controller

    handle = out.open("a", encoding="utf-8", buffering=1)

    class Handler:
        async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
            handle.write(json.dumps({"at": time.time(), "to": list(envelope.rcpt_tos)}) + "\n")
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    stopped = False

    def stop(*_: object) -> None:
        nonlocal stopped
        stopped = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while not stopped:
            time.sleep(0.2)
    finally:
        controller.stop()
        handle.close()
    return 0


def read_sink(path: Path) -> dict[str, float]:
    """Recipient -> first accept time."""
    accepted: dict[str, float] = {}
    with contextlib.suppress(FileNotFoundError), path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.endswith("\n"):
                break  # being written
            entry = json.loads(line)
            for to in entry["to"]:
                accepted.setdefault(to, float(entry["at"]))
    return accepted


def duplicates(path: Path) -> int:
    seen: set[str] = set()
    doubled = 0
    with contextlib.suppress(FileNotFoundError), path.open(encoding="utf-8") as handle:
        for line in handle:
            for to in json.loads(line)["to"]:
                doubled += to in seen
                seen.add(to)
    return doubled


# --- the nominating clients -----------------------------------------------------------------


@dataclass
class Load:
    acknowledged: dict[str, float]  # nominator address -> time of the 303
    failed: int
    failures: list[str]
    seconds: float


async def _post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, str]:
    writer.write(request)
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    length = 0
    location = ""
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
        elif name.lower() == "location":
            location = value.strip()
    if length:
        await reader.readexactly(length)
    return status, location


async def nominate(port: int, edition: dict[str, Any], clients: int, seconds: float) -> Load:
    csrf = csrf_cookie(port)
    content_type, template = nomination_form(edition, csrf)
    prefix = secrets.token_hex(3)
    counter = iter(range(10**9))
    load = Load({}, 0, [], seconds)
    until = time.monotonic() + seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.monotonic() < until:
                key = f"m{prefix}{next(counter):07d}"
                body = template.replace("{key}", key).encode()
                head = (
                    f"POST /pl/nominate HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
                    f"Cookie: csrftoken={csrf}\r\nContent-Length: {len(body)}\r\n\r\n"
                )
                try:
                    status, location = await asyncio.wait_for(_post(reader, writer, head.encode() + body), 30)
                except (OSError, TimeoutError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
                    load.failed += 1
                    load.failures.append(f"{type(exc).__name__}: {exc}")
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                if status == 303 and location == "/pl/nominate/sent":  # the Polish page's form
                    load.acknowledged[f"nominator-{key}@nominators.example.org"] = time.time()
                else:
                    load.failed += 1
                    load.failures.append(f"{status} {location}")
        finally:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(clients)))
    load.seconds = time.monotonic() - started
    return load


# --- one setup ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    setup: str
    nominations: int
    rps: float
    delivered: int
    p50_s: float
    p99_s: float
    max_s: float
    failed: int
    missing: int
    doubled: int

    @property
    def met(self) -> bool:
        return self.p99_s < TARGET_P99_S and self.missing == 0 and self.failed == 0


def _percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


@contextlib.contextmanager
def database(kind: str, harness: Harness, server_url: str) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{harness.tmp / 'bench-mail.sqlite3'}"
        return
    try:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        asyncio.run(_admin(server_url, f'CREATE DATABASE "{DATABASE}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise SetupError(f"could not create the database {DATABASE}: {exc}") from exc
    try:
        yield f"{server_url}/{DATABASE}"
    finally:
        harness.stop_all()
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))


def measure(kind: str, harness: Harness, args: argparse.Namespace) -> Measured:
    cli = [sys.executable, "-m", "ambassador"]
    harness.run([*cli, "migrate"], "ambassador migrate")
    shape = ["--editions=3", "--nominations=30", "--jurors=3", "--laureates=0", "--load-jurors=3", "--storm-accounts=0"]
    data = json.loads(harness.run([sys.executable, str(BENCH / "data.py"), "build", *shape], "data.py build"))
    accepted_file = harness.tmp / f"accepted-{kind}.jsonl"
    smtp_port = free_port()
    harness._popen(
        [sys.executable, str(BENCH / "bench_mail.py"), "sink", f"--port={smtp_port}", f"--out={accepted_file}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    harness.env |= {
        "AMBASSADOR_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "AMBASSADOR_MAIL_IN_WEB": "0",
        "AMBASSADOR_MAIL_RATE": str(args.mail_rate),
        "AMBASSADOR_MAIL_CONCURRENCY": str(args.mail_concurrency),
        "AMBASSADOR_MAIL_POLL_SECONDS": str(args.mail_poll),
    }
    app = harness.serve(f"app-mail-{kind}", APP, "/healthz", args.workers, pin=False)
    sender_log = (harness.tmp / f"sender-{kind}.log").open("ab")
    harness.logs.append(sender_log)
    sender = harness._popen([*cli, "mail", "send", "--loop"], stdout=sender_log, stderr=subprocess.STDOUT)
    # The sink answers and the sender runs before the load starts.
    deadline = time.monotonic() + 30
    while http_request(app.port, "GET", "/healthz").status != 200 or sender.poll() is not None:
        if time.monotonic() > deadline:
            raise SetupError(f"the mail sender did not start (see {sender_log.name})")
        time.sleep(0.2)
    load = asyncio.run(nominate(app.port, data["open"], CLIENTS, args.duration))
    wanted = set(load.acknowledged)
    deadline = time.monotonic() + args.drain
    while not wanted <= set(read_sink(accepted_file)) and time.monotonic() < deadline:
        time.sleep(0.2)
    accepted = read_sink(accepted_file)
    delays = sorted(accepted[to] - at for to, at in load.acknowledged.items() if to in accepted)
    harness.stop_all()
    if load.failures:
        _write(f"    failed nominations, e.g. {load.failures[:3]}")
    name = f"{'SQLite' if kind == 'sqlite' else 'PostgreSQL'}, {args.workers} worker{'s' * (args.workers > 1)}"
    return Measured(
        setup=name,
        nominations=len(load.acknowledged),
        rps=len(load.acknowledged) / load.seconds,
        delivered=len(delays),
        p50_s=statistics.median(delays) if delays else 0.0,
        p99_s=_percentile(delays, 0.99) if delays else 0.0,
        max_s=delays[-1] if delays else 0.0,
        failed=load.failed,
        missing=len(wanted - set(accepted)),
        doubled=duplicates(accepted_file),
    )


def report(rows: Sequence[Measured], args: argparse.Namespace) -> None:
    _write()
    _write(f"Mail delay benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    _write(
        f"{CLIENTS} clients nominating for {args.duration} s; app: uvicorn, {args.workers} workers, "
        f"AMBASSADOR_MAIL_IN_WEB=0; sender: one `ambassador mail send --loop`, AMBASSADOR_MAIL_RATE={args.mail_rate}, "
        f"AMBASSADOR_MAIL_CONCURRENCY={args.mail_concurrency}, AMBASSADOR_MAIL_POLL_SECONDS={args.mail_poll}; "
        f"SMTP: aiosmtpd in its own process on 127.0.0.1; load average (1 min) {os.getloadavg()[0]:.1f}"
    )
    _write()
    _write(
        "| setup | nominations acknowledged (/s) | mails accepted | delay p50 s | p99 s | max s "
        "| failed / missing / twice | target |"
    )
    _write("|---|---:|---:|---:|---:|---:|---|---|")
    for row in rows:
        verdict = "met" if row.met else "**NOT met**"
        _write(
            f"| {row.setup} | {row.nominations:,} ({row.rps:.0f}/s) | {row.delivered:,} | {row.p50_s:.2f} | "
            f"{row.p99_s:.2f} | {row.max_s:.2f} | {row.failed} / {row.missing} / {row.doubled} "
            f"| p99 < {TARGET_P99_S:g} s: {verdict} |"
        )


def benchmark(args: argparse.Namespace) -> int:
    kinds = ["sqlite", "postgres"] if args.db == "all" else [args.db]
    if "postgres" in kinds and postgres_version(args.postgres_url) is None:
        _write(f"PostgreSQL did not answer at {args.postgres_url}: its mail setup was skipped")
        kinds.remove("postgres")
    rows = []
    for kind in kinds:
        with Harness.create(keep=args.keep) as harness, database(kind, harness, args.postgres_url) as url:
            harness.env["AMBASSADOR_DATABASE_URL"] = url
            _write(f"mail delay, {kind}: {CLIENTS} clients nominating for {args.duration} s")
            row = measure(kind, harness, args)
            _write(
                f"  {row.nominations:,} nominations, {row.delivered:,} mails accepted: "
                f"p50 {row.p50_s:.2f} s, p99 {row.p99_s:.2f} s, max {row.max_s:.2f} s"
            )
            rows.append(row)
    report(rows, args)
    return 1 if any(r.failed or r.missing for r in rows) else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", choices=("run", "sink"), default="run")
    parser.add_argument("--quick", action="store_true", help="3 s of nominations instead of 10")
    parser.add_argument("--db", choices=("sqlite", "postgres", "all"), default="all")
    parser.add_argument("--workers", default="2", help="uvicorn workers (default 2; of a list such as 1,2 the largest)")
    parser.add_argument("--duration", type=int, help="seconds of nominating (default 10)")
    parser.add_argument("--drain", type=float, default=300.0, help="longest wait for the last mails (default 300 s)")
    parser.add_argument("--mail-rate", type=float, default=1000.0, help="AMBASSADOR_MAIL_RATE (default 1000)")
    parser.add_argument("--mail-concurrency", type=int, default=4, help="AMBASSADOR_MAIL_CONCURRENCY (default 4)")
    parser.add_argument("--mail-poll", type=float, default=1.0, help="AMBASSADOR_MAIL_POLL_SECONDS (default 1)")
    parser.add_argument("--postgres-url", default=os.environ.get("AMBASSADOR_BENCH_POSTGRES_URL", DEFAULT_POSTGRES))
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, accept times)")
    parser.add_argument("--port", type=int, help="sink: the port")
    parser.add_argument("--out", type=Path, help="sink: the file of accept times")
    # Options of bench_app.py that `make bench BENCH_ARGS=...` passes to both scripts.
    parser.add_argument("--only", "--client", "--repeat", "--warmup", dest="ignored", help=argparse.SUPPRESS)
    parser.add_argument("--pin", action="store_true", help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args(argv)
    if args.command == "sink":
        return sink(args.port, args.out)
    args.workers = max(int(w) for w in str(args.workers).split(","))
    if args.duration is None:
        args.duration = 3 if args.quick else 10
    return run_main("bench_mail", lambda: benchmark(args))


if __name__ == "__main__":
    sys.exit(main())
