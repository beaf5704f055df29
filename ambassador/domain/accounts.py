"""Staff accounts: creation, roles, login with throttling, TOTP, invitations and resets.

Every change runs in one write transaction that also writes its audit entry and queues its
mails. Unknown emails and wrong passwords take the same path and the same time. Throttling,
the device cookie, the unlock link and reset processing: docs/authentication.md.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyotp

from ambassador import security_log
from ambassador.db import unique_or, utcnow, write_transaction
from ambassador.domain import audit, throttle
from ambassador.domain.outbox import queue_mail
from ambassador.enums import LANGUAGES, Role, TokenPurpose
from ambassador.errors import (
    N_,
    InvalidCode,
    InvalidCredentials,
    InvalidInput,
    InvalidToken,
    NotFound,
    SlowedDown,
    Throttled,
)
from ambassador.i18n import translate
from ambassador.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, Passwords
from ambassador.tables import AuthToken, PasswordResetRequest, RolePolicy, User, UserRole
from ambassador.tokens import new_token, token_hash

if TYPE_CHECKING:
    from ambassador.settings import Settings

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
    """The limits of logins, second factors, re-authentication and resets (docs/authentication.md)."""

    window_seconds: int = 15 * 60
    # Attempts per (account, address) pair, or per device for a browser with the device cookie.
    # The same number limits second-factor codes and re-authentication per user.
    max_per_pair: int = 5
    max_per_address: int = 30
    # Failures for one account from everywhere that make it "protected" (the slow lane).
    protect_account_after: int = 20
    # The first slot length of the slow lane; it doubles with each further failure.
    slow_down_seconds: int = 30
    reset_window_seconds: int = 60 * 60
    reset_max_per_account: int = 3
    reset_max_per_address: int = 10
    device_cookie_seconds: int = 180 * 24 * 3600
    link_lifetime_seconds: int = 72 * 3600
    base_url: str = ""
    key_secret: str = field(default="", repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        return cls(
            window_seconds=settings.login_window_seconds,
            max_per_pair=settings.login_max_failures_per_pair,
            max_per_address=settings.login_max_failures_per_address,
            protect_account_after=settings.login_protect_account_after,
            slow_down_seconds=settings.login_slow_down_seconds,
            reset_window_seconds=settings.reset_window_seconds,
            reset_max_per_account=settings.reset_max_per_account,
            reset_max_per_address=settings.reset_max_per_address,
            device_cookie_seconds=settings.login_device_cookie_days * 24 * 3600,
            link_lifetime_seconds=settings.token_lifetime_seconds,
            base_url=settings.base_url,
            key_secret=settings.secret_key,
        )


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
        await _audit_user("user.created", user.id, actor_id, roles=sorted(r.value for r in roles))
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
#
# The design (docs/authentication.md): every attempt is counted before the password is
# checked (domain/throttle.py), per (account, address) pair and per address; failures are
# also counted per account from everywhere, and past a threshold the account is "protected":
# browsers without the account's device cookie are let through one at a time, with growing
# gaps, and the owner is mailed one unlock link per window.

DEVICE_COOKIE_VERSION = "1"


def _keys(policy: ThrottlePolicy, kind: str, *parts: str) -> str:
    return throttle.key(policy.key_secret, kind, *parts)


def _address_key(policy: ThrottlePolicy, address: str) -> str:
    return _keys(policy, "address", address)


def _account_key(policy: ThrottlePolicy, email: str) -> str:
    return _keys(policy, "account", email)


def new_device_cookie(account: Account, policy: ThrottlePolicy, now: dt.datetime | None = None) -> str:
    """A browser's proof that it logged in to ``account`` (signed, bound to its session epoch)."""
    issued = int((now or utcnow()).timestamp())
    payload = f"{DEVICE_COOKIE_VERSION}.{account.id}.{account.session_epoch}.{issued}.{secrets.token_urlsafe(12)}"
    return f"{payload}.{_device_mac(payload, policy)}"


def _device_mac(payload: str, policy: ThrottlePolicy) -> str:
    return _keys(policy, "device-cookie", payload)[:43]


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


def slow_down_seconds(failures: float, policy: ThrottlePolicy) -> int:
    """The gap between attempts of browsers without the device cookie: doubles with each
    failure past the threshold, up to the window."""
    excess = max(0, int(failures) - policy.protect_account_after)
    return int(min(policy.window_seconds, policy.slow_down_seconds * 2 ** min(excess, 20)))


