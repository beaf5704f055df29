"""Clerk pages for an edition's jury: appointment and rules, conflicts of interest, scoring progress."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_409_CONFLICT

from ambassador import i18n, vocabulary
from ambassador.db import utcnow
from ambassador.domain import jury, jury_invites, scoring_round
from ambassador.domain.accounts import Account
from ambassador.domain.editions import EditionView
from ambassador.enums import LANGUAGES, EditionState, Role
from ambassador.errors import N_, DomainError, InvalidInput, NotFound
from ambassador.settings import Settings
from ambassador.web import labels
from ambassador.web.downloads import NO_STORE, csv_download
from ambassador.web.editions import back_to_edition_page, edition_or_404, message_of
from ambassador.web.errors import refuse_or_redirect
from ambassador.web.forms import MAX_ROW_ID, read_form, require_row_id, translated_errors
from ambassador.web.guards import requires_role, totp_enrolled
from ambassador.web.jury_rules_form import TIE_BREAK_SLOTS, read_rules, read_schedule, rules_values, schedule_values

AnyRequest = Request[Any, Account, Any]

# A number out of every range, so the domain's message for the field is shown.
# The chair may still change while the jury scores; afterwards the chair signs off.
CHAIR_STATES = jury.SETUP_STATES | {EditionState.JURY_SCORING}
# Detection voids the sheets it blocks, so it stops once scoring has closed.


def _row_id(raw: int | None) -> int | None:
    """A posted row id, or None when no row can have it."""
    return raw if raw is not None and 1 <= raw <= MAX_ROW_ID else None


async def _chosen(appointing: Awaitable[jury.Juror], no_juror: InvalidInput) -> jury.Juror:
    """An appointment of a chosen account: one gone since the form was shown is ``no_juror``."""
    try:
        return await appointing
    except NotFound:
        raise no_juror from None


# --- the jury and its rules ---------------------------------------------------------------


async def jury_page(
    edition: EditionView,
    *,
    failed: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    problem: str = "",
    status_code: int = 200,
) -> Template:
    """The jury page; ``failed`` names the form whose ``values`` and ``errors`` are shown again."""
    jurors = await jury.members(edition.id)
    rules = await jury.rules_of(edition.id)
    forms: dict[str, dict[str, Any]] = {
        "appoint": {"user_id": "", "organisations": ""},
        "invite": {"email": "", "display_name": "", "language": "pl", "organisations": ""},
        "invite_list": {"list": "", "language": "pl"},
        "rules": rules_values(rules),
        "schedule": schedule_values(rules),
        **{f"organisations-{j.user_id}": {"organisations": "\n".join(j.organisations)} for j in jurors},
    }
    if failed and values is not None:
        forms[failed] = {**forms.get(failed, {}), **values}
    return Template(
        template_name="jury_admin/jury.html",
        context={
            "edition": edition,
            "section": "jury",
            "jurors": jurors,
            "candidates": [
                (str(c.user_id), f"{c.display_name} ({c.email})") for c in await jury.candidates(edition.id)
            ],
            "rules": rules,
            "forms": forms,
            "errors": {failed: translated_errors(errors or {})},
            "problem": problem,
            "setup": edition.state in jury.SETUP_STATES,
            "schedule_changeable": edition.state == EditionState.JURY_SCORING,
            "chair_changeable": edition.state in CHAIR_STATES,
            "labels": labels,
            "visibilities": labels.options(vocabulary.SCORE_VISIBILITIES),
            "majorities": labels.options(vocabulary.MAJORITIES),
            "tie_breaks": [("", i18n.gettext(N_("none"))), *labels.options(vocabulary.TIE_BREAKS)],
            "slots": range(1, TIE_BREAK_SLOTS + 1),
            "mail_languages": [(code, i18n.language_name(code)) for code in LANGUAGES],
            "limits": {
                "document": jury.MAX_DOCUMENT,
                "organisations": jury.MAX_ORGANISATIONS,
                "reminder_days": jury.MAX_REMINDER_DAYS,
                "lines": jury_invites.MAX_LINES,
            },
        },
        status_code=status_code,
        headers=NO_STORE,
    )


async def jury_refused(
    edition: EditionView, failed: str, exc: DomainError, values: dict[str, Any] | None = None
) -> Template:
    """The jury page again: field errors (400) or a rule that forbids (409)."""
    if isinstance(exc, InvalidInput):
        return await jury_page(
            edition, failed=failed, errors=exc.errors, values=values, status_code=HTTP_400_BAD_REQUEST
        )
    return await jury_page(
        edition, failed=failed, values=values, problem=message_of(exc), status_code=HTTP_409_CONFLICT
    )


# --- scoring ------------------------------------------------------------------------------


async def scoring_page(edition: EditionView, *, problem: str = "", status_code: int = 200) -> Template:
    return Template(
        template_name="jury_admin/scoring.html",
        context={
            "edition": edition,
            "section": "scoring",
            "progress": await scoring_round.progress(edition.id),
            "scoring_open": edition.state == EditionState.JURY_SCORING,
            "problem": problem,
            "labels": labels,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


class JuryAdminController(Controller):
    path = "/staff/editions/{edition_id:int}"
    guards = [requires_role(Role.CLERK, Role.ADMIN), totp_enrolled]
    include_in_schema = False

    async def _appointed(
        self,
        request: AnyRequest,
        edition: EditionView,
        failed: str,
        appointing: Awaitable[jury.Juror],
        *,
        values: dict[str, str],
        news: str,
    ) -> Template | Redirect:
        """After appointing or inviting: the form ``failed`` again with its refusal, or the ``news``."""
        return await refuse_or_redirect(
            appointing,
            lambda exc: jury_refused(edition, failed, exc, values),
            lambda juror: back_to_edition_page(
                request, edition.id, "jury", i18n.gettext(news, name=juror.display_name, email=juror.email)
            ),
        )

    # --- the jury -------------------------------------------------------------------------

    @get("/jury", name="jury_admin")
    async def jury_index(self, edition_id: FromPath[int]) -> Template:
        return await jury_page(await edition_or_404(edition_id))

    @post("/jury/appoint", name="jury_appoint")
    async def appoint(
        self, request: AnyRequest, edition_id: FromPath[int], settings: NamedDependency[Settings]
    ) -> Template | Redirect:
        edition = await edition_or_404(edition_id)
        form = await read_form(request)
        values = {
            "user_id": form.text("user_id", 20).strip(),
            "organisations": form.text("organisations", jury.MAX_ORGANISATIONS),
        }
        no_juror = InvalidInput({"user_id": N_("Choose a juror.")})
        user_id = _row_id(form.integer("user_id"))
        if user_id is None:
            return await jury_refused(edition, "appoint", no_juror, values)
        appointing = jury.appoint(
            actor_id=request.user.id,
            edition_id=edition.id,
            user_id=user_id,
            organisations=values["organisations"],
            base_url=settings.base_url,
        )
        news = N_("%(name)s is now on the jury.")
        chosen = _chosen(appointing, no_juror)
        return await self._appointed(request, edition, "appoint", chosen, values=values, news=news)

    @post("/jury/invite", name="jury_invite")
    async def invite(
        self, request: AnyRequest, edition_id: FromPath[int], settings: NamedDependency[Settings]
    ) -> Template | Redirect:
        """Create a juror account, mail its invitation and appoint it: all or nothing."""
        edition = await edition_or_404(edition_id)
        form = await read_form(request)
        values = {
            "email": form.text("email", 254).strip(),
            "display_name": form.text("display_name", 200).strip(),
            "language": form.text("language", 5).strip(),
            "organisations": form.text("organisations", jury.MAX_ORGANISATIONS),
        }
        inviting = jury.invite_and_appoint(
            actor_id=request.user.id,
            edition_id=edition.id,
            email=values["email"],
            display_name=values["display_name"],
            language=values["language"],
            organisations=values["organisations"],
            base_url=settings.base_url,
            lifetime_seconds=settings.token_lifetime_seconds,
        )
        news = N_("Invitation sent to %(email)s; they are now on the jury.")
        return await self._appointed(request, edition, "invite", inviting, values=values, news=news)

    @post("/jury/{user_id:int}/chair", name="jury_chair")
    async def chair(
        self, request: AnyRequest, edition_id: FromPath[int], user_id: FromPath[int]
    ) -> Template | Redirect:
        edition = await edition_or_404(edition_id)
        return await refuse_or_redirect(
            jury.set_chair(actor_id=request.user.id, edition_id=edition.id, user_id=require_row_id(user_id)),
            lambda exc: jury_refused(edition, "chair", exc),
            lambda juror: back_to_edition_page(
                request, edition.id, "jury", i18n.gettext(N_("%(name)s chairs the jury."), name=juror.display_name)
            ),
        )

    @post("/jury/{user_id:int}/organisations", name="jury_organisations")
    async def organisations(
        self, request: AnyRequest, edition_id: FromPath[int], user_id: FromPath[int]
    ) -> Template | Redirect:
        edition = await edition_or_404(edition_id)
        raw = (await read_form(request)).text("organisations", jury.MAX_ORGANISATIONS)
        failed = f"organisations-{user_id}"
        return await refuse_or_redirect(
            jury.update_organisations(
                actor_id=request.user.id, edition_id=edition.id, user_id=require_row_id(user_id), organisations=raw
            ),
            lambda exc: jury_refused(edition, failed, exc, {"organisations": raw}),
            lambda _: back_to_edition_page(request, edition.id, "jury", i18n.gettext(N_("Saved."))),
        )

    @post("/jury/{user_id:int}/remove", name="jury_remove")
    async def remove(
        self, request: AnyRequest, edition_id: FromPath[int], user_id: FromPath[int]
    ) -> Template | Redirect:
        edition = await edition_or_404(edition_id)
        return await refuse_or_redirect(
            jury.remove(actor_id=request.user.id, edition_id=edition.id, user_id=require_row_id(user_id)),
            lambda exc: jury_refused(edition, "remove", exc),
            lambda _: back_to_edition_page(
                request, edition.id, "jury", i18n.gettext(N_("The juror was taken off the jury."))
            ),
        )

    @post("/jury/rules", name="jury_rules")
    async def rules(self, request: AnyRequest, edition_id: FromPath[int]) -> Template | Redirect:
        edition = await edition_or_404(edition_id)
        kept = (await jury.rules_of(edition.id)).scoring_closes_at
        rules, values, problems = read_rules(await read_form(request), kept)
        try:
            if problems:
                raise InvalidInput({**jury.rules_errors(rules, kept=kept), **problems})
            await jury.set_rules(actor_id=request.user.id, edition_id=edition.id, rules=rules)
        except DomainError as exc:
            return await jury_refused(edition, "rules", exc, values)
        return back_to_edition_page(request, edition.id, "jury", i18n.gettext(N_("Saved.")))

    @post("/jury/schedule", name="jury_schedule")
    async def schedule(self, request: AnyRequest, edition_id: FromPath[int]) -> Template | Redirect:
        """The scoring deadline and its reminder, which may still move while the jury scores."""
        edition = await edition_or_404(edition_id)
        kept = (await jury.rules_of(edition.id)).scoring_closes_at
        closes_at, reminder_days, values, problems = read_schedule(await read_form(request), kept)
        try:
            if problems:
                raise InvalidInput(
                    {**jury.schedule_errors(closes_at, reminder_days, now=utcnow(), kept=kept), **problems}
                )
            await jury.set_schedule(
                actor_id=request.user.id, edition_id=edition.id, closes_at=closes_at, reminder_days=reminder_days
            )
        except DomainError as exc:
            return await jury_refused(edition, "schedule", exc, values)
        return back_to_edition_page(request, edition.id, "jury", i18n.gettext(N_("Saved.")))

    # --- scoring --------------------------------------------------------------------------

    @get("/scoring", name="jury_scoring_progress")
    async def scoring_index(self, edition_id: FromPath[int]) -> Template:
        return await scoring_page(await edition_or_404(edition_id))

    @post("/scoring/remind", name="jury_scoring_remind")
    async def remind(
        self, request: AnyRequest, edition_id: FromPath[int], settings: NamedDependency[Settings]
    ) -> Template | Redirect:
        edition = await edition_or_404(edition_id)
        try:
            sent = await scoring_round.remind(
                actor_id=request.user.id, edition_id=edition.id, base_url=settings.base_url
            )
        except DomainError as exc:
            return await scoring_page(edition, problem=message_of(exc), status_code=HTTP_409_CONFLICT)
        message = i18n.ngettext("A reminder was sent to %(num)s juror.", "A reminder was sent to %(num)s jurors.", sent)
        return back_to_edition_page(request, edition.id, "scoring", message)

    @get("/scores.csv", name="jury_scores_csv")
    async def scores_csv(self, edition_id: FromPath[int]) -> Response[bytes]:
        """Every submitted sheet (conflicted ones left out), cells safe to open in a spreadsheet."""
        edition = await edition_or_404(edition_id)
        filename = f"scores-{edition.label.replace(' ', '-')}.csv"
        return csv_download(await scoring_round.export_rows(edition.id), filename, NO_STORE)
