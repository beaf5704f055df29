"""Security events, the request log and their shipping (ASVS V16, finding F9), over real requests.

The lines are read where the app writes them: stderr (pytest's ``capsys``) or a syslog
receiver (a UDP or TCP socket) started by the test. docs/logging.md lists the events.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from litestar import get
from litestar.params import FromPath
from litestar.testing import AsyncTestClient

from ambassador.domain import account_links, outbox, second_factor
from ambassador.enums import Role
from ambassador.logs import JsonFormatter
from ambassador.settings import ConfigurationError, Settings, read_settings
from ambassador.web.app import create_app, throttle_policy
from tests.conftest import Client
from tests.factories import PASSWORD, make_edition, make_user
from tests.helpers import csrf_token, login, post_form
from tests.jury_factories import scoring_edition
from tests.smtp import RecordingHandler, free_port, smtp_server
from tests.test_jury_pages import as_juror
from tests.test_nomination_public import FormPage, deliver, mailed_path, pdf_file, send_form

TIMEOUT_SECONDS = 10.0
# Syslog priority = facility * 8 + severity; warning is 4.
AUTHPRIV_WARNING = 10 * 8 + 4
LOCAL3_WARNING = 19 * 8 + 4


class StderrLog:
    """The JSON lines the app wrote on stderr since the last read."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.lines: list[str] = []

    def read(self) -> list[dict[str, Any]]:
        self.lines += self.capsys.readouterr().err.splitlines()
        return [json.loads(line) for line in self.lines if line.startswith("{")]

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        return [
            entry
            for entry in self.read()
            if entry["logger"] == "ambassador.security" and (name is None or entry["event"] == name)
        ]

    def requests(self, path: str) -> list[dict[str, Any]]:
        return [e for e in self.read() if e["logger"] == "ambassador.request" and e["path"] == path]


@pytest.fixture
def stderr_log(client: Client, capsys: pytest.CaptureFixture[str]) -> StderrLog:
    """After the app is built (and logging configured); what came before is dropped."""
    capsys.readouterr()
    return StderrLog(capsys)


def fields(entry: dict[str, Any]) -> dict[str, Any]:
    """What every security event must say (ASVS 16.2.1): what, outcome, who, from where, which route."""
    return {key: entry[key] for key in ("event", "outcome", "user_id", "client", "route")}


def event(name: str, outcome: str, route: str, user_id: int | None = None) -> dict[str, Any]:
    return {"event": name, "outcome": outcome, "user_id": user_id, "client": "testclient", "route": route}


# --- the request line -------------------------------------------------------------------


async def test_the_request_line_names_the_logged_in_user_and_the_client(client: Client, stderr_log: StderrLog) -> None:
    """ASVS 16.2.1, 16.2.2 (F9): who, from where, when (UTC), what; anonymous requests have no user."""
    clerk = await make_user("clerk@example.org", (Role.CLERK,))
    assert (await client.get("/staff")).status_code == 302
    assert (await login(client, "clerk@example.org")).status_code == 302
    page = await client.get("/staff")
    assert page.status_code == 200

    anonymous, logged_in = stderr_log.requests("/staff")
    assert (anonymous["user_id"], anonymous["client"], anonymous["status"]) == (None, "testclient", 302)
    assert {key: logged_in[key] for key in ("user_id", "client", "method", "path", "status", "request_id")} == {
        "user_id": clerk.id,
        "client": "testclient",
        "method": "GET",
        "path": "/staff",
        "status": 200,
        "request_id": page.headers["x-request-id"],
    }
    assert logged_in["time"].endswith("+00:00")


async def test_a_request_to_an_address_no_route_matches_is_logged(client: Client, stderr_log: StderrLog) -> None:
    """ASVS 16.2.1, 16.3.2: a scanner's probe of an unknown address leaves its line, id and client."""
    probe = await client.get("/wp-login.php", headers={"x-forwarded-for": "203.0.113.9"})
    wrong_method = await client.delete("/laureates")

    assert (probe.status_code, wrong_method.status_code) == (404, 405)
    assert [
        {key: entry[key] for key in ("client", "method", "path", "status", "request_id")}
        for entry in stderr_log.requests("/wp-login.php") + stderr_log.requests("/laureates")
    ] == [
        # The test client is no trusted proxy: its X-Forwarded-For is not believed.
        {
            "client": "testclient",
            "method": "GET",
            "path": "/wp-login.php",
            "status": 404,
            "request_id": probe.headers["x-request-id"],
        },
        {
            "client": "testclient",
            "method": "DELETE",
            "path": "/laureates",
            "status": 405,
            "request_id": wrong_method.headers["x-request-id"],
        },
    ]


