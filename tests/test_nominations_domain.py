"""The nomination rules in the domain, on the real database: every rule of issue 3 once."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest

from ambassador import files
from ambassador.db import utcnow
from ambassador.domain import (
    audit_verify,
    consent,
    editions,
    formal_check,
    nominations,
    nominator_link,
    retention,
    submission,
)
from ambassador.domain.nominations import Upload
from ambassador.enums import ConsentState, EditionState, NominationState, Role
from ambassador.errors import InvalidInput, InvalidToken, NotAllowed
from ambassador.i18n import TIMEZONE
from ambassador.tables import Attachment, AuditEntry, Edition, Nomination, NominationToken, OutboxMail
from ambassador.text import fold
from tests.factories import PDF, make_edition, make_user, nomination_data

BASE = "http://testserver.local"


async def _mail_link(to: str, kind: str) -> str:
    rows = await OutboxMail.select(OutboxMail.body_text).where(OutboxMail.to_address == to).order_by(OutboxMail.id)
    tokens = [m.group(1) for r in rows for m in re.finditer(rf"{BASE}/{kind}/([A-Za-z0-9_-]+)", r["body_text"])]
    assert tokens, f"no {kind} link mailed to {to}"
    return tokens[-1]


async def _submitted(key: str = "k" * 20, **changes: object) -> int:
    edition = await editions.open_edition_now() or await make_edition()
    result = await submission.submit(
        edition=edition,
        data=nomination_data(edition, **changes),
        uploads=[],
        submission_key=key,
        base_url=BASE,
    )
    return result.nomination_id


async def _confirmed(key: str = "k" * 20, **changes: object) -> int:
    nomination_id = await _submitted(key, **changes)
    email = str(changes.get("nominator_email", "anna@example.org"))
    await submission.confirm(token=await _mail_link(email, "n/confirm"), base_url=BASE)
    return nomination_id


def test_fold_ignores_case_and_diacritics() -> None:
    assert fold("Jaśkowiak") == fold("JASKOWIAK") == "jaskowiak"
    assert fold("  Łukasz   Słowiński ") == "lukasz slowinski"
    assert fold("Żółć-Gęś") == "zolc ges"


def test_sniff_decides_by_content_not_name() -> None:
    assert files.sniff(PDF) == files.PDF
    assert files.sniff(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 20) == files.PNG
    assert files.sniff(b"\xff\xd8\xff\xe0" + b"\x00" * 20) == files.JPEG
    assert files.sniff(b"MZ\x90\x00 this is an exe named cv.pdf") is None
    assert files.sniff(b"%PDF-1.4 but never ends") is None
    assert files.safe_filename("../../etc/passwd.pdf", files.PDF) == "passwd.pdf"


async def test_submit_saves_unconfirmed_and_mails_the_confirmation_link() -> None:
    nomination_id = await _submitted()
    row = await Nomination.select().where(Nomination.id == nomination_id).first()
    assert row is not None
    assert (row["state"], row["reference"], row["nominee_key"]) == ("unconfirmed", "2025/0001", "olena kovalenko")
    mails = await OutboxMail.select(OutboxMail.to_address, OutboxMail.subject, OutboxMail.language)
    assert mails == [{"to_address": "anna@example.org", "subject": "Please confirm your nomination", "language": "en"}]


async def test_nominator_may_not_be_the_nominee() -> None:
    edition = await make_edition()
    cases = [
        {"nominee_email": "anna@example.org"},
        {"nominee_name": "ANNA  NOWÁK", "nominee_email": ""},
    ]
    for index, change in enumerate(cases):
        with pytest.raises(InvalidInput) as refused:
            await submission.submit(
                edition=edition,
                data=nomination_data(edition, **change),
                uploads=[],
                submission_key=f"self-nomination-{index:04d}",
                base_url=BASE,
            )
        assert refused.value.errors == {"nominee_name": "You cannot nominate yourself. Someone else must nominate you."}
    assert await Nomination.count() == 0


async def test_an_organisation_may_share_a_name_pattern_with_its_nominator() -> None:
    edition = await make_edition()
    data = nomination_data(edition, category="A", nominee_name="Anna Nowak", organisation_kind="informal_group")
    result = await submission.submit(
        edition=edition, data=data, uploads=[], submission_key="organisation-0001", base_url=BASE
    )
    assert result.reference == "2025/0001"


async def test_window_is_checked_at_the_moment_of_saving() -> None:
    edition = await make_edition()
    later = edition.closes_at + dt.timedelta(seconds=1)
    with pytest.raises(nominations.WindowClosed):
        await submission.submit(
            edition=edition,
            data=nomination_data(edition),
            uploads=[],
            submission_key="late-submission-01",
            base_url=BASE,
            now=later,
        )
    assert (await Nomination.count(), await OutboxMail.count()) == (0, 0)


async def test_an_edition_closed_after_the_form_was_read_takes_nothing() -> None:
    """The form was read against an open edition; the clerk closed it before the save."""
    edition = await make_edition()
    clerk = await make_user("closing@example.org", roles=(Role.CLERK,))
    after_close = edition.closes_at + dt.timedelta(seconds=1)
    await editions.advance(actor_id=clerk.id, edition_id=edition.id, target=EditionState.FORMAL_CHECK, now=after_close)
    entries = await AuditEntry.count()
    with pytest.raises(nominations.WindowClosed):
        await submission.submit(
            edition=edition,  # as read before the clerk's change: still open
            data=nomination_data(edition),
            uploads=[],
            submission_key="closed-meanwhile-01",
            base_url=BASE,
        )
    stored = await Edition.select(Edition.next_number).where(Edition.id == edition.id).first()
    assert (await Nomination.count(), await OutboxMail.count(), await AuditEntry.count()) == (0, 0, entries)
    assert stored == {"next_number": 1}


async def test_forged_and_oversized_files_are_refused_and_nothing_is_stored() -> None:
    edition = await make_edition()
    cases = [
        [Upload("cv.pdf", b"GIF89a pretending to be a PDF")],
        [Upload("big.pdf", PDF + b"0" * nominations.MAX_ATTACHMENT_BYTES)],
        [Upload(f"{i}.pdf", PDF) for i in range(6)],
    ]
    for index, uploads in enumerate(cases):
        with pytest.raises(InvalidInput) as refused:
            await submission.submit(
                edition=edition,
                data=nomination_data(edition),
                uploads=uploads,
                submission_key=f"file-check-{index:06d}",
                base_url=BASE,
            )
        assert list(refused.value.errors) == ["attachments"]
    assert (await Nomination.count(), await Attachment.count()) == (0, 0)


async def test_double_submit_gives_one_nomination() -> None:
    edition = await make_edition()
    data = nomination_data(edition)

    async def send() -> submission.Submitted:
        return await submission.submit(
            edition=edition,
            data=data,
            uploads=[Upload("a.pdf", PDF)],
            submission_key="same-key-1234567",
            base_url=BASE,
        )

    first, second = await asyncio.gather(send(), send())
    assert first.nomination_id == second.nomination_id
    assert sorted([first.repeated, second.repeated]) == [False, True]
    assert (await Nomination.count(), await Attachment.count(), await OutboxMail.count()) == (1, 1, 1)


async def test_a_form_sent_again_after_the_deadline_still_gives_the_first_nomination() -> None:
    edition = await make_edition()
    data = nomination_data(edition)
    first = await submission.submit(
        edition=edition, data=data, uploads=[], submission_key="resent-form-0001", base_url=BASE
    )
    again = await submission.submit(
        edition=edition,
        data=data,
        uploads=[],
        submission_key="resent-form-0001",
        base_url=BASE,
        now=edition.closes_at + dt.timedelta(minutes=5),
    )
    assert (again.nomination_id, again.reference, again.repeated) == (first.nomination_id, first.reference, True)
    assert (await Nomination.count(), await OutboxMail.count()) == (1, 1)


async def test_confirmation_works_once_and_mails_receipt_and_consent_request() -> None:
    nomination_id = await _submitted()
    token = await _mail_link("anna@example.org", "n/confirm")
    confirmed = await submission.confirm(token=token, base_url=BASE)
    assert confirmed.state == NominationState.SUBMITTED
    with pytest.raises(InvalidToken):
        await submission.confirm(token=token, base_url=BASE)
    subjects = await OutboxMail.select(OutboxMail.to_address, OutboxMail.subject).order_by(OutboxMail.id)
    assert subjects[1:] == [
        {"to_address": "anna@example.org", "subject": "Your nomination 2025/0001 is registered"},
        {
            "to_address": "olena@example.org",
            "subject": "A nomination for the Krakow Ambassador of Multiculturalism title",
        },
    ]
    manage = await nominator_link.for_manage_token(await _mail_link("anna@example.org", "n"))
    assert manage.id == nomination_id


async def test_expired_confirmation_link_is_refused_and_the_nomination_erased() -> None:
    nomination_id = await _submitted()
    token = await _mail_link("anna@example.org", "n/confirm")
    later = utcnow() + dt.timedelta(hours=72, seconds=1)
    with pytest.raises(InvalidToken):
        await submission.confirm(token=token, base_url=BASE, now=later)
    assert await nominations.erase_expired_unconfirmed(later) == 1
    assert await Nomination.exists().where(Nomination.id == nomination_id) is False
    assert await NominationToken.count() == 0


async def test_guessed_tokens_open_nothing() -> None:
    await _confirmed()
    for guess in ("2025/0001", "1", "x" * 43, ""):
        with pytest.raises(InvalidToken):
            await nominator_link.for_manage_token(guess)


async def test_edit_and_withdraw_stop_at_the_deadline() -> None:
    nomination_id = await _confirmed()
    token = await _mail_link("anna@example.org", "n")
    edition = await editions.open_edition_now()
    assert edition is not None
    changed = nomination_data(edition, nominee_name="Olena Kovalenko-Nowicka")
    updated = await nominator_link.update_by_nominator(token=token, data=changed, uploads=[], remove_attachments=[])
    assert updated.nominee_name == "Olena Kovalenko-Nowicka"
    after = edition.closes_at + dt.timedelta(minutes=1)
    with pytest.raises(nominations.WindowClosed):
        await nominator_link.update_by_nominator(
            token=token, data=nomination_data(edition), uploads=[], remove_attachments=[], now=after
        )
    with pytest.raises(nominations.WindowClosed):
        await nominator_link.withdraw_by_nominator(token=token, now=after)
    row = await Nomination.select(Nomination.nominee_name, Nomination.state).where(Nomination.id == nomination_id)
    assert row == [{"nominee_name": "Olena Kovalenko-Nowicka", "state": "submitted"}]


async def test_withdraw_before_the_deadline() -> None:
    await _confirmed()
    withdrawn = await nominator_link.withdraw_by_nominator(token=await _mail_link("anna@example.org", "n"))
    assert withdrawn.state == NominationState.WITHDRAWN


async def test_consent_by_link_and_on_paper() -> None:
    nomination_id = await _confirmed()
    assert await consent.answer_consent(token=await _mail_link("olena@example.org", "consent"), given=True) == (
        ConsentState.GIVEN
    )
    clerk = await make_user("paper@example.org")
    with pytest.raises(InvalidInput):
        await consent.record_paper_consent(actor_id=clerk.id, nomination_id=nomination_id, given=False, note=" ")
    refused = await consent.record_paper_consent(
        actor_id=clerk.id, nomination_id=nomination_id, given=False, note="Letter of 3 March, file KAW-7"
    )
    assert (refused.consent, refused.consent_note) == (ConsentState.REFUSED, "Letter of 3 March, file KAW-7")


async def test_shortlisting_requires_consent() -> None:
    nomination_id = await _confirmed()
    clerk = await make_user("shortlist@example.org")
    await formal_check.decide(actor_id=clerk.id, nomination_id=nomination_id, accept=True, reason="")
    with pytest.raises(NotAllowed) as while_open:
        await formal_check.shortlist(actor_id=clerk.id, nomination_id=nomination_id)
    assert while_open.value.message == (
        "Nominations are shortlisted after nominations close, until the jury deliberates."
    )
    edition = await editions.open_edition_now()
    assert edition is not None
    await Edition.update({Edition.closes_at: utcnow() - dt.timedelta(seconds=1)}).where(Edition.id == edition.id)
    await editions.advance(actor_id=clerk.id, edition_id=edition.id, target=EditionState.FORMAL_CHECK)
    with pytest.raises(NotAllowed) as refused:
        await formal_check.shortlist(actor_id=clerk.id, nomination_id=nomination_id)
    assert refused.value.message == "Without the nominee's consent a nomination cannot be shortlisted."
    await consent.answer_consent(token=await _mail_link("olena@example.org", "consent"), given=True)
    shortlisted = await formal_check.shortlist(actor_id=clerk.id, nomination_id=nomination_id)
    assert shortlisted.state == NominationState.SHORTLISTED
    withdrawn_consent = await consent.record_paper_consent(
        actor_id=clerk.id, nomination_id=nomination_id, given=False, note="Letter of withdrawal, file KAW-9"
    )
    assert (withdrawn_consent.state, withdrawn_consent.consent) == (NominationState.ACCEPTED, ConsentState.REFUSED)


async def test_reject_needs_a_reason_and_mails_it_in_the_nominators_language() -> None:
    nomination_id = await _confirmed(language="pl")
    clerk = await make_user("reject@example.org")
    with pytest.raises(InvalidInput):
        await formal_check.decide(actor_id=clerk.id, nomination_id=nomination_id, accept=False, reason="")
    await formal_check.decide(
        actor_id=clerk.id, nomination_id=nomination_id, accept=False, reason="Działalność poza Krakowem."
    )
    mail = await OutboxMail.select(OutboxMail.subject, OutboxMail.body_text).order_by(OutboxMail.id, ascending=False)
    assert mail[0]["subject"] == "Kontrola formalna zgłoszenia 2025/0001"
    assert "Działalność poza Krakowem." in mail[0]["body_text"]


async def test_duplicates_are_found_by_folded_name_registry_or_email() -> None:
    first = await _confirmed("first-key-0000001", nominee_name="Łucja Słowińska", nominee_email="")
    second = await _confirmed(
        "second-key-000001", nominee_name="LUCJA SLOWINSKA", nominee_email="", nominator_email="piotr@example.org"
    )
    third = await _confirmed(
        "third-key-0000001", nominee_name="Someone Else", nominee_email="", nominator_email="ewa@example.org"
    )
    edition = await editions.open_edition_now()
    assert edition is not None
    listed = await formal_check.list_nominations(edition.id, formal_check.Filters(duplicates_only=True))
    assert {item.nomination.id: item.duplicates for item in listed} == {
        first: (formal_check.Duplicate("2025/0002", (formal_check.Match.NAME,)),),
        second: (formal_check.Duplicate("2025/0001", (formal_check.Match.NAME,)),),
    }
    assert third not in {item.nomination.id for item in listed}


async def test_merge_keeps_both_texts_and_can_be_undone() -> None:
    edition = await make_edition()
    first_criterion, second_criterion = edition.criteria[0].id, edition.criteria[1].id
    first = await _confirmed("merge-first-00001")
    second = await _confirmed(
        "merge-second-0001",
        nominator_email="piotr@example.org",
        nominator_name="Piotr Zieliński",
        descriptions={second_criterion: "Second nominator text"},
    )
    clerk = await make_user("merge@example.org")
    await formal_check.decide(actor_id=clerk.id, nomination_id=second, accept=True, reason="")
    await formal_check.merge(actor_id=clerk.id, target_id=first, duplicate_id=second)
    dossier = await formal_check.dossier(first)
    texts = [dossier.nomination.descriptions, *[m.descriptions for m in dossier.merged]]
    assert texts == [{first_criterion: "Runs a bilingual reading club."}, {second_criterion: "Second nominator text"}]
    assert [m.nominator_name for m in dossier.merged] == ["Piotr Zieliński"]
    restored = await formal_check.unmerge(actor_id=clerk.id, nomination_id=second)
    assert (restored.state, restored.merged_into) == (NominationState.ACCEPTED, None)
    actions = [r["action"] for r in await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)]
    assert actions[-2:] == ["nomination.merged", "nomination.unmerged"]


async def test_paper_nomination_counts_by_postmark() -> None:
    edition = await make_edition()
    clerk = await make_user("post@example.org")
    closes = utcnow() - dt.timedelta(minutes=1)
    await Edition.update({Edition.closes_at: closes}).where(Edition.id == edition.id)
    await editions.advance(actor_id=clerk.id, edition_id=edition.id, target=EditionState.FORMAL_CHECK)
    deadline = closes.astimezone(TIMEZONE).date()
    after_close = closes + dt.timedelta(days=2)
    data = nomination_data(edition, nominator_email="")

    async def enter(received_on: dt.date) -> int:
        entered = await formal_check.enter_paper_nomination(
            actor_id=clerk.id,
            edition_id=edition.id,
            data=data,
            uploads=[],
            received_on=received_on,
            base_url=BASE,
            now=after_close,
        )
        return entered.nomination_id

    with pytest.raises(InvalidInput) as late:
        await enter(deadline + dt.timedelta(days=1))
    assert late.value.errors == {"received_on": "The date is outside the nomination window."}
    nomination_id = await enter(deadline)
    row = await Nomination.select(Nomination.state, Nomination.entered_by).where(Nomination.id == nomination_id)
    assert row == [{"state": "submitted", "entered_by": clerk.id}]


async def test_at_most_one_edition_is_open() -> None:
    await make_edition(year=2024)
    second = await make_edition(year=2025, open_it=False)
    clerk = await make_user("open@example.org")
    with pytest.raises(editions.OtherEditionOpen):
        await editions.advance(actor_id=clerk.id, edition_id=second.id, target=EditionState.OPEN)
    assert await Edition.count().where(Edition.state == "open") == 1
    # The database refuses a second open edition even when the domain check is bypassed.
    with pytest.raises(Exception) as refused:
        await Edition.update({Edition.state: "open", Edition.open_slot: 1}).where(Edition.id == second.id)
    assert "unique" in str(refused.value).lower()


async def test_lifecycle_refuses_steps_out_of_order_or_early() -> None:
    edition = await make_edition()
    clerk = await make_user("steps@example.org")
    with pytest.raises(editions.TransitionRefused) as early:
        await editions.advance(actor_id=clerk.id, edition_id=edition.id, target=EditionState.FORMAL_CHECK)
    assert early.value.message == "Nominations can be closed only after the closing time."
    with pytest.raises(editions.TransitionRefused):
        await editions.advance(actor_id=clerk.id, edition_id=edition.id, target=EditionState.PUBLISHED)
    assert (await editions.get_edition(edition.id)).state == EditionState.OPEN


async def test_retention_anonymises_non_laureates_and_keeps_laureates() -> None:
    kept = await _confirmed("retention-keep-01")
    gone = await _confirmed("retention-gone-01", nominator_email="piotr@example.org", nominee_name="Jan Kowalczyk")
    await Attachment(nomination=gone, filename="a.pdf", content_type=files.PDF, size=1, sha256="0", content=PDF).save()
    edition = await editions.open_edition_now()
    assert edition is not None
    await Nomination.update({Nomination.state: "laureate"}).where(Nomination.id == kept)
    await Edition.update({Edition.state: "published", Edition.open_slot: None}).where(Edition.id == edition.id)
    before = await retention.run(now=edition.closes_at + dt.timedelta(days=30))
    assert before.editions == ()
    due = retention.due_at(edition)
    report = await retention.run(now=due + dt.timedelta(days=1))
    assert [(e.label, e.anonymised) for e in report.editions] == [("A.D. 2025", 1)]
    rows = await Nomination.select(Nomination.id, Nomination.nominee_name, Nomination.nominator_email).order_by(
        Nomination.id
    )
    assert rows == [
        {"id": kept, "nominee_name": "Olena Kovalenko", "nominator_email": "anna@example.org"},
        {"id": gone, "nominee_name": "—", "nominator_email": ""},
    ]
    assert await Attachment.count() == 0
    again = await retention.run(now=due + dt.timedelta(days=2))
    assert again.editions == ()
    assert (await audit_verify.verify_chain()).ok


async def test_an_edit_after_the_formal_decision_sends_it_back_to_the_check() -> None:
    nomination_id = await _confirmed()
    clerk = await make_user("recheck@example.org")
    await formal_check.decide(actor_id=clerk.id, nomination_id=nomination_id, accept=True, reason="")
    edition = await editions.open_edition_now()
    assert edition is not None
    token = await _mail_link("anna@example.org", "n")
    unchanged = await nominator_link.update_by_nominator(
        token=token, data=nomination_data(edition), uploads=[], remove_attachments=[]
    )
    assert unchanged.state == NominationState.ACCEPTED
    edited = await nominator_link.update_by_nominator(
        token=token,
        data=nomination_data(edition, links="https://example.org/report"),
        uploads=[],
        remove_attachments=[],
    )
    assert (edited.state, edited.link_list) == (NominationState.SUBMITTED, ["https://example.org/report"])
