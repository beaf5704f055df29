"""The pages behind the mailed links: confirmation, the nominator's manage link, the nominee's consent.

Nobody here has an account. The nominator proves who they are by the links mailed to them
(confirm, then manage); the nominee by the consent link. Those links carry their secret in
the path, so every page under ``/n/`` and ``/consent/`` is sent with ``no-store`` and
``no-referrer``. A link that does not work says so without telling why (unknown, used or
expired look the same).
"""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_400_BAD_REQUEST,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
)

from ambassador import i18n
from ambassador.db import utcnow
from ambassador.domain import consent, nominations, nominator_link, submission
from ambassador.domain.editions import EditionView, get_edition
from ambassador.domain.nominations import (
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    NominationView,
    WindowClosed,
)
from ambassador.domain.nominator_link import NOMINATOR_EDITABLE
from ambassador.domain.uploads import UploadRules
from ambassador.enums import ConsentState, NominationState
from ambassador.errors import N_, InvalidInput, InvalidToken, NotAllowed, NotFound
from ambassador.settings import Settings
from ambassador.web import labels
from ambassador.web.downloads import PRIVATE, attachment_response
from ambassador.web.forms import read_form, translated_errors
from ambassador.web.nominate import MAX_BODY, AnyRequest, field_labels, form_page, language_cookies, read_nomination

MAX_TOKEN = 100

# What the nominator sees: the jury's and the approving body's work stays confidential until
# the laureates are published.
STATE_LABELS = {
    NominationState.UNCONFIRMED: N_("Waiting for your confirmation"),
    NominationState.SUBMITTED: N_("Submitted, waiting for the formal check"),
    NominationState.REJECTED: N_("Not accepted in the formal check"),
    NominationState.ACCEPTED: N_("Accepted in the formal check"),
    NominationState.SHORTLISTED: N_("Under consideration"),
    NominationState.RECOMMENDED: N_("Under consideration"),
    NominationState.APPROVED: N_("Under consideration"),
    NominationState.NOT_APPROVED: N_("Under consideration"),
    NominationState.LAUREATE: N_("Laureate"),
    NominationState.WITHDRAWN: N_("Withdrawn"),
    NominationState.MERGED: N_("Joined with another nomination of the same nominee"),
}

DONE_MESSAGES = {
    "saved": N_("Your changes are saved."),
    "withdrawn": N_("Your nomination is withdrawn."),
}


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values[: MAX_ATTACHMENTS * 4] if v.isascii() and v.isdigit() and len(v) < 12]


def _message(title: str, message: str, *, status: int = 200, back: str = "") -> Template:
    return Template(
        template_name="nominate/message.html",
        context={"title": i18n.gettext(title), "message": i18n.gettext(message), "back": back},
        status_code=status,
    )


def _invalid_link() -> Template:
    return _message(N_("This link does not work"), InvalidToken.message, status=HTTP_404_NOT_FOUND)


async def _managed(token: str) -> NominationView | None:
    """The nomination a manage link's token opens; None when the link does not work."""
    try:
        return await nominator_link.for_manage_token(token)
    except InvalidToken:
        return None