# --- authorisation and the controls' refusals -------------------------------------------


async def test_a_role_denial_is_a_security_event_with_the_user(client: Client, stderr_log: StderrLog) -> None:
    """ASVS 16.3.2 (F9): a clerk refused the admin pages (403) is logged with who, where and why."""
    clerk = await make_user("clerk@example.org", (Role.CLERK,))
    await login(client, "clerk@example.org")
    assert (await client.get("/admin/users")).status_code == 403
    assert (await post_form(client, f"/admin/users/{clerk.id}/roles", {"roles": "admin"})).status_code == 403

    denied = stderr_log.events("authz.denied")
    assert [fields(entry) for entry in denied] == [
        event("authz.denied", "denied", "GET /admin/users", clerk.id),
        event("authz.denied", "denied", f"POST /admin/users/{clerk.id}/roles", clerk.id),
    ]
    assert [entry["reason"] for entry in denied] == ["role", "role"]
    assert [entry["level"] for entry in denied] == ["warning", "warning"]
    assert denied[0]["request_id"] != denied[1]["request_id"]


async def test_a_rule_denial_is_a_security_event_with_the_user(client: Client, stderr_log: StderrLog) -> None:
    """ASVS 16.3.2 (F9): a juror who is not the chair opening the chair's matrix (403 raised) and
    closing the scoring (403 page) is logged with reason ``rule``."""
    setup = await scoring_edition()
    _chair, juror, _ = setup.jurors
    await as_juror(client, juror)
    edition = setup.edition.id
    assert (await client.get(f"/jury/editions/{edition}/matrix")).status_code == 403
    assert (await post_form(client, f"/jury/editions/{edition}/close-scoring", {})).status_code == 403

    denied = stderr_log.events("authz.denied")
    assert [(fields(entry), entry["reason"]) for entry in denied] == [
        (event("authz.denied", "denied", f"GET /jury/editions/{edition}/matrix", juror.id), "rule"),
        (event("authz.denied", "denied", f"POST /jury/editions/{edition}/close-scoring", juror.id), "rule"),
    ]


async def test_a_protected_page_without_login_is_a_security_event(client: Client, stderr_log: StderrLog) -> None:
    """ASVS 16.3.2, 16.3.3: an anonymous visit to the staff area (sent to the login) and an anonymous post."""
    assert (await client.get("/staff")).headers["location"] == "/login?next=/staff"
    assert (await post_form(client, "/admin/users/1/active", {"active": "0"})).status_code == 403

    assert [fields(entry) for entry in stderr_log.events("authz.login_required")] == [
        event("authz.login_required", "denied", "GET /staff"),
        event("authz.login_required", "denied", "POST /admin/users/1/active"),
    ]


async def test_the_totp_enrolment_redirect_is_a_security_event(client: Client, stderr_log: StderrLog) -> None:
    """ASVS 16.3.3: a clerk whose role requires TOTP, not yet set up, is sent to set it up."""
    admin = await make_user("admin@example.org", (Role.ADMIN,))
    clerk = await make_user("clerk@example.org", (Role.CLERK,))
    await second_factor.set_totp_required(actor_id=admin.id, role=Role.CLERK, required=True)
    await login(client, "clerk@example.org")
    staff = await client.get("/staff")
    assert (staff.status_code, staff.headers["location"]) == (302, "/account/totp")

    assert [fields(entry) for entry in stderr_log.events("authz.totp_enrollment_required")] == [
        event("authz.totp_enrollment_required", "denied", "GET /staff", clerk.id)
    ]


