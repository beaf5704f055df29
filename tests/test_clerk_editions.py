"""The clerk's edition pages through HTTP: access, the form, the lifecycle buttons."""

from __future__ import annotations

import datetime as dt
import re

from ambassador import honour
from ambassador.domain import editions
from ambassador.enums import EditionState, Role
from ambassador.tables import AuditEntry, Criterion, Edition
from tests.clerk_factories import (
    checked_edition,
    clerk_logged_in,
    edition_form,
    english,
    juror_logged_in,
    open_edition,
)
from tests.conftest import Client
from tests.factories import make_edition, make_user
from tests.helpers import post_form


async def test_anonymous_is_sent_to_login_and_a_juror_is_refused(client: Client) -> None:
    clerk = await make_user("owner@example.org", (Role.CLERK,))
    edition = await make_edition(clerk_id=clerk.id, open_it=False)
    pages = [
        "/staff/editions",
        "/staff/editions/new",
        f"/staff/editions/{edition.id}",
        f"/staff/editions/{edition.id}/edit",
    ]

    for page in pages:
        response = await client.get(page)
        assert (response.status_code, response.headers["location"]) == (302, f"/login?next={page}")

    await juror_logged_in(client)
    assert [(await client.get(page)).status_code for page in pages] == [403, 403, 403, 403]
    refused = await post_form(client, "/staff/editions/new", edition_form())
    assert refused.status_code == 403
    advance = await post_form(client, f"/staff/editions/{edition.id}/advance", {"target": "open"})
    assert advance.status_code == 403
    assert await Edition.count() == 1
    assert (await editions.get_edition(edition.id)).state == EditionState.DRAFT
    dashboard = await client.get("/staff")
    assert 'href="/staff/editions/new"' not in dashboard.text


async def test_new_form_offers_the_default_criteria_and_spare_rows(client: Client) -> None:
    await clerk_logged_in(client)
    english(client)

    page = await client.get("/staff/editions/new")

    assert page.status_code == 200
    for names in honour.shipped().criteria:  # the Kraków honour's four
        assert f'value="{names["pl"]}"' in page.text
        assert f'value="{names["en"]}"' in page.text
        assert f'value="{names["uk"]}"' in page.text
    assert 'name="criterion_6_name_pl"' in page.text
    assert 'name="criterion_7_name_pl"' not in page.text
    assert '<option value="council_resolution" selected>City Council resolution</option>' in page.text
    assert 'type="datetime-local"' in page.text


async def test_creating_an_edition_through_the_form(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)

    response = await post_form(client, "/staff/editions/new", edition_form())

    row = await Edition.select().first()
    assert row is not None
    assert response.status_code == 302
    assert response.headers["location"] == f"/staff/editions/{row['id']}"
    edition = await editions.get_edition(row["id"])
    assert (edition.activity_year, edition.state, edition.approving_body.value) == (2025, "draft", "mayor_order")
    # The first edition starts with the installation's categories.
    assert [(c.code, c.titles, c.mentions) for c in edition.categories] == [("A", 2, 0), ("B", 2, 0)]
    assert (edition.score_min, edition.score_max, edition.retention_months) == (0, 10, 36)
    assert edition.intro_pl == "Zgłoś osobę lub organizację.\nDruga linia."
    # Warsaw winter time is UTC+1, summer time UTC+2.
    assert edition.opens_at == dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
    assert edition.closes_at == dt.datetime(2026, 4, 30, 21, 59, tzinfo=dt.UTC)
    assert [(c.name_en, c.weight) for c in edition.criteria] == [
        ("Length of activity", 2),
        ("Effects of the activities", 1),
        ("Diversity", 3),
    ]
    actions = await AuditEntry.select(AuditEntry.action, AuditEntry.actor).where(AuditEntry.action == "edition.created")
    assert actions == [{"action": "edition.created", "actor": clerk.id}]

    detail = await client.get(response.headers["location"])
    assert detail.status_code == 200
    assert "Saved." in detail.text
    assert "Edition A.D. 2025" in detail.text
    assert "Krakow Ambassador of Multiculturalism A.D. 2025" in detail.text
    assert "Mayor&#39;s order" in detail.text
    step = f"/staff/editions/{edition.id}/step?target=open"
    assert f'<a class="button" href="{step}">Open for nominations</a>' in detail.text
    listing = await client.get("/staff/editions")
    assert f'<a href="/staff/editions/{edition.id}">A.D. 2025</a>' in listing.text
    assert "<td>draft</td>" in listing.text


