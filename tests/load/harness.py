"""The pieces of the load and fault tests: the app as deployed, an SMTP sink, a TCP proxy, the clients.

The app runs as in production: ``ambassador serve`` (uvicorn, app factory), one
worker, background tasks (the outbox sender) on, mail to a real SMTP server. That server is
an aiosmtpd sink in a thread of the test process that counts every Message-ID it accepts.
The clients are ``httpx.AsyncClient`` instances in the test's event loop, each with its own
cookies, as separate browsers would be.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller

from tests.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
SECRET = "load-test-secret-" + "x" * 40
# The server and the commands share the audit key and the anchor file (docs/audit.md).
AUDIT_KEY = "load-test-audit-key-" + "a" * 40
ANCHORS = Path(tempfile.mkdtemp(prefix="ambassador-load-anchors-")) / "audit-anchors.jsonl"
REQUEST_TIMEOUT = 60.0
# After the load's end, a client still retries its last nomination this long (its outcome
# must be known: acknowledged or not).
GRACE_SECONDS = 30.0
# A client told 503 (or cut off) waits this long before it tries again. The server asks for
# 60 s in Retry-After; a person would wait, a load test cannot.
RETRY_PAUSE = 0.5
# Every n-th acknowledged nominator follows the link mailed to them.
CONFIRM_EVERY = 5
CONFIRMERS = 20


def load_seconds() -> float:
    return float(os.environ.get("AMBASSADOR_LOAD_SECONDS", "30"))


def load_clients() -> int:
    return int(os.environ.get("AMBASSADOR_LOAD_CLIENTS", "200"))


# --- subprocesses: the CLI and the database tool ----------------------------------------


def database_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "AMBASSADOR_DATABASE_URL": database_url,
        "AMBASSADOR_SECRET_KEY": SECRET,
        "AMBASSADOR_AUDIT_KEY": AUDIT_KEY,
        "AMBASSADOR_AUDIT_ANCHOR_FILE": str(ANCHORS),
        "PICCOLO_CONF": "ambassador.piccolo_conf",
    }


async def run_command(database_url: str, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        PYTHON,
        *args,
        cwd=ROOT,
        env=database_env(database_url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def tool(database_url: str, *args: str) -> Any:
    """``python -m tests.load.dbtool ARGS`` on the given database; its JSON answer."""
    code, out, err = await run_command(database_url, "-m", "tests.load.dbtool", *args)
    assert code == 0, f"dbtool {args[0]} failed:\n{err}"
    return json.loads(out.strip().splitlines()[-1])


async def migrate(database_url: str) -> None:
    code, _, err = await run_command(database_url, "-m", "ambassador", "migrate")
    assert code == 0, err


async def audit_verify(database_url: str) -> tuple[int, str]:
    """``ambassador audit verify``: its exit status and output."""
    code, out, err = await run_command(database_url, "-m", "ambassador", "audit", "verify")
    return code, (out + err).strip()


# --- the SMTP sink ----------------------------------------------------------------------


class SmtpSink:
    """Accepts every mail; counts each Message-ID and keeps the bodies by recipient."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.counts: Counter[str] = Counter()
        self.bodies: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        payload = message.get_payload(decode=True)
        text = payload.decode() if isinstance(payload, bytes) else ""
        with self._lock:
            self.counts[str(message["Message-ID"])] += 1
            self.bodies.setdefault(str(message["To"]), []).append(text)
        return "250 OK"

    def link(self, to: str, pattern: re.Pattern[str]) -> str | None:
        with self._lock:
            bodies = list(self.bodies.get(to, []))
        for text in reversed(bodies):
            if found := pattern.search(text):
                return found.group(0)
        return None

    def received(self) -> Counter[str]:
        with self._lock:
            return Counter(self.counts)

    @contextlib.contextmanager
    def running(self) -> Iterator[SmtpSink]:
        self._controller.start()
        try:
            yield self
        finally:
            self._controller.stop()


