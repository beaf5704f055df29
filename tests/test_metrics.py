"""Prometheus metrics: per route template, login and rate-limit counters, the outbox and the
sessions read at scrape time, who may scrape, and several processes summed in one scrape.

In this test process prometheus_client counts in memory (no PROMETHEUS_MULTIPROC_DIR) and
the counters are the process's: tests compare a value before and after what they do.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.parser import text_string_to_metric_families

from ambassador.db import utcnow
from ambassador.domain import outbox
from ambassador.enums import MailStatus, Role
from ambassador.mail import FileTransport, SmtpTransport
from ambassador.piccolo_conf import DB
from ambassador.settings import ConfigurationError, Settings, load_settings
from ambassador.tables import OutboxMail
from ambassador.web.app import create_app
from tests.conftest import IS_POSTGRES, SECRET, Client
from tests.factories import make_user
from tests.helpers import login, post_form, without_tokens
from tests.smtp import free_port
from tests.test_live_server import SERVE, live_server

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "Zq3xVbN8mK2pL7wR4tY6uI1oP9aS5dF0gH3jK8lM2nB"  # the shape of an emailed secret


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of a scrape (0 when the scrape has no such sample)."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return 0.0


def all_label_values(text: str) -> set[str]:
    return {
        value for family in text_string_to_metric_families(text) for s in family.samples for value in s.labels.values()
    }


@pytest.fixture
def scraping(settings: Settings) -> Settings:
    """The in-process test client's peer is named "testclient": allowed by the settings."""
    return settings.with_changes(metrics_allow=("testclient",))


@pytest.fixture
async def app_client(scraping: Settings) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(scraping)) as test_client:
        test_client.follow_redirects = False
        yield test_client


async def scrape(client: Client) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_each_request_is_counted_once_under_its_route_template(app_client: Client) -> None:
    labels = {"method": "GET", "path": "/login", "status_code": "200"}
    before = await scrape(app_client)

    for _ in range(7):
        assert (await app_client.get("/login")).status_code == 200

    after = await scrape(app_client)
    requests = "ambassador_requests_total"
    assert sample(after, requests, **labels) - sample(before, requests, **labels) == 7
    durations = "ambassador_request_duration_seconds_count"
    assert (
        sample(after, durations, method="GET", path="/login") - sample(before, durations, method="GET", path="/login")
        == 7
    )
    # The scrapes themselves and the health checks are not counted.
    assert sample(after, requests, method="GET", path="/metrics", status_code="200") == 0


async def test_a_secret_in_the_path_is_labelled_by_the_template(app_client: Client) -> None:
    before = await scrape(app_client)

    response = await app_client.get(f"/n/{TOKEN}")

    after = await scrape(app_client)
    labels = {"method": "GET", "path": "/n/{token}", "status_code": str(response.status_code)}
    assert (
        sample(after, "ambassador_requests_total", **labels) - sample(before, "ambassador_requests_total", **labels)
        == 1
    )
    assert [value for value in all_label_values(after) if TOKEN in value] == []
    assert TOKEN not in after


async def test_failed_and_throttled_logins_are_counted(scraping: Settings) -> None:
    settings = scraping.with_changes(login_max_failures_per_pair=3)
    await make_user("clerk@example.org", (Role.CLERK,))
    async with AsyncTestClient(app=create_app(settings)) as client:
        before = await scrape(client)

        refused = [(await login(client, "clerk@example.org", "a wrong password")).status_code for _ in range(4)]

        after = await scrape(client)
    assert refused == [400, 400, 400, 429]

    def delta(name: str) -> float:
        return sample(after, name, step="password") - sample(before, name, step="password")

    assert delta("ambassador_login_failures_total") == 3
    assert delta("ambassador_login_throttled_total") == 1
    assert sample(after, "ambassador_login_failures_total", step="totp") == sample(
        before, "ambassador_login_failures_total", step="totp"
    )


async def test_nominations_over_the_hourly_limit_are_counted(scraping: Settings) -> None:
    async with AsyncTestClient(app=create_app(scraping.with_changes(nomination_posts_per_hour=2))) as client:
        before = await scrape(client)

        statuses = [(await post_form(client, "/nominate", {})).status_code for _ in range(3)]

        after = await scrape(client)
    assert statuses == [409, 409, 429]  # no edition open: refused, until the limit refuses first
    name = "ambassador_nomination_rate_limited_total"
    assert sample(after, name) - sample(before, name) == 1


async def _mail(created_seconds_ago: float, status: MailStatus = MailStatus.PENDING, due_in: float = 0.0) -> None:
    created = utcnow() - dt.timedelta(seconds=created_seconds_ago)
    await OutboxMail(
        created_at=created,
        message_id=f"<{created.timestamp()}-{status.value}-{due_in}@test>",
        to_address="someone@example.org",
        subject="Test",
        body_text="Test",
        status=status.value,
        next_attempt_at=created + dt.timedelta(seconds=due_in),
    ).save()