async def _admit(gates: list[tuple[str, str, int, int]], event_name: str, user_id: int | None) -> list[str]:
    """Count the attempt against each ``(name, key, limit, window)`` in order; all or nothing.

    Refused by one: the counts already taken are given back, the refusal is logged with the
    limit's name, and ``Throttled`` says how long to wait.
    """
    counted: list[str] = []
    for name, key_hash, limit, window in gates:
        decision = await throttle.hit(key_hash, limit=limit, window=window)
        if not decision.allowed:
            for bucket in counted:
                await throttle.undo(bucket)
            security_log.event(event_name, "throttled", user_id=user_id, limit=name)
            raise Throttled(retry_after=decision.retry_after)
        counted.append(decision.bucket)
    return counted


async def _admit_user(kind: str, user_id: int, address: str, policy: ThrottlePolicy) -> tuple[str, list[str]]:
    """Count a known user's attempt (a TOTP code, a re-authentication) per user and per address."""
    user_key = _keys(policy, kind, str(user_id))
    counted = await _admit(
        [
            ("user", user_key, policy.max_per_pair, policy.window_seconds),
            ("address", _address_key(policy, address), policy.max_per_address, policy.window_seconds),
        ],
        f"auth.{kind}",
        user_id,
    )
    return user_key, counted


async def _succeeded(own_key: str, counted: list[str]) -> None:
    """A success: its pair's (or user's) count is cleared, and the address gets its attempt
    back, so that the address limit counts failures only (many staff behind one address)."""
    await throttle.clear(own_key)
    for bucket in counted[1:]:
        await throttle.undo(bucket)


async def _slow_lane(email: str, device_id: str | None, policy: ThrottlePolicy, counted: list[str]) -> None:
    """A protected account lets browsers without its device cookie through one at a time,
    each gap twice the one before (ASVS 2.4.1, F3)."""
    if device_id is not None:
        return
    failures = await throttle.estimate(_account_key(policy, email), window=policy.window_seconds)
    if failures < policy.protect_account_after:
        return
    passed = await throttle.gate(_keys(policy, "slow", email), interval=slow_down_seconds(failures, policy))
    if not passed.allowed:
        for bucket in counted:
            await throttle.undo(bucket)
        security_log.event("auth.login", "throttled", limit="account")
        raise SlowedDown(retry_after=passed.retry_after)


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
            ("pair", _keys(policy, "pair", email, address), policy.max_per_pair, window),
            ("address", _address_key(policy, address), policy.max_per_address, window),
        ]
    else:
        gates = [("device", _keys(policy, "device", email, device_id), policy.max_per_pair, window)]
    counted = await _admit(gates, "auth.login", None)
    await _slow_lane(email, device_id, policy, counted)
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
    await _succeeded(gates[0][1], counted)
    new_hash = await passwords.hash(password) if passwords.needs_rehash(row["password_hash"]) else None
    account = _account(row, (await _roles_of([row["id"]]))[row["id"]])
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
        failures = await throttle.record(_account_key(policy, email), window=policy.window_seconds)
        if row is not None and row["is_active"] and failures >= policy.protect_account_after:
            await _mail_unlock_link(row, policy)
    security_log.event("auth.login", "failure", user_id=user_id)


