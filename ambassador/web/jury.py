"""Juror pages: the editions a juror sits on, conflict declarations, dossiers and score sheets.

Who may see what is decided in the domain (``jury.require_member``, ``scoring._open_for``):
a nomination the juror may not open answers exactly like one that does not exist (404).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_403_FORBIDDEN,
    HTTP_409_CONFLICT,
)

from ambassador import i18n, security_log, vocabulary
from ambassador.domain import chair_steps as chair_domain
from ambassador.domain import conflict_declarations, conflicts, editions, jury, nominations, scoring, scoring_round
from ambassador.domain.accounts import Account
from ambassador.domain.conflict_declarations import Listed
from ambassador.domain.editions import EditionView
from ambassador.domain.jury import Juror
from ambassador.domain.scoring import DeclareFirst, JuryDossier, ScoreInput, ScoringClosed, SheetView
from ambassador.enums import EditionState, Role, SheetStatus
from ambassador.errors import N_, DomainError, InvalidInput, NotAcknowledged, NotAllowed, NotFound
from ambassador.web import chair_steps, jury_conflicts, labels
from ambassador.web.downloads import NO_STORE, attachment_response
from ambassador.web.editions import message_of
from ambassador.web.formal_check import is_web_address
from ambassador.web.forms import Form, read_form, require_row_id, translated_errors
from ambassador.web.guards import requires_role, totp_enrolled

AnyRequest = Request[Any, Account, Any]

NO_CONFLICT = "none"
CONFLICT = "conflict"
# A score as typed: an optional minus and a few ASCII digits; anything else is not a number.
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}")


# --- editions ---------------------------------------------------------------------------


async def member_edition(edition_id: int, user_id: int) -> tuple[EditionView, Juror]:
    """An edition the juror sits on and the jury works on; 404 for anything else."""
    juror = await jury.require_member(require_row_id(edition_id), user_id)
    edition = await editions.get_edition(edition_id)
    if edition.state not in jury.JURY_STATES:
        raise NotFoundException()
    return edition, juror


async def edition_page(edition: EditionView, juror: Juror, *, problem: str = "", status_code: int = 200) -> Template:
    """The juror's work on an edition, or only the request to declare conflicts first."""
    listed = await conflict_declarations.declaration_list(edition.id, juror.user_id)
    context: dict[str, Any] = {
        "edition": edition,
        "juror": juror,
        "labels": labels,
        "problem": problem,
        "declared_all": all(item.answered for item in listed),
        "answered": sum(1 for item in listed if item.answered),
        "total": len(listed),
        "rules": await jury.rules_of(edition.id),
    }
    if context["declared_all"]:
        everyone = await scoring_round.progress(edition.id)
        context.update(
            to_score=await scoring.to_score(edition.id, juror.user_id),
            progress=next((p for p in everyone if p.juror.user_id == juror.user_id), None),
            everyone=everyone if juror.is_chair else [],
            can_close=juror.is_chair and edition.state == EditionState.JURY_SCORING,
            scoring_open=edition.state == EditionState.JURY_SCORING,
        )
    return Template(template_name="jury/edition.html", context=context, status_code=status_code, headers=NO_STORE)


# --- conflict declarations --------------------------------------------------------------


def stored_answers(listed: list[Listed]) -> dict[str, str]:
    """The form as the juror last answered it (a reason already given is kept, not shown)."""
    values: dict[str, str] = {}
    for item in listed:
        key = item.nomination_id
        values[f"answer_{key}"] = CONFLICT if item.conflicted else NO_CONFLICT if item.answered else ""
        values[f"kind_{key}"] = item.kind
        values[f"reason_{key}"] = ""
    return values


def unchanged(item: Listed, conflicted: bool, kind: str, reason: str) -> bool:
    """The posted answer repeats the stored one: nothing to save (and nothing to audit)."""
    if not item.answered or item.conflicted != conflicted:
        return False
    return not conflicted or (kind == item.kind and not reason.strip())


