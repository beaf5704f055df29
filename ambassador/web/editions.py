"""Clerk pages for editions: list, create, edit and move along the lifecycle."""

from __future__ import annotations

from litestar import Controller

from ambassador.enums import Role
from ambassador.web.guards import requires_role, totp_enrolled


class EditionController(Controller):
    path = "/staff/editions"
    guards = [requires_role(Role.CLERK, Role.ADMIN), totp_enrolled]
