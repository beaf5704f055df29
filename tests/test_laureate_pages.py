"""The laureates' records through HTTP: the clerk's pages and the laureate's emailed check link."""

from __future__ import annotations

import datetime as dt
import json
import re

from httpx import Response

from ambassador.db import utcnow
from ambassador.domain import approval, deliberation, laureates, publication
from ambassador.domain.approval import DecisionData, Outcome
from ambassador.domain.laureates import RecordData
from ambassador.domain.nominations import Upload
from ambassador.enums import ApprovingBody, Distinction
from ambassador.tables import AuditEntry, Laureate, LaureateRevision, Nomination, OutboxMail
from tests import confirm_pages
from tests.clerk_factories import BASE, english, juror_logged_in
from tests.conftest import Client
from tests.deliberation_factories import deliberated, logged_in, scored_edition
from tests.factories import PDF
from tests.helpers import post_form
from tests.jury_factories import Scoring

TODAY = dt.datetime.now(dt.UTC).date()
OLENA_EN = "Runs a bilingual reading club for children in Kraków."
BOHDAN_EN = "Organises Ukrainian film evenings in Nowa Huta."
LINK = re.compile(rf"{re.escape(BASE)}(/laureate-check/[A-Za-z0-9_-]+)")


async def approved_edition() -> tuple[Scoring, int, int]:
    """Olena (title) and Bohdan (honourable mention) approved: the laureates' ids, not public yet."""
    setup = await scored_edition()
    await deliberated(setup)
    await deliberation.recommend(chair_id=setup.chair.id, edition_id=setup.edition.id)
    listed = {r.nominee_name.split()[0]: r.nomination_id for r in await approval.recommended(setup.edition.id)}
    decision = DecisionData(
        kind=ApprovingBody.COUNCIL_RESOLUTION,
        number="LXXXV/2418/22",
        decided_on=TODAY,
        document=Upload("uchwała.pdf", PDF),
        outcomes={listed["Olena"]: Outcome(Distinction.TITLE), listed["Bohdan"]: Outcome(Distinction.MENTION)},
        votes_for=35,
        votes_against=2,
        votes_abstaining=1,
    )
    await approval.record_decision(
        acknowledged=True, actor_id=setup.clerk.id, edition_id=setup.edition.id, data=decision
    )
    ids = {r["name"].split()[0]: r["id"] for r in await Laureate.select(Laureate.id, Laureate.name)}
    for name, citation in (("Olena", OLENA_EN), ("Bohdan", BOHDAN_EN)):
        record = await laureates.get_record(ids[name])
        data = RecordData(name=record.name, citation_en=citation)
        await laureates.edit(actor_id=setup.clerk.id, laureate_id=ids[name], data=data)
    return setup, ids["Olena"], ids["Bohdan"]


async def publish_now(setup: Scoring) -> None:
    await publication.publish(
        actor_id=setup.clerk.id, edition_id=setup.edition.id, published_at=utcnow(), base_url=BASE, acknowledged=True
    )


def texts(**changes: str) -> dict[str, str | list[str]]:
    """Olena's entry as the clerk's form posts it."""
    form: dict[str, str | list[str]] = {
        "name": "Olena Kovalenko",
        "citation_pl": "",
        "citation_en": OLENA_EN,
        "citation_uk": "",
        "reason": "",
    }
    form.update(changes)
    return form


async def stored(laureate_id: int) -> dict[str, object]:
    row = (
        await Laureate.select(
            Laureate.name,
            Laureate.citation_en,
            Laureate.version,
            Laureate.corrected_at,
            Laureate.withdrawn_at,
            Laureate.confirmed_at,
            Laureate.confirmed_name,
            Laureate.confirmation_note,
        )
        .where(Laureate.id == laureate_id)
        .first()
    )
    assert row is not None
    return row


async def check_links() -> dict[str, str]:
    """The check link mailed to each address."""
    mails = await OutboxMail.select(OutboxMail.to_address, OutboxMail.body_text).where(
        OutboxMail.body_text.like("%/laureate-check/%")
    )
    found: dict[str, str] = {}
    for mail in mails:
        match = LINK.search(mail["body_text"])
        assert match is not None
        found[mail["to_address"]] = match.group(1)
    return found