async def conflicts_page(
    edition: EditionView,
    user_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    listed = await conflict_declarations.declaration_list(edition.id, user_id)
    blocked = await conflicts.conflicted_ids(edition.id, user_id)
    return Template(
        template_name="jury/conflicts.html",
        context={
            "edition": edition,
            "listed": listed,
            # Blocked without a declaration of the juror's own: a detection a clerk has to review.
            "detected": {item.nomination_id for item in listed if not item.conflicted} & blocked,
            "values": {**stored_answers(listed), **(values or {})},
            "errors": translated_errors(errors or {}),
            "labels": labels,
            "kinds": [("", i18n.gettext(N_("Choose…"))), *labels.options(vocabulary.CONFLICT_KINDS)],
            "max_reason": conflict_declarations.MAX_REASON,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


async def save_declarations(form: Form, edition_id: int, user_id: int) -> tuple[dict[str, str], dict[str, str]]:
    """Declare every answered nomination; the posted values and the problems, by field name."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for item in await conflict_declarations.declaration_list(edition_id, user_id):
        if item.pinned or item.blocked:
            continue
        key = item.nomination_id
        answer = form.text(f"answer_{key}", 20)
        kind = form.text(f"kind_{key}", 30)
        reason = form.text(f"reason_{key}", conflict_declarations.MAX_REASON)
        values.update({f"answer_{key}": answer, f"kind_{key}": kind, f"reason_{key}": reason})
        if not answer:
            continue
        if answer not in (NO_CONFLICT, CONFLICT):
            errors[f"answer_{key}"] = N_("Choose “No conflict” or “Conflict”.")
            continue
        conflicted = answer == CONFLICT
        if unchanged(item, conflicted, kind, reason):
            continue
        try:
            await conflict_declarations.declare(
                juror_id=user_id,
                edition_id=edition_id,
                nomination_id=key,
                conflicted=conflicted,
                kind=kind if conflicted else "",
                reason=reason if conflicted else "",
            )
        except InvalidInput as exc:
            errors.update({f"{name}_{key}": message for name, message in exc.errors.items()})
        except NotFound:
            continue  # no longer before the jury: nothing to declare
        except DomainError as exc:
            errors[f"answer_{key}"] = exc.message
    return values, errors


# --- dossiers and score sheets ----------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    """Everything the dossier page shows, read only after the domain let the juror in."""

    dossier: JuryDossier
    edition: EditionView
    own: SheetView | None
    others: list[SheetView]


async def _edition_of(nomination_id: int) -> int:
    """The edition of a nomination the domain has already let this juror reach."""
    return (await nominations.get_nomination(nomination_id)).edition_id


async def open_dossier(user_id: int, nomination_id: int) -> Opened | Redirect:
    """The dossier for the juror; 404 when they may not see it, the declarations when not yet."""
    nomination_id = require_row_id(nomination_id)
    try:
        dossier = await scoring.dossier_for_juror(user_id, nomination_id)
        own = await scoring.own_sheet(user_id, nomination_id)
        others = await scoring.others_sheets(user_id, nomination_id)
        edition = await editions.get_edition(await _edition_of(nomination_id))
    except DeclareFirst:
        return await declare_first(nomination_id)
    return Opened(dossier=dossier, edition=edition, own=own, others=others)


async def declare_first(nomination_id: int) -> Redirect:
    edition_id = await _edition_of(nomination_id)
    return Redirect(f"/jury/editions/{edition_id}/conflicts")


def texts_of(dossier: JuryDossier, edition: EditionView) -> list[tuple[str, str]]:
    """(criterion name in the user's language, the nominator's text) in the edition's order."""
    found: list[tuple[str, str]] = []
    known: set[int] = set()
    for criterion in edition.criteria:
        if criterion.id is not None:
            known.add(criterion.id)
            found.append((criterion.name(), dossier.descriptions.get(criterion.id, "")))
    removed = i18n.gettext(N_("A criterion no longer in the edition"))
    found.extend((removed, text) for key, text in sorted(dossier.descriptions.items()) if key not in known)
    return found


def criterion_ids(edition: EditionView) -> list[int]:
    return [c.id for c in edition.criteria if c.id is not None]


def sheet_values(edition: EditionView, sheet: SheetView | None) -> dict[str, str]:
    """The score form filled from the juror's own sheet (empty for none, or a voided one)."""
    values: dict[str, str] = {"comment": ""}
    usable = sheet is not None and sheet.status != SheetStatus.VOID
    for cid in criterion_ids(edition):
        value = sheet.values.get(cid) if sheet is not None and usable else None
        values[f"score_{cid}"] = "" if value is None else str(value)
        values[f"comment_{cid}"] = sheet.comments.get(cid, "") if sheet is not None and usable else ""
    if sheet is not None and usable:
        values["comment"] = sheet.comment
    return values


def read_scores(form: Form, edition: EditionView) -> tuple[ScoreInput, dict[str, str]]:
    """The posted sheet and the values to show again.

    A value that is not a whole number becomes one below the scale, so the domain refuses it
    with its own message beside the field, together with every other problem at once.
    """
    raw: dict[str, str] = {"comment": form.text("comment", scoring.MAX_COMMENT)}
    scores: dict[int, int | None] = {}
    comments: dict[int, str] = {}
    for cid in criterion_ids(edition):
        typed = form.text(f"score_{cid}", 20).strip()
        raw[f"score_{cid}"] = typed
        raw[f"comment_{cid}"] = form.text(f"comment_{cid}", scoring.MAX_COMMENT)
        comments[cid] = raw[f"comment_{cid}"]
        if not typed:
            scores[cid] = None
        elif _WHOLE_NUMBER.fullmatch(typed):
            scores[cid] = int(typed)
        else:
            scores[cid] = edition.score_min - 1
    return ScoreInput(values=scores, comments=comments, comment=raw["comment"]), raw


def dossier_page(
    opened: Opened,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str = "",
    status_code: int = 200,
) -> Template:
    edition = opened.edition
    form_errors = dict(errors or {})
    form_problem = form_errors.pop("form", "")
    return Template(
        template_name="jury/dossier.html",
        context={
            "dossier": opened.dossier,
            "edition": edition,
            "own": opened.own,
            "others": opened.others,
            "criteria": [c for c in edition.criteria if c.id is not None],
            "texts_of": texts_of,
            "is_web_address": is_web_address,
            "labels": labels,
            "values": values if values is not None else sheet_values(edition, opened.own),
            "errors": translated_errors(form_errors),
            "problem": problem or (i18n.gettext(form_problem) if form_problem else ""),
            "scoring_open": edition.state == EditionState.JURY_SCORING,
            "max_comment": scoring.MAX_COMMENT,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


async def closed_page(user_id: int, nomination_id: int, exc: DomainError) -> Template | Redirect:
    """The dossier as it now stands (scoring closed meanwhile) with the refusal."""
    opened = await open_dossier(user_id, nomination_id)
    if isinstance(opened, Redirect):
        return opened
    return dossier_page(opened, problem=message_of(exc), status_code=HTTP_409_CONFLICT)


async def problem_page(
    user_id: int,
    nomination_id: int,
    *,
    values: dict[str, str] | None,
    errors: dict[str, str] | None = None,
    problem: str = "",
    status_code: int,
) -> Template | Redirect:
    """The dossier again, read only now, with the posted values and what is wrong with them."""
    opened = await open_dossier(user_id, nomination_id)
    if isinstance(opened, Redirect):
        return opened
    return dossier_page(opened, values=values, errors=errors, problem=problem, status_code=status_code)


async def save_sheet(request: AnyRequest, nomination_id: int, form: Form) -> Template | Redirect:
    """Save a draft or submit; field problems come back beside the fields with the input kept.

    The domain checks the juror's access once, inside the save's transaction, and reads the
    form against the edition it found there; a refusal answers as the dossier page did (404,
    or the declarations first). The dossier is read only to show it again with a problem.
    """
    submit = form.text("action", 10) == "submit"
    typed: dict[str, str] = {}

    def scores(edition: EditionView) -> ScoreInput:
        data, values = read_scores(form, edition)
        typed.update(values)
        return data

    try:
        await scoring.save(juror_id=request.user.id, nomination_id=nomination_id, data=scores, submit=submit)
    except NotFound:
        raise  # no refusal: the app's handler answers 404
    except DeclareFirst:
        return await declare_first(nomination_id)
    except InvalidInput as exc:
        return await problem_page(
            request.user.id, nomination_id, values=typed or None, errors=exc.errors, status_code=HTTP_400_BAD_REQUEST
        )
    except ScoringClosed as exc:
        return await closed_page(request.user.id, nomination_id, exc)
    except DomainError as exc:
        return await problem_page(
            request.user.id, nomination_id, values=typed or None, problem=message_of(exc), status_code=HTTP_409_CONFLICT
        )
    flash(request, i18n.gettext(N_("Submitted.") if submit else N_("Saved.")), "success")
    return Redirect(f"/jury/nominations/{nomination_id}")


class JuryController(Controller):
    path = "/jury"
    guards = [requires_role(Role.JUROR), totp_enrolled]
    include_in_schema = False

    @get("/", name="juror_home")
    async def index(self, request: AnyRequest) -> Template:
        found = await jury.editions_of(request.user.id)
        pending = {e.id for e in found if not await conflicts.has_declared_all(e.id, request.user.id)}
        return Template(
            template_name="jury/index.html",
            context={"editions": found, "pending": pending, "labels": labels},
            headers=NO_STORE,
        )

    @get("/editions/{edition_id:int}", name="juror_edition")
    async def edition(self, request: AnyRequest, edition_id: FromPath[int]) -> Template:
        edition, juror = await member_edition(edition_id, request.user.id)
        return await edition_page(edition, juror)

    @get("/editions/{edition_id:int}/close-scoring", name="juror_close_scoring_confirm")
    async def close_scoring_confirm(self, request: AnyRequest, edition_id: FromPath[int]) -> Template:
        """What closing scoring does, what blocks it, what to acknowledge; then the confirmation."""
        edition, juror = await member_edition(edition_id, request.user.id)
        if not juror.is_chair:
            raise PermissionDeniedException()
        return await chair_steps.close_scoring_page(edition)

    @post("/editions/{edition_id:int}/close-scoring", name="juror_close_scoring")
    async def close_scoring(self, request: AnyRequest, edition_id: FromPath[int]) -> Template | Redirect:
        edition, juror = await member_edition(edition_id, request.user.id)
        acknowledged = (await read_form(request)).flag("acknowledged")
        try:
            await chair_domain.close_scoring(chair_id=request.user.id, edition_id=edition.id, acknowledged=acknowledged)
        except NotFound:
            raise  # no refusal: the app's handler answers 404
        except NotAllowed as exc:
            security_log.event("authz.denied", "denied", reason="rule")
            return await edition_page(edition, juror, problem=message_of(exc), status_code=HTTP_403_FORBIDDEN)
        except NotAcknowledged as exc:
            return await chair_steps.close_scoring_page(edition, message_of(exc), HTTP_400_BAD_REQUEST)
        except DomainError as exc:
            edition, juror = await member_edition(edition_id, request.user.id)
            return await edition_page(edition, juror, problem=message_of(exc), status_code=HTTP_409_CONFLICT)
        flash(request, i18n.gettext(N_("Scoring is closed.")), "success")
        return Redirect(f"/jury/editions/{edition.id}")

    @get("/editions/{edition_id:int}/matrix", name="juror_conflict_matrix")
    async def matrix(self, request: AnyRequest, edition_id: FromPath[int]) -> Template:
        """The conflict matrix, read-only, for the chair (other jurors get 403)."""
        edition, juror = await member_edition(edition_id, request.user.id)
        if not juror.is_chair:
            raise PermissionDeniedException()
        return await jury_conflicts.conflicts_page(edition, read_only=True)

    @get("/editions/{edition_id:int}/conflicts", name="juror_conflicts")
    async def conflicts_form(self, request: AnyRequest, edition_id: FromPath[int]) -> Template:
        edition, _ = await member_edition(edition_id, request.user.id)
        return await conflicts_page(edition, request.user.id)

    @post("/editions/{edition_id:int}/conflicts", name="juror_conflicts_post")
    async def declare(self, request: AnyRequest, edition_id: FromPath[int]) -> Template | Redirect:
        edition, _ = await member_edition(edition_id, request.user.id)
        values, errors = await save_declarations(await read_form(request), edition.id, request.user.id)
        if errors:
            return await conflicts_page(
                edition, request.user.id, values=values, errors=errors, status_code=HTTP_400_BAD_REQUEST
            )
        if await conflicts.has_declared_all(edition.id, request.user.id):
            flash(request, i18n.gettext(N_("Saved.")), "success")
            return Redirect(f"/jury/editions/{edition.id}")
        flash(request, i18n.gettext(N_("Saved. Some nominations still need your answer.")), "info")
        return Redirect(f"/jury/editions/{edition.id}/conflicts")

    @get("/nominations/{nomination_id:int}", name="juror_dossier")
    async def dossier(self, request: AnyRequest, nomination_id: FromPath[int]) -> Template | Redirect:
        opened = await open_dossier(request.user.id, nomination_id)
        if isinstance(opened, Redirect):
            return opened
        return dossier_page(opened)

    @get("/nominations/{nomination_id:int}/attachments/{attachment_id:int}", name="juror_attachment")
    async def attachment(
        self, request: AnyRequest, nomination_id: FromPath[int], attachment_id: FromPath[int]
    ) -> Response[bytes] | Redirect:
        """A file of the nomination or of one merged into it."""
        nomination_id = require_row_id(nomination_id)
        try:
            info, content = await scoring.attachment_for_juror(
                request.user.id, nomination_id, require_row_id(attachment_id)
            )
        except DeclareFirst:
            return await declare_first(nomination_id)
        return attachment_response(info, content)

    @post("/nominations/{nomination_id:int}/score", name="juror_score")
    async def score(self, request: AnyRequest, nomination_id: FromPath[int]) -> Template | Redirect:
        return await save_sheet(request, require_row_id(nomination_id), await read_form(request))
