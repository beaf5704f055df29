"""Inviting several jurors from a pasted list: the preview of every line, then the confirmation."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from ambassador import i18n
from ambassador.domain import jury_invites
from ambassador.domain.accounts import Account
from ambassador.domain.editions import EditionView
from ambassador.enums import LANGUAGES, Role
from ambassador.errors import DomainError
from ambassador.settings import Settings
from ambassador.web import labels
from ambassador.web.bulk import flash_outcome
from ambassador.web.downloads import NO_STORE
from ambassador.web.editions import edition_or_404
from ambassador.web.forms import Form, read_form
from ambassador.web.guards import requires_role, totp_enrolled
from ambassador.web.jury_admin import jury_refused

AnyRequest = Request[Any, Account, Any]
# The list is read a little past its limits so the domain can tell "too many lines".
MAX_LIST_CHARS = (jury_invites.MAX_LINES + 10) * (jury_invites.MAX_LINE + 2)


def read_list(form: Form) -> dict[str, str]:
    return {
        "list": form.text("list", MAX_LIST_CHARS),
        "language": form.text("language", 5).strip(),
    }


def preview_page(edition: EditionView, planned: list[jury_invites.Planned], values: dict[str, str]) -> Template:
    counts = {action: sum(1 for p in planned if p.action == action) for action in jury_invites.Action}
    return Template(
        template_name="jury_admin/invite_list.html",
        context={
            "edition": edition,
            "section": "jury",
            "planned": planned,
            "counts": counts,
            "doable": counts[jury_invites.Action.INVITE] + counts[jury_invites.Action.APPOINT],
            "values": values,
            "mail_language": i18n.language_name(values["language"]),
            "labels": labels,
            "Action": jury_invites.Action,
        },
        headers=NO_STORE,
    )


class JuryInvitesController(Controller):
    path = "/staff/editions/{edition_id:int}/jury/invite-list"
    guards = [requires_role(Role.CLERK, Role.ADMIN), totp_enrolled]
    include_in_schema = False

    @post("/", name="jury_invite_list_preview")
    async def preview(self, request: AnyRequest, edition_id: FromPath[int]) -> Template:
        """What each line would do; nothing is changed until the clerk confirms."""
        edition = await edition_or_404(edition_id)
        values = read_list(await read_form(request))
        if values["language"] not in LANGUAGES:
            values["language"] = "pl"
        try:
            planned = await jury_invites.plan(edition.id, values["list"])
        except DomainError as exc:
            return await jury_refused(edition, "invite_list", exc, values)
        return preview_page(edition, planned, values)

    @post("/confirm", name="jury_invite_list")
    async def confirm(
        self, request: AnyRequest, edition_id: FromPath[int], settings: NamedDependency[Settings]
    ) -> Template | Redirect:
        """Invite and appoint line by line; the jury page then names what was not done and why."""
        edition = await edition_or_404(edition_id)
        values = read_list(await read_form(request))
        try:
            outcome = await jury_invites.invite_list(
                actor_id=request.user.id,
                edition_id=edition.id,
                text=values["list"],
                language=values["language"],
                base_url=settings.base_url,
                lifetime_seconds=settings.token_lifetime_seconds,
            )
        except DomainError as exc:
            return await jury_refused(edition, "invite_list", exc, values)
        flash_outcome(
            request,
            outcome,
            lambda n, items: i18n.ngettext(
                "%(num)s juror is now on the jury: %(items)s.",
                "%(num)s jurors are now on the jury: %(items)s.",
                n,
                items=items,
            ),
        )
        return Redirect(f"/staff/editions/{edition.id}/jury")
