"""Server-side sessions whose id is rotated at login and on privilege change.

Litestar's backend keeps whatever id the cookie brings (session fixation); ``rotate``
deletes the old server-side entry and makes the response carry a fresh id.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Empty, Message, ScopeSession

from ambassador.domain.accounts import Account

_ROTATED = "_rotated_session_id"


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


class SessionRotation:
    """Issues a fresh session id at login and on privilege change (injected into handlers)."""

    def __init__(self, config: RotatingSessionConfig) -> None:
        self.config = config

    async def rotate(self, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        """Forget the current session id server-side; the response carries a new one."""
        backend = RotatingSessionBackend(config=self.config)
        old_id = connection.cookies.get(self.config.key)
        if old_id:
            await backend.delete(old_id, store=self.config.get_store_from_app(connection.app))
        state = connection.scope.setdefault("state", {})
        state[_ROTATED] = backend.generate_session_id()


def session_for(account: Account) -> dict[str, Any]:
    """The session of a fully logged-in staff user."""
    return {"uid": account.id, "epoch": account.session_epoch, "born": int(time.time())}


def pending_totp_session(account: Account) -> dict[str, Any]:
    """Password accepted, second factor still due: no access to anything else."""
    return {"pending_uid": account.id, "born": int(time.time())}
