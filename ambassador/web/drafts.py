"""Drafts of the nomination form: "Save as draft" and the mailed link that resumes it.

The form's "Save as draft" button posts the whole form here (``formaction``), with the same
body limit and the same rate limit as sending it (``nominate.rate_limit`` counts both). The
answer is the form again, with every value and file, and a note of where the link went.
The link (``/n/draft/<token>``, a private page: ``no-store``, ``no-referrer``, never
prefixed by a language) opens the form with the draft's values, files and submission key,
so saving again updates the same draft and sending it makes the nomination.
"""

from __future__ import annotations

from functools import partial

from litestar import Controller, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_404_NOT_FOUND, HTTP_409_CONFLICT

from ambassador import i18n, security_log
from ambassador.domain import drafts, held_files
from ambassador.domain.nominations import MAX_ATTACHMENT_BYTES, WindowClosed
from ambassador.domain.uploads import UploadRules
from ambassador.errors import N_, InvalidInput, InvalidToken, NotFound
from ambassador.settings import Settings
from ambassador.web.addresses import url
from ambassador.web.downloads import NO_STORE, PRIVATE
from ambassador.web.forms import read_form
from ambassador.web.nominate import (
    DRAFT_PATH,
    MAX_BODY,
    NOMINATE_PATH,
    AnyRequest,
    _not_open,
    _posted_edition,
    _submission_key,
    form_again,
    form_page,
    language_cookies,
    read_nomination,
)

RESUME_PATH = drafts.RESUME_PATH + "{token:str}"
MAX_TOKEN = 100


def _expired_link() -> Template:
    return Template(
        template_name="nominate/message.html",
        context={
            "title": i18n.gettext(N_("This link does not work")),
            "message": i18n.gettext(
                N_(
                    "This draft link is invalid, was replaced by a newer one, or the draft was erased "
                    "because nominations have closed."
                )
            ),
            "back": "",
        },
        status_code=HTTP_404_NOT_FOUND,
    )


class DraftController(Controller):
    opt = {"exclude_from_auth": True}
    include_in_schema = False

    @post(DRAFT_PATH, name="nominate_draft", request_max_body_size=MAX_BODY, response_headers=NO_STORE)
    async def save(
        self, request: AnyRequest, settings: NamedDependency[Settings], upload_rules: NamedDependency[UploadRules]
    ) -> Template | Redirect:
        form = await read_form(request)
        if form.text("website", 500).strip():
            # A bot filled the hidden field: nothing is kept, nothing is mailed.
            security_log.event("nomination.honeypot", "blocked")
            return Redirect(NOMINATE_PATH, status_code=HTTP_303_SEE_OTHER)
        edition = await _posted_edition(form, settings.edition_cache_seconds)
        if edition is None:
            return _not_open(None, status=HTTP_409_CONFLICT)
        data = read_nomination(form, edition)
        uploads = await form.files("attachments", MAX_ATTACHMENT_BYTES)
        posted_key = form.text("submission_key", 64)
        again = partial(
            form_page,
            mode="new",
            edition=edition,
            data=data,
            action=url(NOMINATE_PATH),
            submission_key=_submission_key(posted_key),
        )
        try:
            saved = await drafts.save(
                edition=edition,
                data=data,
                uploads=uploads,
                submission_key=posted_key,
                base_url=settings.base_url,
                rules=upload_rules,
            )
        except (InvalidInput, WindowClosed) as exc:
            return await form_again(again, exc, uploads=uploads, key=posted_key)
        except NotFound:
            return _not_open(None, status=HTTP_409_CONFLICT)
        page = again(errors={"attachments": saved.file_problem} if saved.file_problem else None, kept=saved.held)
        if saved.mailed_to:
            note = N_(
                "Your draft is saved. We have emailed a private link to %(email)s: open it to continue, "
                "on this or another device, until nominations close."
            )
        else:
            note = N_(
                "Your draft is updated. Continue later with the link we emailed to %(email)s; the link stays the same."
            )
        page.context["draft_saved"] = i18n.gettext(note, email=saved.nominator_email)
        return page

    @get(RESUME_PATH, name="draft_resume", response_headers=PRIVATE)
    async def resume(self, token: FromPath[str], settings: NamedDependency[Settings]) -> Template:
        token = token[:MAX_TOKEN]
        try:
            draft = await drafts.resume(token)
        except InvalidToken:
            return _expired_link()
        # The form comes back in the language it was filled in (the mail's), remembered as the
        # visitor's choice so that sending it answers in that language too; the page's
        # language links switch it, keeping everything.
        cookies: list[Cookie] = []
        if draft.data.language != i18n.current_language.get():
            i18n.current_language.set(draft.data.language)
            cookies = language_cookies(draft.data.language, settings)
        page = form_page(
            mode="new",
            edition=draft.edition,
            data=draft.data,
            action=NOMINATE_PATH,
            submission_key=draft.submission_key,
            kept=await held_files.held(draft.submission_key),
        )
        page.context["draft_resumed"] = i18n.gettext(
            N_("This is your draft, last saved on %(saved)s (Warsaw time). Send it when it is complete."),
            saved=i18n.format_datetime(draft.updated_at),
        )
        page.context["draft_token"] = token
        page.cookies.extend(cookies)
        return page

    @post(RESUME_PATH + "/delete", name="draft_delete", response_headers=PRIVATE)
    async def delete(self, token: FromPath[str]) -> Template:
        try:
            await drafts.discard(token[:MAX_TOKEN])
        except InvalidToken:
            return _expired_link()
        return Template(template_name="nominate/draft_deleted.html")
