"""Clerk pages for the approving body's decision and for the publication of the laureates.

The decision is recorded once, when the jury's recommendation is signed: its facts, the
signed PDF and what it says of each recommended nomination (``approval.record_decision``).
After that the page shows the decision as recorded, and the PDF is a private download.
Publication sets the moment the laureates become public (``publication.publish``): nothing
is shown and no mail is sent before it.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_400_BAD_REQUEST, HTTP_409_CONFLICT

from ambassador import files, i18n, vocabulary
from ambassador.db import utcnow
from ambassador.domain import approval, publication
from ambassador.domain.accounts import Account
from ambassador.domain.approval import DecisionData, Outcome, Recommended, RecordedDecision
from ambassador.domain.consequences import Consequences
from ambassador.domain.editions import EditionView
from ambassador.domain.nominations import MAX_ATTACHMENT_BYTES, AttachmentInfo, Upload
from ambassador.domain.uploads import UploadRules
from ambassador.enums import ApprovingBody, Distinction, EditionState, Role
from ambassador.errors import N_, DomainError, InvalidInput, NotAcknowledged
from ambassador.settings import Settings
from ambassador.web import confirm, labels
from ambassador.web.downloads import NO_STORE, attachment_response
from ambassador.web.editions import edition_or_404, message_of, parse_local
from ambassador.web.formal_check import parse_date
from ambassador.web.forms import Form, read_form, translated_errors
from ambassador.web.guards import requires_role, totp_enrolled
from ambassador.web.stepup import redirect_unless_fresh, requires_step_up

AnyRequest = Request[Any, Account, Any]

# The signed PDF (10 MB at most, sent again base64-encoded from the confirmation) and the texts;
# a larger body is refused before it is read.
DECISION_MAX_BODY = 16 * 1024 * 1024
DOCUMENT_DATA_MAX = (MAX_ATTACHMENT_BYTES + 2) // 3 * 4
DECIDED_STATES = frozenset({EditionState.APPROVED, EditionState.PUBLISHED})
VOTE_FIELDS = ("votes_for", "votes_against", "votes_abstaining")
NOT_APPROVED = "none"  # the outcome field's value for "not approved"
_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2})?$")


def outcome_options() -> list[tuple[str, str]]:
    return [*labels.options(vocabulary.DISTINCTIONS), (NOT_APPROVED, i18n.gettext(N_("not approved")))]


def outcome_label(distinction: Distinction | None) -> str:
    return labels.distinction(distinction) if distinction else i18n.gettext(N_("not approved"))


def blank_values(edition: EditionView, listed: list[Recommended]) -> dict[str, str]:
    """The form as first shown: the edition's approving body, each outcome as recommended."""
    values = {"kind": edition.approving_body.value, "number": "", "decided_on": "", "not_voting": ""}
    values.update(dict.fromkeys(VOTE_FIELDS, ""))
    for item in listed:
        values[f"outcome_{item.nomination_id}"] = item.distinction.value
        values[f"reason_{item.nomination_id}"] = ""
    return values


def _votes(raw: str) -> int | None:
    """A number of votes; empty is None, anything else not a whole number is out of range."""
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        return -1


