"""The citizen's nomination form: reading it, showing it with its problems, and the submission.

Nobody here has an account. The pages behind the links mailed afterwards (confirmation, the
nominator's manage link, the nominee's consent) are in ``web.nomination_links``; the edit page
there reuses this form.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_400_BAD_REQUEST,
    HTTP_409_CONFLICT,
)

from ambassador import i18n, security_log, vocabulary
from ambassador.db import utcnow
from ambassador.domain import held_files, nominations, submission
from ambassador.domain.editions import EditionView, get_edition, open_edition_now
from ambassador.domain.held_files import Held
from ambassador.domain.nominations import (
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    MAX_DESCRIPTION,
    MAX_LINKS,
    MAX_LINKS_TEXT,
    MAX_NAME,
    MAX_PHONE,
    MAX_RELATION,
    MAX_URL,
    NominationData,
    NominationView,
    Upload,
    WindowClosed,
)
from ambassador.domain.uploads import UploadRules
from ambassador.enums import EditionState
from ambassador.errors import N_, InvalidInput, NotFound
from ambassador.settings import Settings
from ambassador.web import labels
from ambassador.web.addresses import url
from ambassador.web.client import client_address
from ambassador.web.downloads import NO_STORE
from ambassador.web.forms import MAX_ROW_ID, Form, read_form, translated_errors
from ambassador.web.language import HOST_LANGUAGE_COOKIE, LANGUAGE_COOKIE
from ambassador.web.page_cache import rendering, submission_key
from ambassador.web.public import language_cookie

NOMINATE_PATH = "/nominate"
RATE_LIMIT_STORE = "rate_limit"
SENT_PATH = "/nominate/sent"
# "Save as draft" (web.drafts): the same form, so the same body limit and rate limit.
DRAFT_PATH = "/nominate/draft"

# The only routes that take files: five 10 MB attachments plus the texts. The decorator is
# evaluated at import, so this is the settings' default, not a per-app value.
MAX_BODY = Settings.nomination_max_body_size
MAX_EMAIL = 254
# Texts are read up to twice their limit: the browser sends line ends as CRLF and cleaning
# collapses spaces, so the domain sees the real length and says "too long" rather than
# silently losing the end of a text.
READ_FACTOR = 2


LABELS = {
    "category": N_("Category"),
    "nominee_name": N_("Name of the person or organisation you nominate"),
    "nominee_email": N_("Nominee's email"),
    "nominee_phone": N_("Nominee's phone"),
    "organisation_kind": N_("Kind of organisation"),
    "organisation_website": N_("Organisation's website"),
    "registry_number": N_("KRS number"),
    "nominee_is_minor": N_("The nominee is under 18"),
    "links": N_("Links to materials about the activities"),
    "attachments": N_("Attachments"),
    "nominator_name": N_("Your name"),
    "nominator_email": N_("Your email"),
    "nominator_phone": N_("Your phone"),
    "nominator_organisation": N_("Your organisation"),
    "nominator_relation": N_("Your relation to the nominee"),
    "privacy_ack": N_("I have read the information on the processing of personal data."),
}

# The order of the fields on the page, for the error summary.
FIELD_ORDER = (
    "form",
    "category",
    "nominee_name",
    "nominee_email",
    "nominee_phone",
    "organisation_kind",
    "organisation_website",
    "registry_number",
    "nominee_is_minor",
    "<descriptions>",
    "links",
    "attachments",
    "nominator_name",
    "nominator_email",
    "nominator_phone",
    "nominator_organisation",
    "nominator_relation",
    "privacy_ack",
)

AnyRequest = Request[Any, Any, Any]


def rate_limit(settings: Settings) -> RateLimitConfig:
    """Per client address, only the form's submissions and saved drafts count (stored in the shared store)."""

    def throttled(request: AnyRequest) -> bool:
        return request.method == "POST" and request.url.path in (NOMINATE_PATH, DRAFT_PATH)

    return RateLimitConfig(
        rate_limit=("hour", settings.nomination_posts_per_hour),
        check_throttle_handler=throttled,
        # The address ForwardedMiddleware settled (Litestar's default reads the same scope field).
        identifier_for_request=client_address,
        set_rate_limit_headers=False,
        store=RATE_LIMIT_STORE,
    )


# --- reading the form -------------------------------------------------------------------


def _cap(limit: int) -> int:
    return READ_FACTOR * limit + 16


