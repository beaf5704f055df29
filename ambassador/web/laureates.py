"""The laureates' records: the clerk's pages, and the laureate's own check by an emailed link.

The records exist from the approving body's decision (``ambassador.domain.laureates``).
Until the edition is public the clerk edits them freely and may ask each laureate to check
the name and citation; afterwards a change is a public correction and a distinction can only
be withdrawn. The laureate's link carries its secret in the path, so its page is sent with
``no-store``, ``no-referrer`` and ``noindex``; an unknown link is a 404 that tells nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_400_BAD_REQUEST,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
)

from ambassador import i18n
from ambassador.db import utcnow
from ambassador.domain import laureates, portrait_images, portraits
from ambassador.domain.accounts import Account
from ambassador.domain.editions import EditionView, get_edition
from ambassador.domain.laureates import LaureateRecord, RecordData
from ambassador.domain.uploads import UploadRules
from ambassador.enums import EditionState, Role
from ambassador.errors import N_, DomainError, InvalidInput, InvalidToken, NotFound
from ambassador.settings import Settings
from ambassador.web import confirm, labels
from ambassador.web import portraits as pictures
from ambassador.web.downloads import NO_STORE, PRIVATE
from ambassador.web.editions import edition_or_404, message_of
from ambassador.web.errors import refuse_or_redirect
from ambassador.web.forms import Form, read_form, require_row_id, translated_errors
from ambassador.web.guards import requires_role, totp_enrolled

AnyRequest = Request[Any, Account, Any]

LANGUAGES = laureates.LANGUAGES
MAX_TOKEN = 100
# The emailed link's page: its address is the secret.
CHECK_HEADERS = {**PRIVATE, "x-robots-tag": "noindex, nofollow"}
CONFIRMING_STATES = frozenset({EditionState.APPROVED, EditionState.PUBLISHED})
LIMITS = {"name": laureates.MAX_NAME, "citation": laureates.MAX_CITATION, "reason": laureates.MAX_REASON}
PICTURE_LIMITS = {
    "alt": portraits.MAX_ALT,
    "credit": portraits.MAX_CREDIT,
    "licence": portraits.MAX_LICENCE,
    "megabytes": portrait_images.MAX_MEGABYTES,
    "min_side": portrait_images.MIN_SIDE,
}


def _cap(limit: int) -> int:
    """Read a text past its limit (line ends arrive as CRLF), so the domain says "too long"."""
    return 2 * limit + 16


def confirming(edition: EditionView, now: dt.datetime | None = None) -> bool:
    """Laureates confirm between the decision and the publication moment."""
    return edition.state in CONFIRMING_STATES and not laureates.is_public(
        edition.state.value, edition.published_at, now or utcnow()
    )


def citation_languages(record: LaureateRecord) -> list[str]:
    return [code for code in LANGUAGES if record.citation(code)]


async def record_or_404(laureate_id: int) -> LaureateRecord:
    return await laureates.get_record(require_row_id(laureate_id))


# --- the clerk's pages ------------------------------------------------------------------


async def list_page(edition: EditionView, problem: str = "", status_code: int = 200) -> Template:
    return Template(
        template_name="laureates/list.html",
        context={
            "edition": edition,
            "records": await laureates.edition_records(edition.id),
            "asking": confirming(edition),
            "citation_languages": citation_languages,
            "labels": labels,
            "problem": problem,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


def record_values(record: LaureateRecord) -> dict[str, str]:
    values = {"name": record.name, "reason": "", "note": "", "withdraw_reason": ""}
    values.update({f"citation_{code}": record.citation(code) for code in LANGUAGES})
    return values


def read_record(form: Form) -> tuple[RecordData, dict[str, str]]:
    """The posted texts, and the values to show again."""
    values = {"name": form.text("name", _cap(laureates.MAX_NAME))}
    values.update(
        {f"citation_{code}": form.text(f"citation_{code}", _cap(laureates.MAX_CITATION)) for code in LANGUAGES}
    )
    data = RecordData(
        name=values["name"],
        citation_pl=values["citation_pl"],
        citation_en=values["citation_en"],
        citation_uk=values["citation_uk"],
    )
    values["reason"] = form.text("reason", _cap(laureates.MAX_REASON))
    return data, values


def picture_values(portrait: portraits.PortraitView | None) -> dict[str, str]:
    """The picture form's values: the current picture's texts, or empty ones."""
    if portrait is None:
        return {"kind": "portrait", "credit": "", "licence": "", **{f"alt_{c}": "" for c in portraits.LANGUAGES}}
    values = {"kind": portrait.kind, "credit": portrait.credit, "licence": portrait.licence}
    values.update({f"alt_{code}": getattr(portrait, f"alt_{code}") for code in portraits.LANGUAGES})
    return values


async def record_page(
    record: LaureateRecord,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str = "",
    status_code: int = 200,
    picture: dict[str, str] | None = None,
    picture_errors: dict[str, str] | None = None,
    picture_problem: str = "",
) -> Template:
    edition = await get_edition(record.edition_id)
    portrait = await portraits.for_laureate(record.id)
    return Template(
        template_name="laureates/record.html",
        context={
            "record": record,
            "edition": edition,
            "revisions": await laureates.revisions(record.id),
            "values": {**record_values(record), **(values or {})},
            "errors": translated_errors(errors or {}),
            "problem": problem,
            "editable": record.withdrawn_at is None,
            "confirmable": confirming(edition) and record.confirmed_at is None,
            "withdrawable": record.public and record.withdrawn_at is None,
            "citation_languages": citation_languages(record),
            "languages": LANGUAGES,
            "limits": LIMITS,
            "labels": labels,
            "portrait": portrait,
            "portrait_base": pictures.staff_base(record.id),
            "picture": {**picture_values(portrait), **(picture or {})},
            "picture_errors": translated_errors(picture_errors or {}),
            "picture_problem": picture_problem,
            "picture_limits": PICTURE_LIMITS,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


async def withdraw_page(
    record: LaureateRecord,
    reason: str = "",
    *,
    errors: dict[str, str] | None = None,
    problem: str = "",
    status_code: int = 200,
) -> Template:
    """The withdrawal's confirmation: what it does, the public reason, the box to tick."""
    c = confirm.context(
        laureates.withdrawal(record),
        title=i18n.gettext(N_("Withdraw the distinction")),
        action=f"/staff/laureates/{record.id}/withdraw",
        cancel_url=f"/staff/laureates/{record.id}",
        context_label=record.name,
        problem=problem,
        reason=reason,
        reason_limit=laureates.MAX_REASON,
        errors=translated_errors(errors or {}),
        confirm_box=True,
    )
    return confirm.page(c, status_code)


