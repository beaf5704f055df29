"""The citizen's nomination pages over HTTP, as a browser uses them, on the real database and SMTP."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
from httpx import Response
from litestar.testing import AsyncTestClient

from ambassador import i18n, vocabulary
from ambassador.db import utcnow
from ambassador.domain import outbox
from ambassador.domain.nominations import MAX_ATTACHMENT_BYTES, WindowClosed
from ambassador.errors import InvalidToken
from ambassador.mail import transport_for
from ambassador.settings import Settings
from ambassador.tables import Attachment, Edition, Nomination, OutboxMail
from ambassador.web.app import create_app
from ambassador.web.middleware import ATTACHMENT_CONTENT_SECURITY_POLICY
from tests.conftest import Client
from tests.factories import PDF, make_edition
from tests.helpers import csrf_token, post_form
from tests.smtp import RecordingHandler, smtp_server

BASE = "http://testserver.local"
SENDER = "Ambassador <no-reply@example.org>"
PDF_TYPE = "application/pdf"
Files = list[tuple[str, tuple[str, bytes, str]]]


@pytest.fixture
def smtp() -> Iterator[tuple[RecordingHandler, str]]:
    with smtp_server() as server:
        yield server


def use_language(client: Client, language: str) -> None:
    client.cookies.set("lang", language, domain="testserver.local")


async def deliver(smtp_url: str, tmp_path: Path) -> None:
    await outbox.send_due(transport_for(smtp_url, tmp_path / "mail"), sender=SENDER, lease_seconds=60, max_attempts=3)


def body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def mailed_path(messages: list[Message], to: str, pattern: str) -> str:
    """The path of the last link matching ``pattern`` mailed to ``to``."""
    found = [
        m.group(1)
        for message in messages
        if message["To"] == to
        for m in re.finditer(rf"{re.escape(BASE)}({pattern})", body(message))
    ]
    assert found, f"no {pattern} link mailed to {to}"
    return found[-1]


class FormPage:
    """What a browser keeps from the rendered form: hidden fields and the criteria's field names."""

    def __init__(self, html: str) -> None:
        key = re.search(r'name="submission_key" value="([A-Za-z0-9_-]+)"', html)
        edition = re.search(r'name="edition_id" value="(\d+)"', html)
        assert edition is not None
        self.submission_key = key.group(1) if key else ""  # the edit form has none
        self.edition_id = edition.group(1)
        self.descriptions = re.findall(r'<textarea id="f-(description_\d+)"', html)
        assert len(self.descriptions) == 4

    def fields(self, **changes: str | list[str]) -> dict[str, str | list[str]]:
        values: dict[str, str | list[str]] = {
            "submission_key": self.submission_key,
            "edition_id": self.edition_id,
            "category": "B",
            "nominee_name": "Olena Kovalenko",
            "nominee_email": "olena@example.org",
            "nominee_phone": "+48 12 345 67 89",
            "organisation_kind": "",
            "organisation_website": "",
            "registry_number": "",
            self.descriptions[0]: "Runs a bilingual reading club in Podgórze\r\nfor Ukrainian and Polish children.",
            self.descriptions[2]: "Started the first intercultural choir in Nowa Huta.",
            "links": "https://example.org/club\r\nhttps://example.org/choir",
            "nominator_name": "Anna Nowak",
            "nominator_email": "anna@example.org",
            "nominator_phone": "",
            "nominator_organisation": "Fundacja Przykładowa",
            "nominator_relation": "A neighbour",
            "privacy_ack": "1",
            "website": "",
        }
        values.update(changes)
        return values


async def open_form(client: Client) -> FormPage:
    page = await client.get("/nominate")
    assert page.status_code == 200
    return FormPage(page.text)


