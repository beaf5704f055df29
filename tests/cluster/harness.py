"""The pieces of the cluster test: what deploy/ describes, started for real on this machine.

Everything is read from ``deploy/``: the command lines from the systemd units' ``ExecStart``
(``%i`` replaced by the port, the installed ``/opt/ambassador/venv/bin/ambassador`` by this
checkout's virtualenv), the environment from ``deploy/ambassador.env.example`` with the
test's own values laid over it, and Caddy's configuration is ``deploy/Caddyfile`` itself,
pointed at the test's ports through its ``{$VAR}`` placeholders. Caddy serves https with
``tls internal`` (its own CA, trusted by the test's clients); the app runs in production
mode behind it. The SMTP server is an aiosmtpd sink in a thread of the test that offers
STARTTLS with a certificate of a CA made for the run (trustme), and refuses mail without it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from aiosmtpd.controller import Controller

from tests.load import harness as load_harness
from tests.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
BIN = Path(sys.executable).parent
INSTALLED_BIN = "/opt/ambassador/venv/bin/"
PG_SERVER_URL = os.environ.get("AMBASSADOR_CLUSTER_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE_NAME = "ambassador_cluster"
REDIS_URL = os.environ.get("AMBASSADOR_CLUSTER_REDIS_URL", "redis://127.0.0.1:6379/13")
SECRET = "cluster-test-secret-" + "c" * 40
START_TIMEOUT = 60.0

# Lines for the summary at the end of the pytest session (conftest.py prints them).
REPORT: list[str] = []
# The running clusters, so that a failing test can print their logs.
RUNNING: list[Cluster] = []


def report(line: str) -> None:
    REPORT.append(line)
    sys.stderr.write(line + "\n")


def wait_for(what: str, check: Any, timeout: float = START_TIMEOUT, every: float = 0.1) -> Any:
    """Poll ``check()`` until it returns something true; its value. Fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(httpx.TransportError, OSError):
            if value := check():
                return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)


# --- deploy/: the units and the environment file -------------------------------------


def exec_start(unit: str, instance: str = "") -> list[str]:
    """The unit's ``ExecStart`` as argv, with ``%i`` and the installed path replaced."""
    text = (UNITS / unit).read_text(encoding="utf-8")
    found = re.search(r"^ExecStart=(.+)$", text, re.MULTILINE)
    assert found is not None, f"{unit} has no ExecStart"
    argv = shlex.split(found.group(1).replace("%i", instance))
    assert argv[0].startswith(INSTALLED_BIN), f"{unit}: ExecStart runs {argv[0]}, not the virtualenv's command"
    return [str(BIN / argv[0].removeprefix(INSTALLED_BIN)), *argv[1:]]


def unit_environment(unit: str, instance: str, runtime_dir: Path) -> dict[str, str]:
    """The unit's own ``Environment=NAME=value`` lines, with ``%i`` and ``%t`` (runtime dir) replaced."""
    text = (UNITS / unit).read_text(encoding="utf-8")
    values: dict[str, str] = {}
    for line in re.findall(r"^Environment=(.+)$", text, re.MULTILINE):
        name, sep, value = line.partition("=")
        assert sep, f"{unit}: not Environment=NAME=value: {line!r}"
        values[name] = value.replace("%i", instance).replace("%t", str(runtime_dir))
    return values


def env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines as systemd's ``EnvironmentFile=`` reads them (no quoting used)."""
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", name), f"{path.name}: not NAME=value: {line!r}"
        values[name] = value
    return values


def verify_units(workdir: Path) -> str:
    """``systemd-analyze verify`` of every unit, run with this virtualenv's path; its output."""
    checked = workdir / "units"
    checked.mkdir()
    names = []
    for unit in sorted(UNITS.iterdir()):
        text = unit.read_text(encoding="utf-8").replace(INSTALLED_BIN, f"{BIN}/")
        name = unit.name.replace("@.", "@8001.")
        (checked / name).write_text(text, encoding="utf-8")
        names.append(f"./{name}")
    done = subprocess.run(
        ["systemd-analyze", "verify", *names], cwd=checked, capture_output=True, text=True, check=False, timeout=60
    )
    return f"exit {done.returncode}\n{done.stdout}{done.stderr}".strip()


