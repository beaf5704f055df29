"""The app as deployed: separate `ambassador serve` processes sharing one database."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient

from ambassador.enums import Role
from ambassador.settings import Settings
from ambassador.web.app import create_app
from tests.conftest import SECRET
from tests.factories import make_edition, make_user
from tests.helpers import eventually
from tests.smtp import free_port
from tests.test_nomination_public import FormPage

ROOT = Path(__file__).resolve().parent.parent


SERVE = (sys.executable, "-m", "ambassador", "serve")


@contextmanager
def live_server(
    database_url: str,
    var_dir: Path,
    extra: Mapping[str, str] | None = None,
    *,
    log: Path | None = None,
    command: Sequence[str] = SERVE,
    started: list[int] | None = None,
) -> Iterator[str]:
    """``ambassador serve`` (or ``command``) on a free port, ``extra`` added to the environment;
    its address once /healthz answers.

    No AMBASSADOR_BASE_URL unless given: the development base URL follows the served port.
    ``log`` receives the server's output (the app's JSON lines), else it is dropped.
    ``started`` receives the server's process id.
    """
    port = free_port()
    env = {
        **{name: value for name, value in os.environ.items() if name != "AMBASSADOR_BASE_URL"},
        "AMBASSADOR_DATABASE_URL": database_url,
        "AMBASSADOR_SECRET_KEY": SECRET,
        "AMBASSADOR_VAR_DIR": str(var_dir),
        "AMBASSADOR_ARGON2_MEMORY_COST": "1024",
        "AMBASSADOR_ARGON2_TIME_COST": "1",
        **(extra or {}),
    }
    output = log.open("ab") if log is not None else None
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=output or subprocess.DEVNULL,
        stderr=output or subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    if started is not None:
        started.append(process.pid)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(15)
        if output is not None:
            output.close()


async def form_post(client: httpx.AsyncClient, url: str, data: dict[str, str]) -> httpx.Response:
    if "csrftoken" not in client.cookies:
        await client.get("/login")
    return await client.post(url, data={**data, "_csrf_token": client.cookies["csrftoken"]})


async def test_a_session_made_by_one_worker_is_valid_in_another(database_url: str, tmp_path: Path) -> None:
    await make_user("clerk@example.org", (Role.CLERK,), password="a shared passphrase")
    with live_server(database_url, tmp_path / "a") as first, live_server(database_url, tmp_path / "b") as second:
        async with httpx.AsyncClient(base_url=first) as one:
            login = await form_post(one, "/login", {"email": "clerk@example.org", "password": "a shared passphrase"})
            assert login.status_code == 302
            cookies = dict(one.cookies)
        async with httpx.AsyncClient(base_url=second, cookies=cookies) as two:
            assert (await two.get("/staff")).status_code == 200
            assert (await form_post(two, "/logout", {})).status_code == 302
        async with httpx.AsyncClient(base_url=first, cookies=cookies) as again:
            assert (await again.get("/staff")).status_code == 302


def _process_tree(pid: int) -> set[int]:
    """``pid`` and its descendants (uvicorn's workers, if any)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    tree, grew = {pid}, True
    while grew:
        grew = False
        for child, parent in parents.items():
            if parent in tree and child not in tree:
                tree.add(child)
                grew = True
    return tree


def hashing_now(pid: int) -> bool:
    """Whether a hashing thread of the server runs: one at nice 19 (``passwords``), on a CPU or runnable."""
    for process in _process_tree(pid):
        for stat in Path(f"/proc/{process}/task").glob("*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[0] == "R" and int(fields[16]) == 19:
                return True
    return False


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc to see the hashing thread")
async def test_a_public_request_completes_while_a_login_is_hashing(database_url: str, tmp_path: Path) -> None:
    # Expensive argon2 (256 MiB): the unknown-email login verifies against a dummy hash this costly.
    heavy = {"AMBASSADOR_ARGON2_MEMORY_COST": "262144", "AMBASSADOR_ARGON2_TIME_COST": "3"}
    started: list[int] = []
    with live_server(database_url, tmp_path, heavy, started=started) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            await client.get("/login")
            login = asyncio.create_task(
                form_post(client, "/login", {"email": "ghost@example.org", "password": "x" * 20})
            )

            # Not a guessed delay: the server's hashing thread (nice 19) is seen running.
            async def hashing_thread_runs() -> bool:
                return hashing_now(started[0])

            hashing = await eventually(hashing_thread_runs, within=20, every=0.005)
            async with httpx.AsyncClient(base_url=base) as visitor:
                home = await visitor.get("/", follow_redirects=True)
                finished_first = not login.done()
            assert hashing, "no login was seen hashing within 20 s"
            assert home.status_code == 200
            assert finished_first is True
            assert (await login).status_code == 400


def _redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), 1).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _redis_reachable(), reason="Redis is not running on 127.0.0.1:6379")
async def test_sessions_live_in_redis_when_configured(settings: Settings) -> None:
    import redis.asyncio as redis

    with_redis = settings.with_changes(redis_url="redis://127.0.0.1:6379/15")
    await make_user("clerk@example.org", (Role.CLERK,))
    server = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    session_id = ""
    try:
        async with AsyncTestClient(app=create_app(with_redis)) as client:
            client.follow_redirects = False
            await client.get("/login")
            token = client.cookies["csrftoken"]
            login = await client.post(
                "/login",
                data={"email": "clerk@example.org", "password": "correct horse battery staple", "_csrf_token": token},
            )
            assert login.status_code == 302
            session_id = client.cookies["session"]
            keys = [k.decode() if isinstance(k, bytes) else k for k in await server.keys("*")]
            assert any(k.endswith(session_id) for k in keys)
            assert (await client.get("/staff")).status_code == 200
    finally:
        # Only this test's keys: other test runs may share the server.
        for key in await server.keys(f"*{session_id}") if session_id else []:
            await server.delete(key)
        await server.aclose()


