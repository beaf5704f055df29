"""The ``ambassador`` command: serving, deploy check, migrations, accounts, audit, mail, backups, dev set-up.

The parser and the dispatch live here; each group of commands is a module of this package:
``server`` (serve, check), ``data`` (migrate, dev-setup, laureates import), ``accounts``
(users), ``audit``, ``operations`` (mail send, mail schedule, retention run, backup, restore).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Sequence

from ambassador.cli.accounts import create as create_user
from ambassador.cli.accounts import list_users
from ambassador.cli.audit import anchor as anchor_audit
from ambassador.cli.audit import verify as verify_audit
from ambassador.cli.data import dev_setup, laureates_import, migrate
from ambassador.cli.operations import mail_schedule, mail_send, make_backup, restore_backup, retention_run
from ambassador.cli.output import fail
from ambassador.cli.server import check, port_number, positive_count, serve
from ambassador.enums import Role


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ambassador", description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serving = sub.add_parser(
        "serve", help="serve the app (uvicorn; X-Forwarded-* only from AMBASSADOR_TRUSTED_PROXIES)"
    )
    serving.add_argument("--host", help="address to listen on (default AMBASSADOR_HOST or 127.0.0.1)")
    serving.add_argument("--port", type=port_number, help="port (default PORT, else AMBASSADOR_PORT, else 8000)")
    serving.add_argument("--workers", type=positive_count, help="worker processes (default AMBASSADOR_WORKERS or 1)")
    checking = sub.add_parser("check", help="check the configuration")
    checking.add_argument(
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
    mail.add_parser(
        "schedule", help="queue the scheduled mails that are due (scoring reminders); idempotent, for a cron"
    )

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


def _activate_honour() -> int:
    """The installation's honour, for the mails and records a command makes (as the app does).

    A bad file refuses every command with the line ``serve`` and ``check --deploy`` give.
    """
    from ambassador import honour
    from ambassador.settings import honour_file

    try:
        honour.activate(honour.load(honour_file(dict(os.environ))))
    except honour.HonourError as exc:
        return fail(f"AMBASSADOR_HONOUR_FILE: {exc}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "check":
        return check(args)
    handlers = {
        ("migrate", None): lambda _: migrate(),
        ("dev-setup", None): dev_setup,
        ("users", "create"): create_user,
        ("users", "list"): list_users,
        ("audit", "verify"): verify_audit,
        ("audit", "anchor"): anchor_audit,
        ("mail", "send"): mail_send,
        ("mail", "schedule"): mail_schedule,
        ("retention", "run"): retention_run,
        ("laureates", "import"): laureates_import,
        ("backup", None): make_backup,
        ("restore", None): restore_backup,
    }
    handler = handlers[(args.command, getattr(args, "action", None))]
    if refused := _activate_honour():
        return refused

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
