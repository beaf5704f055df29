"""The database's content: ``migrate``, ``dev-setup`` (first run in development), ``laureates import``."""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ambassador.cli.output import fail, say
from ambassador.enums import Role

if TYPE_CHECKING:
    from ambassador.settings import Settings


async def migrate() -> int:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from ambassador import db

    result = await run_forwards("all")
    if not result.success:
        return fail(f"migrations failed: {result.message}")
    await db.prepare()
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
    # Said only when it happened: a database that imported an older file, brought up to date.
    updated = f", {report.updated} given the citations they lacked" if report.updated else ""
    renamed = f", {report.editions_renamed} editions renamed without their label" if report.editions_renamed else ""
    say(
        f"{report.created} laureates imported, {report.unchanged} already present{updated}, "
        f"{report.editions_created} editions created{renamed}, {len(report.errors)} lines with errors"
    )


async def laureates_import(args: argparse.Namespace) -> int:
    from ambassador.domain import laureate_import

    if (args.file is None) == (not args.shipped):
        return fail("give either a CSV file or --shipped (the record of earlier editions that comes with the app)")
    source = laureate_import.SHIPPED if args.shipped else Path(args.file)
    report = await laureate_import.import_file(source, progress=_progress_bar)
    _print_import(report)
    return 1 if report.errors else 0


async def dev_setup(_: argparse.Namespace) -> int:
    """First run only: a development admin, demo staff (passwords printed once), demo edition."""
    from ambassador import demo
    from ambassador.domain import accounts, categories
    from ambassador.settings import load_settings

    settings = load_settings()
    if settings.production:
        return fail("dev-setup is for development only")
    if await accounts.count_accounts() == 0:
        await _dev_accounts(settings)
    else:
        say("development accounts already present")
    created = await demo.load_demo_edition(base_url=settings.base_url, categories=categories.installation_defaults())
    say(f"demo edition {created} created with nominations" if created else "demo edition already present")
    from ambassador.domain import laureate_import

    say("laureates of earlier editions (shipped record):")
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
    say("Development accounts (shown once; change them under My account):")
    for email, name, roles in people:
        password = secrets.token_urlsafe(12)
        await accounts.create_user(
            email=email,
            display_name=name,
            roles=roles,
            actor_id=None,
            password_hash=await passwords.hash(password),
        )
        say(f"  {','.join(sorted(roles)):6}  {email}  {password}")
