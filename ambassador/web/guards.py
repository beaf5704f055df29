"""Route guards: who may reach a handler. Visibility of data is enforced in the domain."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from ambassador.domain.accounts import Account
from ambassador.enums import Role

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def current_account(connection: ASGIConnection[Any, Any, Any, Any]) -> Account | None:
    user = connection.scope.get("user")
    return user if isinstance(user, Account) else None


class RoleRequired(PermissionDeniedException):
    """A guard refused the account for its roles (logged as ``authz.denied`` with reason ``role``)."""


def requires_role(*roles: Role) -> Guard:
    """Allow only accounts holding at least one of ``roles`` (403 otherwise)."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        account = current_account(connection)
        if account is None or not account.has_role(*roles):
            raise RoleRequired()

    return guard


def requires_staff(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    account = current_account(connection)
    if account is None or not account.is_staff:
        raise RoleRequired()


class TotpEnrollmentRequired(HTTPException):
    """The account's role makes a second factor mandatory and none is set up yet."""

    status_code = 303


def totp_enrolled(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if connection.session.get("enroll"):
        raise TotpEnrollmentRequired()