async def test_a_csrf_failure_is_a_security_event(client: Client, stderr_log: StderrLog) -> None:
    """ASVS 16.3.3 (F9): a form without its token (or with a forged one) is refused and logged."""
    await csrf_token(client)
    missing = await client.post("/login", data={"email": "a@example.org", "password": "x"})
    forged = await client.post("/password/forgot", data={"email": "a@example.org", "_csrf_token": "f" * 64})
    assert (missing.status_code, forged.status_code) == (403, 403)

    assert [fields(entry) for entry in stderr_log.events()] == [
        event("csrf.failed", "blocked", "POST /login"),
        event("csrf.failed", "blocked", "POST /password/forgot"),
    ]


async def test_the_honeypot_and_the_nomination_rate_limit_are_security_events(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """ASVS 16.3.3, 2.4.1 (F9): a bot filling the hidden field still hears "sent" but is logged;
    the form's rate limit (429) is logged as throttled."""
    await make_edition()
    async with AsyncTestClient(app=create_app(settings.with_changes(nomination_posts_per_hour=1))) as client:
        client.follow_redirects = False
        capsys.readouterr()
        log = StderrLog(capsys)
        form = FormPage((await client.get("/nominate", follow_redirects=True)).text)
        bot = await send_form(client, "/nominate", form.fields(website="https://spam.example"), pdf_file())
        assert (bot.status_code, bot.headers["location"]) == (303, "/pl/nominate/sent")
        again = await send_form(client, "/nominate", form.fields(), pdf_file())
        assert again.status_code == 429

    assert [fields(entry) for entry in log.events()] == [
        event("nomination.honeypot", "blocked", "POST /nominate"),
        event("ratelimit.nomination", "throttled", "POST /nominate"),
    ]


async def test_a_body_over_the_limit_is_a_security_event(client: Client, stderr_log: StderrLog) -> None:
    """ASVS 16.3.3: a 2 MB body to the login form is refused (413) before it is read, and logged."""
    token = await csrf_token(client)
    refused = await client.post(
        "/login",
        content=b"email=" + b"x" * 2_000_000,
        headers={"content-type": "application/x-www-form-urlencoded", "x-csrftoken": token},
    )
    assert refused.status_code == 413

    [entry] = stderr_log.events()
    assert (fields(entry), entry["status"]) == (event("request.too_large", "blocked", "POST /login"), 413)


async def test_an_unhandled_error_is_logged_with_request_client_and_masked_route(
    client: Client, stderr_log: StderrLog
) -> None:
    """ASVS 16.3.4, 16.2.5, 16.5.1: the traceback goes to the error log with the request's id,
    client and route (the secret path segment masked); the security log gets the fact."""
    secret = "s" * 43

    @get("/boom/{token:str}", opt={"exclude_from_auth": True}, sync_to_thread=False)
    def boom(token: FromPath[str]) -> str:
        raise RuntimeError("kaputt")

    client.app.register(boom)
    answer = await client.get(f"/boom/{secret}")
    assert answer.status_code == 500
    assert "kaputt" not in answer.text

    [error] = [entry for entry in stderr_log.read() if entry["logger"] == "ambassador.errors"]
    assert {key: error[key] for key in ("message", "level", "request_id", "client", "route", "user_id", "error")} == {
        "message": "unhandled error",
        "level": "error",
        "request_id": answer.headers["x-request-id"],
        "client": "testclient",
        "route": "GET /boom/<token>",
        "user_id": None,
        "error": "RuntimeError",
    }
    assert "RuntimeError: kaputt" in error["exception"]
    [entry] = stderr_log.events()
    assert (fields(entry), entry["error"]) == (event("error.unhandled", "failure", "GET /boom/<token>"), "RuntimeError")
    assert all(secret not in line for line in stderr_log.lines)


async def test_a_path_with_line_breaks_and_json_stays_one_escaped_line(client: Client, stderr_log: StderrLog) -> None:
    """ASVS 16.4.1: CR, LF and a JSON fragment in the path (a nomination link's) cannot forge a log line."""
    forged = '/n/x\r\n{"level": "error", "logger": "ambassador.security", "event": "auth.login"}\r\n'
    quoted = "/n/x%0D%0A%7B%22level%22:%20%22error%22,%20%22logger%22:%20%22ambassador.security%22,"
    quoted += "%20%22event%22:%20%22auth.login%22%7D%0D%0A"
    assert (await client.get(quoted)).status_code == 404

    lines = stderr_log.lines + stderr_log.capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    [entry] = [json.loads(line) for line in lines]
    assert (entry["logger"], entry["path"], entry["status"]) == ("ambassador.request", forged, 404)


# --- shipping ---------------------------------------------------------------------------


@pytest.fixture
def udp_receiver() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(TIMEOUT_SECONDS)
        yield receiver


@pytest.fixture
def tcp_receiver() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.listen()
        receiver.settimeout(TIMEOUT_SECONDS)
        yield receiver


def syslog_message(data: bytes) -> tuple[int, str, dict[str, Any]]:
    """Priority, tag and JSON payload of ``<PRI>ambassador[pid]: {...}``."""
    found = re.fullmatch(rb"<(\d+)>(ambassador\[\d+\]): (\{.*\})\x00?", data, re.DOTALL)
    assert found is not None, data
    return int(found.group(1)), found.group(2).decode(), json.loads(found.group(3))


def read_frames(connection: socket.socket, count: int) -> list[bytes]:
    """``count`` octet-counted frames (RFC 6587): ``LENGTH SP MESSAGE``, back to back."""
    data, frames = b"", list[bytes]()
    while len(frames) < count:
        length, space, rest = data.partition(b" ")
        if space and len(rest) >= int(length):
            frames.append(rest[: int(length)])
            data = rest[int(length) :]
            continue
        received = connection.recv(4096)
        assert received, "the connection closed early"
        data += received
    assert data == b""
    return frames


async def refused_csrf(client: Client) -> None:
    await csrf_token(client)
    assert (await client.post("/login", data={"email": "a@example.org"})).status_code == 403


async def test_security_events_go_to_a_remote_syslog_over_udp(
    settings: Settings, udp_receiver: socket.socket, capsys: pytest.CaptureFixture[str]
) -> None:
    """ASVS 16.4.3, 16.2.4: with syslog://host:port the events reach a separate collector as
    JSON in a syslog datagram (facility authpriv), and no longer go to stderr; requests stay there."""
    port = udp_receiver.getsockname()[1]
    app = create_app(settings.with_changes(security_log=f"syslog://127.0.0.1:{port}"))
    try:
        async with AsyncTestClient(app=app) as client:
            capsys.readouterr()
            await refused_csrf(client)
            priority, tag, entry = syslog_message(udp_receiver.recv(65536))
    finally:
        create_app(settings)

    assert (priority, tag) == (AUTHPRIV_WARNING, f"ambassador[{os.getpid()}]")
    assert fields(entry) == event("csrf.failed", "blocked", "POST /login")
    assert (entry["logger"], entry["level"]) == ("ambassador.security", "warning")
    written = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(line["logger"], line["path"]) for line in written] == [
        ("ambassador.request", "/login"),
        ("ambassador.request", "/login"),
    ]