async def read_decision(
    form: Form, edition: EditionView, listed: list[Recommended]
) -> tuple[DecisionData, dict[str, str], dict[str, str]]:
    """The posted decision, the values to show again, and problems only the form can see."""
    values = {
        "kind": form.text("kind", 30).strip(),
        "number": form.text("number", approval.MAX_NUMBER),
        "decided_on": form.text("decided_on", 20).strip(),
        "not_voting": form.text("not_voting", approval.MAX_REASON),
    }
    values.update({name: form.text(name, 20).strip() for name in VOTE_FIELDS})
    problems: dict[str, str] = {}
    if values["kind"] not in set(ApprovingBody):
        problems["kind"] = N_("Choose the kind of decision.")
    decided_on = parse_date(values["decided_on"])
    if values["decided_on"] and decided_on is None:
        problems["decided_on"] = N_("Enter the date as year, month and day.")
    outcomes: dict[int, Outcome] = {}
    for item in listed:
        chosen = form.text(f"outcome_{item.nomination_id}", 20).strip()
        reason = form.text(f"reason_{item.nomination_id}", approval.MAX_REASON)
        values[f"outcome_{item.nomination_id}"] = chosen
        values[f"reason_{item.nomination_id}"] = reason
        if chosen == NOT_APPROVED:
            outcomes[item.nomination_id] = Outcome(None, reason)
        elif chosen in set(Distinction):
            outcomes[item.nomination_id] = Outcome(Distinction(chosen), reason)
    uploads = await form.files("document", MAX_ATTACHMENT_BYTES)
    if not uploads and (kept := form.text("document_data", DOCUMENT_DATA_MAX)):
        # The confirmation carries the document it was shown for: what was checked is what is recorded.
        try:
            uploads = [Upload(form.text("document_name", 255), base64.b64decode(kept, validate=True))]
        except ValueError:
            uploads = []
    data = DecisionData(
        kind=ApprovingBody(values["kind"]) if values["kind"] in set(ApprovingBody) else edition.approving_body,
        number=values["number"],
        decided_on=decided_on,
        document=uploads[0] if uploads else None,
        outcomes=outcomes,
        votes_for=_votes(values["votes_for"]),
        votes_against=_votes(values["votes_against"]),
        votes_abstaining=_votes(values["votes_abstaining"]),
        not_voting=values["not_voting"],
    )
    return data, values, problems


def placed(errors: dict[str, str], data: DecisionData) -> dict[str, str]:
    """The domain names an outcome's problem ``outcome_<id>``; once an outcome is chosen the
    problem is its reason, so the message goes beside the reason field."""
    found: dict[str, str] = {}
    for name, message in errors.items():
        prefix, _, raw_id = name.partition("_")
        if prefix == "outcome" and raw_id.isdigit() and int(raw_id) in data.outcomes:
            found[f"reason_{raw_id}"] = message
        else:
            found[name] = message
    return found


def decision_page(
    edition: EditionView,
    *,
    listed: list[Recommended] | None = None,
    decision: RecordedDecision | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str = "",
    status_code: int = 200,
    confirming: dict[str, Any] | None = None,
) -> Template:
    listed = listed or []
    return Template(
        template_name="approval/decision.html",
        context={
            "c": confirming,
            "edition": edition,
            "listed": listed,
            "decision": decision,
            "recording": edition.state == EditionState.RECOMMENDED and decision is None,
            "values": values or blank_values(edition, listed),
            "errors": translated_errors(errors or {}),
            "problem": problem,
            "labels": labels,
            "kinds": labels.options(vocabulary.APPROVING_BODIES),
            "outcomes": outcome_options(),
            "outcome_label": outcome_label,
            "limits": {"number": approval.MAX_NUMBER, "text": approval.MAX_REASON, "votes": approval.MAX_VOTES},
        },
        status_code=status_code,
        headers=NO_STORE,
    )


def confirm_decision(
    edition: EditionView,
    listed: list[Recommended],
    values: dict[str, str],
    data: DecisionData,
    found: Consequences,
    *,
    problem: str = "",
) -> Template:
    """The decision's confirmation: what recording it does, the form's values and document kept."""
    assert data.document is not None  # the preview refuses a decision without its document
    kept = {**values, "document_name": data.document.filename}
    kept["document_data"] = base64.b64encode(data.document.data).decode("ascii")
    c = confirm.context(
        found,
        title=i18n.gettext(N_("Record the decision")),
        action=f"/staff/editions/{edition.id}/decision",
        cancel_url=f"/staff/editions/{edition.id}",
        context_label=edition.label,
        hidden=tuple(kept.items()),
        problem=problem,
    )
    return decision_page(
        edition,
        listed=listed,
        values=values,
        problem=problem,
        confirming=c,
        status_code=HTTP_400_BAD_REQUEST if problem else 200,
    )


