"""Login (password, then TOTP when enabled), logout, password reset, invitations and the
unlock link of a protected account (docs/authentication.md).

A successful login gives the browser the account's device cookie (signed, ``__Host-`` in
production): while an account is under attack from elsewhere, browsers holding it log in
normally and the others are slowed down.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_429_TOO_MANY_REQUESTS

from ambassador import i18n, metrics
from ambassador.domain import account_links, accounts, signin
from ambassador.domain.accounts import Account
from ambassador.domain.login_limits import ThrottlePolicy
from ambassador.enums import TokenPurpose
from ambassador.errors import (
    N_,
    DomainError,
    InvalidCode,
    InvalidCredentials,
    InvalidInput,
    InvalidToken,
    Throttled,
)
from ambassador.passwords import MAX_PASSWORD_LENGTH, Passwords
from ambassador.settings import Settings
from ambassador.web.client import client_address
from ambassador.web.forms import read_form, safe_next, translated_errors
from ambassador.web.sessions import SessionRotation, pending_totp_session

AnyRequest = Request[Any, Any, Any]


def device_cookie_name(settings: Settings) -> str:
    return "__Host-device" if settings.production else "device"


def _device_cookie(account: Account, settings: Settings, policy: ThrottlePolicy) -> Cookie:
    """The account's device cookie for this browser (set on every successful login)."""
    return Cookie(
        key=device_cookie_name(settings),
        value=signin.new_device_cookie(account, policy),
        max_age=policy.device_cookie_seconds,
        path="/",
        secure=settings.production,
        httponly=True,
        samesite="strict",
    )


def _refused(template: str, exc: DomainError, context: dict[str, Any], *, step: str) -> Template:
    """The form again with the domain's reason: 429 with Retry-After when throttled, else 400."""
    context = {**context, "error": i18n.gettext(exc.message, **exc.params)}
    (metrics.LOGIN_THROTTLED if isinstance(exc, Throttled) else metrics.LOGIN_FAILURES).inc(step=step)
    if isinstance(exc, Throttled):
        return Template(
            template_name=template,
            context=context,
            status_code=HTTP_429_TOO_MANY_REQUESTS,
            headers={"retry-after": str(exc.retry_after)},
        )
    return Template(template_name=template, context=context, status_code=HTTP_400_BAD_REQUEST)


def _pending_login(request: AnyRequest, sessions: SessionRotation) -> int | None:
    """The account whose password was accepted and whose code is due, while it is due (ASVS 7.3.1).

    A pending login older than five minutes is dropped, whatever page asks.
    """
    pending, born = request.session.get("pending_uid"), request.session.get("born", 0)
    if not isinstance(pending, int) or not isinstance(born, int):
        return None
    if sessions.pending_expired(born):
        request.clear_session()
        return None
    return pending