async def ask(client: Client, setup: Scoring) -> Response:
    return await post_form(client, f"/staff/editions/{setup.edition.id}/laureates/confirmations", {})


def anonymous(client: Client) -> None:
    """The laureate opens the link in a browser of their own."""
    client.cookies.clear()


def field_error(html: str, name: str) -> str:
    found = re.search(rf'<p class="error" id="f-{name}-error">([^<]*)</p>', html)
    return found.group(1) if found else ""


# --- the clerk ---------------------------------------------------------------------------


async def test_the_clerk_edits_a_citation_before_publication_without_a_reason(client: Client) -> None:
    setup, olena, _bohdan = await approved_edition()
    await logged_in(client, setup.clerk)

    edition_page = await client.get(f"/staff/editions/{setup.edition.id}")
    assert f'<a href="/staff/editions/{setup.edition.id}/laureates">Laureates</a>' in edition_page.text
    listing = await client.get(f"/staff/editions/{setup.edition.id}/laureates")
    assert listing.status_code == 200
    assert f'<a href="/staff/laureates/{olena}">Olena Kovalenko</a>' in listing.text
    assert "Ask the laureates to confirm" in listing.text
    page = await client.get(f"/staff/laureates/{olena}")
    assert page.status_code == 200
    assert 'lang="uk"' in page.text
    assert 'name="reason"' not in page.text

    too_long = await post_form(client, f"/staff/laureates/{olena}", texts(name="O" * 301, citation_pl="Długi."))
    assert too_long.status_code == 400
    assert field_error(too_long.text, "name") == "At most 300 characters."
    assert 'aria-describedby="f-name-hint f-name-error"' in too_long.text
    assert ">Długi.</textarea>" in too_long.text
    assert (await stored(olena))["name"] == "Olena Kovalenko"

    changed = "Runs a bilingual reading club and a choir for children in Kraków."
    saved = await post_form(client, f"/staff/laureates/{olena}", texts(citation_en=changed, citation_uk="Веде клуб."))

    assert (saved.status_code, saved.headers["location"]) == (303, f"/staff/laureates/{olena}")
    row = await stored(olena)
    assert (row["citation_en"], row["version"], row["corrected_at"]) == (changed, 1, None)
    assert await LaureateRevision.count() == 0
    listing = await client.get(f"/staff/editions/{setup.edition.id}/laureates")
    assert '<span lang="en">English</span>, <span lang="uk">' in listing.text


async def test_a_correction_after_publication_needs_a_reason_and_keeps_the_old_version(client: Client) -> None:
    setup, olena, _bohdan = await approved_edition()
    await publish_now(setup)
    await logged_in(client, setup.clerk)
    page = await client.get(f"/staff/laureates/{olena}")
    assert 'name="reason"' in page.text
    assert "the reason and the date are shown publicly" in page.text
    corrected = "Runs a bilingual reading club for children in Kraków since 2015."

    refused = await post_form(client, f"/staff/laureates/{olena}", texts(citation_en=corrected))

    assert refused.status_code == 400
    assert field_error(refused.text, "reason") == "Give the reason for the correction; it is shown with the entry."
    assert 'aria-describedby="f-reason-hint f-reason-error"' in refused.text
    assert corrected in refused.text
    row = await stored(olena)
    assert (row["citation_en"], row["version"], row["corrected_at"]) == (OLENA_EN, 1, None)
    assert await LaureateRevision.count() == 0

    saved = await post_form(
        client, f"/staff/laureates/{olena}", texts(citation_en=corrected, reason="The year was missing.")
    )

    assert saved.status_code == 303
    row = await stored(olena)
    assert (row["citation_en"], row["version"]) == (corrected, 2)
    revisions = await LaureateRevision.select(
        LaureateRevision.laureate,
        LaureateRevision.version,
        LaureateRevision.name,
        LaureateRevision.citation_en,
        LaureateRevision.reason,
        LaureateRevision.changed_by,
    )
    assert revisions == [
        {
            "laureate": olena,
            "version": 1,
            "name": "Olena Kovalenko",
            "citation_en": OLENA_EN,
            "reason": "The year was missing.",
            "changed_by": setup.clerk.id,
        }
    ]
    history = await client.get(f"/staff/laureates/{olena}")
    assert '<tr data-version="1">' in history.text
    assert OLENA_EN in history.text
    slug = (await laureates.get_record(olena)).slug
    public = await client.get(f"/laureates/{slug}", follow_redirects=True)
    assert public.status_code == 200
    assert corrected in public.text


