"""Recording the approving body's decision on the jury's recommendation."""

from __future__ import annotations

import datetime as dt

import pytest

from ambassador.domain import approval, archive, deliberation, editions, laureates, publication
from ambassador.domain.approval import DecisionData, Outcome
from ambassador.domain.nominations import Upload
from ambassador.enums import ApprovingBody, Distinction, EditionState, NominationState
from ambassador.errors import InvalidInput, NotAcknowledged, NotAllowed
from ambassador.tables import AuditEntry, Decision, DecisionItem, Laureate, Nomination, OutboxMail
from tests.deliberation_factories import deliberated, scored_edition
from tests.factories import PDF
from tests.jury_factories import Scoring

TODAY = dt.datetime.now(dt.UTC).date()


async def _recommended(duplicate: dict[str, object] | None = None) -> tuple[Scoring, int, int]:
    """Olena recommended for a title, Bohdan for an honourable mention (category B)."""
    setup = await scored_edition(duplicate=duplicate)
    await deliberated(setup)
    await deliberation.recommend(chair_id=setup.chair.id, edition_id=setup.edition.id)
    listed = {r.nominee_name.split()[0]: r for r in await approval.recommended(setup.edition.id)}
    assert {name: r.distinction for name, r in listed.items()} == {
        "Olena": Distinction.TITLE,
        "Bohdan": Distinction.MENTION,
    }
    return setup, listed["Olena"].nomination_id, listed["Bohdan"].nomination_id


def _data(outcomes: dict[int, Outcome], document: bytes = PDF) -> DecisionData:
    return DecisionData(
        kind=ApprovingBody.COUNCIL_RESOLUTION,
        number="LXXXV/2418/22",
        decided_on=TODAY,
        document=Upload("uchwała.pdf", document),
        outcomes=outcomes,
        votes_for=35,
        votes_against=2,
        votes_abstaining=1,
    )


async def test_a_decision_may_approve_fewer_but_each_difference_needs_a_reason() -> None:
    setup, olena, bohdan = await _recommended()
    clerk = setup.clerk.id
    without_reason = _data({olena: Outcome(Distinction.TITLE), bohdan: Outcome(None)})
    with pytest.raises(InvalidInput) as refused:
        await approval.record_decision(
            acknowledged=True, actor_id=clerk, edition_id=setup.edition.id, data=without_reason
        )
    assert refused.value.errors == {
        f"outcome_{bohdan}": "Give the reason for the difference from the jury's recommendation."
    }
    assert await Decision.count() == 0

    reasoned = _data({olena: Outcome(Distinction.TITLE), bohdan: Outcome(None, "Not approved by the Council.")})
    approved = await approval.record_decision(
        acknowledged=True, actor_id=clerk, edition_id=setup.edition.id, data=reasoned
    )

    assert approved.state == EditionState.APPROVED
    states = {r["id"]: r["state"] for r in await Nomination.select(Nomination.id, Nomination.state)}
    assert (states[olena], states[bohdan]) == (NominationState.APPROVED.value, NominationState.NOT_APPROVED.value)
    items = await DecisionItem.select(
        DecisionItem.nomination, DecisionItem.recommended, DecisionItem.distinction, DecisionItem.reason
    ).order_by(DecisionItem.id)
    assert {r["nomination"]: (r["recommended"], r["distinction"], r["reason"]) for r in items} == {
        olena: ("title", "title", ""),
        bohdan: ("mention", "", "Not approved by the Council."),
    }
    entry = await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id, ascending=False).limit(2)
    assert [e["action"] for e in entry] == ["edition.approved", "decision.recorded"]
    with pytest.raises(NotAllowed):
        await approval.record_decision(acknowledged=True, actor_id=clerk, edition_id=setup.edition.id, data=reasoned)