# --- the TCP proxy standing in for a PostgreSQL restart ---------------------------------


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (linger 0), as a peer whose process died."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class TcpProxy:
    """Forwards 127.0.0.1:port to the database; ``cut`` resets every connection and stops listening.

    It runs its own event loop in a thread, so the load clients' loop never slows the
    database traffic. While cut, connecting is refused (nothing listens), as while a
    PostgreSQL server restarts; ``restore`` listens again on the same port.
    """

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.connections = 0
        self.resets = 0

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(30)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            _reset(writer)
            return
        self.connections += 1
        self._writers.update((writer, up_writer))
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._writers.difference_update((writer, up_writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, RuntimeError):
            pass
        finally:
            writer.close()

    async def _refuse(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _cut(self) -> None:
        await self._refuse()
        for writer in list(self._writers):
            _reset(writer)
            self.resets += 1
        self._writers.clear()

    def start(self) -> None:
        self._thread.start()
        self._call(self._listen())

    def cut(self) -> None:
        """Reset every connection and refuse new ones."""
        self._call(self._cut())

    def refuse(self) -> None:
        """Refuse new connections; those open stay until either side ends them."""
        self._call(self._refuse())

    def restore(self) -> None:
        self._call(self._listen())

    def stop(self) -> None:
        self._call(self._cut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


# --- the app under test -----------------------------------------------------------------


class AppServer:
    """``ambassador serve``, one worker, on a fixed port across restarts."""

    def __init__(self, database_url: str, var_dir: Path, smtp_url: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = var_dir / "server.log"
        var_dir.mkdir(parents=True, exist_ok=True)
        self.env = {
            **database_env(database_url),
            "AMBASSADOR_VAR_DIR": str(var_dir),
            "AMBASSADOR_SMTP_URL": smtp_url,
            "AMBASSADOR_BASE_URL": self.base,
            "AMBASSADOR_ARGON2_MEMORY_COST": "1024",
            "AMBASSADOR_ARGON2_TIME_COST": "1",
            "AMBASSADOR_NOMINATION_POSTS_PER_HOUR": "1000000000",
            # A killed sender's claim on a mail expires after this long; then it is retried.
            "AMBASSADOR_MAIL_LEASE_SECONDS": "20",
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    async def start(self, timeout: float = 60.0) -> float:
        """Start and wait until it answers; the seconds that took."""
        started = time.monotonic()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [PYTHON, "-m", "ambassador", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
            )
        self.starts += 1
        async with httpx.AsyncClient(base_url=self.base, timeout=2) as client:
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/healthz")).status_code == 200:
                        return time.monotonic() - started
                if self.process.poll() is not None or time.monotonic() - started > timeout:
                    raise RuntimeError(f"the server did not start; see {self.log_path}")
                await asyncio.sleep(0.05)

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no lifespan end, whatever was in flight is cut."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.process.wait)

    async def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            await asyncio.to_thread(self.process.wait, 20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            await asyncio.to_thread(self.process.wait)

    def logged_errors(self) -> Counter[str]:
        """The server's error lines: the app's (JSON) by message and exception, uvicorn's as they are."""
        found: Counter[str] = Counter()
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("ERROR:"):
                found[" ".join(line.split())] += 1
            if not line.startswith("{"):
                continue
            entry = json.loads(line)
            if entry.get("level") in ("error", "critical"):
                exception = str(entry.get("exception", "")).strip().splitlines()
                found[f"{entry.get('message')}: {exception[-1] if exception else ''}"] += 1
        return found


# --- the clients ------------------------------------------------------------------------

CONFIRM_LINK = re.compile(r"/n/confirm/[A-Za-z0-9_-]+")
SUBMISSION_KEY = re.compile(r'name="submission_key" value="([A-Za-z0-9_-]+)"')
EDITION_ID = re.compile(r'name="edition_id" value="(\d+)"')
DESCRIPTION = re.compile(r'<textarea id="f-(description_\d+)"')


@dataclass
class Tally:
    """Every answer and transport error, by phase of the run."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    transport_errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    without_retry_after: int = 0
    server_errors: list[str] = field(default_factory=list)

    def count(self, phase: str, response: httpx.Response) -> None:
        self.statuses[(phase, response.status_code)] += 1
        if response.status_code == 503 and not response.headers.get("retry-after"):
            self.without_retry_after += 1
        if response.status_code >= 500 and response.status_code != 503 and len(self.server_errors) < 20:
            self.server_errors.append(
                f"{phase} {response.request.method} {response.request.url.path} -> {response.status_code}"
            )

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def by_status(self, phase: str | None = None) -> Counter[int]:
        found: Counter[int] = Counter()
        for (p, status), n in self.statuses.items():
            if phase is None or p == phase:
                found[status] += n
        return found

    def errors(self) -> Counter[str]:
        found: Counter[str] = Counter()
        for (_, name), n in self.transport_errors.items():
            found[name] += n
        return found


@dataclass
class ScoreTrack:
    """One juror's sheet on one nomination: the saves acknowledged and those without an answer."""

    acknowledged: list[str] = field(default_factory=list)
    unanswered_since_ack: list[str] = field(default_factory=list)
    attempts: int = 0


class Load:
    """Nominators, confirmers and jurors against one server, until ``stop_at``."""

    def __init__(self, base: str, sink: SmtpSink, setup: dict[str, Any], clients: int, seconds: float) -> None:
        self.base = base
        self.sink = sink
        self.setup = setup
        self.clients = clients
        self.seconds = seconds
        self.phase = "load"
        self.tally = Tally()
        self.attempted: dict[str, str] = {}  # nominee name → nominator email
        self.acknowledged: dict[str, str] = {}
        self.acknowledged_at: Counter[str] = Counter()  # phase → nominations acknowledged
        self.confirm_acknowledged: set[str] = set()
        self.confirm_unanswered: set[str] = set()
        self.confirm_without_mail: set[str] = set()
        self.unexpected: list[str] = []
        self.scores: dict[tuple[int, int], ScoreTrack] = {}
        self.score_acknowledged = 0
        self.post_seconds: list[float] = []  # how long each acknowledged POST /nominate took
        self._confirm_queue: asyncio.Queue[tuple[str, str] | None] = asyncio.Queue()
        # One TLS context for every client: httpx would build one per client (costly for 200).
        self._ssl = ssl.create_default_context()
        self._tasks: list[asyncio.Task[None]] = []
        self._confirmers: list[asyncio.Task[None]] = []
        self.stop_at = 0.0
        self.started = 0.0

    # -- plumbing

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base, timeout=REQUEST_TIMEOUT, verify=self._ssl)

    def running(self) -> bool:
        return time.monotonic() < self.stop_at

    def in_grace(self) -> bool:
        return time.monotonic() < self.stop_at + GRACE_SECONDS

    async def request(self, client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response | None:
        """One request; None when the connection failed (refused, reset, timed out).

        Answers are counted in the phase of the run in which they arrived.
        """
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            self.tally.transport_errors[(self.phase, type(exc).__name__)] += 1
            return None
        self.tally.count(self.phase, response)
        return response

    @staticmethod
    def csrf(client: httpx.AsyncClient) -> str:
        return str(client.cookies.get("csrftoken", ""))

    # -- nominators

    async def _form(self, client: httpx.AsyncClient) -> dict[str, str] | None:
        while self.running():
            page = await self.request(client, "GET", "/nominate")
            if page is not None and page.status_code == 200:
                key, edition, description = (
                    SUBMISSION_KEY.search(page.text),
                    EDITION_ID.search(page.text),
                    DESCRIPTION.search(page.text),
                )
                assert key and edition and description, "the nomination form changed"
                return {
                    "submission_key": key.group(1),
                    "edition_id": edition.group(1),
                    description.group(1): "Runs a bilingual reading club for children.",
                }
            if page is not None and page.status_code != 503:
                self.unexpected.append(f"GET /nominate -> {page.status_code}")
                return None
            await asyncio.sleep(RETRY_PAUSE)
        return None

    async def nominator(self, index: int) -> None:
        async with self.client() as client:
            number = 0
            while self.running():
                form = await self._form(client)
                if form is None:
                    return
                number += 1
                name = f"Nominee W{index:03d} N{number:05d}"
                email = f"nominator-{index:03d}-{number:05d}@load.example.org"
                fields = {
                    **form,
                    "category": "B",
                    "nominee_name": name,
                    "nominee_email": f"nominee-{index:03d}-{number:05d}@load.example.org",
                    "nominator_name": f"Nominator W{index:03d} N{number:05d}",
                    "nominator_email": email,
                    "privacy_ack": "1",
                    "website": "",
                }
                self.attempted[name] = email
                if await self._submit(client, fields):
                    self.acknowledged[name] = email
                    self.acknowledged_at[self.phase] += 1
                    if len(self.acknowledged) % CONFIRM_EVERY == 0:
                        self._confirm_queue.put_nowait((name, email))

    async def _submit(self, client: httpx.AsyncClient, fields: dict[str, str]) -> bool:
        """Post the form until the server answers; the same submission key every time."""
        empty_file = [("attachments", ("", b"", "application/octet-stream"))]
        while self.in_grace():
            sent = time.monotonic()
            response = await self.request(
                client, "POST", "/nominate", data={**fields, "_csrf_token": self.csrf(client)}, files=empty_file
            )
            if response is not None and response.status_code == 303:
                self.post_seconds.append(time.monotonic() - sent)
                acknowledged = str(response.headers.get("location", "")).endswith("/nominate/sent")
                if not acknowledged:
                    self.unexpected.append(f"POST /nominate -> 303 {response.headers.get('location')}")
                return acknowledged
            if response is not None and response.status_code != 503:
                self.unexpected.append(f"POST /nominate -> {response.status_code}")
                return False
            await asyncio.sleep(RETRY_PAUSE)
        return False

    # -- confirmers: follow the link from the mail

    async def confirmer(self) -> None:
        async with self.client() as client:
            while (item := await self._confirm_queue.get()) is not None:
                name, email = item
                link = await self._wait_for_link(email)
                if link is None:
                    self.confirm_without_mail.add(name)
                    continue
                if not await self._confirm(client, name, link):
                    self.confirm_unanswered.add(name)

    async def _confirm(self, client: httpx.AsyncClient, name: str, path: str) -> bool:
        """Open the link and press the button, again after a 503 or a cut; False if never answered."""
        for attempt in range(200):
            page = await self.request(client, "GET", path)
            response = None
            if page is not None and page.status_code == 200:
                response = await self.request(client, "POST", path, data={"_csrf_token": self.csrf(client)})
            if response is not None and response.status_code == 200:
                self.confirm_acknowledged.add(name)
                return True
            if response is not None and response.status_code != 503:
                # After a cut-off attempt a 404 is right: that attempt may have confirmed it.
                if attempt == 0:
                    self.unexpected.append(f"POST confirm -> {response.status_code}")
                return True
            await asyncio.sleep(RETRY_PAUSE)
        return False

    async def _wait_for_link(self, email: str, timeout: float = 240.0) -> str | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (link := self.sink.link(email, CONFIRM_LINK)) is not None:
                return link
            await asyncio.sleep(0.3)
        return None

    # -- jurors: save scores over and over

    async def juror(self, juror: dict[str, Any]) -> None:
        criteria: list[int] = self.setup["criteria"]
        async with self.client() as client:
            while self.running():
                await self.request(client, "GET", "/login")
                response = await self.request(
                    client,
                    "POST",
                    "/login",
                    data={
                        "email": juror["email"],
                        "password": self.setup["password"],
                        "next": "/jury/",
                        "_csrf_token": self.csrf(client),
                    },
                )
                if response is not None and response.status_code == 302:
                    break
                if response is not None and response.status_code != 503:
                    self.unexpected.append(f"juror login -> {response.status_code}")
                    return
                await asyncio.sleep(RETRY_PAUSE)
            save = 0
            while self.running():
                for nomination in self.setup["shortlisted"]:
                    save += 1
                    track = self.scores.setdefault((juror["id"], nomination), ScoreTrack())
                    tag = f"save {juror['id']}-{save}"
                    fields = {f"score_{c}": str(save % 11) for c in criteria}
                    track.attempts += 1
                    response = await self.request(
                        client,
                        "POST",
                        f"/jury/nominations/{nomination}/score",
                        data={**fields, "comment": tag, "action": "submit", "_csrf_token": self.csrf(client)},
                    )
                    if response is not None and response.status_code == 302:
                        track.acknowledged.append(tag)
                        track.unanswered_since_ack.clear()
                        self.score_acknowledged += 1
                        continue
                    # No answer, or an error: the save may or may not have been stored.
                    track.unanswered_since_ack.append(tag)
                    if response is not None and response.status_code != 503:
                        self.unexpected.append(f"score -> {response.status_code}")
                    await asyncio.sleep(RETRY_PAUSE)

    # -- the run

    def start(self) -> None:
        self.started = time.monotonic()
        self.stop_at = self.started + self.seconds
        self._tasks = [asyncio.create_task(self.nominator(i)) for i in range(self.clients)]
        self._tasks += [asyncio.create_task(self.juror(j)) for j in self.setup["jurors"]]
        self._confirmers = [asyncio.create_task(self.confirmer()) for _ in range(CONFIRMERS)]

    async def until(self, fraction: float) -> None:
        """Sleep until ``fraction`` of the run's time has passed."""
        await asyncio.sleep(max(0.0, self.started + fraction * self.seconds - time.monotonic()))

    async def finish_load(self) -> None:
        """Wait for the nominators and jurors (each ends its last request)."""
        await asyncio.gather(*self._tasks)
        self.phase = "after"

    async def finish_confirmations(self) -> None:
        for _ in self._confirmers:
            self._confirm_queue.put_nowait(None)
        await asyncio.gather(*self._confirmers)


# --- checking what the database holds ---------------------------------------------------


@dataclass
class Outcome:
    """The figures of one run, for the assertions and the report."""

    name: str
    figures: dict[str, Any]
    problems: list[str]


# Every run's figures, printed at the end of the pytest session (see conftest.py).
REPORTS: list[Outcome] = []


def check_nominations(load: Load, snapshot: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    """Every acknowledged nomination stored exactly once, nothing stored that was not sent."""
    stored: Counter[str] = Counter(name for _, name, _ in snapshot["nominations"])
    states = {name: state for _, name, state in snapshot["nominations"]}
    ids = {name: nomination_id for nomination_id, name, _ in snapshot["nominations"]}
    missing = [n for n in load.acknowledged if stored[n] == 0]
    doubled = [n for n, count in stored.items() if count > 1]
    unknown = [n for n in stored if n not in load.attempted]
    if missing:
        problems.append(f"{len(missing)} acknowledged nominations not stored, e.g. {missing[:3]}")
    if doubled:
        problems.append(f"{len(doubled)} nominations stored more than once, e.g. {doubled[:3]}")
    if unknown:
        problems.append(f"{len(unknown)} stored nominations nobody sent, e.g. {unknown[:3]}")
    not_confirmed = [n for n in load.confirm_acknowledged if states.get(n) != "submitted"]
    if not_confirmed:
        problems.append(f"{len(not_confirmed)} acknowledged confirmations not stored, e.g. {not_confirmed[:3]}")
    submitted_entries: Counter[str] = Counter()
    confirmed_entries: Counter[str] = Counter()
    for action, object_type, object_id, _ in snapshot["audit"]:
        if object_type == "nomination" and action == "nomination.submitted":
            submitted_entries[object_id] += 1
        if object_type == "nomination" and action == "nomination.confirmed":
            confirmed_entries[object_id] += 1
    wrong_audit = [n for n, i in ids.items() if submitted_entries[str(i)] != 1]
    if wrong_audit:
        problems.append(f"{len(wrong_audit)} nominations without exactly one audit entry, e.g. {wrong_audit[:3]}")
    unaudited = [n for n in load.confirm_acknowledged if confirmed_entries[str(ids.get(n))] != 1]
    if unaudited:
        problems.append(f"{len(unaudited)} confirmations without exactly one audit entry")
    stored_unacknowledged = sum(1 for n in stored if n not in load.acknowledged)
    return {
        "nominations attempted": len(load.attempted),
        "nominations acknowledged": len(load.acknowledged),
        "nominations stored": sum(stored.values()),
        "stored but never acknowledged": stored_unacknowledged,
        "confirmations acknowledged": len(load.confirm_acknowledged),
    }


def check_scores(load: Load, snapshot: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    """Each sheet holds the last acknowledged save (or one sent after it without an answer)."""
    sheets = {
        (juror, nomination): (sheet_id, comment) for sheet_id, juror, nomination, _, comment in snapshot["sheets"]
    }
    values: dict[int, set[int]] = {}
    for sheet_id, value in snapshot["scores"]:
        values.setdefault(sheet_id, set()).add(value)
    entries: Counter[tuple[int, str]] = Counter()
    for action, object_type, object_id, actor in snapshot["audit"]:
        if object_type == "nomination" and action.startswith("score."):
            entries[(actor, object_id)] += 1
    for (juror, nomination), track in load.scores.items():
        if not track.acknowledged:
            continue
        found = sheets.get((juror, nomination))
        allowed = {track.acknowledged[-1], *track.unanswered_since_ack}
        if found is None or found[1] not in allowed:
            problems.append(f"juror {juror} on {nomination}: stored {found} but acknowledged {track.acknowledged[-1]}")
            continue
        save = int(found[1].rsplit("-", 1)[1])
        if values.get(found[0]) != {save % 11}:
            problems.append(f"juror {juror} on {nomination}: values {values.get(found[0])} for {found[1]}")
        audited = entries[(juror, str(nomination))]
        if not len(track.acknowledged) <= audited <= track.attempts:
            problems.append(
                f"juror {juror} on {nomination}: {audited} audit entries for "
                f"{len(track.acknowledged)} acknowledged of {track.attempts} saves"
            )
    return {"score saves acknowledged": load.score_acknowledged, "score sheets": len(sheets)}


def check_mails(
    load: Load, snapshot: dict[str, Any], received: Counter[str], problems: list[str], allowed_repeats: int
) -> dict[str, Any]:
    """Every queued mail delivered; repeats (at-least-once delivery) counted."""
    queued = {message_id: status for message_id, _, status, _, _ in snapshot["mails"]}
    not_sent = [m for m, status in queued.items() if status != "sent"]
    lost = [m for m in queued if received[m] == 0]
    strangers = [m for m in received if m not in queued]
    repeated = {m: n for m, n in received.items() if n > 1}
    if not_sent:
        problems.append(f"{len(not_sent)} mails not marked sent")
    if lost:
        problems.append(f"{len(lost)} queued mails never reached the SMTP server")
    if strangers:
        problems.append(f"{len(strangers)} mails at the SMTP server that are not in the outbox")
    if sum(n - 1 for n in repeated.values()) > allowed_repeats:
        problems.append(f"mails delivered more than once: {repeated}")
    recipients = {to for _, to, _, _, _ in snapshot["mails"]}
    unmailed = [n for n, email in load.acknowledged.items() if email not in recipients]
    if unmailed:
        problems.append(f"{len(unmailed)} acknowledged nominations without a confirmation mail")
    return {
        "mails queued": len(queued),
        "mails delivered (distinct Message-IDs)": sum(1 for m in queued if received[m] > 0),
        "mails delivered twice": sum(n - 1 for n in repeated.values()),
    }


def check_answers(load: Load, problems: list[str], *, allow_503: bool) -> dict[str, Any]:
    statuses = load.tally.by_status()
    server_errors = {status: n for status, n in statuses.items() if status >= 500 and (status != 503 or not allow_503)}
    if server_errors:
        problems.append(f"5xx answers: {server_errors}; first: {load.tally.server_errors[:5]}")
    if load.tally.without_retry_after:
        problems.append(f"{load.tally.without_retry_after} answers 503 without Retry-After")
    if load.unexpected:
        problems.append(f"unexpected answers: {Counter(load.unexpected).most_common(5)}")
    if load.confirm_without_mail:
        problems.append(f"{len(load.confirm_without_mail)} confirmation mails never arrived")
    if load.confirm_unanswered:
        problems.append(f"{len(load.confirm_unanswered)} confirmations never answered")
    took = sorted(load.post_seconds) or [0.0]
    return {
        "clients": load.clients,
        "seconds": load.seconds,
        "acknowledged POST /nominate, p50 / p95 / max (s)": " / ".join(
            f"{took[min(len(took) - 1, int(q * len(took)))]:.2f}" for q in (0.5, 0.95, 1.0)
        ),
        "requests": load.tally.requests,
        "answers by status": dict(sorted(statuses.items())),
        "connection errors": dict(load.tally.errors()),
    }
