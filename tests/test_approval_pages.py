"""The clerk's decision and publication pages through HTTP: the form, its errors, the record, access."""

from __future__ import annotations

import datetime as dt
import html
import re

from httpx import Response

from ambassador.domain import approval, deliberation, editions
from ambassador.enums import EditionState, NominationState
from ambassador.i18n import TIMEZONE
from ambassador.tables import Decision, DecisionItem, Edition, Nomination
from tests import confirm_pages
from tests.conftest import Client
from tests.deliberation_factories import deliberated, logged_in, scored_edition
from tests.factories import PDF
from tests.helpers import csrf_token
from tests.jury_factories import Scoring

TODAY = dt.datetime.now(TIMEZONE).date()
Files = list[tuple[str, tuple[str, bytes, str]]]


async def recommended_edition() -> tuple[Scoring, int, int]:
    """Olena recommended for a title, Bohdan for an honourable mention (category B)."""
    setup = await scored_edition()
    await deliberated(setup)
    await deliberation.recommend(chair_id=setup.chair.id, edition_id=setup.edition.id)
    listed = {r.nominee_name.split()[0]: r.nomination_id for r in await approval.recommended(setup.edition.id)}
    return setup, listed["Olena"], listed["Bohdan"]


def decision_form(olena: int, bohdan: int, **changes: str) -> dict[str, str]:
    """The Council approves Olena's title and not Bohdan's mention, with the reason."""
    form = {
        "kind": "council_resolution",
        "number": "LXXXV/2418/22",
        "decided_on": TODAY.isoformat(),
        "votes_for": "35",
        "votes_against": "2",
        "votes_abstaining": "",
        "not_voting": "Anna Nowak",
        f"outcome_{olena}": "title",
        f"reason_{olena}": "",
        f"outcome_{bohdan}": "none",
        f"reason_{bohdan}": "The Council found the activities too recent.",
    }
    form.update(changes)
    return form


def signed_pdf(name: str = "uchwała LXXXV.pdf", content: bytes = PDF) -> Files:
    return [("document", (name, content, "application/pdf"))]


async def preview_decision(client: Client, edition_id: int, form: dict[str, str], files: Files) -> Response:
    """The form posted: its errors, or the confirmation with what recording it does."""
    data = {**form, "_csrf_token": await csrf_token(client)}
    return await client.post(f"/staff/editions/{edition_id}/decision", data=data, files=files)


def kept(confirmation: str) -> dict[str, str]:
    """The confirmation's hidden fields: the form's values and the document it was shown for."""
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', confirmation)
    }


async def post_decision(
    client: Client, edition_id: int, form: dict[str, str], files: Files, *, acknowledged: bool = True
) -> Response:
    """The form, then (if it has no errors) its confirmation, ticked unless ``acknowledged`` is False."""
    shown = await preview_decision(client, edition_id, form, files)
    if 'name="confirmed"' not in shown.text:
        return shown
    data = {**kept(shown.text), "confirmed": "1", **({"acknowledged": "1"} if acknowledged else {})}
    data["_csrf_token"] = await csrf_token(client)
    return await client.post(f"/staff/editions/{edition_id}/decision", data=data)


async def decided_edition(client: Client) -> tuple[Scoring, int, int]:
    """Recorded through the page by the edition's clerk, who stays logged in."""
    setup, olena, bohdan = await recommended_edition()
    await logged_in(client, setup.clerk)
    response = await post_decision(client, setup.edition.id, decision_form(olena, bohdan), signed_pdf())
    assert response.status_code == 303
    return setup, olena, bohdan


