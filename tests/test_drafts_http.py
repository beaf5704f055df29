"""Drafts of the nomination form over HTTP, as a browser uses them, on the real database and SMTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from ambassador import i18n
from ambassador.settings import Settings
from ambassador.tables import Attachment, AuditEntry, HeldFile, Nomination, NominationDraft, OutboxMail
from ambassador.web.app import create_app
from tests.clerk_factories import clerk_logged_in
from tests.conftest import Client
from tests.factories import PDF, make_edition
from tests.helpers import post_form
from tests.smtp import RecordingHandler, smtp_server
from tests.test_nomination_public import (
    FormPage,
    body,
    deliver,
    mailed_path,
    open_form,
    pdf_file,
    private,
    send_form,
    use_language,
)

DRAFT = "/nominate/draft"
LINK = r"/n/draft/[\w-]{30,}"


@pytest.fixture
def smtp() -> Iterator[tuple[RecordingHandler, str]]:
    with smtp_server() as server:
        yield server


def only_email(form: FormPage, **changes: str | list[str]) -> dict[str, str | list[str]]:
    """What someone has typed by the middle of the form: no category, no consent box yet."""
    values = form.fields(category="", privacy_ack="", nominee_email="", nominee_phone="", links="")
    values.update({form.descriptions[2]: "", form.descriptions[0]: "Runs a reading club in Podgórze."})
    values.update(changes)
    return values


async def test_the_form_offers_save_as_draft_without_the_browsers_required_checks(client: Client) -> None:
    use_language(client, "en")
    await make_edition()

    page = await client.get("/en/nominate")

    button = re.search(r"<button[^>]*formaction=\"/nominate/draft\"[^>]*>([^<]*)</button>", page.text)
    assert button is not None
    assert button.group(1) == "Save as draft"
    assert "formnovalidate" in button.group(0)
    # The send button stays the form's first (the one Enter presses).
    assert page.text.index("Send the nomination</button>") < button.start()


@pytest.mark.parametrize("language", ["pl", "uk"])
async def test_a_draft_is_saved_mailed_resumed_elsewhere_and_sent(
    client: Client, settings: Settings, smtp: tuple[RecordingHandler, str], tmp_path: Path, language: str
) -> None:
    handler, smtp_url = smtp
    use_language(client, language)
    edition = await make_edition()
    form = await open_form(client)

    saved = await send_form(client, DRAFT, only_email(form), pdf_file("List polecający.pdf"))

    assert saved.status_code == 200
    assert saved.headers["cache-control"] == "no-store"
    assert 'id="draft-status"' in saved.text
    assert "anna@example.org" in saved.text
    assert ">Runs a reading club in Podgórze.</textarea>" in saved.text
    assert f'name="submission_key" value="{form.submission_key}"' in saved.text
    assert (await Nomination.count(), await NominationDraft.count(), await HeldFile.count()) == (0, 1, 1)

    await deliver(smtp_url, tmp_path)
    [mail] = handler.messages
    assert mail["To"] == "anna@example.org"
    assert mail["Subject"] == i18n.translate(language, "Your draft nomination is saved")
    assert edition.label in body(mail)
    link = mailed_path(handler.messages, "anna@example.org", LINK)

    # Another device: no cookies, and the page in its own language.
    async with AsyncTestClient(app=create_app(settings)) as other:
        other.follow_redirects = False
        use_language(other, "en")
        resumed = await other.get(link)
        assert resumed.status_code == 200
        assert private(resumed)
        # In the language the draft was written in, remembered for what follows.
        assert f'<html lang="{language}">' in resumed.text
        assert other.cookies.get("lang") == language
        saved_on = i18n.translate(
            language, "This is your draft, last saved on %(saved)s (Warsaw time). Send it when it is complete."
        )
        assert saved_on.split("%(saved)s")[0] in resumed.text
        assert ">Runs a reading club in Podgórze.</textarea>" in resumed.text
        assert 'value="Olena Kovalenko"' in resumed.text
        assert 'value="anna@example.org"' in resumed.text
        assert "List polecający.pdf" in resumed.text
        again = FormPage(resumed.text)
        assert again.submission_key == form.submission_key

        # Saving again from there updates the same draft; no second mail.
        updated = await send_form(other, DRAFT, only_email(again, nominee_phone="+48 12 345 67 89"))
        assert updated.status_code == 200
        assert (
            i18n.translate(
                language,
                "Your draft is updated. Continue later with the link we emailed to %(email)s; the link stays the same.",
                email="anna@example.org",
            )
            in updated.text
        )
        assert await NominationDraft.count() == 1
        assert await OutboxMail.count() == 1

        sent = await send_form(other, "/nominate", again.fields(nominee_phone="+48 12 345 67 89"))
        # Sent to the old address, answered in the draft's language (its cookie) at its address.
        assert (sent.status_code, sent.headers["location"]) == (303, f"/{language}/nominate/sent")

    [nomination] = await Nomination.select(
        Nomination.id, Nomination.state, Nomination.nominee_phone, Nomination.language
    )
    assert (nomination["state"], nomination["nominee_phone"], nomination["language"]) == (
        "unconfirmed",
        "+48 12 345 67 89",
        language,
    )
    assert await Attachment.select(Attachment.nomination, Attachment.filename, Attachment.size) == [
        {"nomination": nomination["id"], "filename": "List polecający.pdf", "size": len(PDF)}
    ]
    assert (await NominationDraft.count(), await HeldFile.count()) == (0, 0)
    gone = await client.get(link)
    assert gone.status_code == 404
    assert private(gone)


async def test_a_draft_without_an_email_says_why_and_keeps_what_was_typed(client: Client) -> None:
    use_language(client, "en")
    await make_edition()
    form = await open_form(client)

    refused = await send_form(client, DRAFT, only_email(form, nominator_email=""))

    assert refused.status_code == 400
    assert "Enter your email: we send the link to your draft there." in refused.text
    assert 'href="#f-nominator_email"' in refused.text
    assert "Runs a reading club in Podgórze." in refused.text
    assert (await NominationDraft.count(), await OutboxMail.count()) == (0, 0)


async def test_a_draft_has_the_forms_size_limits(client: Client) -> None:
    use_language(client, "en")
    await make_edition()
    form = await open_form(client)

    huge = b"0" * (Settings.nomination_max_body_size + 1)
    over = await send_form(client, DRAFT, only_email(form), pdf_file("huge.pdf", huge))
    assert over.status_code == 413
    long_name = await send_form(client, DRAFT, only_email(form, nominee_name="x" * 201))
    assert long_name.status_code == 400
    assert "At most 200 characters." in long_name.text
    assert await NominationDraft.count() == 0


async def test_drafts_and_nominations_share_the_forms_rate_limit(settings: Settings) -> None:
    await make_edition()
    app = create_app(settings.with_changes(nomination_posts_per_hour=2))
    async with AsyncTestClient(app=app) as limited:
        limited.follow_redirects = False
        page = await open_form(limited)
        statuses = [(await send_form(limited, DRAFT, only_email(page))).status_code for _ in range(2)]
        statuses.append((await send_form(limited, "/nominate", page.fields())).status_code)
    assert statuses == [200, 200, 429]


async def test_the_honeypot_saves_no_draft(client: Client) -> None:
    await make_edition()
    form = await open_form(client)

    bot = await send_form(client, DRAFT, only_email(form, website="https://spam.example"))

    assert (bot.status_code, bot.headers["location"]) == (303, "/nominate")
    assert (await NominationDraft.count(), await OutboxMail.count()) == (0, 0)


async def test_a_draft_after_the_window_closed_is_refused_and_its_link_stops(client: Client) -> None:
    use_language(client, "en")
    edition = await make_edition()
    form = await open_form(client)
    assert (await send_form(client, DRAFT, only_email(form))).status_code == 200
    [mail] = await OutboxMail.select(OutboxMail.body_text)
    found = re.search(rf"http://testserver\.local({LINK})", mail["body_text"])
    assert found is not None

    from ambassador.tables import Edition

    await Edition.update({Edition.state: "formal_check", Edition.open_slot: None}).where(Edition.id == edition.id)

    late = await send_form(client, DRAFT, only_email(form))
    assert late.status_code == 409
    expired = await client.get(found.group(1))
    assert expired.status_code == 404
    assert "the draft was erased because nominations have closed" in expired.text


async def test_drafts_are_not_nominations_the_clerk_sees_none(client: Client) -> None:
    use_language(client, "en")
    edition = await make_edition()
    form = await open_form(client)
    assert (await send_form(client, DRAFT, only_email(form), pdf_file())).status_code == 200
    assert await NominationDraft.count() == 1

    await clerk_logged_in(client, "clerk.drafts@example.org")
    listed = await client.get(f"/staff/editions/{edition.id}/nominations")
    exported = await client.get(f"/staff/editions/{edition.id}/nominations.csv")
    dashboard = await client.get("/staff")

    assert (listed.status_code, exported.status_code, dashboard.status_code) == (200, 200, 200)
    for page in (listed.text, exported.text, dashboard.text):
        assert "Olena Kovalenko" not in page
        assert "anna@example.org" not in page
    assert exported.text.count("\n") == 1  # the header line only
    # The audit log says a draft was saved, without the personal data in it.
    [entry] = await AuditEntry.select(AuditEntry.action, AuditEntry.data).where(AuditEntry.action == "draft.saved")
    assert "anna@example.org" not in str(entry["data"])
    assert "Olena" not in str(entry["data"])


async def test_the_citizen_deletes_a_draft_with_its_files_by_its_link(client: Client) -> None:
    use_language(client, "en")
    await make_edition()
    form = await open_form(client)
    assert (
        await send_form(client, DRAFT, only_email(form, nominator_email="olga@example.org"), pdf_file())
    ).status_code == 200
    [mail] = await OutboxMail.select(OutboxMail.body_text)
    found = re.search(rf"http://testserver\.local({LINK})", mail["body_text"])
    assert found is not None
    link = found.group(1)
    resumed = await client.get(link)
    assert f'action="{link}/delete"' in resumed.text

    forged = await post_form(client, "/n/draft/" + "x" * 43 + "/delete", {})
    assert forged.status_code == 404
    assert (await NominationDraft.count(), await HeldFile.count()) == (1, 1)

    deleted = await post_form(client, f"{link}/delete", {})

    assert deleted.status_code == 200
    assert private(deleted)
    assert "Your draft is deleted" in deleted.text
    assert (await NominationDraft.count(), await HeldFile.count()) == (0, 0)
    assert (await client.get(link)).status_code == 404
    actions = [r["action"] for r in await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)]
    assert actions[-2:] == ["draft.saved", "draft.deleted"]
