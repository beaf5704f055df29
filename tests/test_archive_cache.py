"""The archive's page cache: validators, 304 answers, invalidation, and no sharing of staff pages."""

from __future__ import annotations

import dataclasses
import datetime as dt

from litestar.testing import AsyncTestClient

from ambassador.db import utcnow
from ambassador.domain import laureates
from ambassador.domain.laureates import RecordData
from ambassador.enums import Role
from ambassador.settings import Settings
from ambassador.tables import Edition, Laureate
from ambassador.web.app import create_app
from tests.archive_factories import add_laureate, archive_edition
from tests.clerk_factories import clerk_logged_in
from tests.conftest import Client
from tests.factories import make_user
from tests.helpers import eventually, post_form

ENGLISH = {"accept-language": "en"}


async def test_unchanged_page_answers_304_to_both_validators(client: Client) -> None:
    await add_laureate(await archive_edition(2023), "Anna Public")
    first = await client.get("/laureates", follow_redirects=True, headers=ENGLISH)
    assert first.status_code == 200
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert first.headers["cache-control"] == "public, no-cache"
    assert "Anna Public" in first.text

    by_tag = await client.get("/laureates", follow_redirects=True, headers={**ENGLISH, "if-none-match": etag})
    assert (by_tag.status_code, by_tag.content, by_tag.headers["etag"]) == (304, b"", etag)
    by_date = await client.get("/laureates", follow_redirects=True, headers={**ENGLISH, "if-modified-since": modified})
    assert (by_date.status_code, by_date.content) == (304, b"")
    stale = await client.get(
        "/laureates", follow_redirects=True, headers={**ENGLISH, "if-none-match": 'W/"something-else"'}
    )
    assert (stale.status_code, stale.text) == (200, first.text)


async def test_each_language_and_address_has_its_own_validator(client: Client) -> None:
    await add_laureate(await archive_edition(2023), "Anna Public")
    english = await client.get("/laureates", follow_redirects=True, headers=ENGLISH)
    polish = await client.get("/laureates", follow_redirects=True, headers={"accept-language": "pl"})
    searched = await client.get("/laureates?q=anna", follow_redirects=True, headers=ENGLISH)
    assert len({english.headers["etag"], polish.headers["etag"], searched.headers["etag"]}) == 3
    assert '<html lang="en">' in english.text and '<html lang="pl">' in polish.text
    again = await client.get(
        "/laureates", follow_redirects=True, headers={"accept-language": "pl", "if-none-match": english.headers["etag"]}
    )
    assert again.status_code == 200


async def test_a_correction_changes_the_page_and_its_validators(client: Client) -> None:
    clerk = await make_user("clerk@example.org", roles=(Role.CLERK,))
    slug = await add_laureate(await archive_edition(2023), "Anna Pubic", citation_en="For her work.")
    before = await client.get(f"/laureates/{slug}", follow_redirects=True, headers=ENGLISH)
    laureate_id = (await Laureate.select(Laureate.id).where(Laureate.slug == slug).first() or {})["id"]
    await laureates.edit(
        actor_id=clerk.id,
        laureate_id=laureate_id,
        data=RecordData(name="Anna Public", citation_en="For her work."),
        reason="The name was misspelt.",
    )
    after = await client.get(
        f"/laureates/{slug}", follow_redirects=True, headers={**ENGLISH, "if-none-match": before.headers["etag"]}
    )
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert "Anna Public" in after.text and "Anna Pubic" not in after.text
    assert "The name was misspelt." in after.text


async def test_staff_pages_are_never_served_to_visitors(client: Client, settings: Settings) -> None:
    await add_laureate(await archive_edition(2023), "Anna Public")
    await clerk_logged_in(client)
    staff = await client.get("/laureates", follow_redirects=True, headers=ENGLISH)
    assert "Log out" in staff.text and "etag" not in staff.headers

    async with AsyncTestClient(app=client.app) as visitor:
        public = await visitor.get("/laureates", follow_redirects=True, headers=ENGLISH)
    assert "Anna Public" in public.text
    assert "Log out" not in public.text and "/staff" not in public.text
    assert "set-cookie" not in public.headers or "session" not in public.headers["set-cookie"]