async def test_security_events_go_to_the_local_syslog_socket(settings: Settings, tmp_path: Path) -> None:
    """ASVS 16.4.3: ``syslog`` writes to the local socket (/dev/log; here one the test binds,
    named as ``syslog:///path``) for rsyslog or journald to keep and forward."""
    path = tmp_path / "log"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as receiver:
        receiver.bind(str(path))
        receiver.settimeout(TIMEOUT_SECONDS)
        app = create_app(settings.with_changes(security_log=f"syslog://{path}"))
        try:
            async with AsyncTestClient(app=app) as client:
                client.follow_redirects = False
                assert (await client.get("/staff")).status_code == 302
                priority, _, entry = syslog_message(receiver.recv(65536))
        finally:
            create_app(settings)

    assert (priority, fields(entry)) == (AUTHPRIV_WARNING, event("authz.login_required", "denied", "GET /staff"))


async def test_security_events_go_to_a_remote_syslog_over_tcp_with_the_facility_chosen(
    settings: Settings, tcp_receiver: socket.socket
) -> None:
    """ASVS 16.4.3: syslog+tcp://host:port sends octet-counted frames (RFC 6587) in the
    configured facility (local3 here), each one JSON object."""
    port = tcp_receiver.getsockname()[1]
    changed = settings.with_changes(security_log=f"syslog+tcp://127.0.0.1:{port}", security_log_facility="local3")
    try:
        async with AsyncTestClient(app=create_app(changed)) as client:
            client.follow_redirects = False
            await refused_csrf(client)
            assert (await client.get("/staff")).status_code == 302
            connection, _ = tcp_receiver.accept()
            with connection:
                connection.settimeout(TIMEOUT_SECONDS)
                frames = read_frames(connection, 2)
    finally:
        create_app(settings)

    messages = [syslog_message(frame) for frame in frames]
    assert [(priority, fields(entry)) for priority, _, entry in messages] == [
        (LOCAL3_WARNING, event("csrf.failed", "blocked", "POST /login")),
        (LOCAL3_WARNING, event("authz.login_required", "denied", "GET /staff")),
    ]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("AMBASSADOR_SECURITY_LOG", "syslog://collector.example", "must name a host and a port"),
        ("AMBASSADOR_SECURITY_LOG", "https://collector.example:514", "must be stderr, syslog"),
        ("AMBASSADOR_SECURITY_LOG", "journald", "must be stderr, syslog"),
        ("AMBASSADOR_SECURITY_LOG", "syslog://host:514/path", "must be stderr, syslog"),
        ("AMBASSADOR_SECURITY_LOG_FACILITY", "audit", "AMBASSADOR_SECURITY_LOG_FACILITY must be one of"),
    ],
)
def test_an_unusable_security_log_setting_refuses_to_start(variable: str, value: str, expected: str) -> None:
    """ASVS 16.2.3: the security log goes only where the settings say, and a wrong setting says what is wrong."""
    settings = read_settings({"AMBASSADOR_SECRET_KEY": "k" * 40, "AMBASSADOR_BASE_URL": "http://x", variable: value})
    with pytest.raises(ConfigurationError, match=expected):
        settings.check()


