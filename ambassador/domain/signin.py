"""Signing in: the password, the second step, the unlock link, re-authentication, one's
own password change.

Unknown emails and wrong passwords take the same path and the same time. Every attempt is
counted first (``login_limits``); the device cookie and the unlock link: docs/authentication.md.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from ambassador import security_log
from ambassador.db import utcnow, write_transaction
from ambassador.domain import audit, throttle
from ambassador.domain.account_links import (
    PASSWORD_LINKS,
    issue_token,
    link_mail_body,
    revoke_links,
    token_is_valid,
    use_token,
)
from ambassador.domain.accounts import (
    Account,
    account_from_row,
    audit_user,
    normalise_email,
    password_error,
    require_account,
    roles_of,
)
from ambassador.domain.login_limits import (
    ThrottlePolicy,
    account_limit_key,
    address_limit_key,
    admit,
    admit_user,
    limit_key,
    slow_lane,
    succeeded,
)
from ambassador.domain.outbox import queue_mail
from ambassador.domain.second_factor import matching_step, totp_required_for
from ambassador.enums import TokenPurpose
from ambassador.errors import (
    N_,
    InvalidCode,
    InvalidCredentials,
    InvalidInput,
    InvalidToken,
    NotFound,
)
from ambassador.i18n import translate
from ambassador.passwords import MAX_PASSWORD_LENGTH, Passwords
from ambassador.tables import User

DEVICE_COOKIE_VERSION = "1"


@dataclass(frozen=True)
class LoginResult:
    """A password check passed; ``needs_totp`` means a second step must follow."""

    account: Account
    needs_totp: bool
    must_enroll_totp: bool


def new_device_cookie(account: Account, policy: ThrottlePolicy, now: dt.datetime | None = None) -> str:
    """A browser's proof that it logged in to ``account`` (signed, bound to its session epoch)."""
    issued = int((now or utcnow()).timestamp())
    payload = f"{DEVICE_COOKIE_VERSION}.{account.id}.{account.session_epoch}.{issued}.{secrets.token_urlsafe(12)}"
    return f"{payload}.{_device_mac(payload, policy)}"


def _device_mac(payload: str, policy: ThrottlePolicy) -> str:
    return limit_key(policy, "device-cookie", payload)[:43]


def _device_id(cookie: str, row: dict[str, Any] | None, policy: ThrottlePolicy) -> str | None:
    """The device's id when ``cookie`` is a valid device cookie of the account ``row``."""
    if row is None or not cookie or len(cookie) > 200:
        return None
    payload, _, mac = cookie.rpartition(".")
    parts = payload.split(".")
    if len(parts) != 5 or not secrets.compare_digest(mac, _device_mac(payload, policy)):
        return None
    version, user_id, epoch, issued, nonce = parts
    if version != DEVICE_COOKIE_VERSION or user_id != str(row["id"]) or epoch != str(row["session_epoch"]):
        return None
    if not issued.isdigit() or int(issued) + policy.device_cookie_seconds < utcnow().timestamp():
        return None
    return nonce


