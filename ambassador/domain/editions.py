"""Editions: their settings, criteria and lifecycle.

Each lifecycle step is one function that checks where the edition stands, changes it and
writes the audit entry in one transaction. At most one edition is open for nominations: the
domain checks it and the unique ``open_slot`` column makes the database refuse a second.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ambassador import honour
from ambassador.db import unique_or, utcnow, write_transaction
from ambassador.domain import audit, window_mails
from ambassador.domain import categories as categories_module
from ambassador.domain.categories import CategoryInput, CategoryRow
from ambassador.enums import ApprovingBody, EditionState, NominationState
from ambassador.errors import N_, DomainError, InvalidInput, Message, NotAllowed, NotFound
from ambassador.i18n import current_language
from ambassador.tables import Criterion, Decision, Edition, Nomination
from ambassador.text import clean_line, clean_text

MIN_YEAR, MAX_YEAR = 2018, 2100
MAX_EDITION_NAME = 200
MAX_INTRO = 5000
MAX_CRITERIA = 10
MAX_CRITERION_NAME = 300
MAX_WEIGHT = 100
MAX_SCALE = 100
MAX_RETENTION_MONTHS = 120

# Which step may follow which; the web layer offers only these.
NEXT_STATE: dict[EditionState, EditionState] = {
    EditionState.DRAFT: EditionState.OPEN,
    EditionState.OPEN: EditionState.FORMAL_CHECK,
    EditionState.FORMAL_CHECK: EditionState.JURY_SCORING,
    EditionState.JURY_SCORING: EditionState.DELIBERATION,
    EditionState.DELIBERATION: EditionState.RECOMMENDED,
    EditionState.RECOMMENDED: EditionState.APPROVED,
    EditionState.APPROVED: EditionState.PUBLISHED,
}


# The later steps need the work of the jury and of the approving body done first.
REQUIRED_FOR: dict[EditionState, tuple[NominationState, ...]] = {
    EditionState.DELIBERATION: (NominationState.SHORTLISTED,),
    EditionState.RECOMMENDED: (NominationState.RECOMMENDED,),
    EditionState.PUBLISHED: (NominationState.LAUREATE, NominationState.APPROVED),
}
REFUSAL: dict[EditionState, str] = {
    EditionState.DELIBERATION: N_("No nomination has been shortlisted for the jury."),
    EditionState.RECOMMENDED: N_("The jury has not recommended any nomination yet."),
    EditionState.APPROVED: N_("No decision of the approving body has been recorded yet."),
    EditionState.PUBLISHED: N_("There is no approved laureate to publish."),
}


class OtherEditionOpen(DomainError):
    message = N_("Another edition is open for nominations. Close it first.")


class WindowShortened(DomainError):
    """The closing time moves earlier under nominations that can still be changed: the clerk
    acknowledges that their nominators will be told the new time by mail."""

    message = N_(
        "The closing time moves earlier. Nominations that can still be changed: %(count)d; their nominators "
        "will be told the new time by mail. Tick the box below to confirm."
    )


class TransitionRefused(DomainError):
    """A lifecycle step whose precondition does not hold; ``message`` says which."""


def localized(row: dict[str, Any] | Any, prefix: str, language: str | None = None) -> str:
    """The ``prefix_<lang>`` text in the given (or current) language, falling back to Polish."""
    lang = language or current_language.get()
    get = row.get if isinstance(row, dict) else lambda key: getattr(row, key)
    return str(get(f"{prefix}_{lang}") or get(f"{prefix}_pl") or "")


def edition_label(year: int) -> str:
    """An edition's label, "A.D. 2024": the one place that writes it (pages, feeds, open data)."""
    return f"A.D. {year}"


def without_label(name: str, year: int) -> str:
    """An edition's name without a trailing label of its year, which the pages add themselves.

    Editions imported before the label had one place were named "… A.D. 2022" and shown as
    "… A.D. 2022 A.D. 2022"; a clerk may type the year into the name the same way.
    """
    label = edition_label(year)
    stripped = name.rstrip()
    if stripped.endswith(label) and stripped[: -len(label)].strip():
        return stripped[: -len(label)].rstrip(" –-,")
    return name


