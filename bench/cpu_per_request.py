"""CPU time per request, in process: the app called as ASGI, no server, no client, no network.

Throughput on a shared machine is noisy; the CPU time one request costs the app is not (much).
This script builds a small data set in a temporary SQLite database (the shipped laureates and
``bench/data.py build`` with few rows), starts the app with the production cache settings, and
for each scenario sends N requests straight to the ASGI callable, measuring
``time.process_time()`` around them (after a warm-up). ``--profile NAME`` writes a cProfile
of a scenario to ``NAME.<scenario>.prof``.

    .venv/bin/python bench/cpu_per_request.py [--only archive,nominate] [-n 2000] [--profile out]

Scenarios: ``archive`` (``GET /pl/laureates``, no cookie, no Accept-Encoding, as the bench's
archive row), ``archive-br`` (the same with a browser's Accept-Encoding), ``static`` (the
stylesheet under its hashed name, brotli), ``head`` (``HEAD /pl/laureates``), ``old`` (the old
address ``/laureates?year=2024``: a redirect), ``nominate`` (``POST /pl/nominate`` of a
multipart form as bench_app.py posts it, a new submission key each time).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SCENARIOS = ("archive", "archive-br", "static", "head", "old", "nominate")
BROWSER = [(b"accept-encoding", b"gzip, deflate, br")]


def prepare(tmp: Path) -> dict[str, Any]:
    """The database and the environment of the measuring process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMBASSADOR_")}
    env |= {
        "AMBASSADOR_VAR_DIR": str(tmp / "var"),
        "AMBASSADOR_SECRET_KEY": secrets.token_urlsafe(48),
        "AMBASSADOR_NOMINATION_POSTS_PER_HOUR": "1000000000",
        "AMBASSADOR_DATABASE_URL": f"sqlite:///{tmp / 'cpu.sqlite3'}",
        "AMBASSADOR_MAIL_IN_WEB": "0",
        "PICCOLO_CONF": "ambassador.piccolo_conf",
    }
    cli = [sys.executable, "-m", "ambassador"]
    csv = ROOT / "ambassador" / "data" / "laureates-2018-2024.csv"
    for command in ([*cli, "migrate"], [*cli, "laureates", "import", str(csv)]):
        subprocess.run(command, env=env, check=True, capture_output=True)  # noqa: S603 - this script's own commands
    shape = ["--editions=3", "--nominations=60", "--jurors=3", "--laureates=150", "--load-jurors=3"]
    built = subprocess.run(  # noqa: S603 - this script's own commands
        [sys.executable, str(BENCH / "data.py"), "build", *shape], env=env, check=True, capture_output=True, text=True
    )
    return {"env": env, "data": json.loads(built.stdout)}


def form(edition: dict[str, Any], csrf: str) -> tuple[str, str]:
    sys.path.insert(0, str(BENCH))
    from bench_app import nomination_form

    return nomination_form(edition, csrf)


def drive(request: Awaitable[Any]) -> None:
    """Run a request that never waits (an answer from memory) to its end, without the loop."""
    step = request.__await__()
    try:
        step.send(None)
    except StopIteration:
        return
    raise SystemExit("a request waited: --callgrind measures answers from memory only")