async def test_the_clerk_records_a_decision_approving_fewer_than_recommended(client: Client) -> None:
    setup, olena, bohdan = await recommended_edition()
    await logged_in(client, setup.clerk)
    edition_page = await client.get(f"/staff/editions/{setup.edition.id}")
    assert (
        f'<a href="/staff/editions/{setup.edition.id}/decision">Record the approving body&#39;s decision</a>'
        in edition_page.text
    )
    form_page = await client.get(f"/staff/editions/{setup.edition.id}/decision")
    assert form_page.status_code == 200
    assert '<option value="council_resolution" selected>City Council resolution</option>' in form_page.text
    assert '<option value="mention" selected>honourable mention</option>' in form_page.text
    assert 'enctype="multipart/form-data"' in form_page.text

    response = await post_decision(client, setup.edition.id, decision_form(olena, bohdan), signed_pdf())

    assert (response.status_code, response.headers["location"]) == (303, f"/staff/editions/{setup.edition.id}")
    decision = await Decision.select(
        Decision.kind,
        Decision.number,
        Decision.decided_on,
        Decision.votes_for,
        Decision.votes_against,
        Decision.votes_abstaining,
        Decision.not_voting,
        Decision.document_name,
        Decision.document,
        Decision.recorded_by,
    ).first()
    assert decision == {
        "kind": "council_resolution",
        "number": "LXXXV/2418/22",
        "decided_on": TODAY,
        "votes_for": 35,
        "votes_against": 2,
        "votes_abstaining": None,
        "not_voting": "Anna Nowak",
        "document_name": "uchwała LXXXV.pdf",
        "document": PDF,
        "recorded_by": setup.clerk.id,
    }
    items = await DecisionItem.select(
        DecisionItem.nomination, DecisionItem.recommended, DecisionItem.distinction, DecisionItem.reason
    )
    assert {i["nomination"]: (i["recommended"], i["distinction"], i["reason"]) for i in items} == {
        olena: ("title", "title", ""),
        bohdan: ("mention", "", "The Council found the activities too recent."),
    }
    assert (await editions.get_edition(setup.edition.id)).state == EditionState.APPROVED
    states = {r["id"]: r["state"] for r in await Nomination.select(Nomination.id, Nomination.state)}
    assert (states[olena], states[bohdan]) == (NominationState.APPROVED.value, NominationState.NOT_APPROVED.value)

    after = await client.get(f"/staff/editions/{setup.edition.id}")
    assert "The decision is recorded and the edition is approved." in after.text
    assert f'<a href="/staff/editions/{setup.edition.id}/publication">Publish the laureates</a>' in after.text
    assert f'<a href="/staff/editions/{setup.edition.id}/decision.pdf" download>' in after.text
    record = await client.get(f"/staff/editions/{setup.edition.id}/decision")
    assert record.status_code == 200
    assert f'action="/staff/editions/{setup.edition.id}/decision"' not in record.text
    for shown in (
        "City Council resolution",
        "LXXXV/2418/22",
        "Anna Nowak",
        "The Council found the activities too recent.",
        "not approved",
        "Celina Clerk",
        "Download uchwała LXXXV.pdf",
    ):
        assert shown in record.text


async def test_a_difference_without_a_reason_is_refused_and_nothing_is_stored(client: Client) -> None:
    setup, olena, bohdan = await recommended_edition()
    await logged_in(client, setup.clerk)
    form = decision_form(olena, bohdan, **{f"reason_{bohdan}": "  ", "decided_on": "31.12.2025"})

    response = await post_decision(client, setup.edition.id, form, signed_pdf())

    assert response.status_code == 400
    page = response.text
    assert '<p class="error" id="f-reason_' + str(bohdan) + '-error">' in page
    assert "Give the reason for the difference from the jury&#39;s recommendation." in page
    assert f'aria-describedby="f-reason_{bohdan}-hint f-reason_{bohdan}-error"' in page
    assert '<p class="error" id="f-decided_on-error">Enter the date as year, month and day.</p>' in page
    assert 'value="LXXXV/2418/22"' in page
    assert '<option value="none" selected>not approved</option>' in page
    assert "Choose the file again." in page
    assert (await Decision.count(), await DecisionItem.count()) == (0, 0)
    assert (await editions.get_edition(setup.edition.id)).state == EditionState.RECOMMENDED


async def test_a_signed_decision_must_be_a_pdf(client: Client) -> None:
    setup, olena, bohdan = await recommended_edition()
    await logged_in(client, setup.clerk)

    response = await post_decision(
        client, setup.edition.id, decision_form(olena, bohdan), signed_pdf("uchwała.pdf", b"GIF89a not a pdf")
    )
    missing = await post_decision(
        client, setup.edition.id, decision_form(olena, bohdan), [("document", ("", b"", "application/octet-stream"))]
    )

    assert (response.status_code, missing.status_code) == (400, 400)
    assert '<p class="error" id="f-document-error">Attach the signed decision as a PDF file.</p>' in response.text
    assert 'aria-describedby="f-document-hint f-document-error"' in response.text
    assert "Attach the signed decision as a PDF file." in missing.text
    assert await Decision.count() == 0


