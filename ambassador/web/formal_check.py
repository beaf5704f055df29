"""Clerk pages for the formal check: nominations of an edition, dossiers, merges, export."""

from __future__ import annotations

from litestar import Controller

from ambassador.enums import Role
from ambassador.web.guards import requires_role, totp_enrolled


class FormalCheckController(Controller):
    path = "/staff"
    guards = [requires_role(Role.CLERK, Role.ADMIN), totp_enrolled]
