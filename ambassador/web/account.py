"""The signed-in user's own account: password, second factor, mail language, sessions.

``/account/confirm`` is the step-up form (``ambassador.web.stepup``); ``/account/sessions``
lists the account's signed-in browsers and ends them (docs/sessions.md).
"""

from __future__ import annotations

from typing import Any

import segno
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_400_BAD_REQUEST, HTTP_429_TOO_MANY_REQUESTS

from ambassador import i18n
from ambassador.domain import accounts, second_factor, signin
from ambassador.domain import sessions as registry
from ambassador.domain.accounts import Account
from ambassador.domain.login_limits import ThrottlePolicy
from ambassador.errors import N_, InvalidCode, InvalidCredentials, InvalidInput, Throttled
from ambassador.passwords import MAX_PASSWORD_LENGTH, Passwords
from ambassador.web.client import client_address
from ambassador.web.forms import read_form, safe_next, translated_errors
from ambassador.web.guards import requires_staff
from ambassador.web.sessions import SessionRotation, browser_summary, current_sid
from ambassador.web.stepup import redirect_unless_fresh, requires_step_up

AnyRequest = Request[Any, Account, Any]
SESSIONS_PAGE = "/account/sessions"


async def _relogin(request: AnyRequest, account: Account, sessions: NamedDependency[SessionRotation]) -> None:
    """After a security change: new session id, carrying the account's new epoch."""
    request.set_session(await sessions.renew(request, account))