async def test_jurors_and_anonymous_visitors_cannot_reach_the_decision_or_publication(client: Client) -> None:
    setup, _, _ = await decided_edition(client)
    base = f"/staff/editions/{setup.edition.id}"
    pages = [f"{base}/decision", f"{base}/decision.pdf", f"{base}/publication"]
    client.cookies.clear()  # a visitor without a session

    for page in pages:
        response = await client.get(page)
        assert (response.status_code, response.headers["location"]) == (302, f"/login?next={page}")

    await logged_in(client, setup.chair)
    assert [(await client.get(page)).status_code for page in pages] == [403, 403, 403]
    publish = await client.post(f"{base}/publication", data={"_csrf_token": await csrf_token(client)})
    assert publish.status_code == 403
    assert (await editions.get_edition(setup.edition.id)).state == EditionState.APPROVED


async def test_the_signed_pdf_downloads_as_a_private_attachment(client: Client) -> None:
    setup, _, _ = await decided_edition(client)

    response = await client.get(f"/staff/editions/{setup.edition.id}/decision.pdf")

    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == "attachment; filename*=UTF-8''uchwa%C5%82a%20LXXXV.pdf"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    missing = await client.get("/staff/editions/999/decision.pdf")
    assert missing.status_code == 404


async def test_a_publication_in_the_future_hides_the_laureates_until_then(client: Client) -> None:
    setup, _, _ = await decided_edition(client)
    base = f"/staff/editions/{setup.edition.id}"
    form_page = await client.get(f"{base}/publication")
    assert form_page.status_code == 200
    assert 'type="date"' in form_page.text and 'type="time"' in form_page.text
    gala = (dt.datetime.now(TIMEZONE) + dt.timedelta(days=3)).replace(hour=18, minute=30, second=0, microsecond=0)

    response = await client.post(
        f"{base}/publication",
        data={
            "published_on": gala.date().isoformat(),
            "published_time": "18:30",
            "acknowledged": "1",
            "_csrf_token": await csrf_token(client),
        },
    )

    assert (response.status_code, response.headers["location"]) == (303, f"{base}/publication")
    edition = await editions.get_edition(setup.edition.id)
    assert (edition.state, edition.published_at) == (EditionState.PUBLISHED, gala)
    page = await client.get(f"{base}/publication")
    assert "The laureates become public on" in page.text
    assert '<a href="/editions/2025">' in page.text
    archive = await client.get("/laureates", follow_redirects=True)
    assert archive.status_code == 200
    assert "Olena Kovalenko" not in archive.text
    assert (await client.get("/editions/2025", follow_redirects=True)).status_code == 404


async def test_a_publication_now_shows_the_laureates_at_once(client: Client) -> None:
    setup, _, _ = await decided_edition(client)
    base = f"/staff/editions/{setup.edition.id}"

    form = {"published_on": "", "published_time": "", "_csrf_token": await csrf_token(client)}
    shown = await client.get(f"{base}/publication")
    unticked = await client.post(f"{base}/publication", data=form)

    # No citation is written yet and nobody confirmed: the clerk is told, and ticks to go on.
    assert "A citation is missing in some language for: Olena Kovalenko." in shown.text
    assert "These laureates have not confirmed their entry: Olena Kovalenko." in shown.text
    assert unticked.status_code == 409
    assert "Read the warnings and tick the box to confirm that you have." in unticked.text
    assert (await editions.get_edition(setup.edition.id)).state == EditionState.APPROVED
    response = await client.post(f"{base}/publication", data={**form, "acknowledged": "1"})

    assert response.status_code == 303
    assert (await editions.get_edition(setup.edition.id)).state == EditionState.PUBLISHED
    page = await client.get(f"{base}/publication")
    assert "The laureates have been public since" in page.text
    archive = await client.get("/laureates", follow_redirects=True)
    assert "Olena Kovalenko" in archive.text
    assert "Bohdan" not in archive.text