async def nominate(client: httpx.AsyncClient) -> httpx.Response:
    """The public form as a browser sends it (multipart, CSRF token from the cookie)."""
    page = await client.get("/nominate", follow_redirects=True)
    assert page.status_code == 200
    fields = {**FormPage(page.text).fields(), "_csrf_token": client.cookies["csrftoken"]}
    return await client.post("/nominate", data=fields, files=[("attachments", ("", b"", "application/octet-stream"))])


def wait_for_mail(mail_dir: Path, timeout: float = 30) -> EmailMessage:
    """The first mail the server's sender writes to files (no SMTP configured)."""
    deadline = time.monotonic() + timeout
    while True:
        found = sorted(mail_dir.glob("*.eml")) if mail_dir.is_dir() else []
        if found:
            return message_from_bytes(found[0].read_bytes(), policy=policy.default)
        assert time.monotonic() < deadline, f"no mail in {mail_dir} within {timeout} s"
        time.sleep(0.1)


async def test_without_a_base_url_the_links_follow_the_served_port(database_url: str, tmp_path: Path) -> None:
    await make_edition()
    var_dir = tmp_path / "var"
    with live_server(database_url, var_dir) as base:
        port = base.rsplit(":", 1)[1]
        async with httpx.AsyncClient(base_url=base) as client:
            sent = await nominate(client)
            sitemap = await client.get("/sitemap.xml")
            feed = await client.get("/feed.atom")
        mail = wait_for_mail(var_dir / "mail")

    assert port != "8000"
    assert sent.status_code == 303
    plain = mail.get_body(("plain",))
    assert plain is not None
    text = plain.get_content()
    [link] = re.findall(r"https?://\S+/n/confirm/\S+", text)
    assert link.startswith(f"http://127.0.0.1:{port}/n/confirm/")
    assert f"<loc>http://127.0.0.1:{port}/pl/</loc>" in sitemap.text
    assert f'href="http://127.0.0.1:{port}/feed.atom"' in feed.text