async def test_a_forged_document_or_too_many_distinctions_change_nothing() -> None:
    setup, olena, bohdan = await _recommended()
    clerk = setup.clerk.id
    forged = _data({olena: Outcome(Distinction.TITLE), bohdan: Outcome(Distinction.MENTION)}, document=b"GIF89a")
    with pytest.raises(InvalidInput) as refused:
        await approval.record_decision(acknowledged=True, actor_id=clerk, edition_id=setup.edition.id, data=forged)
    assert refused.value.errors == {"document": "Attach the signed decision as a PDF file."}
    two_mentions = _data(
        {olena: Outcome(Distinction.MENTION, "The Council chose a mention."), bohdan: Outcome(Distinction.MENTION)}
    )
    with pytest.raises(InvalidInput) as too_many:
        await approval.record_decision(
            acknowledged=True, actor_id=clerk, edition_id=setup.edition.id, data=two_mentions
        )
    assert too_many.value.errors == {"outcomes": "The decision gives more distinctions than the edition has."}
    assert (await Decision.count(), (await editions.get_edition(setup.edition.id)).state) == (
        0,
        EditionState.RECOMMENDED,
    )


async def test_the_decision_comes_after_the_signed_recommendation_and_only_through_it() -> None:
    setup = await scored_edition()
    with pytest.raises(NotAllowed):
        await approval.record_decision(
            acknowledged=True, actor_id=setup.clerk.id, edition_id=setup.edition.id, data=_data({})
        )
    await deliberated(setup)
    await deliberation.recommend(chair_id=setup.chair.id, edition_id=setup.edition.id)
    with pytest.raises(editions.TransitionRefused) as refused:
        await editions.advance(actor_id=setup.clerk.id, edition_id=setup.edition.id, target=EditionState.APPROVED)
    assert refused.value.message == "Record the approving body's decision to take this step."


async def test_publication_waits_for_its_moment_everywhere() -> None:
    setup, olena, bohdan = await _recommended()
    decided = _data({olena: Outcome(Distinction.TITLE), bohdan: Outcome(None, "Not approved by the Council.")})
    await approval.record_decision(
        acknowledged=True, actor_id=setup.clerk.id, edition_id=setup.edition.id, data=decided
    )
    # The record exists from the decision on (for the laureate's check), not yet public.
    assert [r["name"] for r in await Laureate.select(Laureate.name)] == ["Olena Kovalenko"]
    assert await archive.laureate((await Laureate.select(Laureate.slug).first() or {})["slug"]) is None
    gala = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)

    published = await publication.publish(
        actor_id=setup.clerk.id,
        edition_id=setup.edition.id,
        published_at=gala,
        base_url="http://testserver.local",
        acknowledged=True,
    )

    assert published.state == EditionState.PUBLISHED
    assert await archive.editions() == []
    assert (await archive.laureates(archive.Filters())).items == ()
    slug = (await Laureate.select(Laureate.slug).first() or {}).get("slug", "")
    assert await archive.laureate(slug) is None
    held = await OutboxMail.select(OutboxMail.next_attempt_at, OutboxMail.body_text, OutboxMail.language).where(
        OutboxMail.subject.like("%laureate%")
    )
    assert held and all(m["next_attempt_at"] >= gala - dt.timedelta(seconds=1) for m in held)
    # The edition's page at its address in the mail's language.
    assert all(f"http://testserver.local/{m['language']}/editions/2025" in m["body_text"] for m in held)
    after = gala + dt.timedelta(minutes=1)
    assert [e.activity_year for e in await archive.editions(after)] == [2025]
    assert await archive.decision(2025) is None
    assert await archive.decision(2025, now=after) == archive.PublicDecision(
        kind="council_resolution", number="LXXXV/2418/22", decided_on=TODAY
    )
    shown = await archive.laureates(archive.Filters(), now=after)
    assert [(i.name, i.distinction) for i in shown.items] == [("Olena Kovalenko", "title")]
    assert (await archive.laureate(slug, now=after)) is not None
    states = {r["id"]: r["state"] for r in await Nomination.select(Nomination.id, Nomination.state)}
    assert (states[olena], states[bohdan]) == (NominationState.LAUREATE.value, NominationState.NOT_APPROVED.value)