async def test_a_bad_publication_moment_is_shown_at_its_field(client: Client) -> None:
    setup, _, _ = await decided_edition(client)
    base = f"/staff/editions/{setup.edition.id}"
    token = await csrf_token(client)

    bad_time = await client.post(
        f"{base}/publication", data={"published_on": TODAY.isoformat(), "published_time": "25:99", "_csrf_token": token}
    )
    too_late = await client.post(
        f"{base}/publication",
        data={
            "published_on": (TODAY + dt.timedelta(days=400)).isoformat(),
            "published_time": "12:00",
            "_csrf_token": token,
        },
    )

    assert (bad_time.status_code, too_late.status_code) == (400, 400)
    assert '<p class="error" id="f-published_time-error">Enter the time as hours and minutes.</p>' in bad_time.text
    assert 'value="25:99"' in bad_time.text
    assert '<p class="error" id="f-published_on-error">Publish within a year from today.</p>' in too_late.text
    row = await Edition.select(Edition.state, Edition.published_at).where(Edition.id == setup.edition.id).first()
    assert row == {"state": "approved", "published_at": None}


async def test_the_pages_say_when_their_step_is_not_yet_possible(client: Client) -> None:
    setup = await scored_edition()
    await logged_in(client, setup.clerk)
    base = f"/staff/editions/{setup.edition.id}"

    decision = await client.get(f"{base}/decision")
    publication = await client.get(f"{base}/publication")
    refused = await client.post(f"{base}/decision", data={"_csrf_token": await csrf_token(client)})

    assert (decision.status_code, publication.status_code, refused.status_code) == (409, 409, 409)
    assert "A decision is recorded once the jury&#39;s recommendation is signed." in decision.text
    assert "Only an approved edition can be published." in publication.text
    assert (await client.get(f"{base}/decision.pdf")).status_code == 404


async def test_the_decision_is_confirmed_with_its_consequences_and_the_document_number_checked(
    client: Client,
) -> None:
    setup, olena, bohdan = await recommended_edition()
    await logged_in(client, setup.clerk)
    other = confirm_pages.decision_pdf("Uchwala nr XII/100/21", "w sprawie budzetu")
    base = f"/staff/editions/{setup.edition.id}/decision"

    shown = await preview_decision(client, setup.edition.id, decision_form(olena, bohdan), signed_pdf(content=other))

    assert shown.status_code == 200
    assert confirm_pages.items(shown.text, "changes") == [
        f"Decision LXXXV/2418/22 of {TODAY.isoformat()} is recorded with its document; "
        "it cannot be changed afterwards.",
        "2025/0002 Bohdan Melnyk: recommended honourable mention, decided: not approved.",
        "2025/0001 Olena Kovalenko: recommended title, decided: title.",
        "The laureates' records are made; nothing is public before the publication, and nobody is mailed.",
    ]
    assert confirm_pages.items(shown.text, "warnings") == [
        "The number LXXXV/2418/22 does not appear in the document's text: check that it is the signed decision."
    ]
    assert 'name="acknowledged"' in shown.text
    assert await Decision.count() == 0  # the confirmation records nothing

    unticked = await client.post(
        base, data={**kept(shown.text), "confirmed": "1", "_csrf_token": await csrf_token(client)}
    )
    assert unticked.status_code == 400
    assert "Read the warnings and tick the box to confirm that you have." in unticked.text
    assert (await Decision.count(), (await editions.get_edition(setup.edition.id)).state) == (
        0,
        EditionState.RECOMMENDED,
    )
    changed = await client.post(base, data={**kept(shown.text), "change": "1", "_csrf_token": await csrf_token(client)})
    assert changed.status_code == 200
    assert 'name="number" type="text" value="LXXXV/2418/22"' in changed.text  # back to the form, values kept

    recorded = await client.post(
        base,
        data={**kept(unticked.text), "confirmed": "1", "acknowledged": "1", "_csrf_token": await csrf_token(client)},
    )

    assert recorded.status_code == 303
    stored = await Decision.select(Decision.document, Decision.number).first()
    assert stored == {"document": other, "number": "LXXXV/2418/22"}  # the document that was checked
    assert (await editions.get_edition(setup.edition.id)).state == EditionState.APPROVED