class Caller:
    """Requests straight to an ASGI app; each answer's status, headers and body."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(
        self,
        method: str,
        path: str,
        headers: list[tuple[bytes, bytes]] = (),
        body: bytes = b"",  # type: ignore[assignment]
    ) -> tuple[int, dict[bytes, bytes], bytes]:
        path, _, query = path.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(b"host", b"127.0.0.1:8000"), *headers],
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 0
        answer: dict[bytes, bytes] = {}
        chunks: list[bytes] = []

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    answer[name.lower()] = value
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, answer, b"".join(chunks)


async def measure(args: argparse.Namespace, data: dict[str, Any]) -> dict[str, float]:
    from litestar.testing import AsyncTestClient

    from ambassador.web.app import create_app
    from ambassador.web.static import hashed_path

    app = create_app()
    archive = "/pl/laureates"
    call = Caller(app)
    results: dict[str, float] = {}
    async with AsyncTestClient(app=app) as client:
        login = await client.get("/login")
        csrf = login.cookies["csrftoken"]
        content_type, template = form(data["open"], csrf)
        post_headers = [(b"content-type", content_type.encode()), (b"cookie", f"csrftoken={csrf}".encode())]
        counter = iter(range(10**9))

        def nominate() -> Awaitable[tuple[int, dict[bytes, bytes], bytes]]:
            key = f"c{secrets.token_hex(3)}{next(counter):08d}"
            return call("POST", "/pl/nominate", post_headers, template.replace("{key}", key).encode())

        stylesheet = hashed_path("css/app.css")
        cases: dict[str, tuple[Callable[[], Awaitable[tuple[int, dict[bytes, bytes], bytes]]], int]] = {
            "archive": (lambda: call("GET", archive), 200),
            "archive-br": (lambda: call("GET", archive, BROWSER), 200),
            "static": (lambda: call("GET", stylesheet, BROWSER), 200),
            "head": (lambda: call("HEAD", archive), 200),
            "old": (lambda: call("GET", "/laureates?year=2024"), 302),
            "nominate": (nominate, 303),
        }
        for name in args.only:
            request, expected = cases[name]
            count = args.n if name != "nominate" else max(1, args.n // 10)
            for _ in range(max(20, count // 10)):  # warm-up: caches filled, code paths imported
                status, _, body = await request()
                if status != expected:
                    raise SystemExit(f"{name}: {status} instead of {expected}: {body[:500]!r}")
            if args.callgrind:
                # Run synchronously inside functools.reduce, the function callgrind collects in.
                functools.reduce(lambda _, __: drive(request()), range(count), None)
                print(f"{name:12} {count} requests counted by callgrind", file=args.out, flush=True)
                continue
            profile = cProfile.Profile() if args.profile else None
            runs = []
            for _ in range(args.repeat):
                if profile:
                    profile.enable()
                started = time.process_time()
                for _ in range(count):
                    await request()
                runs.append(time.process_time() - started)
                if profile:
                    profile.disable()
            if profile:
                profile.dump_stats(f"{args.profile}.{name}.prof")
            # The least of the runs: what other processes on the machine add is noise.
            results[name] = min(runs) / count * 1e6
            print(
                f"{name:12} {results[name]:9.1f} µs CPU per request (least of {args.repeat} runs of {count})",
                file=args.out,
                flush=True,
            )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument("-n", type=int, default=2000, help="requests per GET scenario (a tenth for nominate)")
    parser.add_argument("--verbose", action="store_true", help="show the app's log (stderr)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per scenario; the least counts (default 5)")
    parser.add_argument(
        "--callgrind",
        default="",
        metavar="FILE",
        help="count the instructions of one scenario's requests with callgrind into FILE (run inside "
        "functools.reduce, the only function collected; answers from memory only: not nominate)",
    )
    parser.add_argument("--profile", default="", help="write NAME.<scenario>.prof (cProfile)")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    parser.add_argument("--result-fd", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.only = [name for name in args.only.split(",") if name]
    if unknown := set(args.only) - set(SCENARIOS):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if args.callgrind and len(args.only) != 1:
        parser.error("--callgrind counts one scenario: name it with --only")
    if args.child:
        # The request log goes to stdout, as a server's goes to its log file; the results to
        # the descriptor the parent left open.
        with os.fdopen(int(args.result_fd), "w") as args.out:
            asyncio.run(measure(args, json.loads(Path(args.child).read_text())))
        return 0
    with tempfile.TemporaryDirectory(prefix="ambassador-cpu-") as name:
        tmp = Path(name)
        prepared = prepare(tmp)
        (tmp / "data.json").write_text(json.dumps(prepared["data"]))
        results = os.dup(sys.stdout.fileno())
        child = [
            sys.executable,
            __file__,
            *sys.argv[1:],
            "--child",
            str(tmp / "data.json"),
            "--result-fd",
            str(results),
        ]
        if args.callgrind:
            tool = ["valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=functools_reduce"]
            child = [*tool, f"--callgrind-out-file={args.callgrind}", *child]
        code = subprocess.run(  # noqa: S603 - this script's own commands
            child,
            env=prepared["env"],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=None if args.verbose else subprocess.DEVNULL,
            pass_fds=(results,),
        ).returncode
        if code:
            sys.stderr.write(f"the measuring process failed ({code}); --verbose shows its log\n")
        return code


if __name__ == "__main__":
    raise SystemExit(main())