async def test_bad_input_is_shown_beside_the_fields_and_nothing_is_saved(client: Client) -> None:
    await clerk_logged_in(client)
    english(client)
    hostile = "<script>alert(1)</script>"

    response = await post_form(
        client,
        "/staff/editions/new",
        edition_form(
            activity_year="1900",
            name_en=hostile,
            name_uk="",
            opens_at="2026-03-01T09:00",
            closes_at="2026-02-01T09:00",
            score_min="5",
            score_max="5",
            approving_body="king",
            retention_months="0",
            criterion_3_name_uk="",
        ),
    )

    assert response.status_code == 400
    text = response.text
    for message in (
        "Please correct the marked fields.",
        "Enter a year from 2018 to 2100.",
        "Enter a name.",
        "The closing time must be after the opening time.",
        "The scale must go up from its lowest score, to at most 100.",
        "Choose the approving body.",
        "Enter a whole number of months from 1 to 120.",
        "Each criterion needs a name in every language, of at most 300 characters.",
    ):
        assert message in text, message
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert hostile not in text
    assert 'value="1900"' in text
    assert 'value="Diversity"' in text
    assert await Edition.count() == 0
    assert await Criterion.count() == 0
    assert await AuditEntry.count().where(AuditEntry.action == "edition.created") == 0