async def test_the_outbox_gauges_count_the_due_mails(app_client: Client) -> None:
    empty = await scrape(app_client)
    assert sample(empty, "ambassador_outbox_due_mails") == 0
    assert sample(empty, "ambassador_outbox_oldest_due_seconds") == 0

    await _mail(created_seconds_ago=120)  # due for two minutes
    await _mail(created_seconds_ago=10, due_in=3600)  # backing off: not due yet
    await _mail(created_seconds_ago=600, status=MailStatus.SENT)
    await _mail(created_seconds_ago=900, status=MailStatus.FAILED)

    after = await scrape(app_client)
    assert sample(after, "ambassador_outbox_due_mails") == 1
    # The pending mail due for two minutes, not the sent (10 min) or the failed one (15 min).
    assert 120 <= sample(after, "ambassador_outbox_oldest_due_seconds") < 300
    assert sample(after, "ambassador_outbox_failed_mails") == 1
    assert sample(after, "ambassador_database_up") == 1


async def test_active_sessions_are_read_from_the_session_store(app_client: Client, scraping: Settings) -> None:
    assert sample(await scrape(app_client), "ambassador_sessions_active") == 0
    await make_user("clerk@example.org", (Role.CLERK,))
    async with AsyncTestClient(app=create_app(scraping)) as staff:
        staff.follow_redirects = False
        assert (await login(staff, "clerk@example.org")).status_code == 302

    assert sample(await scrape(app_client), "ambassador_sessions_active") == 1


async def test_sent_and_failed_mails_are_counted(tmp_path: Path, app_client: Client) -> None:
    before = await scrape(app_client)
    await _mail(created_seconds_ago=5)
    await _mail(created_seconds_ago=4)
    assert (await outbox.send_due(FileTransport(tmp_path / "mail"), sender="a@example.org")).sent == 2
    await _mail(created_seconds_ago=3)
    dead = SmtpTransport(f"smtp://127.0.0.1:{free_port()}", timeout=2)
    assert (await outbox.send_due(dead, sender="a@example.org")).failed == 1

    after = await scrape(app_client)
    assert sample(after, "ambassador_mails_sent_total") - sample(before, "ambassador_mails_sent_total") == 2
    assert sample(after, "ambassador_mails_failed_total") - sample(before, "ambassador_mails_failed_total") == 1


@pytest.mark.skipif(IS_POSTGRES, reason="breaks the SQLite file path")
async def test_database_errors_are_counted_and_the_scrape_still_answers(app_client: Client, tmp_path: Path) -> None:
    before = await scrape(app_client)
    working = DB.path  # type: ignore[attr-defined]
    DB.path = str(tmp_path / "missing-dir" / "db.sqlite3")  # type: ignore[attr-defined]
    try:
        assert (await app_client.get("/laureates", follow_redirects=True)).status_code == 503
        during = await scrape(app_client)
    finally:
        DB.path = working  # type: ignore[attr-defined]

    name = "ambassador_database_errors_total"
    assert sample(during, name) - sample(before, name) == 1
    assert sample(during, "ambassador_database_up") == 0
    assert "ambassador_outbox_due_mails" not in during


async def test_metrics_are_refused_like_an_unknown_address(settings: Settings, scraping: Settings) -> None:
    async with AsyncTestClient(app=create_app(settings)) as outsider:  # default list: 127.0.0.1, ::1
        refused = await outsider.get("/metrics")
        unknown = await outsider.get("/no-such-page")
    async with AsyncTestClient(app=create_app(scraping)) as allowed_peer:
        proxied = await allowed_peer.get("/metrics", headers={"x-forwarded-for": "127.0.0.1"})
        forwarded = await allowed_peer.get("/metrics", headers={"forwarded": "for=127.0.0.1"})
        direct = await allowed_peer.get("/metrics")

    assert [refused.status_code, proxied.status_code, forwarded.status_code, direct.status_code] == [404, 404, 404, 200]
    for answer in (refused, proxied, forwarded):
        # The same page, but for the address it names (in its language links).
        assert without_tokens(answer.text.replace("/metrics", "/no-such-page")) == without_tokens(unknown.text)
        assert sorted(answer.headers.keys()) == sorted(unknown.headers.keys())
        assert "ambassador_" not in answer.text


async def test_the_metrics_route_is_not_in_the_openapi_schema(app_client: Client) -> None:
    schema = (await app_client.get("/schema/openapi.json")).json()
    assert [path for path in schema["paths"] if "metrics" in path] == []


# --- several processes ------------------------------------------------------------------


