"""Bulk actions in the domain: each item through its single-item function, failures named and unchanged.

Every test mixes items that go through with items refused (wrong state, no consent, another
edition's id, a conflicted proposal, an invalid line) and checks the states, the audit entries
and that the refused items did not change.
"""

from __future__ import annotations

import pytest

from ambassador.domain import (
    bulk,
    conflict_declarations,
    conflicts,
    consent,
    deliberation,
    formal_check,
    jury,
    jury_invites,
)
from ambassador.domain.bulk import Failure, Outcome
from ambassador.domain.jury_invites import Action, Line, parse_line, parse_list
from ambassador.enums import Distinction, EditionState, Role, VoteChoice
from ambassador.errors import InvalidInput, NotAllowed
from ambassador.tables import AuditEntry, DetectedConflict, JuryMember, Nomination, User, Vote
from tests.clerk_factories import BASE, checked_edition, paper_nomination
from tests.deliberation_factories import propose, references, scored_edition, vote
from tests.factories import make_user
from tests.jury_admin_factories import last_mail_id, mails_since, put_in_state, shortlisted_nomination
from tests.test_jury_admin import conflicts_scene, detection_id


async def last_audit_id() -> int:
    row = await AuditEntry.select(AuditEntry.id).order_by(AuditEntry.id, ascending=False).first()
    return int(row["id"]) if row else 0


async def audit_since(last_id: int) -> list[tuple[str, str]]:
    rows = (
        await AuditEntry.select(AuditEntry.action, AuditEntry.object_id)
        .where(AuditEntry.id > last_id)
        .order_by(AuditEntry.id)
    )
    return [(str(r["action"]), str(r["object_id"])) for r in rows]


async def states(*ids: int) -> list[str]:
    rows = await Nomination.select(Nomination.id, Nomination.state).where(Nomination.id.is_in(list(ids)))
    found = {r["id"]: r["state"] for r in rows}
    return [found[i] for i in ids]


async def reference_of(nomination_id: int) -> str:
    row = await Nomination.select(Nomination.reference).where(Nomination.id == nomination_id).first()
    assert row is not None
    return str(row["reference"])


# --- the shared helper --------------------------------------------------------------------------


async def test_apply_runs_every_item_and_names_the_refused_ones() -> None:
    seen: list[int] = []

    async def one(item: int) -> None:
        if item % 2:
            raise NotAllowed("Odd.")
        seen.append(item)

    outcome = await bulk.apply([("a", 1), ("b", 2), ("c", 3), ("d", 4)], one)

    assert outcome == Outcome(("b", "d"), (Failure("a", "Odd."), Failure("c", "Odd.")))  # type: ignore[arg-type]
    assert seen == [2, 4]
    invalid = bulk.reason_of(InvalidInput({"reason": "Give the reason."}))
    assert invalid == "Give the reason."
    assert bulk.chosen_ids([3, 1, 3]) == [3, 1]
    with pytest.raises(bulk.NothingChosen):
        bulk.chosen_ids([])
    with pytest.raises(bulk.TooMany):
        bulk.chosen_ids(range(1, bulk.MAX_ITEMS + 2))


async def test_a_fault_that_is_no_refusal_stops_the_run() -> None:
    async def one(item: int) -> None:
        raise RuntimeError(item)

    with pytest.raises(RuntimeError):
        await bulk.apply([("a", 1)], one)


# --- formal check --------------------------------------------------------------------------------


async def test_accept_and_shortlist_selected_nominations() -> None:
    clerk = await make_user("clerk@example.org", (Role.CLERK,))
    edition = await checked_edition(clerk_id=clerk.id)
    other = await checked_edition(clerk_id=clerk.id, year=2024)
    first = await paper_nomination(edition, clerk_id=clerk.id)
    second = await paper_nomination(edition, clerk_id=clerk.id, nominee_name="Bohdan Melnyk", nominee_email="")
    # Already shortlisted: accepting it again is refused.
    rejected = await shortlisted_nomination(edition, clerk_id=clerk.id, nominee_name="Iryna Shevchenko")
    foreign = await paper_nomination(other, clerk_id=clerk.id)
    refs = [await reference_of(n) for n in (first, second, rejected)]
    mark = await last_audit_id()

    accepted = await formal_check.decide_many(
        actor_id=clerk.id, edition_id=edition.id, nomination_ids=[first, rejected, foreign, second], action="accept"
    )

    assert accepted == Outcome(
        (refs[0], refs[1]),
        (
            Failure(refs[2], "This nomination cannot be changed in its current state."),  # type: ignore[arg-type]
            Failure(f"#{foreign}", bulk.NOT_HERE),  # type: ignore[arg-type]
        ),
    )
    assert await states(first, second, rejected, foreign) == ["accepted", "accepted", "shortlisted", "submitted"]
    assert await audit_since(mark) == [("nomination.accepted", str(first)), ("nomination.accepted", str(second))]

    # Consent: given for the first only; the second stays accepted.
    await consent.record_paper_consent(actor_id=clerk.id, nomination_id=first, given=True, note="Binder")
    mark = await last_audit_id()
    shortlisted = await formal_check.decide_many(
        actor_id=clerk.id, edition_id=edition.id, nomination_ids=[first, second], action="shortlist"
    )

    assert shortlisted == Outcome(
        (refs[0],),
        (Failure(refs[1], "Without the nominee's consent a nomination cannot be shortlisted."),),  # type: ignore[arg-type]
    )
    assert await states(first, second) == ["shortlisted", "accepted"]
    assert await audit_since(mark) == [("nomination.shortlisted", str(first))]


