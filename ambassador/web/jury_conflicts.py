"""Clerk pages for an edition's conflicts of interest: the matrix, detection, and decisions
on detections and declared conflicts, one at a time or the selected ones at once."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_409_CONFLICT

from ambassador import i18n
from ambassador.domain import bulk, conflict_declarations, conflicts, formal_check
from ambassador.domain.accounts import Account
from ambassador.domain.editions import EditionView
from ambassador.enums import DetectionStatus, Role
from ambassador.errors import N_, DomainError, InvalidInput, NotFound
from ambassador.web import labels
from ambassador.web.bulk import flash_outcome, posted_ids
from ambassador.web.downloads import NO_STORE
from ambassador.web.editions import back_to_edition_page, edition_or_404, message_of
from ambassador.web.forms import MAX_ROW_ID, read_form, require_row_id, translated_errors
from ambassador.web.guards import requires_role, totp_enrolled

AnyRequest = Request[Any, Account, Any]


def _row_id(raw: int | None) -> int | None:
    """A posted row id, or None when no row can have it."""
    return raw if raw is not None and 1 <= raw <= MAX_ROW_ID else None


# --- conflicts ----------------------------------------------------------------------------


async def conflicts_page(
    edition: EditionView,
    *,
    failed: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    problem: str = "",
    status_code: int = 200,
    read_only: bool = False,
) -> Template:
    """The conflict matrix; the chair sees it ``read_only`` (no decisions, no dossier links)."""
    found = await conflicts.matrix(edition.id)
    listed = await formal_check.list_nominations(edition.id)
    cells = found.cells.values()
    return Template(
        template_name="jury_admin/conflicts.html",
        context={
            "edition": edition,
            "section": "conflicts",
            "matrix": found,
            "references": {item.nomination.id: item.nomination.reference for item in listed},
            "has_detections": any(c.detection_id for c in cells),
            "pending": sum(1 for c in cells if c.detection_status == DetectionStatus.PENDING),
            "unanswered": sum(1 for c in cells if c.awaits_answer),
            "can_detect": edition.state in conflicts.DETECTION_STATES,
            "failed": failed,
            "errors": {failed: translated_errors(errors or {})},
            "values": {failed: values or {}},
            "problem": problem,
            "labels": labels,
            "read_only": read_only,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


class ConflictsAdminController(Controller):
    path = "/staff/editions/{edition_id:int}"
    guards = [requires_role(Role.CLERK, Role.ADMIN), totp_enrolled]
    include_in_schema = False

    # --- conflicts of interest -----------------------------------------------------------

    @get("/conflicts", name="jury_conflicts")
    async def conflicts_index(self, edition_id: FromPath[int]) -> Template:
        return await conflicts_page(await edition_or_404(edition_id))

    @post("/conflicts/detect", name="jury_conflicts_detect")
    async def detect(self, request: AnyRequest, edition_id: FromPath[int]) -> Template | Redirect:
        edition = await edition_or_404(edition_id)
        try:
            found = await conflicts.detect(edition.id)
        except conflicts.DetectionClosed as exc:
            return await conflicts_page(edition, problem=i18n.gettext(exc.message), status_code=HTTP_409_CONFLICT)
        message = i18n.ngettext(
            "Detection found %(num)s new possible conflict.", "Detection found %(num)s new possible conflicts.", found
        )
        return back_to_edition_page(request, edition.id, "conflicts", message)

    @post("/conflicts/detections/{detection_id:int}", name="jury_detection_decision")
    async def decide(
        self, request: AnyRequest, edition_id: FromPath[int], detection_id: FromPath[int]
    ) -> Template | Redirect:
        edition = await edition_or_404(edition_id)
        detection_id = require_row_id(detection_id)
        # The detection must belong to this edition (the address names both).
        found = await conflicts.matrix(edition.id)
        if not any(cell.detection_id == detection_id for cell in found.cells.values()):
            raise NotFoundException()
        form = await read_form(request)
        decision, reason = form.text("decision", 10), form.text("reason", conflict_declarations.MAX_REASON)
        failed, values = "bulk", {"reason": reason, "ids": {detection_id}}
        try:
            if decision not in ("confirm", "dismiss"):
                raise InvalidInput({"decision": N_("Choose to confirm or to dismiss.")})
            await conflict_declarations.decide_detection(
                actor_id=request.user.id, detection_id=detection_id, confirm=decision == "confirm", reason=reason
            )
        except NotFound:
            raise  # no refusal: the app's handler answers 404
        except InvalidInput as exc:
            return await conflicts_page(
                edition, failed=failed, errors=exc.errors, values=values, status_code=HTTP_400_BAD_REQUEST
            )
        except DomainError as exc:
            return await conflicts_page(edition, problem=message_of(exc), status_code=HTTP_409_CONFLICT)
        message = (
            i18n.gettext(N_("The conflict is confirmed."))
            if decision == "confirm"
            else i18n.gettext(N_("The detection is dismissed."))
        )
        return back_to_edition_page(request, edition.id, "conflicts", message)

    @post("/conflicts/detections", name="jury_detections_decision")
    async def decide_many(self, request: AnyRequest, edition_id: FromPath[int]) -> Template | Redirect:
        """Confirm or dismiss the ticked detections with one reason, each on its own."""
        edition = await edition_or_404(edition_id)
        form = await read_form(request)
        ids, bad = posted_ids(form, "detection_id")
        decision, reason = form.text("decision", 10), form.text("reason", conflict_declarations.MAX_REASON)
        values = {"reason": reason, "ids": set(ids)}
        try:
            if decision not in ("confirm", "dismiss"):
                raise InvalidInput({"decision": N_("Choose to confirm or to dismiss.")})
            if not ids and bad:
                outcome = bulk.Outcome((), bulk.refused(bad))
            else:
                outcome = await conflict_declarations.decide_detections(
                    actor_id=request.user.id,
                    edition_id=edition.id,
                    detection_ids=ids,
                    confirm=decision == "confirm",
                    reason=reason,
                )
        except InvalidInput as exc:
            return await conflicts_page(
                edition, failed="bulk", errors=exc.errors, values=values, status_code=HTTP_400_BAD_REQUEST
            )
        except DomainError as exc:
            return await conflicts_page(
                edition, failed="bulk", values=values, problem=message_of(exc), status_code=HTTP_409_CONFLICT
            )
        outcome = bulk.Outcome(outcome.done, (*outcome.failed, *bulk.refused(bad)))
        if decision == "confirm":
            flash_outcome(
                request,
                outcome,
                lambda n, items: i18n.ngettext(
                    "%(num)s conflict confirmed: %(items)s.", "%(num)s conflicts confirmed: %(items)s.", n, items=items
                ),
            )
        else:
            flash_outcome(
                request,
                outcome,
                lambda n, items: i18n.ngettext(
                    "%(num)s detection dismissed: %(items)s.",
                    "%(num)s detections dismissed: %(items)s.",
                    n,
                    items=items,
                ),
            )
        return Redirect(f"/staff/editions/{edition.id}/conflicts")

    @post("/conflicts/pin", name="jury_conflict_pin")
    async def pin(self, request: AnyRequest, edition_id: FromPath[int]) -> Template | Redirect:
        """Confirm a juror's declared conflict, so that they cannot withdraw it."""
        edition = await edition_or_404(edition_id)
        form = await read_form(request)
        juror_id, nomination_id = _row_id(form.integer("juror_id")), _row_id(form.integer("nomination_id"))
        try:
            if juror_id is None or nomination_id is None:
                raise NotFound()
            await conflict_declarations.pin(
                actor_id=request.user.id, edition_id=edition.id, juror_id=juror_id, nomination_id=nomination_id
            )
        except NotFound:
            refused = i18n.gettext(N_("There is no declared conflict to confirm here."))
            return await conflicts_page(edition, problem=refused, status_code=HTTP_409_CONFLICT)
        except DomainError as exc:
            return await conflicts_page(edition, problem=message_of(exc), status_code=HTTP_409_CONFLICT)
        return back_to_edition_page(
            request,
            edition.id,
            "conflicts",
            i18n.gettext(N_("The conflict is confirmed; the juror cannot withdraw it.")),
        )