async def test_a_scheduled_publication_appears_at_its_moment_without_a_write(settings: Settings) -> None:
    # Even with a cache that would otherwise wait an hour, the moment itself refreshes it. The
    # cache's clock is moved on by the test (no sleeping, no window a slow request could miss).
    slow = dataclasses.replace(settings, archive_cache_seconds=3600.0)
    await add_laureate(await archive_edition(2023), "Anna Public")
    moment = utcnow() + dt.timedelta(hours=1)
    scheduled = await archive_edition(2024, published_at=moment)
    await add_laureate(scheduled, "Zenobia Scheduled")
    app = create_app(slow)
    offset = dt.timedelta()
    app.state.archive_cache.now = lambda: utcnow() + offset
    async with AsyncTestClient(app=app) as visitor:
        before = await visitor.get("/laureates", follow_redirects=True, headers=ENGLISH)
        assert (before.status_code, "Anna Public" in before.text, "Zenobia" in before.text) == (200, True, False)
        # The database reaches the moment (what the passing hour would do for the queries);
        # the cache's clock has not, so the cached page without her is still served.
        await Edition.update({Edition.published_at: utcnow() - dt.timedelta(seconds=1)}).where(Edition.id == scheduled)
        still = await visitor.get(
            "/laureates", follow_redirects=True, headers={**ENGLISH, "if-none-match": before.headers["etag"]}
        )
        assert still.status_code == 304
        offset = dt.timedelta(hours=1)
        after = await visitor.get(
            "/laureates", follow_redirects=True, headers={**ENGLISH, "if-none-match": before.headers["etag"]}
        )
    assert after.status_code == 200
    assert "Zenobia Scheduled" in after.text


async def test_another_process_s_change_shows_once_the_refresh_interval_has_passed(settings: Settings) -> None:
    # The cache's clock (``time.monotonic`` in production) is moved on by the test.
    every_minute = dataclasses.replace(settings, archive_cache_seconds=60.0)
    await add_laureate(await archive_edition(2023), "Anna Public")
    app = create_app(every_minute)
    moved = [0.0]
    app.state.archive_cache.clock = lambda: 1_000.0 + moved[0]
    async with AsyncTestClient(app=app) as visitor:
        before = await visitor.get("/laureates", follow_redirects=True, headers=ENGLISH)
        # Written as by another process: nothing in this one empties the cache.
        await add_laureate(await archive_edition(2022), "Bogdan Elsewhere")
        moved[0] = 59.0
        within = await visitor.get("/laureates", follow_redirects=True, headers=ENGLISH)
        assert (within.text, "Bogdan" in within.text) == (before.text, False)

        moved[0] = 60.0  # the interval has passed: the stamp is re-read in the background

        async def shown() -> bool:
            return "Bogdan Elsewhere" in (await visitor.get("/laureates", follow_redirects=True, headers=ENGLISH)).text

        assert await eventually(shown, within=10)


async def test_cached_copy_is_reused_until_the_archive_changes(settings: Settings) -> None:
    slow = dataclasses.replace(settings, archive_cache_seconds=3600.0)
    await add_laureate(await archive_edition(2023), "Anna Public")
    app = create_app(slow)
    async with AsyncTestClient(app=app) as visitor:
        first = await visitor.get("/editions/2023", follow_redirects=True, headers=ENGLISH)
        second = await visitor.get("/editions/2023", follow_redirects=True, headers=ENGLISH)
        assert (first.text, len(app.state.archive_cache)) == (second.text, 1)
        app.state.archive_cache.invalidate()  # as a successful POST in this process does
        await add_laureate(await archive_edition(2022), "Bogdan Earlier")
        index = await visitor.get("/laureates", follow_redirects=True, headers=ENGLISH)
    assert "Bogdan Earlier" in index.text
    assert len(app.state.archive_cache) == 1


async def test_only_the_staffs_changes_empty_the_cache_not_logins(settings: Settings) -> None:
    slow = dataclasses.replace(settings, archive_cache_seconds=3600.0)
    slug = await add_laureate(await archive_edition(2023), "Anna Public")
    await add_laureate(await archive_edition(2022), "Bogdan Earlier")
    app = create_app(slow)
    async with AsyncTestClient(app=app) as visitor, AsyncTestClient(app=app) as staff:
        staff.follow_redirects = False
        before = await visitor.get("/laureates", follow_redirects=True, headers=ENGLISH)
        await Laureate.update({Laureate.name: "Bogdan Renamed"}).where(Laureate.name == "Bogdan Earlier")
        await clerk_logged_in(staff)  # a successful POST outside the staff area
        after_login = await visitor.get("/laureates", follow_redirects=True, headers=ENGLISH)
        laureate_id = (await Laureate.select(Laureate.id).where(Laureate.slug == slug).first() or {})["id"]
        withdrawn = await post_form(
            staff,
            f"/staff/laureates/{laureate_id}/withdraw",
            {"withdraw_reason": "At her request.", "withdraw_confirm": "1"},
        )
        after_staff = await visitor.get("/laureates", follow_redirects=True, headers=ENGLISH)

    assert (after_login.text, after_login.headers["etag"]) == (before.text, before.headers["etag"])
    assert withdrawn.status_code == 303
    assert "Bogdan Renamed" in after_staff.text and after_staff.headers["etag"] != before.headers["etag"]
