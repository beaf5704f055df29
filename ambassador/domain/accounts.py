"""Staff accounts: creation, roles, login with throttling, TOTP, invitations and resets.

Every change runs in one write transaction that also writes its audit entry and queues its
mails. Unknown emails and wrong passwords take the same path and the same time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

import pyotp

from ambassador.db import is_unique_violation, utcnow, write_transaction
from ambassador.domain import audit
from ambassador.domain.outbox import queue_mail
from ambassador.enums import LANGUAGES, Role, TokenPurpose
from ambassador.errors import (
    N_,
    InvalidCode,
    InvalidCredentials,
    InvalidInput,
    InvalidToken,
    NotFound,
    Throttled,
)
from ambassador.i18n import translate
from ambassador.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, Passwords
from ambassador.tables import AuthToken, LoginFailure, RolePolicy, User, UserRole
from ambassador.tokens import new_token, token_hash

EMAIL_RE = re.compile(r"^[^@\s<>\"',;]{1,64}@[^@\s<>\"',;]{1,190}\.[^@\s<>\"',;.]{2,63}$")
MAX_NAME_LENGTH = 200
TOTP_ISSUER = "Ambassador"


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


@dataclass(frozen=True)
class ThrottlePolicy:
    window_seconds: int = 15 * 60
    max_per_account: int = 5
    max_per_address: int = 30


@dataclass(frozen=True)
class LoginResult:
    """A password check passed; ``needs_totp`` means a second step must follow."""

    account: Account
    needs_totp: bool
    must_enroll_totp: bool


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
        return N_("The password must have at least 12 characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        return N_("The password may have at most 256 characters.")
    if email and password.strip().lower() == email.lower():
        return N_("The password must not be your email address.")
    return None


def name_error(name: str) -> str | None:
    if not name.strip():
        return N_("Enter a name.")
    if len(name) > MAX_NAME_LENGTH:
        return N_("The name may have at most 200 characters.")
    return None


async def _audit_user(action: str, user_id: int, actor_id: int | None, **data: Any) -> None:
    """Audit an event about one account (the subject is the user)."""
    await audit.record(action, actor_id=actor_id, object_type="user", object_id=user_id, data=data)


def _hash_key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


async def _roles_of(user_ids: list[int]) -> dict[int, frozenset[Role]]:
    if not user_ids:
        return {}
    rows = await UserRole.select(UserRole.user, UserRole.role).where(UserRole.user.is_in(user_ids))
    found: dict[int, set[Role]] = {uid: set() for uid in user_ids}
    for row in rows:
        found[row["user"]].add(Role(row["role"]))
    return {uid: frozenset(roles) for uid, roles in found.items()}


def _account(row: dict[str, Any], roles: frozenset[Role]) -> Account:
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
    return _account(row, (await _roles_of([user_id]))[user_id])


async def require_account(user_id: int) -> Account:
    account = await get_account(user_id)
    if account is None:
        raise NotFound()
    return account


async def list_accounts() -> list[Account]:
    rows = await User.select().order_by(User.email)
    roles = await _roles_of([row["id"] for row in rows])
    return [_account(row, roles[row["id"]]) for row in rows]


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
    try:
        async with write_transaction():
            user = User(
                email=email,
                display_name=display_name,
                password_hash=password_hash,
                language=language,
            )
            await user.save()
            for role in sorted(roles):
                await UserRole(user=user.id, role=role.value).save()
            await _audit_user("user.created", user.id, actor_id, roles=sorted(r.value for r in roles))
    except Exception as exc:
        if is_unique_violation(exc):
            raise InvalidInput({"email": N_("An account with this email already exists.")}) from exc
        raise
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
        await _audit_user(
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
        await _audit_user("user.activated" if active else "user.deactivated", user_id, actor_id)
    return await require_account(user_id)


# --- login ----------------------------------------------------------------------------


async def _failures_since(key_hash: str, since: dt.datetime) -> list[dt.datetime]:
    rows = await LoginFailure.select(LoginFailure.created_at).where(
        (LoginFailure.key_hash == key_hash) & (LoginFailure.created_at > since)
    )
    return sorted(row["created_at"] for row in rows)


async def _check_throttle(keys: list[tuple[str, int]], policy: ThrottlePolicy) -> None:
    now = utcnow()
    since = now - dt.timedelta(seconds=policy.window_seconds)
    for key_hash, limit in keys:
        failures = await _failures_since(key_hash, since)
        if len(failures) >= limit:
            oldest_relevant = failures[-limit]
            retry = oldest_relevant + dt.timedelta(seconds=policy.window_seconds) - now
            raise Throttled(retry_after=max(1, int(retry.total_seconds())))


async def _record_failure(action: str, subject: int | str, *key_hashes: str) -> None:
    """Count a failed attempt against each throttling key and audit it."""
    async with write_transaction():
        for key_hash in key_hashes:
            await LoginFailure(key_hash=key_hash, created_at=utcnow()).save()
        await audit.record(action, actor_id=None, object_type="user", object_id=subject)


async def authenticate(
    *,
    email: str,
    password: str,
    address: str,
    passwords: Passwords,
    policy: ThrottlePolicy,
) -> LoginResult:
    """Check a password login. Unknown email and wrong password fail the same way."""
    email = normalise_email(email)[:254]
    account_key = _hash_key("account", email)
    address_key = _hash_key("address", address)
    await _check_throttle([(account_key, policy.max_per_account), (address_key, policy.max_per_address)], policy)
    row = await User.select().where(User.email == email).first() if email else None
    if row is None:
        await passwords.dummy_verify(password[:MAX_PASSWORD_LENGTH])
        ok = False
    else:
        ok = await passwords.verify(row["password_hash"], password[:MAX_PASSWORD_LENGTH])
        ok = ok and row["is_active"]
    if not ok:
        await _record_failure("auth.login_failed", row["id"] if row else "unknown", account_key, address_key)
        raise InvalidCredentials()
    assert row is not None
    new_hash = await passwords.hash(password) if passwords.needs_rehash(row["password_hash"]) else None
    account = _account(row, (await _roles_of([row["id"]]))[row["id"]])
    if account.totp_enabled:
        return LoginResult(account=account, needs_totp=True, must_enroll_totp=False)
    await _complete_login(account.id, account_key, new_hash, method="password")
    return LoginResult(
        account=account,
        needs_totp=False,
        must_enroll_totp=await totp_required_for(account),
    )


async def _complete_login(user_id: int, account_key: str, new_hash: str | None, *, method: str) -> None:
    async with write_transaction():
        changes: dict[Any, Any] = {User.last_login_at: utcnow()}
        if new_hash:
            changes[User.password_hash] = new_hash
        await User.update(changes).where(User.id == user_id)
        await LoginFailure.delete().where(LoginFailure.key_hash == account_key)
        await _audit_user("auth.login", user_id, user_id, method=method)


async def record_logout(user_id: int) -> None:
    await _audit_user("auth.logout", user_id, user_id)


async def prune_login_failures(policy: ThrottlePolicy) -> int:
    """Drop failures older than the window (they no longer count)."""
    cutoff = utcnow() - dt.timedelta(seconds=policy.window_seconds)
    rows = await LoginFailure.delete().where(LoginFailure.created_at < cutoff).returning(LoginFailure.id)
    return len(rows)


# --- TOTP -------------------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)


def _matching_step(secret: str, code: str, at: dt.datetime) -> int | None:
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


async def verify_totp_login(*, user_id: int, code: str, address: str, policy: ThrottlePolicy) -> Account:
    """Second login step; a code is accepted once (replay refused), failures throttled."""
    account_key = _hash_key("totp", str(user_id))
    address_key = _hash_key("address", address)
    await _check_throttle([(account_key, policy.max_per_account), (address_key, policy.max_per_address)], policy)
    row = await User.select().where(User.id == user_id).first()
    if row is None or not row["is_active"] or not row["totp_secret"]:
        raise InvalidCode()
    step = _matching_step(row["totp_secret"], code, utcnow())
    accepted = step is not None and bool(
        await User.update({User.totp_last_step: step})
        .where((User.id == user_id) & (User.totp_last_step < step))
        .returning(User.id)
    )
    if not accepted:
        await _record_failure("auth.totp_failed", user_id, account_key, address_key)
        raise InvalidCode()
    await LoginFailure.delete().where(LoginFailure.key_hash == account_key)
    await _complete_login(user_id, _hash_key("account", row["email"]), None, method="totp")
    return await require_account(user_id)


async def enable_totp(*, user_id: int, secret: str, code: str) -> Account:
    """Turn on the second factor after the user proved their app produces codes."""
    step = _matching_step(secret, code, utcnow())
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
        await _audit_user("user.totp_enabled", user_id, user_id)
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
        await _audit_user("user.totp_disabled", user_id, actor_id)
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


# --- passwords, invitations and resets --------------------------------------------------


async def change_password(*, user_id: int, current: str, new: str, passwords: Passwords) -> Account:
    """Change one's own password; every other session of the account ends."""
    row = await User.select().where(User.id == user_id).first()
    if row is None:
        raise NotFound()
    if not await passwords.verify(row["password_hash"], current[:MAX_PASSWORD_LENGTH]):
        raise InvalidInput({"current_password": N_("The current password is not correct.")})
    if problem := password_error(new, row["email"]):
        raise InvalidInput({"new_password": problem})
    new_hash = await passwords.hash(new)
    async with write_transaction():
        await User.update({User.password_hash: new_hash, User.session_epoch: User.session_epoch + 1}).where(
            User.id == user_id
        )
        await _audit_user("user.password_changed", user_id, user_id)
    return await require_account(user_id)


