"""The demo data `make run` loads (``ambassador.demo``), on a fresh database."""

from __future__ import annotations

from ambassador import demo
from ambassador.db import utcnow
from ambassador.domain import categories
from ambassador.enums import Role
from ambassador.tables import Attachment, Edition, JuryMember, Nomination
from tests.factories import make_user

BASE = "http://demo.test"
DEFAULTS = categories.installation_defaults()


async def test_the_demo_edition_is_open_with_nominations_in_every_state_the_clerk_meets() -> None:
    clerk = await make_user("clerk@example.org", (Role.CLERK,))
    juror = await make_user("juror@example.org", (Role.JUROR,))
    year = utcnow().year

    label = await demo.load_demo_edition(base_url=BASE, categories=DEFAULTS)

    editions = await Edition.select(Edition.activity_year, Edition.state, Edition.name_en)
    assert editions == [{"activity_year": year, "state": "open", "name_en": "Krakow Ambassador of Multiculturalism"}]
    assert label == f"A.D. {year}"
    rows = await Nomination.select(
        Nomination.reference,
        Nomination.category,
        Nomination.nominee_name,
        Nomination.nominee_is_minor,
        Nomination.state,
        Nomination.consent,
        Nomination.entered_by,
    ).order_by(Nomination.number)
    assert [(r["reference"], r["category"], r["nominee_name"], r["state"], r["consent"]) for r in rows] == [
        (f"{year}/0001", "A", "Fundacja Kultury Bez Granic", "accepted", "given"),
        (f"{year}/0002", "A", "Fundacja Kultury bez Granic", "submitted", "pending"),
        (f"{year}/0003", "B", "Olena Kovalenko", "accepted", "given"),
        (f"{year}/0004", "B", "Tomasz Wiśniewski", "submitted", "pending"),
        (f"{year}/0005", "B", "Amira Haddad", "submitted", "pending"),
        (f"{year}/0006", "B", "Kacper Mazur", "unconfirmed", "pending"),
    ]
    assert [r["nominee_is_minor"] for r in rows] == [False, False, False, False, False, True]
    # Only the fourth came on paper, entered by the clerk.
    clerk_entered = [r["entered_by"] == clerk.id for r in rows]
    assert clerk_entered == [False, False, False, True, False, False]
    # Every other nomination carries the recommendation letter.
    assert await Attachment.count() == 3
    assert await JuryMember.select(JuryMember.user, JuryMember.is_chair) == [{"user": juror.id, "is_chair": True}]


async def test_the_demo_is_loaded_once() -> None:
    await make_user("clerk@example.org", (Role.CLERK,))
    assert await demo.load_demo_edition(base_url=BASE, categories=DEFAULTS) == f"A.D. {utcnow().year}"

    assert await demo.load_demo_edition(base_url=BASE, categories=DEFAULTS) is None

    assert await Edition.count() == 1
    assert await Nomination.count() == 6


async def test_the_demo_needs_a_clerk_and_then_leaves_nothing() -> None:
    try:
        await demo.load_demo_edition(base_url=BASE, categories=DEFAULTS)
    except RuntimeError as exc:
        assert str(exc) == "the demo needs a clerk account (dev-setup creates one)"
    else:
        raise AssertionError("the demo loaded without a clerk")
    assert await Edition.count() == 0
