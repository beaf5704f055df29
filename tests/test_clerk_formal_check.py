"""The formal check through HTTP: list and filters, dossier, decisions, merges, paper, export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from ambassador.db import utcnow
from ambassador.domain import consent, formal_check, nominations
from ambassador.domain.nominations import Upload
from ambassador.enums import NominationState, Role
from ambassador.i18n import TIMEZONE, translate
from ambassador.tables import Attachment, Edition, Nomination, OutboxMail
from tests.clerk_factories import (
    PNG,
    checked_edition,
    citizen_nomination,
    clerk_logged_in,
    deadline_of,
    english,
    juror_logged_in,
    open_edition,
    paper_nomination,
)
from tests.conftest import Client
from tests.factories import make_user
from tests.helpers import cells_of, csrf_token, post_form, row_of

ROW = re.compile(r'<tr data-reference="([^"]+)">')


def references(html: str) -> list[str]:
    return ROW.findall(html)


async def state_of(nomination_id: int) -> str:
    row = await Nomination.select(Nomination.state).where(Nomination.id == nomination_id).first()
    assert row is not None
    return str(row["state"])


async def test_anonymous_is_sent_to_login_and_a_juror_is_refused(client: Client) -> None:
    owner = await make_user("owner@example.org", (Role.CLERK,))
    edition = await open_edition(clerk_id=owner.id)
    nomination_id = await paper_nomination(edition, clerk_id=owner.id, uploads=[Upload("scan.png", PNG)])
    attachment = await Attachment.select(Attachment.id).first()
    assert attachment is not None
    pages = [
        f"/staff/editions/{edition.id}/nominations",
        f"/staff/editions/{edition.id}/nominations/new",
        f"/staff/editions/{edition.id}/nominations.csv",
        f"/staff/nominations/{nomination_id}",
        f"/staff/nominations/{nomination_id}/attachments/{attachment['id']}",
    ]

    for page in pages:
        response = await client.get(page)
        assert (response.status_code, response.headers["location"]) == (302, f"/login?next={page}")

    await juror_logged_in(client)
    assert [(await client.get(page)).status_code for page in pages] == [403] * len(pages)
    for action in ("decision", "shortlist", "consent", "merge", "unmerge"):
        refused = await post_form(
            client, f"/staff/nominations/{nomination_id}/{action}", {"outcome": "accept", "reason": ""}
        )
        assert refused.status_code == 403
    assert await state_of(nomination_id) == "submitted"


async def test_filters_return_exactly_the_matching_nominations(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await open_edition(clerk_id=clerk.id)
    olena = await paper_nomination(edition, clerk_id=clerk.id)
    await paper_nomination(
        edition, clerk_id=clerk.id, nominee_name="OLENA  KOVALENKO", nominee_email="", nominator_name="Piotr Zieliński"
    )
    await paper_nomination(
        edition,
        clerk_id=clerk.id,
        category="A",
        nominee_name="Fundacja Mosty",
        nominee_email="",
        organisation_kind="ngo",
    )
    jan = await citizen_nomination(edition, "citizen-key-00000001", nominee_name="Jan Kowalski", nominee_email="")
    await citizen_nomination(edition, "citizen-key-00000002", nominee_name="Not Confirmed", confirm=False)
    await formal_check.decide(actor_id=clerk.id, nomination_id=olena, accept=True, reason="")
    await formal_check.decide(actor_id=clerk.id, nomination_id=jan, accept=False, reason="Outside Kraków.")
    await consent.record_paper_consent(actor_id=clerk.id, nomination_id=olena, given=True, note="Folder 3")
    base = f"/staff/editions/{edition.id}/nominations"

    async def listed(query: str = "") -> list[str]:
        response = await client.get(f"{base}{query}")
        assert response.status_code == 200
        return references(response.text)

    assert await listed() == ["2025/0001", "2025/0002", "2025/0003", "2025/0004"]
    assert await listed("?state=accepted") == ["2025/0001"]
    assert await listed("?state=rejected") == ["2025/0004"]
    assert await listed("?category=A") == ["2025/0003"]
    assert await listed("?consent=given") == ["2025/0001"]
    assert await listed("?consent=pending&category=B") == ["2025/0002", "2025/0004"]
    assert await listed("?duplicates=1") == ["2025/0001", "2025/0002"]
    assert await listed("?state=submitted&category=B&duplicates=on") == ["2025/0002"]
    # Values that are not in the vocabulary filter nothing and never break the page.
    assert await listed("?state=unconfirmed&category=Z&consent=%3Cb%3E&duplicates=maybe") == [
        "2025/0001",
        "2025/0002",
        "2025/0003",
        "2025/0004",
    ]
    assert await listed("?state=accepted&state=rejected") == ["2025/0004"]  # the last one counts

    page = await client.get(base)
    second = await Nomination.select(Nomination.id).where(Nomination.reference == "2025/0002").first()
    assert second is not None
    assert f'<a href="/staff/nominations/{second["id"]}">2025/0002</a>' in page.text
    assert "consent given" in page.text
    assert "formally rejected" in page.text
    assert "Shown: 4 of 4." in page.text


async def test_the_dossier_shows_texts_escaped_with_localised_criteria(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    edition = await open_edition(clerk_id=clerk.id)
    first, second = edition.criteria[0].id, edition.criteria[1].id
    assert first is not None and second is not None
    nomination_id = await paper_nomination(
        edition,
        clerk_id=clerk.id,
        descriptions={first: "<script>alert(1)</script>\nSecond line & more", second: '"quoted" text'},
        links="https://example.org/club\nhttp://example.com/a?b=1&c=2",
        nominator_organisation="<img src=x onerror=alert(1)>",
    )

    polish = await client.get(f"/staff/nominations/{nomination_id}")
    english(client)
    page = await client.get(f"/staff/nominations/{nomination_id}")

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert '<p class="prose" lang="en">&lt;script&gt;alert(1)&lt;/script&gt;\nSecond line &amp; more</p>' in page.text
    assert "&#34;quoted&#34; text" in page.text
    assert "<script>" not in page.text
    assert "<img src=x" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert (
        '<a href="https://example.org/club" rel="noopener noreferrer nofollow">https://example.org/club</a>'
        in page.text
    )
    assert '<a href="http://example.com/a?b=1&amp;c=2" rel="noopener noreferrer nofollow">' in page.text
    assert "How long the candidate has worked for intercultural dialogue in Kraków" in page.text
    assert "Okres działalności na rzecz dialogu międzykulturowego w Krakowie" in polish.text
    assert "by Celina Clerk" in page.text


async def test_reject_needs_a_reason_which_is_mailed_in_the_nominators_language(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await open_edition(clerk_id=clerk.id)
    nomination_id = await paper_nomination(edition, clerk_id=clerk.id, language="pl")
    url = f"/staff/nominations/{nomination_id}/decision"
    mails_before = await OutboxMail.count()

    missing = await post_form(client, url, {"outcome": "reject", "reason": "  "})
    assert missing.status_code == 400
    assert "Give the reason; it is sent to the nominator." in missing.text
    assert await state_of(nomination_id) == "submitted"
    unknown = await post_form(client, url, {"outcome": "maybe", "reason": "x"})
    assert unknown.status_code == 409
    assert "Choose to accept or to reject." in unknown.text

    rejected = await post_form(client, url, {"outcome": "reject", "reason": "Działalność <poza> Krakowem."})
    assert (rejected.status_code, rejected.headers["location"]) == (302, f"/staff/nominations/{nomination_id}")
    assert await state_of(nomination_id) == "rejected"
    mails = await OutboxMail.select(
        OutboxMail.to_address, OutboxMail.subject, OutboxMail.body_text, OutboxMail.language
    ).order_by(OutboxMail.id)
    assert len(mails) == mails_before + 1
    # The clerk works in English; the nominator chose Polish for the mails.
    subject = translate("pl", "The formal check of your nomination %(reference)s", reference="2025/0001")
    assert (mails[-1]["to_address"], mails[-1]["language"], mails[-1]["subject"]) == ("anna@example.org", "pl", subject)
    assert translate("pl", "Reason: %(reason)s", reason="Działalność <poza> Krakowem.") in mails[-1]["body_text"]
    assert "Działalność <poza> Krakowem." in mails[-1]["body_text"]
    page = await client.get(f"/staff/nominations/{nomination_id}")
    assert "Saved." in page.text
    assert "Działalność &lt;poza&gt; Krakowem." in page.text

    accepted = await post_form(client, url, {"outcome": "accept", "reason": ""})
    assert accepted.status_code == 302
    assert await state_of(nomination_id) == "accepted"


async def test_shortlisting_needs_consent_recorded_on_paper_with_a_note(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await checked_edition(clerk_id=clerk.id)
    nomination_id = await paper_nomination(edition, clerk_id=clerk.id)
    base = f"/staff/nominations/{nomination_id}"
    assert (await post_form(client, f"{base}/decision", {"outcome": "accept", "reason": ""})).status_code == 302

    refused = await post_form(client, f"{base}/shortlist", {})
    assert refused.status_code == 409
    assert "Without the nominee&#39;s consent a nomination cannot be shortlisted." in refused.text
    no_note = await post_form(client, f"{base}/consent", {"answer": "given", "consent_note": ""})
    assert no_note.status_code == 400
    assert "Say where the signed consent is kept." in no_note.text
    given = await post_form(client, f"{base}/consent", {"answer": "given", "consent_note": "Binder 2, page 14"})
    assert given.status_code == 302
    shortlisted = await post_form(client, f"{base}/shortlist", {})

    assert shortlisted.status_code == 302
    view = await nominations.get_nomination(nomination_id)
    assert (view.state, view.consent, view.consent_note) == ("shortlisted", "given", "Binder 2, page 14")
    again = await post_form(client, f"{base}/decision", {"outcome": "reject", "reason": "Late change"})
    assert again.status_code == 409
    assert "This nomination cannot be changed in its current state." in again.text


async def test_merge_keeps_both_nominators_texts_and_undo_restores_the_state(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await open_edition(clerk_id=clerk.id)
    second_criterion = edition.criteria[1].id
    assert second_criterion is not None
    target = await paper_nomination(edition, clerk_id=clerk.id)
    duplicate = await paper_nomination(
        edition,
        clerk_id=clerk.id,
        nominee_email="",
        nominator_name="Piotr Zieliński",
        nominator_email="piotr@example.org",
        descriptions={second_criterion: "Piotr's own <text>."},
        uploads=[Upload("list poparcia.png", PNG)],
    )
    await formal_check.decide(actor_id=clerk.id, nomination_id=duplicate, accept=True, reason="")
    dossier = await client.get(f"/staff/nominations/{target}")
    assert "Merge 2025/0002 into this dossier" in dossier.text
    assert cells_of(row_of(dossier.text, "data-reference", "2025/0002"))[-2] == "same nominee name in the same category"
    client.cookies.set("lang", "pl")
    polish = await client.get(f"/staff/nominations/{target}")
    assert cells_of(row_of(polish.text, "data-reference", "2025/0002"))[-2] == (
        "ta sama nazwa kandydata w tej samej kategorii"
    )
    listing = await client.get(f"/staff/editions/{edition.id}/nominations")
    assert cells_of(row_of(listing.text, "data-reference", "2025/0001"))[-1] == (
        "2025/0002 (ta sama nazwa kandydata w tej samej kategorii)"
    )
    client.cookies.delete("lang")

    merged = await post_form(client, f"/staff/nominations/{target}/merge", {"duplicate_id": str(duplicate)})

    assert (merged.status_code, merged.headers["location"]) == (302, f"/staff/nominations/{target}")
    assert await state_of(duplicate) == "merged"
    listing = await client.get(f"/staff/editions/{edition.id}/nominations?state=merged")
    assert references(listing.text) == ["2025/0002"]
    assert f'<a href="/staff/nominations/{target}">into 2025/0001</a>' in listing.text
    page = await client.get(f"/staff/nominations/{target}")
    assert "Runs a bilingual reading club." in page.text
    assert "Piotr&#39;s own &lt;text&gt;." in page.text
    assert "nominated by Piotr Zieliński" in page.text
    attachment = await Attachment.select(Attachment.id).where(Attachment.nomination == duplicate).first()
    assert attachment is not None
    link = f"/staff/nominations/{duplicate}/attachments/{attachment['id']}"
    assert f'href="{link}"' in page.text
    assert (await client.get(link)).content == PNG
    assert (await client.get(f"/staff/nominations/{target}/attachments/{attachment['id']}")).status_code == 404
    themselves = await post_form(client, f"/staff/nominations/{target}/merge", {"duplicate_id": str(target)})
    assert themselves.status_code == 409
    assert "A nomination cannot be merged into itself." in themselves.text

    undone = await post_form(client, f"/staff/nominations/{duplicate}/unmerge", {})

    assert (undone.status_code, undone.headers["location"]) == (302, f"/staff/nominations/{target}")
    restored = await nominations.get_nomination(duplicate)
    assert (restored.state, restored.merged_into) == (NominationState.ACCEPTED, None)
    after = await client.get(f"/staff/nominations/{target}")
    assert "Piotr&#39;s own &lt;text&gt;." not in after.text
    again = await post_form(client, f"/staff/nominations/{duplicate}/unmerge", {})
    assert again.status_code == 409
    assert "This nomination is not merged." in again.text


async def test_nominations_of_another_edition_cannot_be_merged_or_reached_through_it(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    earlier = await checked_edition(clerk_id=clerk.id, year=2024)
    current = await open_edition(clerk_id=clerk.id, year=2025)
    old = await paper_nomination(earlier, clerk_id=clerk.id, uploads=[Upload("old.png", PNG)])
    new = await paper_nomination(current, clerk_id=clerk.id)
    old_file = await Attachment.select(Attachment.id).where(Attachment.nomination == old).first()
    assert old_file is not None

    refused = await post_form(client, f"/staff/nominations/{new}/merge", {"duplicate_id": str(old)})

    assert refused.status_code == 409
    assert "Only nominations of the same edition and category can be merged." in refused.text
    assert (await state_of(old), await state_of(new)) == ("submitted", "submitted")
    assert (await client.get(f"/staff/nominations/{new}/attachments/{old_file['id']}")).status_code == 404
    assert (await post_form(client, f"/staff/nominations/{new}/merge", {"duplicate_id": "999"})).status_code == 404
    current_list = await client.get(f"/staff/editions/{current.id}/nominations")
    assert references(current_list.text) == ["2025/0001"]


async def test_unknown_and_unconfirmed_nominations_are_404(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    edition = await open_edition(clerk_id=clerk.id)
    unconfirmed = await citizen_nomination(edition, "unconfirmed-key-0001", confirm=False)

    for page in (
        "/staff/editions/999/nominations",
        "/staff/editions/999/nominations/new",
        "/staff/editions/999/nominations.csv",
        "/staff/nominations/999",
        f"/staff/nominations/{unconfirmed}",
        "/staff/nominations/999/attachments/1",
        "/staff/nominations/99999999999999999999",
        f"/staff/nominations/{unconfirmed}/attachments/99999999999999999999",
    ):
        assert (await client.get(page)).status_code == 404, page
    huge = await post_form(client, f"/staff/nominations/{unconfirmed}/merge", {"duplicate_id": "9" * 20})
    assert huge.status_code == 404
    decision = await post_form(client, f"/staff/nominations/{unconfirmed}/decision", {"outcome": "accept"})
    assert decision.status_code == 404
    assert await state_of(unconfirmed) == "unconfirmed"


async def test_attachment_download(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    edition = await open_edition(clerk_id=clerk.id)
    nomination_id = await paper_nomination(edition, clerk_id=clerk.id, uploads=[Upload("zgłoszenie skan.png", PNG)])
    row = await Attachment.select(Attachment.id).first()
    assert row is not None

    response = await client.get(f"/staff/nominations/{nomination_id}/attachments/{row['id']}")

    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"] == "attachment; filename*=UTF-8''zg%C5%82oszenie%20skan.png"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def paper_form(edition_id_criteria: list[int], **changes: str) -> dict[str, str]:
    form = {
        "received_on": "",
        "category": "B",
        "nominee_name": "Mariam Aziz",
        "nominee_email": "mariam@example.org",
        "nominee_phone": "",
        "organisation_kind": "",
        "organisation_website": "",
        "registry_number": "",
        f"description_{edition_id_criteria[0]}": "Prowadzi świetlicę dla dzieci z Afganistanu i Polski.",
        "links": "https://example.org/swietlica",
        "nominator_name": "Zofia Wójcik",
        "nominator_email": "",
        "nominator_phone": "+48 12 345 67 89",
        "nominator_organisation": "",
        "nominator_relation": "sąsiadka",
        "language": "pl",
        "privacy_ack": "1",
    }
    form.update(changes)
    return form


async def test_paper_entry_counts_by_the_postmark_date(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await checked_edition(clerk_id=clerk.id)
    criteria = [c.id for c in edition.criteria if c.id is not None]
    deadline = deadline_of(edition)
    url = f"/staff/editions/{edition.id}/nominations/new"
    assert "The nominator signed the privacy notice" in (await client.get(url)).text
    token = await csrf_token(client)

    late = await client.post(
        url,
        data={**paper_form(criteria, received_on=(deadline + dt.timedelta(days=1)).isoformat()), "_csrf_token": token},
    )
    assert late.status_code == 400
    assert "The date is outside the nomination window." in late.text
    assert 'value="Mariam Aziz"' in late.text
    assert "Prowadzi świetlicę dla dzieci z Afganistanu i Polski." in late.text
    assert await Nomination.count() == 0

    garbled = await client.post(url, data={**paper_form(criteria, received_on="31.12.2025"), "_csrf_token": token})
    assert garbled.status_code == 400
    assert "Enter the date as year, month and day." in garbled.text

    big_scan = PNG + b"\x00" * (2 * 1024 * 1024)
    on_time = await client.post(
        url,
        data={**paper_form(criteria, received_on=deadline.isoformat()), "_csrf_token": token},
        files=[("attachments", ("skan.png", big_scan, "image/png"))],
    )

    assert on_time.status_code == 302
    row = await Nomination.select().first()
    assert row is not None
    assert on_time.headers["location"] == f"/staff/nominations/{row['id']}"
    assert (row["state"], row["entered_by"], row["reference"]) == ("submitted", clerk.id, "2025/0001")
    assert str(row["received_on"]) == deadline.isoformat()
    stored = await Attachment.select(Attachment.size, Attachment.content_type).where(Attachment.nomination == row["id"])
    assert stored == [{"size": len(big_scan), "content_type": "image/png"}]
    page = await client.get(on_time.headers["location"])
    assert "Nomination 2025/0001 entered." in page.text
    assert "by Celina Clerk" in page.text


async def test_closing_at_midnight_makes_the_day_before_the_last_postmark_day(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    today = utcnow().astimezone(TIMEZONE).date()
    midnight = dt.datetime.combine(today - dt.timedelta(days=2), dt.time(0, 0), tzinfo=TIMEZONE)
    edition = await checked_edition(clerk_id=clerk.id, closes_at=midnight)
    criteria = [c.id for c in edition.criteria if c.id is not None]
    url = f"/staff/editions/{edition.id}/nominations/new"

    late = await post_form(client, url, dict(paper_form(criteria, received_on=midnight.date().isoformat())))
    assert late.status_code == 400
    assert "The date is outside the nomination window." in late.text
    day_before = (midnight.date() - dt.timedelta(days=1)).isoformat()
    on_time = await post_form(client, url, dict(paper_form(criteria, received_on=day_before)))
    assert on_time.status_code == 302
    assert await Nomination.count() == 1


async def test_paper_entry_shows_every_problem_and_keeps_the_input(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await open_edition(clerk_id=clerk.id)
    criteria = [c.id for c in edition.criteria if c.id is not None]
    today = utcnow().astimezone(TIMEZONE).date()
    token = await csrf_token(client)

    response = await client.post(
        f"/staff/editions/{edition.id}/nominations/new",
        data={
            **paper_form(
                criteria,
                received_on=today.isoformat(),
                nominee_name="",
                nominee_email="not-an-email",
                links="javascript:alert(1)",
                privacy_ack="",
                nominator_relation="<b>sąsiadka</b>",
            ),
            f"description_{criteria[0]}": "",
            "_csrf_token": token,
        },
        files=[("attachments", ("cv.pdf", b"MZ this is not a pdf", "application/pdf"))],
    )

    assert response.status_code == 400
    for message in (
        "This field is required.",
        "Enter a web address starting with https:// or http://.",
        "Describe the activities for at least one criterion.",
        "Please confirm that you have read the privacy notice.",
        "Attach only PDF, JPEG or PNG files. A file&#39;s content did not match these types.",
    ):
        assert message in response.text, message
    assert 'value="not-an-email"' in response.text
    assert 'value="&lt;b&gt;sąsiadka&lt;/b&gt;"' in response.text
    assert "javascript:alert(1)</textarea>" in response.text
    assert await Nomination.count() == 0


async def test_paper_entry_is_refused_once_the_formal_check_is_over(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await checked_edition(clerk_id=clerk.id)
    await Edition.update({Edition.state: "jury_scoring"}).where(Edition.id == edition.id)
    criteria = [c.id for c in edition.criteria if c.id is not None]

    form_page = await client.get(f"/staff/editions/{edition.id}/nominations/new")
    assert form_page.status_code == 409
    posted = await post_form(
        client,
        f"/staff/editions/{edition.id}/nominations/new",
        dict(paper_form(criteria, received_on=deadline_of(edition).isoformat())),
    )
    assert posted.status_code == 409
    assert "Nominations cannot be entered in this edition&#39;s current state." in posted.text
    assert await Nomination.count() == 0


async def test_csv_export(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    edition = await open_edition(clerk_id=clerk.id)
    await paper_nomination(
        edition,
        clerk_id=clerk.id,
        nominee_name="Łucja Słowińska-Żółć",
        nominator_organisation='=HYPERLINK("http://evil.example")',
    )
    await citizen_nomination(edition, "export-key-000000001", nominee_name="Вікторія Шевченко", nominee_email="")
    await citizen_nomination(edition, "export-key-000000002", nominee_name="Not Confirmed", confirm=False)

    response = await client.get(f"/staff/editions/{edition.id}/nominations.csv")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="nominations-A.D.-2025.csv"'
    assert response.headers["cache-control"] == "no-store"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == list(formal_check.CSV_HEADER)
    assert len(rows) == 3
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [(r["reference"], r["nominee_name"], r["entered_on_paper"]) for r in records] == [
        ("2025/0001", "Łucja Słowińska-Żółć", "yes"),
        ("2025/0002", "Вікторія Шевченко", "no"),
    ]
    assert records[0]["nominator_organisation"] == '\'=HYPERLINK("http://evil.example")'
    assert records[0]["nominator_phone"] == ""


async def test_the_dossier_writes_a_files_size_as_every_page_does(client: Client) -> None:
    """Regression: staff saw "1 kB" (1024-byte units, one decimal) where the nominator saw
    "2 KB" (rounded up) for the same file; both pages now use the one ``filesize`` filter."""
    clerk = await clerk_logged_in(client)
    edition = await open_edition(clerk_id=clerk.id)
    scan = PNG + b"\x00" * (1500 - len(PNG))
    nomination_id = await paper_nomination(edition, clerk_id=clerk.id, uploads=[Upload("scan.png", scan)])
    english(client)

    page = await client.get(f"/staff/nominations/{nomination_id}")

    assert re.findall(r'download>scan\.png</a> <span class="muted">\(([^)]+)\)</span>', page.text) == ["2 kB"]
