"""Bulk actions through the pages: selection, one submission, the outcome after the redirect."""

from __future__ import annotations

import re

from ambassador.domain import conflicts, consent, deliberation, jury_invites
from ambassador.enums import Distinction, Role, VoteChoice
from ambassador.tables import DetectedConflict, JuryMember, Nomination, User, Vote
from tests.clerk_factories import checked_edition, clerk_logged_in, english, paper_nomination
from tests.conftest import Client
from tests.deliberation_factories import logged_in, propose, references, scored_edition
from tests.factories import make_user
from tests.helpers import post_form, row_of, text_of
from tests.jury_admin_factories import shortlisted_nomination
from tests.test_jury_admin import conflicts_scene, detection_id

NOTICE = re.compile(r'<div class="notice notice-(\w+)" role="\w+">(.*?)</div>', re.S)


def notices(html: str) -> list[tuple[str, str]]:
    return [(kind, text_of(body)) for kind, body in NOTICE.findall(html)]


async def state_of(nomination_id: int) -> str:
    row = await Nomination.select(Nomination.state).where(Nomination.id == nomination_id).first()
    assert row is not None
    return str(row["state"])


async def reference_of(nomination_id: int) -> str:
    row = await Nomination.select(Nomination.reference).where(Nomination.id == nomination_id).first()
    assert row is not None
    return str(row["reference"])