def _manage_page(
    token: str,
    nomination: NominationView,
    edition: EditionView,
    *,
    done: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    refusal = nominator_link.edit_refusal(nomination.state, edition, utcnow())
    return Template(
        template_name="nominate/manage.html",
        context={
            "token": token,
            "nomination": nomination,
            "edition": edition,
            "can_change": refusal is None,
            "refusal": i18n.gettext(refusal) if refusal and nomination.state in NOMINATOR_EDITABLE else "",
            "done": i18n.gettext(DONE_MESSAGES[done]) if done in DONE_MESSAGES else "",
            "errors": translated_errors(errors or {}),
            "labels": field_labels(edition),
            "state_label": i18n.gettext(STATE_LABELS[nomination.state]),
            "category_label": labels.category(nomination.category, edition.categories),
            "organisation_kind_label": labels.organisation_kind(nomination.organisation_kind),
        },
        status_code=status,
    )


class NominationLinkController(Controller):
    opt = {"exclude_from_auth": True}
    include_in_schema = False

    @get("/n/confirm/{token:str}", name="nomination_confirm", response_headers=PRIVATE)
    async def confirm_form(self, token: FromPath[str]) -> Template:
        """Only a button: opening the link (or a mail scanner prefetching it) confirms nothing."""
        return Template(template_name="nominate/confirm.html", context={"token": token[:MAX_TOKEN]})

    @post("/n/confirm/{token:str}", name="nomination_confirm_post", response_headers=PRIVATE)
    async def confirm(self, token: FromPath[str], settings: NamedDependency[Settings]) -> Template:
        try:
            nomination = await submission.confirm(token=token[:MAX_TOKEN], base_url=settings.base_url)
        except InvalidToken:
            return _invalid_link()
        edition = await get_edition(nomination.edition_id)
        return Template(template_name="nominate/confirmed.html", context={"nomination": nomination, "edition": edition})

    @get("/n/{token:str}", name="nomination_manage", response_headers=PRIVATE)
    async def manage(self, token: FromPath[str], done: FromQuery[str | None] = None) -> Template:
        token = token[:MAX_TOKEN]
        if (nomination := await _managed(token)) is None:
            return _invalid_link()
        return _manage_page(token, nomination, await get_edition(nomination.edition_id), done=done or "")

    @get("/n/{token:str}/edit", name="nomination_edit", response_headers=PRIVATE)
    async def edit_form(self, token: FromPath[str]) -> Template:
        token = token[:MAX_TOKEN]
        if (nomination := await _managed(token)) is None:
            return _invalid_link()
        edition = await get_edition(nomination.edition_id)
        if (refusal := nominator_link.edit_refusal(nomination.state, edition, utcnow())) is not None:
            return _message(
                N_("The nomination cannot be changed"), refusal, status=HTTP_409_CONFLICT, back=f"/n/{token}"
            )
        return form_page(
            mode="edit", edition=edition, data=nomination.data(), action=f"/n/{token}/edit", nomination=nomination
        )

    @post("/n/{token:str}/edit", name="nomination_edit_post", request_max_body_size=MAX_BODY, response_headers=PRIVATE)
    async def edit(
        self,
        request: AnyRequest,
        token: FromPath[str],
        upload_rules: NamedDependency[UploadRules],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        token = token[:MAX_TOKEN]
        if (nomination := await _managed(token)) is None:
            return _invalid_link()
        edition = await get_edition(nomination.edition_id)
        form = await read_form(request)
        uploads = await form.files("attachments", MAX_ATTACHMENT_BYTES)
        removed = _ids(form.values("remove_attachments"))
        if (language := i18n.supported(form.text("switch_language", 8))) is not None:
            # A language button: the form again in that language with the changes typed,
            # nothing saved or checked. New files are not kept here (they would be stored
            # at once on this form); the page asks to choose them again.
            i18n.current_language.set(language)
            page = form_page(
                mode="edit",
                edition=edition,
                data=read_nomination(form, edition, fixed=nomination),
                action=f"/n/{token}/edit",
                nomination=nomination,
                removed=removed,
                files_again=bool(uploads),
                switched=True,
            )
            page.cookies.extend(language_cookies(language, settings))
            return page
        data = read_nomination(form, edition, fixed=nomination)
        try:
            await nominator_link.update_by_nominator(
                token=token, data=data, uploads=uploads, remove_attachments=removed, rules=upload_rules
            )
        except InvalidToken:
            return _invalid_link()
        except (WindowClosed, NotAllowed) as exc:
            return _message(
                N_("The nomination cannot be changed"), exc.message, status=HTTP_409_CONFLICT, back=f"/n/{token}"
            )
        except InvalidInput as exc:
            return form_page(
                mode="edit",
                edition=edition,
                data=data,
                action=f"/n/{token}/edit",
                errors=exc.errors,
                status=HTTP_400_BAD_REQUEST,
                nomination=nomination,
                removed=removed,
                files_again=bool(uploads),
            )
        return Redirect(f"/n/{token}?done=saved", status_code=HTTP_303_SEE_OTHER)

    @post("/n/{token:str}/withdraw", name="nomination_withdraw", response_headers=PRIVATE)
    async def withdraw(self, request: AnyRequest, token: FromPath[str]) -> Template | Redirect:
        token = token[:MAX_TOKEN]
        if (nomination := await _managed(token)) is None:
            return _invalid_link()
        edition = await get_edition(nomination.edition_id)
        if not (await read_form(request)).flag("confirm_withdraw"):
            return _manage_page(
                token,
                nomination,
                edition,
                errors={"confirm_withdraw": N_("Tick the box to confirm that you want to withdraw the nomination.")},
                status=HTTP_400_BAD_REQUEST,
            )
        try:
            await nominator_link.withdraw_by_nominator(token=token)
        except InvalidToken:
            return _invalid_link()
        except (WindowClosed, NotAllowed) as exc:
            return _message(
                N_("The nomination cannot be changed"), exc.message, status=HTTP_409_CONFLICT, back=f"/n/{token}"
            )
        return Redirect(f"/n/{token}?done=withdrawn", status_code=HTTP_303_SEE_OTHER)

    @get("/n/{token:str}/attachments/{attachment_id:int}", name="nomination_attachment", response_headers=PRIVATE)
    async def attachment(self, token: FromPath[str], attachment_id: FromPath[int]) -> Response[bytes] | Template:
        if (nomination := await _managed(token[:MAX_TOKEN])) is None:
            return _invalid_link()
        try:
            info, content = await nominations.attachment_content(nomination.id, attachment_id)
        except NotFound:
            return _invalid_link()
        return attachment_response(info, content)

    @get("/consent/{token:str}", name="consent", response_headers=PRIVATE)
    async def consent_form(self, token: FromPath[str]) -> Template:
        token = token[:MAX_TOKEN]
        try:
            found = await consent.consent_request(token)
        except InvalidToken:
            return _invalid_link()
        return self._consent_page(token, found)

    def _consent_page(self, token: str, found: consent.ConsentRequest, error: str = "", status: int = 200) -> Template:
        return Template(
            template_name="consent/form.html",
            context={
                "token": token,
                "request_": found,
                "category_label": labels.category(found.category, found.edition.categories),
                "answer_label": labels.consent(found.consent),
                "can_answer": found.edition.state in consent.CONSENT_OPEN_STATES,
                "error": error,
            },
            status_code=status,
        )

    @post("/consent/{token:str}", name="consent_post", response_headers=PRIVATE)
    async def consent(self, request: AnyRequest, token: FromPath[str]) -> Template:
        token = token[:MAX_TOKEN]
        decision = (await read_form(request)).text("decision", 10)
        try:
            found = await consent.consent_request(token)
            if decision not in (ConsentState.GIVEN, ConsentState.REFUSED):
                return self._consent_page(
                    token, found, i18n.gettext(N_("Choose one of the two answers.")), HTTP_400_BAD_REQUEST
                )
            answer = await consent.answer_consent(token=token, given=decision == ConsentState.GIVEN)
        except InvalidToken:
            return _invalid_link()
        except NotAllowed as exc:
            return _message(N_("The answer was not saved"), exc.message, status=HTTP_409_CONFLICT)
        return Template(
            template_name="consent/answered.html",
            context={
                "token": token,
                "request_": found,
                "answer": answer.value,
                "answer_label": labels.consent(answer),
            },
        )