class LaureateController(Controller):
    path = "/staff"
    guards = [requires_role(Role.CLERK, Role.ADMIN), totp_enrolled]
    include_in_schema = False

    @get("/editions/{edition_id:int}/laureates", name="edition_laureates")
    async def index(self, edition_id: FromPath[int]) -> Template:
        return await list_page(await edition_or_404(edition_id))

    @post("/editions/{edition_id:int}/laureates/confirmations", name="edition_laureates_confirmations")
    async def ask(
        self, request: AnyRequest, edition_id: FromPath[int], settings: NamedDependency[Settings]
    ) -> Template | Redirect:
        edition = await edition_or_404(edition_id)

        async def refuse(exc: DomainError) -> Template:
            return await list_page(await edition_or_404(edition_id), message_of(exc), HTTP_409_CONFLICT)

        def queued(sent: int) -> Redirect:
            flash(request, i18n.ngettext("%(num)s mail queued.", "%(num)s mails queued.", sent), "success")
            return Redirect(f"/staff/editions/{edition.id}/laureates", status_code=HTTP_303_SEE_OTHER)

        return await refuse_or_redirect(
            laureates.request_confirmations(
                actor_id=request.user.id, edition_id=edition.id, base_url=settings.base_url
            ),
            refuse,
            queued,
        )

    @get("/laureates/{laureate_id:int}", name="laureate_record")
    async def record(self, laureate_id: FromPath[int]) -> Template:
        return await record_page(await record_or_404(laureate_id))

    def _saved(self, request: AnyRequest, laureate_id: int, message: str = N_("Saved.")) -> Redirect:
        flash(request, i18n.gettext(message), "success")
        return Redirect(f"/staff/laureates/{laureate_id}", status_code=HTTP_303_SEE_OTHER)

    async def _refused(self, laureate_id: int, exc: DomainError, values: dict[str, str]) -> Template:
        """The page again with the refusal: field errors (400) or a rule that forbids (409)."""
        record = await record_or_404(laureate_id)
        if isinstance(exc, InvalidInput):
            return await record_page(record, values=values, errors=exc.errors, status_code=HTTP_400_BAD_REQUEST)
        return await record_page(record, values=values, problem=message_of(exc), status_code=HTTP_409_CONFLICT)

    @post("/laureates/{laureate_id:int}", name="laureate_record_post")
    async def edit(self, request: AnyRequest, laureate_id: FromPath[int]) -> Template | Redirect:
        record = await record_or_404(laureate_id)
        data, values = read_record(await read_form(request))
        return await refuse_or_redirect(
            laureates.edit(actor_id=request.user.id, laureate_id=record.id, data=data, reason=values["reason"]),
            lambda exc: self._refused(record.id, exc, values),
            lambda _: self._saved(request, record.id),
        )

    @post("/laureates/{laureate_id:int}/confirm", name="laureate_mark_confirmed")
    async def mark_confirmed(self, request: AnyRequest, laureate_id: FromPath[int]) -> Template | Redirect:
        record = await record_or_404(laureate_id)
        note = (await read_form(request)).text("note", _cap(laureates.MAX_REASON))
        return await refuse_or_redirect(
            laureates.mark_confirmed(actor_id=request.user.id, laureate_id=record.id, note=note),
            lambda exc: self._refused(record.id, exc, {"note": note}),
            lambda _: self._saved(request, record.id, N_("The confirmation is recorded.")),
        )

    @get("/laureates/{laureate_id:int}/withdraw", name="laureate_withdraw_confirm")
    async def withdraw_confirm(self, laureate_id: FromPath[int]) -> Template:
        """What a withdrawal does, with the reason to give and the box to tick."""
        return await withdraw_page(await record_or_404(laureate_id))

    @post("/laureates/{laureate_id:int}/withdraw", name="laureate_withdraw")
    async def withdraw(self, request: AnyRequest, laureate_id: FromPath[int]) -> Template | Redirect:
        record = await record_or_404(laureate_id)
        form = await read_form(request)
        reason = form.text("withdraw_reason", _cap(laureates.MAX_REASON))
        if not form.flag("withdraw_confirm"):
            unticked = {"withdraw_confirm": N_("Tick the box to confirm that the withdrawal cannot be undone.")}
            return await withdraw_page(record, reason, errors=unticked, status_code=HTTP_400_BAD_REQUEST)
        try:
            await laureates.withdraw(actor_id=request.user.id, laureate_id=record.id, reason=reason)
        except NotFound:
            raise  # no refusal: the app's handler answers 404
        except InvalidInput as exc:
            # The domain's "reason" is this form's withdrawal reason, not the correction's.
            placed = {("withdraw_reason" if k == "reason" else k): v for k, v in exc.errors.items()}
            return await withdraw_page(record, reason, errors=placed, status_code=HTTP_400_BAD_REQUEST)
        except DomainError as exc:
            current = await record_or_404(laureate_id)
            return await withdraw_page(current, reason, problem=message_of(exc), status_code=HTTP_409_CONFLICT)
        return self._saved(request, record.id, N_("The distinction is withdrawn."))

    # --- the picture (portrait or logo) ---------------------------------------------------

    @post(
        "/laureates/{laureate_id:int}/portrait",
        name="laureate_portrait",
        request_max_body_size=pictures.PICTURE_MAX_BODY,
    )
    async def picture(
        self, request: AnyRequest, laureate_id: FromPath[int], upload_rules: NamedDependency[UploadRules]
    ) -> Template | Redirect:
        """Set, replace or re-describe the picture; a refusal shows the form again, nothing changed."""
        record = await record_or_404(laureate_id)
        form = await read_form(request)
        data, values = pictures.read_picture(form)
        found = await form.files("picture", portrait_images.MAX_BYTES)
        try:
            await portraits.save(
                actor_id=request.user.id,
                laureate_id=record.id,
                data=data,
                upload=found[0] if found else None,
                rules=upload_rules,
            )
        except NotFound:
            raise
        except InvalidInput as exc:
            return await record_page(
                record, picture=values, picture_errors=exc.errors, status_code=HTTP_400_BAD_REQUEST
            )
        except DomainError as exc:
            return await record_page(
                record, picture=values, picture_problem=message_of(exc), status_code=HTTP_409_CONFLICT
            )
        flash(request, i18n.gettext(N_("The picture is saved.")), "success")
        return Redirect(f"/staff/laureates/{record.id}#picture", status_code=HTTP_303_SEE_OTHER)

    @get("/laureates/{laureate_id:int}/portrait/remove", name="laureate_portrait_remove_ask")
    async def ask_remove(self, laureate_id: FromPath[int]) -> Template | Redirect:
        """Ask before removing: the picture and one button."""
        record = await record_or_404(laureate_id)
        portrait = await portraits.for_laureate(record.id)
        if portrait is None:
            return Redirect(f"/staff/laureates/{record.id}", status_code=HTTP_303_SEE_OTHER)
        return Template(
            template_name="laureates/portrait_remove.html",
            context={
                "record": record,
                "portrait": portrait,
                "portrait_base": pictures.staff_base(record.id),
            },
            headers=NO_STORE,
        )

    @post("/laureates/{laureate_id:int}/portrait/remove", name="laureate_portrait_remove")
    async def remove(self, request: AnyRequest, laureate_id: FromPath[int]) -> Template | Redirect:
        record = await record_or_404(laureate_id)
        try:
            await portraits.remove(actor_id=request.user.id, laureate_id=record.id)
        except NotFound:
            raise
        except DomainError as exc:
            return await record_page(record, picture_problem=message_of(exc), status_code=HTTP_409_CONFLICT)
        flash(request, i18n.gettext(N_("The picture is removed.")), "success")
        return Redirect(f"/staff/laureates/{record.id}#picture", status_code=HTTP_303_SEE_OTHER)

    @get(
        "/laureates/{laureate_id:int}/portrait/{version:int}/{name:str}",
        name="laureate_portrait_copy",
        response_headers=pictures.STAFF_HEADERS,
    )
    async def picture_copy(
        self, request: AnyRequest, laureate_id: FromPath[int], version: FromPath[int], name: FromPath[str]
    ) -> Response[bytes]:
        """A copy for the clerk's pages, before publication too (never cached)."""
        width = pictures.copy_width(version, name)
        stored = await portraits.staff_copy(require_row_id(laureate_id), version, width)
        return pictures.image_response(request, stored, dict(pictures.STAFF_HEADERS))