@contextmanager
def serve(database_url: str, var_dir: Path, metrics_dir: Path, workers: int) -> Iterator[str]:
    """``ambassador serve --workers N``: it prepares the directory, then starts the workers."""
    extra = {"AMBASSADOR_BACKGROUND_TASKS": "0", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    with live_server(database_url, var_dir, extra, command=(*SERVE, "--workers", str(workers))) as base:
        yield base


def login_count_per_process(metrics_dir: Path, scratch: Path) -> dict[int, float]:
    """GET /login counted by each process, read from its own file."""
    counts: dict[int, float] = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = int(path.stem.split("_")[1])
        alone = scratch / str(pid)
        alone.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, alone / path.name)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(alone))  # type: ignore[no-untyped-call]
        value = registry.get_sample_value(
            "ambassador_requests_total", {"method": "GET", "path": "/login", "status_code": "200"}
        )
        counts[pid] = value or 0.0
    return counts


def test_two_workers_and_the_mail_sender_are_summed_in_one_scrape(database_url: str, tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    stale = metrics_dir / "counter_4194999.db"  # a previous run's worker: removed at the start
    stale.write_bytes(b"\0" * 16)
    with serve(database_url, tmp_path / "var", metrics_dir, workers=2) as base:
        assert not stale.exists()
        sent = 0
        deadline = time.monotonic() + 60
        while True:
            for _ in range(10):  # a new connection each: the kernel hands them to either worker
                assert httpx.get(f"{base}/login").status_code == 200
                sent += 1
            counts = login_count_per_process(metrics_dir, tmp_path / "per-process")
            if len([count for count in counts.values() if count > 0]) == 2:
                break
            assert time.monotonic() < deadline, f"one worker served all {sent} requests: {counts}"
        # The separate mail sender counts into the same directory.
        sender = "from ambassador import metrics; metrics.MAILS_SENT.inc(3)"
        subprocess.run(
            [sys.executable, "-c", sender],
            cwd=ROOT,
            env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
            check=True,
        )

        scraped = httpx.get(f"{base}/metrics")  # from 127.0.0.1, the default allow list

    assert scraped.status_code == 200
    assert sum(counts.values()) == sent
    assert sample(scraped.text, "ambassador_requests_total", method="GET", path="/login", status_code="200") == sent
    assert sample(scraped.text, "ambassador_mails_sent_total") == 3


def test_the_multiprocess_directory_keeps_only_running_processes_files(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    finished = subprocess.Popen(["true"])
    finished.wait()
    running = subprocess.Popen(["sleep", "600"])
    try:
        (metrics_dir / f"counter_{finished.pid}.db").write_bytes(b"x")
        (metrics_dir / f"counter_{running.pid}.db").write_bytes(b"x")  # the mail sender's, say
        reused = metrics_dir / f"histogram_{running.pid}.db"  # same pid, but older than the process
        reused.write_bytes(b"x")
        os.utime(reused, (time.time() - 86400, time.time() - 86400))
        (metrics_dir / "notes.txt").write_text("not prometheus_client's")
        script = textwrap.dedent(
            """
            import os
            from ambassador.metrics import prepare_multiprocess_dir
            from ambassador.settings import load_settings

            path = prepare_multiprocess_dir(load_settings())
            print(os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(path))
            """
        )
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "AMBASSADOR_SECRET_KEY": SECRET}
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
    finally:
        running.kill()
        running.wait()

    assert result.stdout.strip() == "True"
    assert sorted(path.name for path in metrics_dir.iterdir()) == sorted([f"counter_{running.pid}.db", "notes.txt"])


def test_preparing_after_prometheus_client_was_imported_is_refused(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import prometheus_client
        from ambassador.metrics import prepare_multiprocess_dir
        from ambassador.settings import load_settings

        prepare_multiprocess_dir(load_settings())
        """
    )
    env = {
        **{k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
        "AMBASSADOR_VAR_DIR": str(tmp_path / "var"),
        "AMBASSADOR_SECRET_KEY": SECRET,
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )

    assert result.returncode == 1
    assert "prometheus_client was imported before PROMETHEUS_MULTIPROC_DIR was set" in result.stderr
    assert not (tmp_path / "var" / "metrics").exists()


def test_the_allow_list_and_directory_come_from_the_environment(tmp_path: Path) -> None:
    env = {"AMBASSADOR_SECRET_KEY": SECRET, "AMBASSADOR_VAR_DIR": str(tmp_path)}

    default = load_settings(env)
    chosen = load_settings(
        {**env, "AMBASSADOR_METRICS_ALLOW": " 10.0.0.5, 192.168.0.0/24 ,::1", "PROMETHEUS_MULTIPROC_DIR": "/run/m"}
    )

    assert (default.metrics_allow, default.metrics_dir) == (("127.0.0.1", "::1"), tmp_path / "metrics")
    assert (chosen.metrics_allow, chosen.metrics_dir) == (("10.0.0.5", "192.168.0.0/24", "::1"), Path("/run/m"))
    with pytest.raises(ConfigurationError) as refused:
        load_settings({**env, "AMBASSADOR_METRICS_ALLOW": "10.0.0.0/33"})
    assert str(refused.value) == (
        "AMBASSADOR_METRICS_ALLOW: '10.0.0.0/33' is not an IP address or a network in CIDR form "
        "(for example 127.0.0.1, ::1 or 10.0.0.0/8; host bits of a network must be zero)"
    )
