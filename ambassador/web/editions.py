"""Clerk pages for editions: list, create, edit and move along the lifecycle."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_409_CONFLICT

from ambassador import i18n, vocabulary
from ambassador.domain import categories, editions, steps, todo
from ambassador.domain.accounts import Account
from ambassador.domain.editions import CriterionData, EditionData, EditionView
from ambassador.enums import LANGUAGES, ApprovingBody, EditionState, Role
from ambassador.errors import N_, DomainError, InvalidInput, NotAcknowledged
from ambassador.settings import Settings
from ambassador.web import confirm, labels
from ambassador.web.downloads import NO_STORE
from ambassador.web.forms import NOT_A_NUMBER, Form, read_form, require_row_id, translated_errors, whole_number
from ambassador.web.guards import requires_role, totp_enrolled

AnyRequest = Request[Any, Account, Any]

SPARE_CRITERIA = 3  # empty rows offered for new criteria
MAX_CRITERION_ROWS = editions.MAX_CRITERIA + SPARE_CRITERIA
NUMBER_FIELDS = (
    "score_min",
    "score_max",
    "retention_months",
)
# Once scoring starts the settings are fixed (the domain refuses; the page hides the link).
EDITABLE_STATES = frozenset({EditionState.DRAFT, EditionState.OPEN, EditionState.FORMAL_CHECK})
_LOCAL_INPUT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$")
INPUT_FORMAT = "%Y-%m-%dT%H:%M"
# Stand-ins when a time cannot be read, chosen so they cause no second error.
_EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


async def edition_or_404(edition_id: int) -> EditionView:
    return await editions.get_edition(require_row_id(edition_id))


def local_input(value: dt.datetime) -> str:
    """An aware time as the value of a ``datetime-local`` input, in Warsaw time."""
    return value.astimezone(i18n.TIMEZONE).strftime(INPUT_FORMAT)


def parse_local(raw: str) -> dt.datetime | None:
    """A ``datetime-local`` value read as Warsaw time, or None when it is not one."""
    raw = raw.strip()
    if not _LOCAL_INPUT.match(raw):
        return None
    try:
        parsed = dt.datetime.fromisoformat(raw.replace(" ", "T"))
    except ValueError:
        return None
    if not 2000 <= parsed.year <= 2199:
        return None
    return parsed.replace(tzinfo=i18n.TIMEZONE)


def _defaults() -> dict[str, Any]:
    return {f.name: f.default for f in dataclasses.fields(EditionData) if f.default is not dataclasses.MISSING}


def criterion_row(criterion: CriterionData) -> dict[str, str]:
    return {
        "id": "" if criterion.id is None else str(criterion.id),
        "name_pl": criterion.name_pl,
        "name_en": criterion.name_en,
        "name_uk": criterion.name_uk,
        "weight": str(criterion.weight),
    }


def form_values(data: EditionData | None, criteria: tuple[CriterionData, ...]) -> dict[str, Any]:
    """What the form shows: an edition's settings, or the defaults for a new one."""
    if data is None:
        defaults = _defaults()
        values: dict[str, Any] = {name: str(defaults[name]) for name in NUMBER_FIELDS}
        values.update({f"name_{lang}": "" for lang in LANGUAGES})
        values.update({f"intro_{lang}": "" for lang in LANGUAGES})
        values.update(
            activity_year=str(dt.datetime.now(i18n.TIMEZONE).year - 1),
            opens_at="",
            closes_at="",
            approving_body=str(defaults["approving_body"]),
        )
    else:
        values = {name: str(getattr(data, name)) for name in NUMBER_FIELDS}
        values.update({f"name_{lang}": getattr(data, f"name_{lang}") for lang in LANGUAGES})
        values.update({f"intro_{lang}": getattr(data, f"intro_{lang}") for lang in LANGUAGES})
        values.update(
            activity_year=str(data.activity_year),
            opens_at=local_input(data.opens_at),
            closes_at=local_input(data.closes_at),
            approving_body=data.approving_body.value,
        )
    values["criteria"] = [criterion_row(c) for c in criteria]
    return values


