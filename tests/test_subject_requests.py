"""People's requests about their data in the domain: find, copy, correct, erase, the register."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import pytest
from pypdf import PdfReader

from ambassador.domain import (
    consent,
    drafts,
    portraits,
    subject_correction,
    subject_erasure,
    subject_export,
    subject_register,
)
from ambassador.domain import subject_requests as requests
from ambassador.domain.editions import EditionView
from ambassador.domain.nominations import Upload
from ambassador.domain.subject_correction import Correction
from ambassador.enums import NominationState, Role
from ambassador.errors import InvalidInput, NotAcknowledged, NotAllowed
from ambassador.i18n import translate
from ambassador.tables import (
    Attachment,
    AuditEntry,
    HeldFile,
    Laureate,
    Nomination,
    NominationDraft,
    NominationToken,
    OutboxMail,
    Portrait,
)
from tests.archive_factories import add_laureate, archive_edition
from tests.clerk_factories import BASE, PNG, citizen_nomination, open_edition, paper_nomination
from tests.factories import PDF, make_user, nomination_data
from tests.portrait_factories import clerk as portrait_clerk
from tests.portrait_factories import described, jpeg, laureate

ANNA = "anna@example.org"
SIMILAR = "anna.nowakowska@example.org"


@dataclass(frozen=True)
class World:
    clerk_id: int
    edition: EditionView
    made: int  # Anna's nomination of Olena (citizen, open edition)
    other: int  # Anna Nowakowska's nomination of Olena Kowalenko (paper, with a file)
    draft: int
    laureate: int
    mails: tuple[int, ...]  # to Anna


async def world() -> World:
    clerk = await make_user("clerk@example.org", (Role.CLERK,), name="Celina Clerk")
    edition = await open_edition(clerk_id=clerk.id)
    made = await citizen_nomination(edition, "key-anna-" + "a" * 20)
    other = await paper_nomination(
        edition,
        clerk_id=clerk.id,
        uploads=[Upload("scan.png", PNG)],
        nominator_name="Anna Nowakowska",
        nominator_email=SIMILAR,
        nominee_name="Olena Kowalenko",
        nominee_email="olena.k@example.org",
    )
    await drafts.save(
        edition=edition,
        data=nomination_data(edition, nominee_name="Ihor Bondar", nominee_email=""),
        uploads=[Upload("letter.pdf", PDF)],
        submission_key="key-draft-" + "d" * 20,
        base_url=BASE,
    )
    draft = await NominationDraft.select(NominationDraft.id).first()
    assert draft is not None
    old = await archive_edition(2018)
    await add_laureate(old, "Olena Kovalenko", citation_pl="Za pracę.")
    laureate = await Laureate.select(Laureate.id).first()
    assert laureate is not None
    mails = await OutboxMail.select(OutboxMail.id).where(OutboxMail.to_address == ANNA).order_by(OutboxMail.id)
    return World(clerk.id, edition, made, other, draft["id"], laureate["id"], tuple(m["id"] for m in mails))


async def actions() -> list[str]:
    rows = await AuditEntry.select(AuditEntry.action).where(AuditEntry.action.like("privacy.%")).order_by(AuditEntry.id)
    return [r["action"] for r in rows]


async def last_entry() -> dict[str, Any]:
    row = await AuditEntry.select().order_by(AuditEntry.id, ascending=False).first().output(load_json=True)
    assert row is not None
    return dict(row)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Enter an email address or a name."),
        ("   ", "Enter an email address or a name."),
        ("a" * 255, "At most %(limit)d characters."),
        ("anna@", "Enter a valid email address, like name@example.org."),
        ("anna@@example.org", "Enter a valid email address, like name@example.org."),
        ("!!! ---", "Enter a name with at least one letter."),
    ],
)
def test_bad_queries_are_refused_with_a_message(raw: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        requests.parse_query(raw)
    assert refused.value.errors == {"query": message}


def test_queries_are_normalised() -> None:
    assert requests.parse_query("  Anna@Example.ORG ") == requests.Query("email", ANNA)
    assert requests.parse_query("OLENA  Kovalénko") == requests.Query("name", "olena kovalenko")


async def test_find_by_email_returns_exactly_the_persons_items_in_any_letter_case() -> None:
    w = await world()

    found = await requests.find(actor_id=w.clerk_id, raw_query="ANNA@example.org")

    assert [i.token for i in found.items] == [
        f"nomination_made:{w.made}",
        f"draft:{w.draft}",
        *(f"mail:{m}" for m in w.mails),
    ]
    assert len(w.mails) >= 1
    made = found.items[0]
    assert (made.edition, made.state, made.can_correct, made.can_erase, made.withdraws, made.refusal) == (
        w.edition.label,
        "submitted",
        True,
        True,
        True,
        "",
    )
    # The similar person's data is not there, nor anywhere in the items' fields.
    assert SIMILAR not in json.dumps([i.fields for i in found.items])


async def test_find_by_name_ignores_case_and_diacritics_and_not_a_similar_name() -> None:
    w = await world()

    found = await requests.find(actor_id=w.clerk_id, raw_query="olena KOVALÉNKO")

    assert [i.token for i in found.items] == [f"nomination_received:{w.made}", f"laureate:{w.laureate}"]
    laureate = found.items[1]
    assert (laureate.can_erase, laureate.refusal) == (False, requests.PUBLIC_RECORD)
    # "Olena Kowalenko" (another person) is not found; nor is the nominator's address shown to the nominee.
    assert "olena.k@example.org" not in json.dumps([i.fields for i in found.items])
    assert ANNA not in json.dumps([i.fields for i in found.items])


async def test_a_find_is_audited_without_the_query_in_clear() -> None:
    w = await world()

    await requests.find(actor_id=w.clerk_id, raw_query=ANNA)
    await requests.find(actor_id=w.clerk_id, raw_query="nobody@example.org")

    entries = (
        await AuditEntry.select(AuditEntry.action, AuditEntry.object_id, AuditEntry.data, AuditEntry.actor)
        .where(AuditEntry.action == requests.FIND)
        .order_by(AuditEntry.id)
        .output(load_json=True)
    )
    assert [(e["actor"], e["data"]["outcome"], e["data"]["query_kind"]) for e in entries] == [
        (w.clerk_id, "found", "email"),
        (w.clerk_id, "nothing", "email"),
    ]
    assert entries[0]["data"]["found"] == {"nomination_made": 1, "draft": 1, "mail": len(w.mails)}
    assert entries[0]["object_id"] == requests.parse_query(ANNA).digest()
    assert "anna" not in json.dumps(entries)
    register = await subject_register.register()
    assert [(r.action, r.outcome, r.items, r.actor) for r in register] == [
        (requests.FIND, "nothing", 0, "Celina Clerk"),
        (requests.FIND, "found", 2 + len(w.mails), "Celina Clerk"),
    ]


async def test_the_json_copy_lists_every_item_with_its_fields() -> None:
    w = await world()

    made = await subject_export.export(actor_id=w.clerk_id, raw_query=ANNA, language="en", fmt="json")

    assert (made.filename, made.media_type) == ("personal-data.json", "application/json")
    copy = json.loads(made.content)
    assert copy["subject"] == {"kind": "email", "value": ANNA}
    assert [(i["kind"], i["id"]) for i in copy["items"]] == [
        ("nomination_made", w.made),
        ("draft", w.draft),
        *(("mail", m) for m in w.mails),
    ]
    nomination = copy["items"][0]["fields"]
    assert (nomination["Nominator"], nomination["Email"], nomination["Nominee"]) == (
        "Anna Nowak",
        ANNA,
        "Olena Kovalenko",
    )
    assert "Email" in nomination and "olena@example.org" not in made.content.decode()
    assert SIMILAR.encode() not in made.content
    entry = await last_entry()
    assert (entry["action"], entry["data"]["format"], entry["data"]["outcome"]) == (
        "privacy.export",
        "json",
        "exported",
    )
    assert entry["data"]["items"] == [i["kind"] + ":" + str(i["id"]) for i in copy["items"]]


@pytest.mark.parametrize("language", ["pl", "en", "uk"])
async def test_the_pdf_copy_is_in_the_chosen_language(language: str) -> None:
    w = await world()

    made = await subject_export.export(actor_id=w.clerk_id, raw_query=ANNA, language=language, fmt="pdf")

    assert made.media_type == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(made.content)).pages)
    assert translate(language, "Personal data held about you") in text
    assert translate(language, "Nomination made") in text
    assert "Anna Nowak" in text and ANNA in text and "Runs a bilingual reading club." in text
    assert "Nowakowska" not in text


async def test_export_refuses_an_unknown_format_or_language() -> None:
    w = await world()
    with pytest.raises(InvalidInput) as refused:
        await subject_export.export(actor_id=w.clerk_id, raw_query=ANNA, language="de", fmt="xls")
    assert refused.value.errors == {"format": "Choose PDF or JSON.", "language": "Choose a language."}
    assert await actions() == []


async def test_correct_changes_only_the_target_and_audits_digests() -> None:
    w = await world()
    before_other = await Nomination.select().where(Nomination.id == w.other).first()

    changed = await subject_correction.correct(
        actor_id=w.clerk_id,
        raw_query=ANNA,
        nomination_id=w.made,
        correction=Correction("nominator", "Anna Nowak-Kowal", "Anna.New@example.org", "+48 600 100 200"),
    )

    assert changed == ["nominator_email", "nominator_name", "nominator_phone"]
    row = (
        await Nomination.select(
            Nomination.nominator_name, Nomination.nominator_email, Nomination.nominator_phone, Nomination.nominee_name
        )
        .where(Nomination.id == w.made)
        .first()
    )
    assert row == {
        "nominator_name": "Anna Nowak-Kowal",
        "nominator_email": "anna.new@example.org",
        "nominator_phone": "+48 600 100 200",
        "nominee_name": "Olena Kovalenko",
    }
    assert await Nomination.select().where(Nomination.id == w.other).first() == before_other
    entry = await last_entry()
    assert (entry["action"], entry["object_id"], entry["data"]["fields"]) == (
        "privacy.correct",
        str(w.made),
        ["nominator_email", "nominator_name", "nominator_phone"],
    )
    assert entry["data"]["before"]["nominator_email"] == requests.subject_digest(ANNA)
    assert "anna" not in json.dumps(entry["data"]).lower()


async def test_correct_the_nominee_refolds_the_key_and_bad_values_are_refused() -> None:
    w = await world()
    with pytest.raises(InvalidInput) as refused:
        await subject_correction.correct(
            actor_id=w.clerk_id,
            raw_query="Olena Kovalenko",
            nomination_id=w.made,
            correction=Correction("nominee", "", "olena@", "abc"),
        )
    assert refused.value.errors == {
        "name": "This field is required.",
        "email": "Enter a valid email address, like name@example.org.",
        "phone": "Enter a phone number with digits only, like +48 12 345 67 89.",
    }
    # Another person's nomination is not corrected through this person's request.
    with pytest.raises(NotAllowed):
        await subject_correction.correct(
            actor_id=w.clerk_id,
            raw_query="Olena Kovalenko",
            nomination_id=w.other,
            correction=Correction("nominee", "Olena K.", "", ""),
        )
    await subject_correction.correct(
        actor_id=w.clerk_id,
        raw_query="Olena Kovalenko",
        nomination_id=w.made,
        correction=Correction("nominee", "Olena Kovalenko-Bilyk", "olena@example.org", ""),
    )
    row = (
        await Nomination.select(Nomination.nominee_name, Nomination.nominee_key).where(Nomination.id == w.made).first()
    )
    assert row == {"nominee_name": "Olena Kovalenko-Bilyk", "nominee_key": "olena kovalenko bilyk"}
    assert await actions() == ["privacy.correct"]


async def test_erase_asks_for_confirmation_then_blanks_withdraws_and_deletes_files() -> None:
    w = await world()
    query = "Anna Nowakowska"
    found = await requests.collect(requests.parse_query(query))
    assert [i.token for i in found.items] == [f"nomination_made:{w.other}"]
    tokens = [f"nomination_made:{w.other}"]

    with pytest.raises(NotAcknowledged):
        await subject_erasure.erase(actor_id=w.clerk_id, raw_query=query, tokens=tokens, confirmed=False)
    assert (await Attachment.count(), await actions()) == (1, [])

    planned = await subject_erasure.erase(actor_id=w.clerk_id, raw_query=query, tokens=tokens, confirmed=True)

    assert [(p.item.token, p.outcome) for p in planned] == [(f"nomination_made:{w.other}", "withdraw")]
    row = (
        await Nomination.select(
            Nomination.state, Nomination.nominator_name, Nomination.nominator_email, Nomination.nominee_name
        )
        .where(Nomination.id == w.other)
        .first()
    )
    assert row == {"state": "withdrawn", "nominator_name": "—", "nominator_email": "", "nominee_name": "—"}
    assert await Attachment.count().where(Attachment.nomination == w.other) == 0
    assert await NominationToken.count().where(NominationToken.nomination == w.other) == 0
    # Anna's own nomination is untouched.
    made = await Nomination.select(Nomination.nominator_name, Nomination.state).where(Nomination.id == w.made).first()
    assert made == {"nominator_name": "Anna Nowak", "state": "submitted"}
    entry = await last_entry()
    assert (entry["action"], entry["data"]["outcome"], entry["data"]["erased"], entry["data"]["withdrawn"]) == (
        "privacy.erase",
        "erased",
        tokens,
        [w.other],
    )
    assert (await requests.collect(requests.parse_query(query))).items == ()


async def test_erase_a_draft_with_its_files_and_the_mails() -> None:
    w = await world()
    tokens = [f"draft:{w.draft}", *(f"mail:{m}" for m in w.mails)]

    planned = await subject_erasure.erase(actor_id=w.clerk_id, raw_query=ANNA, tokens=tokens, confirmed=True)

    assert [p.outcome for p in planned] == ["erase"] * len(tokens)
    assert (await NominationDraft.count(), await HeldFile.count()) == (0, 0)
    assert await OutboxMail.count().where(OutboxMail.to_address == ANNA) == 0
    assert await OutboxMail.count() > 0  # the other person's mails stay
    found = await requests.collect(requests.parse_query(ANNA))
    assert [i.token for i in found.items] == [f"nomination_made:{w.made}"]


async def test_a_laureates_record_is_refused_with_the_reason_recorded() -> None:
    w = await world()
    await Nomination.update({Nomination.state: NominationState.LAUREATE.value}).where(Nomination.id == w.made)
    tokens = [f"laureate:{w.laureate}", f"nomination_received:{w.made}"]

    planned = await subject_erasure.erase(
        actor_id=w.clerk_id, raw_query="Olena Kovalenko", tokens=tokens, confirmed=True
    )

    assert [(p.outcome, p.reason) for p in planned] == [("refuse", requests.PUBLIC_RECORD)] * 2
    assert await Laureate.select(Laureate.name).where(Laureate.id == w.laureate).first() == {"name": "Olena Kovalenko"}
    row = await Nomination.select(Nomination.nominee_name).where(Nomination.id == w.made).first()
    assert row == {"nominee_name": "Olena Kovalenko"}
    entry = await last_entry()
    assert (entry["data"]["outcome"], entry["data"]["erased"], entry["data"]["refused"]) == (
        "refused",
        [],
        [{"item": t, "reason": requests.PUBLIC_RECORD} for t in tokens],
    )
    [latest, *_] = await subject_register.register()
    assert (latest.action, latest.outcome, latest.reasons) == (requests.ERASE, "refused", (requests.PUBLIC_RECORD,))


async def test_erase_refuses_nothing_chosen_and_items_of_someone_else() -> None:
    w = await world()
    with pytest.raises(InvalidInput) as nothing:
        await subject_erasure.erase(actor_id=w.clerk_id, raw_query=ANNA, tokens=[], confirmed=True)
    assert nothing.value.errors == {"items": "Choose at least one item."}
    with pytest.raises(InvalidInput) as foreign:
        await subject_erasure.erase(
            actor_id=w.clerk_id, raw_query=ANNA, tokens=[f"nomination_made:{w.other}"], confirmed=True
        )
    assert foreign.value.errors == {"items": subject_erasure.NOT_FOUND}
    assert (await actions(), await Nomination.count().where(Nomination.erased_at.is_null())) == ([], 2)


async def test_the_consent_and_a_staff_account_are_found_and_refused_where_handled_elsewhere() -> None:
    w = await world()
    await consent.record_paper_consent(actor_id=w.clerk_id, nomination_id=w.made, given=True, note="Folder 3")

    nominee = await requests.find(actor_id=w.clerk_id, raw_query="Olena Kovalenko")
    clerk = await requests.find(actor_id=w.clerk_id, raw_query="celina CLERK")

    assert [(i.token, i.state) for i in nominee.items] == [
        (f"nomination_received:{w.made}", "submitted"),
        (f"consent:{w.made}", "given"),
        (f"laureate:{w.laureate}", "title"),
    ]
    assert [(i.token, i.can_erase) for i in clerk.items] == [(f"account:{w.clerk_id}", False)]
    planned = await subject_erasure.preview(raw_query="celina clerk", tokens=[f"account:{w.clerk_id}"])
    assert [(p.outcome, p.reason) for p in planned] == [("refuse", subject_erasure.NOT_HERE[requests.ACCOUNT])]


async def test_a_laureates_picture_is_found_with_the_record_and_refused_here() -> None:
    clerk = await portrait_clerk("picture.clerk@example.org", name="Piotr Clerk")
    laureate_id, _ = await laureate(2019, "Bohdan Melnyk")
    await portraits.save(
        actor_id=clerk.id, laureate_id=laureate_id, data=described(), upload=Upload("b.jpg", jpeg(1600, 1200))
    )
    portrait = await Portrait.select(Portrait.id).first()
    assert portrait is not None

    found = await requests.find(actor_id=clerk.id, raw_query="bohdan melnyk")

    assert [i.token for i in found.items] == [f"laureate:{laureate_id}", f"portrait:{portrait['id']}"]
    assert dict(found.items[1].fields) == {"Credit": "Jan Kowalski", "Licence": "CC BY 4.0"}
    planned = await subject_erasure.preview(raw_query="bohdan melnyk", tokens=[i.token for i in found.items])
    assert [(p.outcome, p.reason) for p in planned] == [
        ("refuse", requests.PUBLIC_RECORD),
        ("refuse", subject_erasure.NOT_HERE[requests.PORTRAIT]),
    ]