async def authenticate(
    *,
    email: str,
    password: str,
    address: str,
    passwords: Passwords,
    policy: ThrottlePolicy,
    device_cookie: str = "",
) -> LoginResult:
    """Check a password login (ASVS 2.4.1, 2.3.2). Unknown email and wrong password fail the same way.

    The attempt is counted before the password is checked: per (account, address) pair, or
    per device for a browser holding the account's device cookie; per address; and, when the
    account is protected, through the slow lane. See docs/authentication.md.
    """
    email = normalise_email(email)[:254]
    row = await User.select().where(User.email == email).first() if email else None
    device_id = _device_id(device_cookie, row, policy)
    window = policy.window_seconds
    if device_id is None:
        gates = [
            ("pair", limit_key(policy, "pair", email, address), policy.max_per_pair, window),
            ("address", address_limit_key(policy, address), policy.max_per_address, window),
        ]
    else:
        gates = [("device", limit_key(policy, "device", email, device_id), policy.max_per_pair, window)]
    counted = await admit(gates, "auth.login", None)
    await slow_lane(email, device_id, policy, counted)
    if row is None:
        await passwords.dummy_verify(password[:MAX_PASSWORD_LENGTH])
        ok = False
    else:
        ok = await passwords.verify(row["password_hash"], password[:MAX_PASSWORD_LENGTH])
        ok = ok and row["is_active"]
    if not ok:
        await _login_failed(email, row, policy)
        raise InvalidCredentials()
    assert row is not None
    await succeeded(gates[0][1], counted)
    new_hash = await passwords.hash(password) if passwords.needs_rehash(row["password_hash"]) else None
    account = account_from_row(row, (await roles_of([row["id"]]))[row["id"]])
    if account.totp_enabled:
        security_log.event("auth.login", "success", user_id=account.id, step="password", needs_totp=True)
        return LoginResult(account=account, needs_totp=True, must_enroll_totp=False)
    await _complete_login(account.id, new_hash, method="password")
    return LoginResult(
        account=account,
        needs_totp=False,
        must_enroll_totp=await totp_required_for(account),
    )


async def _login_failed(email: str, row: dict[str, Any] | None, policy: ThrottlePolicy) -> None:
    """Audit the failure, count it for the whole account, and mail the unlock link when due."""
    user_id = row["id"] if row else None
    async with write_transaction():
        await audit.record("auth.login_failed", actor_id=None, object_type="user", object_id=user_id or "unknown")
        failures = await throttle.record(account_limit_key(policy, email), window=policy.window_seconds)
        if row is not None and row["is_active"] and failures >= policy.protect_account_after:
            await _mail_unlock_link(row, policy)
    security_log.event("auth.login", "failure", user_id=user_id)


async def _mail_unlock_link(row: dict[str, Any], policy: ThrottlePolicy) -> None:
    """One unlock link per window for a protected account (inside the failure's transaction)."""
    once = await throttle.once_per_window(
        limit_key(policy, "unlock-mail", str(row["id"])), window=policy.window_seconds
    )
    if not once.allowed:
        return
    language = row["language"]
    await revoke_links(row["id"], (TokenPurpose.LOGIN_UNLOCK,))
    token = await issue_token(row["id"], TokenPurpose.LOGIN_UNLOCK, policy.link_lifetime_seconds)
    await queue_mail(
        to=row["email"],
        subject=translate(language, N_("Logging in to your account was slowed down")),
        body=link_mail_body(
            language,
            row["display_name"],
            translate(
                language,
                N_(
                    "There were many failed attempts to log in to your account, so logins from browsers "
                    "you have not used it in are slowed down. Browsers you have logged in with before "
                    "are not affected. To log in at once from another browser, open this link in it:"
                ),
            ),
            f"{policy.base_url}/login/unlock?token={token}",
            policy.link_lifetime_seconds // 3600,
        ),
        language=language,
    )
    await audit_user("auth.unlock_mailed", row["id"], None)
    security_log.event("auth.unlock_mailed", "success", user_id=row["id"])


async def unlock_link_is_valid(token: str) -> bool:
    return await token_is_valid(token, TokenPurpose.LOGIN_UNLOCK)


async def use_unlock_link(*, token: str, policy: ThrottlePolicy) -> Account:
    """The owner opened the unlock link: the account-wide count is cleared (ASVS 2.4.1, F3).

    The caller gives the browser the account's device cookie.
    """
    async with write_transaction():
        used = await use_token(token, TokenPurpose.LOGIN_UNLOCK)
        if used is None:
            security_log.event("auth.unlock_used", "failure", reason="invalid_link")
            raise InvalidToken()
        row = await User.select(User.email, User.is_active).where(User.id == used).first()
        if row is None or not row["is_active"]:
            raise InvalidToken()
        await throttle.clear(account_limit_key(policy, row["email"]))
        await audit_user("auth.unlock_used", used, None)
    security_log.event("auth.unlock_used", "success", user_id=used)
    return await require_account(used)