async def _issue_token(user_id: int, purpose: TokenPurpose, lifetime_seconds: int) -> str:
    token = new_token()
    await AuthToken(
        user=user_id,
        purpose=purpose.value,
        token_hash=token_hash(token),
        created_at=utcnow(),
        expires_at=utcnow() + dt.timedelta(seconds=lifetime_seconds),
    ).save()
    return token


def _link_mail_body(language: str, greeting_name: str, intro: str, link: str, hours: int) -> str:
    return "\n\n".join(
        [
            translate(language, N_("Hello %(name)s,"), name=greeting_name),
            intro,
            link,
            translate(
                language,
                N_("The link works once and expires in %(hours)s hours."),
                hours=hours,
            ),
            translate(language, N_("If you did not expect this message, ignore it.")),
        ]
    )


async def invite_user(
    *,
    actor_id: int,
    email: str,
    display_name: str,
    roles: frozenset[Role],
    language: str,
    base_url: str,
    lifetime_seconds: int,
) -> Account:
    """Create an account without a password and mail a single-use link to set one."""
    async with write_transaction():
        account = await create_user(
            email=email,
            display_name=display_name,
            roles=roles,
            actor_id=actor_id,
            language=language,
        )
        token = await _issue_token(account.id, TokenPurpose.INVITATION, lifetime_seconds)
        link = f"{base_url}/account/activate?token={token}"
        await queue_mail(
            to=account.email,
            subject=translate(language, N_("Your staff account for the Ambassador title")),
            body=_link_mail_body(
                language,
                account.display_name,
                translate(language, N_("You have been invited. Set your password here:")),
                link,
                lifetime_seconds // 3600,
            ),
            language=language,
        )
        await _audit_user("user.invited", account.id, actor_id)
    return account


