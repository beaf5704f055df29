"""The staff dashboard: what waits for whom, and what each role can do from here."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from ambassador.domain import editions, todo
from ambassador.domain.accounts import Account
from ambassador.enums import Role
from ambassador.web import labels
from ambassador.web.downloads import NO_STORE
from ambassador.web.guards import requires_staff, totp_enrolled


class StaffController(Controller):
    path = "/staff"
    guards = [requires_staff, totp_enrolled]
    include_in_schema = False

    @get("/", name="staff")
    async def dashboard(self, request: Request[Any, Account, Any]) -> Template:
        clerk = request.user.has_role(Role.CLERK, Role.ADMIN)
        return Template(
            template_name="staff/dashboard.html",
            context={
                "open_edition": await editions.open_edition_now() if clerk else None,
                "todo": await todo.for_clerk() if clerk else [],
                "labels": labels,
            },
            headers=NO_STORE,
        )