def test_the_security_log_settings_are_read_from_the_environment() -> None:
    """ASVS 16.4.3: the documented variables, and their defaults."""
    env = {"AMBASSADOR_SECRET_KEY": "k" * 40, "AMBASSADOR_BASE_URL": "http://x"}
    default = read_settings(env)
    chosen = read_settings(
        {**env, "AMBASSADOR_SECURITY_LOG": "syslog+tcp://10.0.0.5:6514", "AMBASSADOR_SECURITY_LOG_FACILITY": "auth"}
    )
    assert (default.security_log, default.security_log_facility) == ("stderr", "authpriv")
    assert (chosen.security_log, chosen.security_log_facility) == ("syslog+tcp://10.0.0.5:6514", "auth")
    chosen.check()


# --- no secrets or personal data --------------------------------------------------------


class Everything(logging.Handler):
    """Every record of the app's and of any library's loggers, formatted as the app writes them."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def every_record(client: Client) -> Iterator[Everything]:
    handler = Everything()
    loggers = [logging.getLogger(), logging.getLogger("ambassador")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


@pytest.fixture
def smtp() -> Iterator[tuple[RecordingHandler, str]]:
    with smtp_server() as server:
        yield server


async def test_no_password_token_email_phone_or_name_reaches_any_log(
    client: Client, settings: Settings, every_record: Everything, smtp: tuple[RecordingHandler, str], tmp_path: Path
) -> None:
    """ASVS 16.2.5 (F9): a failed login, a password reset, a nomination with its personal
    data, the mailed confirmation and manage links and an attachment download leave no
    password, token, email address, phone number, name or description in any log record."""
    handler, smtp_url = smtp
    wrong_password = "Wrong-Password-4711"
    new_password = "A-new-Passphrase-0815"
    await make_user("known.person@example.org", (Role.CLERK,), name="Zofia Tajemnicza")
    assert (await login(client, "known.person@example.org", wrong_password)).status_code == 400
    assert (await login(client, "nobody.here@example.org", wrong_password)).status_code == 400

    assert (await post_form(client, "/password/forgot", {"email": "known.person@example.org"})).status_code == 302
    assert await account_links.process_reset_requests(policy=throttle_policy(settings)) == 1  # the mail sender's step
    await deliver(smtp_url, tmp_path)
    reset = mailed_path(handler.messages, "known.person@example.org", r"/password/reset\?token=[\w-]+")
    reset_token = reset.split("=", 1)[1]
    assert (await client.get(reset)).status_code == 200
    changed = await post_form(
        client, "/password/reset", {"token": reset_token, "password": new_password, "password_again": new_password}
    )
    assert changed.status_code == 302
    assert (await login(client, "known.person@example.org", new_password)).status_code == 302

    await make_edition()
    form = FormPage((await client.get("/pl/nominate")).text)
    assert (await send_form(client, "/nominate", form.fields(), pdf_file())).status_code == 303
    await deliver(smtp_url, tmp_path)
    confirm = mailed_path(handler.messages, "anna@example.org", r"/n/confirm/[\w-]+")
    assert (await client.get(confirm)).status_code == 200
    assert (await post_form(client, confirm, {})).status_code == 200
    await deliver(smtp_url, tmp_path)
    manage = mailed_path(handler.messages, "anna@example.org", r"/n/[\w-]{30,}")
    page = await client.get(manage)
    assert page.status_code == 200
    [attachment] = re.findall(rf'href="({re.escape(manage)}/attachments/\d+)"', page.text)
    assert (await client.get(attachment)).status_code == 200
    consent = mailed_path(handler.messages, "olena@example.org", r"/consent/[\w-]+")
    assert (await client.get(consent)).status_code == 200

    secrets_and_personal_data = [
        PASSWORD,
        wrong_password,
        new_password,
        reset_token,
        confirm.rsplit("/", 1)[1],
        manage.rsplit("/", 1)[1],
        consent.rsplit("/", 1)[1],
        "known.person",
        "nobody.here",
        "anna@example.org",
        "olena@example.org",
        "Zofia Tajemnicza",
        "Olena Kovalenko",
        "Anna Nowak",
        "345 67 89",
        "Fundacja Przykładowa",
        "bilingual reading club",
        "intercultural choir",
    ]
    requests = [json.loads(line) for line in every_record.lines if '"logger": "ambassador.request"' in line]
    assert [(entry["method"], entry["path"], entry["status"]) for entry in requests] == [
        ("GET", "/login", 200),
        ("POST", "/login", 400),
        ("POST", "/login", 400),
        ("POST", "/password/forgot", 302),
        ("GET", "/password/reset", 200),
        ("POST", "/password/reset", 302),
        ("POST", "/login", 302),
        ("GET", "/pl/nominate", 200),
        ("POST", "/nominate", 303),
        ("GET", "/n/confirm/<token>", 200),
        ("POST", "/n/confirm/<token>", 200),
        ("GET", "/n/<token>", 200),
        ("GET", "/n/<token>/attachments/" + attachment.rsplit("/", 1)[1], 200),
        ("GET", "/consent/<token>", 200),
    ]
    found = {value for value in secrets_and_personal_data for line in every_record.lines if value in line}
    assert found == set()


class RefusingHandler:
    """An SMTP server that refuses every recipient, quoting the address as Postfix does."""

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: object, session: object, envelope: object, address: str, rcpt_options: list[str]
    ) -> str:
        return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in local recipient table"


async def test_an_email_address_in_a_mail_servers_refusal_is_masked_in_the_log(
    client: Client, settings: Settings, stderr_log: StderrLog
) -> None:
    """ASVS 16.2.5: a real SMTP server's refusal quotes the recipient; the warning logs the
    reason with the address masked (the formatter's last guard)."""
    controller = Controller(RefusingHandler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        await outbox.queue_mail(to="olena@example.org", subject="Consent", body="link", language="en")
        report = await outbox.sender_for(settings.with_changes(smtp_url=f"smtp://127.0.0.1:{controller.port}")).run()
    finally:
        controller.stop()

    assert report.failed == 1
    [warning] = [entry for entry in stderr_log.read() if entry["message"] == "mail not delivered"]
    assert warning["reason"] == (
        "SMTPRecipientRefused: (550, '5.1.1 <<email>>: Recipient address rejected: "
        "User unknown in local recipient table', '<email>')"
    )
    assert all("olena" not in line for line in stderr_log.lines)
