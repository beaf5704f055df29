"""200 concurrent nominators for 30 s; the server SIGKILLed and restarted mid-load; PostgreSQL restarted.

Run with ``make test-load`` (``AMBASSADOR_LOAD_SECONDS`` and ``AMBASSADOR_LOAD_CLIENTS``
shorten the runs). What must hold:

- no answer is a 5xx (but 503 with ``Retry-After`` while PostgreSQL is away), and nothing
  else unexpected (no 400, 403, 429);
- every nomination the server acknowledged (303 to the thank-you page) is stored exactly
  once, with exactly one audit entry, and nothing is stored that nobody sent; every
  acknowledged confirmation and score is stored;
- after the SIGKILL and the restart the audit chain verifies (``ambassador audit verify``);
- every mail of the outbox reaches the SMTP server; a mail may come twice only when a
  sender died (or lost the database) between the SMTP server's acceptance and marking the
  mail sent, at most once per such fault: delivery is at least once, never lost.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from ambassador.settings import Settings
from tests.load.conftest import PG_SERVER_URL, postgres_database, terminate_backends, with_database
from tests.load.harness import (
    REPORTS,
    AppServer,
    Load,
    Outcome,
    SmtpSink,
    TcpProxy,
    audit_verify,
    check_answers,
    check_mails,
    check_nominations,
    check_scores,
    load_clients,
    load_seconds,
    migrate,
    tool,
)

# How long each simulated PostgreSQL restart refuses connections.
OUTAGE_SECONDS = 5.0


async def _settle(load: Load, server: AppServer, database_url: str, sink: SmtpSink) -> None:
    """End the load, let the confirmers follow their mails, then deliver everything left."""
    await load.finish_load()
    await tool(database_url, "drain", "--smtp-url", sink.url)
    await load.finish_confirmations()
    await server.stop()
    await tool(database_url, "drain", "--smtp-url", sink.url)


async def _ready_again(base: str, timeout: float = 60.0) -> float:
    """Seconds until /readyz answers 200 (the app reconnects on its own)."""
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        while time.monotonic() - started < timeout:
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("the app did not become ready again after PostgreSQL came back")


async def _verdict(
    name: str,
    load: Load,
    *,
    server: AppServer,
    database_url: str,
    snapshot: dict[str, Any],
    received: Counter[str],
    faults: int,
    allow_503: bool,
) -> tuple[dict[str, object], list[str]]:
    """The checks common to every run; the figures are reported at the end of the session."""
    verified, verify_output = await audit_verify(database_url)
    problems: list[str] = []
    figures: dict[str, object] = check_answers(load, problems, allow_503=allow_503)
    figures.update(check_nominations(load, snapshot, problems))
    figures.update(check_scores(load, snapshot, problems))
    # At-least-once delivery: a fault may repeat the mail each SMTP connection was delivering
    # (accepted by the server, not yet marked sent); a refused mark is made again, not repeated.
    repeats = faults * Settings.mail_concurrency
    figures.update(check_mails(load, snapshot, received, problems, allowed_repeats=repeats))
    figures["audit verify"] = verify_output
    if verified != 0:
        problems.append(f"audit chain: {verify_output}")
    figures["server errors logged"] = dict(server.logged_errors())
    REPORTS.append(Outcome(name, figures, problems))
    return figures, problems


async def test_nominations_under_load_survive_a_sigkill(load_database: str, workdir: Path) -> None:
    url = load_database
    await migrate(url)
    setup = await tool(url, "setup")
    with SmtpSink().running() as sink:
        server = AppServer(url, workdir / "var", sink.url)
        await server.start()
        load = Load(server.base, sink, setup, load_clients(), load_seconds())
        try:
            load.start()
            await load.until(0.5)
            before_kill = len(load.acknowledged)
            await server.kill()
            load.phase = "down"
            restart_seconds = await server.start()
            load.phase = "restarted"
            await _settle(load, server, url, sink)
        finally:
            await server.stop()
        snapshot = await tool(url, "snapshot", "--edition", str(setup["open_edition"]))
        received = sink.received()

    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    name = f"{backend}: {load.clients} nominators for {load.seconds:.0f} s, SIGKILL at mid-run"
    figures, problems = await _verdict(
        name, load, server=server, database_url=url, snapshot=snapshot, received=received, faults=1, allow_503=False
    )
    figures["acknowledged before the kill"] = before_kill
    figures["acknowledged after the restart"] = load.acknowledged_at["restarted"]
    figures["restart took (s)"] = round(restart_seconds, 1)
    if load.acknowledged_at["restarted"] == 0:
        problems.append("no nomination acknowledged after the restart")
    assert not problems, "\n".join(problems)


async def _two_outages(load: Load, server: AppServer, proxy: TcpProxy, direct_url: str) -> dict[str, float]:
    """Reset every connection, then end the sessions server-side; each time refuse connections a while."""
    load.start()
    await load.until(0.2)
    proxy.cut()
    load.phase = "outage 1"
    await asyncio.sleep(OUTAGE_SECONDS)
    proxy.restore()
    load.phase = "recovered 1"
    ready_1 = await _ready_again(server.base)
    await load.until(0.55)
    proxy.refuse()
    load.phase = "outage 2"
    ended = await terminate_backends(direct_url)
    await asyncio.sleep(OUTAGE_SECONDS)
    proxy.restore()
    load.phase = "recovered 2"
    return {"ready 1": ready_1, "ready 2": await _ready_again(server.base), "ended": ended}


async def test_a_postgres_restart_gives_503_and_the_app_recovers(workdir: Path) -> None:
    """Two outages of the database under load, each refusing connections for OUTAGE_SECONDS.

    The first resets every connection (the network's view of a restart or a crash); in the
    second the server ends the app's sessions itself, as PostgreSQL's shutdown does (FATAL
    57P01 "terminating connection due to administrator command").
    """
    async with postgres_database() as direct_url:
        await migrate(direct_url)
        setup = await tool(direct_url, "setup")
        upstream = urlsplit(PG_SERVER_URL)
        proxy = TcpProxy(upstream.hostname or "127.0.0.1", upstream.port or 5432)
        proxy.start()
        try:
            with SmtpSink().running() as sink:
                proxied = with_database(PG_SERVER_URL, urlsplit(direct_url).path.lstrip("/"), proxy.port)
                server = AppServer(proxied, workdir / "var", sink.url)
                await server.start()
                load = Load(server.base, sink, setup, load_clients(), max(load_seconds(), 4 * OUTAGE_SECONDS))
                try:
                    outages = await _two_outages(load, server, proxy, direct_url)
                    await _settle(load, server, direct_url, sink)
                finally:
                    await server.stop()
                snapshot = await tool(direct_url, "snapshot", "--edition", str(setup["open_edition"]))
                received = sink.received()
        finally:
            proxy.stop()
        name = f"PostgreSQL restarted twice ({OUTAGE_SECONDS:.0f} s each), {load.clients} nominators"
        figures, problems = await _verdict(
            name,
            load,
            server=server,
            database_url=direct_url,
            snapshot=snapshot,
            received=received,
            faults=2,
            allow_503=True,
        )

    for number in (1, 2):
        during = load.tally.by_status(f"outage {number}")
        figures[f"outage {number}: answers"] = dict(sorted(during.items()))
        figures[f"outage {number}: /readyz 200 again after (s)"] = round(outages[f"ready {number}"], 1)
        figures[f"outage {number}: acknowledged after it"] = load.acknowledged_at[f"recovered {number}"]
        if during[503] == 0:
            problems.append(f"no 503 during outage {number}")
        if load.acknowledged_at[f"recovered {number}"] == 0:
            problems.append(f"no nomination acknowledged after outage {number}")
    figures["connections reset by the proxy"] = proxy.resets
    figures["sessions ended by the server"] = int(outages["ended"])
    if server.starts != 1:
        problems.append("the server was restarted")
    assert not problems, "\n".join(problems)