def read_nomination(form: Form, edition: EditionView, fixed: NominationView | None = None) -> NominationData:
    """The form's fields as typed; in edit mode the category and the nominator's email stay."""
    return NominationData(
        category=fixed.category if fixed else form.text("category", 20),
        nominee_name=form.text("nominee_name", _cap(MAX_NAME)),
        nominee_is_minor=form.flag("nominee_is_minor"),
        nominee_email=form.text("nominee_email", _cap(MAX_EMAIL)),
        nominee_phone=form.text("nominee_phone", _cap(MAX_PHONE)),
        organisation_kind=form.text("organisation_kind", 40),
        organisation_website=form.text("organisation_website", _cap(MAX_URL)),
        registry_number=form.text("registry_number", 40),
        descriptions={
            c.id: form.text(f"description_{c.id}", _cap(MAX_DESCRIPTION)) for c in edition.criteria if c.id is not None
        },
        links=form.text("links", _cap(MAX_LINKS_TEXT)),
        nominator_name=form.text("nominator_name", _cap(MAX_NAME)),
        nominator_email=fixed.nominator_email if fixed else form.text("nominator_email", _cap(MAX_EMAIL)),
        nominator_phone=form.text("nominator_phone", _cap(MAX_PHONE)),
        nominator_organisation=form.text("nominator_organisation", _cap(MAX_NAME)),
        nominator_relation=form.text("nominator_relation", _cap(MAX_RELATION)),
        # The nominator acknowledged the notice when submitting; editing does not ask again.
        privacy_ack=True if fixed else form.flag("privacy_ack"),
        language=i18n.current_language.get(),
    )


def _submission_key(value: str) -> str:
    """The posted key if it has the right shape, else a fresh one for the next attempt."""
    if submission.SUBMISSION_KEY_RE.match(value):
        return value
    return secrets.token_urlsafe(24)


class RecentEditions:
    """Editions as the public form uses them, read at most once per ``max_age`` seconds in
    this process (a cache, never the record).

    Every visitor of the form and every submission would otherwise read the edition and its
    criteria again. A change made elsewhere (a clerk, another worker) shows within
    ``max_age``; the moment that matters, whether the window is open when a nomination is
    saved, is checked by the saving statement itself. ``max_age`` 0 reads every time.
    """

    def __init__(self) -> None:
        self._read: dict[int | None, tuple[float, EditionView | None]] = {}

    async def open_now(self, max_age: float) -> EditionView | None:
        return await self._get(None, open_edition_now, max_age)

    async def by_id(self, edition_id: int, max_age: float) -> EditionView:
        edition = await self._get(edition_id, lambda: get_edition(edition_id), max_age)
        assert edition is not None  # get_edition raises NotFound, never cached
        return edition

    async def _get(
        self, key: int | None, read: Callable[[], Awaitable[EditionView | None]], max_age: float
    ) -> EditionView | None:
        now = time.monotonic()
        if max_age > 0 and (hit := self._read.get(key)) is not None and now - hit[0] < max_age:
            return hit[1]
        edition = await read()
        if max_age > 0:
            self._read[key] = (now, edition)
        return edition


RECENT = RecentEditions()


async def _posted_edition(form: Form, max_age: float) -> EditionView | None:
    """The edition the form was rendered for (so a late submit still shows what was typed)."""
    edition_id = form.integer("edition_id")
    if edition_id is not None and 0 < edition_id <= MAX_ROW_ID:
        try:
            edition = await RECENT.by_id(edition_id, max_age)
        except NotFound:
            edition = None
        if edition is not None and edition.state != EditionState.DRAFT:
            return edition
    return await RECENT.open_now(max_age)


# --- rendering --------------------------------------------------------------------------


def field_labels(edition: EditionView) -> dict[str, str]:
    names = {name: i18n.gettext(msgid) for name, msgid in LABELS.items()}
    names.update({f"description_{c.id}": c.name() for c in edition.criteria})
    return names


def error_list(errors: dict[str, str], edition: EditionView) -> list[tuple[str, str, str]]:
    """(anchor, field label, message) for the summary at the top, in the page's order."""
    names = field_labels(edition)
    order: list[str] = []
    for name in FIELD_ORDER:
        if name == "<descriptions>":
            order.extend(f"description_{c.id}" for c in edition.criteria)
        else:
            order.append(name)
    order.extend(sorted(name for name in errors if name not in order))
    return [
        ("nomination-form" if name == "form" else f"f-{name}", summary_label(names.get(name, "")), errors[name])
        for name in order
        if name in errors
    ]