async def test_a_withdrawal_needs_the_box_and_a_reason_and_shows_publicly(client: Client) -> None:
    setup, olena, _bohdan = await approved_edition()
    await logged_in(client, setup.clerk)
    early = await post_form(
        client, f"/staff/laureates/{olena}/withdraw", {"withdraw_reason": "Too early.", "withdraw_confirm": "1"}
    )
    assert early.status_code == 409
    assert "Only a published entry can be withdrawn." in early.text
    blocked = await client.get(f"/staff/laureates/{olena}/withdraw")
    assert confirm_pages.items(blocked.text, "blocking") == ["Only a published entry can be withdrawn."]
    assert 'name="withdraw_reason"' not in blocked.text
    await publish_now(setup)
    page = await client.get(f"/staff/laureates/{olena}")
    assert "A withdrawal cannot be undone." in page.text
    assert f'<a class="button secondary" href="/staff/laureates/{olena}/withdraw">' in page.text
    confirmation = await client.get(f"/staff/laureates/{olena}/withdraw")
    assert confirmation.status_code == 200
    assert confirm_pages.items(confirmation.text, "changes") == [
        'Olena Kovalenko\'s entry stays in the public archive with the notice "withdrawn", the date and the reason.',
        "The feed, the open data and the page's structured data show the distinction as withdrawn.",
        "The entry can no longer be edited or corrected, and the withdrawal cannot be undone.",
    ]
    assert confirm_pages.items(confirmation.text, "blocking") == []
    assert confirm_pages.mails(confirmation.text) == "Nobody is mailed."
    assert 'name="withdraw_reason"' in confirmation.text

    unticked = await post_form(client, f"/staff/laureates/{olena}/withdraw", {"withdraw_reason": "Fraud."})
    no_reason = await post_form(
        client, f"/staff/laureates/{olena}/withdraw", {"withdraw_reason": " ", "withdraw_confirm": "1"}
    )

    assert (unticked.status_code, no_reason.status_code) == (400, 400)
    assert field_error(unticked.text, "withdraw_confirm") == (
        "Tick the box to confirm that the withdrawal cannot be undone."
    )
    assert "Fraud." in unticked.text
    assert field_error(no_reason.text, "withdraw_reason") == (
        "Give the reason for the withdrawal; it is shown with the entry."
    )
    assert (await stored(olena))["withdrawn_at"] is None

    reason = "The laureate's activities were found to be misrepresented."
    withdrawn = await post_form(
        client, f"/staff/laureates/{olena}/withdraw", {"withdraw_reason": reason, "withdraw_confirm": "1"}
    )

    assert withdrawn.status_code == 303
    assert (await stored(olena))["withdrawn_at"] is not None
    audited = await AuditEntry.select(AuditEntry.object_id, AuditEntry.data).where(
        AuditEntry.action == "laureate.withdrawn"
    )
    assert [(a["object_id"], json.loads(a["data"])) for a in audited] == [(str(olena), {"reason": reason})]
    slug = (await laureates.get_record(olena)).slug
    public = await client.get(f"/laureates/{slug}", follow_redirects=True)
    assert public.status_code == 200
    assert reason.replace("'", "&#39;") in public.text
    again = await post_form(client, f"/staff/laureates/{olena}", texts(reason="Late."))
    assert again.status_code == 409
    assert "A withdrawn entry cannot be changed." in again.text


async def test_the_clerk_records_a_confirmation_taken_by_phone(client: Client) -> None:
    setup, olena, _bohdan = await approved_edition()
    await logged_in(client, setup.clerk)

    saved = await post_form(client, f"/staff/laureates/{olena}/confirm", {"note": "By phone on Monday."})

    assert saved.status_code == 303
    row = await stored(olena)
    assert (row["confirmed_at"] is not None, row["confirmation_note"]) == (True, "By phone on Monday.")
    page = await client.get(f"/staff/laureates/{olena}")
    assert "By phone on Monday." in page.text
    assert 'action="/staff/laureates/{olena}/confirm"' not in page.text