async def send_form(
    client: Client, url: str, fields: dict[str, str | list[str]], files: Files | None = None
) -> Response:
    """A multipart post, as the browser sends the form (with the CSRF token from the cookie)."""
    data = {**fields, "_csrf_token": await csrf_token(client)}
    if files is None:
        # Nothing chosen in the file input still makes a multipart body with an empty part.
        files = [("attachments", ("", b"", "application/octet-stream"))]
    return await client.post(url, data=data, files=files)


def pdf_file(name: str = "letter.pdf", content: bytes = PDF) -> Files:
    return [("attachments", (name, content, PDF_TYPE))]


async def confirmed_nomination(client: Client, smtp_url: str, tmp_path: Path, handler: RecordingHandler) -> str:
    """Submit through the form, confirm by the mailed link; the manage link's path."""
    form = await open_form(client)
    assert (await send_form(client, "/nominate", form.fields(), pdf_file())).status_code == 303
    await deliver(smtp_url, tmp_path)
    confirm = mailed_path(handler.messages, "anna@example.org", r"/n/confirm/[\w-]+")
    assert (await post_form(client, confirm, {})).status_code == 200
    await deliver(smtp_url, tmp_path)
    return mailed_path(handler.messages, "anna@example.org", r"/n/[\w-]{30,}")


async def counts() -> tuple[int, int, int]:
    return (await Nomination.count(), await Attachment.count(), await OutboxMail.count())


def private(response: Response) -> bool:
    return (response.headers.get("cache-control"), response.headers.get("referrer-policy")) == (
        "no-store",
        "no-referrer",
    )


# --- the whole path ---------------------------------------------------------------------


async def check_private_view(client: Client, manage: str) -> None:
    """The nominator's link shows everything they sent, and the file as it was uploaded."""
    view = await client.get(manage)
    assert view.status_code == 200
    assert private(view)
    for shown in (
        "2025/0001",
        "Olena Kovalenko",
        "olena@example.org",
        "Fundacja Przykładowa",
        "https://example.org/choir",
    ):
        assert shown in view.text
    assert "Runs a bilingual reading club in Podgórze\nfor Ukrainian and Polish children." in view.text
    assert f'href="{manage}/edit"' in view.text
    [attachment] = await Attachment.select(Attachment.id, Attachment.filename)
    assert attachment["filename"] == "List polecający.pdf"
    # The size as the staff's dossier writes it too (tests/test_clerk_formal_check.py).
    size = re.findall(r"download>List polecający\.pdf</a> <span class=\"muted\">\(([^)]+)\)</span>", view.text)
    ukrainian = '<html lang="uk">' in view.text
    assert size == [f"{len(PDF)} Б" if ukrainian else f"{len(PDF)} B"]

    download = await client.get(f"{manage}/attachments/{attachment['id']}")
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == PDF_TYPE
    assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''List%20polecaj%C4%85cy.pdf"
    assert private(download)
    assert download.headers["content-security-policy"] == ATTACHMENT_CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("language", ["pl", "en", "uk"])
