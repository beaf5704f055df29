"""The cluster proof: Caddy in front of two app instances, one PostgreSQL, Redis, two mail senders.

Every process is started from what deploy/ describes (see harness.py); the app runs in
production mode behind Caddy's https (``tls internal``). The tests run in this file's order
on one cluster: the failover test kills instance A and starts it again; the throughput
test comes last because it fills the outbox with mails nobody checks.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cluster.harness import (
    BIN,
    ROOT,
    Cluster,
    Service,
    exec_start,
    report,
    running_cluster,
    verify_units,
    wait_for,
)
from tests.smtp import free_port

SESSION = "__Host-session"
CSRF = "__Host-csrftoken"
SUBMISSION_KEY = re.compile(r'name="submission_key" value="([A-Za-z0-9_-]+)"')
EDITION_ID = re.compile(r'name="edition_id" value="(\d+)"')
DESCRIPTION = re.compile(r'<textarea id="f-(description_\d+)"')
STATIC = re.compile(r'(/static/[^"?]+\.[0-9a-f]{12}\.[a-z]+)"')
ENGLISH = {"accept-language": "en"}
LIMIT_NOMINATIONS = 20  # deploy/ambassador.env.example's AMBASSADOR_NOMINATION_POSTS_PER_HOUR
LIMIT_LOGINS = 30  # failed logins per address in 15 minutes (the app's fixed limit)
FAILOVER_CLIENTS = 100
FAILOVER_SECONDS = 8.0
KILL_AFTER = 3.0
GRACE_SECONDS = 30.0
RESULTS = ROOT / "var" / "cluster-results.json"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with running_cluster() as cluster:
        main_port = free_port()
        cluster.env["AMBASSADOR_BASE_URL"] = f"https://127.0.0.1:{main_port}"
        cluster.data = cluster.tool("setup")
        for name in ("A", "B"):
            cluster.add_instance(name)
            cluster.start_instance(name)
        for number in (1, 2):
            sender = Service(
                f"mail sender {number}",
                exec_start("ambassador-mail.service"),
                dict(cluster.env),
                cluster.workdir / f"sender-{number}.log",
            )
            sender.start()
            cluster.senders.append(sender)
        cluster.caddy = cluster.start_caddy(
            [f"127.0.0.1:{cluster.port('A')}", f"127.0.0.1:{cluster.port('B')}"], https_port=main_port
        )
        yield cluster


# --- a browser: its own cookies, whichever address it talks to ------------------------


class Browser:
    """An HTTP client keeping cookies itself, so that the ``Secure`` production cookies are
    also sent to the instances' plain-http addresses (as Caddy forwards them)."""

    def __init__(self, tls: ssl.SSLContext, local_address: str | None = None) -> None:
        transport = httpx.AsyncHTTPTransport(verify=tls, local_address=local_address)
        self.client = httpx.AsyncClient(transport=transport, timeout=60, follow_redirects=False)
        self.cookies: dict[str, str] = {}

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.client.aclose()

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self.cookies:
            headers["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = await self.client.request(method, url, headers=headers, **kwargs)
        self.client.cookies.clear()
        for raw in response.headers.get_list("set-cookie"):
            parsed: SimpleCookie = SimpleCookie()
            parsed.load(raw)
            for name, morsel in parsed.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post_form(self, url: str, data: dict[str, str], **kwargs: Any) -> httpx.Response:
        if CSRF not in self.cookies:
            base = url.split("/", 3)
            await self.get("/".join(base[:3]) + "/login", headers=kwargs.get("headers", {}))
        return await self.request("POST", url, data={**data, "_csrf_token": self.cookies[CSRF]}, **kwargs)


async def nominate_once(browser: Browser, base: str, number: str, headers: dict[str, str] | None = None) -> int:
    """GET the form, POST it filled in; the POST's status (303 when acknowledged)."""
    page = await browser.get(f"{base}/pl/nominate", headers=headers or {})
    assert page.status_code == 200, page.status_code
    key, edition = SUBMISSION_KEY.search(page.text), EDITION_ID.search(page.text)
    description = DESCRIPTION.search(page.text)
    assert key and edition and description, "the nomination form changed"
    fields = nomination_fields(key.group(1), edition.group(1), description.group(1), number)
    posted = await browser.request(
        "POST",
        f"{base}/nominate",
        data={**fields, "_csrf_token": browser.cookies[CSRF]},
        files=[("attachments", ("", b"", "application/octet-stream"))],
        headers=headers or {},
    )
    return posted.status_code


def nomination_fields(key: str, edition: str, description: str, number: str) -> dict[str, str]:
    return {
        "submission_key": key,
        "edition_id": edition,
        description: "Runs a bilingual reading club for children.",
        "category": "B",
        "nominee_name": f"Cluster Nominee {number}",
        "nominee_email": f"nominee-{number}@cluster.example.org",
        "nominator_name": f"Cluster Nominator {number}",
        "nominator_email": f"nominator-{number}@cluster.example.org",
        "privacy_ack": "1",
        "website": "",
    }


# --- deploy/ itself -------------------------------------------------------------------


async def test_deploy_files_are_what_runs(cluster: Cluster) -> None:
    backup_dir = Path(cluster.env["AMBASSADOR_BACKUP_DIR"])
    backup_dir.mkdir()
    backup = cluster.command("ambassador-backup.service")
    report(f"ambassador-backup.service's command: exit {backup.returncode}: {backup.stdout.strip().splitlines()[:1]}")
    assert backup.returncode == 0, backup.stderr
    assert [p.suffix for p in backup_dir.iterdir()] == [".dump"]
    if shutil.which("systemd-analyze"):
        verified = verify_units(cluster.workdir)
        report(f"systemd-analyze verify deploy/systemd/*: {verified}")
        assert verified == "exit 0"
    else:
        report("systemd-analyze not installed: the units' syntax was not verified")
    check = cluster.run([str(BIN / "ambassador"), "check", "--deploy"])
    report(f"ambassador check --deploy with the test's environment: exit {check.returncode}")
    for line in (check.stdout + check.stderr).strip().splitlines():
        report(f"  {line}")
    assert check.returncode == 0

    base = cluster.proxy.base
    async with Browser(cluster.tls()) as browser:
        # The app compresses the public pages itself (gzip or brotli, ambassador.web.compression);
        # Caddy passes an encoded answer through and compresses (zstd, gzip) what the app did not.
        page = await browser.get(f"{base}/en/laureates", headers={**ENGLISH, "accept-encoding": "zstd, gzip"})
        assert (page.status_code, page.headers.get("content-encoding") in ("zstd", "gzip")) == (200, True)
        assert page.headers["strict-transport-security"].startswith("max-age=")
        old_address = await browser.get(f"{base}/laureates", headers=ENGLISH)
        assert (old_address.status_code, old_address.headers["location"]) == (302, "/en/laureates")
        brotli = await browser.get(f"{base}/en/laureates", headers={**ENGLISH, "accept-encoding": "br"})
        assert (brotli.status_code, brotli.headers.get("content-encoding")) == (200, "br")
        gzipped = await browser.get(f"{base}/en/laureates", headers={**ENGLISH, "accept-encoding": "gzip"})
        assert (gzipped.status_code, gzipped.headers.get("content-encoding")) == (200, "gzip")
        static = STATIC.search(gzipped.text)  # httpx decodes gzip (zstd only with an extra package)
        assert static is not None
        asset = await browser.get(base + static.group(1))
        assert (asset.status_code, asset.headers["cache-control"]) == (200, "public, max-age=31536000, immutable")
        metrics = await browser.get(f"{base}/metrics")
        assert metrics.status_code == 404
        # Caddy takes /metrics away from the public; the instance itself still serves it to
        # 127.0.0.1 (AMBASSADOR_METRICS_ALLOW), which is how Prometheus scrapes it.
        assert (await browser.get(f"{cluster.direct('A')}/en/laureates")).status_code == 200
        direct = await browser.get(f"{cluster.direct('A')}/metrics")
        assert direct.status_code == 200
        assert 'ambassador_requests_total{method="GET",path="/laureates",status_code="200"}' in direct.text
        report(f"GET /metrics: through Caddy {metrics.status_code}, directly from 127.0.0.1 {direct.status_code}")


# --- sessions ---------------------------------------------------------------------------


async def test_a_staff_session_made_through_one_instance_works_on_the_other(cluster: Cluster) -> None:
    a, b, proxy = cluster.direct("A"), cluster.direct("B"), cluster.proxy.base
    async with Browser(cluster.tls()) as clerk:
        login = await clerk.post_form(
            f"{a}/login", {"email": cluster.data["clerk"], "password": cluster.data["password"], "next": "/staff"}
        )
        assert (login.status_code, login.headers["location"]) == (302, "/staff")
        assert SESSION in clerk.cookies
        for base in (b, a, proxy, proxy):
            staff = await clerk.get(f"{base}/staff", headers=ENGLISH)
            assert staff.status_code == 200, (base, staff.status_code)
            assert "Log out" in staff.text
        logout = await clerk.post_form(f"{b}/logout", {})
        assert logout.status_code == 302
        for base in (a, proxy):
            again = await clerk.get(f"{base}/staff")
            assert (again.status_code, again.headers["location"]) == (302, "/login?next=/staff")


# --- limits -----------------------------------------------------------------------------


async def test_the_nomination_limit_is_counted_once_across_instances(cluster: Cluster) -> None:
    a, b, proxy = cluster.direct("A"), cluster.direct("B"), cluster.proxy.base
    # Directly, alternating A and B, as the trusted proxy (127.0.0.1) saying who the client is.
    statuses = []
    async with Browser(cluster.tls()) as citizen:
        for number in range(LIMIT_NOMINATIONS + 1):
            base = (a, b)[number % 2]
            statuses.append(
                await nominate_once(citizen, base, f"direct-{number}", headers={"x-forwarded-for": "198.51.100.7"})
            )
    assert statuses == [303] * LIMIT_NOMINATIONS + [429]
    # Through Caddy (round robin over A and B): two clients from two addresses are counted
    # apart, and a client claiming another's address in X-Forwarded-For is not believed.
    async with (
        Browser(cluster.tls(), local_address="127.0.0.2") as first,
        Browser(cluster.tls(), local_address="127.0.0.3") as second,
        Browser(cluster.tls(), local_address="127.0.0.4") as liar,
    ):
        one = [await nominate_once(first, proxy, f"first-{n}") for n in range(LIMIT_NOMINATIONS + 1)]
        two = [await nominate_once(second, proxy, f"second-{n}") for n in range(3)]
        lied = await nominate_once(liar, proxy, "liar-0", headers={"x-forwarded-for": "127.0.0.3"})
    assert one == [303] * LIMIT_NOMINATIONS + [429]
    assert two == [303, 303, 303]
    assert lied == 303
    report(
        f"nomination limit: {LIMIT_NOMINATIONS} acknowledged then 429, alternating A/B directly and through "
        "Caddy; another address (and one claiming it in X-Forwarded-For) still acknowledged"
    )


async def test_the_login_limit_is_counted_once_across_instances(cluster: Cluster) -> None:
    a, b, proxy = cluster.direct("A"), cluster.direct("B"), cluster.proxy.base
    statuses = []
    async with Browser(cluster.tls(), local_address="127.0.0.5") as guesser:
        for number in range(LIMIT_LOGINS + 1):
            # Unknown accounts, so the per-account limit (5) never applies: only the address's.
            answer = await guesser.post_form(
                f"{proxy}/login", {"email": f"nobody{number}@cluster.example.org", "password": "wrong password 1234"}
            )
            statuses.append(answer.status_code)
    assert statuses == [400] * LIMIT_LOGINS + [429]
    async with Browser(cluster.tls()) as direct:
        forwarded = {"x-forwarded-for": "127.0.0.5"}
        wrong = {"email": "x@cluster.example.org", "password": "p" * 14}
        on_a = await direct.post_form(f"{a}/login", wrong, headers=forwarded)
        on_b = await direct.post_form(f"{b}/login", wrong, headers=forwarded)
    assert (on_a.status_code, on_b.status_code) == (429, 429)
    async with Browser(cluster.tls(), local_address="127.0.0.6") as other:
        login = await other.post_form(
            f"{proxy}/login", {"email": cluster.data["clerk"], "password": cluster.data["password"], "next": "/staff"}
        )
    assert (login.status_code, login.headers["location"]) == (302, "/staff")
    report(f"login limit: {LIMIT_LOGINS} failures through Caddy, then 429 on A and on B; another address logs in")


# --- the archive's cache ------------------------------------------------------------------


async def test_a_correction_through_a_shows_on_bs_cached_archive(cluster: Cluster) -> None:
    a, b = cluster.direct("A"), cluster.direct("B")
    laureate, slug = cluster.data["laureate_id"], cluster.data["slug"]
    cache_seconds = float(cluster.env["AMBASSADOR_ARCHIVE_CACHE_SECONDS"])
    async with Browser(cluster.tls()) as visitor, Browser(cluster.tls()) as clerk:
        first = await visitor.get(f"{b}/en/laureates/{slug}", headers=ENGLISH)
        cached = await visitor.get(f"{b}/en/laureates/{slug}", headers=ENGLISH)
        assert (first.status_code, cached.headers["etag"]) == (200, first.headers["etag"])
        assert "Anna Pubic" in cached.text
        await clerk.post_form(
            f"{a}/login", {"email": cluster.data["clerk"], "password": cluster.data["password"], "next": "/staff"}
        )
        form = {
            "name": "Anna Public",
            "citation_pl": "",
            "citation_en": cluster.data["citation"],
            "citation_uk": "",
            "reason": "The name was misspelt.",
        }
        saved = await clerk.post_form(f"{a}/staff/laureates/{laureate}", form)
        corrected_at = time.monotonic()
        assert saved.status_code == 303, saved.text[:500]
        shown_after = None
        deadline = corrected_at + cache_seconds + 2.0  # the cache's period, plus the stamp's read
        while time.monotonic() < deadline:
            page = await visitor.get(f"{b}/en/laureates/{slug}", headers=ENGLISH)
            if "Anna Public" in page.text:
                shown_after = time.monotonic() - corrected_at
                break
            await asyncio.sleep(0.05)
    report(
        f"correction through A shown on B's cached page after {shown_after:.2f} s"
        if shown_after is not None
        else "correction through A NOT shown on B"
    )
    assert shown_after is not None, f"not shown on B within {cache_seconds} s + 2 s"
    assert "The name was misspelt." in page.text


# --- failover ---------------------------------------------------------------------------


@dataclass
class Failover:
    """What 100 nominators through Caddy saw while instance A was killed."""

    killed_at: float = 0.0
    stop_at: float = 0.0
    attempted: set[str] = field(default_factory=set)
    acknowledged: dict[str, str] = field(default_factory=dict)  # name -> "before" / "after" the kill
    failures: Counter[str] = field(default_factory=Counter)
    failure_examples: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    def phase(self) -> str:
        return "after" if self.killed_at and time.monotonic() >= self.killed_at else "before"

    def fail(self, what: str, example: str) -> None:
        self.failures[f"{self.phase()} the kill: {what}"] += 1
        if example.strip() and len(self.failure_examples) < 8:
            self.failure_examples.append(f"{self.phase()}: {example}")


async def _nominator(index: int, proxy: str, tls: ssl.SSLContext, run: Failover) -> None:
    async with Browser(tls) as browser:
        number = 0
        while time.monotonic() < run.stop_at:
            number += 1
            name = f"Failover Nominee {index:03d}-{number:04d}"
            fields: dict[str, str] | None = None
            acknowledged = False
            while time.monotonic() < run.stop_at + GRACE_SECONDS and not acknowledged:
                try:
                    if fields is None:
                        page = await browser.get(f"{proxy}/pl/nominate")
                        if page.status_code != 200:
                            run.fail(f"GET /nominate {page.status_code}", page.text[:80])
                            await asyncio.sleep(0.2)
                            continue
                        key, edition, description = (
                            SUBMISSION_KEY.search(page.text),
                            EDITION_ID.search(page.text),
                            DESCRIPTION.search(page.text),
                        )
                        assert key and edition and description
                        fields = nomination_fields(key.group(1), edition.group(1), description.group(1), "")
                        fields["nominee_name"] = name
                        run.attempted.add(name)
                    posted = await browser.request(
                        "POST",
                        f"{proxy}/nominate",
                        data={**fields, "_csrf_token": browser.cookies[CSRF]},
                        files=[("attachments", ("", b"", "application/octet-stream"))],
                    )
                except httpx.TransportError as exc:
                    run.fail(f"{type(exc).__name__}", str(exc)[:80])
                    await asyncio.sleep(0.2)
                    continue
                if posted.status_code == 303 and posted.headers["location"].endswith("/nominate/sent"):
                    run.acknowledged[name] = run.phase()
                    acknowledged = True
                elif posted.status_code in (502, 503, 504):
                    # Resent with the same submission key: stored at most once. Caddy's own
                    # error answers are empty; the app's carry Retry-After.
                    source = "the app, Retry-After" if "retry-after" in posted.headers else "Caddy, empty body"
                    run.fail(f"POST /nominate {posted.status_code} ({source})", posted.text[:120])
                    await asyncio.sleep(0.2)
                else:
                    run.unexpected.append(f"POST /nominate {posted.status_code}")
                    return


async def test_sigkill_of_one_instance_under_100_nominators_loses_nothing(cluster: Cluster) -> None:
    # The load comes from one address (127.0.0.1): the nomination limit is lifted for it,
    # as make bench does. The limiter itself still runs.
    cluster.restart_instances(AMBASSADOR_NOMINATION_POSTS_PER_HOUR="1000000000")
    cluster.wait_until_proxied_to("A")
    cluster.wait_until_proxied_to("B")
    run = Failover()
    started = time.monotonic()
    run.stop_at = started + FAILOVER_SECONDS
    proxy, tls = cluster.proxy.base, cluster.tls()
    tasks = [asyncio.create_task(_nominator(i, proxy, tls, run)) for i in range(FAILOVER_CLIENTS)]
    await asyncio.sleep(KILL_AFTER)
    run.killed_at = time.monotonic()
    await asyncio.to_thread(cluster.instances["A"].kill)
    await asyncio.gather(*tasks)
    finished = time.monotonic() - started

    stored = Counter(cluster.tool("nominations", "--edition", str(cluster.data["open_edition"]))["names"])
    missing = [name for name in run.acknowledged if stored[name] != 1]
    doubled = [name for name, count in stored.items() if count > 1]
    unknown = [name for name in stored if name.startswith("Failover") and name not in run.attempted]
    never = [name for name in run.attempted if name not in run.acknowledged]
    phases = Counter(run.acknowledged.values())
    report(
        f"failover: {FAILOVER_CLIENTS} nominators through Caddy for {FAILOVER_SECONDS:.0f} s, instance A SIGKILLed "
        f"after {KILL_AFTER:.0f} s; {finished:.1f} s with the retries"
    )
    report(
        f"  nominations acknowledged {len(run.acknowledged)} (before the kill {phases['before']}, "
        f"after {phases['after']}), stored {sum(stored[n] for n in run.acknowledged)}, "
        f"stored twice {len(doubled)}, never acknowledged {len(never)}"
    )
    report(f"  failed requests: {sum(run.failures.values())} {dict(run.failures)}")
    for example in sorted(set(run.failure_examples)):
        report(f"    e.g. {example}")
    assert run.unexpected == []
    assert (missing, doubled, unknown, never) == ([], [], [], [])
    assert phases["after"] > 0
    # Instance A comes back (systemd's Restart=always does this in production).
    cluster.start_instance("A")
    cluster.wait_until_proxied_to("A")


# --- mail -------------------------------------------------------------------------------


async def test_two_senders_deliver_each_mail_exactly_once(cluster: Cluster) -> None:
    burst = cluster.tool("queue", "--count", "300")["queued"]

    def delivered() -> bool:
        mails = cluster.tool("mails")["mails"]
        return all(status == "sent" for _, status, _ in mails) and bool(mails)

    wait_for("every mail sent", delivered, timeout=180, every=1.0)
    mails = cluster.tool("mails")["mails"]
    received = cluster.sink.received()
    queued = {message_id for message_id, _, _ in mails}
    counts = Counter(received[m] for m in queued)
    strangers = [m for m in received if m not in queued]
    report(
        f"mail: {len(queued)} queued ({len(burst)} in one burst), 2 senders: delivered once {counts[1]}, "
        f"twice or more {sum(n for c, n in counts.items() if c > 1)}, never {counts[0]}; "
        f"{cluster.sink.tls_sessions} accepted over STARTTLS"
    )
    assert set(burst) <= queued
    assert (counts[1], strangers) == (len(queued), [])
    assert cluster.sink.tls_sessions == sum(received.values())


# --- throughput ---------------------------------------------------------------------------


def loadgen(cluster: Cluster, url: str, spec: dict[str, Any] | None, connections: int) -> dict[str, Any]:
    command = [
        sys.executable,
        str(ROOT / "bench" / "loadgen.py"),
        url,
        "-c",
        str(connections),
        "-d",
        "4",
        "--warmup",
        "1",
        "--cafile",
        str(cluster.caddy_root()),
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(spec or {}, handle)
    if spec:
        command += ["--spec", handle.name]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    Path(handle.name).unlink()
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def nomination_spec(cluster: Cluster, csrf: str) -> dict[str, Any]:
    boundary = "----ambassadorcluster0123456789"
    criterion = cluster.data["criteria"][0]
    fields = {
        "_csrf_token": csrf,
        "edition_id": str(cluster.data["open_edition"]),
        "submission_key": "cluster-{key}",
        "category": "B",
        "nominee_name": "Throughput Nominee {key}",
        "nominee_email": "nominee-{key}@cluster.example.org",
        f"description_{criterion}": "Runs a bilingual reading club for children.",
        "nominator_name": "Throughput Nominator {key}",
        "nominator_email": "nominator-{key}@cluster.example.org",
        "privacy_ack": "1",
        "website": "",
    }
    body = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    return {
        "scenario": "form",
        "path": "/nominate",
        "template": body + f"--{boundary}--\r\n",
        "content_type": f"multipart/form-data; boundary={boundary}",
        "headers": {"Cookie": f"{CSRF}={csrf}"},
        "expect_location": "/pl/nominate/sent",
    }


async def test_throughput_through_caddy_with_one_and_two_instances(cluster: Cluster) -> None:
    # The web tier alone: the senders stop, so that delivering this test's mails takes no
    # CPU from the measurement (the mails stay in the outbox).
    for sender in cluster.senders:
        sender.stop()
    bare = []
    for number in (1, 2):
        port = free_port()
        service = Service(
            f"bare app {number} (:{port})",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "tests.cluster.bare:create_app",
                "--factory",
                "--port",
                str(port),
                "--no-access-log",
            ],
            dict(cluster.env),
            cluster.workdir / f"bare-{number}.log",
        )
        service.start()
        cluster.others.append(service)
        wait_for(service.name, lambda p=port: httpx.get(f"http://127.0.0.1:{p}/readyz", timeout=2).status_code == 200)
        bare.append(f"127.0.0.1:{port}")
    async with Browser(cluster.tls()) as browser:
        await browser.get(f"{cluster.proxy.base}/pl/nominate")
        csrf = browser.cookies[CSRF]
    spec = nomination_spec(cluster, csrf)
    app = [f"127.0.0.1:{cluster.port('A')}", f"127.0.0.1:{cluster.port('B')}"]
    results: dict[str, Any] = {}
    for count in (1, 2):
        bare_caddy = cluster.start_caddy(bare[:count])
        app_caddy = cluster.start_caddy(app[:count])
        plain = loadgen(cluster, f"{bare_caddy.base}/plaintext", None, 64)
        archive = loadgen(cluster, f"{app_caddy.base}/en/laureates", None, 64)
        nominate = loadgen(cluster, app_caddy.base, spec, 64)
        cluster.stop_caddy(bare_caddy)
        cluster.stop_caddy(app_caddy)
        results[f"{count} instance(s)"] = {"bare": plain, "archive": archive, "nominate": nominate}
        rows = (("bare /plaintext", plain), ("archive /laureates", archive), ("POST /nominate", nominate))
        for label, result in rows:
            errors = result["failed"] + sum(result["socket_errors"].values())
            ratio = result["rps"] / plain["rps"] if plain["rps"] else 0.0
            report(
                f"throughput, {count} instance(s) behind Caddy, 64 clients: {label}: {result['rps']:.0f}/s "
                f"({ratio:.3f}× bare), p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, errors {errors}"
            )
    one, two = results["1 instance(s)"], results["2 instance(s)"]
    scaling = {
        kind: round(two[kind]["rps"] / one[kind]["rps"], 2) if one[kind]["rps"] else None
        for kind in ("bare", "archive", "nominate")
    }
    report(f"throughput, two instances / one: {scaling}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                "machine": {"cores": os.cpu_count(), "load_average": os.getloadavg()},
                "results": results,
                "two_over_one": scaling,
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    report(f"throughput figures written to {RESULTS.relative_to(ROOT)}")
    for kind in ("bare", "archive", "nominate"):
        assert one[kind]["requests"] > 0 and two[kind]["requests"] > 0, kind
        assert one[kind]["failed"] == 0 and two[kind]["failed"] == 0, (kind, one[kind]["failures"])
