"""Clerk pages for an edition's categories: add, edit, delete (after a confirmation), reorder.

The domain (``ambassador.domain.categories``) allows changes only while the edition is a
draft; afterwards the edition's page lists the categories read-only.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_409_CONFLICT

from ambassador import i18n, vocabulary
from ambassador.domain import categories, editions
from ambassador.domain.accounts import Account
from ambassador.domain.categories import CategoryInput, CategoryRow
from ambassador.domain.editions import EditionView
from ambassador.enums import LANGUAGES, EditionState, NomineeField, NomineeKind, Role
from ambassador.errors import N_, DomainError, InvalidInput
from ambassador.web import labels
from ambassador.web.editions import detail_page, message_of
from ambassador.web.forms import Form, read_form, require_row_id, translated_errors, whole_number
from ambassador.web.guards import requires_role, totp_enrolled

AnyRequest = Request[Any, Account, Any]


def read_category(form: Form) -> tuple[CategoryInput, dict[str, Any], dict[str, str]]:
    """The posted category, the values to show again, and problems only the form can see."""
    values: dict[str, Any] = {"code": form.text("code", categories.MAX_CODE + 10).strip()}
    values.update({f"name_{lang}": form.text(f"name_{lang}", categories.MAX_NAME) for lang in LANGUAGES})
    values.update({name: form.text(name, 20).strip() for name in ("nominee_kind", "titles", "mentions")})
    chosen = form.values("fields")
    values["fields"] = [f for f in chosen if f in set(NomineeField)]
    problems: dict[str, str] = {}
    kind = values["nominee_kind"]
    if kind not in set(NomineeKind):
        problems["nominee_kind"] = N_("Choose who may be nominated.")
    if len(values["fields"]) != len(chosen):
        problems["fields"] = N_("Choose only the fields listed.")
    data = CategoryInput(
        code=values["code"],
        name_pl=values["name_pl"],
        name_en=values["name_en"],
        name_uk=values["name_uk"],
        nominee_kind=NomineeKind(kind) if kind in set(NomineeKind) else NomineeKind.EITHER,
        titles=whole_number(values["titles"]),
        mentions=whole_number(values["mentions"]),
        fields=tuple(NomineeField(f) for f in values["fields"]),
    )
    return data, values, problems


def values_of(row: CategoryRow | None) -> dict[str, Any]:
    if row is None:
        blank: dict[str, Any] = {f"name_{lang}": "" for lang in LANGUAGES}
        blank.update(code="", nominee_kind=NomineeKind.EITHER.value, titles="1", mentions="0", fields=[])
        return blank
    return {
        "code": row.code,
        **{f"name_{lang}": getattr(row, f"name_{lang}") for lang in LANGUAGES},
        "nominee_kind": row.nominee_kind.value,
        "titles": str(row.titles),
        "mentions": str(row.mentions),
        "fields": [f.value for f in row.fields],
    }


def form_page(
    edition: EditionView,
    category: CategoryRow | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        template_name="categories/form.html",
        context={
            "edition": edition,
            "category": category,
            "values": values,
            "errors": translated_errors(errors or {}),
            "kinds": labels.options(vocabulary.NOMINEE_KINDS),
            "fields": labels.options(vocabulary.NOMINEE_FIELDS),
            "limits": {
                "code": categories.MAX_CODE,
                "name": categories.MAX_NAME,
                "distinctions": categories.MAX_DISTINCTIONS,
            },
        },
        status_code=status_code,
    )


async def _edition(edition_id: int) -> EditionView:
    return await editions.get_edition(require_row_id(edition_id))


async def _category(category_id: int) -> tuple[CategoryRow, EditionView]:
    row = await categories.get(require_row_id(category_id))
    return row, await editions.get_edition(row.edition_id)


def _back(edition_id: int) -> Redirect:
    return Redirect(f"/staff/editions/{edition_id}#categories")


def _unless_draft(request: AnyRequest, edition: EditionView) -> Redirect | None:
    """Back to the edition, with a note, when its categories can no longer change; else None."""
    if edition.state == EditionState.DRAFT:
        return None
    flash(request, i18n.gettext(categories.NOT_DRAFT), "error")
    return _back(edition.id)


async def _refused(edition: EditionView, exc: DomainError) -> Template:
    """The edition's page (read again) with the refusal, as 409."""
    return await detail_page(await editions.get_edition(edition.id), message_of(exc), HTTP_409_CONFLICT)