def read_criteria(form: Form, known_ids: set[int]) -> tuple[tuple[CriterionData, ...], list[dict[str, str]]]:
    """The criterion rows of a post: blank rows are dropped, unknown ids become new criteria."""
    criteria: list[CriterionData] = []
    rows: list[dict[str, str]] = []
    used: set[int] = set()
    for index in range(MAX_CRITERION_ROWS):
        prefix = f"criterion_{index}_"
        row = {f"name_{lang}": form.text(f"{prefix}name_{lang}", editions.MAX_CRITERION_NAME) for lang in LANGUAGES}
        row["weight"] = form.text(f"{prefix}weight", 20).strip()
        row["id"] = form.text(f"{prefix}id", 20).strip()
        if not any(row[f"name_{lang}"].strip() for lang in LANGUAGES):
            continue
        criterion_id = whole_number(row["id"])
        if criterion_id not in known_ids or criterion_id in used:
            row["id"] = ""
            criterion_id = NOT_A_NUMBER
        used.add(criterion_id)
        criteria.append(
            CriterionData(
                name_pl=row["name_pl"],
                name_en=row["name_en"],
                name_uk=row["name_uk"],
                weight=whole_number(row["weight"], blank=1),
                id=None if criterion_id == NOT_A_NUMBER else criterion_id,
            )
        )
        rows.append(row)
    return tuple(criteria), rows


def read_edition(form: Form, known_ids: set[int]) -> tuple[EditionData, dict[str, Any], dict[str, str]]:
    """The posted edition, the values to show again, and problems only the form can see."""
    values: dict[str, Any] = {"activity_year": form.text("activity_year", 20).strip()}
    values.update({name: form.text(name, 20).strip() for name in NUMBER_FIELDS})
    values.update({f"name_{lang}": form.text(f"name_{lang}", editions.MAX_EDITION_NAME) for lang in LANGUAGES})
    values.update({f"intro_{lang}": form.text(f"intro_{lang}", editions.MAX_INTRO) for lang in LANGUAGES})
    values.update({name: form.text(name, 30).strip() for name in ("opens_at", "closes_at", "approving_body")})
    problems: dict[str, str] = {}
    opens_at, closes_at = parse_local(values["opens_at"]), parse_local(values["closes_at"])
    if opens_at is None:
        problems["opens_at"] = N_("Enter a date and time.")
    if closes_at is None:
        problems["closes_at"] = N_("Enter a date and time.")
    body = values["approving_body"]
    if body not in set(ApprovingBody):
        problems["approving_body"] = N_("Choose the approving body.")
    criteria, rows = read_criteria(form, known_ids)
    values["criteria"] = rows
    fields: dict[str, Any] = {name: whole_number(values[name]) for name in NUMBER_FIELDS}
    fields.update({f"{kind}_{lang}": values[f"{kind}_{lang}"] for kind in ("name", "intro") for lang in LANGUAGES})
    data = EditionData(
        activity_year=whole_number(values["activity_year"]),
        opens_at=opens_at or _EARLIEST,
        closes_at=closes_at or _LATEST,
        approving_body=ApprovingBody(body) if body in set(ApprovingBody) else _defaults()["approving_body"],
        criteria=criteria,
        **fields,
    )
    return data, values, problems


def criteria_rows(values: dict[str, Any]) -> list[dict[str, str]]:
    """The criteria shown in the form plus a few blank rows to add more."""
    rows: list[dict[str, str]] = list(values["criteria"])
    blank = {"id": "", "name_pl": "", "name_en": "", "name_uk": "", "weight": "1"}
    while len(rows) < min(len(values["criteria"]) + SPARE_CRITERIA, MAX_CRITERION_ROWS):
        rows.append(dict(blank))
    return rows


