"""Prometheus metrics: the counters every layer may increment, and the multiprocess set-up.

A leaf module (the domain and the web layer import it; it imports nothing of theirs).

With several processes (uvicorn workers, the separate mail sender) each process counts in
its own memory unless ``prometheus_client`` runs in multiprocess mode: every value then
lives in a file ``<kind>_<pid>.db`` of ``PROMETHEUS_MULTIPROC_DIR`` and a scrape sums the
files of all processes. ``prometheus_client`` chooses the mode once, when it is imported, from
that environment variable. Hence the ordering this module keeps:

- it does not import ``prometheus_client`` itself: each metric below is created on its first
  use (``ambassador.web.app.create_app`` creates them all when a worker starts);
- ``ambassador serve`` calls :func:`prepare_multiprocess_dir` before it starts the workers
  (they inherit the environment; with one worker, the serving process is itself the worker
  and has not imported ``prometheus_client`` yet; the function refuses if it has);
- other processes that should count into the same directory (``ambassador mail send
  --loop``) call :func:`join_multiprocess_dir` first;
- plain ``uvicorn`` (or any other start) uses multiprocess mode exactly when
  ``PROMETHEUS_MULTIPROC_DIR`` is in its environment (then the directory should be emptied
  before the start, as ``prepare_multiprocess_dir`` does);
- without the variable (the tests, a single development process) the ordinary in-memory
  registry is used.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    import prometheus_client

    from ambassador.settings import Settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# prometheus_client's file names: counter_123.db, histogram_123.db, gauge_livesum_123.db …
_VALUE_FILE = re.compile(r"^[a-z]+(?:_[a-z]+)?_(\d+)\.db$")

# Latency buckets for pages: a cached page answers in about a millisecond, a login in tens.
REQUEST_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_CREATE = threading.Lock()
M = TypeVar("M")


class _Lazy(ABC, Generic[M]):
    """A metric created on first use, so that importing this module imports no prometheus_client."""

    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...] = ()) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self._metric: M | None = None

    @abstractmethod
    def _create(self) -> M:
        """Make the prometheus_client metric (each kind says how)."""

    def metric(self) -> M:
        if self._metric is None:
            with _CREATE:
                if self._metric is None:
                    self._metric = self._create()
        return self._metric


class LazyCounter(_Lazy["prometheus_client.Counter"]):
    def _create(self) -> prometheus_client.Counter:
        import prometheus_client

        return prometheus_client.Counter(self.name, self.documentation, labelnames=self.labelnames)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        metric = self.metric()
        (metric.labels(**labels) if labels else metric).inc(amount)


class LazyHistogram(_Lazy["prometheus_client.Histogram"]):
    def _create(self) -> prometheus_client.Histogram:
        import prometheus_client

        return prometheus_client.Histogram(
            self.name, self.documentation, labelnames=self.labelnames, buckets=REQUEST_BUCKETS
        )


# --- the metrics (names, types and labels are documented in docs/metrics.md) --------------

REQUESTS = LazyCounter(
    "ambassador_requests_total",
    "HTTP requests answered, by method, route template and status code",
    ("method", "path", "status_code"),
)
REQUEST_DURATION = LazyHistogram(
    "ambassador_request_duration_seconds",
    "Time from the request reaching the app to the app's answer, by method and route template",
    ("method", "path"),
)
LOGIN_FAILURES = LazyCounter(
    "ambassador_login_failures_total",
    "Failed staff logins (wrong email or password, wrong second-factor code), by step",
    ("step",),
)
LOGIN_THROTTLED = LazyCounter(
    "ambassador_login_throttled_total",
    "Staff login attempts refused by the throttle (429), by step",
    ("step",),
)
NOMINATIONS_RATE_LIMITED = LazyCounter(
    "ambassador_nomination_rate_limited_total",
    "Nomination form submissions refused by the per-address hourly limit (429)",
)
UPLOADS_REFUSED = LazyCounter(
    "ambassador_uploads_refused_total",
    "Uploads refused before storing: malware found, antivirus unavailable, storage quota full; by reason",
    ("reason",),
)
DATABASE_ERRORS = LazyCounter(
    "ambassador_database_errors_total",
    "Requests answered 503 because the database was unavailable (unreachable, locked, disk error)",
)
MAILS_SENT = LazyCounter("ambassador_mails_sent_total", "Mails the SMTP server (or the mail folder) accepted")
MAILS_FAILED = LazyCounter(
    "ambassador_mails_failed_total",
    "Mail delivery attempts that failed (each is retried later, up to the attempt limit)",
)

LOGIN_STEPS = ("password", "totp")
ALL: tuple[LazyCounter | LazyHistogram, ...] = (
    REQUESTS,
    REQUEST_DURATION,
    LOGIN_FAILURES,
    LOGIN_THROTTLED,
    NOMINATIONS_RATE_LIMITED,
    UPLOADS_REFUSED,
    DATABASE_ERRORS,
    MAILS_SENT,
    MAILS_FAILED,
)


def create_all() -> None:
    """Create every metric (a scrape then shows each counter at 0 before its first event)."""
    for lazy in ALL:
        lazy.metric()
    for step in LOGIN_STEPS:
        LOGIN_FAILURES.metric().labels(step=step)
        LOGIN_THROTTLED.metric().labels(step=step)


def multiprocess_dir() -> Path | None:
    """The directory of multiprocess mode, when this process uses it."""
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None


# --- multiprocess mode -------------------------------------------------------------------


def _imported_in_memory_mode() -> bool:
    """Whether prometheus_client is already imported here and counts in memory."""
    import sys

    values = sys.modules.get("prometheus_client.values")
    return values is not None and not getattr(values.ValueClass, "_multiprocess", False)


def join_multiprocess_dir(settings: Settings) -> Path:
    """Count into the service's directory from this process (the mail sender), emptying nothing.

    Call it before anything imports ``prometheus_client`` (before ``ambassador.domain`` is
    used); raises ``RuntimeError`` when that is too late.
    """
    if _imported_in_memory_mode():
        raise RuntimeError(
            "prometheus_client was imported before PROMETHEUS_MULTIPROC_DIR was set: "
            "call ambassador.metrics.prepare_multiprocess_dir or join_multiprocess_dir first"
        )
    path = settings.metrics_dir.resolve()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ[MULTIPROC_ENV] = str(path)
    return path


def prepare_multiprocess_dir(settings: Settings) -> Path:
    """Switch multiprocess mode on for this process and its workers; drop the last run's files.

    ``ambassador serve`` calls it once, before starting the workers (they inherit
    ``PROMETHEUS_MULTIPROC_DIR``). The directory (``settings.metrics_dir``) is created if
    missing, and every value file whose process is gone is removed: the previous run's
    workers, whose counters must not be added to the new run's. The files of a process that is
    still running are kept: the separate mail sender shares the directory and keeps counting
    into its open files across the web service's restarts. Only prometheus_client's own
    ``*_<pid>.db`` files are touched, nothing else in the directory.
    """
    path = join_multiprocess_dir(settings)
    for entry in path.iterdir():
        found = _VALUE_FILE.match(entry.name)
        if found is None or not entry.is_file():
            continue
        if not _written_by_running_process(int(found.group(1)), entry):
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
    return path


def _written_by_running_process(pid: int, path: Path) -> bool:
    """The file's process runs, and is the same process (a pid reused after a reboot is not)."""
    if pid == os.getpid():
        return False  # this process has not counted anything yet: the file is a previous one's
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    started = _process_start_time(pid)
    if started is None:
        return True
    # A process creates its file after it starts (the file's mtime is at least its creation).
    return path.stat().st_mtime >= started - 1.0


def _process_start_time(pid: int) -> float | None:
    """When the process started (Unix time), from /proc; None where there is no /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text(encoding="ascii").splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration, ValueError):
        return None
    # Field 22 (starttime, in clock ticks since boot) counts after the ")" closing field 2.
    fields = stat.rsplit(")", 1)[1].split()
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
