"""Clerk pages for the formal check: nominations of an edition, dossiers, merges, export."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_409_CONFLICT

from ambassador import i18n, vocabulary
from ambassador.domain import accounts, bulk, consent, formal_check, nominations
from ambassador.domain.accounts import Account
from ambassador.domain.editions import EditionView
from ambassador.domain.formal_check import Dossier, Filters
from ambassador.domain.nominations import NominationData, NominationView
from ambassador.domain.uploads import UploadRules
from ambassador.enums import LANGUAGES, ConsentState, NominationState, NomineeField, Role
from ambassador.errors import N_, DomainError, InvalidInput
from ambassador.settings import Settings
from ambassador.web import labels
from ambassador.web.bulk import flash_outcome, flash_refusal, posted_ids
from ambassador.web.downloads import NO_STORE, attachment_response, csv_download
from ambassador.web.editions import edition_or_404, message_of
from ambassador.web.errors import refuse_or_redirect
from ambassador.web.forms import TRUE_VALUES, Form, read_form, require_row_id, translated_errors
from ambassador.web.guards import requires_role, totp_enrolled

AnyRequest = Request[Any, Account, Any]

# The paper form carries up to five files of 10 MB; the rest of the site keeps 1 MB.
PAPER_FORM_MAX_BODY = 54 * 1024 * 1024
CHECK_STATES = frozenset(formal_check.CHECK_STATES)
FILTER_KEYS = frozenset({"state", "category", "consent", "duplicates"})
SHORTLIST_STATES = frozenset(formal_check.SHORTLIST_STATES)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Unconfirmed nominations are never listed, so they are no filter either.
LISTED_STATES = tuple(s for s in NominationState if s != NominationState.UNCONFIRMED)


def _choice(enum: type[Any], raw: str | None, offered: set[str] | None = None) -> Any:
    """The enum member named by a query value; anything else means "no filter"."""
    allowed = offered if offered is not None else {m.value for m in enum}
    return enum(raw) if raw is not None and raw in allowed else None


def filter_query(filters: Filters) -> str:
    """The list's filters as a query string ("" for none), to come back to the same view."""
    pairs = [
        ("state", filters.state.value if filters.state else ""),
        ("category", filters.category or ""),
        ("consent", filters.consent.value if filters.consent else ""),
        ("duplicates", "1" if filters.duplicates_only else ""),
    ]
    kept = [(k, v) for k, v in pairs if v]
    return "?" + urlencode(kept) if kept else ""


def kept_query(raw: str) -> str:
    """A posted copy of the list's query string, keeping only the filters' own keys."""
    kept = [(k, v[:40]) for k, v in parse_qsl(raw.lstrip("?")) if k in FILTER_KEYS]
    return "?" + urlencode(kept) if kept else ""