# --- PostgreSQL and Redis -------------------------------------------------------------


def database_url(name: str) -> str:
    parts = urlsplit(PG_SERVER_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def psql_admin(statement: str) -> None:
    """One statement on the server's maintenance database, through asyncpg in a subprocess."""
    code = (
        "import asyncio, asyncpg, sys\n"
        "async def main():\n"
        "    c = await asyncpg.connect(sys.argv[1], timeout=5)\n"
        "    try:\n"
        "        await c.execute(sys.argv[2])\n"
        "    finally:\n"
        "        await c.close()\n"
        "asyncio.run(main())\n"
    )
    subprocess.run([sys.executable, "-c", code, PG_SERVER_URL, statement], check=True, timeout=60)


def flush_redis() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    finally:
        client.close()


# --- the SMTP sink --------------------------------------------------------------------


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA for the run (trustme) and a certificate for 127.0.0.1 signed by it: (ca, cert, key)."""
    import trustme

    directory.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1", "localhost")
    ca, cert, key = directory / "ca.pem", directory / "smtp.pem", directory / "smtp.key"
    authority.cert_pem.write_to_path(str(ca))
    issued.private_key_pem.write_to_path(str(key))
    for number, blob in enumerate(issued.cert_chain_pems):
        blob.write_to_path(str(cert), append=number > 0)
    return ca, cert, key


class SmtpSink(load_harness.SmtpSink):
    """The load tests' sink, accepting mail only after STARTTLS; counts the TLS sessions too."""

    def __init__(self, cert: Path, key: Path) -> None:
        super().__init__()
        self.tls_sessions = 0
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self._controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=context,
            require_starttls=True,
            ready_timeout=30,
        )

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        answer = await super().handle_DATA(server, session, envelope)
        if session.ssl is not None:
            with self._lock:
                self.tls_sessions += 1
        return answer

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


# --- processes ------------------------------------------------------------------------