def summary_label(label: str) -> str:
    """A field's label as the summary writes it before ": message", without its own closing
    full stop or colon (a checkbox's label is a sentence: "…personal data.: Please…")."""
    return label.rstrip().rstrip(".:").rstrip()


def form_page(
    *,
    mode: str,
    edition: EditionView,
    data: NominationData,
    action: str,
    errors: dict[str, str] | None = None,
    status: int = 200,
    submission_key: str = "",
    nomination: NominationView | None = None,
    removed: list[int] | None = None,
    files_again: bool = False,
    closed: str = "",
    kept: list[Held] | None = None,
    switched: bool = False,
) -> Template:
    shown = translated_errors(errors or {})
    return Template(
        template_name="nominate/form.html",
        context={
            "mode": mode,
            "edition": edition,
            "data": data,
            "action": action,
            "errors": shown,
            "error_list": error_list(shown, edition),
            "submission_key": submission_key,
            "nomination": nomination,
            "manage_url": action.removesuffix("/edit") if mode == "edit" else "",
            "removed": removed or [],
            "files_again": files_again,
            "closed": closed,
            "kept": kept or [],
            "switched": switched,
            "labels": field_labels(edition),
            "organisation_kinds": labels.options(vocabulary.ORGANISATION_KINDS),
            "category_label": labels.category(data.category, edition.categories),
            "limits": {
                "name": MAX_NAME,
                "email": MAX_EMAIL,
                "phone": MAX_PHONE,
                "url": MAX_URL,
                "description": MAX_DESCRIPTION,
                "links": MAX_LINKS,
                "links_text": MAX_LINKS_TEXT,
                "relation": MAX_RELATION,
                "attachments": MAX_ATTACHMENTS,
                "attachment_mb": MAX_ATTACHMENT_BYTES // (1024 * 1024),
            },
        },
        status_code=status,
    )


def _not_open(edition: EditionView | None, status: int = 200) -> Template:
    """No form to show: no edition is open, or its window has not begun or is over."""
    now = utcnow()
    if edition is not None and edition.state == EditionState.OPEN and now < edition.opens_at:
        message = i18n.gettext(
            N_("Nominations for %(edition)s open on %(opens)s (Warsaw time)."),
            edition=f"{edition.name()} ({edition.label})",
            opens=i18n.format_datetime(edition.opens_at),
        )
    elif edition is not None:
        message = i18n.gettext(WindowClosed.message)
    else:
        message = i18n.gettext(N_("No edition is open for nominations at the moment."))
    return Template(
        template_name="nominate/unavailable.html",
        context={"edition": edition, "message": message},
        status_code=status,
    )


def language_cookies(language: str, settings: Settings) -> list[Cookie]:
    """The cookies ``/language/<code>`` sets for an explicit choice (web.public)."""
    if not settings.production:
        return [language_cookie(LANGUAGE_COOKIE, language, secure=False)]
    return [
        language_cookie(HOST_LANGUAGE_COOKIE, language, secure=True),
        language_cookie(LANGUAGE_COOKIE, "", secure=False, max_age=0),
    ]


async def _kept_page(
    edition: EditionView,
    data: NominationData,
    uploads: list[Upload],
    *,
    key: str,
    language: str | None,
    remove: int | None,
    settings: Settings,
    rules: UploadRules,
) -> Template:
    """The form again, nothing sent and no field checked: in ``language`` (remembered as the
    user's choice) or without the held file ``remove``. New files that pass their checks are
    held; a refused one is the only problem shown. After the window's close, says so."""
    if language is not None:
        i18n.current_language.set(language)
        data = replace(data, language=language)
    now = utcnow()
    errors: dict[str, str] = {}
    closed = ""
    if not edition.accepts_nominations(now):
        closed = i18n.gettext(WindowClosed.message)
    else:
        if remove is not None and 0 < remove <= MAX_ROW_ID:
            await held_files.remove(key, remove)
        if uploads:
            held = await held_files.hold(key, uploads, closes_at=edition.closes_at, rules=rules, now=now)
            if held.problem is not None:
                errors["attachments"] = held.problem
    page = form_page(
        mode="new",
        edition=edition,
        data=data,
        action=url(NOMINATE_PATH),
        submission_key=key,
        errors=errors,
        status=HTTP_409_CONFLICT if closed else 200,
        kept=[] if closed else await held_files.held(key, now),
        closed=closed,
    )
    if language is not None:
        page.cookies.extend(language_cookies(language, settings))
    return page