class AuthController(Controller):
    opt = {"exclude_from_auth": True}
    include_in_schema = False

    @get("/login", name="login")
    async def login_form(self, request: AnyRequest, next: FromQuery[str | None] = None) -> Template | Redirect:
        if request.session.get("uid"):
            return Redirect(safe_next(next))
        return Template(
            template_name="auth/login.html",
            context={"next": safe_next(next), "email": "", "error": ""},
        )

    @post("/login", name="login_post")
    async def login(
        self,
        request: AnyRequest,
        passwords: NamedDependency[Passwords],
        throttle: NamedDependency[ThrottlePolicy],
        sessions: NamedDependency[SessionRotation],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        form = await read_form(request)
        email = form.text("email", 254)
        target = safe_next(form.text("next", 2000))
        context = {"next": target, "email": email[:254], "error": ""}
        try:
            result = await signin.authenticate(
                email=email,
                password=form.text("password", MAX_PASSWORD_LENGTH),
                address=client_address(request),
                passwords=passwords,
                policy=throttle,
                device_cookie=request.cookies.get(device_cookie_name(settings), ""),
            )
        except (Throttled, InvalidCredentials) as exc:
            return _refused("auth/login.html", exc, context, step="password")
        await sessions.rotate(request)
        if result.needs_totp:
            request.set_session(pending_totp_session(result.account))
            return Redirect(f"/login/totp?next={quote(target)}")
        session = await sessions.start(request, result.account)
        device = [_device_cookie(result.account, settings, throttle)]
        if result.must_enroll_totp:
            session["enroll"] = True
            request.set_session(session)
            return Redirect("/account/totp", cookies=device)
        request.set_session(session)
        return Redirect(target, cookies=device)

    @get("/login/totp", name="login_totp")
    async def totp_form(
        self, request: AnyRequest, sessions: NamedDependency[SessionRotation], next: FromQuery[str | None] = None
    ) -> Template | Redirect:
        if _pending_login(request, sessions) is None:
            return Redirect("/login")
        return Template(template_name="auth/totp.html", context={"next": safe_next(next), "error": ""})

    @post("/login/totp", name="login_totp_post")
    async def totp(
        self,
        request: AnyRequest,
        throttle: NamedDependency[ThrottlePolicy],
        sessions: NamedDependency[SessionRotation],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        pending = _pending_login(request, sessions)
        if pending is None:
            return Redirect("/login")
        form = await read_form(request)
        target = safe_next(form.text("next", 2000))
        context = {"next": target, "error": ""}
        try:
            account = await signin.verify_totp_login(
                user_id=pending,
                code=form.text("code", 20),
                address=client_address(request),
                policy=throttle,
            )
        except (Throttled, InvalidCode) as exc:
            return _refused("auth/totp.html", exc, context, step="totp")
        await sessions.rotate(request)  # privilege change: the second factor passed
        request.set_session(await sessions.start(request, account))
        return Redirect(target, cookies=[_device_cookie(account, settings, throttle)])

    @post("/logout", name="logout")
    async def logout(self, request: AnyRequest, sessions: NamedDependency[SessionRotation]) -> Redirect:
        """Destroy the server-side session (clearing it deletes the stored entry)."""
        uid = request.session.get("uid")
        if isinstance(uid, int):
            await signin.record_logout(uid)
            await sessions.end(request)
        request.clear_session()
        return Redirect("/")

    @get("/password/forgot", name="password_forgot")
    async def forgot_form(self) -> Template:
        return Template(template_name="auth/forgot.html", context={"email": "", "errors": {}, "error": ""})

    @post("/password/forgot", name="password_forgot_post")
    async def forgot(self, request: AnyRequest, throttle: NamedDependency[ThrottlePolicy]) -> Template | Redirect:
        """The same answer, after the same work, whether or not the account exists (F2)."""
        form = await read_form(request)
        email = accounts.normalise_email(form.text("email", 254))
        if problem := accounts.email_error(email):
            return Template(
                template_name="auth/forgot.html",
                context={"email": email[:254], "errors": translated_errors({"email": problem}), "error": ""},
                status_code=HTTP_400_BAD_REQUEST,
            )
        try:
            await account_links.request_password_reset(email=email, address=client_address(request), policy=throttle)
        except Throttled as exc:
            return Template(
                template_name="auth/forgot.html",
                context={"email": email, "errors": {}, "error": i18n.gettext(exc.message, **exc.params)},
                status_code=HTTP_429_TOO_MANY_REQUESTS,
                headers={"retry-after": str(exc.retry_after)},
            )
        flash(
            request,
            i18n.gettext(N_("If an account exists for this address, we will send it a link to set a new password.")),
            "info",
        )
        return Redirect("/login")

    async def _token_form(self, token: str, purpose: TokenPurpose) -> Template:
        valid = await account_links.token_is_valid(token, purpose)
        return Template(
            template_name="auth/set_password.html",
            context={
                "token": token,
                "purpose": purpose.value,
                "valid": valid,
                "errors": {} if valid else {"token": i18n.gettext(InvalidToken.message)},
            },
            status_code=200 if valid else HTTP_400_BAD_REQUEST,
        )

    async def _use_token(
        self, request: AnyRequest, passwords: NamedDependency[Passwords], purpose: TokenPurpose
    ) -> Template | Redirect:
        form = await read_form(request)
        token = form.text("token", 200)
        password = form.text("password", MAX_PASSWORD_LENGTH)
        errors: dict[str, str] = {}
        if password != form.text("password_again", MAX_PASSWORD_LENGTH):
            errors["password_again"] = N_("The two passwords are not the same.")
        else:
            try:
                await account_links.set_password_with_token(
                    token=token, purpose=purpose, password=password, passwords=passwords
                )
            except InvalidToken as exc:
                errors["token"] = exc.message
            except InvalidInput as exc:
                errors.update(exc.errors)
        if errors:
            return Template(
                template_name="auth/set_password.html",
                context={
                    "token": token,
                    "purpose": purpose.value,
                    "valid": "token" not in errors,
                    "errors": translated_errors(errors),
                },
                status_code=HTTP_400_BAD_REQUEST,
            )
        flash(request, i18n.gettext(N_("Your password is set. You can log in now.")), "success")
        return Redirect("/login")

    @get("/password/reset", name="password_reset")
    async def reset_form(self, token: FromQuery[str] = "") -> Template:
        return await self._token_form(token[:200], TokenPurpose.PASSWORD_RESET)

    @post("/password/reset", name="password_reset_post")
    async def reset(self, request: AnyRequest, passwords: NamedDependency[Passwords]) -> Template | Redirect:
        return await self._use_token(request, passwords, TokenPurpose.PASSWORD_RESET)

    @get("/account/activate", name="activate")
    async def activate_form(self, token: FromQuery[str] = "") -> Template:
        return await self._token_form(token[:200], TokenPurpose.INVITATION)

    @post("/account/activate", name="activate_post")
    async def activate(self, request: AnyRequest, passwords: NamedDependency[Passwords]) -> Template | Redirect:
        return await self._use_token(request, passwords, TokenPurpose.INVITATION)

    @get("/login/unlock", name="login_unlock")
    async def unlock_form(self, token: FromQuery[str] = "") -> Template:
        """The unlock link's page: a button, so that a mail scanner opening the link uses nothing."""
        token = token[:200]
        valid = await signin.unlock_link_is_valid(token)
        return Template(
            template_name="auth/unlock.html",
            context={"token": token, "valid": valid, "error": "" if valid else i18n.gettext(InvalidToken.message)},
            status_code=200 if valid else HTTP_400_BAD_REQUEST,
        )

    @post("/login/unlock", name="login_unlock_post")
    async def unlock(
        self,
        request: AnyRequest,
        throttle: NamedDependency[ThrottlePolicy],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        """Clear the account's failure count and give this browser the account's device cookie."""
        form = await read_form(request)
        token = form.text("token", 200)
        try:
            account = await signin.use_unlock_link(token=token, policy=throttle)
        except InvalidToken as exc:
            return Template(
                template_name="auth/unlock.html",
                context={"token": "", "valid": False, "error": i18n.gettext(exc.message)},
                status_code=HTTP_400_BAD_REQUEST,
            )
        flash(request, i18n.gettext(N_("Logging in from this browser is unlocked. You can log in now.")), "success")
        return Redirect("/login", cookies=[_device_cookie(account, settings, throttle)])
