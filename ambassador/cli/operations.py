"""Running the service: ``mail send``, ``mail schedule``, ``retention run``, ``backup`` and ``restore``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from ambassador.cli.output import fail, say


async def mail_send(args: argparse.Namespace) -> int:
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
        say(f"sent {report.sent}, failed {report.failed}, gave up {report.gave_up}")
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


async def mail_schedule(_args: argparse.Namespace) -> int:
    """Queue the scheduled mails that are due now (the mail sender also does it before each claim)."""
    from ambassador.domain import mail_schedule as schedule
    from ambassador.settings import load_settings

    queued = await schedule.queue_due(base_url=load_settings().base_url)
    say(f"queued {queued} scheduled mails")
    return 0


async def retention_run(args: argparse.Namespace) -> int:
    from ambassador.domain import retention

    report = await retention.run(dry_run=args.dry_run)
    verb = "would anonymise" if report.dry_run else "anonymised"
    for edition in report.editions:
        say(
            f"{edition.label}: {verb} {edition.anonymised} nominations of non-laureates "
            f"(retention ended {edition.due_at:%Y-%m-%d})"
        )
    if not report.editions:
        say("no edition has personal data past its retention period")
    erased = "would erase" if report.dry_run else "erased"
    say(f"{erased} {report.unconfirmed_erased} unconfirmed nominations older than 72 hours")
    say(f"{erased} {report.held_files_erased} expired held files of forms never sent")
    say(f"{erased} {report.drafts_erased} drafts of forms whose nomination window has closed")
    return 0


async def make_backup(args: argparse.Namespace) -> int:
    from ambassador import backup
    from ambassador.settings import load_settings

    settings = load_settings()
    try:
        made = await backup.backup(settings, Path(args.file) if args.file else None, force=args.force)
    except backup.BackupError as exc:
        return fail(f"backup refused: {exc}")
    except backup.VerificationFailed as exc:
        return fail(f"backup FAILED: {exc}", code=2)
    say(f"backup of {backup.database_label(settings)} written to {made.path}")
    say(f"size: {made.size} bytes")
    say(f"sha256: {made.sha256}")
    return 0


async def restore_backup(args: argparse.Namespace) -> int:
    from ambassador import backup
    from ambassador.settings import load_settings

    settings = load_settings()
    try:
        report = await backup.restore(settings, Path(args.file), yes=args.yes)
    except backup.BackupError as exc:
        return fail(f"restore refused: {exc}")
    except backup.VerificationFailed as exc:
        return fail(f"restore FAILED: {exc}", code=2)
    source = report.source
    say(f"restored {source.path} ({source.size} bytes, sha256 {source.sha256}) into {report.database}")
    if report.integrity is not None:
        say(f"integrity_check: {report.integrity}")
    if report.chain is None:
        say(
            f"the backup predates {len(report.pending_migrations)} migrations of this code: "
            "run `ambassador migrate`, then `ambassador audit verify`, before starting the app"
        )
    elif report.chain.ok:
        say(f"audit chain intact: {report.chain.checked} entries verified")
    else:
        sys.stderr.write(
            f"audit chain BROKEN at entry {report.chain.broken_at}: {report.chain.reason} "
            f"({report.chain.checked} entries before it verified)\n"
        )
    if not report.ok:
        return fail("restore FAILED verification: the restored data is damaged; restore another backup", code=2)
    return 0
