"""Server-side sessions whose id is rotated at login and on privilege change.

Litestar's backend keeps whatever id the cookie brings (session fixation); ``rotate``
deletes the old server-side entry and makes the response carry a fresh id. A full login
registers the session (``ambassador.domain.sessions``); its dict carries the registry id
(``sid``) and when the password was last entered (``auth_at``, for step-up). See
docs/sessions.md.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Empty, Message, ScopeSession

from ambassador import i18n
from ambassador.domain import sessions as registry
from ambassador.domain.accounts import Account
from ambassador.domain.sessions import SessionPolicy
from ambassador.errors import N_
from ambassador.settings import Settings
from ambassador.web.client import client_address

_ROTATED = "_rotated_session_id"
# A password accepted, the second factor due: this long to enter it, whatever the activity.
PENDING_TOTP_SECONDS = 5 * 60
Clock = Callable[[], float]


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        state = connection.scope.setdefault("state", {})
        if state.get(_ROTATED):
            return str(state[_ROTATED])
        return super().get_session_id(connection)

    async def store_in_message(
        self,
        scope_session: ScopeSession,
        message: Message,
        connection: ASGIConnection[Any, Any, Any, Any],
    ) -> None:
        """Never persist an empty session: anonymous visitors cost no write and get no cookie."""
        if isinstance(scope_session, dict) and not scope_session:
            if not connection.cookies.get(self.config.key):
                return
            scope_session = Empty
        await super().store_in_message(scope_session, message, connection)


@dataclass
class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


def session_policy(settings: Settings) -> SessionPolicy:
    return SessionPolicy(
        idle_seconds=settings.session_idle_seconds,
        absolute_seconds=settings.session_absolute_seconds,
        max_per_account=settings.max_sessions_per_account,
    )


class SessionRotation:
    """Issues a fresh session id at login and on privilege change (injected into handlers).

    It also starts, renews and ends registered sessions, and holds the clock every session
    time is read from (tests replace ``clock``).
    """

    def __init__(self, config: RotatingSessionConfig, settings: Settings, clock: Clock = time.time) -> None:
        self.config = config
        self.policy = session_policy(settings)
        self.step_up_seconds = settings.step_up_seconds
        self.clock = clock

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC)

    def pending_expired(self, born: int) -> bool:
        """ASVS 7.3.1 (audit F12): a pending second factor is due within five minutes."""
        return self.clock() - born > PENDING_TOTP_SECONDS

    def stepped_up(self, session: dict[str, Any]) -> bool:
        """Whether the password was entered (login or confirmation) within the step-up window."""
        auth_at = session.get("auth_at")
        return isinstance(auth_at, int) and 0 <= self.clock() - auth_at <= self.step_up_seconds

    async def start(self, connection: ASGIConnection[Any, Any, Any, Any], account: Account) -> dict[str, Any]:
        """The session dict of a complete login, registered (the limit may end an older one)."""
        now = self.clock()
        started = await registry.start(
            user_id=account.id,
            epoch=account.session_epoch,
            address=client_address(connection),
            user_agent=connection.headers.get("user-agent", ""),
            policy=self.policy,
            now=self.now(),
        )
        session = session_for(account, now=now)
        session.update(sid=started.public_id, auth_at=int(now))
        if started.ended_for_limit:
            message = i18n.gettext(
                N_("You were signed in on too many devices: your least recently used session has been ended.")
            )
            session["_messages"] = [{"message": message, "category": "info"}]
        return session

    async def renew(self, connection: ASGIConnection[Any, Any, Any, Any], account: Account) -> dict[str, Any]:
        """After a change of the account's own security: a new id, the same registered session.

        The other sessions end (the epoch moved on); this one follows the new epoch.
        """
        old = dict(connection.session)
        await self.rotate(connection)
        session = session_for(account, now=self.clock())
        sid = old.get("sid")
        if isinstance(sid, str):
            await registry.follow_epoch(public_id=sid, user_id=account.id, epoch=account.session_epoch)
            session["sid"] = sid
        for kept in ("born", "auth_at", "_messages"):  # the absolute lifetime counts from the login
            if kept in old:
                session[kept] = old[kept]
        return session

    async def end(self, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        """Logout: the registered session ends with the stored one."""
        uid, sid = connection.session.get("uid"), connection.session.get("sid")
        if isinstance(uid, int) and isinstance(sid, str):
            await registry.end_at_logout(public_id=sid, user_id=uid, now=self.now())

    async def rotate(self, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        """Forget the current session id server-side; the response carries a new one."""
        backend = RotatingSessionBackend(config=self.config)
        old_id = connection.cookies.get(self.config.key)
        if old_id:
            await backend.delete(old_id, store=self.config.get_store_from_app(connection.app))
        state = connection.scope.setdefault("state", {})
        state[_ROTATED] = backend.generate_session_id()


def session_for(account: Account, now: float | None = None) -> dict[str, Any]:
    """The session of a fully logged-in staff user."""
    return {"uid": account.id, "epoch": account.session_epoch, "born": int(time.time() if now is None else now)}


def current_sid(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The registry id of the request's session ("" when it has none)."""
    sid = connection.session.get("sid")
    return sid if isinstance(sid, str) else ""


def pending_totp_session(account: Account) -> dict[str, Any]:
    """Password accepted, second factor still due: no access to anything else."""
    return {"pending_uid": account.id, "born": int(time.time())}


_BROWSERS = (
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/(\d+)")),
    ("Opera", re.compile(r"(?:OPR|Opera)/(\d+)")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/(\d+)")),
    ("Firefox", re.compile(r"(?:Firefox|FxiOS)/(\d+)")),
    ("Chrome", re.compile(r"(?:Chrome|CriOS)/(\d+)")),
    ("Safari", re.compile(r"Version/(\d+)[.\d]* (?:Mobile/\S+ )?Safari/")),
)
_SYSTEMS = (
    ("Android", re.compile(r"Android")),
    ("iPhone", re.compile(r"iPhone")),
    ("iPad", re.compile(r"iPad")),
    ("Windows", re.compile(r"Windows")),
    ("macOS", re.compile(r"Mac OS X|Macintosh")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("Linux", re.compile(r"Linux")),
)


def browser_summary(user_agent: str) -> str:
    """A short readable name for a User-Agent ("Firefox 121, Windows"); "" when unknown."""
    browser = next((f"{name} {m.group(1)}" for name, rx in _BROWSERS if (m := rx.search(user_agent))), "")
    system = next((name for name, rx in _SYSTEMS if rx.search(user_agent)), "")
    return ", ".join(part for part in (browser, system) if part)
