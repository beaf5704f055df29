"""An edition's categories: the rules, the changes while it is a draft, and the clerk's pages."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from ambassador.domain import categories, editions
from ambassador.domain.categories import CategoryInput
from ambassador.enums import EditionState, NomineeField, NomineeKind, Role
from ambassador.errors import InvalidInput, NotAllowed
from ambassador.tables import AuditEntry, Category
from tests.clerk_factories import clerk_logged_in, english
from tests.conftest import Client
from tests.factories import make_edition, make_user
from tests.helpers import post_form

YOUTH = CategoryInput(
    code="y1",
    name_pl=" Projekty  młodzieżowe ",
    name_en="Youth projects",
    name_uk="Молодіжні проєкти",
    nominee_kind=NomineeKind.EITHER,
    titles=2,
    mentions=1,
    fields=(NomineeField.REGISTRY_NUMBER,),
)


def _codes(rows: list[categories.CategoryRow]) -> list[str]:
    return [row.code for row in rows]


async def test_a_draft_editions_categories_are_added_changed_moved_and_deleted() -> None:
    clerk = (await make_user("clerk@example.org", (Role.CLERK,))).id
    edition = await make_edition(clerk_id=clerk, open_it=False)
    assert _codes(list(edition.categories)) == ["A", "B"]

    added = await categories.add(actor_id=clerk, edition_id=edition.id, data=YOUTH)
    assert (added.code, added.name_pl, added.position, added.fields) == (
        "Y1",
        "Projekty młodzieżowe",
        3,
        (NomineeField.REGISTRY_NUMBER,),
    )
    changed = await categories.update(actor_id=clerk, category_id=added.id, data=replace(YOUTH, code="Y", titles=3))
    assert (changed.code, changed.titles) == ("Y", 3)
    moved = await categories.move(actor_id=clerk, category_id=added.id, offset=-1)
    assert _codes(moved) == ["A", "Y", "B"]
    assert _codes(await categories.move(actor_id=clerk, category_id=added.id, offset=-5)) == ["Y", "A", "B"]
    first = (await categories.for_edition(edition.id))[1]
    await categories.delete(actor_id=clerk, category_id=first.id)
    assert _codes(await categories.for_edition(edition.id)) == ["Y", "B"]
    actions = (
        await AuditEntry.select(AuditEntry.action).where(AuditEntry.action.like("category.%")).order_by(AuditEntry.id)
    )
    assert [r["action"] for r in actions] == [
        "category.created",
        "category.updated",
        "category.moved",
        "category.moved",
        "category.deleted",
    ]


async def test_every_problem_of_a_category_is_named() -> None:
    taken = ["A"]
    assert categories.validate(categories.cleaned(YOUTH), taken) == {}
    bad = CategoryInput(code="a b", name_pl="", name_en="x" * 201, name_uk="ok", titles=21, mentions=-1)
    errors = categories.validate(categories.cleaned(bad), taken)
    assert sorted(errors) == ["code", "mentions", "name_en", "name_pl", "titles"]
    assert errors["name_pl"] == "Enter a name."
    assert (errors["titles"], errors["titles"].params) == ("Enter a whole number from 0 to %(max)s.", {"max": 20})  # type: ignore[attr-defined]
    assert categories.validate(replace(YOUTH, code="A"), taken) == {"code": categories.CODE_TAKEN}
    too_many = [replace(YOUTH, code=f"C{i}") for i in range(categories.MAX_CATEGORIES + 1)]
    assert list(categories.validate_all(too_many)) == ["categories"]
    assert categories.validate_all([YOUTH, YOUTH]) == {"categories": categories.CODE_TAKEN}


async def test_categories_are_fixed_once_the_edition_opens_and_it_opens_only_with_one() -> None:
    clerk = (await make_user("clerk@example.org", (Role.CLERK,))).id
    edition = await make_edition(clerk_id=clerk, open_it=False)
    for row in edition.categories:
        await categories.delete(actor_id=clerk, category_id=row.id)
    with pytest.raises(editions.TransitionRefused, match=r"Give at least one category\."):
        await editions.advance(actor_id=clerk, edition_id=edition.id, target=EditionState.OPEN)
    added = await categories.add(actor_id=clerk, edition_id=edition.id, data=YOUTH)
    with pytest.raises(InvalidInput) as caught:
        await categories.add(actor_id=clerk, edition_id=edition.id, data=replace(YOUTH, name_en=""))
    assert caught.value.errors == {"code": categories.CODE_TAKEN, "name_en": "Enter a name."}
    await editions.advance(actor_id=clerk, edition_id=edition.id, target=EditionState.OPEN)
    for attempt in (
        categories.add(actor_id=clerk, edition_id=edition.id, data=replace(YOUTH, code="Z")),
        categories.update(actor_id=clerk, category_id=added.id, data=YOUTH),
        categories.delete(actor_id=clerk, category_id=added.id),
        categories.move(actor_id=clerk, category_id=added.id, offset=1),
    ):
        with pytest.raises(NotAllowed, match="only while the edition is a draft"):
            await attempt
    assert _codes(await categories.for_edition(edition.id)) == ["Y1"]


async def test_at_most_twelve_categories() -> None:
    clerk = (await make_user("clerk@example.org", (Role.CLERK,))).id
    edition = await make_edition(clerk_id=clerk, open_it=False)
    for index in range(categories.MAX_CATEGORIES - 2):
        await categories.add(actor_id=clerk, edition_id=edition.id, data=replace(YOUTH, code=f"C{index}"))
    with pytest.raises(NotAllowed) as caught:
        await categories.add(actor_id=clerk, edition_id=edition.id, data=replace(YOUTH, code="LAST"))
    assert (caught.value.message, caught.value.params) == (
        "An edition may have at most %(max)s categories.",
        {"max": 12},
    )
    assert await Category.count().where(Category.edition == edition.id) == categories.MAX_CATEGORIES


def _form(**changes: str | list[str]) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "code": "Y",
        "name_pl": "Projekty młodzieżowe",
        "name_en": "Youth projects",
        "name_uk": "Молодіжні проєкти",
        "nominee_kind": "either",
        "titles": "2",
        "mentions": "1",
        "fields": ["registry_number"],
    }
    form.update(changes)
    return form


async def test_the_clerk_manages_categories_on_the_edition_page(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await make_edition(clerk_id=clerk.id, open_it=False)
    page = await client.get(f"/staff/editions/{edition.id}")
    assert f'href="/staff/editions/{edition.id}/categories/new"' in page.text

    created = await post_form(client, f"/staff/editions/{edition.id}/categories/new", _form())
    assert (created.status_code, created.headers["location"]) == (302, f"/staff/editions/{edition.id}#categories")
    rows = await categories.for_edition(edition.id)
    assert [(r.code, r.nominee_kind, r.titles, r.mentions, r.fields) for r in rows][2] == (
        "Y",
        NomineeKind.EITHER,
        2,
        1,
        (NomineeField.REGISTRY_NUMBER,),
    )
    page = await client.get(f"/staff/editions/{edition.id}")
    assert re.findall(r'<th scope="row">([A-Z0-9]+)</th>', page.text) == ["A", "B", "Y"]
    assert "KRS number (Polish court register, 10 digits)" in page.text

    refused = await post_form(
        client,
        f"/staff/editions/{edition.id}/categories/new",
        _form(code="A", name_en="", titles="many", nominee_kind="robots", fields=["shoe_size"]),
    )
    assert refused.status_code == 400
    for message in (
        "Another category of this edition has this code.",
        "Enter a name.",
        "Enter a whole number from 0 to 20.",
        "Choose who may be nominated.",
        "Choose only the fields listed.",
    ):
        assert message in refused.text, message
    client.headers["accept-language"] = "pl"
    polish = await post_form(client, f"/staff/editions/{edition.id}/categories/new", _form(code="toolong99"))
    assert polish.status_code == 400
    assert "Podaj kod złożony z 1 do 8 wielkich liter lub cyfr, np. A lub B2." in polish.text
    english(client)

    youth = rows[2]
    edited = await post_form(client, f"/staff/categories/{youth.id}/edit", _form(code="Y2", titles="3"))
    assert edited.status_code == 302
    assert (await categories.get(youth.id)).code == "Y2"
    moved = await post_form(client, f"/staff/categories/{youth.id}/move", {"direction": "up"})
    assert moved.status_code == 302
    assert _codes(await categories.for_edition(edition.id)) == ["A", "Y2", "B"]
    confirm = await client.get(f"/staff/categories/{youth.id}/delete")
    assert "Y2: Youth projects" in confirm.text
    assert _codes(await categories.for_edition(edition.id)) == ["A", "Y2", "B"]
    deleted = await post_form(client, f"/staff/categories/{youth.id}/delete", {})
    assert deleted.status_code == 302
    assert _codes(await categories.for_edition(edition.id)) == ["A", "B"]

    await editions.advance(actor_id=clerk.id, edition_id=edition.id, target=EditionState.OPEN)
    page = await client.get(f"/staff/editions/{edition.id}")
    assert "/categories/new" not in page.text
    assert "/staff/categories/" not in page.text
    assert re.findall(r'<th scope="row">([A-Z0-9]+)</th>', page.text) == ["A", "B"]
    late = await client.get(f"/staff/editions/{edition.id}/categories/new")
    assert (late.status_code, late.headers["location"]) == (302, f"/staff/editions/{edition.id}#categories")
    refused_late = await post_form(client, f"/staff/editions/{edition.id}/categories/new", _form())
    assert refused_late.status_code == 409
    assert "The categories can be changed only while the edition is a draft." in refused_late.text


async def test_a_new_edition_starts_with_the_latest_editions_categories() -> None:
    clerk = (await make_user("clerk@example.org", (Role.CLERK,))).id
    assert await categories.for_new_edition([YOUTH]) == [YOUTH]
    edition = await make_edition(year=2024, clerk_id=clerk, open_it=False)
    await categories.add(actor_id=clerk, edition_id=edition.id, data=YOUTH)
    started = await categories.for_new_edition([])
    assert [(c.code, c.name_pl) for c in started] == [
        ("A", "organizacja"),
        ("B", "osoba fizyczna"),
        ("Y1", "Projekty młodzieżowe"),
    ]


async def test_the_nomination_form_shows_each_category_and_the_fields_it_asks_for(client: Client) -> None:
    """Without JavaScript every group shows, its legend naming its categories (the script hides by data-categories)."""
    clerk = (await make_user("clerk@example.org", (Role.CLERK,))).id
    edition = await make_edition(clerk_id=clerk, open_it=False)
    for row in edition.categories:
        await categories.delete(actor_id=clerk, category_id=row.id)
    for data in (
        CategoryInput("N", "Sąsiedzi", "Neighbours", "Сусіди", NomineeKind.PERSON, 1, 1),
        CategoryInput(
            "O",
            "Organizacje",
            "Organisations",
            "Організації",
            NomineeKind.ORGANISATION,
            1,
            0,
            (NomineeField.ORGANISATION_KIND, NomineeField.REGISTRY_NUMBER),
        ),
        replace(YOUTH, code="Y", fields=(NomineeField.REGISTRY_NUMBER,)),
    ):
        await categories.add(actor_id=clerk, edition_id=edition.id, data=data)
    await editions.advance(actor_id=clerk, edition_id=edition.id, target=EditionState.OPEN)
    english(client)

    page = (await client.get("/nominate", follow_redirects=True)).text

    radios = re.findall(r'<input type="radio" id="([\w-]+)" name="category" value="(\w+)"', page)
    assert radios == [("f-category", "N"), ("f-category-o", "O"), ("f-category-y", "Y")]
    labels = re.findall(r'<label for="f-category[\w-]*">([^<]+)</label>', page)
    assert labels == ["N: Neighbours", "O: Organisations", "Y: Youth projects"]
    assert "(who may be nominated: persons or organisations)" in page
    groups = re.findall(r'<(?:fieldset|div) data-categories="([\w ]+)">', page)
    # Organisation details (O, Y), the kind and website (O), the KRS number (O, Y), minors (N, Y).
    assert groups == ["O Y", "O", "O Y", "N Y"]
    assert "Only for the categories: O, Y" in page
    assert "Only for the categories: N, Y" in page

    # The home page lists the open edition's categories, not the installation's defaults (A, B).
    home = (await client.get("/", follow_redirects=True)).text
    listed = re.findall(r"<li>\s*([A-Z0-9]+: [^<]+?)\s*</li>", home)
    assert listed == ["N: Neighbours", "O: Organisations", "Y: Youth projects"]