async def test_a_citizen_nominates_confirms_and_opens_the_private_link(
    client: Client, smtp: tuple[RecordingHandler, str], tmp_path: Path, language: str
) -> None:
    handler, smtp_url = smtp
    use_language(client, language)
    edition = await make_edition()

    home = await client.get("/")
    assert home.status_code == 200
    assert edition.name(language) in home.text
    assert 'href="/nominate"' in home.text

    page = await client.get("/nominate")
    assert page.status_code == 200
    assert f'<html lang="{language}">' in page.text
    assert edition.criteria[0].name(language) in page.text
    assert 'enctype="multipart/form-data"' in page.text
    assert page.headers["cache-control"] == "no-store"
    form = FormPage(page.text)

    sent = await send_form(client, "/nominate", form.fields(), pdf_file("List polecający.pdf"))
    assert (sent.status_code, sent.headers["location"]) == (303, "/nominate/sent")
    assert (await client.get("/nominate/sent")).status_code == 200
    rows = await Nomination.select(Nomination.state, Nomination.language, Nomination.reference)
    assert rows == [{"state": "unconfirmed", "language": language, "reference": "2025/0001"}]

    await deliver(smtp_url, tmp_path)
    [confirmation] = handler.messages
    assert confirmation["To"] == "anna@example.org"
    assert confirmation["Subject"] == i18n.translate(language, "Please confirm your nomination")
    confirm = mailed_path(handler.messages, "anna@example.org", r"/n/confirm/[\w-]+")

    # Opening the link (or a mail scanner fetching it) confirms nothing.
    opened = await client.get(confirm)
    assert opened.status_code == 200
    assert f'action="{confirm}"' in opened.text
    assert private(opened)
    assert await Nomination.select(Nomination.state) == [{"state": "unconfirmed"}]

    done = await post_form(client, confirm, {})
    assert done.status_code == 200
    assert "2025/0001" in done.text
    assert await Nomination.select(Nomination.state) == [{"state": "submitted"}]

    await deliver(smtp_url, tmp_path)
    receipt = handler.messages[1]
    assert receipt["To"] == "anna@example.org"
    assert receipt["Subject"] == i18n.translate(
        language, "Your nomination %(reference)s is registered", reference="2025/0001"
    )
    assert "2025/0001" in body(receipt)
    consent_mail = handler.messages[2]
    assert consent_mail["To"] == "olena@example.org"
    assert "/consent/" in body(consent_mail)
    manage = mailed_path(handler.messages, "anna@example.org", r"/n/[\w-]{30,}")

    await check_private_view(client, manage)


async def test_the_home_page_says_when_nominations_open_or_that_none_are_open(client: Client) -> None:
    use_language(client, "en")
    assert "No edition is open for nominations at the moment." in (await client.get("/")).text
    nothing = await client.get("/nominate")
    assert nothing.status_code == 200
    assert "No edition is open for nominations at the moment." in nothing.text

    now = utcnow()
    await make_edition(opens_at=now + dt.timedelta(days=2), closes_at=now + dt.timedelta(days=30))
    home = await client.get("/")
    assert "Nominations open on" in home.text
    assert 'href="/nominate"' not in home.text
    later = await client.get("/nominate")
    assert "Nominations for Ambassador 2025 (A.D. 2025) open on" in later.text
    assert 'name="submission_key"' not in later.text


# --- refusals ---------------------------------------------------------------------------


async def test_the_window_closing_between_form_and_submit_saves_nothing(client: Client) -> None:
    use_language(client, "en")
    edition = await make_edition()
    form = await open_form(client)
    await Edition.update({Edition.closes_at: utcnow() - dt.timedelta(seconds=1)}).where(Edition.id == edition.id)

    late = await send_form(client, "/nominate", form.fields(), pdf_file())

    assert late.status_code == 409
    assert WindowClosed.message in late.text
    assert "Olena Kovalenko" in late.text  # what was typed is shown to keep a copy
    assert 'type="submit"' not in late.text
    # Late and incomplete: the answer is that it is late, not a list of fields to correct.
    incomplete = await send_form(client, "/nominate", form.fields(nominee_name=""))
    assert incomplete.status_code == 409
    assert WindowClosed.message in incomplete.text
    assert "This field is required." not in incomplete.text
    assert await counts() == (0, 0, 0)


async def test_a_remembered_open_edition_never_lets_a_late_nomination_in(settings: Settings) -> None:
    """Each process remembers the form's edition for a moment; the save checks the database."""
    app = create_app(settings.with_changes(edition_cache_seconds=3600.0))
    async with AsyncTestClient(app=app) as client:
        client.follow_redirects = False
        use_language(client, "en")
        edition = await make_edition()
        form = await open_form(client)
        await Edition.update({Edition.closes_at: utcnow() - dt.timedelta(seconds=1)}).where(Edition.id == edition.id)
        remembered = await client.get("/nominate")  # the page still shows the remembered window
        late = await send_form(client, "/nominate", form.fields(), pdf_file())

    assert (remembered.status_code, 'name="submission_key"' in remembered.text) == (200, True)
    assert (late.status_code, WindowClosed.message in late.text) == (409, True)
    assert await counts() == (0, 0, 0)