def form_page(
    *,
    edition: EditionView | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    warning: str = "",
) -> Template:
    """The edition's settings; ``warning`` (translated) asks for the acknowledgement box."""
    return Template(
        template_name="editions/form.html",
        context={
            "edition": edition,
            "values": values,
            "rows": criteria_rows(values),
            "errors": translated_errors(errors or {}),
            "labels": labels,
            "approving_bodies": labels.options(vocabulary.APPROVING_BODIES),
            "limits": {"name": editions.MAX_EDITION_NAME, "intro": editions.MAX_INTRO},
            "warning": warning,
        },
        status_code=status_code,
    )


def message_of(exc: DomainError) -> str:
    """A domain refusal in the user's language."""
    return i18n.gettext(exc.message, **exc.params)


async def detail_page(edition: EditionView, problem: str = "", status_code: int = 200) -> Template:
    """The edition's page with what waits in it; ``problem`` is an already translated refusal."""
    return Template(
        template_name="editions/detail.html",
        context={
            "edition": edition,
            "labels": labels,
            "editable": edition.state in EDITABLE_STATES,
            "checking": edition.state in {EditionState.OPEN, EditionState.FORMAL_CHECK},
            "problem": problem,
            "draft": edition.state == EditionState.DRAFT,
            "tasks": await todo.for_edition(edition),
        },
        headers=NO_STORE,
        status_code=status_code,
    )


async def step_page(edition: EditionView, target: EditionState, problem: str = "", status_code: int = 200) -> Template:
    """The step's consequences, translated, and the form that takes it."""
    found = await steps.consequences(edition, target)
    c = confirm.context(
        found,
        title=labels.step(target),
        action=f"/staff/editions/{edition.id}/advance",
        cancel_url=f"/staff/editions/{edition.id}",
        context_label=i18n.gettext(N_("Edition %(label)s"), label=edition.label),
        hidden=(("target", target.value),),
        problem=problem,
    )
    return confirm.page(c, status_code)


def _problems(data: EditionData, problems: dict[str, str]) -> dict[str, str]:
    """Every problem at once: the domain's rules, then what only the form could see."""
    return {**editions.validate(editions.cleaned(data)), **problems}


def back_to_edition_page(request: AnyRequest, edition_id: int, page: str, message: str) -> Redirect:
    """After a staff change on one of an edition's pages: its message, and back to that page."""
    flash(request, message, "success")
    return Redirect(f"/staff/editions/{edition_id}/{page}")


