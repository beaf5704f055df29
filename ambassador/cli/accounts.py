"""``users create`` and ``users list``: staff accounts from the command line."""

from __future__ import annotations

import argparse
import getpass
import sys

from ambassador.cli.output import fail, say
from ambassador.enums import Role


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password again: "):
        raise ValueError("The two passwords are not the same.")
    return first


def _english(message: str) -> str:
    """A domain message as the command line shows it: the English text, its limits filled in."""
    from ambassador import i18n

    return i18n.translate("en", message, **getattr(message, "params", {}))


async def create(args: argparse.Namespace) -> int:
    from ambassador.domain import accounts
    from ambassador.errors import InvalidInput
    from ambassador.passwords import Passwords
    from ambassador.settings import load_settings

    settings = load_settings()
    try:
        password = _read_password()
    except ValueError as exc:
        return fail(str(exc))
    if problem := accounts.password_error(password, args.email):
        return fail(_english(problem))
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
        return fail("; ".join(f"{k}: {_english(v)}" for k, v in exc.errors.items()))
    say(f"created user {account.id} <{account.email}> roles={','.join(sorted(account.roles))}")
    return 0


async def list_users(_: argparse.Namespace) -> int:
    from ambassador.domain import accounts

    for account in await accounts.list_accounts():
        state = "active" if account.is_active else "inactive"
        totp = "totp" if account.totp_enabled else "-"
        say(f"{account.id}\t{account.email}\t{','.join(sorted(account.roles))}\t{state}\t{totp}")
    return 0
