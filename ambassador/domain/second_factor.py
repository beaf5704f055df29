"""The second factor (TOTP): enrolment, removal, and the roles that make it mandatory.

The login's second step, counted like a login, is ``signin.verify_totp_login``.
"""

from __future__ import annotations

import datetime as dt
import secrets

import pyotp

from ambassador.db import utcnow, write_transaction
from ambassador.domain import audit
from ambassador.domain.accounts import (
    Account,
    audit_user,
    require_account,
)
from ambassador.enums import Role
from ambassador.errors import (
    InvalidCode,
)
from ambassador.tables import RolePolicy, User, UserRole

TOTP_ISSUER = "Ambassador"


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)


def matching_step(secret: str, code: str, at: dt.datetime) -> int | None:
    """The 30-second step the code belongs to (one step of clock drift allowed)."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(at)
    for offset in (0, -1, 1):
        step = now_step + offset
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


async def totp_required_for(account: Account) -> bool:
    """Whether any of the account's roles makes a second factor mandatory."""
    if account.totp_enabled or not account.roles:
        return False
    rows = await RolePolicy.select(RolePolicy.role).where(
        (RolePolicy.totp_required == True)  # noqa: E712
        & RolePolicy.role.is_in([r.value for r in account.roles])
    )
    return bool(rows)


async def enable_totp(*, user_id: int, secret: str, code: str) -> Account:
    """Turn on the second factor after the user proved their app produces codes."""
    step = matching_step(secret, code, utcnow())
    if step is None:
        raise InvalidCode()
    async with write_transaction():
        await User.update(
            {
                User.totp_secret: secret,
                User.totp_last_step: step,
                User.session_epoch: User.session_epoch + 1,
            }
        ).where(User.id == user_id)
        await audit_user("user.totp_enabled", user_id, user_id)
    return await require_account(user_id)


async def disable_totp(*, actor_id: int, user_id: int) -> Account:
    """Remove a second factor (the user themself, or an admin for a lost phone)."""
    async with write_transaction():
        await User.update(
            {
                User.totp_secret: "",
                User.totp_last_step: 0,
                User.session_epoch: User.session_epoch + 1,
            }
        ).where(User.id == user_id)
        await audit_user("user.totp_disabled", user_id, actor_id)
    return await require_account(user_id)


async def role_policies() -> dict[Role, bool]:
    rows = await RolePolicy.select()
    found = {row["role"]: row["totp_required"] for row in rows}
    return {role: bool(found.get(role.value, False)) for role in Role}


async def set_totp_required(*, actor_id: int, role: Role, required: bool) -> None:
    """An admin makes the second factor mandatory (or optional) for everyone with a role."""
    async with write_transaction():
        existing = await RolePolicy.objects().where(RolePolicy.role == role.value).first()
        if existing is None:
            await RolePolicy(role=role.value, totp_required=required).save()
        else:
            existing.totp_required = required
            await existing.save()
        if required:
            # Holders of the role without a second factor must log in again and enrol.
            holders = await UserRole.select(UserRole.user).where(UserRole.role == role.value)
            ids = [row["user"] for row in holders]
            if ids:
                await User.update({User.session_epoch: User.session_epoch + 1}).where(
                    User.id.is_in(ids) & (User.totp_secret == "")
                )
        await audit.record(
            "policy.totp_required",
            actor_id=actor_id,
            object_type="role",
            object_id=role.value,
            data={"required": required},
        )
