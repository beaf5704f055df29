"""People's requests about their data (GDPR art. 15 to 17): the clerk's page.

The person's address or name travels only in POST bodies, never in an address (which ends
up in logs and browser histories): the search, the copy, the correction and the erasure are
forms that carry the query along. ``ambassador.domain.subject_*`` does the work and audits.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK, HTTP_400_BAD_REQUEST, HTTP_409_CONFLICT

from ambassador import i18n
from ambassador.domain import subject_correction, subject_erasure, subject_export, subject_register
from ambassador.domain import subject_requests as requests
from ambassador.domain.accounts import Account
from ambassador.domain.subject_correction import Correction
from ambassador.domain.subject_erasure import Planned
from ambassador.domain.subject_requests import Found
from ambassador.enums import LANGUAGES, Role
from ambassador.errors import N_, DomainError, InvalidInput
from ambassador.web.downloads import NO_STORE
from ambassador.web.editions import message_of
from ambassador.web.forms import Form, read_form, require_row_id, translated_errors
from ambassador.web.guards import requires_role, totp_enrolled

AnyRequest = Request[Any, Account, Any]
# Read a little past the limits, so the domain says "too long" rather than cutting silently.
QUERY_CAP = 2 * requests.MAX_QUERY + 16
FIELD_CAP = 2 * requests.MAX_EMAIL + 16
MAX_ITEMS = 500


def _query(form: Form) -> str:
    return form.text("query", QUERY_CAP)


async def page(
    *,
    query: str = "",
    found: Found | None = None,
    errors: dict[str, str] | None = None,
    problem: str = "",
    notice: str = "",
    outcome: list[Planned] | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        template_name="privacy/index.html",
        context={
            "query": query,
            "found": found,
            "kinds": requests.KINDS,
            "errors": translated_errors(errors or {}),
            "problem": problem,
            "notice": notice,
            "outcome": outcome,
            "register": await subject_register.register(),
            "export_languages": [(code, i18n.language_name(code)) for code in LANGUAGES],
            "export_language": i18n.current_language.get(),
        },
        status_code=status_code,
        headers=NO_STORE,
    )


async def refused(query: str, exc: DomainError, found: Found | None = None) -> Template:
    if isinstance(exc, InvalidInput):
        return await page(query=query, found=found, errors=exc.errors, status_code=HTTP_400_BAD_REQUEST)
    return await page(query=query, found=found, problem=message_of(exc), status_code=HTTP_409_CONFLICT)


async def _found_again(query: str) -> Found | None:
    """The results after a change (not a new search: the change was audited)."""
    try:
        return await requests.collect(requests.parse_query(query))
    except InvalidInput:
        return None


class PrivacyController(Controller):
    path = "/staff/privacy"
    guards = [requires_role(Role.CLERK, Role.ADMIN), totp_enrolled]
    include_in_schema = False

    @get("/", name="privacy")
    async def index(self) -> Template:
        return await page()

    @post("/", name="privacy_find")
    async def find(self, request: AnyRequest) -> Template:
        query = _query(await read_form(request))
        try:
            found = await requests.find(actor_id=request.user.id, raw_query=query)
        except DomainError as exc:
            return await refused(query, exc)
        return await page(query=query, found=found)

    @post("/export", name="privacy_export")
    async def export(self, request: AnyRequest) -> Template | Response[bytes]:
        form = await read_form(request)
        query = _query(form)
        try:
            made = await subject_export.export(
                actor_id=request.user.id,
                raw_query=query,
                language=form.text("language", 8),
                fmt=form.text("format", 8),
            )
        except DomainError as exc:
            return await refused(query, exc, await _found_again(query))
        return Response(
            content=made.content,
            media_type=made.media_type,
            status_code=HTTP_200_OK,
            headers={**NO_STORE, "content-disposition": f'attachment; filename="{made.filename}"'},
        )

    @post("/correct", name="privacy_correct")
    async def correct(self, request: AnyRequest) -> Template:
        form = await read_form(request)
        query = _query(form)
        nomination_id = require_row_id(form.integer("nomination") or 0)
        side = form.text("side", 16)
        if not form.flag("save"):
            current = await subject_correction.contact_of(nomination_id, side)
            return self._form(query, nomination_id, current)
        correction = Correction(
            side, form.text("name", FIELD_CAP), form.text("email", FIELD_CAP), form.text("phone", FIELD_CAP)
        )
        try:
            changed = await subject_correction.correct(
                actor_id=request.user.id, raw_query=query, nomination_id=nomination_id, correction=correction
            )
        except InvalidInput as exc:
            return self._form(query, nomination_id, correction, exc.errors, HTTP_400_BAD_REQUEST)
        except DomainError as exc:
            return await refused(query, exc, await _found_again(query))
        notice = i18n.gettext("Corrected.") if changed else i18n.gettext("Nothing was changed.")
        return await page(query=query, found=await _found_again(query), notice=notice)

    def _form(
        self,
        query: str,
        nomination_id: int,
        values: Correction,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        return Template(
            template_name="privacy/correct.html",
            context={
                "query": query,
                "nomination_id": nomination_id,
                "values": values,
                "errors": translated_errors(errors or {}),
            },
            status_code=status_code,
            headers=NO_STORE,
        )

    @post("/erase", name="privacy_erase")
    async def erase(self, request: AnyRequest) -> Template:
        form = await read_form(request)
        query = _query(form)
        tokens = form.values("item")[:MAX_ITEMS]
        try:
            if not form.flag("confirm"):
                planned = await subject_erasure.preview(raw_query=query, tokens=tokens)
                return self._confirm(query, planned, confirming=form.flag("confirming"))
            planned = await subject_erasure.erase(
                actor_id=request.user.id, raw_query=query, tokens=tokens, confirmed=True
            )
        except DomainError as exc:
            return await refused(query, exc, await _found_again(query))
        return await page(query=query, found=await _found_again(query), outcome=planned)

    def _confirm(self, query: str, planned: list[Planned], *, confirming: bool) -> Template:
        """What erasing would do, and the confirmation; sent again unticked, it says so."""
        errors = {"confirm": N_("Tick the box to confirm the erasure.")} if confirming else {}
        return Template(
            template_name="privacy/erase.html",
            context={
                "query": query,
                "planned": planned,
                "erasable": [p for p in planned if p.outcome != subject_erasure.REFUSE_IT],
                "errors": translated_errors(errors),
            },
            status_code=HTTP_400_BAD_REQUEST if confirming else 200,
            headers=NO_STORE,
        )