# --- the laureate's link -----------------------------------------------------------------


async def test_confirmation_mails_go_to_laureates_with_an_email_and_the_link_works(client: Client) -> None:
    setup, olena, bohdan = await approved_edition()
    bohdan_nomination = (await Laureate.select(Laureate.nomination).where(Laureate.id == bohdan).first() or {})[
        "nomination"
    ]
    await Nomination.update({Nomination.nominee_email: ""}).where(Nomination.id == bohdan_nomination)
    await logged_in(client, setup.clerk)

    asked = await ask(client, setup)

    assert (asked.status_code, asked.headers["location"]) == (303, f"/staff/editions/{setup.edition.id}/laureates")
    links = await check_links()
    assert list(links) == ["olena@example.org"]
    listing = await client.get(f"/staff/editions/{setup.edition.id}/laureates")
    assert "1 mail queued." in listing.text
    assert "not asked (no email address)" in listing.text
    assert "asked on" in listing.text

    anonymous(client)
    english(client)
    link = links["olena@example.org"]
    page = await client.get(link)
    assert page.status_code == 200
    assert (
        page.headers["cache-control"],
        page.headers["referrer-policy"],
        page.headers["x-robots-tag"],
    ) == ("no-store", "no-referrer", "noindex, nofollow")
    assert "<dd><bdi>Olena Kovalenko</bdi></dd>" in page.text
    assert f'<p class="prose" lang="en">{OLENA_EN}</p>' in page.text
    assert 'value="Olena Kovalenko"' in page.text
    assert "session" not in page.cookies

    empty = await post_form(client, link, {"name": " ", "note": "Keep this."})
    assert empty.status_code == 400
    assert field_error(empty.text, "name") == "Give your name as it should be published (at most 300 characters)."
    assert "Keep this." in empty.text
    assert (await stored(olena))["confirmed_at"] is None

    note = "Please write 'since 2015'."
    confirmed = await post_form(client, link, {"name": "Olena Kovalenko-Nowak", "note": note})

    assert (confirmed.status_code, confirmed.headers["location"]) == (303, link)
    row = await stored(olena)
    assert (row["name"], row["confirmed_name"], row["confirmation_note"]) == (
        "Olena Kovalenko",
        "Olena Kovalenko-Nowak",
        note,
    )
    thanks = await client.get(link)
    assert "Thank you. You confirmed your entry on" in thanks.text
    assert 'value="Olena Kovalenko-Nowak"' in thanks.text
    assert f'action="{link}"' in thanks.text

    await logged_in(client, setup.clerk)
    listing = await client.get(f"/staff/editions/{setup.edition.id}/laureates")
    assert "Requested spelling: <bdi>Olena Kovalenko-Nowak</bdi>" in listing.text
    assert note.replace("'", "&#39;") in listing.text
    page = await client.get(f"/staff/laureates/{olena}")
    assert "<dd><bdi>Olena Kovalenko-Nowak</bdi></dd>" in page.text
    actions = await AuditEntry.select(AuditEntry.action).where(AuditEntry.action.like("laureate.confirm%"))
    assert sorted(a["action"] for a in actions) == ["laureate.confirmation_requested", "laureate.confirmed"]


async def test_the_check_page_speaks_the_visitors_language(client: Client) -> None:
    setup, _olena, _bohdan = await approved_edition()
    await logged_in(client, setup.clerk)
    await ask(client, setup)
    link = (await check_links())["olena@example.org"]
    anonymous(client)

    for language in ("pl", "en", "uk"):
        client.headers["accept-language"] = language
        page = await client.get(link)
        assert (page.status_code, f'<html lang="{language}">' in page.text) == (200, True)


async def test_an_unknown_link_is_a_404_that_tells_nothing(client: Client) -> None:
    english(client)
    for token in ("x" * 43, "y" * 300):
        page = await client.get(f"/laureate-check/{token}")
        assert page.status_code == 404
        assert "This link is invalid, already used or expired." in page.text
        assert (page.headers["cache-control"], page.headers["referrer-policy"]) == ("no-store", "no-referrer")
    posted = await post_form(client, "/laureate-check/" + "x" * 43, {"name": "Someone"})
    assert posted.status_code == 404