async def test_an_empty_or_unknown_bulk_decision_changes_nothing() -> None:
    clerk = await make_user("clerk@example.org", (Role.CLERK,))
    edition = await checked_edition(clerk_id=clerk.id)
    first = await paper_nomination(edition, clerk_id=clerk.id)
    mark = await last_audit_id()

    with pytest.raises(bulk.NothingChosen):
        await formal_check.decide_many(actor_id=clerk.id, edition_id=edition.id, nomination_ids=[], action="accept")
    with pytest.raises(InvalidInput):
        await formal_check.decide_many(actor_id=clerk.id, edition_id=edition.id, nomination_ids=[first], action="drop")

    assert await states(first) == ["submitted"]
    assert await audit_since(mark) == []


# --- detections ---------------------------------------------------------------------------------


async def test_confirm_and_dismiss_selected_detections_with_one_reason() -> None:
    clerk = await make_user("clerk@example.org", (Role.CLERK,))
    scene = await conflicts_scene(clerk.id)
    await conflicts.detect(scene.edition.id)
    email = await detection_id(scene, scene.wrona, scene.same_email)
    domain = await detection_id(scene, scene.lis, scene.same_domain)
    name = await detection_id(scene, scene.anna, scene.same_name)
    # A detection of another edition: refused without its names.
    other = await checked_edition(clerk_id=clerk.id, year=2024)
    foreign_juror = await make_user("juror2024@example.org", (Role.JUROR,))
    await jury.appoint(actor_id=clerk.id, edition_id=other.id, user_id=foreign_juror.id, base_url=BASE)
    foreign_nomination = await paper_nomination(other, clerk_id=clerk.id)
    foreign = DetectedConflict(
        edition=other.id, juror=foreign_juror.id, nomination=foreign_nomination, evidence="[]", status="pending"
    )
    await foreign.save()
    mark = await last_audit_id()

    with pytest.raises(InvalidInput) as missing:
        await conflict_declarations.decide_detections(
            actor_id=clerk.id, edition_id=scene.edition.id, detection_ids=[email, domain], confirm=False, reason=" "
        )
    assert missing.value.errors == {"reason": "Give the reason for dismissing it."}
    assert await audit_since(mark) == []

    dismissed = await conflict_declarations.decide_detections(
        actor_id=clerk.id,
        edition_id=scene.edition.id,
        detection_ids=[email, int(foreign.id), domain],
        confirm=False,
        reason="Checked with both: no tie.",
    )

    refs = {n: await reference_of(n) for n in (scene.same_email, scene.same_domain, scene.same_name)}
    assert dismissed == Outcome(
        (f"Piotr Wrona, {refs[scene.same_email]}", f"Ewa Lis, {refs[scene.same_domain]}"),
        (Failure(f"#{foreign.id}", bulk.NOT_HERE),),  # type: ignore[arg-type]
    )
    rows = await DetectedConflict.select(DetectedConflict.id, DetectedConflict.status, DetectedConflict.decision_reason)
    assert {r["id"]: (r["status"], r["decision_reason"]) for r in rows} == {
        **{
            i: ("pending", "")
            for i in (await DetectedConflict.select(DetectedConflict.id).output(as_list=True))
            if i not in (email, domain)
        },
        email: ("dismissed", "Checked with both: no tie."),
        domain: ("dismissed", "Checked with both: no tie."),
    }
    assert await audit_since(mark) == [
        ("conflict.detection_dismissed", str(scene.same_email)),
        ("conflict.detection_dismissed", str(scene.same_domain)),
    ]

    mark = await last_audit_id()
    confirmed = await conflict_declarations.decide_detections(
        actor_id=clerk.id, edition_id=scene.edition.id, detection_ids=[name, email], confirm=True, reason=""
    )
    assert confirmed.done == (f"Anna Jaśkowiak, {refs[scene.same_name]}", f"Piotr Wrona, {refs[scene.same_email]}")
    assert confirmed.failed == ()
    assert await audit_since(mark) == [
        ("conflict.detection_confirmed", str(scene.same_name)),
        ("conflict.detection_confirmed", str(scene.same_email)),
    ]
    assert (await DetectedConflict.select(DetectedConflict.status).where(DetectedConflict.id == foreign.id)) == [
        {"status": "pending"}
    ]