@dataclass
class Service:
    """One process of the cluster, its output in a log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts + 1}: {shlex.join(self.argv)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,  # its own process group: a kill reaches its workers too
            )
        self.starts += 1

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole process group: nothing is finished, nothing is closed."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""


@dataclass
class Caddy:
    """``caddy run`` with deploy/Caddyfile, on ports of its own, over the given upstreams."""

    service: Service
    https_port: int
    admin: str

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"


@dataclass
class Cluster:
    workdir: Path
    env: dict[str, str]
    sink: SmtpSink
    ca_file: Path
    data: dict[str, Any] = field(default_factory=dict)
    instances: dict[str, Service] = field(default_factory=dict)
    senders: list[Service] = field(default_factory=list)
    caddies: list[Caddy] = field(default_factory=list)
    others: list[Service] = field(default_factory=list)
    caddy: Caddy | None = None
    _tls: ssl.SSLContext | None = None

    # -- the pieces

    def port(self, name: str) -> int:
        return int(self.instances[name].argv[self.instances[name].argv.index("--port") + 1])

    def direct(self, name: str) -> str:
        """An instance's own address, as Caddy (or a monitoring system) reaches it."""
        return f"http://127.0.0.1:{self.port(name)}"

    @property
    def proxy(self) -> Caddy:
        assert self.caddy is not None
        return self.caddy

    def tls(self) -> ssl.SSLContext:
        """Trusts Caddy's local CA (its root certificate appears once Caddy has started)."""
        if self._tls is None:
            root = self.caddy_root()
            wait_for("Caddy's root certificate", root.exists)
            self._tls = ssl.create_default_context(cafile=str(root))
        return self._tls

    def caddy_root(self) -> Path:
        return self.workdir / "caddy" / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"

    def run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        """A command in the cluster's environment, from the checkout; its output captured."""
        return subprocess.run(argv, cwd=ROOT, env=self.env, capture_output=True, text=True, check=False, timeout=300)

    def tool(self, *args: str) -> Any:
        """``python -m tests.cluster.clustertool ARGS`` on the cluster's database; its JSON."""
        done = self.run([sys.executable, "-m", "tests.cluster.clustertool", *args])
        assert done.returncode == 0, f"clustertool {args[0]} failed:\n{done.stderr}"
        return json.loads(done.stdout.strip().splitlines()[-1])

    def command(self, unit: str, *extra: str) -> subprocess.CompletedProcess[str]:
        """The unit's ExecStart (plus ``extra``) as systemd would run it."""
        return self.run([*exec_start(unit), *extra])

    # -- app instances

    def add_instance(self, name: str, **overrides: str) -> Service:
        port = free_port()
        service = Service(
            f"instance {name} (:{port})",
            exec_start("ambassador@.service", str(port)),
            {**self.env, **unit_environment("ambassador@.service", str(port), self.workdir / "run"), **overrides},
            self.workdir / f"instance-{name}.log",
        )
        self.instances[name] = service
        return service

    def start_instance(self, name: str, **overrides: str) -> None:
        service = self.instances[name]
        service.env = {**service.env, **overrides}
        runtime = Path(service.env["PROMETHEUS_MULTIPROC_DIR"]).parent
        runtime.mkdir(parents=True, exist_ok=True)  # systemd's RuntimeDirectory=ambassador-%i
        service.start()
        base = self.direct(name)

        def ready() -> bool:
            if not service.running():
                raise AssertionError(f"{service.name} exited:\n{service.log_tail()}")
            return httpx.get(f"{base}/readyz", timeout=2).status_code == 200

        wait_for(f"{service.name} ready", ready)

    def restart_instances(self, **overrides: str) -> None:
        for name in self.instances:
            self.instances[name].stop()
        for name in self.instances:
            self.start_instance(name, **overrides)

    def served_by(self, base: str) -> str:
        """Which instance answered a request through ``base`` (found by its path in the logs)."""
        marker = f"/laureates/cluster-probe-{os.urandom(6).hex()}"  # a route: its 404 is logged
        # At its Polish address: the old one answers with a redirect (ambassador.web.addresses).
        answer = httpx.get(f"{base}/pl{marker}", verify=self.tls(), timeout=10)
        assert answer.status_code == 404, answer.status_code

        def logged() -> list[str]:
            # The app writes its request line after the answer is sent: wait for it.
            return [name for name, service in self.instances.items() if marker in service.log_text()]

        found: list[str] = wait_for(f"{marker} in an instance's log", logged, timeout=10, every=0.05)
        assert len(found) == 1, f"{marker} logged by {found}"
        return found[0]

    def wait_until_proxied_to(self, name: str) -> None:
        """Poll through Caddy until ``name`` answers a request (its health check passed again)."""
        wait_for(f"Caddy sends requests to {name} again", lambda: self.served_by(self.proxy.base) == name, every=0.2)

    # -- Caddy

    def start_caddy(self, upstreams: list[str], https_port: int = 0) -> Caddy:
        https_port, http_port, admin_port = https_port or free_port(), free_port(), free_port()
        home = self.workdir / "caddy"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_CONFIG_HOME": str(home / "config"),
            "CADDY_HTTP_PORT": str(http_port),
            "CADDY_HTTPS_PORT": str(https_port),
            "CADDY_ADMIN": f"127.0.0.1:{admin_port}",
            "CADDY_TLS": "internal",
            "AMBASSADOR_SITE": f"127.0.0.1:{https_port}",
            "AMBASSADOR_UPSTREAMS": " ".join(upstreams),
        }
        number = len(self.caddies) + 1
        service = Service(
            f"caddy {number} -> {' '.join(upstreams)}",
            ["caddy", "run", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
            env,
            self.workdir / f"caddy-{number}.log",
        )
        service.start()
        caddy = Caddy(service, https_port, f"127.0.0.1:{admin_port}")
        self.caddies.append(caddy)
        self.tls()

        def ready() -> bool:
            if not service.running():
                raise AssertionError(f"{service.name} exited:\n{service.log_tail()}")
            return httpx.get(f"{caddy.base}/readyz", verify=self.tls(), timeout=2).status_code == 200

        wait_for(f"{service.name} ready", ready)
        return caddy

    def stop_caddy(self, caddy: Caddy) -> None:
        caddy.service.stop()

    # -- teardown and logs

    def services(self) -> list[Service]:
        return [*self.instances.values(), *self.senders, *(c.service for c in self.caddies), *self.others]

    def stop(self) -> None:
        for service in self.services():
            service.stop()


def print_logs(cluster: Cluster) -> str:
    parts = []
    for service in cluster.services():
        parts.append(f"===== {service.name}: {service.log_path} (last lines)\n{service.log_tail()}")
    return "\n".join(parts)


@contextlib.contextmanager
def running_cluster() -> Iterator[Cluster]:
    """PostgreSQL database, Redis, SMTP sink, migrations, data, two instances, two senders, Caddy."""
    workdir = Path(tempfile.mkdtemp(prefix="ambassador-cluster-"))
    ca, cert, key = make_certificates(workdir / "certs")
    sink = SmtpSink(cert, key)
    sink.start()
    psql_admin(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")
    psql_admin(f"CREATE DATABASE {DATABASE_NAME}")
    flush_redis()
    example = env_file(DEPLOY / "ambassador.env.example")
    env = {
        # What a systemd service starts with, plus the test's locale-neutral basics.
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PICCOLO_CONF": "ambassador.piccolo_conf",
        **example,
        # The test's own values over the template's placeholders.
        "AMBASSADOR_SECRET_KEY": SECRET,
        "AMBASSADOR_AUDIT_KEY": "cluster-audit-key-" + "a" * 40,
        "AMBASSADOR_DATABASE_URL": database_url(DATABASE_NAME),
        "AMBASSADOR_REDIS_URL": REDIS_URL,
        "AMBASSADOR_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
        "AMBASSADOR_SMTP_CA_FILE": str(ca),
        "AMBASSADOR_MAIL_FROM": "Ambassador <no-reply@cluster.example.org>",
        "AMBASSADOR_VAR_DIR": str(workdir / "var"),
        "AMBASSADOR_BACKUP_DIR": str(workdir / "backups"),
        "AMBASSADOR_TRUSTED_PROXIES": "127.0.0.1",
        # No clamd here (check --deploy warns; exit 0): tests/test_uploads_security.py scans
        # through a real one, and the cluster's nominations carry no files.
        "AMBASSADOR_CLAMD": "",
        # The senders may go as fast as the sink takes mail (the template's 20/s is a
        # provider's limit, not the app's).
        "AMBASSADOR_MAIL_RATE": "500",
        "AMBASSADOR_ARCHIVE_CACHE_SECONDS": "2",
        # A sender killed or cut off gives its claimed mails back sooner.
        "AMBASSADOR_MAIL_LEASE_SECONDS": "20",
    }
    cluster = Cluster(workdir=workdir, env=env, sink=sink, ca_file=ca)
    RUNNING.append(cluster)
    try:
        # The base URL is Caddy's public address: Caddy's port is chosen now, started later.
        migrated = cluster.command("ambassador-migrate.service")
        assert migrated.returncode == 0, migrated.stderr
        yield cluster
    finally:
        RUNNING.remove(cluster)
        cluster.stop()
        sink.stop()
        with contextlib.suppress(subprocess.CalledProcessError):
            psql_admin(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")
        with contextlib.suppress(Exception):
            flush_redis()
        if os.environ.get("AMBASSADOR_CLUSTER_KEEP") == "1":
            sys.stderr.write(f"cluster files kept in {workdir}\n")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