async def _send(
    edition: EditionView,
    data: NominationData,
    uploads: list[Upload],
    *,
    posted_key: str,
    key: str,
    settings: Settings,
    rules: UploadRules,
) -> Template | Redirect:
    """Submit; the form again with its problems (and the files kept) when it cannot be saved."""
    again = partial(form_page, mode="new", edition=edition, data=data, action=url(NOMINATE_PATH), submission_key=key)
    try:
        await submission.submit(
            edition=edition,
            data=data,
            uploads=uploads,
            submission_key=posted_key,
            base_url=settings.base_url,
            rules=rules,
        )
    except (InvalidInput, WindowClosed) as exc:
        return await form_again(again, exc, uploads=uploads, key=key)
    except NotFound:
        return _not_open(None, status=HTTP_409_CONFLICT)
    return Redirect(url(SENT_PATH), status_code=HTTP_303_SEE_OTHER)


async def form_again(
    again: Callable[..., Template], refused: InvalidInput | WindowClosed, *, uploads: list[Upload], key: str
) -> Template:
    """The form again after a refusal (sending it or saving it as a draft): its problems with
    the files kept under ``key``, or the window closed."""
    if isinstance(refused, WindowClosed):
        return again(status=HTTP_409_CONFLICT, closed=i18n.gettext(refused.message))
    return again(
        errors=refused.errors,
        status=HTTP_400_BAD_REQUEST,
        kept=await held_files.held(key),
        # Files are kept unless the form itself could not be read (no valid key).
        files_again=bool(uploads) and "form" in refused.errors,
    )


# --- the pages --------------------------------------------------------------------------


class NominationController(Controller):
    opt = {"exclude_from_auth": True}
    include_in_schema = False

    @get(NOMINATE_PATH, name="nominate", response_headers=NO_STORE)
    async def nominate_form(self, request: AnyRequest, settings: NamedDependency[Settings]) -> Template:
        # Anonymous visitors get this page from the page cache (ambassador.web.page_cache),
        # which renders it here with its edition and moment, and fills in the CSRF token and
        # a fresh submission key (here its placeholder) for each visitor.
        render = rendering(request.scope)
        edition = render.edition if render else await RECENT.open_now(settings.edition_cache_seconds)
        if edition is None or not edition.accepts_nominations(render.now if render else utcnow()):
            return _not_open(edition)
        return form_page(
            mode="new",
            edition=edition,
            data=NominationData(language=i18n.current_language.get()),
            action=url(NOMINATE_PATH),
            submission_key=submission_key(request.scope),
        )

    @post(NOMINATE_PATH, name="nominate_post", request_max_body_size=MAX_BODY, response_headers=NO_STORE)
    async def nominate(
        self, request: AnyRequest, settings: NamedDependency[Settings], upload_rules: NamedDependency[UploadRules]
    ) -> Template | Redirect:
        """Send the form; or, for its language buttons and its kept files' "remove" buttons,
        show it again with everything typed and every file kept, nothing sent."""
        form = await read_form(request)
        if form.text("website", 500).strip():
            # A bot filled the hidden field: answer as for a real nomination, keep nothing.
            security_log.event("nomination.honeypot", "blocked")
            return Redirect(url(SENT_PATH), status_code=HTTP_303_SEE_OTHER)
        edition = await _posted_edition(form, settings.edition_cache_seconds)
        if edition is None:
            return _not_open(None, status=HTTP_409_CONFLICT)
        data = read_nomination(form, edition)
        uploads = await form.files("attachments", MAX_ATTACHMENT_BYTES)
        posted_key = form.text("submission_key", 64)
        key = _submission_key(posted_key)
        switch = form.text("switch_language", 8)
        remove = form.integer("remove_held")
        if switch or remove is not None:
            return await _kept_page(
                edition,
                data,
                uploads,
                key=key,
                language=i18n.supported(switch),
                remove=remove,
                settings=settings,
                rules=upload_rules,
            )
        return await _send(
            edition, data, uploads, posted_key=posted_key, key=key, settings=settings, rules=upload_rules
        )

    @get(SENT_PATH, name="nominate_sent")
    async def sent(self) -> Template:
        return Template(template_name="nominate/sent.html", context={"hours": nominations.CONFIRM_HOURS})