async def _complete_login(user_id: int, new_hash: str | None, *, method: str) -> None:
    async with write_transaction():
        changes: dict[Any, Any] = {User.last_login_at: utcnow()}
        if new_hash:
            changes[User.password_hash] = new_hash
        await User.update(changes).where(User.id == user_id)
        await audit_user("auth.login", user_id, user_id, method=method)
    security_log.event("auth.login", "success", user_id=user_id, method=method)


async def record_logout(user_id: int) -> None:
    await audit_user("auth.logout", user_id, user_id)
    security_log.event("auth.logout", "success", user_id=user_id)


async def verify_totp_login(*, user_id: int, code: str, address: str, policy: ThrottlePolicy) -> Account:
    """Second login step (ASVS 2.4.1, 2.3.2): counted per user and per address before the code
    is checked; a code is accepted once (replay refused)."""
    user_key, counted = await admit_user("totp", user_id, address, policy)
    row = await User.select().where(User.id == user_id).first()
    if row is None or not row["is_active"] or not row["totp_secret"]:
        raise InvalidCode()
    step = matching_step(row["totp_secret"], code, utcnow())
    accepted = step is not None and bool(
        await User.update({User.totp_last_step: step})
        .where((User.id == user_id) & (User.totp_last_step < step))
        .returning(User.id)
    )
    if not accepted:
        await audit.record("auth.totp_failed", actor_id=None, object_type="user", object_id=user_id)
        security_log.event("auth.totp", "failure", user_id=user_id)
        raise InvalidCode()
    await succeeded(user_key, counted)
    security_log.event("auth.totp", "success", user_id=user_id)
    await _complete_login(user_id, None, method="totp")
    return await require_account(user_id)


async def reauthenticate(
    *, user_id: int, password: str, address: str, passwords: Passwords, policy: ThrottlePolicy
) -> None:
    """Re-authentication before a sensitive change (ASVS 7.5.1, 16.3.1; F7).

    Counted before the check, per user and per address, like a login; failures are audited
    (``auth.reauth_failed``) and logged as security events. Raises ``Throttled`` or
    ``InvalidCredentials``; returns when the password is the account's.
    """
    user_key, counted = await admit_user("reauth", user_id, address, policy)
    row = await User.select(User.password_hash).where(User.id == user_id).first()
    stored = row["password_hash"] if row else ""
    if not await passwords.verify(stored, password[:MAX_PASSWORD_LENGTH]):
        await audit.record("auth.reauth_failed", actor_id=user_id, object_type="user", object_id=user_id)
        security_log.event("auth.reauth", "failure", user_id=user_id)
        raise InvalidCredentials()
    await succeeded(user_key, counted)
    security_log.event("auth.reauth", "success", user_id=user_id)


async def change_password(
    *, user_id: int, current: str, new: str, passwords: Passwords, address: str, policy: ThrottlePolicy
) -> Account:
    """Change one's own password; every other session and every outstanding reset or
    invitation link of the account ends (ASVS 7.4.3).

    The current password goes through ``reauthenticate`` (throttled, failures audited:
    ASVS 7.5.1, 16.3.1). Raises ``Throttled``, or ``InvalidInput`` naming the field.
    """
    row = await User.select(User.email).where(User.id == user_id).first()
    if row is None:
        raise NotFound()
    if problem := password_error(new, row["email"]):
        raise InvalidInput({"new_password": problem})
    try:
        await reauthenticate(user_id=user_id, password=current, address=address, passwords=passwords, policy=policy)
    except InvalidCredentials as exc:
        raise InvalidInput({"current_password": N_("The current password is not correct.")}) from exc
    new_hash = await passwords.hash(new)
    async with write_transaction():
        await User.update({User.password_hash: new_hash, User.session_epoch: User.session_epoch + 1}).where(
            User.id == user_id
        )
        await revoke_links(user_id, PASSWORD_LINKS)
        await audit_user("user.password_changed", user_id, user_id)
    security_log.event("auth.password_changed", "success", user_id=user_id)
    return await require_account(user_id)