def is_web_address(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def descriptions_of(nomination: NominationView, edition: EditionView) -> list[tuple[str, str]]:
    """(criterion name in the user's language, the nominator's text) in the edition's order."""
    found: list[tuple[str, str]] = []
    known: set[int] = set()
    for criterion in edition.criteria:
        if criterion.id is None:
            continue
        known.add(criterion.id)
        found.append((criterion.name(), nomination.descriptions.get(criterion.id, "")))
    removed = i18n.gettext(N_("A criterion no longer in the edition"))
    found.extend((removed, text) for key, text in sorted(nomination.descriptions.items()) if key not in known)
    return found


async def visible_nomination(nomination_id: int) -> NominationView:
    """A nomination staff may open: it exists and was confirmed (or entered by a clerk)."""
    nomination = await nominations.get_nomination(require_row_id(nomination_id))
    if nomination.state == NominationState.UNCONFIRMED:
        raise NotFoundException()
    return nomination


async def dossier_or_404(nomination_id: int) -> Dossier:
    return await formal_check.dossier(require_row_id(nomination_id))


async def _clerk_name(account_id: int | None) -> str:
    if account_id is None:
        return ""
    account = await accounts.get_account(account_id)
    return account.display_name if account else ""


async def dossier_page(
    dossier: Dossier,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    problem: str = "",
    status_code: int = 200,
) -> Template:
    nomination, edition = dossier.nomination, dossier.edition
    checking = edition.state in CHECK_STATES
    return Template(
        template_name="formal_check/dossier.html",
        context={
            "dossier": dossier,
            "nomination": nomination,
            "edition": edition,
            "labels": labels,
            "descriptions_of": descriptions_of,
            "is_web_address": is_web_address,
            "entered_by": await _clerk_name(nomination.entered_by),
            "checking": checking,
            "decidable": checking and nomination.state in formal_check.DECIDABLE,
            "mergeable": checking and nomination.state in formal_check.MERGEABLE,
            "errors": translated_errors(errors or {}),
            "values": {"reason": "", "consent_note": "", **(values or {})},
            "problem": problem,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


def read_nomination(form: Form, edition: EditionView) -> NominationData:
    """The paper form's fields; each read one character past its limit so the domain can tell."""
    criteria_ids = [c.id for c in edition.criteria if c.id is not None]
    return NominationData(
        category=form.text("category", 20),
        nominee_name=form.text("nominee_name", nominations.MAX_NAME),
        nominee_is_minor=form.flag("nominee_is_minor"),
        nominee_email=form.text("nominee_email", 254),
        nominee_phone=form.text("nominee_phone", nominations.MAX_PHONE),
        organisation_kind=form.text("organisation_kind", 30),
        organisation_website=form.text("organisation_website", nominations.MAX_URL),
        registry_number=form.text("registry_number", 30),
        descriptions={cid: form.text(f"description_{cid}", nominations.MAX_DESCRIPTION) for cid in criteria_ids},
        links=form.text("links", nominations.MAX_LINKS_TEXT),
        nominator_name=form.text("nominator_name", nominations.MAX_NAME),
        nominator_email=form.text("nominator_email", 254),
        nominator_phone=form.text("nominator_phone", nominations.MAX_PHONE),
        nominator_organisation=form.text("nominator_organisation", nominations.MAX_NAME),
        nominator_relation=form.text("nominator_relation", nominations.MAX_RELATION),
        privacy_ack=form.flag("privacy_ack"),
        language=form.text("language", 5),
    )


def parse_date(raw: str) -> dt.date | None:
    if not _DATE.match(raw):
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None


def category_options(edition: EditionView) -> list[tuple[str, str]]:
    """The edition's categories as (code, label) choices, in their order."""
    language = i18n.current_language.get()
    return [(c.code, c.label(language)) for c in edition.categories]


def paper_page(
    edition: EditionView,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    problem: str = "",
    status_code: int = 200,
) -> Template:
    blank = dataclasses.asdict(NominationData())
    return Template(
        template_name="formal_check/paper.html",
        context={
            "edition": edition,
            "values": {**blank, "received_on": "", **(values or {})},
            "errors": translated_errors(errors or {}),
            "problem": problem,
            "open": edition.state in CHECK_STATES,
            "categories": [("", i18n.gettext(N_("Choose…"))), *category_options(edition)],
            "krs_categories": ", ".join(c.code for c in edition.categories if c.asks(NomineeField.REGISTRY_NUMBER)),
            "organisation_kinds": [("", i18n.gettext(N_("Choose…"))), *labels.options(vocabulary.ORGANISATION_KINDS)],
            "mail_languages": [(code, i18n.language_name(code)) for code in LANGUAGES],
            "limits": {
                "name": nominations.MAX_NAME,
                "phone": nominations.MAX_PHONE,
                "url": nominations.MAX_URL,
                "description": nominations.MAX_DESCRIPTION,
                "links": nominations.MAX_LINKS_TEXT,
                "relation": nominations.MAX_RELATION,
            },
        },
        status_code=status_code,
        headers=NO_STORE,
    )


class FormalCheckController(Controller):
    path = "/staff"
    guards = [requires_role(Role.CLERK, Role.ADMIN), totp_enrolled]
    include_in_schema = False

    # --- the list ---------------------------------------------------------------------

    @get("/editions/{edition_id:int}/nominations", name="nominations")
    async def index(
        self,
        *,
        edition_id: FromPath[int],
        state_filter: Annotated[str | None, QueryParameter(name="state")] = None,
        category: FromQuery[str | None] = None,
        consent: FromQuery[str | None] = None,
        duplicates: FromQuery[str | None] = None,
        select: FromQuery[str | None] = None,
    ) -> Template:
        edition = await edition_or_404(edition_id)
        filters = Filters(
            state=_choice(NominationState, state_filter, {s.value for s in LISTED_STATES}),
            category=category if category in {c.code for c in edition.categories} else None,
            consent=_choice(ConsentState, consent),
            duplicates_only=(duplicates or "").lower() in TRUE_VALUES,
        )
        everything = await formal_check.list_nominations(edition.id)
        listed = everything if filters == Filters() else await formal_check.list_nominations(edition.id, filters)
        return Template(
            template_name="formal_check/list.html",
            context={
                "edition": edition,
                "listed": listed,
                "total": len(everything),
                "ids": {item.nomination.reference: item.nomination.id for item in everything},
                "references_by_id": {item.nomination.id: item.nomination.reference for item in everything},
                "filters": filters,
                "labels": labels,
                "states": [(s.value, labels.nomination_state(s)) for s in LISTED_STATES],
                "categories": category_options(edition),
                "consents": labels.options(vocabulary.CONSENTS),
                "open": edition.state in CHECK_STATES,
                "bulk": edition.state in CHECK_STATES | SHORTLIST_STATES,
                "select_all": select == "all",
                "query": filter_query(filters),
            },
            headers=NO_STORE,
        )

    @post("/editions/{edition_id:int}/nominations/bulk", name="nominations_bulk")
    async def bulk_decide(self, request: AnyRequest, edition_id: FromPath[int]) -> Redirect:
        """Accept or shortlist the ticked nominations, each on its own; back to the list as filtered."""
        edition = await edition_or_404(edition_id)
        form = await read_form(request)
        ids, bad = posted_ids(form, "nomination_id")
        back = f"/staff/editions/{edition.id}/nominations"
        back += kept_query(form.text("query", 500))
        try:
            if not ids and bad:
                outcome = bulk.Outcome((), bulk.refused(bad))
            else:
                outcome = await formal_check.decide_many(
                    actor_id=request.user.id, edition_id=edition.id, nomination_ids=ids, action=form.text("action", 20)
                )
                outcome = bulk.Outcome(outcome.done, (*outcome.failed, *bulk.refused(bad)))
        except DomainError as exc:
            flash_refusal(request, exc)
            return Redirect(back)
        if form.text("action", 20) == "accept":
            flash_outcome(
                request,
                outcome,
                lambda n, items: i18n.ngettext(
                    "%(num)s nomination accepted: %(items)s.",
                    "%(num)s nominations accepted: %(items)s.",
                    n,
                    items=items,
                ),
            )
        else:
            flash_outcome(
                request,
                outcome,
                lambda n, items: i18n.ngettext(
                    "%(num)s nomination shortlisted: %(items)s.",
                    "%(num)s nominations shortlisted: %(items)s.",
                    n,
                    items=items,
                ),
            )
        return Redirect(back)

    @get("/editions/{edition_id:int}/nominations.csv", name="nominations_csv")
    async def export(self, edition_id: FromPath[int]) -> Response[bytes]:
        edition = await edition_or_404(edition_id)
        filename = f"nominations-{edition.label.replace(' ', '-')}.csv"
        return csv_download(await formal_check.export_rows(edition.id), filename, NO_STORE)

    # --- paper nominations ------------------------------------------------------------

    @get("/editions/{edition_id:int}/nominations/new", name="paper_nomination")
    async def paper_form(self, edition_id: FromPath[int]) -> Template:
        edition = await edition_or_404(edition_id)
        if edition.state not in CHECK_STATES:
            refused = i18n.gettext(N_("Nominations cannot be entered in this edition's current state."))
            return paper_page(edition, problem=refused, status_code=HTTP_409_CONFLICT)
        return paper_page(edition)

    @post(
        "/editions/{edition_id:int}/nominations/new",
        name="paper_nomination_post",
        request_max_body_size=PAPER_FORM_MAX_BODY,
    )
    async def enter_paper(
        self,
        request: AnyRequest,
        edition_id: FromPath[int],
        settings: NamedDependency[Settings],
        upload_rules: NamedDependency[UploadRules],
    ) -> Template | Redirect:
        edition = await edition_or_404(edition_id)
        form = await read_form(request)
        data = read_nomination(form, edition)
        uploads = await form.files("attachments", nominations.MAX_ATTACHMENT_BYTES)
        received_raw = form.text("received_on", 20).strip()
        received_on = parse_date(received_raw)
        values: dict[str, Any] = {**dataclasses.asdict(data), "received_on": received_raw}
        try:
            submitted = await formal_check.enter_paper_nomination(
                actor_id=request.user.id,
                edition_id=edition.id,
                data=data,
                uploads=uploads,
                received_on=received_on,
                base_url=settings.base_url,
                rules=upload_rules,
            )
        except InvalidInput as exc:
            errors = dict(exc.errors)
            if received_raw and received_on is None:
                errors["received_on"] = N_("Enter the date as year, month and day.")
            return paper_page(edition, values=values, errors=errors, status_code=HTTP_400_BAD_REQUEST)
        except DomainError as exc:
            return paper_page(edition, values=values, problem=message_of(exc), status_code=HTTP_409_CONFLICT)
        flash(request, i18n.gettext(N_("Nomination %(reference)s entered."), reference=submitted.reference), "success")
        return Redirect(f"/staff/nominations/{submitted.nomination_id}")

    # --- the dossier ------------------------------------------------------------------

    @get("/nominations/{nomination_id:int}", name="dossier")
    async def dossier(self, nomination_id: FromPath[int]) -> Template:
        return await dossier_page(await dossier_or_404(nomination_id))

    @get("/nominations/{nomination_id:int}/attachments/{attachment_id:int}", name="attachment")
    async def attachment(self, nomination_id: FromPath[int], attachment_id: FromPath[int]) -> Response[bytes]:
        """A file of this very nomination; files of merged ones are linked through their own id."""
        nomination = await visible_nomination(nomination_id)
        info, content = await nominations.attachment_content(nomination.id, require_row_id(attachment_id))
        return attachment_response(info, content)

    async def _refused(
        self,
        page_of: int,
        exc: DomainError,
        values: dict[str, str] | None = None,
    ) -> Template:
        """The dossier again with the refusal: field errors (400) or a rule that forbids (409)."""
        dossier = await dossier_or_404(page_of)
        if isinstance(exc, InvalidInput):
            return await dossier_page(dossier, errors=exc.errors, values=values, status_code=HTTP_400_BAD_REQUEST)
        return await dossier_page(dossier, values=values, problem=message_of(exc), status_code=HTTP_409_CONFLICT)

    def _saved(self, request: AnyRequest, nomination_id: int) -> Redirect:
        flash(request, i18n.gettext(N_("Saved.")), "success")
        return Redirect(f"/staff/nominations/{nomination_id}")

    @post("/nominations/{nomination_id:int}/decision", name="nomination_decision")
    async def decide(self, request: AnyRequest, nomination_id: FromPath[int]) -> Template | Redirect:
        nomination = await visible_nomination(nomination_id)
        form = await read_form(request)
        outcome, reason = form.text("outcome", 10), form.text("reason", formal_check.MAX_REASON)
        values = {"reason": reason}
        if outcome not in ("accept", "reject"):
            return await self._refused(nomination.id, DomainError(N_("Choose to accept or to reject.")), values)
        return await refuse_or_redirect(
            formal_check.decide(
                actor_id=request.user.id, nomination_id=nomination.id, accept=outcome == "accept", reason=reason
            ),
            lambda exc: self._refused(nomination.id, exc, values),
            lambda _: self._saved(request, nomination.id),
        )

    @post("/nominations/{nomination_id:int}/consent", name="nomination_consent")
    async def consent(self, request: AnyRequest, nomination_id: FromPath[int]) -> Template | Redirect:
        nomination = await visible_nomination(nomination_id)
        form = await read_form(request)
        answer, note = form.text("answer", 10), form.text("consent_note", consent.MAX_NOTE)
        values = {"consent_note": note}
        if answer not in (ConsentState.GIVEN, ConsentState.REFUSED):
            refused = DomainError(N_("Choose whether consent was given or refused."))
            return await self._refused(nomination.id, refused, values)
        return await refuse_or_redirect(
            consent.record_paper_consent(
                actor_id=request.user.id, nomination_id=nomination.id, given=answer == ConsentState.GIVEN, note=note
            ),
            lambda exc: self._refused(nomination.id, exc, values),
            lambda _: self._saved(request, nomination.id),
        )

    @post("/nominations/{nomination_id:int}/shortlist", name="nomination_shortlist")
    async def shortlist(self, request: AnyRequest, nomination_id: FromPath[int]) -> Template | Redirect:
        nomination = await visible_nomination(nomination_id)
        return await refuse_or_redirect(
            formal_check.shortlist(actor_id=request.user.id, nomination_id=nomination.id),
            lambda exc: self._refused(nomination.id, exc),
            lambda _: self._saved(request, nomination.id),
        )

    @post("/nominations/{nomination_id:int}/merge", name="nomination_merge")
    async def merge(self, request: AnyRequest, nomination_id: FromPath[int]) -> Template | Redirect:
        """Merge the posted duplicate into this dossier."""
        target = await visible_nomination(nomination_id)
        duplicate_id = (await read_form(request)).integer("duplicate_id")
        if duplicate_id is None:
            return await self._refused(target.id, DomainError(N_("Choose the nomination to merge.")))
        duplicate = await visible_nomination(duplicate_id)
        return await refuse_or_redirect(
            formal_check.merge(actor_id=request.user.id, target_id=target.id, duplicate_id=duplicate.id),
            lambda exc: self._refused(target.id, exc),
            lambda _: self._saved(request, target.id),
        )

    @post("/nominations/{nomination_id:int}/unmerge", name="nomination_unmerge")
    async def unmerge(self, request: AnyRequest, nomination_id: FromPath[int]) -> Template | Redirect:
        """Undo the merge of this nomination; back to the dossier it was merged into."""
        merged = await visible_nomination(nomination_id)
        back_to = merged.merged_into or merged.id
        return await refuse_or_redirect(
            formal_check.unmerge(actor_id=request.user.id, nomination_id=merged.id),
            lambda exc: self._refused(back_to, exc),
            lambda _: self._saved(request, back_to),
        )