async def test_the_nominator_cannot_be_the_nominee(client: Client) -> None:
    use_language(client, "en")
    await make_edition()
    form = await open_form(client)
    # The problem is reported on the fields that show it: the two emails, or the two names.
    cases = [
        ({"nominee_email": "ANNA@example.org "}, "email"),
        ({"nominee_email": "", "nominee_name": "JAN  KOWALSKÍ", "nominator_name": "Jan Kowalski"}, "name"),
    ]
    for case, fields in cases:
        refused = await send_form(client, "/nominate", form.fields(**case))
        assert refused.status_code == 400
        assert refused.text.count("You cannot nominate yourself. Someone else must nominate you.") == 4
        marked = re.findall(r'id="f-(\w+)-error"', refused.text)
        assert marked == [f"nominee_{fields}", f"nominator_{fields}"]
    assert await counts() == (0, 0, 0)


async def test_a_forged_pdf_is_refused_next_to_the_file_field(client: Client) -> None:
    use_language(client, "en")
    await make_edition()
    form = await open_form(client)

    refused = await send_form(client, "/nominate", form.fields(), pdf_file("cv.pdf", b"MZ\x90\x00 an exe named cv.pdf"))

    assert refused.status_code == 400
    assert 'id="f-attachments-error"' in refused.text
    assert "Attach only PDF, JPEG or PNG files." in refused.text
    # Only a file that passed its checks is kept; this one is not, and the page lists none.
    assert ("Please choose them again." in refused.text, "kept-files" in refused.text) == (False, False)
    assert 'value="Olena Kovalenko"' in refused.text
    assert f'value="{form.submission_key}"' in refused.text
    assert await counts() == (0, 0, 0)


async def test_a_file_over_10_mb_is_refused_and_a_body_over_the_limit_gets_413(client: Client) -> None:
    use_language(client, "en")
    await make_edition()
    form = await open_form(client)
    eleven_mb = PDF[:-6] + b"0" * (11 * 1024 * 1024) + PDF[-6:]

    too_big = await send_form(client, "/nominate", form.fields(), pdf_file("big.pdf", eleven_mb))
    assert too_big.status_code == 400
    assert "Each file may have at most 10 MB." in too_big.text

    huge = b"0" * (Settings.nomination_max_body_size + 1)
    over = await send_form(client, "/nominate", form.fields(), pdf_file("huge.pdf", huge))
    assert over.status_code == 413
    assert await counts() == (0, 0, 0)

    # Just under the per-file limit is fine: the route takes more than the app's 1 MB.
    nine_mb = PDF[:-6] + b"0" * (MAX_ATTACHMENT_BYTES - 1024) + PDF[-6:]
    accepted = await send_form(client, "/nominate", form.fields(), pdf_file("nine.pdf", nine_mb))
    assert accepted.status_code == 303
    assert await Attachment.select(Attachment.size) == [{"size": len(nine_mb)}]


async def test_a_double_submit_makes_one_nomination(client: Client) -> None:
    await make_edition()
    form = await open_form(client)

    first = await send_form(client, "/nominate", form.fields(), pdf_file())
    second = await send_form(client, "/nominate", form.fields(), pdf_file())

    assert (first.status_code, second.status_code) == (303, 303)
    assert await counts() == (1, 1, 1)


async def test_the_honeypot_answers_like_success_and_keeps_nothing(client: Client) -> None:
    await make_edition()
    form = await open_form(client)

    bot = await send_form(client, "/nominate", form.fields(website="https://spam.example"), pdf_file())

    assert (bot.status_code, bot.headers["location"]) == (303, "/nominate/sent")
    assert await counts() == (0, 0, 0)