class AccountController(Controller):
    path = "/account"
    guards = [requires_staff]
    include_in_schema = False

    @get("/", name="account")
    async def show(self) -> Template:
        return Template(template_name="account/index.html", context={"errors": {}})

    @post("/password", name="account_password")
    async def change_password(
        self,
        request: AnyRequest,
        passwords: NamedDependency[Passwords],
        sessions: NamedDependency[SessionRotation],
        throttle: NamedDependency[ThrottlePolicy],
    ) -> Template | Redirect:
        form = await read_form(request)
        new = form.text("new_password", MAX_PASSWORD_LENGTH)
        if new != form.text("new_password_again", MAX_PASSWORD_LENGTH):
            errors = {"new_password_again": N_("The two passwords are not the same.")}
        else:
            try:
                account = await signin.change_password(
                    user_id=request.user.id,
                    current=form.text("current_password", MAX_PASSWORD_LENGTH),
                    new=new,
                    passwords=passwords,
                    address=client_address(request),
                    policy=throttle,
                )
            except Throttled as exc:
                return Template(
                    template_name="account/index.html",
                    context={"errors": {"current_password": i18n.gettext(exc.message, **exc.params)}},
                    status_code=HTTP_429_TOO_MANY_REQUESTS,
                    headers={"retry-after": str(exc.retry_after)},
                )
            except InvalidInput as exc:
                errors = exc.errors
            else:
                await _relogin(request, account, sessions)
                flash(request, i18n.gettext(N_("Your password has been changed.")), "success")
                return Redirect("/account")
        return Template(
            template_name="account/index.html",
            context={"errors": translated_errors(errors)},
            status_code=HTTP_400_BAD_REQUEST,
        )

    @post("/language", name="account_language")
    async def change_language(self, request: AnyRequest) -> Redirect:
        form = await read_form(request)
        try:
            await accounts.set_language(user_id=request.user.id, language=form.text("language", 5))
        except InvalidInput:
            flash(request, i18n.gettext(N_("Choose one of the offered languages.")), "error")
        else:
            flash(request, i18n.gettext(N_("Saved.")), "success")
        return Redirect("/account")

    def _totp_page(self, request: AnyRequest, error: str = "", status: int = 200) -> Template:
        secret = request.session.get("totp_setup")
        context: dict[str, Any] = {"error": error, "secret": "", "qr_svg": "", "uri": ""}
        if not request.user.totp_enabled and isinstance(secret, str):
            uri = second_factor.totp_uri(secret, request.user.email)
            context.update(
                secret=secret,
                uri=uri,
                qr_svg=segno.make(uri, error="m").svg_inline(
                    scale=4, title=i18n.gettext(N_("QR code for your authenticator app"))
                ),
            )
        return Template(template_name="account/totp.html", context=context, status_code=status)

    @get("/totp", name="account_totp")
    async def totp_form(self, request: AnyRequest) -> Template | Redirect:
        if not request.user.totp_enabled and (ask := redirect_unless_fresh(request)):
            return ask  # ASVS 7.5.1 (audit F8): enabling the factor needs the password first
        if not request.user.totp_enabled and not isinstance(request.session.get("totp_setup"), str):
            request.session["totp_setup"] = second_factor.new_totp_secret()
        return self._totp_page(request)

    @post("/totp", name="account_totp_post", guards=[requires_step_up("/account/totp")])
    async def enable_totp(self, request: AnyRequest, sessions: NamedDependency[SessionRotation]) -> Template | Redirect:
        secret = request.session.get("totp_setup")
        if request.user.totp_enabled or not isinstance(secret, str):
            return Redirect("/account/totp")
        form = await read_form(request)
        try:
            account = await second_factor.enable_totp(
                user_id=request.user.id, secret=secret, code=form.text("code", 20)
            )
        except InvalidCode as exc:
            return self._totp_page(request, i18n.gettext(exc.message), HTTP_400_BAD_REQUEST)
        await _relogin(request, account, sessions)
        flash(request, i18n.gettext(N_("Two-step login is on.")), "success")
        return Redirect("/staff")

    @post("/totp/disable", name="account_totp_disable")
    async def disable_totp(
        self,
        request: AnyRequest,
        passwords: NamedDependency[Passwords],
        sessions: NamedDependency[SessionRotation],
        throttle: NamedDependency[ThrottlePolicy],
    ) -> Template | Redirect:
        form = await read_form(request)
        account = request.user
        policies = await second_factor.role_policies()
        if any(policies[role] for role in account.roles):
            flash(request, i18n.gettext(N_("Two-step login is mandatory for your role.")), "error")
            return Redirect("/account/totp")
        try:
            await signin.reauthenticate(
                user_id=account.id,
                password=form.text("password", MAX_PASSWORD_LENGTH),
                address=client_address(request),
                passwords=passwords,
                policy=throttle,
            )
        except Throttled as exc:
            return self._totp_page(request, i18n.gettext(exc.message, **exc.params), HTTP_429_TOO_MANY_REQUESTS)
        except InvalidCredentials:
            return self._totp_page(
                request,
                i18n.gettext(N_("The current password is not correct.")),
                HTTP_400_BAD_REQUEST,
            )
        updated = await second_factor.disable_totp(actor_id=account.id, user_id=account.id)
        await _relogin(request, updated, sessions)
        flash(request, i18n.gettext(N_("Two-step login is off.")), "success")
        return Redirect("/account")

    # --- step-up: the password again before a sensitive change (ASVS 7.5.1, 7.5.3) -----------

    @get("/confirm", name="account_confirm")
    async def confirm_form(self, next: FromQuery[str | None] = None) -> Template:
        return Template(template_name="account/confirm.html", context={"next": safe_next(next), "error": ""})

    @post("/confirm", name="account_confirm_post")
    async def confirm(
        self,
        request: AnyRequest,
        passwords: NamedDependency[Passwords],
        sessions: NamedDependency[SessionRotation],
        throttle: NamedDependency[ThrottlePolicy],
    ) -> Template | Redirect:
        form = await read_form(request)
        target = safe_next(form.text("next", 2000))
        try:
            await signin.reauthenticate(
                user_id=request.user.id,
                password=form.text("password", MAX_PASSWORD_LENGTH),
                address=client_address(request),
                passwords=passwords,
                policy=throttle,
            )
        except Throttled as exc:
            return Template(
                template_name="account/confirm.html",
                context={"next": target, "error": i18n.gettext(exc.message, **exc.params)},
                status_code=HTTP_429_TOO_MANY_REQUESTS,
                headers={"retry-after": str(exc.retry_after)},
            )
        except InvalidCredentials:
            return Template(
                template_name="account/confirm.html",
                context={"next": target, "error": i18n.gettext(N_("The password is not correct."))},
                status_code=HTTP_400_BAD_REQUEST,
            )
        await sessions.rotate(request)  # ASVS 7.2.4: a new session id at re-authentication too
        request.session["auth_at"] = int(sessions.clock())
        return Redirect(target, status_code=HTTP_303_SEE_OTHER)

    # --- the account's sessions (ASVS 7.5.2) ---------------------------------------------

    @get("/sessions", name="account_sessions")
    async def sessions_page(self, request: AnyRequest, sessions: NamedDependency[SessionRotation]) -> Template:
        found = await registry.live_sessions(user_id=request.user.id, policy=sessions.policy, now=sessions.now())
        current = current_sid(request)
        return Template(
            template_name="account/sessions.html",
            context={
                "sessions": [
                    {"view": view, "browser": browser_summary(view.user_agent), "current": view.public_id == current}
                    for view in found
                ],
                "others": sum(1 for view in found if view.public_id != current),
            },
        )

    @post(
        "/sessions/{public_id:str}/end",
        name="account_session_end",
        guards=[requires_step_up(SESSIONS_PAGE)],
    )
    async def end_session(
        self, request: AnyRequest, public_id: FromPath[str], sessions: NamedDependency[SessionRotation]
    ) -> Redirect:
        if public_id == current_sid(request):
            flash(request, i18n.gettext(N_("To end the session you are using, log out.")), "error")
            return Redirect(SESSIONS_PAGE, status_code=HTTP_303_SEE_OTHER)
        ended = await registry.end_own(
            user_id=request.user.id, public_id=public_id[:64], policy=sessions.policy, now=sessions.now()
        )
        if ended:
            flash(request, i18n.gettext(N_("The session has been ended.")), "success")
        else:
            flash(request, i18n.gettext(N_("That session had already ended.")), "info")
        return Redirect(SESSIONS_PAGE, status_code=HTTP_303_SEE_OTHER)

    @get("/sessions/end-others", name="account_sessions_end_others_confirm")
    async def end_others_form(self, request: AnyRequest, sessions: NamedDependency[SessionRotation]) -> Template:
        found = await registry.live_sessions(user_id=request.user.id, policy=sessions.policy, now=sessions.now())
        others = sum(1 for view in found if view.public_id != current_sid(request))
        return Template(
            template_name="account/end_sessions.html",
            context={
                "action": "/account/sessions/end-others",
                "back": SESSIONS_PAGE,
                "question": i18n.ngettext(
                    "End your %(num)s other session? Those browsers will have to log in again.",
                    "End your %(num)s other sessions? Those browsers will have to log in again.",
                    others,
                ),
                "button": i18n.gettext(N_("End all other sessions")),
                "count": others,
            },
        )

    @post(
        "/sessions/end-others",
        name="account_sessions_end_others",
        guards=[requires_step_up("/account/sessions/end-others")],
    )
    async def end_others(self, request: AnyRequest, sessions: NamedDependency[SessionRotation]) -> Redirect:
        ended = await registry.end_others(
            user_id=request.user.id, keep=current_sid(request), policy=sessions.policy, now=sessions.now()
        )
        flash(request, i18n.ngettext("%(num)s session ended.", "%(num)s sessions ended.", ended), "success")
        return Redirect(SESSIONS_PAGE, status_code=HTTP_303_SEE_OTHER)