async def _save(request: AnyRequest, edition: EditionView, row: CategoryRow | None) -> Template | Redirect:
    """The posted category added (``row`` None) or ``row`` changed; the form again when refused."""
    data, values, problems = read_category(await read_form(request))
    try:
        if problems:
            taken = [c.code for c in edition.categories if row is None or c.id != row.id]
            raise InvalidInput({**categories.validate(categories.cleaned(data), taken), **problems})
        if row is None:
            await categories.add(actor_id=request.user.id, edition_id=edition.id, data=data)
        else:
            await categories.update(actor_id=request.user.id, category_id=row.id, data=data)
    except InvalidInput as exc:
        return form_page(edition, row, values, exc.errors, HTTP_400_BAD_REQUEST)
    except DomainError as exc:
        return await _refused(edition, exc)
    flash(request, i18n.gettext(N_("Saved.")), "success")
    return _back(edition.id)


class CategoryController(Controller):
    path = "/staff"
    guards = [requires_role(Role.CLERK, Role.ADMIN), totp_enrolled]
    include_in_schema = False

    @get("/editions/{edition_id:int}/categories/new", name="category_new")
    async def new(self, request: AnyRequest, edition_id: FromPath[int]) -> Template | Redirect:
        edition = await _edition(edition_id)
        if back := _unless_draft(request, edition):
            return back
        return form_page(edition, None, values_of(None))

    @post("/editions/{edition_id:int}/categories/new", name="category_create")
    async def create(self, request: AnyRequest, edition_id: FromPath[int]) -> Template | Redirect:
        return await _save(request, await _edition(edition_id), None)

    @get("/categories/{category_id:int}/edit", name="category_edit")
    async def edit(self, request: AnyRequest, category_id: FromPath[int]) -> Template | Redirect:
        row, edition = await _category(category_id)
        if back := _unless_draft(request, edition):
            return back
        return form_page(edition, row, values_of(row))

    @post("/categories/{category_id:int}/edit", name="category_update")
    async def update(self, request: AnyRequest, category_id: FromPath[int]) -> Template | Redirect:
        row, edition = await _category(category_id)
        return await _save(request, edition, row)

    @get("/categories/{category_id:int}/delete", name="category_delete_confirm")
    async def confirm_delete(self, request: AnyRequest, category_id: FromPath[int]) -> Template | Redirect:
        row, edition = await _category(category_id)
        if back := _unless_draft(request, edition):
            return back
        return Template(template_name="categories/delete.html", context={"edition": edition, "category": row})

    @post("/categories/{category_id:int}/delete", name="category_delete")
    async def delete(self, request: AnyRequest, category_id: FromPath[int]) -> Template | Redirect:
        row, edition = await _category(category_id)
        try:
            await categories.delete(actor_id=request.user.id, category_id=row.id)
        except DomainError as exc:
            return await _refused(edition, exc)
        flash(request, i18n.gettext(N_("The category %(code)s is deleted."), code=row.code), "success")
        return _back(edition.id)

    @post("/categories/{category_id:int}/move", name="category_move")
    async def move(self, request: AnyRequest, category_id: FromPath[int]) -> Template | Redirect:
        row, edition = await _category(category_id)
        direction = (await read_form(request)).text("direction", 10)
        if direction not in ("up", "down"):
            return await detail_page(edition, i18n.gettext(N_("Choose up or down.")), HTTP_400_BAD_REQUEST)
        try:
            await categories.move(actor_id=request.user.id, category_id=row.id, offset=-1 if direction == "up" else 1)
        except DomainError as exc:
            return await _refused(edition, exc)
        return _back(edition.id)