async def test_the_list_selects_and_accepts_and_shortlists_several(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await checked_edition(clerk_id=clerk.id)
    other = await checked_edition(clerk_id=clerk.id, year=2024)
    first = await paper_nomination(edition, clerk_id=clerk.id)
    second = await paper_nomination(edition, clerk_id=clerk.id, nominee_name="Bohdan Melnyk", nominee_email="")
    done = await shortlisted_nomination(edition, clerk_id=clerk.id, nominee_name="Iryna Shevchenko")
    foreign = await paper_nomination(other, clerk_id=clerk.id)
    first_ref, second_ref, done_ref = [await reference_of(n) for n in (first, second, done)]
    base = f"/staff/editions/{edition.id}/nominations"

    page = await client.get(base)
    assert page.status_code == 200
    row = row_of(page.text, "data-reference", first_ref)
    assert f'<input type="checkbox" id="pick-{first}" name="nomination_id" value="{first}">' in row
    assert f'<label for="pick-{first}"><span class="visually-hidden">Select {first_ref}, Olena Kovalenko' in row
    assert page.text.count(" checked>") == 0
    every = await client.get(f"{base}?state=submitted&select=all")
    assert every.text.count('name="nomination_id"') == 2
    assert every.text.count(" checked>") == 2  # both submitted nominations; the filter stays
    assert '<input type="hidden" name="state" value="submitted">' in every.text

    accepted = await post_form(
        client,
        f"{base}/bulk",
        {
            "action": "accept",
            "nomination_id": [str(first), str(done), str(foreign), str(second), "x"],
            "query": "?state=submitted&evil=1",
        },
    )

    assert (accepted.status_code, accepted.headers["location"]) == (302, f"{base}?state=submitted")
    shown = await client.get(accepted.headers["location"])
    assert notices(shown.text) == [
        ("success", f"2 nominations accepted: {first_ref}, {second_ref}."),
        (
            "error",
            f"3 items were not changed: {done_ref}: This nomination cannot be changed in its current state. "
            f"#{foreign}: Not found here, or not yours to change. #x: Not found here, or not yours to change.",
        ),
    ]
    assert [await state_of(n) for n in (first, second, done, foreign)] == [
        "accepted",
        "accepted",
        "shortlisted",
        "submitted",
    ]

    await consent.record_paper_consent(actor_id=clerk.id, nomination_id=first, given=True, note="Binder")
    shortlisted = await post_form(
        client, f"{base}/bulk", {"action": "shortlist", "nomination_id": [str(first), str(second)], "query": ""}
    )
    assert (shortlisted.status_code, shortlisted.headers["location"]) == (302, base)
    assert notices((await client.get(base)).text) == [
        ("success", f"1 nomination shortlisted: {first_ref}."),
        (
            "error",
            f"1 item was not changed: {second_ref}: Without the nominee's consent a nomination cannot be shortlisted.",
        ),
    ]
    assert [await state_of(n) for n in (first, second)] == ["shortlisted", "accepted"]


async def test_nothing_selected_changes_nothing_and_says_so_in_each_language(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    edition = await checked_edition(clerk_id=clerk.id)
    first = await paper_nomination(edition, clerk_id=clerk.id)
    base = f"/staff/editions/{edition.id}/nominations"
    said = {}
    for language in ("pl", "en", "uk"):
        client.headers["accept-language"] = language
        empty = await post_form(client, f"{base}/bulk", {"action": "accept"})
        assert (empty.status_code, empty.headers["location"]) == (302, base)
        said[language] = notices((await client.get(base)).text)
    assert said == {
        "pl": [("error", "Nic nie zaznaczono; nic się nie zmieniło.")],
        "en": [("error", "Nothing was selected; nothing has changed.")],
        "uk": [("error", "Нічого не вибрано; нічого не змінилося.")],
    }
    client.headers["accept-language"] = "pl"
    accepted = await post_form(client, f"{base}/bulk", {"action": "accept", "nomination_id": str(first)})
    assert accepted.status_code == 302
    reference = await reference_of(first)
    assert notices((await client.get(base)).text) == [("success", f"Przyjęto 1 zgłoszenie: {reference}.")]
    without_token = await client.post(f"{base}/bulk", data={"action": "shortlist", "nomination_id": str(first)})
    assert without_token.status_code == 403
    assert await state_of(first) == "accepted"


async def test_detections_are_decided_together_with_one_reason(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    scene = await conflicts_scene(clerk.id)
    await conflicts.detect(scene.edition.id)
    email = await detection_id(scene, scene.wrona, scene.same_email)
    domain = await detection_id(scene, scene.lis, scene.same_domain)
    base = scene.conflicts_url

    missing = await post_form(
        client, f"{base}/detections", {"decision": "dismiss", "detection_id": [str(email), str(domain)], "reason": ""}
    )
    assert missing.status_code == 400
    assert '<p class="error" id="f-bulk-reason-error">Give the reason for dismissing it.</p>' in missing.text
    assert missing.text.count(" checked>") == 2  # the selection is kept
    dismissed = await post_form(
        client,
        f"{base}/detections",
        {"decision": "dismiss", "detection_id": [str(email), str(domain), "2147483647"], "reason": "No tie."},
    )
    assert (dismissed.status_code, dismissed.headers["location"]) == (302, base)
    same_email, same_domain = await reference_of(scene.same_email), await reference_of(scene.same_domain)
    assert notices((await client.get(base)).text) == [
        ("success", f"2 detections dismissed: Piotr Wrona, {same_email}, Ewa Lis, {same_domain}."),
        ("error", "1 item was not changed: #2147483647: Not found here, or not yours to change."),
    ]
    rows = await DetectedConflict.select(DetectedConflict.status).where(DetectedConflict.id.is_in([email, domain]))
    assert [r["status"] for r in rows] == ["dismissed", "dismissed"]
    nothing = await post_form(client, f"{base}/detections", {"decision": "confirm", "reason": ""})
    assert nothing.status_code == 409
    assert "Nothing was selected; nothing has changed." in nothing.text


LIST = "Nowa Jurorka <nowa@example.org>\nmarta@example.org, Marta Krawczyk\nBez Adresu"


async def test_a_pasted_list_is_previewed_and_then_invited(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await checked_edition(clerk_id=clerk.id)
    marta = await make_user("marta@example.org", (Role.JUROR,), name="Marta Krawczyk")
    base = f"/staff/editions/{edition.id}/jury"

    jury_page = await client.get(base)
    assert f'action="/staff/editions/{edition.id}/jury/invite-list"' in jury_page.text
    assert "At most 50 lines." in jury_page.text

    preview = await post_form(client, f"{base}/invite-list", {"list": LIST, "language": "uk"})

    assert preview.status_code == 200
    assert [text_of(row_of(preview.text, "data-line", n)) for n in (1, 2, 3)] == [
        "1 Nowa Jurorka nowa@example.org New account: invited by mail (Українська) and appointed",
        "2 Marta Krawczyk marta@example.org Existing account: appointed",
        "3 Bez Adresu Not used: No email address on this line.",
    ]
    assert "Invite and appoint 2 jurors" in preview.text
    assert not await User.exists().where(User.email == "nowa@example.org")

    done = await post_form(client, f"{base}/invite-list/confirm", {"list": LIST, "language": "uk"})

    assert (done.status_code, done.headers["location"]) == (302, base)
    assert notices((await client.get(base)).text) == [
        ("success", "2 jurors are now on the jury: nowa@example.org, marta@example.org."),
        ("error", "1 item was not changed: Bez Adresu: No email address on this line."),
    ]
    nowa = await User.select(User.id, User.language).where(User.email == "nowa@example.org").first()
    assert nowa is not None and nowa["language"] == "uk"
    members = await JuryMember.select(JuryMember.user).where(JuryMember.edition == edition.id).order_by(JuryMember.id)
    assert [r["user"] for r in members] == [nowa["id"], marta.id]

    too_many = "\n".join(f"J{i} <j{i}@example.org>" for i in range(jury_invites.MAX_LINES + 1))
    refused = await post_form(client, f"{base}/invite-list/confirm", {"list": too_many, "language": "pl"})
    assert refused.status_code == 400
    assert '<p class="error" id="f-list-error">At most 50 lines at once.</p>' in refused.text
    assert not await User.exists().where(User.email == "j0@example.org")


async def test_a_juror_votes_on_every_proposal_in_one_form(client: Client) -> None:
    setup = await scored_edition()
    ewa, marta, tomasz = setup.jurors
    refs = await references(setup)
    olena = await propose(setup, 0, Distinction.TITLE)
    iryna = await propose(setup, 2, Distinction.TITLE)
    bohdan = await propose(setup, 1, Distinction.MENTION)  # Tomasz is conflicted on Bohdan
    await deliberation.cast_vote(juror_id=tomasz.id, proposal_id=olena, choice=VoteChoice.FOR)
    await logged_in(client, tomasz)
    base = f"/jury/editions/{setup.edition.id}/deliberation"

    page = await client.get(base)
    assert f'action="{base}/votes"' in page.text
    assert page.text.count('type="radio"') == 6  # two proposals he may see, three choices each
    assert f'id="vote-{olena}-for" name="choice-{olena}" value="for" checked>' in page.text
    assert f"choice-{bohdan}" not in page.text

    voted = await post_form(
        client,
        f"{base}/votes",
        {
            "proposal_id": [str(olena), str(iryna), str(bohdan)],
            f"choice-{olena}": "for",
            f"choice-{iryna}": "against",
            f"choice-{bohdan}": "for",
        },
    )

    assert (voted.status_code, voted.headers["location"]) == (302, base)
    assert notices((await client.get(base)).text) == [
        ("success", f"Your vote is saved: {refs[2]} Iryna Shevchenko."),
        ("error", f"1 item was not changed: #{bohdan}: Not found here, or not yours to change."),
    ]
    votes = await Vote.select(Vote.proposal, Vote.choice).where(Vote.juror == tomasz.id)
    assert sorted((v["proposal"], v["choice"]) for v in votes) == sorted([(olena, "for"), (iryna, "against")])
    same = await post_form(client, f"{base}/votes", {"proposal_id": [str(olena)], f"choice-{olena}": "for"})
    assert same.status_code == 302
    assert notices((await client.get(base)).text) == [("success", "No vote was changed.")]
    del ewa, marta