class EditionController(Controller):
    path = "/staff/editions"
    guards = [requires_role(Role.CLERK, Role.ADMIN), totp_enrolled]
    include_in_schema = False

    @get("/", name="editions")
    async def index(self) -> Template:
        return Template(
            template_name="editions/list.html",
            context={"editions": await editions.list_editions(), "labels": labels},
        )

    @get("/new", name="edition_new")
    async def new(self) -> Template:
        return form_page(edition=None, values=form_values(None, editions.default_criteria()))

    @post("/new", name="edition_create")
    async def create(self, request: AnyRequest) -> Template | Redirect:
        data, values, problems = read_edition(await read_form(request), set())
        try:
            if problems:
                raise InvalidInput(_problems(data, problems))
            starting = await categories.for_new_edition(categories.installation_defaults())
            edition = await editions.create_edition(actor_id=request.user.id, data=data, categories=starting)
        except InvalidInput as exc:
            return form_page(edition=None, values=values, errors=exc.errors, status_code=HTTP_400_BAD_REQUEST)
        flash(request, i18n.gettext(N_("Saved.")), "success")
        return Redirect(f"/staff/editions/{edition.id}")

    @get("/{edition_id:int}", name="edition")
    async def detail(self, edition_id: FromPath[int]) -> Template:
        return await detail_page(await edition_or_404(edition_id))

    @get("/{edition_id:int}/edit", name="edition_edit")
    async def edit(self, request: AnyRequest, edition_id: FromPath[int]) -> Template | Redirect:
        edition = await edition_or_404(edition_id)
        if edition.state not in EDITABLE_STATES:
            flash(request, i18n.gettext(N_("This edition can no longer be changed.")), "error")
            return Redirect(f"/staff/editions/{edition.id}")
        return form_page(edition=edition, values=form_values(edition.data(), edition.criteria))

    @post("/{edition_id:int}/edit", name="edition_update")
    async def update(self, request: AnyRequest, edition_id: FromPath[int]) -> Template | Redirect:
        edition = await edition_or_404(edition_id)
        known = {c.id for c in edition.criteria if c.id is not None}
        form = await read_form(request)
        data, values, problems = read_edition(form, known)
        # A time shown to the minute and sent back unchanged keeps its stored value.
        unchanged = {
            k: getattr(edition, k) for k in ("opens_at", "closes_at") if values[k] == local_input(getattr(edition, k))
        }
        data = dataclasses.replace(data, **unchanged)
        form_acknowledged = form.flag("acknowledged")
        try:
            if problems:
                raise InvalidInput(_problems(data, problems))
            await editions.update_edition(
                actor_id=request.user.id, edition_id=edition.id, data=data, acknowledged=form_acknowledged
            )
        except InvalidInput as exc:
            return form_page(edition=edition, values=values, errors=exc.errors, status_code=HTTP_400_BAD_REQUEST)
        except editions.WindowShortened as exc:
            return form_page(edition=edition, values=values, warning=message_of(exc), status_code=HTTP_400_BAD_REQUEST)
        except DomainError as exc:
            return await detail_page(await edition_or_404(edition_id), message_of(exc), HTTP_409_CONFLICT)
        flash(request, i18n.gettext(N_("Saved.")), "success")
        return Redirect(f"/staff/editions/{edition.id}")

    @get("/{edition_id:int}/step", name="edition_step")
    async def step(self, edition_id: FromPath[int], target: FromQuery[str] = "") -> Template:
        """What the step will do, what blocks it, what to acknowledge; then the confirmation."""
        edition = await edition_or_404(edition_id)
        if not target and edition.next_state is not None:
            target = edition.next_state.value  # the edition's next step
        if target not in set(EditionState):
            refused = i18n.gettext(N_("This step is not possible in the edition's current state."))
            return await detail_page(edition, refused, HTTP_400_BAD_REQUEST)
        return await step_page(edition, EditionState(target))

    @post("/{edition_id:int}/advance", name="edition_advance")
    async def advance(
        self, request: AnyRequest, edition_id: FromPath[int], settings: NamedDependency[Settings]
    ) -> Template | Redirect:
        edition = await edition_or_404(edition_id)
        form = await read_form(request)
        target = form.text("target", 30)
        if target not in set(EditionState):
            refused = i18n.gettext(N_("This step is not possible in the edition's current state."))
            return await detail_page(edition, refused, HTTP_400_BAD_REQUEST)
        try:
            if EditionState(target) in steps.CLERK_STEPS:
                await steps.take(
                    actor_id=request.user.id,
                    edition_id=edition.id,
                    target=EditionState(target),
                    acknowledged=form.flag("acknowledged"),
                    base_url=settings.base_url,
                )
            else:
                await editions.advance(actor_id=request.user.id, edition_id=edition.id, target=EditionState(target))
        except NotAcknowledged as exc:
            return await step_page(edition, EditionState(target), message_of(exc), HTTP_400_BAD_REQUEST)
        except DomainError as exc:
            return await detail_page(await edition_or_404(edition_id), message_of(exc), HTTP_409_CONFLICT)
        flash(request, i18n.gettext(N_("Saved.")), "success")
        return Redirect(f"/staff/editions/{edition.id}")