async def test_publishing_only_through_the_publication_step() -> None:
    # Bug: the generic step button published without a moment or mails, and the archive never showed it.
    setup, olena, bohdan = await _recommended()
    decided = _data({olena: Outcome(Distinction.TITLE), bohdan: Outcome(Distinction.MENTION)})
    await approval.record_decision(
        acknowledged=True, actor_id=setup.clerk.id, edition_id=setup.edition.id, data=decided
    )
    with pytest.raises(editions.TransitionRefused) as refused:
        await editions.advance(actor_id=setup.clerk.id, edition_id=setup.edition.id, target=EditionState.PUBLISHED)
    assert refused.value.message == "Set the publication date and time to take this step."
    assert (await editions.get_edition(setup.edition.id)).state == EditionState.APPROVED


async def test_every_nominator_hears_the_result_at_the_publication_moment_as_the_distinction_has_it() -> None:
    seconded: dict[str, object] = {
        "nominator_name": "Zofia Wiśniewska",
        "nominator_email": "zofia@example.org",
        "language": "uk",
    }
    setup, olena, bohdan = await _recommended(duplicate=seconded)
    decided = _data({olena: Outcome(Distinction.TITLE), bohdan: Outcome(Distinction.MENTION)})
    await approval.record_decision(
        acknowledged=True, actor_id=setup.clerk.id, edition_id=setup.edition.id, data=decided
    )
    before = await OutboxMail.count()
    gala = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)

    await publication.publish(
        actor_id=setup.clerk.id,
        edition_id=setup.edition.id,
        published_at=gala,
        base_url="http://testserver.local",
        acknowledged=True,
    )

    mails = await OutboxMail.select(OutboxMail.to_address, OutboxMail.subject, OutboxMail.next_attempt_at).where(
        OutboxMail.id > before
    )
    title = "Krakow Ambassador of Multiculturalism"
    assert sorted((m["to_address"], m["subject"]) for m in mails) == [
        ("adam@example.org", "The results of A.D. 2025 are published"),
        ("anna@example.org", f"Olena Kovalenko is a laureate of the title {title}"),
        ("bohdan@example.org", f"Bohdan Melnyk receives an honourable mention: {title}"),
        ("olena@example.org", f"Olena Kovalenko is a laureate of the title {title}"),
        ("piotr@example.org", f"Bohdan Melnyk receives an honourable mention: {title}"),
        # Her second nomination was merged into Olena's dossier; she wrote it in Ukrainian.
        ("zofia@example.org", "Olena Kovalenko – лауреат звання Краківський амбасадор мультикультурності"),
    ]
    assert all(m["next_attempt_at"] >= gala - dt.timedelta(seconds=1) for m in mails)


async def test_publishing_shows_missing_citations_and_unconfirmed_entries_and_waits_for_the_tick() -> None:
    setup, olena, bohdan = await _recommended()
    decided = _data({olena: Outcome(Distinction.TITLE), bohdan: Outcome(Distinction.MENTION)})
    await approval.record_decision(
        acknowledged=True, actor_id=setup.clerk.id, edition_id=setup.edition.id, data=decided
    )
    ids = {r["name"]: r["id"] for r in await Laureate.select(Laureate.id, Laureate.name)}
    full = laureates.RecordData(
        name="Olena Kovalenko", citation_pl="Za mosty.", citation_en="For bridges.", citation_uk="За мости."
    )
    await laureates.edit(actor_id=setup.clerk.id, laureate_id=ids["Olena Kovalenko"], data=full)
    await laureates.mark_confirmed(actor_id=setup.clerk.id, laureate_id=ids["Olena Kovalenko"], note="By phone")

    found = await publication.warnings(setup.edition.id)

    assert [(str(m), m.params) for m in found] == [
        ("A citation is missing in some language for: %(names)s.", {"names": "Bohdan Melnyk"}),
        ("These laureates have not confirmed their entry: %(names)s.", {"names": "Bohdan Melnyk"}),
    ]
    with pytest.raises(NotAcknowledged):
        await publication.publish(
            actor_id=setup.clerk.id, edition_id=setup.edition.id, published_at=dt.datetime.now(dt.UTC), base_url="x"
        )
    assert (await editions.get_edition(setup.edition.id)).state == EditionState.APPROVED