async def publication_page(
    edition: EditionView,
    *,
    decision: RecordedDecision | None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str = "",
    status_code: int = 200,
) -> Template:
    published_at = edition.published_at if edition.state == EditionState.PUBLISHED else None
    publishing = edition.state == EditionState.APPROVED
    to_check = await publication.warnings(edition.id) if publishing else ()
    return Template(
        template_name="approval/publication.html",
        context={
            "edition": edition,
            "decision": decision,
            "laureates": [o for o in decision.outcomes if o.distinction] if decision else [],
            "publishing": publishing,
            "warnings": [i18n.gettext(m, **m.params) for m in to_check],
            "published_at": published_at,
            "public": published_at is not None and published_at <= utcnow(),
            "values": {"published_on": "", "published_time": "", **(values or {})},
            "errors": translated_errors(errors or {}),
            "problem": problem,
            "labels": labels,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


def read_moment(form: Form) -> tuple[dt.datetime | None, dict[str, str], dict[str, str]]:
    """The publication moment in Warsaw time (None: now), the values, and the form's problems."""
    values = {
        "published_on": form.text("published_on", 20).strip(),
        "published_time": form.text("published_time", 20).strip(),
    }
    day, time = values["published_on"], values["published_time"]
    if not day and not time:
        return None, values, {}
    problems: dict[str, str] = {}
    date = parse_date(day)
    if date is None or not 2000 <= date.year <= 2199:
        problems["published_on"] = N_("Enter the date as year, month and day.")
    if not _TIME.match(time):
        problems["published_time"] = N_("Enter the time as hours and minutes.")
    moment = None if problems else parse_local(f"{day}T{time}")
    if moment is None and not problems:
        problems["published_time"] = N_("Enter the time as hours and minutes.")
    return moment, values, problems


class ApprovalController(Controller):
    path = "/staff/editions/{edition_id:int}"
    guards = [requires_role(Role.CLERK, Role.ADMIN), totp_enrolled]
    include_in_schema = False

    # --- the decision -----------------------------------------------------------------

    async def _decision_view(self, edition: EditionView, status_code: int = 200) -> Template:
        """The form while the edition waits for the decision; the record once there is one."""
        if edition.state == EditionState.RECOMMENDED:
            return decision_page(edition, listed=await approval.recommended(edition.id), status_code=status_code)
        decision = await approval.recorded(edition.id)
        if decision is not None:
            return decision_page(edition, decision=decision, status_code=status_code)
        if edition.state in DECIDED_STATES:
            missing = i18n.gettext(N_("No decision is recorded for this edition."))
            return decision_page(edition, problem=missing, status_code=status_code)
        refused = i18n.gettext(N_("A decision is recorded once the jury's recommendation is signed."))
        return decision_page(edition, problem=refused, status_code=HTTP_409_CONFLICT)

    @get("/decision", name="decision")
    async def decision(self, request: AnyRequest, edition_id: FromPath[int]) -> Template | Redirect:
        edition = await edition_or_404(edition_id)
        if edition.state == EditionState.RECOMMENDED and (ask := redirect_unless_fresh(request)):
            return ask  # ASVS 7.5.3: the password again before the form that records the decision
        return await self._decision_view(edition)

    @post(
        "/decision",
        name="decision_post",
        request_max_body_size=DECISION_MAX_BODY,
        guards=[requires_step_up("/staff/editions/{edition_id}/decision")],
    )
    async def record(
        self, request: AnyRequest, edition_id: FromPath[int], upload_rules: NamedDependency[UploadRules]
    ) -> Template | Redirect:
        edition = await edition_or_404(edition_id)
        if edition.state != EditionState.RECOMMENDED:
            return await self._decision_view(edition, HTTP_409_CONFLICT)
        listed = await approval.recommended(edition.id)
        form = await read_form(request)
        data, values, problems = await read_decision(form, edition, listed)
        step = "change" if form.flag("change") else "record" if form.flag("confirmed") else "preview"
        try:
            if problems.keys() - {"decided_on"}:
                raise InvalidInput(problems)
            # An unreadable date reaches the domain as None, which it always refuses: so every
            # other problem is shown at once, and the form's message replaces its own for the date.
            if step == "change":
                raise InvalidInput({})
            if step == "preview":
                found = await approval.preview(edition_id=edition.id, data=data)
                return confirm_decision(edition, listed, values, data, found)
            await approval.record_decision(
                actor_id=request.user.id,
                edition_id=edition.id,
                data=data,
                rules=upload_rules,
                acknowledged=form.flag("acknowledged"),
            )
        except InvalidInput as exc:
            return decision_page(
                edition,
                listed=listed,
                values=values,
                errors=placed({**exc.errors, **problems}, data),
                status_code=HTTP_400_BAD_REQUEST if exc.errors or problems else 200,
            )
        except NotAcknowledged as exc:
            found = await approval.preview(edition_id=edition.id, data=data)
            return confirm_decision(edition, listed, values, data, found, problem=message_of(exc))
        except DomainError as exc:
            current = await edition_or_404(edition_id)
            return decision_page(
                current,
                listed=await approval.recommended(current.id),
                decision=await approval.recorded(current.id),
                values=values,
                problem=message_of(exc),
                status_code=HTTP_409_CONFLICT,
            )
        flash(request, i18n.gettext(N_("The decision is recorded and the edition is approved.")), "success")
        return Redirect(f"/staff/editions/{edition.id}", status_code=HTTP_303_SEE_OTHER)

    @get("/decision.pdf", name="decision_pdf")
    async def decision_pdf(self, edition_id: FromPath[int]) -> Response[bytes]:
        edition = await edition_or_404(edition_id)
        decision = await approval.recorded(edition.id, with_document=True)
        if decision is None:
            raise NotFoundException()
        info = AttachmentInfo(
            id=edition.id, filename=decision.document_name, content_type=files.PDF, size=len(decision.document)
        )
        return attachment_response(info, decision.document)

    # --- publication ------------------------------------------------------------------

    async def _publication_view(self, edition: EditionView, status_code: int = 200) -> Template:
        decision = await approval.recorded(edition.id)
        if edition.state in DECIDED_STATES:
            return await publication_page(edition, decision=decision, status_code=status_code)
        refused = i18n.gettext(N_("Only an approved edition can be published."))
        return await publication_page(edition, decision=decision, problem=refused, status_code=HTTP_409_CONFLICT)

    @get("/publication", name="publication")
    async def publication(self, request: AnyRequest, edition_id: FromPath[int]) -> Template | Redirect:
        edition = await edition_or_404(edition_id)
        if edition.state == EditionState.APPROVED and (ask := redirect_unless_fresh(request)):
            return ask  # ASVS 7.5.3: the password again before the form that publishes
        return await self._publication_view(edition)

    @post(
        "/publication",
        name="publication_post",
        guards=[requires_step_up("/staff/editions/{edition_id}/publication")],
    )
    async def publish(
        self, request: AnyRequest, edition_id: FromPath[int], settings: NamedDependency[Settings]
    ) -> Template | Redirect:
        edition = await edition_or_404(edition_id)
        if edition.state != EditionState.APPROVED:
            return await self._publication_view(edition, HTTP_409_CONFLICT)
        form = await read_form(request)
        moment, values, problems = read_moment(form)
        try:
            if problems:
                raise InvalidInput(problems)
            await publication.publish(
                actor_id=request.user.id,
                edition_id=edition.id,
                published_at=moment or utcnow(),
                base_url=settings.base_url,
                acknowledged=form.flag("acknowledged"),
            )
        except InvalidInput as exc:
            errors = {("published_on" if k == "published_at" else k): v for k, v in exc.errors.items()}
            return await publication_page(
                edition,
                decision=await approval.recorded(edition.id),
                values=values,
                errors=errors,
                status_code=HTTP_400_BAD_REQUEST,
            )
        except DomainError as exc:
            current = await edition_or_404(edition_id)
            return await publication_page(
                current,
                decision=await approval.recorded(current.id),
                problem=message_of(exc),
                status_code=HTTP_409_CONFLICT,
            )
        flash(request, i18n.gettext(N_("Saved.")), "success")
        return Redirect(f"/staff/editions/{edition.id}/publication", status_code=HTTP_303_SEE_OTHER)