async def test_unreadable_times_and_a_taken_year_are_refused(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    await make_edition(year=2025, clerk_id=clerk.id, open_it=False)

    garbled = await post_form(client, "/staff/editions/new", edition_form(activity_year="2026", opens_at="tomorrow"))
    assert garbled.status_code == 400
    assert "Enter a date and time." in garbled.text
    taken = await post_form(client, "/staff/editions/new", edition_form())
    assert taken.status_code == 400
    assert "An edition for this year already exists." in taken.text
    assert await Edition.count() == 1


async def test_editing_keeps_criteria_removes_blanked_ones_and_ignores_foreign_ids(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    other = await make_edition(year=2024, clerk_id=clerk.id, open_it=False)
    edition = await make_edition(year=2025, clerk_id=clerk.id, open_it=False)
    first, second, third, fourth = (c.id for c in edition.criteria)
    foreign = other.criteria[0].id
    assert first is not None and foreign is not None

    page = await client.get(f"/staff/editions/{edition.id}/edit")
    assert page.status_code == 200
    assert f'name="criterion_0_id" value="{first}"' in page.text
    form = edition_form(name_en="Renamed edition", closes_at="2026-05-31T23:59")
    form.update(
        {
            "criterion_0_id": str(first),
            "criterion_1_id": str(second),
            "criterion_1_name_pl": "",
            "criterion_1_name_en": "",
            "criterion_1_name_uk": "",
            "criterion_3_id": str(foreign),
        }
    )
    response = await post_form(client, f"/staff/editions/{edition.id}/edit", form)

    assert response.status_code == 302
    updated = await editions.get_edition(edition.id)
    assert updated.name_en == "Renamed edition"
    assert [(c.id == first, c.name_en) for c in updated.criteria] == [
        (True, "Length of activity"),
        (False, "Diversity"),
    ]
    assert {second, third, fourth} & {c.id for c in updated.criteria} == set()
    assert (await editions.get_edition(other.id)).criteria == other.criteria


async def test_an_opened_edition_keeps_its_year_and_a_late_one_cannot_be_edited(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await open_edition(clerk_id=clerk.id)
    page = await client.get(f"/staff/editions/{edition.id}/edit")
    assert "Fixed once the edition has opened." in page.text
    shown = dict(re.findall(r'name="(opens_at|closes_at)" type="datetime-local" value="([^"]+)"', page.text))
    assert edition.opens_at.second != 0 or edition.opens_at.microsecond != 0
    # The times are shown to the minute; sent back unchanged they stay exactly as stored.
    kept = await post_form(client, f"/staff/editions/{edition.id}/edit", edition_form(**shown))
    assert kept.status_code == 302
    after = await editions.get_edition(edition.id)
    assert (after.opens_at, after.closes_at) == (edition.opens_at, edition.closes_at)

    moved = await post_form(client, f"/staff/editions/{edition.id}/edit", edition_form(activity_year="2026"))
    assert moved.status_code == 400
    assert "The year and the opening time are fixed once the edition has opened." in moved.text
    assert (await editions.get_edition(edition.id)).activity_year == 2025

    await Edition.update({Edition.state: EditionState.JURY_SCORING.value, Edition.open_slot: None}).where(
        Edition.id == edition.id
    )
    assert (await client.get(f"/staff/editions/{edition.id}/edit")).headers["location"] == (
        f"/staff/editions/{edition.id}"
    )
    refused = await post_form(client, f"/staff/editions/{edition.id}/edit", edition_form(name_en="Too late"))
    assert refused.status_code == 409
    assert "This edition can no longer be changed." in refused.text
    assert (await editions.get_edition(edition.id)).name_en == "Krakow Ambassador of Multiculturalism A.D. 2025"


async def test_only_one_edition_can_be_open(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    first = await make_edition(year=2024, clerk_id=clerk.id, open_it=False)
    second = await make_edition(year=2025, clerk_id=clerk.id, open_it=False)

    opened = await post_form(client, f"/staff/editions/{first.id}/advance", {"target": "open"})
    assert opened.status_code == 302
    refused = await post_form(client, f"/staff/editions/{second.id}/advance", {"target": "open"})

    assert refused.status_code == 409
    assert "Another edition is open for nominations. Close it first." in refused.text
    rows = await Edition.select(Edition.activity_year, Edition.state).order_by(Edition.activity_year)
    assert rows == [{"activity_year": 2024, "state": "open"}, {"activity_year": 2025, "state": "draft"}]
    dashboard = await client.get("/staff")
    assert f'<a href="/staff/editions/{first.id}/nominations">' in dashboard.text


async def test_a_lifecycle_step_is_refused_before_its_time(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await open_edition(clerk_id=clerk.id)
    page = await client.get(f"/staff/editions/{edition.id}")
    step = f"/staff/editions/{edition.id}/step?target=formal_check"
    assert f'<a class="button" href="{step}">Close nominations and start the formal check</a>' in page.text
    assert "open for nominations" in page.text

    # Before the closing time, closing is "close now": a warning to acknowledge first.
    early = await post_form(client, f"/staff/editions/{edition.id}/advance", {"target": "formal_check"})
    assert early.status_code == 400
    assert "Read the warnings and tick the box to confirm that you have." in early.text
    skipped = await post_form(client, f"/staff/editions/{edition.id}/advance", {"target": "jury_scoring"})
    assert skipped.status_code == 409
    assert "This step is not possible in the edition&#39;s current state." in skipped.text
    nonsense = await post_form(client, f"/staff/editions/{edition.id}/advance", {"target": "<b>"})
    assert nonsense.status_code == 400
    assert (await editions.get_edition(edition.id)).state == EditionState.OPEN


async def test_the_formal_check_ends_only_when_every_nomination_is_decided(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await checked_edition(clerk_id=clerk.id)
    page = await client.get(f"/staff/editions/{edition.id}")
    step = f"/staff/editions/{edition.id}/step?target=jury_scoring"
    assert f'<a class="button" href="{step}">Start jury scoring</a>' in page.text

    refused = await post_form(client, f"/staff/editions/{edition.id}/advance", {"target": "jury_scoring"})

    assert refused.status_code == 409
    assert "No nomination has been shortlisted for the jury." in refused.text
    assert (await editions.get_edition(edition.id)).state == EditionState.FORMAL_CHECK


async def test_unknown_edition_is_404(client: Client) -> None:
    await clerk_logged_in(client)
    assert (await client.get("/staff/editions/999")).status_code == 404
    assert (await client.get("/staff/editions/99999999999999999999")).status_code == 404
    assert (await client.get("/staff/editions/9223372036854775808/nominations")).status_code == 404
    assert (await client.get("/staff/editions/999/edit")).status_code == 404
    assert (await post_form(client, "/staff/editions/999/advance", {"target": "open"})).status_code == 404
    assert (await post_form(client, "/staff/editions/999/edit", edition_form())).status_code == 404
