"""Emailed single-use links of staff accounts: invitations and password resets.

Only a link's hash is stored. A reset request is recorded the same way whether or not the
account exists; the mail sender processes it later (docs/authentication.md, F2).
"""

from __future__ import annotations

import datetime as dt

from ambassador import security_log
from ambassador.db import utcnow, write_transaction
from ambassador.domain import throttle
from ambassador.domain.accounts import (
    Account,
    audit_user,
    create_user,
    normalise_email,
    password_error,
    require_account,
)
from ambassador.domain.login_limits import (
    ThrottlePolicy,
    admit,
    limit_key,
)
from ambassador.domain.outbox import queue_mail
from ambassador.enums import Role, TokenPurpose
from ambassador.errors import (
    N_,
    InvalidInput,
    InvalidToken,
)
from ambassador.i18n import translate
from ambassador.passwords import Passwords
from ambassador.tables import AuthToken, PasswordResetRequest, User
from ambassador.tokens import new_token, token_hash

# The links that set a password: any of them used, or the password changed, ends the others.
PASSWORD_LINKS = (TokenPurpose.PASSWORD_RESET, TokenPurpose.INVITATION)


async def revoke_links(user_id: int, purposes: tuple[TokenPurpose, ...]) -> int:
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


async def issue_token(user_id: int, purpose: TokenPurpose, lifetime_seconds: int) -> str:
    token = new_token()
    await AuthToken(
        user=user_id,
        purpose=purpose.value,
        token_hash=token_hash(token),
        created_at=utcnow(),
        expires_at=utcnow() + dt.timedelta(seconds=lifetime_seconds),
    ).save()
    return token


async def use_token(token: str, purpose: TokenPurpose) -> int | None:
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


def link_mail_body(language: str, greeting_name: str, intro: str, link: str, hours: int) -> str:
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
        token = await issue_token(account.id, TokenPurpose.INVITATION, lifetime_seconds)
        link = f"{base_url}/account/activate?token={token}"
        await queue_mail(
            to=account.email,
            subject=translate(language, N_("Your staff account for the Ambassador title")),
            body=link_mail_body(
                language,
                account.display_name,
                translate(language, N_("You have been invited. Set your password here:")),
                link,
                lifetime_seconds // 3600,
            ),
            language=language,
        )
        await audit_user("user.invited", account.id, actor_id)
    return account


async def request_password_reset(*, email: str, address: str, policy: ThrottlePolicy) -> None:
    """Record a "forgot your password" request (ASVS 2.4.1, 2.1.3; F2).

    The same work whatever the email: the per-address limit (raises ``Throttled``) and one
    ``password_reset_request`` row. Whether the account exists is looked at only later, by
    ``process_reset_requests`` in the mail sender, so the answer's path and time say nothing.
    """
    email = normalise_email(email)[:254]
    address_key = limit_key(policy, "reset-address", address)
    async with write_transaction():
        await admit(
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
    account_key = limit_key(policy, "reset-account", email)
    allowed = await throttle.hit(account_key, limit=policy.reset_max_per_account, window=policy.reset_window_seconds)
    if not allowed.allowed:
        security_log.event("auth.reset_processed", "throttled", user_id=row["id"], limit="account")
        return
    language = row["language"]
    lifetime = policy.link_lifetime_seconds
    revoked = await revoke_links(row["id"], (TokenPurpose.PASSWORD_RESET,))
    token = await issue_token(row["id"], TokenPurpose.PASSWORD_RESET, lifetime)
    await queue_mail(
        to=row["email"],
        subject=translate(language, N_("Password reset")),
        body=link_mail_body(
            language,
            row["display_name"],
            translate(language, N_("Someone asked to reset your password. Set a new one here:")),
            f"{policy.base_url}/password/reset?token={token}",
            lifetime // 3600,
        ),
        language=language,
    )
    await audit_user("user.password_reset_requested", row["id"], None, revoked_links=revoked)
    security_log.event("auth.reset_processed", "success", user_id=row["id"])


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
        user_id = await use_token(token, purpose)
        if user_id is None:
            security_log.event("auth.reset_used", "failure", reason="used_or_expired", purpose=purpose.value)
            raise InvalidToken()
        await revoke_links(user_id, PASSWORD_LINKS)
        await User.update({User.password_hash: new_hash, User.session_epoch: User.session_epoch + 1}).where(
            User.id == user_id
        )
        await audit_user("user.password_set", user_id, user_id, via=purpose.value)
    security_log.event("auth.reset_used", "success", user_id=user_id, purpose=purpose.value)
    return await require_account(user_id)
