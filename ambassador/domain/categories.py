"""An edition's categories: names in three languages, who may be nominated, quotas, nominee fields.

Nominations and laureates hold a category's ``code``. The clerk adds, edits, deletes and
reorders the categories while the edition is a draft; each change is one audited transaction.
An edition opens for nominations only with at least one category.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ambassador import honour
from ambassador.db import unique_or, write_transaction
from ambassador.domain import audit
from ambassador.enums import LANGUAGES, EditionState, NomineeField, NomineeKind
from ambassador.errors import N_, InvalidInput, Message, NotAllowed, NotFound
from ambassador.honour import CategoryDefault
from ambassador.i18n import current_language
from ambassador.tables import Category, Edition
from ambassador.text import clean_line

# The limits are the honour file's too (ambassador.honour): written once, there.
MAX_CATEGORIES = honour.MAX_CATEGORIES
MAX_CODE = honour.MAX_CODE
MAX_NAME = honour.MAX_NAME
MAX_DISTINCTIONS = honour.MAX_DISTINCTIONS  # titles, and mentions, per category
CODE = honour.CODE

CODE_TAKEN = N_("Another category of this edition has this code.")
NOT_DRAFT = N_("The categories can be changed only while the edition is a draft.")


@dataclass(frozen=True)
class CategoryInput:
    """What a clerk (or the installation's defaults) gives for one category."""

    code: str
    name_pl: str
    name_en: str
    name_uk: str
    nominee_kind: NomineeKind = NomineeKind.EITHER
    titles: int = 0
    mentions: int = 0
    fields: tuple[NomineeField, ...] = ()


@dataclass(frozen=True)
class CategoryRow:
    """One stored category of an edition."""

    id: int
    edition_id: int
    code: str
    position: int
    name_pl: str
    name_en: str
    name_uk: str
    nominee_kind: NomineeKind
    titles: int
    mentions: int
    fields: tuple[NomineeField, ...]

    def name(self, language: str | None = None) -> str:
        """The name in the given (or current) language, falling back to Polish."""
        lang = language or current_language.get()
        return str(getattr(self, f"name_{lang}", "") or self.name_pl)

    def label(self, language: str | None = None) -> str:
        """Code and name, as the pages show a category ("A: organisation")."""
        return f"{self.code}: {self.name(language)}"

    def asks(self, field: NomineeField | str) -> bool:
        return field in self.fields

    @property
    def takes_persons(self) -> bool:
        return self.nominee_kind in (NomineeKind.PERSON, NomineeKind.EITHER)

    @property
    def takes_organisations(self) -> bool:
        return self.nominee_kind in (NomineeKind.ORGANISATION, NomineeKind.EITHER)

    def quota(self, distinction: str) -> int:
        """How many of a distinction ("title" or "mention") the category may give."""
        return self.titles if distinction == "title" else self.mentions

    def input(self) -> CategoryInput:
        return CategoryInput(
            code=self.code,
            name_pl=self.name_pl,
            name_en=self.name_en,
            name_uk=self.name_uk,
            nominee_kind=self.nominee_kind,
            titles=self.titles,
            mentions=self.mentions,
            fields=self.fields,
        )


# --- rules -----------------------------------------------------------------------------------


def cleaned(data: CategoryInput) -> CategoryInput:
    """Names on one line without control characters; the code in capitals without spaces."""
    return CategoryInput(
        code=data.code.strip().upper(),
        name_pl=clean_line(data.name_pl),
        name_en=clean_line(data.name_en),
        name_uk=clean_line(data.name_uk),
        nominee_kind=data.nominee_kind,
        titles=data.titles,
        mentions=data.mentions,
        fields=tuple(dict.fromkeys(data.fields)),
    )


def validate(data: CategoryInput, taken_codes: Iterable[str] = ()) -> dict[str, str]:
    """Field name → message of every problem with one category (``taken_codes``: the others')."""
    errors: dict[str, str] = {}
    if not CODE.fullmatch(data.code):
        errors["code"] = Message(
            N_("Enter a code of 1 to %(max)s capital letters or digits, like A or B2."), max=MAX_CODE
        )
    elif data.code in set(taken_codes):
        errors["code"] = CODE_TAKEN
    for lang in LANGUAGES:
        name = getattr(data, f"name_{lang}")
        if not name:
            errors[f"name_{lang}"] = N_("Enter a name.")
        elif len(name) > MAX_NAME:
            errors[f"name_{lang}"] = Message(N_("The name may have at most %(max)s characters."), max=MAX_NAME)
    if data.nominee_kind not in set(NomineeKind):
        errors["nominee_kind"] = N_("Choose who may be nominated.")
    for name in ("titles", "mentions"):
        if not 0 <= getattr(data, name) <= MAX_DISTINCTIONS:
            errors[name] = Message(N_("Enter a whole number from 0 to %(max)s."), max=MAX_DISTINCTIONS)
    if any(f not in set(NomineeField) for f in data.fields):
        errors["fields"] = N_("Choose only the fields listed.")
    return errors


def validate_all(categories: Sequence[CategoryInput]) -> dict[str, str]:
    """Problems with a whole set of categories (a new edition's), keyed ``categories``."""
    if len(categories) > MAX_CATEGORIES:
        return {"categories": Message(N_("An edition may have at most %(max)s categories."), max=MAX_CATEGORIES)}
    codes = [cleaned(c).code for c in categories]
    for index, category in enumerate(categories):
        if errors := validate(cleaned(category), codes[:index]):
            return {"categories": next(iter(errors.values()))}
    return {}


# --- reading ---------------------------------------------------------------------------------


def _row(r: Mapping[str, Any]) -> CategoryRow:
    return CategoryRow(
        id=int(r["id"]),
        edition_id=int(r["edition"]),
        code=str(r["code"]),
        position=int(r["position"]),
        name_pl=str(r["name_pl"]),
        name_en=str(r["name_en"]),
        name_uk=str(r["name_uk"]),
        nominee_kind=NomineeKind(r["nominee_kind"]),
        titles=int(r["titles"]),
        mentions=int(r["mentions"]),
        fields=tuple(NomineeField(f) for f in str(r["fields"]).split(",") if f),
    )


async def for_edition(edition_id: int) -> list[CategoryRow]:
    """The edition's categories in their order."""
    rows = await Category.select().where(Category.edition == edition_id).order_by(Category.position, Category.id)
    return [_row(r) for r in rows]


async def for_editions(edition_ids: Iterable[int]) -> dict[tuple[int, str], CategoryRow]:
    """The categories of several editions, by (edition id, code): for lists across editions."""
    ids = sorted(set(edition_ids))
    if not ids:
        return {}
    rows = await Category.select().where(Category.edition.is_in(ids))
    return {(int(r["edition"]), str(r["code"])): _row(r) for r in rows}


async def get(category_id: int) -> CategoryRow:
    row = await Category.select().where(Category.id == category_id).first()
    if row is None:
        raise NotFound()
    return _row(row)


def from_defaults(defaults: Iterable[CategoryDefault]) -> tuple[CategoryInput, ...]:
    """The honour's default categories as inputs for a new edition."""
    return tuple(
        CategoryInput(
            code=d.code,
            name_pl=d.names["pl"],
            name_en=d.names["en"],
            name_uk=d.names["uk"],
            nominee_kind=NomineeKind(d.nominee_kind),
            titles=d.titles,
            mentions=d.mentions,
            fields=tuple(NomineeField(f) for f in d.fields),
        )
        for d in defaults
    )


def installation_defaults() -> tuple[CategoryInput, ...]:
    """The installation's categories for its first edition: the active honour's (Kraków's: A and B)."""
    return from_defaults(honour.active().categories)


async def for_new_edition(defaults: Sequence[CategoryInput]) -> list[CategoryInput]:
    """The categories a new edition starts with: the latest edition's, else ``defaults``."""
    latest = await Edition.select(Edition.id).order_by(Edition.activity_year, ascending=False).first()
    rows = await for_edition(latest["id"]) if latest else []
    return [row.input() for row in rows] if rows else list(defaults)


# --- writing (draft editions only) -----------------------------------------------------------


def _values(data: CategoryInput) -> dict[Any, Any]:
    return {
        Category.code: data.code,
        Category.name_pl: data.name_pl,
        Category.name_en: data.name_en,
        Category.name_uk: data.name_uk,
        Category.nominee_kind: data.nominee_kind.value,
        Category.titles: data.titles,
        Category.mentions: data.mentions,
        Category.fields: ",".join(f.value for f in data.fields),
    }


async def insert_all(edition_id: int, categories: Sequence[CategoryInput]) -> None:
    """Store a new edition's categories (inside the caller's transaction; validated before)."""
    for position, data in enumerate(categories, start=1):
        values = _values(cleaned(data))
        await Category(edition=edition_id, position=position, **{c._meta.name: v for c, v in values.items()}).save()


async def _draft(edition_id: int) -> None:
    row = await Edition.select(Edition.state).where(Edition.id == edition_id).first()
    if row is None:
        raise NotFound()
    if row["state"] != EditionState.DRAFT.value:
        raise NotAllowed(NOT_DRAFT)


async def _codes(edition_id: int, but: int | None = None) -> list[str]:
    return [c.code for c in await for_edition(edition_id) if c.id != but]


async def add(*, actor_id: int, edition_id: int, data: CategoryInput) -> CategoryRow:
    data = cleaned(data)
    async with unique_or(InvalidInput({"code": CODE_TAKEN})), write_transaction():
        await _draft(edition_id)
        existing = await for_edition(edition_id)
        if len(existing) >= MAX_CATEGORIES:
            raise NotAllowed(N_("An edition may have at most %(max)s categories."), max=MAX_CATEGORIES)
        if errors := validate(data, [c.code for c in existing]):
            raise InvalidInput(errors)
        position = max((c.position for c in existing), default=0) + 1
        row = Category(edition=edition_id, position=position, **{c._meta.name: v for c, v in _values(data).items()})
        await row.save()
        await audit.record(
            "category.created",
            actor_id=actor_id,
            object_type="edition",
            object_id=edition_id,
            data={"category": row.id, "code": data.code},
        )
    return await get(row.id)


async def update(*, actor_id: int, category_id: int, data: CategoryInput) -> CategoryRow:
    data = cleaned(data)
    current = await get(category_id)
    async with unique_or(InvalidInput({"code": CODE_TAKEN})), write_transaction():
        await _draft(current.edition_id)
        if errors := validate(data, await _codes(current.edition_id, but=category_id)):
            raise InvalidInput(errors)
        changed = sorted(k for k, v in data.__dict__.items() if getattr(current, k) != v)
        await Category.update(_values(data)).where(Category.id == category_id)
        await audit.record(
            "category.updated",
            actor_id=actor_id,
            object_type="edition",
            object_id=current.edition_id,
            data={"category": category_id, "code": data.code, "fields": changed},
        )
    return await get(category_id)


async def delete(*, actor_id: int, category_id: int) -> None:
    current = await get(category_id)
    async with write_transaction():
        await _draft(current.edition_id)
        await Category.delete().where(Category.id == category_id)
        await audit.record(
            "category.deleted",
            actor_id=actor_id,
            object_type="edition",
            object_id=current.edition_id,
            data={"category": category_id, "code": current.code},
        )


async def move(*, actor_id: int, category_id: int, offset: int) -> list[CategoryRow]:
    """Move a category up (``offset`` -1) or down (+1) in its edition's order."""
    current = await get(category_id)
    async with write_transaction():
        await _draft(current.edition_id)
        order = [c.id for c in await for_edition(current.edition_id)]
        index = order.index(category_id)
        target = min(max(index + offset, 0), len(order) - 1)
        order.insert(target, order.pop(index))
        for position, row_id in enumerate(order, start=1):
            await Category.update({Category.position: position}).where(Category.id == row_id)
        await audit.record(
            "category.moved",
            actor_id=actor_id,
            object_type="edition",
            object_id=current.edition_id,
            data={"category": category_id, "order": order},
        )
    return await for_edition(current.edition_id)
