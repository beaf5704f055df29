"""Administration: staff accounts, roles, security policy and the audit log."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_400_BAD_REQUEST

from ambassador import i18n
from ambassador.domain import account_links, accounts, audit, audit_verify, second_factor
from ambassador.domain import sessions as registry
from ambassador.domain.accounts import Account
from ambassador.enums import LANGUAGES, Role
from ambassador.errors import N_, InvalidInput
from ambassador.settings import Settings
from ambassador.web.forms import Form, read_form, require_row_id, translated_errors
from ambassador.web.guards import requires_role, totp_enrolled
from ambassador.web.sessions import SessionRotation, current_sid
from ambassador.web.stepup import requires_step_up

AnyRequest = Request[Any, Account, Any]
AUDIT_PAGE = 50
USER_PAGE = "/admin/users/{user_id}"


def _roles(form: Form) -> frozenset[Role]:
    return frozenset(Role(v) for v in form.values("roles") if v in set(Role))


async def _target(user_id: FromPath[int]) -> Account:
    account = await accounts.get_account(require_row_id(user_id))
    if account is None:
        raise NotFoundException()
    return account


async def _user_page(
    account: Account, sessions: SessionRotation, errors: dict[str, str] | None = None, status_code: int = 200
) -> Template:
    live = await registry.count_live(user_id=account.id, policy=sessions.policy, now=sessions.now())
    return Template(
        template_name="admin/user.html",
        context={"account": account, "errors": errors or {}, "live_sessions": live},
        status_code=status_code,
    )


class AdminController(Controller):
    path = "/admin"
    guards = [requires_role(Role.ADMIN), totp_enrolled]
    include_in_schema = False

    @get("/users", name="admin_users")
    async def users(self) -> Template:
        return Template(template_name="admin/users.html", context={"accounts": await accounts.list_accounts()})

    @get("/users/new", name="admin_user_new")
    async def invite_form(self) -> Template:
        return Template(
            template_name="admin/invite.html",
            context={
                "values": {
                    "email": "",
                    "display_name": "",
                    "language": i18n.current_language.get(),
                    "roles": [],
                },
                "errors": {},
            },
        )

    @post("/users/new", name="admin_user_new_post")
    async def invite(self, request: AnyRequest, settings: NamedDependency[Settings]) -> Template | Redirect:
        form = await read_form(request)
        email, name, language = (
            form.text("email", 254),
            form.text("display_name", 200),
            form.text("language", 5),
        )
        values = {
            "email": email,
            "display_name": name,
            "language": language,
            "roles": sorted(_roles(form)),
        }
        try:
            account = await account_links.invite_user(
                actor_id=request.user.id,
                email=email,
                display_name=name,
                roles=_roles(form),
                language=language if language in LANGUAGES else "pl",
                base_url=settings.base_url,
                lifetime_seconds=settings.token_lifetime_seconds,
            )
        except InvalidInput as exc:
            return Template(
                template_name="admin/invite.html",
                context={"values": values, "errors": translated_errors(exc.errors)},
                status_code=HTTP_400_BAD_REQUEST,
            )
        flash(
            request,
            i18n.gettext(N_("Invitation sent to %(email)s."), email=account.email),
            "success",
        )
        return Redirect(f"/admin/users/{account.id}")

    @get("/users/{user_id:int}", name="admin_user")
    async def user(self, user_id: FromPath[int], sessions: NamedDependency[SessionRotation]) -> Template:
        return await _user_page(await _target(user_id), sessions)

    async def _apply(
        self,
        request: AnyRequest,
        user_id: FromPath[int],
        sessions: NamedDependency[SessionRotation],
        change: Any,
    ) -> Template | Redirect:
        target = await _target(user_id)
        try:
            updated = await change(target)
        except InvalidInput as exc:
            return await _user_page(target, sessions, translated_errors(exc.errors), HTTP_400_BAD_REQUEST)
        if updated.id == request.user.id:
            # Own privileges changed: keep working, under a new session id.
            request.set_session(await sessions.renew(request, updated))
        flash(request, i18n.gettext(N_("Saved.")), "success")
        return Redirect(
            f"/admin/users/{user_id}" if updated.has_role(Role.ADMIN) or updated.id != request.user.id else "/staff"
        )

    # Any change of roles needs a fresh password: each role opens personal data (docs/sessions.md).
    @post("/users/{user_id:int}/roles", name="admin_user_roles", guards=[requires_step_up(USER_PAGE)])
    async def set_roles(
        self, request: AnyRequest, user_id: FromPath[int], sessions: NamedDependency[SessionRotation]
    ) -> Template | Redirect:
        roles = _roles(await read_form(request))

        async def change(target: Account) -> Account:
            return await accounts.set_roles(actor_id=request.user.id, user_id=target.id, roles=roles)

        return await self._apply(request, user_id, sessions, change)

    @post("/users/{user_id:int}/active", name="admin_user_active")
    async def set_active(
        self, request: AnyRequest, user_id: FromPath[int], sessions: NamedDependency[SessionRotation]
    ) -> Template | Redirect:
        active = (await read_form(request)).flag("active")

        async def change(target: Account) -> Account:
            return await accounts.set_active(actor_id=request.user.id, user_id=target.id, active=active)

        return await self._apply(request, user_id, sessions, change)

    @post("/users/{user_id:int}/totp-reset", name="admin_user_totp_reset", guards=[requires_step_up(USER_PAGE)])
    async def reset_totp(
        self, request: AnyRequest, user_id: FromPath[int], sessions: NamedDependency[SessionRotation]
    ) -> Template | Redirect:
        async def change(target: Account) -> Account:
            return await second_factor.disable_totp(actor_id=request.user.id, user_id=target.id)

        return await self._apply(request, user_id, sessions, change)

    @get("/security", name="admin_security", guards=[requires_step_up()])
    async def security_policy(self) -> Template:
        return Template(
            template_name="admin/security.html",
            context={"policies": await second_factor.role_policies()},
        )

    @post("/security", name="admin_security_post", guards=[requires_step_up("/admin/security")])
    async def set_security(self, request: AnyRequest) -> Redirect:
        form = await read_form(request)
        required = set(form.values("totp_required"))
        current = await second_factor.role_policies()
        for role in Role:
            wanted = role.value in required
            if current[role] != wanted:
                await second_factor.set_totp_required(actor_id=request.user.id, role=role, required=wanted)
        flash(request, i18n.gettext(N_("Saved.")), "success")
        return Redirect("/admin/security")

    @get("/audit", name="admin_audit")
    async def audit_log(self, before: FromQuery[int | None] = None, verify: FromQuery[bool] = False) -> Template:
        entries = await audit.recent(limit=AUDIT_PAGE + 1, before_id=before)
        report = await audit_verify.verify_chain() if verify else None
        return Template(
            template_name="admin/audit.html",
            context={
                "entries": entries[:AUDIT_PAGE],
                "next_before": entries[AUDIT_PAGE - 1]["id"] if len(entries) > AUDIT_PAGE else None,
                "report": report,
            },
        )

    # --- ending sessions (ASVS 7.4.5) --------------------------------------------------------

    @get("/users/{user_id:int}/sessions/end", name="admin_user_sessions_confirm")
    async def end_user_sessions_form(
        self, request: AnyRequest, user_id: FromPath[int], sessions: NamedDependency[SessionRotation]
    ) -> Template:
        target = await _target(user_id)
        live = await registry.count_live(user_id=target.id, policy=sessions.policy, now=sessions.now())
        if target.id == request.user.id:
            live = max(0, live - 1)  # the admin's own current session stays
        return Template(
            template_name="account/end_sessions.html",
            context={
                "action": f"/admin/users/{target.id}/sessions/end",
                "back": f"/admin/users/{target.id}",
                "question": i18n.ngettext(
                    "End %(num)s session of %(name)s? They will have to log in again.",
                    "End %(num)s sessions of %(name)s? They will have to log in again.",
                    live,
                    name=target.display_name,
                ),
                "button": i18n.gettext(N_("End this user's sessions")),
                "count": live,
            },
        )

    @post(
        "/users/{user_id:int}/sessions/end",
        name="admin_user_sessions_end",
        guards=[requires_step_up("/admin/users/{user_id}/sessions/end")],
    )
    async def end_user_sessions(
        self, request: AnyRequest, user_id: FromPath[int], sessions: NamedDependency[SessionRotation]
    ) -> Redirect:
        target = await _target(user_id)
        ended = await registry.end_for_user(
            actor_id=request.user.id,
            user_id=target.id,
            keep=current_sid(request),
            policy=sessions.policy,
            now=sessions.now(),
        )
        flash(request, i18n.ngettext("%(num)s session ended.", "%(num)s sessions ended.", ended), "success")
        return Redirect(f"/admin/users/{target.id}", status_code=HTTP_303_SEE_OTHER)

    @get("/sessions/end", name="admin_sessions_confirm")
    async def end_all_sessions_form(self) -> Template:
        return Template(
            template_name="account/end_sessions.html",
            context={
                "action": "/admin/sessions/end",
                "back": "/admin/users",
                "question": i18n.gettext(
                    N_(
                        "End the sessions of every staff member, except the one you are using now?"
                        " Everyone will have to log in again."
                    )
                ),
                "button": i18n.gettext(N_("End everyone's sessions")),
                "count": None,
            },
        )

    @post("/sessions/end", name="admin_sessions_end", guards=[requires_step_up("/admin/sessions/end")])
    async def end_all_sessions(self, request: AnyRequest, sessions: NamedDependency[SessionRotation]) -> Redirect:
        ended = await registry.end_everyones(
            actor_id=request.user.id, keep=current_sid(request), policy=sessions.policy, now=sessions.now()
        )
        flash(request, i18n.ngettext("%(num)s session ended.", "%(num)s sessions ended.", ended), "success")
        return Redirect("/admin/users", status_code=HTTP_303_SEE_OTHER)
