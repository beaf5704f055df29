"""The signed-in user's own account: password, second factor, mail language."""

from __future__ import annotations

from typing import Any

import segno
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_429_TOO_MANY_REQUESTS

from ambassador import i18n
from ambassador.domain import accounts
from ambassador.domain.accounts import Account, ThrottlePolicy
from ambassador.errors import N_, InvalidCode, InvalidCredentials, InvalidInput, Throttled
from ambassador.passwords import MAX_PASSWORD_LENGTH, Passwords
from ambassador.web.client import client_address
from ambassador.web.forms import read_form, translated_errors
from ambassador.web.guards import requires_staff
from ambassador.web.sessions import SessionRotation, session_for

AnyRequest = Request[Any, Account, Any]


async def _relogin(request: AnyRequest, account: Account, sessions: NamedDependency[SessionRotation]) -> None:
    """After a security change: new session id, carrying the account's new epoch."""
    await sessions.rotate(request)
    request.set_session(session_for(account))


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
                account = await accounts.change_password(
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
            uri = accounts.totp_uri(secret, request.user.email)
            context.update(
                secret=secret,
                uri=uri,
                qr_svg=segno.make(uri, error="m").svg_inline(
                    scale=4, title=i18n.gettext(N_("QR code for your authenticator app"))
                ),
            )
        return Template(template_name="account/totp.html", context=context, status_code=status)

    @get("/totp", name="account_totp")
    async def totp_form(self, request: AnyRequest) -> Template:
        if not request.user.totp_enabled and not isinstance(request.session.get("totp_setup"), str):
            request.session["totp_setup"] = accounts.new_totp_secret()
        return self._totp_page(request)

    @post("/totp", name="account_totp_post")
    async def enable_totp(self, request: AnyRequest, sessions: NamedDependency[SessionRotation]) -> Template | Redirect:
        secret = request.session.get("totp_setup")
        if request.user.totp_enabled or not isinstance(secret, str):
            return Redirect("/account/totp")
        form = await read_form(request)
        try:
            account = await accounts.enable_totp(user_id=request.user.id, secret=secret, code=form.text("code", 20))
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
        policies = await accounts.role_policies()
        if any(policies[role] for role in account.roles):
            flash(request, i18n.gettext(N_("Two-step login is mandatory for your role.")), "error")
            return Redirect("/account/totp")
        try:
            await accounts.reauthenticate(
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
        updated = await accounts.disable_totp(actor_id=account.id, user_id=account.id)
        await _relogin(request, updated, sessions)
        flash(request, i18n.gettext(N_("Two-step login is off.")), "success")
        return Redirect("/account")
