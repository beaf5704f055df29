"""Drafts of the nomination form in the domain, on the real database: save, resume, send, expire."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from ambassador import i18n
from ambassador.db import utcnow
from ambassador.domain import audit_verify, drafts, formal_check, held_files, retention, submission
from ambassador.domain.nominations import MAX_DESCRIPTION, MAX_NAME, NominationData, Upload, WindowClosed
from ambassador.errors import InvalidInput, InvalidToken
from ambassador.tables import (
    Attachment,
    AuditEntry,
    Edition,
    HeldFile,
    Nomination,
    NominationDraft,
    OutboxMail,
)
from ambassador.tokens import token_hash
from tests.factories import PDF, make_edition, nomination_data

BASE = "http://testserver.local"
KEY = "draft-key-" + "d" * 20


async def mailed_tokens(to: str) -> list[str]:
    rows = await OutboxMail.select(OutboxMail.body_text).where(OutboxMail.to_address == to).order_by(OutboxMail.id)
    return [m.group(1) for r in rows for m in re.finditer(rf"{BASE}/n/draft/([A-Za-z0-9_-]+)", r["body_text"])]


async def actions() -> list[str]:
    return [r["action"] for r in await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)]


async def draft_actions() -> list[str]:
    return [a for a in await actions() if a.startswith("draft.")]


def partial_data(**changes: object) -> NominationData:
    """What someone has typed by the middle of the form: no category, one text, their email."""
    values: dict[str, object] = {
        "nominee_name": "Olena Kovalenko",
        "nominator_email": "Anna@Example.org ",
        "language": "uk",
    }
    values.update(changes)
    return NominationData(**values)  # type: ignore[arg-type]


async def test_a_draft_needs_only_the_email_and_mails_a_private_link_in_the_form_language() -> None:
    edition = await make_edition()
    first = edition.criteria[0].id
    assert first is not None
    data = partial_data(
        nominee_name=" Olena  Kovalenko ",
        descriptions={first: "Runs a reading club in Podgórze."},
        organisation_kind="ngo",
    )

    saved = await drafts.save(edition=edition, data=data, uploads=[], submission_key=KEY, base_url=BASE)

    assert (saved.created, saved.mailed_to, saved.held, saved.file_problem) == (True, "anna@example.org", [], None)
    [mail] = await OutboxMail.select(OutboxMail.to_address, OutboxMail.subject, OutboxMail.language)
    assert mail == {
        "to_address": "anna@example.org",
        "subject": i18n.translate("uk", "Your draft nomination is saved"),
        "language": "uk",
    }
    assert mail["subject"] != "Your draft nomination is saved"
    [token] = await mailed_tokens("anna@example.org")
    # Only the token's hash is stored; the row holds the cleaned values.
    [row] = await NominationDraft.select(
        NominationDraft.token_hash, NominationDraft.submission_key, NominationDraft.nominator_email
    )
    assert row == {"token_hash": token_hash(token), "submission_key": KEY, "nominator_email": "anna@example.org"}
    assert token not in str(await NominationDraft.select())
    assert await draft_actions() == ["draft.saved"]
    # A draft is not a nomination: no row, no reference number used, nothing for the clerk.
    assert await Nomination.count() == 0
    assert await formal_check.list_nominations(edition.id) == []
    assert await Edition.select(Edition.next_number).where(Edition.id == edition.id).first() == {"next_number": 1}

    draft = await drafts.resume(token)
    assert draft.submission_key == KEY
    assert draft.edition.id == edition.id
    assert draft.data == NominationData(
        nominee_name="Olena Kovalenko",
        nominator_email="anna@example.org",
        descriptions={first: "Runs a reading club in Podgórze."},
        organisation_kind="ngo",
        language="uk",
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"nominator_email": ""}, "nominator_email", "Enter your email: we send the link to your draft there."),
        ({"nominator_email": "anna@"}, "nominator_email", "Enter a valid email address, like name@example.org."),
        ({"nominee_name": "x" * (MAX_NAME + 1)}, "nominee_name", "At most %(limit)d characters."),
    ],
)
async def test_a_draft_without_a_valid_email_or_over_a_limit_saves_nothing(
    changes: dict[str, object], field: str, message: str
) -> None:
    edition = await make_edition()

    with pytest.raises(InvalidInput) as refused:
        await drafts.save(edition=edition, data=partial_data(**changes), uploads=[], submission_key=KEY, base_url=BASE)

    assert refused.value.errors == {field: message}
    assert (await NominationDraft.count(), await OutboxMail.count(), await draft_actions()) == (0, 0, [])


async def test_a_description_over_its_limit_is_refused_like_the_form() -> None:
    edition = await make_edition()
    second = edition.criteria[1].id
    data = partial_data(descriptions={second: "y" * (MAX_DESCRIPTION + 1)})

    with pytest.raises(InvalidInput) as refused:
        await drafts.save(edition=edition, data=data, uploads=[], submission_key=KEY, base_url=BASE)

    assert refused.value.errors == {f"description_{second}": "At most %(limit)d characters."}
    assert await NominationDraft.count() == 0


async def test_saving_again_updates_the_same_draft_and_a_new_email_gets_a_new_link() -> None:
    edition = await make_edition()
    await drafts.save(edition=edition, data=partial_data(), uploads=[], submission_key=KEY, base_url=BASE)
    [first_token] = await mailed_tokens("anna@example.org")

    again = await drafts.save(
        edition=edition,
        data=partial_data(nominee_phone="+48 12 345 67 89"),
        uploads=[],
        submission_key=KEY,
        base_url=BASE,
    )
    assert (again.created, again.mailed_to) == (False, "")
    assert await OutboxMail.count() == 1
    assert (await drafts.resume(first_token)).data.nominee_phone == "+48 12 345 67 89"

    moved = await drafts.save(
        edition=edition,
        data=partial_data(nominator_email="anna.nowak@example.org"),
        uploads=[],
        submission_key=KEY,
        base_url=BASE,
    )
    assert (moved.created, moved.mailed_to, moved.draft_id) == (False, "anna.nowak@example.org", again.draft_id)
    [new_token] = await mailed_tokens("anna.nowak@example.org")
    with pytest.raises(InvalidToken):
        await drafts.resume(first_token)
    assert (await drafts.resume(new_token)).data.nominator_email == "anna.nowak@example.org"
    assert await NominationDraft.count() == 1
    assert await draft_actions() == ["draft.saved", "draft.saved", "draft.saved"]


async def test_the_draft_files_are_held_until_the_window_closes_and_become_the_nominations() -> None:
    edition = await make_edition()
    saved = await drafts.save(
        edition=edition,
        data=partial_data(),
        uploads=[Upload("List polecający.pdf", PDF), Upload("virus.exe", b"MZ not a pdf")],
        submission_key=KEY,
        base_url=BASE,
    )
    # Held until the window closes, not only the form's usual hours.
    assert [(f.filename, f.size, f.expires_at) for f in saved.held] == [
        ("List polecający.pdf", len(PDF), edition.closes_at)
    ]
    assert saved.file_problem == "Attach only PDF, JPEG or PNG files. A file's content did not match these types."
    [token] = await mailed_tokens("anna@example.org")

    draft = await drafts.resume(token)
    assert [f.size for f in await held_files.held(draft.submission_key)] == [len(PDF)]

    complete = nomination_data(edition, nominator_email="anna@example.org", language="uk")
    sent = await submission.submit(
        edition=edition, data=complete, uploads=[], submission_key=draft.submission_key, base_url=BASE
    )

    assert await Attachment.select(Attachment.nomination, Attachment.size) == [
        {"nomination": sent.nomination_id, "size": len(PDF)}
    ]
    assert (await NominationDraft.count(), await HeldFile.count()) == (0, 0)
    with pytest.raises(InvalidToken):
        await drafts.resume(token)
    assert await draft_actions() == ["draft.saved", "draft.sent"]
    assert "nomination.submitted" in await actions()


async def test_a_sent_form_cannot_be_saved_as_a_draft_afterwards() -> None:
    edition = await make_edition()
    await submission.submit(
        edition=edition, data=nomination_data(edition), uploads=[], submission_key=KEY, base_url=BASE
    )

    with pytest.raises(InvalidInput) as refused:
        await drafts.save(edition=edition, data=partial_data(), uploads=[], submission_key=KEY, base_url=BASE)

    assert refused.value.errors == {"form": drafts.ALREADY_SENT}
    assert await NominationDraft.count() == 0


async def test_drafts_expire_with_the_window_and_the_retention_job_erases_them() -> None:
    now = utcnow()
    edition = await make_edition(closes_at=now + dt.timedelta(days=2))
    other = await make_edition(year=2026, open_it=False)
    await drafts.save(
        edition=edition, data=partial_data(), uploads=[Upload("a.pdf", PDF)], submission_key=KEY, base_url=BASE
    )
    [token] = await mailed_tokens("anna@example.org")
    after = edition.closes_at + dt.timedelta(minutes=1)

    with pytest.raises(WindowClosed):
        await drafts.save(
            edition=edition, data=partial_data(), uploads=[], submission_key="x" * 20, base_url=BASE, now=after
        )
    with pytest.raises(InvalidToken):
        await drafts.resume(token, now=after)
    assert await drafts.expired(now) == []

    dry = await retention.run(now=after, dry_run=True)
    assert dry.drafts_erased == 1
    assert (await NominationDraft.count(), await HeldFile.count()) == (1, 1)

    report = await retention.run(now=after)
    assert report.drafts_erased == 1
    assert (await NominationDraft.count(), await HeldFile.count()) == (0, 0)
    assert "draft.expired_erased" in await draft_actions()
    assert other.id != edition.id
    assert (await retention.run(now=after)).drafts_erased == 0
    assert (await audit_verify.verify_chain()).ok


async def test_a_draft_of_an_edition_closed_early_by_its_state_is_expired() -> None:
    edition = await make_edition()
    await drafts.save(edition=edition, data=partial_data(), uploads=[], submission_key=KEY, base_url=BASE)
    [token] = await mailed_tokens("anna@example.org")
    await Edition.update({Edition.state: "formal_check", Edition.open_slot: None}).where(Edition.id == edition.id)

    with pytest.raises(InvalidToken):
        await drafts.resume(token)
    assert [draft_id for draft_id, _ in await drafts.expired()] == [
        r["id"] for r in await NominationDraft.select(NominationDraft.id)
    ]


async def test_an_unknown_or_guessed_link_opens_nothing() -> None:
    edition = await make_edition()
    await drafts.save(edition=edition, data=partial_data(), uploads=[], submission_key=KEY, base_url=BASE)
    [token] = await mailed_tokens("anna@example.org")

    for guess in ("", token[:-1], token_hash(token), KEY):
        with pytest.raises(InvalidToken):
            await drafts.resume(guess)


def test_the_stored_values_survive_only_as_the_form_fields() -> None:
    data = NominationData(
        category="B", nominee_is_minor=True, descriptions={7: "text"}, nominator_email="a@b.org", language="en"
    )
    assert drafts.from_json(drafts.to_json(data)) == data
    # Whatever else a stored row holds is ignored, never trusted.
    assert drafts.from_json({"nominee_name": 5, "descriptions": {"x": "y", "3": "z"}, "language": "xx", "evil": 1}) == (
        NominationData(descriptions={3: "z"}, language="pl")
    )
    assert drafts.from_json("not a dict") == NominationData()


async def test_the_citizen_may_delete_the_draft_by_its_link_even_after_the_close() -> None:
    edition = await make_edition()
    await drafts.save(
        edition=edition, data=partial_data(), uploads=[Upload("a.pdf", PDF)], submission_key=KEY, base_url=BASE
    )
    [token] = await mailed_tokens("anna@example.org")
    await Edition.update({Edition.state: "formal_check", Edition.open_slot: None}).where(Edition.id == edition.id)

    with pytest.raises(InvalidToken):
        await drafts.discard(token[:-1])
    await drafts.discard(token)

    assert (await NominationDraft.count(), await HeldFile.count()) == (0, 0)
    with pytest.raises(InvalidToken):
        await drafts.discard(token)
    assert await draft_actions() == ["draft.saved", "draft.deleted"]
