"""Real rows through the domain functions, with cheap password hashing."""

from __future__ import annotations

from ambassador.domain import accounts
from ambassador.domain.accounts import Account
from ambassador.enums import Role
from ambassador.passwords import Passwords
from tests.conftest import CHEAP_ARGON2

PASSWORD = "correct horse battery staple"
passwords = Passwords(CHEAP_ARGON2)


async def make_user(
    email: str = "juror@example.org",
    roles: tuple[Role, ...] = (Role.JUROR,),
    password: str = PASSWORD,
    name: str = "",
    language: str = "pl",
) -> Account:
    return await accounts.create_user(
        email=email,
        display_name=name or email.split("@", maxsplit=1)[0].title(),
        roles=frozenset(roles),
        actor_id=None,
        password_hash=await passwords.hash(password) if password else "",
        language=language,
    )