async def _mail_unlock_link(row: dict[str, Any], policy: ThrottlePolicy) -> None:
    """One unlock link per window for a protected account (inside the failure's transaction)."""
    once = await throttle.once_per_window(_keys(policy, "unlock-mail", str(row["id"])), window=policy.window_seconds)
    if not once.allowed:
        return
    language = row["language"]
    await _revoke_links(row["id"], (TokenPurpose.LOGIN_UNLOCK,))
    token = await _issue_token(row["id"], TokenPurpose.LOGIN_UNLOCK, policy.link_lifetime_seconds)
    await queue_mail(
        to=row["email"],
        subject=translate(language, N_("Logging in to your account was slowed down")),
        body=_link_mail_body(
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
    await _audit_user("auth.unlock_mailed", row["id"], None)
    security_log.event("auth.unlock_mailed", "success", user_id=row["id"])


async def unlock_link_is_valid(token: str) -> bool:
    return await token_is_valid(token, TokenPurpose.LOGIN_UNLOCK)


async def use_unlock_link(*, token: str, policy: ThrottlePolicy) -> Account:
    """The owner opened the unlock link: the account-wide count is cleared (ASVS 2.4.1, F3).

    The caller gives the browser the account's device cookie.
    """
    async with write_transaction():
        used = await _use_token(token, TokenPurpose.LOGIN_UNLOCK)
        if used is None:
            security_log.event("auth.unlock_used", "failure", reason="invalid_link")
            raise InvalidToken()
        row = await User.select(User.email, User.is_active).where(User.id == used).first()
        if row is None or not row["is_active"]:
            raise InvalidToken()
        await throttle.clear(_account_key(policy, row["email"]))
        await _audit_user("auth.unlock_used", used, None)
    security_log.event("auth.unlock_used", "success", user_id=used)
    return await require_account(used)


async def _complete_login(user_id: int, new_hash: str | None, *, method: str) -> None:
    async with write_transaction():
        changes: dict[Any, Any] = {User.last_login_at: utcnow()}
        if new_hash:
            changes[User.password_hash] = new_hash
        await User.update(changes).where(User.id == user_id)
        await _audit_user("auth.login", user_id, user_id, method=method)
    security_log.event("auth.login", "success", user_id=user_id, method=method)


async def record_logout(user_id: int) -> None:
    await _audit_user("auth.logout", user_id, user_id)
    security_log.event("auth.logout", "success", user_id=user_id)


async def prune_throttles(policy: ThrottlePolicy) -> int:
    """Maintenance: drop throttle counters past use, and reset requests older than the reset
    window (the mail sender was not running; personal data is not kept)."""
    stale = utcnow() - dt.timedelta(seconds=policy.reset_window_seconds)
    async with write_transaction():
        await PasswordResetRequest.delete().where(PasswordResetRequest.created_at < stale)
    return await throttle.prune()


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
    """Second login step (ASVS 2.4.1, 2.3.2): counted per user and per address before the code
    is checked; a code is accepted once (replay refused)."""
    user_key, counted = await _admit_user("totp", user_id, address, policy)
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
        await audit.record("auth.totp_failed", actor_id=None, object_type="user", object_id=user_id)
        security_log.event("auth.totp", "failure", user_id=user_id)
        raise InvalidCode()
    await _succeeded(user_key, counted)
    security_log.event("auth.totp", "success", user_id=user_id)
    await _complete_login(user_id, None, method="totp")
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
        await _revoke_links(user_id, PASSWORD_LINKS)
        await _audit_user("user.password_changed", user_id, user_id)
    security_log.event("auth.password_changed", "success", user_id=user_id)
    return await require_account(user_id)


# The links that set a password: any of them used, or the password changed, ends the others.
PASSWORD_LINKS = (TokenPurpose.PASSWORD_RESET, TokenPurpose.INVITATION)


async def _revoke_links(user_id: int, purposes: tuple[TokenPurpose, ...]) -> int:
    """End every outstanding link of these purposes of the account (marked used now)."""
    rows = (
        await AuthToken.update({AuthToken.used_at: utcnow()})
        .where(
            (AuthToken.user == user_id)
            & AuthToken.purpose.is_in([purpose.value for purpose in purposes])
            & AuthToken.used_at.is_null()
        )
        .returning(AuthToken.id)
    )
    return len(rows)


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


async def _use_token(token: str, purpose: TokenPurpose) -> int | None:
    """Mark a live link of ``purpose`` used, in one statement (single use); its account's id."""
    rows = (
        await AuthToken.update({AuthToken.used_at: utcnow()})
        .where(
            (AuthToken.token_hash == token_hash(token))
            & (AuthToken.purpose == purpose.value)
            & AuthToken.used_at.is_null()
            & (AuthToken.expires_at > utcnow())
        )
        .returning(AuthToken.user)
    )
    return int(rows[0]["user"]) if rows else None


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


async def request_password_reset(*, email: str, address: str, policy: ThrottlePolicy) -> None:
    """Record a "forgot your password" request (ASVS 2.4.1, 2.1.3; F2).

    The same work whatever the email: the per-address limit (raises ``Throttled``) and one
    ``password_reset_request`` row. Whether the account exists is looked at only later, by
    ``process_reset_requests`` in the mail sender, so the answer's path and time say nothing.
    """
    email = normalise_email(email)[:254]
    address_key = _keys(policy, "reset-address", address)
    async with write_transaction():
        await _admit(
            [("address", address_key, policy.reset_max_per_address, policy.reset_window_seconds)],
            "auth.reset_request",
            None,
        )
        await PasswordResetRequest(email=email, address_hash=address_key, created_at=utcnow()).save()
    security_log.event("auth.reset_request", "success")


async def process_reset_requests(*, policy: ThrottlePolicy, limit: int = 100) -> int:
    """Mail the reset links that recorded requests call for; the requests are deleted (F2, F6).

    Run by the mail sender before it claims mails. Per request, in one transaction: the row is
    deleted (whoever deletes it processes it), the account looked up, the per-account limit
    applied, earlier reset links revoked, a new one issued and mailed, and the audit written.
    Returns how many requests were processed.
    """
    pending = (
        await PasswordResetRequest.select(PasswordResetRequest.id, PasswordResetRequest.email)
        .order_by(PasswordResetRequest.id)
        .limit(limit)
    )
    done = 0
    for request in pending:
        async with write_transaction():
            taken = (
                await PasswordResetRequest.delete()
                .where(PasswordResetRequest.id == request["id"])
                .returning(PasswordResetRequest.id)
            )
            if taken:
                done += 1
                await _process_reset_request(request["email"], policy)
    return done


async def _process_reset_request(email: str, policy: ThrottlePolicy) -> None:
    row = (
        await User.select(User.id, User.email, User.display_name, User.language, User.is_active)
        .where(User.email == email)
        .first()
    )
    if row is None or not row["is_active"]:
        security_log.event("auth.reset_processed", "failure", reason="no_active_account")
        return
    account_key = _keys(policy, "reset-account", email)
    allowed = await throttle.hit(account_key, limit=policy.reset_max_per_account, window=policy.reset_window_seconds)
    if not allowed.allowed:
        security_log.event("auth.reset_processed", "throttled", user_id=row["id"], limit="account")
        return
    language = row["language"]
    lifetime = policy.link_lifetime_seconds
    revoked = await _revoke_links(row["id"], (TokenPurpose.PASSWORD_RESET,))
    token = await _issue_token(row["id"], TokenPurpose.PASSWORD_RESET, lifetime)
    await queue_mail(
        to=row["email"],
        subject=translate(language, N_("Password reset")),
        body=_link_mail_body(
            language,
            row["display_name"],
            translate(language, N_("Someone asked to reset your password. Set a new one here:")),
            f"{policy.base_url}/password/reset?token={token}",
            lifetime // 3600,
        ),
        language=language,
    )
    await _audit_user("user.password_reset_requested", row["id"], None, revoked_links=revoked)
    security_log.event("auth.reset_processed", "success", user_id=row["id"])


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
    """Use an invitation or reset link once; its account's other sessions end, and so do its
    other reset and invitation links (ASVS 7.4.3, F6)."""
    row = (
        await AuthToken.select(AuthToken.user, AuthToken.user.email)
        .where((AuthToken.token_hash == token_hash(token)) & (AuthToken.purpose == purpose.value))
        .first()
    )
    if row is None:
        security_log.event("auth.reset_used", "failure", reason="invalid_link", purpose=purpose.value)
        raise InvalidToken()
    if problem := password_error(password, row["user.email"]):
        raise InvalidInput({"password": problem})
    new_hash = await passwords.hash(password)
    async with write_transaction():
        user_id = await _use_token(token, purpose)
        if user_id is None:
            security_log.event("auth.reset_used", "failure", reason="used_or_expired", purpose=purpose.value)
            raise InvalidToken()
        await _revoke_links(user_id, PASSWORD_LINKS)
        await User.update({User.password_hash: new_hash, User.session_epoch: User.session_epoch + 1}).where(
            User.id == user_id
        )
        await _audit_user("user.password_set", user_id, user_id, via=purpose.value)
    security_log.event("auth.reset_used", "success", user_id=user_id, purpose=purpose.value)
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
    """Re-authentication before a sensitive change (ASVS 7.5.1, 16.3.1; F7).

    Counted before the check, per user and per address, like a login; failures are audited
    (``auth.reauth_failed``) and logged as security events. Raises ``Throttled`` or
    ``InvalidCredentials``; returns when the password is the account's.
    """
    user_key, counted = await _admit_user("reauth", user_id, address, policy)
    row = await User.select(User.password_hash).where(User.id == user_id).first()
    stored = row["password_hash"] if row else ""
    if not await passwords.verify(stored, password[:MAX_PASSWORD_LENGTH]):
        await audit.record("auth.reauth_failed", actor_id=user_id, object_type="user", object_id=user_id)
        security_log.event("auth.reauth", "failure", user_id=user_id)
        raise InvalidCredentials()
    await _succeeded(user_key, counted)
    security_log.event("auth.reauth", "success", user_id=user_id)
