"""The limits of logins, second factors, re-authentication and resets.

The design (docs/authentication.md): every attempt is counted before the password is
checked (domain/throttle.py), per (account, address) pair and per address; failures are
also counted per account from everywhere, and past a threshold the account is "protected":
browsers without the account's device cookie are let through one at a time, with growing
gaps, and the owner is mailed one unlock link per window (``signin``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ambassador import security_log
from ambassador.db import utcnow, write_transaction
from ambassador.domain import throttle
from ambassador.errors import (
    SlowedDown,
    Throttled,
)
from ambassador.tables import PasswordResetRequest

if TYPE_CHECKING:
    from ambassador.settings import Settings


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


def limit_key(policy: ThrottlePolicy, kind: str, *parts: str) -> str:
    return throttle.key(policy.key_secret, kind, *parts)


def address_limit_key(policy: ThrottlePolicy, address: str) -> str:
    return limit_key(policy, "address", address)


def account_limit_key(policy: ThrottlePolicy, email: str) -> str:
    return limit_key(policy, "account", email)


def slow_down_seconds(failures: float, policy: ThrottlePolicy) -> int:
    """The gap between attempts of browsers without the device cookie: doubles with each
    failure past the threshold, up to the window."""
    excess = max(0, int(failures) - policy.protect_account_after)
    return int(min(policy.window_seconds, policy.slow_down_seconds * 2 ** min(excess, 20)))


async def admit(gates: list[tuple[str, str, int, int]], event_name: str, user_id: int | None) -> list[str]:
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


async def admit_user(kind: str, user_id: int, address: str, policy: ThrottlePolicy) -> tuple[str, list[str]]:
    """Count a known user's attempt (a TOTP code, a re-authentication) per user and per address."""
    user_key = limit_key(policy, kind, str(user_id))
    counted = await admit(
        [
            ("user", user_key, policy.max_per_pair, policy.window_seconds),
            ("address", address_limit_key(policy, address), policy.max_per_address, policy.window_seconds),
        ],
        f"auth.{kind}",
        user_id,
    )
    return user_key, counted


async def succeeded(own_key: str, counted: list[str]) -> None:
    """A success: its pair's (or user's) count is cleared, and the address gets its attempt
    back, so that the address limit counts failures only (many staff behind one address)."""
    await throttle.clear(own_key)
    for bucket in counted[1:]:
        await throttle.undo(bucket)


async def slow_lane(email: str, device_id: str | None, policy: ThrottlePolicy, counted: list[str]) -> None:
    """A protected account lets browsers without its device cookie through one at a time,
    each gap twice the one before (ASVS 2.4.1, F3)."""
    if device_id is not None:
        return
    failures = await throttle.estimate(account_limit_key(policy, email), window=policy.window_seconds)
    if failures < policy.protect_account_after:
        return
    passed = await throttle.gate(limit_key(policy, "slow", email), interval=slow_down_seconds(failures, policy))
    if not passed.allowed:
        for bucket in counted:
            await throttle.undo(bucket)
        security_log.event("auth.login", "throttled", limit="account")
        raise SlowedDown(retry_after=passed.retry_after)


async def prune_throttles(policy: ThrottlePolicy) -> int:
    """Maintenance: drop throttle counters past use, and reset requests older than the reset
    window (the mail sender was not running; personal data is not kept)."""
    stale = utcnow() - dt.timedelta(seconds=policy.reset_window_seconds)
    async with write_transaction():
        await PasswordResetRequest.delete().where(PasswordResetRequest.created_at < stale)
    return await throttle.prune()