async def request_password_reset(*, email: str, base_url: str, lifetime_seconds: int) -> None:
    """Mail a reset link when the account exists; the caller answers the same either way."""
    email = normalise_email(email)[:254]
    row = (
        await User.select(User.id, User.display_name, User.language, User.is_active).where(User.email == email).first()
    )
    if row is None or not row["is_active"]:
        return
    language = row["language"]
    async with write_transaction():
        token = await _issue_token(row["id"], TokenPurpose.PASSWORD_RESET, lifetime_seconds)
        await queue_mail(
            to=email,
            subject=translate(language, N_("Password reset")),
            body=_link_mail_body(
                language,
                row["display_name"],
                translate(language, N_("Someone asked to reset your password. Set a new one here:")),
                f"{base_url}/password/reset?token={token}",
                lifetime_seconds // 3600,
            ),
            language=language,
        )
        await _audit_user("user.password_reset_requested", row["id"], None)


async def token_is_valid(token: str, purpose: TokenPurpose) -> bool:
    row = (
        await AuthToken.select(AuthToken.id)
        .where(
            (AuthToken.token_hash == token_hash(token))
            & (AuthToken.purpose == purpose.value)
            & AuthToken.used_at.is_null()
            & (AuthToken.expires_at > utcnow())
        )
        .first()
    )
    return row is not None


async def set_password_with_token(*, token: str, purpose: TokenPurpose, password: str, passwords: Passwords) -> Account:
    """Use an invitation or reset link once; its account's other sessions end."""
    row = (
        await AuthToken.select(AuthToken.user, AuthToken.user.email)
        .where((AuthToken.token_hash == token_hash(token)) & (AuthToken.purpose == purpose.value))
        .first()
    )
    if row is None:
        raise InvalidToken()
    if problem := password_error(password, row["user.email"]):
        raise InvalidInput({"password": problem})
    new_hash = await passwords.hash(password)
    async with write_transaction():
        used = (
            await AuthToken.update({AuthToken.used_at: utcnow()})
            .where(
                (AuthToken.token_hash == token_hash(token))
                & AuthToken.used_at.is_null()
                & (AuthToken.expires_at > utcnow())
            )
            .returning(AuthToken.id)
        )
        if not used:
            raise InvalidToken()
        user_id = row["user"]
        await User.update({User.password_hash: new_hash, User.session_epoch: User.session_epoch + 1}).where(
            User.id == user_id
        )
        await _audit_user("user.password_set", user_id, user_id, via=purpose.value)
    return await require_account(user_id)


async def set_language(*, user_id: int, language: str) -> Account:
    """The language of the mails an account receives."""
    if language not in LANGUAGES:
        raise InvalidInput({"language": N_("Choose one of the offered languages.")})
    async with write_transaction():
        await User.update({User.language: language}).where(User.id == user_id)
        await _audit_user("user.language_changed", user_id, user_id, language=language)
    return await require_account(user_id)


async def reauthenticate(
    *, user_id: int, password: str, address: str, passwords: Passwords, policy: ThrottlePolicy
) -> None:
    """Re-authentication before a sensitive change: throttled like a login, failures audited.

    Raises ``Throttled`` or ``InvalidCredentials``; returns when the password is the account's.
    """
    account_key = _hash_key("reauth", str(user_id))
    address_key = _hash_key("address", address)
    await _check_throttle([(account_key, policy.max_per_account), (address_key, policy.max_per_address)], policy)
    row = await User.select(User.password_hash).where(User.id == user_id).first()
    stored = row["password_hash"] if row else ""
    if not await passwords.verify(stored, password[:MAX_PASSWORD_LENGTH]):
        await _record_failure("auth.reauth_failed", user_id, account_key, address_key)
        raise InvalidCredentials()
    await LoginFailure.delete().where(LoginFailure.key_hash == account_key)