async def test_the_form_posts_are_rate_limited_per_address(settings: Settings) -> None:
    app = create_app(settings.with_changes(nomination_posts_per_hour=2))
    async with AsyncTestClient(app=app) as client:
        client.follow_redirects = False
        await make_edition()
        form = await open_form(client)
        statuses = [(await send_form(client, "/nominate", form.fields())).status_code for _ in range(3)]
        # Other pages are not counted.
        assert (await client.get("/nominate")).status_code == 200

    assert statuses == [303, 303, 429]


# --- the links --------------------------------------------------------------------------


async def test_the_confirmation_link_works_once(
    client: Client, smtp: tuple[RecordingHandler, str], tmp_path: Path
) -> None:
    handler, smtp_url = smtp
    use_language(client, "en")
    await make_edition()
    form = await open_form(client)
    await send_form(client, "/nominate", form.fields())
    await deliver(smtp_url, tmp_path)
    confirm = mailed_path(handler.messages, "anna@example.org", r"/n/confirm/[\w-]+")

    assert (await post_form(client, confirm, {})).status_code == 200
    again = await post_form(client, confirm, {})

    assert again.status_code == 404
    assert InvalidToken.message in again.text
    assert private(again)
    assert await OutboxMail.count() == 3  # the confirmation, the receipt, the consent request


async def test_guessed_links_show_nothing(client: Client, smtp: tuple[RecordingHandler, str], tmp_path: Path) -> None:
    handler, smtp_url = smtp
    use_language(client, "en")
    await make_edition()
    manage = await confirmed_nomination(client, smtp_url, tmp_path, handler)
    [attachment] = await Attachment.select(Attachment.id)
    guesses = [
        f"/n/{secrets.token_urlsafe(32)}",
        "/n/2025-0001",
        "/n/1",
        f"/n/{secrets.token_urlsafe(32)}/edit",
        f"/n/{secrets.token_urlsafe(32)}/attachments/{attachment['id']}",
        f"{manage}/attachments/{attachment['id'] + 1}",
        f"/consent/{secrets.token_urlsafe(32)}",
        f"/n/{'x' * 5000}",
    ]
    for guess in guesses:
        response = await client.get(guess)
        assert response.status_code == 404, guess
        assert "Olena" not in response.text
        assert InvalidToken.message in response.text
    assert (await client.get("/n/2025/0001")).status_code == 404
    assert (await client.get(manage)).status_code == 200


async def test_edit_and_withdraw_work_until_the_deadline(
    client: Client, smtp: tuple[RecordingHandler, str], tmp_path: Path
) -> None:
    handler, smtp_url = smtp
    use_language(client, "en")
    edition = await make_edition()
    manage = await confirmed_nomination(client, smtp_url, tmp_path, handler)
    [old_file] = await Attachment.select(Attachment.id)

    editing = await client.get(f"{manage}/edit")
    assert editing.status_code == 200
    assert private(editing)
    assert 'value="Olena Kovalenko"' in editing.text
    assert f'name="remove_attachments" value="{old_file["id"]}"' in editing.text
    assert 'name="nominator_email"' not in editing.text  # fixed as confirmed
    form = FormPage(editing.text)
    fields = form.fields(
        nominee_name="Olena Kovalenko-Nowicka",
        nominator_email="someone.else@example.org",
        category="A",
        remove_attachments=[str(old_file["id"])],
    )
    saved = await send_form(client, f"{manage}/edit", fields, pdf_file("new.pdf"))
    assert (saved.status_code, saved.headers["location"]) == (303, f"{manage}?done=saved")
    row = await Nomination.select(Nomination.nominee_name, Nomination.category, Nomination.nominator_email)
    assert row == [{"nominee_name": "Olena Kovalenko-Nowicka", "category": "B", "nominator_email": "anna@example.org"}]
    assert [a["filename"] for a in await Attachment.select(Attachment.filename)] == ["new.pdf"]
    assert "Your changes are saved." in (await client.get(f"{manage}?done=saved")).text

    unticked = await post_form(client, f"{manage}/withdraw", {})
    assert unticked.status_code == 400
    assert "Tick the box to confirm" in unticked.text

    await Edition.update({Edition.closes_at: utcnow() - dt.timedelta(seconds=1)}).where(Edition.id == edition.id)
    late_edit = await send_form(client, f"{manage}/edit", {**fields, "nominee_name": "Someone Else"})
    assert late_edit.status_code == 409
    assert WindowClosed.message in late_edit.text
    late_withdraw = await post_form(client, f"{manage}/withdraw", {"confirm_withdraw": "1"})
    assert late_withdraw.status_code == 409
    assert (await client.get(f"{manage}/edit")).status_code == 409
    after = await client.get(manage)
    assert f'href="{manage}/edit"' not in after.text
    assert WindowClosed.message in after.text
    assert await Nomination.select(Nomination.nominee_name, Nomination.state) == [
        {"nominee_name": "Olena Kovalenko-Nowicka", "state": "submitted"}
    ]