# --- the laureate's check ---------------------------------------------------------------


def _invalid_link() -> Template:
    return Template(
        template_name="nominate/message.html",
        context={
            "title": i18n.gettext(N_("This link does not work")),
            "message": i18n.gettext(InvalidToken.message),
            "back": "",
        },
        status_code=HTTP_404_NOT_FOUND,
    )


async def check_page(
    token: str,
    record: LaureateRecord,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str = "",
    status_code: int = 200,
) -> Template:
    edition = await get_edition(record.edition_id)
    return Template(
        template_name="laureates/check.html",
        context={
            "token": token,
            "record": record,
            "edition": edition,
            "can_confirm": confirming(edition),
            # A new request starts from the spelling asked for last time; the note is not shown
            # again (a clerk's note on a confirmation taken by phone shares its place).
            "values": {"name": record.confirmed_name or record.name, "note": "", **(values or {})},
            "errors": translated_errors(errors or {}),
            "problem": problem,
            "citation_languages": citation_languages(record),
            "limits": LIMITS,
            "labels": labels,
        },
        status_code=status_code,
    )


class LaureateCheckController(Controller):
    path = "/laureate-check"
    opt = {"exclude_from_auth": True}
    include_in_schema = False

    @get("/{token:str}", name="laureate_check", response_headers=CHECK_HEADERS)
    async def check(self, token: FromPath[str]) -> Template:
        token = token[:MAX_TOKEN]
        record = await laureates.for_token(token)
        if record is None:
            return _invalid_link()
        return await check_page(token, record)

    @post("/{token:str}", name="laureate_check_post", response_headers=CHECK_HEADERS)
    async def confirm(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Template | Redirect:
        token = token[:MAX_TOKEN]
        record = await laureates.for_token(token)
        if record is None:
            return _invalid_link()
        form = await read_form(request)
        values = {
            "name": form.text("name", _cap(laureates.MAX_NAME)),
            "note": form.text("note", _cap(laureates.MAX_REASON)),
        }
        try:
            await laureates.confirm(token=token, name=values["name"], note=values["note"])
        except NotFound:
            return _invalid_link()
        except InvalidInput as exc:
            return await check_page(token, record, values=values, errors=exc.errors, status_code=HTTP_400_BAD_REQUEST)
        except DomainError as exc:
            current = await laureates.for_token(token)
            if current is None:
                return _invalid_link()
            return await check_page(token, current, problem=message_of(exc), status_code=HTTP_409_CONFLICT)
        return Redirect(f"/laureate-check/{token}", status_code=HTTP_303_SEE_OTHER)