# --- the pasted list of jurors ------------------------------------------------------------------


def test_each_line_format_is_parsed() -> None:
    assert parse_line(1, "Anna Nowak <Anna.Nowak@Example.org>") == Line(
        1, "Anna Nowak <Anna.Nowak@Example.org>", "anna.nowak@example.org", "Anna Nowak"
    )
    assert parse_line(2, "jan@example.org, Jan Kowalski") == Line(
        2, "jan@example.org, Jan Kowalski", "jan@example.org", "Jan Kowalski"
    )
    assert parse_line(3, "Jan Kowalski, jan@example.org").email == "jan@example.org"
    assert parse_line(4, "Olena Kovalenko; olena@example.org; Fundacja Alfa; Klub Beta") == Line(
        4,
        "Olena Kovalenko; olena@example.org; Fundacja Alfa; Klub Beta",
        "olena@example.org",
        "Olena Kovalenko",
        ("Fundacja Alfa", "Klub Beta"),
    )
    assert parse_line(5, "Olena Kovalenko\tolena@example.org\tFundacja Alfa").organisations == ("Fundacja Alfa",)
    assert parse_line(6, "Anna Nowak <anna@example.org>; Fundacja Alfa").organisations == ("Fundacja Alfa",)
    problems = {
        "Anna Nowak": "No email address on this line.",
        "anna@example.org": "No name on this line.",
        "Anna Nowak <anna(at)example.org>": "Enter a valid email address, like name@example.org.",
        "Anna; anna@example.org" + "x" * 600: "The line is longer than %(limit)d characters.",
    }
    assert {text: parse_line(1, text).problem for text in problems} == problems


def test_the_list_refuses_nothing_or_too_much_and_marks_repeats() -> None:
    parsed = parse_list("\nA <a@example.org>\n\nB <b@example.org>\nA again <A@example.org>\n")
    assert [(line.number, line.email, line.problem) for line in parsed] == [
        (2, "a@example.org", None),
        (4, "b@example.org", None),
        (5, "a@example.org", "This email is already on an earlier line."),
    ]
    for text in ("", "  \n \n"):
        with pytest.raises(InvalidInput) as empty:
            parse_list(text)
        assert empty.value.errors == {"list": "Paste at least one juror, one per line."}
    fifty = "\n".join(f"J{i} <j{i}@example.org>" for i in range(jury_invites.MAX_LINES))
    assert len(parse_list(fifty)) == jury_invites.MAX_LINES
    with pytest.raises(InvalidInput) as many:
        parse_list(fifty + "\nOne more <more@example.org>")
    assert many.value.errors == {"list": "At most %(limit)d lines at once."}
    assert many.value.errors["list"].params == {"limit": 50}  # type: ignore[attr-defined]


LIST = """Nowa Jurorka <nowa@example.org>
marta@example.org, Marta Krawczyk
Ewa Pawlak; ewa@example.org; Fundacja Alfa
Clerk Person <clerk@example.org>
Bez Adresu
Nowa Jurorka <NOWA@example.org>"""


async def test_a_pasted_list_is_previewed_then_done_line_by_line() -> None:
    clerk = await make_user("clerk@example.org", (Role.CLERK,))
    edition = await checked_edition(clerk_id=clerk.id)
    marta = await make_user("marta@example.org", (Role.JUROR,), name="Marta Krawczyk")
    ewa = await make_user("ewa@example.org", (Role.JUROR,), name="Ewa Pawlak")
    await jury.appoint(actor_id=clerk.id, edition_id=edition.id, user_id=ewa.id, base_url=BASE)
    mark, mail = await last_audit_id(), await last_mail_id()

    planned = await jury_invites.plan(edition.id, LIST)

    assert [(p.line.number, p.action, p.user_id, p.reason) for p in planned] == [
        (1, Action.INVITE, None, None),
        (2, Action.APPOINT, marta.id, None),
        (3, Action.MEMBER, ewa.id, None),
        (4, Action.INVALID, clerk.id, "Only accounts with the juror role can be appointed."),
        (5, Action.INVALID, None, "No email address on this line."),
        (6, Action.INVALID, None, "This email is already on an earlier line."),
    ]
    assert await audit_since(mark) == []

    outcome = await jury_invites.invite_list(
        actor_id=clerk.id, edition_id=edition.id, text=LIST, language="en", base_url=BASE, lifetime_seconds=3600
    )

    assert outcome == Outcome(
        ("nowa@example.org", "marta@example.org"),
        (
            Failure("ewa@example.org", "This person is already on the jury."),  # type: ignore[arg-type]
            Failure("clerk@example.org", "Only accounts with the juror role can be appointed."),  # type: ignore[arg-type]
            Failure("Bez Adresu", "No email address on this line."),  # type: ignore[arg-type]
            Failure("nowa@example.org", "This email is already on an earlier line."),  # type: ignore[arg-type]
        ),
    )
    nowa = await User.select(User.id, User.display_name, User.language).where(User.email == "nowa@example.org")
    assert [(r["display_name"], r["language"]) for r in nowa] == [("Nowa Jurorka", "en")]
    members = await JuryMember.select(JuryMember.user).where(JuryMember.edition == edition.id).order_by(JuryMember.id)
    assert [r["user"] for r in members] == [ewa.id, nowa[0]["id"], marta.id]
    created = ["user.created", "user.invited", "jury.appointed", "jury.appointed"]
    assert [a for a, _ in await audit_since(mark)] == created
    assert [m["to_address"] for m in await mails_since(mail)] == [
        "nowa@example.org",
        "nowa@example.org",
        "marta@example.org",
    ]
    assert not await JuryMember.exists().where(JuryMember.user == clerk.id)