async def test_the_nominator_withdraws_with_the_confirmation_box(
    client: Client, smtp: tuple[RecordingHandler, str], tmp_path: Path
) -> None:
    handler, smtp_url = smtp
    use_language(client, "en")
    await make_edition()
    manage = await confirmed_nomination(client, smtp_url, tmp_path, handler)

    withdrawn = await post_form(client, f"{manage}/withdraw", {"confirm_withdraw": "1"})

    assert (withdrawn.status_code, withdrawn.headers["location"]) == (303, f"{manage}?done=withdrawn")
    assert await Nomination.select(Nomination.state) == [{"state": "withdrawn"}]
    page = await client.get(withdrawn.headers["location"])
    assert "Your nomination is withdrawn." in page.text
    assert f"{manage}/withdraw" not in page.text


async def test_the_nominee_consents_by_link_without_learning_who_nominated(
    client: Client, smtp: tuple[RecordingHandler, str], tmp_path: Path
) -> None:
    handler, smtp_url = smtp
    use_language(client, "en")
    await make_edition()
    await confirmed_nomination(client, smtp_url, tmp_path, handler)
    consent = mailed_path(handler.messages, "olena@example.org", r"/consent/[\w-]+")

    notice = await client.get(consent)
    assert notice.status_code == 200
    assert private(notice)
    assert "Olena Kovalenko" in notice.text
    for hidden in ("Anna Nowak", "anna@example.org", "Fundacja Przykładowa"):
        assert hidden not in notice.text

    wrong = await post_form(client, consent, {"decision": "maybe"})
    assert wrong.status_code == 400
    given = await post_form(client, consent, {"decision": "given"})
    assert given.status_code == 200
    assert i18n.translate("en", vocabulary.CONSENTS["given"]) in given.text
    assert await Nomination.select(Nomination.consent) == [{"consent": "given"}]

    changed = await post_form(client, consent, {"decision": "refused"})
    assert i18n.translate("en", vocabulary.CONSENTS["refused"]) in changed.text
    assert await Nomination.select(Nomination.consent) == [{"consent": "refused"}]


async def test_a_parent_nominates_their_child_and_answers_as_the_guardian(
    client: Client, smtp: tuple[RecordingHandler, str], tmp_path: Path
) -> None:
    handler, smtp_url = smtp
    use_language(client, "en")
    await make_edition()
    form = await open_form(client)
    # A minor's contact is the guardian's, here the nominator's own address.
    fields = form.fields(nominee_is_minor="1", nominee_name="Maksym Nowak", nominee_email="anna@example.org")
    assert (await send_form(client, "/nominate", fields)).status_code == 303
    await deliver(smtp_url, tmp_path)
    await post_form(client, mailed_path(handler.messages, "anna@example.org", r"/n/confirm/[\w-]+"), {})
    await deliver(smtp_url, tmp_path)

    notice = await client.get(mailed_path(handler.messages, "anna@example.org", r"/consent/[\w-]+"))

    assert "Maksym Nowak, a minor in your care, has been nominated" in notice.text
    assert await Nomination.select(Nomination.nominee_is_minor, Nomination.state) == [
        {"nominee_is_minor": True, "state": "submitted"}
    ]


