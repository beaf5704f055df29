"""The staff dashboard: what each role can do from here."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template

from ambassador.web.guards import requires_staff, totp_enrolled


class StaffController(Controller):
    path = "/staff"
    guards = [requires_staff, totp_enrolled]

    @get("/", name="staff")
    async def dashboard(self) -> Template:
        return Template(template_name="staff/dashboard.html")