async def test_after_publication_the_check_page_has_no_form(client: Client) -> None:
    setup, olena, _bohdan = await approved_edition()
    await logged_in(client, setup.clerk)
    await ask(client, setup)
    link = (await check_links())["olena@example.org"]
    await publish_now(setup)
    listing = await client.get(f"/staff/editions/{setup.edition.id}/laureates")
    assert "Ask the laureates to confirm" not in listing.text
    late_ask = await ask(client, setup)
    assert late_ask.status_code == 409
    anonymous(client)
    english(client)

    page = await client.get(link)

    assert page.status_code == 200
    assert "The results are published." in page.text
    assert '<form method="post" action="/laureate-check/' not in page.text
    late = await post_form(client, link, {"name": "Olena K."})
    assert late.status_code == 409
    assert (await stored(olena))["confirmed_at"] is None


async def test_one_laureates_link_never_shows_anothers_entry(client: Client) -> None:
    setup, olena, bohdan = await approved_edition()
    await logged_in(client, setup.clerk)
    await ask(client, setup)
    links = await check_links()
    assert sorted(links) == ["bohdan@example.org", "olena@example.org"]
    anonymous(client)
    english(client)

    olena_page = (await client.get(links["olena@example.org"])).text
    bohdan_page = (await client.get(links["bohdan@example.org"])).text

    assert ("Olena" in olena_page, "Bohdan" in olena_page, BOHDAN_EN in olena_page) == (True, False, False)
    assert ("Bohdan" in bohdan_page, "Olena" in bohdan_page, OLENA_EN in bohdan_page) == (True, False, False)
    confirmed = await post_form(client, links["bohdan@example.org"], {"name": "Bohdan Melnyk", "note": ""})
    assert confirmed.status_code == 303
    assert ((await stored(bohdan))["confirmed_at"] is not None, (await stored(olena))["confirmed_at"]) == (True, None)


async def test_jurors_and_visitors_cannot_open_the_clerks_pages(client: Client) -> None:
    setup, olena, _bohdan = await approved_edition()
    pages = [f"/staff/editions/{setup.edition.id}/laureates", f"/staff/laureates/{olena}"]
    for page in pages:
        response = await client.get(page)
        assert (response.status_code, response.headers["location"]) == (302, f"/login?next={page}")

    await juror_logged_in(client)
    assert [(await client.get(page)).status_code for page in pages] == [403, 403]
    posts: list[tuple[str, dict[str, str | list[str]]]] = [
        (f"/staff/editions/{setup.edition.id}/laureates/confirmations", {}),
        (f"/staff/laureates/{olena}", texts(name="Someone Else")),
        (f"/staff/laureates/{olena}/confirm", {"note": "x"}),
        (f"/staff/laureates/{olena}/withdraw", {"withdraw_reason": "x", "withdraw_confirm": "1"}),
    ]
    assert [(await post_form(client, url, data)).status_code for url, data in posts] == [403, 403, 403, 403]
    row = await stored(olena)
    assert (row["name"], row["confirmed_at"]) == ("Olena Kovalenko", None)
    assert await OutboxMail.count().where(OutboxMail.body_text.like("%/laureate-check/%")) == 0


async def test_a_laureate_is_asked_to_check_only_once_their_citation_is_written() -> None:
    setup, _olena, bohdan = await approved_edition()
    record = await laureates.get_record(bohdan)
    await laureates.edit(actor_id=setup.clerk.id, laureate_id=bohdan, data=RecordData(name=record.name))
    before = await OutboxMail.count()

    sent = await laureates.request_confirmations(actor_id=setup.clerk.id, edition_id=setup.edition.id, base_url=BASE)

    mails = await OutboxMail.select(OutboxMail.to_address).where(OutboxMail.id > before)
    assert (sent, [m["to_address"] for m in mails]) == (1, ["olena@example.org"])
    assert (await laureates.get_record(bohdan)).confirmation_sent_at is None
