"""Real rows through the domain functions, with cheap password hashing."""

from __future__ import annotations

import datetime as dt

from ambassador.db import utcnow
from ambassador.domain import accounts, categories, editions
from ambassador.domain.accounts import Account
from ambassador.domain.editions import EditionData, EditionView, default_criteria
from ambassador.domain.nominations import NominationData
from ambassador.enums import EditionState, Role
from ambassador.passwords import Passwords
from ambassador.tables import Edition
from tests.conftest import CHEAP_ARGON2

PASSWORD = "correct horse battery staple"
passwords = Passwords(CHEAP_ARGON2)


async def make_user(
    email: str = "juror@example.org",
    roles: tuple[Role, ...] = (Role.JUROR,),
    password: str = PASSWORD,
    name: str = "",
    language: str = "pl",
) -> Account:
    return await accounts.create_user(
        email=email,
        display_name=name or email.split("@", maxsplit=1)[0].title(),
        roles=frozenset(roles),
        actor_id=None,
        password_hash=await passwords.hash(password) if password else "",
        language=language,
    )


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


async def make_edition(
    *,
    year: int = 2025,
    opens_at: dt.datetime | None = None,
    closes_at: dt.datetime | None = None,
    open_it: bool = True,
    clerk_id: int | None = None,
) -> EditionView:
    """An edition with the four default criteria, open now for 30 days unless told otherwise."""
    if clerk_id is None:
        clerk_id = (await make_user(f"clerk{year}@example.org", (Role.CLERK,))).id
    now = utcnow()
    edition = await editions.create_edition(
        actor_id=clerk_id,
        data=EditionData(
            activity_year=year,
            name_pl=f"Ambasador {year}",
            name_en=f"Ambassador {year}",
            name_uk=f"Амбасадор {year}",
            opens_at=opens_at or now - dt.timedelta(days=1),
            closes_at=closes_at or now + dt.timedelta(days=30),
            criteria=default_criteria(),
        ),
        categories=categories.installation_defaults(),
    )
    if open_it:
        edition = await editions.advance(actor_id=clerk_id, edition_id=edition.id, target=EditionState.OPEN)
    return edition


async def set_quota(edition_id: int, code: str, *, titles: int | None = None, mentions: int | None = None) -> None:
    """Change a category's quotas directly (whatever the edition's state), as a test's setting."""
    from ambassador.tables import Category

    values = {Category.titles: titles, Category.mentions: mentions}
    await Category.update({c: v for c, v in values.items() if v is not None}).where(
        (Category.edition == edition_id) & (Category.code == code)
    )
    await Edition.update({Edition.updated_at: utcnow()}).where(Edition.id == edition_id)


def nomination_data(edition: EditionView, **changes: object) -> NominationData:
    """A valid category-B nomination for ``edition``; ``changes`` override fields."""
    first = edition.criteria[0].id
    assert first is not None
    values: dict[str, object] = {
        "category": "B",
        "nominee_name": "Olena Kovalenko",
        "nominee_email": "olena@example.org",
        "descriptions": {first: "Runs a bilingual reading club."},
        "nominator_name": "Anna Nowak",
        "nominator_email": "anna@example.org",
        "privacy_ack": True,
        "language": "en",
    }
    values.update(changes)
    return NominationData(**values)  # type: ignore[arg-type]