async def test_an_organisation_is_nominated_with_its_own_fields(
    client: Client, smtp: tuple[RecordingHandler, str], tmp_path: Path
) -> None:
    handler, smtp_url = smtp
    use_language(client, "en")
    await make_edition()
    form = await open_form(client)
    organisation = form.fields(
        category="A",
        nominee_name="Fundacja Dom Kultur",
        nominee_email="biuro@domkultur.example.org",
        nominee_is_minor="1",  # a person-only field, ignored for an organisation
        organisation_website="https://domkultur.example.org",
        registry_number="0000 123-456",
    )

    unchosen = await send_form(client, "/nominate", organisation)
    assert unchosen.status_code == 400
    assert '<a href="#f-organisation_kind">Kind of organisation: Choose the kind of organisation.</a>' in unchosen.text
    assert (await send_form(client, "/nominate", {**organisation, "organisation_kind": "ngo"})).status_code == 303
    await deliver(smtp_url, tmp_path)
    await post_form(client, mailed_path(handler.messages, "anna@example.org", r"/n/confirm/[\w-]+"), {})
    await deliver(smtp_url, tmp_path)
    manage = mailed_path(handler.messages, "anna@example.org", r"/n/[\w-]{30,}")

    view = await client.get(manage)
    kind = i18n.translate("en", vocabulary.ORGANISATION_KINDS["ngo"])
    for shown in (
        "A: organisation",
        kind,
        "https://domkultur.example.org",
        "0000123456",
    ):
        assert shown in view.text
    assert "under 18" not in view.text
    editing = await client.get(f"{manage}/edit")
    # Editing shows only the fields of the nomination's category (A asks for the organisation's).
    assert 'data-categories="A"' in editing.text
    assert 'name="nominee_is_minor"' not in editing.text
    consent = await client.get(mailed_path(handler.messages, "biuro@domkultur.example.org", r"/consent/[\w-]+"))
    assert "Fundacja Dom Kultur" in consent.text
    assert await Nomination.select(Nomination.category, Nomination.nominee_is_minor, Nomination.registry_number) == [
        {"category": "A", "nominee_is_minor": False, "registry_number": "0000123456"}
    ]


# --- hostile input ----------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
HOSTILE = [
    SCRIPT,
    "'; DROP TABLE nomination; --",
    "\u202egnp.exe",
    "🙂👩🏽‍🚀🇺🇦",
    "x" * 100_000,
    "a\x00b",
]
TEXT_FIELDS = [
    "edition_id",
    "category",
    "nominee_name",
    "nominee_email",
    "nominee_phone",
    "nominee_is_minor",
    "organisation_kind",
    "organisation_website",
    "registry_number",
    "links",
    "nominator_name",
    "nominator_email",
    "nominator_phone",
    "nominator_organisation",
    "nominator_relation",
    "privacy_ack",
]


@pytest.mark.parametrize("value", HOSTILE, ids=["script", "sql", "rtl", "emoji", "100kB", "nul"])
async def test_hostile_text_in_every_field_never_breaks_a_page(client: Client, value: str) -> None:
    await make_edition()
    form = await open_form(client)
    fields: dict[str, str | list[str]] = dict.fromkeys([*TEXT_FIELDS, *form.descriptions], value)

    everywhere = await send_form(client, "/nominate", {**fields, "submission_key": form.submission_key})
    as_key = await send_form(client, "/nominate", form.fields(submission_key=value), pdf_file(value[:200] + ".pdf"))

    assert (everywhere.status_code, as_key.status_code) == (400, 400)
    assert 'id="f-nominee_name-error"' in everywhere.text
    assert 'id="f-nominator_email-error"' in everywhere.text
    for page in (everywhere, as_key):
        assert SCRIPT not in page.text
        assert re.search(r'name="submission_key" value="[A-Za-z0-9_-]{16,64}"', page.text) is not None
    assert await counts() == (0, 0, 0)


