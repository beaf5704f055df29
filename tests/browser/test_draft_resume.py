"""A citizen saves the form as a draft, follows the mailed link in another browser, and sends it."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import FilePayload, Page, expect

from ambassador.domain import outbox
from ambassador.mail import transport_for
from ambassador.tables import Attachment, Nomination, NominationDraft
from tests.browser.conftest import LOOP, Browsing
from tests.browser.helpers import assert_accessible, mailed_path
from tests.clerk_factories import PNG
from tests.factories import make_edition
from tests.smtp import smtp_server

NOMINATOR = "anna.nowak@example.org"
DESCRIPTION = "Runs a bilingual reading club for children in Podgórze."
SENDER = "Ambassador <no-reply@example.org>"

pytestmark = LOOP


async def test_a_draft_is_saved_resumed_from_its_mail_in_another_browser_and_sent(
    page: Page, browsing: Browsing, tmp_path: Path
) -> None:
    edition = await make_edition(year=2025)
    first_criterion = edition.criteria[0].name_en

    # The first device: half the form, a file, and "Save as draft" (no category, no consent box yet).
    await page.goto("/nominate")
    await page.get_by_label("Name of the person or organisation you nominate").fill("Olena Kovalenko")
    await page.get_by_label(first_criterion).fill(DESCRIPTION)
    await page.get_by_label("Attachments (optional)").set_input_files(
        FilePayload(name="poster.png", mimeType="image/png", buffer=PNG)
    )
    await page.get_by_label("Your email").fill(NOMINATOR)
    await page.get_by_role("button", name="Save as draft").click()

    status = page.locator("#draft-status")
    await expect(status).to_have_attribute("role", "status")
    await expect(status).to_contain_text(f"Your draft is saved. We have emailed a private link to {NOMINATOR}")
    await expect(page.get_by_label(first_criterion)).to_have_value(DESCRIPTION)
    await expect(page.locator("#nomination-form")).to_contain_text("poster.png")
    await assert_accessible(page)
    assert await Nomination.count() == 0

    # The mail goes out through a real SMTP server; its link is followed elsewhere.
    with smtp_server() as (handler, smtp_url):
        await outbox.send_due(
            transport_for(smtp_url, tmp_path / "mail"), sender=SENDER, lease_seconds=60, max_attempts=3
        )
    [mail] = handler.messages
    assert mail["To"] == NOMINATOR
    assert mail["Subject"] == "Your draft nomination is saved"
    text = mail.get_payload(decode=True)
    assert isinstance(text, bytes)
    found = re.search(rf"{re.escape(browsing.base_url)}(/n/draft/[A-Za-z0-9_-]+)", text.decode())
    assert found is not None, text.decode()

    elsewhere = await browsing.new_page()
    await elsewhere.goto(found.group(1))
    await expect(elsewhere.locator("#draft-status")).to_contain_text("This is your draft, last saved on")
    await expect(elsewhere.get_by_label("Name of the person or organisation you nominate")).to_have_value(
        "Olena Kovalenko"
    )
    await expect(elsewhere.get_by_label(first_criterion)).to_have_value(DESCRIPTION)
    await expect(elsewhere.get_by_label("Your email")).to_have_value(NOMINATOR)
    await expect(elsewhere.locator("#nomination-form")).to_contain_text("poster.png")
    await assert_accessible(elsewhere)

    # Finished there and sent: the draft becomes the nomination, file and all.
    await elsewhere.get_by_label("B: individual").check()
    await elsewhere.get_by_label("Your name").fill("Anna Nowak")
    await elsewhere.get_by_label("I have read the information on the processing of personal data.").check()
    await elsewhere.get_by_role("button", name="Send the nomination").click()
    await expect(elsewhere.get_by_role("heading", level=1)).to_have_text("Check your mailbox")

    [nomination] = await Nomination.select(Nomination.id, Nomination.state, Nomination.nominee_name)
    assert (nomination["state"], nomination["nominee_name"]) == ("unconfirmed", "Olena Kovalenko")
    assert await Attachment.select(Attachment.nomination, Attachment.filename) == [
        {"nomination": nomination["id"], "filename": "poster.png"}
    ]
    assert await NominationDraft.count() == 0
    gone = await elsewhere.goto(found.group(1))
    assert gone is not None
    assert gone.status == 404


async def test_a_draft_opened_by_its_link_can_be_deleted(page: Page, browsing: Browsing) -> None:
    await make_edition(year=2025)
    await page.goto("/nominate")
    await page.get_by_label("Your email").fill(NOMINATOR)
    await page.get_by_role("button", name="Save as draft").click()
    await expect(page.locator("#draft-status")).to_contain_text("Your draft is saved.")

    await page.goto(await mailed_path(NOMINATOR, r"/n/draft/[A-Za-z0-9_-]+"))
    await page.get_by_role("button", name="Delete this draft").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Your draft is deleted")
    await assert_accessible(page)
    assert await NominationDraft.count() == 0
