"""The ``ambassador`` command: serving, deploy check, migrations, accounts, audit, mail, backups, dev set-up."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import secrets
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ambassador.enums import Role

if TYPE_CHECKING:
    from ambassador.settings import Settings


def _print(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _fail(text: str, code: int = 1) -> int:
    sys.stderr.write(text + "\n")
    return code


def _quiet_security_log() -> None:
    """The audit commands say their result in one line themselves: no bare security-log line too."""
    logging.getLogger("ambassador.security").addHandler(logging.NullHandler())


async def _migrate() -> int:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from ambassador import db

    result = await run_forwards("all")
    if not result.success:
        return _fail(f"migrations failed: {result.message}")
    await db.prepare()
    return 0


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password again: "):
        raise ValueError("The two passwords are not the same.")
    return first


async def _users_create(args: argparse.Namespace) -> int:
    from ambassador.domain import accounts
    from ambassador.errors import InvalidInput
    from ambassador.passwords import Passwords
    from ambassador.settings import load_settings

    settings = load_settings()
    try:
        password = _read_password()
    except ValueError as exc:
        return _fail(str(exc))
    if problem := accounts.password_error(password, args.email):
        return _fail(problem)
    password_hash = await Passwords(settings.argon2).hash(password)
    try:
        account = await accounts.create_user(
            email=args.email,
            display_name=args.name or args.email.split("@")[0],
            roles=frozenset(Role(r) for r in args.role),
            actor_id=None,
            password_hash=password_hash,
        )
    except InvalidInput as exc:
        return _fail("; ".join(f"{k}: {v}" for k, v in exc.errors.items()))
    _print(f"created user {account.id} <{account.email}> roles={','.join(sorted(account.roles))}")
    return 0


async def _users_list(_: argparse.Namespace) -> int:
    from ambassador.domain import accounts

    for account in await accounts.list_accounts():
        state = "active" if account.is_active else "inactive"
        totp = "totp" if account.totp_enabled else "-"
        _print(f"{account.id}\t{account.email}\t{','.join(sorted(account.roles))}\t{state}\t{totp}")
    return 0


async def _audit_verify(_: argparse.Namespace) -> int:
    """The chain with the keys, then the newest valid anchor: exit 0 intact, 2 broken (one line each)."""
    from ambassador.domain import audit

    _quiet_security_log()
    report = await audit.verify_chain()
    if not report.chain_ok:
        return _fail(
            f"audit chain BROKEN at entry {report.broken_at}: {report.reason} "
            f"({report.checked} entries before it verified)",
            code=2,
        )
    anchor = report.anchor
    assert anchor is not None  # verify_chain checks the anchor unless told not to
    for line in anchor.bad_lines:
        sys.stderr.write(f"audit anchor BROKEN: {line}\n")
    if anchor.problem:
        sys.stderr.write(f"audit anchor BROKEN: {anchor.problem}\n")
    if not anchor.ok:
        return 2
    if anchor.anchor is None:
        where = f"no anchor in {anchor.path} yet: deleting the newest entries would go unnoticed"
    else:
        where = f"entry {anchor.anchor.entry_id} matches the anchor of {anchor.anchor.at}"
    _print(f"audit chain intact: {report.checked} entries verified; {where}")
    return 0


async def _audit_anchor(_: argparse.Namespace) -> int:
    """Append the head to the signed anchor file (and mail it to the admins once a day if asked)."""
    from ambassador.domain import audit

    _quiet_security_log()
    try:
        run = await audit.anchor_now()
    except audit.AnchorRefused as exc:
        return _fail(f"audit anchor REFUSED: {exc}", code=2)
    path = audit.config().anchor_file
    if run.written is not None:
        _print(f"anchored entry {run.written.entry_id} in {path}")
    elif run.newest is not None:
        _print(f"the head has not moved since the anchor of entry {run.newest.entry_id} in {path}")
    else:
        _print("the audit log is empty: nothing to anchor")
    if run.mailed:
        _print(f"anchor mailed to {run.mailed} admins")
    return 0


async def _mail_send(args: argparse.Namespace) -> int:
    """Deliver what is due and exit; with ``--loop``, keep sending until SIGTERM or SIGINT.

    On the signal the mails being delivered finish, claimed ones not begun are given back,
    the SMTP connections are closed, and the exit status is 0 (a systemd stop).
    """
    from ambassador.domain import outbox
    from ambassador.logs import configure_logging
    from ambassador.settings import load_settings

    settings = load_settings()
    sender = outbox.sender_for(settings)
    if not args.loop:
        report = await sender.run()
        _print(f"sent {report.sent}, failed {report.failed}, gave up {report.gave_up}")
        return 0 if report.failed == 0 else 1
    configure_logging()
    log = logging.getLogger("ambassador.outbox")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "mail sender started",
        extra={
            "transport": "smtp" if settings.smtp_url else "files",
            "rate": settings.mail_rate,
            "concurrency": settings.mail_concurrency,
            "poll_seconds": settings.mail_poll_seconds,
        },
    )
    report = await sender.run(stop)
    log.info(
        "mail sender stopped",
        extra={"sent": report.sent, "failed": report.failed, "gave_up": report.gave_up, "released": report.released},
    )
    return 0


async def _retention_run(args: argparse.Namespace) -> int:
    from ambassador.domain import retention

    report = await retention.run(dry_run=args.dry_run)
    verb = "would anonymise" if report.dry_run else "anonymised"
    for edition in report.editions:
        _print(
            f"{edition.label}: {verb} {edition.anonymised} nominations of non-laureates "
            f"(retention ended {edition.due_at:%Y-%m-%d})"
        )
    if not report.editions:
        _print("no edition has personal data past its retention period")
    erased = "would erase" if report.dry_run else "erased"
    _print(f"{erased} {report.unconfirmed_erased} unconfirmed nominations older than 72 hours")
    return 0


async def _backup(args: argparse.Namespace) -> int:
    from ambassador import backup
    from ambassador.settings import load_settings

    settings = load_settings()
    try:
        made = await backup.backup(settings, Path(args.file) if args.file else None, force=args.force)
    except backup.BackupError as exc:
        return _fail(f"backup refused: {exc}")
    except backup.VerificationFailed as exc:
        return _fail(f"backup FAILED: {exc}", code=2)
    _print(f"backup of {backup.database_label(settings)} written to {made.path}")
    _print(f"size: {made.size} bytes")
    _print(f"sha256: {made.sha256}")
    return 0


async def _restore(args: argparse.Namespace) -> int:
    from ambassador import backup
    from ambassador.settings import load_settings

    settings = load_settings()
    try:
        report = await backup.restore(settings, Path(args.file), yes=args.yes)
    except backup.BackupError as exc:
        return _fail(f"restore refused: {exc}")
    except backup.VerificationFailed as exc:
        return _fail(f"restore FAILED: {exc}", code=2)
    source = report.source
    _print(f"restored {source.path} ({source.size} bytes, sha256 {source.sha256}) into {report.database}")
    if report.integrity is not None:
        _print(f"integrity_check: {report.integrity}")
    if report.chain is None:
        _print(
            f"the backup predates {len(report.pending_migrations)} migrations of this code: "
            "run `ambassador migrate`, then `ambassador audit verify`, before starting the app"
        )
    elif report.chain.ok:
        _print(f"audit chain intact: {report.chain.checked} entries verified")
    else:
        sys.stderr.write(
            f"audit chain BROKEN at entry {report.chain.broken_at}: {report.chain.reason} "
            f"({report.chain.checked} entries before it verified)\n"
        )
    if not report.ok:
        return _fail("restore FAILED verification: the restored data is damaged; restore another backup", code=2)
    return 0


def _progress_bar(done: int, total: int) -> None:
    """A progress bar on a terminal; nothing when the output is a file or a pipe."""
    if not sys.stdout.isatty() or total == 0:
        return
    width = 30
    filled = width * done // total
    sys.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done == total:
        sys.stdout.write("\n")
    sys.stdout.flush()


def _print_import(report: Any) -> None:
    for line, problem in report.errors:
        sys.stderr.write(f"line {line}: {problem}\n")
    _print(
        f"{report.created} laureates imported, {report.unchanged} already present, "
        f"{report.editions_created} editions created, {len(report.errors)} lines with errors"
    )


async def _laureates_import(args: argparse.Namespace) -> int:
    from ambassador.domain import laureate_import

    if (args.file is None) == (not args.shipped):
        return _fail("give either a CSV file or --shipped (the record of earlier editions that comes with the app)")
    source = laureate_import.SHIPPED if args.shipped else Path(args.file)
    report = await laureate_import.import_file(source, progress=_progress_bar)
    _print_import(report)
    return 1 if report.errors else 0


async def _dev_setup(_: argparse.Namespace) -> int:
    """First run only: a development admin, demo staff (passwords printed once), demo edition."""
    from ambassador import demo
    from ambassador.domain import accounts
    from ambassador.settings import load_settings

    settings = load_settings()
    if settings.production:
        return _fail("dev-setup is for development only")
    if await accounts.count_accounts() == 0:
        await _dev_accounts(settings)
    else:
        _print("development accounts already present")
    created = await demo.load_demo_edition(base_url=settings.base_url)
    _print(f"demo edition {created} created with nominations" if created else "demo edition already present")
    from ambassador.domain import laureate_import

    _print("laureates of earlier editions (shipped record):")
    _print_import(await laureate_import.import_file(laureate_import.SHIPPED))
    return 0


async def _dev_accounts(settings: Settings) -> None:
    from ambassador.domain import accounts
    from ambassador.passwords import Passwords

    passwords = Passwords(settings.argon2)
    people = [
        ("admin@example.org", "Development Admin", frozenset({Role.ADMIN})),
        ("clerk@example.org", "Demo Clerk", frozenset({Role.CLERK})),
        ("juror@example.org", "Demo Juror", frozenset({Role.JUROR})),
    ]
    _print("Development accounts (shown once; change them under My account):")
    for email, name, roles in people:
        password = secrets.token_urlsafe(12)
        await accounts.create_user(
            email=email,
            display_name=name,
            roles=roles,
            actor_id=None,
            password_hash=await passwords.hash(password),
        )
        _print(f"  {','.join(sorted(roles)):6}  {email}  {password}")


APP_FACTORY = "ambassador.web.app:create_app"


def prepare_before_workers(settings: Settings) -> None:
    """Run by ``serve`` once before the workers start, before anything imports prometheus_client.

    The workers inherit ``PROMETHEUS_MULTIPROC_DIR`` and count into its files; the last run's
    files are removed (ambassador.metrics).
    """
    from ambassador import metrics

    metrics.prepare_multiprocess_dir(settings)


def _serve(args: argparse.Namespace) -> int:
    """uvicorn with its own proxy-header handling off: ForwardedMiddleware decides whom to trust.

    The host and port actually served go into the workers' environment (AMBASSADOR_HOST,
    AMBASSADOR_PORT, PORT), where development settings derive the base URL from them.
    """
    import uvicorn

    from ambassador.settings import ConfigurationError, listen_address, load_settings

    try:
        default_host, default_port = listen_address(dict(os.environ))
        workers = args.workers or _positive(os.environ.get("AMBASSADOR_WORKERS"), "AMBASSADOR_WORKERS")
    except ConfigurationError as exc:
        return _fail(str(exc))
    host = args.host or default_host
    port = args.port or default_port
    os.environ.update({"AMBASSADOR_HOST": host, "AMBASSADOR_PORT": str(port), "PORT": str(port)})
    try:
        # Once here: a refused configuration is said once, and the development secret is
        # written by this process, not raced for by the workers.
        settings = load_settings()
    except ConfigurationError as exc:
        return _fail(f"refusing to start: {exc}")
    prepare_before_workers(settings)
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        access_log=False,  # RequestLogMiddleware logs every request, with the client's address
        server_header=False,
    )
    return 0


def _positive(raw: str | None, name: str) -> int:
    from ambassador.settings import ConfigurationError

    if not raw:
        return 1
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigurationError(f"{name} must be a whole number of 1 or more, got {raw!r}")
    return int(raw)


def _check(args: argparse.Namespace) -> int:
    """``check --deploy``: one line per problem; exit 1 when any is an error."""
    from ambassador import deploycheck
    from ambassador.settings import ConfigurationError, read_settings

    if not args.deploy:
        return _fail("say what to check: `ambassador check --deploy`", code=2)
    try:
        settings = read_settings()
    except ConfigurationError as exc:
        _print(f"ERROR: [settings] {exc}")
        return 1
    findings = asyncio.run(deploycheck.check_deploy(settings))
    for finding in findings:
        _print(finding.line())
    errors = sum(finding.level == "ERROR" for finding in findings)
    warnings = len(findings) - errors
    _print(f"{errors} error{'' if errors == 1 else 's'}, {warnings} warning{'' if warnings == 1 else 's'}")
    return 1 if errors else 0


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"not a port number (1 to 65535): {text!r}")
    return int(text)


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a whole number of 1 or more: {text!r}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ambassador", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the app (uvicorn; X-Forwarded-* only from AMBASSADOR_TRUSTED_PROXIES)")
    serve.add_argument("--host", help="address to listen on (default AMBASSADOR_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="port (default PORT, else AMBASSADOR_PORT, else 8000)")
    serve.add_argument("--workers", type=_count, help="worker processes (default AMBASSADOR_WORKERS or 1)")
    check = sub.add_parser("check", help="check the configuration")
    check.add_argument(
        "--deploy", action="store_true", help="what is unsafe or missing for production; exit 1 on any error"
    )
    sub.add_parser("migrate", help="apply the database migrations")
    sub.add_parser("dev-setup", help="first run: development admin and demo data")

    users = sub.add_parser("users", help="staff accounts").add_subparsers(dest="action", required=True)
    create = users.add_parser("create", help="create an account (password from stdin if piped)")
    create.add_argument("email")
    create.add_argument("--role", action="append", choices=[r.value for r in Role], required=True)
    create.add_argument("--name", default="")
    users.add_parser("list", help="list the accounts")

    audit = sub.add_parser("audit", help="the audit log").add_subparsers(dest="action", required=True)
    audit.add_parser("verify", help="check the keyed chain and the newest anchor; exit 2 when broken")
    audit.add_parser("anchor", help="append the log's head to the signed anchor file (AMBASSADOR_AUDIT_ANCHOR_FILE)")

    mail = sub.add_parser("mail", help="the mail outbox").add_subparsers(dest="action", required=True)
    send = mail.add_parser("send", help="deliver the mails that are due")
    send.add_argument("--loop", action="store_true", help="keep sending until SIGTERM/SIGINT (the mail service)")

    retention = sub.add_parser("retention", help="personal data past its retention period")
    retention_run = retention.add_subparsers(dest="action", required=True).add_parser(
        "run", help="anonymise non-laureates' data whose retention period ended; erase expired unconfirmed"
    )
    retention_run.add_argument("--dry-run", action="store_true", help="only say what would be done")

    backup = sub.add_parser("backup", help="copy the database to a file (safe while the app runs)")
    backup.add_argument(
        "file", nargs="?", help="default: var/backups/ambassador-<UTC time>.sqlite3 (.dump on PostgreSQL)"
    )
    backup.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    restore = sub.add_parser("restore", help="replace the database with a backup (stop the app first)")
    restore.add_argument("file", help="a file written by `ambassador backup`")
    restore.add_argument("--yes", action="store_true", help="replace a database that has data")

    laureates = sub.add_parser("laureates", help="the laureates of earlier editions")
    importer = laureates.add_subparsers(dest="action", required=True).add_parser(
        "import", help="import laureates from a CSV file (idempotent; errors reported by line)"
    )
    importer.add_argument("file", nargs="?", help="CSV with columns edition,category,distinction,name,citation,source")
    importer.add_argument(
        "--shipped", action="store_true", help="import the laureates of earlier editions that come with the app"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "check":
        return _check(args)
    handlers = {
        ("migrate", None): lambda _: _migrate(),
        ("dev-setup", None): _dev_setup,
        ("users", "create"): _users_create,
        ("users", "list"): _users_list,
        ("audit", "verify"): _audit_verify,
        ("audit", "anchor"): _audit_anchor,
        ("mail", "send"): _mail_send,
        ("retention", "run"): _retention_run,
        ("laureates", "import"): _laureates_import,
        ("backup", None): _backup,
        ("restore", None): _restore,
    }
    handler = handlers[(args.command, getattr(args, "action", None))]

    async def command() -> int:
        from ambassador import db

        try:
            return await handler(args)
        finally:
            # SQLite's open connections closed: the last one out folds the WAL into the file.
            await db.close_connections()

    try:
        return asyncio.run(command())
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
