"""Staff accounts: who they are, their roles, creation, (de)activation and language.

Every change runs in one write transaction that also writes its audit entry. Signing in is
``signin``, its limits ``login_limits``, the second factor ``second_factor``, the emailed
links (invitations, resets) ``account_links``: docs/authentication.md.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from ambassador.db import unique_or, write_transaction
from ambassador.domain import audit
from ambassador.enums import LANGUAGES, Role
from ambassador.errors import (
    N_,
    InvalidInput,
    Message,
    NotFound,
)
from ambassador.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from ambassador.tables import User, UserRole

EMAIL_RE = re.compile(r"^[^@\s<>\"',;]{1,64}@[^@\s<>\"',;]{1,190}\.[^@\s<>\"',;.]{2,63}$")


MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class Account:
    """What the rest of the app may know about a staff user (never the hashes)."""

    id: int
    email: str
    display_name: str
    roles: frozenset[Role]
    is_active: bool
    totp_enabled: bool
    session_epoch: int
    language: str
    has_password: bool
    last_login_at: dt.datetime | None = None

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_staff(self) -> bool:
        return bool(self.roles)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_error(email: str) -> str | None:
    if not email:
        return N_("Enter an email address.")
    if len(email) > 254 or not EMAIL_RE.match(email):
        return N_("Enter a valid email address, like name@example.org.")
    return None


def password_error(password: str, email: str = "") -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return Message(N_("The password must have at least %(limit)d characters."), limit=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return Message(N_("The password may have at most %(limit)d characters."), limit=MAX_PASSWORD_LENGTH)
    if email and password.strip().lower() == email.lower():
        return N_("The password must not be your email address.")
    return None


def name_error(name: str) -> str | None:
    if not name.strip():
        return N_("Enter a name.")
    if len(name) > MAX_NAME_LENGTH:
        return Message(N_("The name may have at most %(limit)d characters."), limit=MAX_NAME_LENGTH)
    return None


async def audit_user(action: str, user_id: int, actor_id: int | None, **data: Any) -> None:
    """Audit an event about one account (the subject is the user)."""
    await audit.record(action, actor_id=actor_id, object_type="user", object_id=user_id, data=data)


async def roles_of(user_ids: list[int]) -> dict[int, frozenset[Role]]:
    if not user_ids:
        return {}
    rows = await UserRole.select(UserRole.user, UserRole.role).where(UserRole.user.is_in(user_ids))
    found: dict[int, set[Role]] = {uid: set() for uid in user_ids}
    for row in rows:
        found[row["user"]].add(Role(row["role"]))
    return {uid: frozenset(roles) for uid, roles in found.items()}


def account_from_row(row: dict[str, Any], roles: frozenset[Role]) -> Account:
    return Account(
        id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        roles=roles,
        is_active=row["is_active"],
        totp_enabled=bool(row["totp_secret"]),
        session_epoch=row["session_epoch"],
        language=row["language"],
        has_password=bool(row["password_hash"]),
        last_login_at=row["last_login_at"],
    )


async def get_account(user_id: int) -> Account | None:
    row = await User.select().where(User.id == user_id).first()
    if row is None:
        return None
    return account_from_row(row, (await roles_of([user_id]))[user_id])


async def require_account(user_id: int) -> Account:
    account = await get_account(user_id)
    if account is None:
        raise NotFound()
    return account


async def list_accounts() -> list[Account]:
    rows = await User.select().order_by(User.email)
    roles = await roles_of([row["id"] for row in rows])
    return [account_from_row(row, roles[row["id"]]) for row in rows]


async def count_accounts() -> int:
    return int(await User.count())


def _validate_new_user(email: str, display_name: str, language: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if problem := email_error(email):
        errors["email"] = problem
    if problem := name_error(display_name):
        errors["display_name"] = problem
    if language not in LANGUAGES:
        errors["language"] = N_("Choose one of the offered languages.")
    return errors


EMAIL_TAKEN = N_("An account with this email already exists.")


async def create_user(
    *,
    email: str,
    display_name: str,
    roles: frozenset[Role],
    actor_id: int | None,
    password_hash: str = "",
    language: str = "pl",
) -> Account:
    """Create a staff account; the email is unique (checked by the database)."""
    email = normalise_email(email)
    display_name = display_name.strip()
    errors = _validate_new_user(email, display_name, language)
    if errors:
        raise InvalidInput(errors)
    async with (
        unique_or(InvalidInput({"email": N_("An account with this email already exists.")})),
        write_transaction(),
    ):
        user = User(
            email=email,
            display_name=display_name,
            password_hash=password_hash,
            language=language,
        )
        await user.save()
        for role in sorted(roles):
            await UserRole(user=user.id, role=role.value).save()
        await audit_user("user.created", user.id, actor_id, roles=sorted(r.value for r in roles))
    return await require_account(user.id)


async def set_roles(*, actor_id: int, user_id: int, roles: frozenset[Role]) -> Account:
    """Replace a user's roles; their sessions end (privilege changed)."""
    before = await require_account(user_id)
    if before.roles == roles:
        return before
    if Role.ADMIN in before.roles and Role.ADMIN not in roles and await _last_admin(user_id):
        raise InvalidInput({"roles": N_("The last active administrator cannot lose the role.")})
    async with write_transaction():
        await UserRole.delete().where(UserRole.user == user_id)
        for role in sorted(roles):
            await UserRole(user=user_id, role=role.value).save()
        await User.update({User.session_epoch: User.session_epoch + 1}).where(User.id == user_id)
        await audit_user(
            "user.roles_changed",
            user_id,
            actor_id,
            old=sorted(r.value for r in before.roles),
            new=sorted(r.value for r in roles),
        )
    return await require_account(user_id)


async def _last_admin(user_id: int) -> bool:
    admins = await UserRole.select(UserRole.user).where(
        (UserRole.role == Role.ADMIN.value) & (UserRole.user.is_active == True)  # noqa: E712
    )
    return {row["user"] for row in admins} == {user_id}


async def set_active(*, actor_id: int, user_id: int, active: bool) -> Account:
    """Deactivate or reactivate an account; deactivation ends its sessions."""
    before = await require_account(user_id)
    if before.is_active == active:
        return before
    if not active and Role.ADMIN in before.roles and await _last_admin(user_id):
        raise InvalidInput({"active": N_("The last active administrator cannot be deactivated.")})
    async with write_transaction():
        await User.update({User.is_active: active, User.session_epoch: User.session_epoch + 1}).where(
            User.id == user_id
        )
        await audit_user("user.activated" if active else "user.deactivated", user_id, actor_id)
    return await require_account(user_id)


async def set_language(*, user_id: int, language: str) -> Account:
    """The language of the mails an account receives."""
    if language not in LANGUAGES:
        raise InvalidInput({"language": N_("Choose one of the offered languages.")})
    async with write_transaction():
        await User.update({User.language: language}).where(User.id == user_id)
        await audit_user("user.language_changed", user_id, user_id, language=language)
    return await require_account(user_id)