async def test_a_list_once_scoring_opened_is_refused_whole() -> None:
    clerk = await make_user("clerk@example.org", (Role.CLERK,))
    setup_edition = await checked_edition(clerk_id=clerk.id)
    await jury_invites.plan(setup_edition.id, "A <a@example.org>")
    await put_in_state(setup_edition.id, EditionState.JURY_SCORING)
    mark = await last_audit_id()
    with pytest.raises(NotAllowed):
        await jury_invites.invite_list(
            actor_id=clerk.id,
            edition_id=setup_edition.id,
            text="A <a@example.org>",
            language="pl",
            base_url=BASE,
            lifetime_seconds=3600,
        )
    with pytest.raises(InvalidInput):
        await jury_invites.invite_list(
            actor_id=clerk.id,
            edition_id=setup_edition.id,
            text="A <a@example.org>",
            language="xx",
            base_url=BASE,
            lifetime_seconds=3600,
        )
    assert await audit_since(mark) == []
    assert not await User.exists().where(User.email == "a@example.org")


# --- votes --------------------------------------------------------------------------------------


async def test_one_form_votes_on_every_proposal_and_leaves_unchanged_ones_alone() -> None:
    setup = await scored_edition()
    ewa, marta, tomasz = setup.jurors
    refs = await references(setup)
    olena = await propose(setup, 0, Distinction.TITLE)
    bohdan = await propose(setup, 1, Distinction.MENTION)  # Tomasz is conflicted on Bohdan
    iryna = await propose(setup, 2, Distinction.TITLE)
    await vote(olena, [(tomasz, VoteChoice.FOR)])
    mark = await last_audit_id()

    outcome = await deliberation.cast_votes(
        juror_id=tomasz.id,
        edition_id=setup.edition.id,
        choices={olena: "for", bohdan: "for", iryna: "maybe", 999_999: "for"},
    )

    assert outcome == Outcome(
        (),
        (
            Failure(f"#{bohdan}", bulk.NOT_HERE),  # type: ignore[arg-type]
            Failure(f"{refs[2]} Iryna Shevchenko", "Choose for, against or abstain."),  # type: ignore[arg-type]
            Failure("#999999", bulk.NOT_HERE),  # type: ignore[arg-type]
        ),
    )
    assert await audit_since(mark) == []

    outcome = await deliberation.cast_votes(
        juror_id=marta.id, edition_id=setup.edition.id, choices={olena: "for", bohdan: "against", iryna: "abstain"}
    )

    assert outcome == Outcome(
        (f"{refs[0]} Olena Kovalenko", f"{refs[1]} Bohdan Melnyk", f"{refs[2]} Iryna Shevchenko"), ()
    )
    mark = await last_audit_id()
    again = await deliberation.cast_votes(
        juror_id=marta.id, edition_id=setup.edition.id, choices={olena: "for", bohdan: "for", iryna: "abstain"}
    )
    assert again == Outcome((f"{refs[1]} Bohdan Melnyk",), ())
    assert await audit_since(mark) == [("deliberation.voted", str(setup.nominations[1]))]
    votes = await Vote.select(Vote.proposal, Vote.juror, Vote.choice).order_by(Vote.proposal).order_by(Vote.juror)
    assert sorted((v["proposal"], v["juror"], v["choice"]) for v in votes) == sorted(
        [(olena, tomasz.id, "for"), (olena, marta.id, "for"), (bohdan, marta.id, "for"), (iryna, marta.id, "abstain")]
    )
    with pytest.raises(bulk.NothingChosen):
        await deliberation.cast_votes(juror_id=ewa.id, edition_id=setup.edition.id, choices={})
