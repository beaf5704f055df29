"""Step-up ("sudo mode"): sensitive changes need the password entered within a short window.

A login's password, or the form at ``/account/confirm``, records ``auth_at`` in the session
(``ambassador.web.sessions``). Past ``AMBASSADOR_STEP_UP_SECONDS`` a guarded page redirects
to ``/account/confirm?next=<the page>``, and a guarded POST is refused the same way before
it reads or changes anything, ``next`` being the page that holds its form (ASVS 7.5.1,
7.5.3). See docs/sessions.md for the guarded actions.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from ambassador.web.guards import Guard
from ambassador.web.sessions import SessionRotation

CONFIRM_PATH = "/account/confirm"


class StepUpRequired(HTTPException):
    """The password must be entered again before this; answered by a redirect to the form."""

    status_code = HTTP_303_SEE_OTHER

    def __init__(self, next_url: str) -> None:
        super().__init__(detail="step-up required")
        self.next_url = next_url


def rotation_of(connection: ASGIConnection[Any, Any, Any, Any]) -> SessionRotation:
    found = connection.app.state.sessions
    assert isinstance(found, SessionRotation)
    return found


def is_fresh(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    return rotation_of(connection).stepped_up(connection.session)


def confirm_url(next_url: str) -> str:
    return f"{CONFIRM_PATH}?next={quote(next_url, safe='/')}"


def _here(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return connection.url.path + (f"?{connection.url.query}" if connection.url.query else "")


def redirect_unless_fresh(connection: ASGIConnection[Any, Any, Any, Any]) -> Redirect | None:
    """For a page that shows a guarded form only in some states: ask first, then come back."""
    if is_fresh(connection):
        return None
    return Redirect(confirm_url(_here(connection)))


def requires_step_up(form_page: str | None = None) -> Guard:
    """A guard: without a fresh password, go to the confirmation form and come back.

    A GET comes back to itself. A POST comes back to ``form_page`` (formatted with the path
    parameters, e.g. ``"/admin/users/{user_id}"``): the action is not taken, and the user sends
    the form again once confirmed.
    """

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if is_fresh(connection):
            return
        if connection.scope.get("method") in ("GET", "HEAD") or form_page is None:
            raise StepUpRequired(_here(connection))
        raise StepUpRequired(form_page.format(**connection.path_params))

    return guard


def step_up_redirect(_: Request[Any, Any, Any], exc: StepUpRequired) -> Response[Any]:
    return Redirect(confirm_url(exc.next_url), status_code=HTTP_303_SEE_OTHER)
