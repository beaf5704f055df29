"""The clerk's irreversible steps: their consequences shown first, blocking checks, warnings."""

from __future__ import annotations

import datetime as dt
import json
import re

from ambassador.db import utcnow
from ambassador.domain import conflict_declarations, editions, jury, steps
from ambassador.domain.jury import JuryRules
from ambassador.domain.nominations import Upload
from ambassador.enums import EditionState, Role
from ambassador.errors import Message
from ambassador.i18n import TIMEZONE
from ambassador.tables import AuditEntry, Edition, OutboxMail
from tests.clerk_factories import (
    BASE,
    PNG,
    checked_edition,
    citizen_nomination,
    clerk_logged_in,
    edition_form,
    english,
    open_edition,
)
from tests.conftest import Client
from tests.factories import make_user
from tests.helpers import post_form
from tests.jury_factories import accepted, shortlist


async def test_closing_early_is_shown_acknowledged_and_mailed(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await open_edition(clerk_id=clerk.id)
    await citizen_nomination(edition, "close-early-key-01")
    await citizen_nomination(edition, "close-early-key-02", confirm=False, nominator_email="piotr@example.org")
    announced = edition.closes_at
    step = f"/staff/editions/{edition.id}/step?target=formal_check"

    page = await client.get(step)

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    when = announced.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M")
    assert (
        f"The announced closing time, {when}, has not come yet: nominations close now instead. "
        "Nominations that could still be changed: 2; their nominators are told by mail."
    ) in page.text
    assert "2 mails will be sent." in page.text
    assert 'name="acknowledged" value="1" required' in page.text
    before = await OutboxMail.count()

    closed = await post_form(
        client, f"/staff/editions/{edition.id}/advance", {"target": "formal_check", "acknowledged": "1"}
    )

    assert (closed.status_code, closed.headers["location"]) == (302, f"/staff/editions/{edition.id}")
    now = await editions.get_edition(edition.id)
    assert now.state == EditionState.FORMAL_CHECK
    assert now.closes_at < announced
    mails = await OutboxMail.select(OutboxMail.to_address, OutboxMail.subject).where(OutboxMail.id > before)
    assert sorted((m["to_address"], m["subject"]) for m in mails) == [
        ("anna@example.org", "Nominations for A.D. 2025 closed early"),
        ("piotr@example.org", "Nominations for A.D. 2025 closed early"),
    ]
    entry = await AuditEntry.select(AuditEntry.data).where(AuditEntry.action == "edition.closed_early").first()
    assert entry is not None
    assert json.loads(entry["data"])["mailed"] == 2


async def test_closing_at_the_announced_time_needs_no_warning() -> None:
    clerk = await make_user("steps-clerk@example.org", (Role.CLERK,))
    edition = await open_edition(clerk_id=clerk.id)
    later = edition.closes_at + dt.timedelta(minutes=1)

    found = await steps.consequences(edition, EditionState.FORMAL_CHECK, later)

    assert (found.blocking, found.warnings, found.mailed, found.early) == ((), (), 0, False)
    closed = await steps.take(
        base_url=BASE,
        actor_id=clerk.id,
        edition_id=edition.id,
        target=EditionState.FORMAL_CHECK,
        acknowledged=False,
        now=later,
    )
    assert (closed.state, closed.closes_at) == (EditionState.FORMAL_CHECK, edition.closes_at)


async def test_a_jury_too_small_for_its_minimum_blocks_scoring_and_short_nominations_are_warned(
    client: Client,
) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await checked_edition(clerk_id=clerk.id)
    first = await accepted(edition, clerk_id=clerk.id, uploads=[Upload("scan.png", PNG)])
    await shortlist(clerk_id=clerk.id, nomination_id=first)
    jurors = [await make_user(f"juror{i}@jury.example.net", (Role.JUROR,), name=f"Juror Number{i}") for i in range(2)]
    for account in jurors:
        await jury.appoint(actor_id=clerk.id, edition_id=edition.id, user_id=account.id, base_url=BASE)
    await jury.set_chair(actor_id=clerk.id, edition_id=edition.id, user_id=jurors[0].id)
    step = f"/staff/editions/{edition.id}/step?target=jury_scoring"

    blocked = await client.get(step)
    refused = await post_form(client, f"/staff/editions/{edition.id}/advance", {"target": "jury_scoring"})

    message = (
        "Jury members: 2. A nomination needs at least 3 scores to be ranked: appoint more jurors or "
        "lower the minimum in the jury&#39;s rules."
    )
    assert message in blocked.text
    assert 'name="target"' not in blocked.text  # no confirmation offered
    assert refused.status_code == 409
    assert message in refused.text
    assert (await editions.get_edition(edition.id)).state == EditionState.FORMAL_CHECK

    await jury.set_rules(actor_id=clerk.id, edition_id=edition.id, rules=JuryRules(min_scores=2))
    await conflict_declarations.declare(
        juror_id=jurors[1].id, edition_id=edition.id, nomination_id=first, conflicted=True, kind="family"
    )
    found = await steps.consequences(await editions.get_edition(edition.id), EditionState.JURY_SCORING)
    assert found.blocking == ()
    assert found.warnings == (
        Message(
            "Because of declared conflicts, these nominations cannot reach %(minimum)d scores: %(list)s.",
        ),
    )
    assert found.warnings[0].params == {"minimum": 2, "list": "2025/0001"}
    unacknowledged = await post_form(client, f"/staff/editions/{edition.id}/advance", {"target": "jury_scoring"})
    assert unacknowledged.status_code == 400
    opened = await post_form(
        client, f"/staff/editions/{edition.id}/advance", {"target": "jury_scoring", "acknowledged": "1"}
    )
    assert opened.status_code == 302
    assert (await Edition.select(Edition.state).where(Edition.id == edition.id).first() or {})["state"] == (
        "jury_scoring"
    )


async def test_opening_shows_what_changes_and_is_refused_when_the_closing_time_has_passed(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await open_edition(clerk_id=clerk.id)
    await Edition.update({Edition.state: "draft", Edition.open_slot: None, Edition.closes_at: utcnow()}).where(
        Edition.id == edition.id
    )

    page = await client.get(f"/staff/editions/{edition.id}/step?target=open")

    assert "The closing time has already passed." in page.text
    assert "Nobody is mailed." in page.text
    wrong = await client.get(f"/staff/editions/{edition.id}/step?target=published")
    assert "This step is not possible in the edition&#39;s current state." in wrong.text
    nonsense = await client.get(f"/staff/editions/{edition.id}/step?target=%3Cb%3E")
    assert nonsense.status_code == 400


async def test_a_closing_time_moved_earlier_is_acknowledged_and_mailed(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await open_edition(clerk_id=clerk.id)
    await citizen_nomination(edition, "shortened-key-0001")
    page = await client.get(f"/staff/editions/{edition.id}/edit")
    shown = dict(re.findall(r'name="(opens_at|closes_at)" type="datetime-local" value="([^"]+)"', page.text))
    earlier = (edition.closes_at - dt.timedelta(days=3)).astimezone(TIMEZONE)
    form = edition_form(opens_at=shown["opens_at"], closes_at=earlier.strftime("%Y-%m-%dT%H:%M"))
    before = await OutboxMail.count()

    asked = await post_form(client, f"/staff/editions/{edition.id}/edit", form)

    assert asked.status_code == 400
    assert (
        "The closing time moves earlier. Nominations that can still be changed: 1; their nominators will be told "
        "the new time by mail. Tick the box below to confirm."
    ) in asked.text
    assert (await editions.get_edition(edition.id)).closes_at == edition.closes_at
    assert await OutboxMail.count() == before

    saved = await post_form(client, f"/staff/editions/{edition.id}/edit", {**form, "acknowledged": "1"})

    assert saved.status_code == 302
    assert (await editions.get_edition(edition.id)).closes_at == earlier.replace(second=0, microsecond=0)
    mails = await OutboxMail.select(OutboxMail.to_address, OutboxMail.subject).where(OutboxMail.id > before)
    assert [(m["to_address"], m["subject"]) for m in mails] == [
        ("anna@example.org", f"Nominations for A.D. 2025 now close at {earlier.strftime('%Y-%m-%d %H:%M')}")
    ]

    past = (utcnow() - dt.timedelta(hours=1)).astimezone(TIMEZONE).strftime("%Y-%m-%dT%H:%M")
    into_the_past = await post_form(
        client, f"/staff/editions/{edition.id}/edit", {**edition_form(opens_at=shown["opens_at"], closes_at=past)}
    )
    assert into_the_past.status_code == 400
    assert "To close nominations now, use the step on the edition&#39;s page: it tells the nominators." in (
        into_the_past.text
    )