@dataclass(frozen=True)
class CriterionData:
    name_pl: str
    name_en: str
    name_uk: str
    weight: int = 1
    id: int | None = None

    def name(self, language: str | None = None) -> str:
        return localized(self.__dict__, "name", language)


@dataclass(frozen=True)
class EditionData:
    """What a clerk fills in for an edition; times are aware (the form reads Europe/Warsaw)."""

    activity_year: int
    name_pl: str
    name_en: str
    name_uk: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    intro_pl: str = ""
    intro_en: str = ""
    intro_uk: str = ""
    score_min: int = 0
    score_max: int = 10
    approving_body: ApprovingBody = ApprovingBody.COUNCIL_RESOLUTION
    retention_months: int = 24
    criteria: tuple[CriterionData, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class EditionView:
    id: int
    activity_year: int
    state: EditionState
    name_pl: str
    name_en: str
    name_uk: str
    intro_pl: str
    intro_en: str
    intro_uk: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    score_min: int
    score_max: int
    approving_body: ApprovingBody
    retention_months: int
    criteria: tuple[CriterionData, ...]
    published_at: dt.datetime | None = None
    historical: bool = False
    categories: tuple[CategoryRow, ...] = ()

    @property
    def label(self) -> str:
        return edition_label(self.activity_year)

    def name(self, language: str | None = None) -> str:
        """The name to show beside the label (never "… A.D. 2024 A.D. 2024")."""
        return without_label(localized(self.__dict__, "name", language), self.activity_year)

    def intro(self, language: str | None = None) -> str:
        return localized(self.__dict__, "intro", language)

    def accepts_nominations(self, now: dt.datetime) -> bool:
        """The public window: open state and ``opens_at <= now < closes_at``."""
        return self.state == EditionState.OPEN and self.opens_at <= now < self.closes_at

    def category_label(self, code: str, language: str) -> str:
        """The category as the edition names it in ``language`` ("A: organizacja"), or its code."""
        row = self.category(code)
        return row.label(language) if row else code

    def category(self, code: str) -> CategoryRow | None:
        return next((c for c in self.categories if c.code == code), None)

    @property
    def next_state(self) -> EditionState | None:
        return NEXT_STATE.get(self.state)

    def data(self) -> EditionData:
        """The editable fields, to pre-fill the form."""
        fields = EditionData.__dataclass_fields__
        return EditionData(**{k: getattr(self, k) for k in fields})


def default_criteria() -> tuple[CriterionData, ...]:
    """The criteria a new edition starts with: the installation's honour's (Kraków's: the four of its rules)."""
    return tuple(
        CriterionData(name_pl=names["pl"], name_en=names["en"], name_uk=names["uk"])
        for names in honour.active().criteria
    )


def validate(data: EditionData) -> dict[str, str]:
    """Field name → msgid of every problem (the web layer shows them beside the fields)."""
    errors: dict[str, str] = {}
    if not MIN_YEAR <= data.activity_year <= MAX_YEAR:
        errors["activity_year"] = Message(N_("Enter a year from %(low)d to %(high)d."), low=MIN_YEAR, high=MAX_YEAR)
    for lang in ("pl", "en", "uk"):
        name = getattr(data, f"name_{lang}")
        if not name:
            errors[f"name_{lang}"] = N_("Enter a name.")
        elif len(name) > MAX_EDITION_NAME:
            errors[f"name_{lang}"] = Message(
                N_("The name may have at most %(limit)d characters."), limit=MAX_EDITION_NAME
            )
        if len(getattr(data, f"intro_{lang}")) > MAX_INTRO:
            errors[f"intro_{lang}"] = Message(N_("The text may have at most %(limit)d characters."), limit=MAX_INTRO)
    if data.closes_at <= data.opens_at:
        errors["closes_at"] = N_("The closing time must be after the opening time.")
    if not 0 <= data.score_min < data.score_max <= MAX_SCALE:
        errors["score_max"] = Message(
            N_("The scale must go up from its lowest score, to at most %(limit)d."), limit=MAX_SCALE
        )
    if not 1 <= data.retention_months <= MAX_RETENTION_MONTHS:
        errors["retention_months"] = Message(
            N_("Enter a whole number of months from 1 to %(limit)d."), limit=MAX_RETENTION_MONTHS
        )
    errors.update(_criteria_errors(data.criteria))
    return errors


def _criteria_errors(criteria: tuple[CriterionData, ...]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not criteria:
        errors["criteria"] = N_("Give at least one criterion.")
    elif len(criteria) > MAX_CRITERIA:
        errors["criteria"] = Message(N_("Give at most %(limit)d criteria."), limit=MAX_CRITERIA)
    for criterion in criteria:
        names = (criterion.name_pl, criterion.name_en, criterion.name_uk)
        if not all(names) or any(len(n) > MAX_CRITERION_NAME for n in names):
            errors["criteria"] = Message(
                N_("Each criterion needs a name in every language, of at most %(limit)d characters."),
                limit=MAX_CRITERION_NAME,
            )
        if not 1 <= criterion.weight <= MAX_WEIGHT:
            errors["criteria"] = Message(N_("Each weight is a whole number from 1 to %(limit)d."), limit=MAX_WEIGHT)
    return errors


def cleaned(data: EditionData) -> EditionData:
    """The same data with text fields cleaned (control characters, spaces)."""
    changes: dict[str, Any] = {f"name_{lang}": clean_line(getattr(data, f"name_{lang}")) for lang in ("pl", "en", "uk")}
    changes.update({f"intro_{lang}": clean_text(getattr(data, f"intro_{lang}")) for lang in ("pl", "en", "uk")})
    changes["criteria"] = tuple(
        CriterionData(
            name_pl=clean_line(c.name_pl),
            name_en=clean_line(c.name_en),
            name_uk=clean_line(c.name_uk),
            weight=c.weight,
            id=c.id,
        )
        for c in data.criteria
    )
    fields = {k: getattr(data, k) for k in EditionData.__dataclass_fields__}
    return EditionData(**{**fields, **changes})


def _columns(data: EditionData) -> dict[Any, Any]:
    return {
        getattr(Edition, name): getattr(data, name)
        for name in EditionData.__dataclass_fields__
        if name not in {"criteria", "approving_body"}
    } | {Edition.approving_body: data.approving_body.value}


async def _criteria(edition_id: int) -> tuple[CriterionData, ...]:
    rows = await Criterion.select().where(Criterion.edition == edition_id).order_by(Criterion.position)
    return tuple(
        CriterionData(id=r["id"], name_pl=r["name_pl"], name_en=r["name_en"], name_uk=r["name_uk"], weight=r["weight"])
        for r in rows
    )


def _view(row: dict[str, Any], criteria: tuple[CriterionData, ...], rows: Sequence[CategoryRow] = ()) -> EditionView:
    fields = EditionView.__dataclass_fields__
    values = {k: row[k] for k in fields if k not in ("state", "approving_body", "criteria", "categories")}
    return EditionView(
        **values,
        state=EditionState(row["state"]),
        approving_body=ApprovingBody(row["approving_body"]),
        criteria=criteria,
        categories=tuple(rows),
    )


async def get_edition(edition_id: int) -> EditionView:
    row = await Edition.select().where(Edition.id == edition_id).first()
    if row is None:
        raise NotFound()
    return _view(row, await _criteria(edition_id), await categories_module.for_edition(edition_id))


async def list_editions() -> list[EditionView]:
    rows = await Edition.select().order_by(Edition.activity_year, ascending=False)
    return [_view(row, ()) for row in rows]


async def open_edition_now() -> EditionView | None:
    """The edition in the open state, if any (its window may not have begun or may be over)."""
    row = await Edition.select(Edition.id).where(Edition.state == EditionState.OPEN.value).first()
    return await get_edition(row["id"]) if row else None


async def _save_criteria(edition_id: int, criteria: tuple[CriterionData, ...]) -> None:
    # Positions are rewritten in two passes so the unique (edition, position) index holds.
    await Criterion.update({Criterion.position: Criterion.position + 1000}).where(Criterion.edition == edition_id)
    kept: list[int] = []
    for position, criterion in enumerate(criteria, start=1):
        values: dict[Any, Any] = {
            Criterion.position: position,
            Criterion.name_pl: criterion.name_pl,
            Criterion.name_en: criterion.name_en,
            Criterion.name_uk: criterion.name_uk,
            Criterion.weight: criterion.weight,
        }
        if criterion.id is not None:
            await Criterion.update(values).where((Criterion.id == criterion.id) & (Criterion.edition == edition_id))
            kept.append(criterion.id)
        else:
            row = Criterion(edition=edition_id, **{c._meta.name: v for c, v in values.items()})
            await row.save()
            kept.append(row.id)
    stale = Criterion.delete().where(Criterion.edition == edition_id)
    await (stale.where(Criterion.id.not_in(kept)) if kept else stale)


YEAR_TAKEN = N_("An edition for this year already exists.")


async def create_edition(*, actor_id: int, data: EditionData, categories: Sequence[CategoryInput]) -> EditionView:
    """A draft edition with its criteria and ``categories`` (the web layer passes the defaults)."""
    data = cleaned(data)
    if errors := validate(data) | categories_module.validate_all(categories):
        raise InvalidInput(errors)
    async with (
        unique_or(InvalidInput({"activity_year": N_("An edition for this year already exists.")})),
        write_transaction(),
    ):
        row = Edition(**{c._meta.name: v for c, v in _columns(data).items()}, state=EditionState.DRAFT.value)
        await row.save()
        await _save_criteria(row.id, data.criteria)
        await categories_module.insert_all(row.id, categories)
        await audit.record(
            "edition.created",
            actor_id=actor_id,
            object_type="edition",
            object_id=row.id,
            data={"activity_year": data.activity_year, "categories": [c.code.strip().upper() for c in categories]},
        )
    return await get_edition(row.id)


# Criteria and the scale are fixed once scoring starts; the window once nominations close.
_EDITABLE = {EditionState.DRAFT, EditionState.OPEN, EditionState.FORMAL_CHECK}


async def update_edition(
    *, actor_id: int, edition_id: int, data: EditionData, acknowledged: bool = False, now: dt.datetime | None = None
) -> EditionView:
    """Save the settings; a closing time moved earlier under open nominations mails their nominators."""
    now = now or utcnow()
    current = await get_edition(edition_id)
    if current.state not in _EDITABLE:
        raise NotAllowed(N_("This edition can no longer be changed."))
    data = cleaned(data)
    if errors := validate(data):
        raise InvalidInput(errors)
    if current.state != EditionState.DRAFT and (
        data.activity_year != current.activity_year or data.opens_at != current.opens_at
    ):
        raise InvalidInput({"opens_at": N_("The year and the opening time are fixed once the edition has opened.")})
    shortened = current.state == EditionState.OPEN and data.closes_at < current.closes_at
    if shortened and data.closes_at <= now:
        raise InvalidInput(
            {"closes_at": N_("To close nominations now, use the step on the edition's page: it tells the nominators.")}
        )
    editable = len(await window_mails.editable_nominations(edition_id)) if shortened else 0
    if editable and not acknowledged:
        raise WindowShortened(count=editable)
    changed = sorted(k for k in EditionData.__dataclass_fields__ if getattr(data, k) != getattr(current.data(), k))
    async with (
        unique_or(InvalidInput({"activity_year": N_("An edition for this year already exists.")})),
        write_transaction(),
    ):
        await Edition.update({**_columns(data), Edition.updated_at: utcnow()}).where(Edition.id == edition_id)
        await _save_criteria(edition_id, data.criteria)
        mailed = 0
        if editable:
            mailed = await window_mails.mail_new_deadline(
                edition_id=edition_id, label=current.label, moment=data.closes_at, closed=False
            )
        await audit.record(
            "edition.updated",
            actor_id=actor_id,
            object_type="edition",
            object_id=edition_id,
            data={"fields": changed, **({"mailed": mailed} if editable else {})},
        )
    return await get_edition(edition_id)


async def _count(edition_id: int, *states: NominationState) -> int:
    return int(
        await Nomination.count().where(
            (Nomination.edition == edition_id) & Nomination.state.is_in([s.value for s in states])
        )
    )


def _can_open(edition: EditionView, now: dt.datetime) -> None:
    if not edition.criteria:
        raise TransitionRefused(N_("Give at least one criterion."))
    if not edition.categories:
        raise TransitionRefused(N_("Give at least one category."))
    if edition.closes_at <= now:
        raise TransitionRefused(N_("The closing time has already passed."))


async def check_step(edition: EditionView, target: EditionState, now: dt.datetime) -> None:
    """Raise TransitionRefused unless ``edition`` may move to ``target`` now."""
    if edition.next_state != target:
        raise TransitionRefused(N_("This step is not possible in the edition's current state."))
    if target == EditionState.OPEN:
        _can_open(edition, now)
    elif target == EditionState.FORMAL_CHECK:
        if now < edition.closes_at:
            raise TransitionRefused(N_("Nominations can be closed only after the closing time."))
    elif target == EditionState.JURY_SCORING:
        if await _count(edition.id, NominationState.SUBMITTED):
            raise TransitionRefused(N_("Some nominations still wait for the formal check."))
        if not await _count(edition.id, NominationState.SHORTLISTED):
            raise TransitionRefused(N_("No nomination has been shortlisted for the jury."))
    elif target == EditionState.APPROVED:
        if not await Decision.exists().where(Decision.edition == edition.id):
            raise TransitionRefused(REFUSAL[target])
    elif not await _count(edition.id, *REQUIRED_FOR[target]):
        raise TransitionRefused(REFUSAL[target])


# Steps taken only by the domain function that owns them (passing ``owned_step``), never by
# the clerk's generic button: the chair closes scoring (``scoring_round.close_scoring``) and signs
# (``deliberation.recommend``); recording the decision approves (``approval.record_decision``).
OWNED_STEPS: dict[EditionState, str] = {
    EditionState.DELIBERATION: N_("Only the chair of the jury takes this step."),
    EditionState.RECOMMENDED: N_("Only the chair of the jury takes this step."),
    EditionState.APPROVED: N_("Record the approving body's decision to take this step."),
    EditionState.PUBLISHED: N_("Set the publication date and time to take this step."),
}


async def advance(
    *,
    actor_id: int,
    edition_id: int,
    target: EditionState,
    now: dt.datetime | None = None,
    owned_step: bool = False,
) -> EditionView:
    """Move an edition one step along its lifecycle, if the step's precondition holds."""
    if target in OWNED_STEPS and not owned_step:
        raise TransitionRefused(OWNED_STEPS[target])
    now = now or utcnow()
    async with unique_or(OtherEditionOpen()), write_transaction():
        edition = await get_edition(edition_id)
        await check_step(edition, target, now)
        if target == EditionState.OPEN and await Edition.exists().where(Edition.state == EditionState.OPEN.value):
            raise OtherEditionOpen()
        await Edition.update(
            {
                Edition.state: target.value,
                Edition.open_slot: 1 if target == EditionState.OPEN else None,
                Edition.updated_at: now,
            }
        ).where((Edition.id == edition_id) & (Edition.state == edition.state.value))
        await audit.record(
            f"edition.{target.value}",
            actor_id=actor_id,
            object_type="edition",
            object_id=edition_id,
            data={"from": edition.state.value, "to": target.value},
        )
    return await get_edition(edition_id)