async def test_hostile_text_that_is_valid_is_stored_and_shown_escaped(
    client: Client, smtp: tuple[RecordingHandler, str], tmp_path: Path
) -> None:
    handler, smtp_url = smtp
    await make_edition()
    form = await open_form(client)
    fields = form.fields(
        nominee_name=f"Olena {SCRIPT} \u202eKovalenko 🙂",
        nominator_organisation="'; DROP TABLE nomination; --",
        nominator_relation=f"{SCRIPT}\x00",
        links="https://example.org/?q=<script>",
        **{form.descriptions[1]: f"{SCRIPT}\n\u202eRTL text 👩🏽‍🚀 '; DROP TABLE nomination; --"},
    )
    links_refused = await send_form(client, "/nominate", fields)
    assert links_refused.status_code == 400  # < and > are not allowed in a web address
    assert SCRIPT not in links_refused.text
    fields["links"] = ""
    assert (await send_form(client, "/nominate", fields, pdf_file(f"{SCRIPT}.pdf"))).status_code == 303
    await deliver(smtp_url, tmp_path)
    confirm = mailed_path(handler.messages, "anna@example.org", r"/n/confirm/[\w-]+")
    assert SCRIPT not in (await post_form(client, confirm, {})).text
    await deliver(smtp_url, tmp_path)
    manage = mailed_path(handler.messages, "anna@example.org", r"/n/[\w-]{30,}")

    pages = [await client.get(manage), await client.get(f"{manage}/edit")]
    pages.append(await client.get(mailed_path(handler.messages, "olena@example.org", r"/consent/[\w-]+")))

    for page in pages:
        assert page.status_code == 200
        assert SCRIPT not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "'; DROP TABLE nomination; --" in (await Nomination.select(Nomination.nominator_organisation))[0].values()
    [stored] = await Nomination.select(Nomination.nominee_name, Nomination.nominator_relation)
    assert stored == {"nominee_name": f"Olena {SCRIPT} Kovalenko 🙂", "nominator_relation": SCRIPT}
    assert await Attachment.select(Attachment.filename) == [{"filename": "script.pdf"}]  # the name after the last "/"


def multipart(*parts: tuple[str, bytes, str]) -> bytes:
    """A hand-made multipart body: (name, value, extra part headers)."""
    chunks = [
        f'--xyz\r\nContent-Disposition: form-data; name="{name}"\r\n{headers}\r\n'.encode() + value + b"\r\n"
        for name, value, headers in parts
    ]
    return b"".join(chunks) + b"--xyz--\r\n"


async def test_a_broken_or_undecodable_body_is_a_client_error(client: Client) -> None:
    await make_edition()
    form = await open_form(client)
    token = (await csrf_token(client)).encode()
    key = ("submission_key", form.submission_key.encode(), "")
    bodies = [
        # Not UTF-8, with the CSRF token in the form (parsed before the page) or in a header.
        multipart(("_csrf_token", token, ""), key, ("nominee_name", b"\xff\xfe\xc3(", "")),
        multipart(key, ("nominee_name", b"\xff\xfe\xc3(", "")),
        multipart(
            ("_csrf_token", token, ""), ("nominee_name", b"Olena", "Content-Type: text/plain; charset=x-nothing\r\n")
        ),
        b'--xyz\r\nContent-Disposition: form-data; name="nominee_name"\r\n\r\nno end',
    ]
    for index, content in enumerate(bodies):
        response = await client.post(
            "/nominate",
            content=content,
            headers={
                "content-type": "multipart/form-data; boundary=xyz",
                "x-csrftoken": token.decode() if index else "",
            },
        )
        assert response.status_code == 400, index
    assert await counts() == (0, 0, 0)
