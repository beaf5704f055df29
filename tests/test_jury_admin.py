"""The clerk's jury pages: appointment and rules, the conflict matrix and detections, scoring progress."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import pytest
from markupsafe import escape

from ambassador.domain import accounts, conflict_declarations, conflict_evidence, conflicts, editions, jury
from ambassador.domain.accounts import Account
from ambassador.domain.editions import EditionView
from ambassador.domain.jury import JuryRules
from ambassador.enums import EditionState, Majority, Role, ScoreVisibility
from ambassador.errors import NotAllowed
from ambassador.tables import User
from tests.clerk_factories import checked_edition, clerk_logged_in, english, juror_logged_in
from tests.conftest import Client
from tests.factories import make_user
from tests.helpers import cells_of, post_form, row_of, text_of
from tests.jury_admin_factories import (
    accepted_nomination,
    appointed_juror,
    declare_all,
    last_mail_id,
    mails_since,
    put_in_state,
    score,
    shortlisted_nomination,
)

RULES_FORM: dict[str, str | list[str]] = {
    "appointment_document": "Zarządzenie nr 1234/2025 Prezydenta Miasta Krakowa z dnia 3 marca 2025",
    "score_visibility": "never",
    "min_scores": "4",
    "normalise": "on",
    "tie_break_1": "mean",
    "tie_break_2": "",
    "tie_break_3": "vote",
    "tie_break_4": "",
    "vote_quorum_percent": "60",
    "majority": "absolute",
}


def matrix_cell(page: str, nomination_id: int, juror_id: int) -> str:
    row = row_of(page, "data-nomination", nomination_id)
    found = re.search(rf'<td data-juror="{juror_id}"[^>]*>(.*?)</td>', row, re.S)
    assert found is not None
    return text_of(found.group(1))


async def state_of(edition_id: int) -> EditionState:
    return (await editions.get_edition(edition_id)).state


async def test_anonymous_is_sent_to_login_and_a_juror_is_refused(client: Client) -> None:
    owner = await make_user("owner@example.org", (Role.CLERK,))
    edition = await checked_edition(clerk_id=owner.id)
    base = f"/staff/editions/{edition.id}"
    pages = [f"{base}/jury", f"{base}/conflicts", f"{base}/scoring", f"{base}/scores.csv"]

    for page in pages:
        response = await client.get(page)
        assert (response.status_code, response.headers["location"]) == (302, f"/login?next={page}")

    juror = await juror_logged_in(client)
    assert [(await client.get(page)).status_code for page in pages] == [403] * len(pages)
    actions = [
        "jury/appoint",
        "jury/invite",
        "jury/rules",
        f"jury/{juror.id}/chair",
        f"jury/{juror.id}/organisations",
        f"jury/{juror.id}/remove",
        "conflicts/detect",
        "conflicts/pin",
        "conflicts/detections/1",
        "scoring/remind",
    ]
    for action in actions:
        refused = await post_form(client, f"{base}/{action}", {"user_id": str(juror.id), "email": "x@example.net"})
        assert (action, refused.status_code) == (action, 403)
    assert await jury.members(edition.id) == []
    assert await jury.rules_of(edition.id) == JuryRules()


async def test_the_clerk_appoints_jurors_names_the_chair_and_sets_organisations(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await checked_edition(clerk_id=clerk.id)
    marta = await make_user("marta@uj.edu.pl", (Role.JUROR,), name="Marta Nowicka", language="en")
    piotr = await make_user("piotr@amu.edu.pl", (Role.JUROR,), name="Piotr Lis", language="en")
    url = f"/staff/editions/{edition.id}/jury"
    before = await last_mail_id()

    detail = await client.get(f"/staff/editions/{edition.id}")
    for link in ("jury", "conflicts", "scoring"):
        assert f'<a href="/staff/editions/{edition.id}/{link}">' in detail.text
    page = await client.get(url)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert f'<option value="{marta.id}">Marta Nowicka (marta@uj.edu.pl)</option>' in page.text
    assert "Nobody has been appointed yet." in page.text

    appointed = await post_form(
        client,
        f"{url}/appoint",
        {"user_id": str(marta.id), "organisations": "Fundacja Mosty\r\n\r\n  Klub   Sąsiedzki \r\n"},
    )
    assert (appointed.status_code, appointed.headers["location"]) == (302, url)
    assert (
        await post_form(client, f"{url}/appoint", {"user_id": str(piotr.id), "organisations": ""})
    ).status_code == 302
    again = await post_form(client, f"{url}/appoint", {"user_id": str(piotr.id), "organisations": ""})
    assert again.status_code == 400
    assert 'id="f-user_id-error">This person is already on the jury.</p>' in again.text
    chaired = await post_form(client, f"{url}/{piotr.id}/chair", {})
    assert (chaired.status_code, chaired.headers["location"]) == (302, url)

    members = await jury.members(edition.id)
    assert [(j.display_name, j.is_chair, j.organisations) for j in members] == [
        ("Marta Nowicka", False, ("Fundacja Mosty", "Klub Sąsiedzki")),
        ("Piotr Lis", True, ()),
    ]
    page = await client.get(url)
    assert "Piotr Lis chairs the jury." in page.text
    marta_row, piotr_row = row_of(page.text, "data-juror", marta.id), row_of(page.text, "data-juror", piotr.id)
    assert cells_of(marta_row)[:3] == ["marta@uj.edu.pl", "", "Fundacja Mosty Klub Sąsiedzki"]
    assert re.findall(r"<li>(.*?)</li>", marta_row) == ["Fundacja Mosty", "Klub Sąsiedzki"]
    assert cells_of(piotr_row)[:3] == ["piotr@amu.edu.pl", "chair", "None declared."]
    assert "Name as chair" in marta_row
    assert "Name as chair" not in piotr_row
    assert f'<option value="{marta.id}">' not in page.text  # no longer a candidate
    assert [m["to_address"] for m in await mails_since(before)] == ["marta@uj.edu.pl", "piotr@amu.edu.pl"]

    edited = await post_form(client, f"{url}/{piotr.id}/organisations", {"organisations": "Uniwersytet Jagielloński"})
    assert edited.status_code == 302
    too_long = await post_form(client, f"{url}/{marta.id}/organisations", {"organisations": "x" * 2001})
    assert too_long.status_code == 400
    assert f'id="f-organisations-{marta.id}-error">At most 2000 characters.</p>' in too_long.text
    assert [j.organisations for j in await jury.members(edition.id)] == [
        ("Fundacja Mosty", "Klub Sąsiedzki"),
        ("Uniwersytet Jagielloński",),
    ]

    outsider = await make_user("outsider@example.net", (Role.JUROR,))
    for action in ("chair", "organisations", "remove"):
        assert (await post_form(client, f"{url}/{outsider.id}/{action}", {})).status_code == 404
    assert (await post_form(client, f"{url}/99999999999/chair", {})).status_code == 404
    assert (await client.get("/staff/editions/999/jury")).status_code == 404

    removed = await post_form(client, f"{url}/{marta.id}/remove", {})
    assert (removed.status_code, removed.headers["location"]) == (302, url)
    assert [j.user_id for j in await jury.members(edition.id)] == [piotr.id]


async def test_only_juror_accounts_can_be_appointed(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await checked_edition(clerk_id=clerk.id)
    colleague = await make_user("second.clerk@example.org", (Role.CLERK,), name="Second Clerk")
    url = f"/staff/editions/{edition.id}/jury/appoint"

    refused = await post_form(client, url, {"user_id": str(colleague.id), "organisations": ""})

    assert refused.status_code == 409
    assert "Only accounts with the juror role can be appointed." in refused.text
    for bad in ("", "abc", "999999", "-3", "99999999999999"):
        answer = await post_form(client, url, {"user_id": bad, "organisations": ""})
        assert (bad, answer.status_code) == (bad, 400)
        assert "Choose a juror." in answer.text
    assert await jury.members(edition.id) == []


async def test_inviting_a_new_juror_creates_the_account_mails_it_and_appoints_it(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await checked_edition(clerk_id=clerk.id)
    url = f"/staff/editions/{edition.id}/jury"
    before = await last_mail_id()

    invited = await post_form(
        client,
        f"{url}/invite",
        {
            "email": " Nowa.Jurorka@Example.net ",
            "display_name": "Nowa Jurorka",
            "language": "uk",
            "organisations": "Rada Dzielnicy I",
        },
    )

    assert (invited.status_code, invited.headers["location"]) == (302, url)
    row = await User.select(User.id).where(User.email == "nowa.jurorka@example.net").first()
    assert row is not None
    account = await accounts.get_account(row["id"])
    assert account is not None
    assert (account.roles, account.language, account.has_password) == (frozenset({Role.JUROR}), "uk", False)
    mails = await mails_since(before)
    assert [m["to_address"] for m in mails] == ["nowa.jurorka@example.net", "nowa.jurorka@example.net"]
    assert "http://testserver.local/account/activate?token=" in mails[0]["body_text"]
    assert "http://testserver.local/jury" in mails[1]["body_text"]
    assert [(j.user_id, j.organisations) for j in await jury.members(edition.id)] == [
        (account.id, ("Rada Dzielnicy I",))
    ]
    page = await client.get(url)
    assert "Invitation sent to nowa.jurorka@example.net; they are now on the jury." in page.text

    duplicate = await post_form(
        client,
        f"{url}/invite",
        {"email": "nowa.jurorka@example.net", "display_name": "Again", "language": "pl", "organisations": ""},
    )
    assert duplicate.status_code == 400
    assert 'id="f-email-error">An account with this email already exists.</p>' in duplicate.text
    bad = await post_form(
        client,
        f"{url}/invite",
        {"email": "not-an-email", "display_name": "", "language": "xx", "organisations": "y" * 2001},
    )
    assert bad.status_code == 400
    for field in ("email", "display_name", "language"):
        assert f'id="f-{field}-error">' in bad.text
    assert 'id="f-invite-organisations-error">At most 2000 characters.</p>' in bad.text
    assert 'value="not-an-email"' in bad.text
    assert await User.count() == 2  # the clerk and the one invited
    assert len(await mails_since(before)) == 2


async def test_rules_form_checks_every_field_and_saves_the_chain_in_order(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await checked_edition(clerk_id=clerk.id)
    url = f"/staff/editions/{edition.id}/jury/rules"

    twice = await post_form(client, url, {**RULES_FORM, "tie_break_2": "mean", "vote_quorum_percent": "0"})

    assert twice.status_code == 400
    assert 'id="f-tie_break-error">Choose each tie-break at most once.</p>' in twice.text
    assert 'id="f-vote_quorum_percent-error">Enter a whole number from 1 to 100.</p>' in twice.text
    assert 'id="f-min_scores-error"' not in twice.text
    assert 'name="vote_quorum_percent" type="number" value="0"' in twice.text
    nonsense = await post_form(
        client,
        url,
        {
            **RULES_FORM,
            "score_visibility": "sometimes",
            "majority": "",
            "min_scores": "many",
            "tie_break_1": "coin",
            "appointment_document": "x" * 301,
        },
    )
    assert nonsense.status_code == 400
    assert 'id="f-score_visibility-error">Choose one of the offered options.</p>' in nonsense.text
    assert 'id="f-majority-error">Choose one of the offered options.</p>' in nonsense.text
    assert 'id="f-tie_break-error">Choose one of the offered options.</p>' in nonsense.text
    assert 'id="f-min_scores-error">Enter a whole number from 1 to 50.</p>' in nonsense.text
    assert 'id="f-appointment_document-error">At most 300 characters.</p>' in nonsense.text
    blank: dict[str, str | list[str]] = {f"tie_break_{slot}": "" for slot in range(1, 5)}
    none_chosen = await post_form(client, url, {**RULES_FORM, **blank})
    assert none_chosen.status_code == 400
    assert 'id="f-tie_break-error">Choose at least one way to break a tie.</p>' in none_chosen.text
    assert await jury.rules_of(edition.id) == JuryRules()

    saved = await post_form(client, url, RULES_FORM)

    assert (saved.status_code, saved.headers["location"]) == (302, f"/staff/editions/{edition.id}/jury")
    assert await jury.rules_of(edition.id) == JuryRules(
        appointment_document="Zarządzenie nr 1234/2025 Prezydenta Miasta Krakowa z dnia 3 marca 2025",
        score_visibility=ScoreVisibility.NEVER,
        min_scores=4,
        normalise=True,
        tie_break=("mean", "vote"),
        vote_quorum_percent=60,
        majority=Majority.ABSOLUTE,
    )
    page = await client.get(f"/staff/editions/{edition.id}/jury")
    chosen = {
        slot: re.findall(r'<option value="([^"]*)" selected>', select)
        for slot, select in re.findall(r'<select id="f-tie_break_(\d)"[^>]*>(.*?)</select>', page.text, re.S)
    }
    assert chosen == {"1": ["mean"], "2": ["vote"], "3": [""], "4": [""]}  # blanks dropped, order kept
    assert 'name="normalise" value="1" checked' in page.text


async def test_scoring_opens_only_with_a_jury_and_a_chair_and_then_fixes_the_jury(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await checked_edition(clerk_id=clerk.id)
    nomination = await shortlisted_nomination(edition, clerk_id=clerk.id, nominator_email="ewa@fundacja-most.pl")
    advance = f"/staff/editions/{edition.id}/advance"
    url = f"/staff/editions/{edition.id}/jury"

    no_jury = await post_form(client, advance, {"target": "jury_scoring"})
    assert no_jury.status_code == 409
    assert "Appoint the jury first." in no_jury.text
    ewa = await appointed_juror(edition, clerk_id=clerk.id, email="ewa@fundacja-most.pl", name="Ewa Sowa")
    early_reminder = await post_form(client, f"/staff/editions/{edition.id}/scoring/remind", {})
    assert early_reminder.status_code == 409
    assert "Scoring is not open for this edition." in early_reminder.text
    no_chair = await post_form(client, advance, {"target": "jury_scoring"})
    assert no_chair.status_code == 409
    assert "Name the chair of the jury first." in no_chair.text
    assert await state_of(edition.id) == EditionState.FORMAL_CHECK
    assert (await conflicts.matrix(edition.id)).cell(ewa.id, nomination).detection_id is None

    assert (await post_form(client, f"{url}/{ewa.id}/chair", {})).status_code == 302
    too_small = await post_form(client, advance, {"target": "jury_scoring"})
    assert too_small.status_code == 409
    assert "Jury members: 1. A nomination needs at least 3 scores to be ranked" in too_small.text
    # A jury of one is possible when its rules ask for one score.
    await jury.set_rules(actor_id=clerk.id, edition_id=edition.id, rules=JuryRules(min_scores=1))
    opened = await post_form(client, advance, {"target": "jury_scoring"})

    assert (opened.status_code, opened.headers["location"]) == (302, f"/staff/editions/{edition.id}")
    assert await state_of(edition.id) == EditionState.JURY_SCORING
    assert (await conflicts.matrix(edition.id)).cell(ewa.id, nomination).detection_status == "pending"

    # The jury and its rules are now fixed; every refusal is a notice, nothing changes.
    rules = await post_form(client, f"{url}/rules", RULES_FORM)
    assert rules.status_code == 409
    assert "The jury&#39;s rules are fixed once scoring has opened." in rules.text
    assert await jury.rules_of(edition.id) == JuryRules(min_scores=1)
    removed = await post_form(client, f"{url}/{ewa.id}/remove", {})
    assert removed.status_code == 409
    assert "Jurors are removed only before scoring opens." in removed.text
    late = await make_user("late@example.net", (Role.JUROR,))
    appointed = await post_form(client, f"{url}/appoint", {"user_id": str(late.id), "organisations": ""})
    assert appointed.status_code == 409
    assert "Jurors are appointed before scoring opens." in appointed.text
    before = await last_mail_id()
    invited = await post_form(
        client,
        f"{url}/invite",
        {"email": "later@example.net", "display_name": "Later", "language": "pl", "organisations": ""},
    )
    assert invited.status_code == 409
    assert "Jurors are appointed before scoring opens." in invited.text
    assert await User.exists().where(User.email == "later@example.net") is False  # the invitation was undone
    assert await mails_since(before) == []
    assert [j.user_id for j in await jury.members(edition.id)] == [ewa.id]

    page = await client.get(url)
    assert "The rules are fixed once scoring has opened." in page.text
    assert 'action="/staff/editions/' + str(edition.id) + '/jury/invite"' not in page.text
    assert "Remove from the jury" not in page.text


@dataclass(frozen=True)
class Scene:
    """Four jurors and five accepted nominations; four pairs are potential conflicts."""

    edition: EditionView
    wrona: Account  # his address is the nominator's address on ``same_email``
    lis: Account  # her organisation's mail domain is the nominator's on ``same_domain``
    anna: Account  # "Anna Jaśkowiak" nominated ``same_name`` as "anna jaskowiak"
    bak: Account  # works for the nominator's organisation on ``organisation``
    same_email: int
    same_domain: int
    webmail: int  # gmail.com addresses, like Wrona's: no conflict
    same_name: int
    organisation: int

    @property
    def conflicts_url(self) -> str:
        return f"/staff/editions/{self.edition.id}/conflicts"


async def conflicts_scene(clerk_id: int) -> Scene:
    edition = await checked_edition(clerk_id=clerk_id)

    async def juror(email: str, name: str, organisations: str = "") -> Account:
        return await appointed_juror(edition, clerk_id=clerk_id, email=email, name=name, organisations=organisations)

    async def nomination(nominee: str, nominee_email: str, nominator: str, nominator_email: str, **more: str) -> int:
        return await accepted_nomination(
            edition,
            clerk_id=clerk_id,
            nominee_name=nominee,
            nominee_email=nominee_email,
            nominator_name=nominator,
            nominator_email=nominator_email,
            **more,
        )

    return Scene(
        edition=edition,
        wrona=await juror("piotr.wrona@gmail.com", "Piotr Wrona"),
        lis=await juror("ewa.lis@mosty.org.pl", "Ewa Lis"),
        anna=await juror("anna.j@wp.pl", "Anna Jaśkowiak"),
        bak=await juror("tomasz.bak@onet.pl", "Tomasz Bąk", "Stowarzyszenie Dialog\nKlub Sąsiedzki"),
        same_email=await nomination("Olena Kovalenko", "olena@example.org", "Jan Nowicki", "Piotr.Wrona@gmail.com"),
        same_domain=await nomination("Mariam Haddad", "mariam@example.org", "Barbara Mostowa", "barbara@mosty.org.pl"),
        webmail=await nomination("Yuki Tanaka", "yuki@gmail.com", "Jan Kowal", "jan.kowal@gmail.com"),
        same_name=await nomination("Oksana Melnyk", "oksana@example.org", "anna jaskowiak", "aj@interia.pl"),
        organisation=await nomination(
            "Ahmed Karimi",
            "ahmed@example.org",
            "Zofia Dąbrowska",
            "zofia@dialog.krakow.pl",
            nominator_organisation="Stowarzyszenie Dialog w Krakowie",
        ),
    )


async def detection_id(scene: Scene, juror: Account, nomination_id: int) -> int:
    found = (await conflicts.matrix(scene.edition.id)).cell(juror.id, nomination_id).detection_id
    assert found is not None
    return found


async def test_detection_finds_exactly_the_expected_conflicts(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    scene = await conflicts_scene(clerk.id)
    base = scene.conflicts_url

    ran = await post_form(client, f"{base}/detect", {})

    assert (ran.status_code, ran.headers["location"]) == (302, base)
    assert "Detection found 4 new possible conflicts." in (await client.get(base)).text
    found = await conflicts.matrix(scene.edition.id)
    detected = {
        key: [conflict_evidence.describe(e, "en") for e in cell.evidence]
        for key, cell in found.cells.items()
        if cell.detection_id is not None
    }
    assert detected == {
        (scene.wrona.id, scene.same_email): ["The juror's email address is the nominator's."],
        (scene.lis.id, scene.same_domain): ["The juror's mail domain mosty.org.pl is the nominator's."],
        (scene.anna.id, scene.same_name): ["The juror's name appears in the nominator's name."],
        (scene.bak.id, scene.organisation): [
            "The juror's organisation “Stowarzyszenie Dialog” appears in the nominator's organisation."
        ],
    }
    page = (await client.get(base)).text
    assert escape("The juror's mail domain mosty.org.pl is the nominator's.") in page
    client.cookies.set("lang", "pl")
    polish = (await client.get(base)).text
    assert "Domena pocztowa członka Kapituły mosty.org.pl jest też domeną zgłaszającego." in polish
    assert escape("The juror's") not in polish
    client.cookies.delete("lang")
    assert {cell.detection_status for cell in found.cells.values() if cell.detection_id} == {"pending"}
    assert await conflicts.conflicted_ids(scene.edition.id, scene.wrona.id) == {scene.same_email}
    again = await post_form(client, f"{base}/detect", {})
    assert again.status_code == 302
    assert "Detection found 0 new possible conflicts." in (await client.get(base)).text


async def test_the_clerk_confirms_or_dismisses_a_detection_with_a_reason(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    scene = await conflicts_scene(clerk.id)
    edition, base = scene.edition, scene.conflicts_url
    await conflicts.detect(edition.id)

    # Confirming pins it: the juror's own "no conflict" does not lift it.
    confirm_url = f"{base}/detections/{await detection_id(scene, scene.wrona, scene.same_email)}"
    confirmed = await post_form(client, confirm_url, {"decision": "confirm", "reason": ""})
    assert (confirmed.status_code, confirmed.headers["location"]) == (302, base)
    await declare_all(edition, scene.wrona.id)
    assert await conflicts.conflicted_ids(edition.id, scene.wrona.id) == {scene.same_email}

    # Dismissing needs a reason; with one, the juror is no longer blocked.
    dismiss_url = f"{base}/detections/{await detection_id(scene, scene.lis, scene.same_domain)}"
    no_reason = await post_form(client, dismiss_url, {"decision": "dismiss", "reason": "  "})
    assert no_reason.status_code == 400
    assert "Give the reason for dismissing it." in no_reason.text
    assert await conflicts.conflicted_ids(edition.id, scene.lis.id) == {scene.same_domain}
    unclear = await post_form(client, dismiss_url, {"decision": "maybe", "reason": "x"})
    assert unclear.status_code == 400
    assert "Choose to confirm or to dismiss." in unclear.text
    dismissed = await post_form(
        client, dismiss_url, {"decision": "dismiss", "reason": "The domain is a shared host of many NGOs."}
    )
    assert dismissed.status_code == 302
    assert await conflicts.conflicted_ids(edition.id, scene.lis.id) == set()
    cells = (await conflicts.matrix(edition.id)).cells
    statuses = [cells[(scene.wrona.id, scene.same_email)], cells[(scene.lis.id, scene.same_domain)]]
    assert [cell.detection_status for cell in statuses] == ["confirmed", "dismissed"]

    # A detection is decided only under its own edition.
    other = await checked_edition(clerk_id=clerk.id, year=2024)
    pending = await detection_id(scene, scene.anna, scene.same_name)
    elsewhere = await post_form(
        client, f"/staff/editions/{other.id}/conflicts/detections/{pending}", {"decision": "confirm"}
    )
    assert elsewhere.status_code == 404
    assert (await post_form(client, f"{base}/detections/99999", {"decision": "confirm"})).status_code == 404
    assert (await conflicts.matrix(edition.id)).cell(scene.anna.id, scene.same_name).detection_status == "pending"


async def test_the_matrix_shows_declarations_detections_and_pins(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    scene = await conflicts_scene(clerk.id)
    edition, base = scene.edition, scene.conflicts_url
    await conflicts.detect(edition.id)
    await conflict_declarations.decide_detection(
        actor_id=clerk.id,
        detection_id=await detection_id(scene, scene.lis, scene.same_domain),
        confirm=False,
        reason="A shared host.",
    )
    await declare_all(edition, scene.wrona.id)
    await conflict_declarations.declare(
        juror_id=scene.bak.id, edition_id=edition.id, nomination_id=scene.webmail, conflicted=True, kind="family"
    )

    page = await client.get(base)

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert '<div class="table-wrap">' in page.text
    assert "<caption>" in page.text
    assert '<th scope="col">Anna Jaśkowiak</th>' in page.text
    row = row_of(page.text, "data-nomination", scene.webmail)
    assert '<th scope="row"><a href="/staff/nominations/' in row
    assert cells_of(row)[:2] == ["Yuki Tanaka", "B: individual"]
    assert matrix_cell(page.text, scene.same_email, scene.wrona.id) == (
        "none Detected: awaiting a decision The juror's email address is the nominator's. "
        "Select : Piotr Wrona, 2025/0001"
    )
    assert matrix_cell(page.text, scene.same_domain, scene.lis.id) == (
        "– no answer yet Detected: dismissed The juror's mail domain mosty.org.pl is the nominator's. "
        "Select : Ewa Lis, 2025/0002"
    )
    # One reason field for the whole matrix, below it; no text box in any cell.
    assert page.text.count("<textarea") == 1
    assert 'id="detections-form"' in page.text
    assert matrix_cell(page.text, scene.webmail, scene.bak.id) == "family Confirm : Tomasz Bąk, 2025/0003"
    assert matrix_cell(page.text, scene.webmail, scene.wrona.id) == "none"
    assert matrix_cell(page.text, scene.webmail, scene.lis.id) == "– no answer yet"
    assert "Detections awaiting a decision: 3. Answers the jurors have not given yet: 14." in page.text

    pinned = await post_form(
        client, f"{base}/pin", {"juror_id": str(scene.bak.id), "nomination_id": str(scene.webmail)}
    )
    assert (pinned.status_code, pinned.headers["location"]) == (302, base)
    assert matrix_cell((await client.get(base)).text, scene.webmail, scene.bak.id) == "family (confirmed)"
    with pytest.raises(NotAllowed):
        await conflict_declarations.declare(
            juror_id=scene.bak.id, edition_id=edition.id, nomination_id=scene.webmail, conflicted=False
        )
    not_declared: dict[str, str | list[str]] = {"juror_id": str(scene.lis.id), "nomination_id": str(scene.webmail)}
    garbage: dict[str, str | list[str]] = {"juror_id": "x", "nomination_id": ""}
    for bad in (not_declared, garbage):
        refused = await post_form(client, f"{base}/pin", bad)
        assert refused.status_code == 409
        assert "There is no declared conflict to confirm here." in refused.text


async def test_progress_reminders_and_the_scores_export(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await checked_edition(clerk_id=clerk.id)
    first = await shortlisted_nomination(
        edition, clerk_id=clerk.id, nominee_name="Olena Kovalenko", nominator_organisation="Fundacja Alfa"
    )
    second = await shortlisted_nomination(
        edition, clerk_id=clerk.id, nominee_name="Jan Kowalski", nominee_email="jan@example.org"
    )
    await accepted_nomination(edition, clerk_id=clerk.id, nominee_name="Ivan Petrenko", nominee_email="")
    adamska = await appointed_juror(
        edition, clerk_id=clerk.id, email="alicja@alfa.edu.pl", name="Alicja Adamska", chair=True
    )
    borowski = await appointed_juror(edition, clerk_id=clerk.id, email="bogdan@beta.edu.pl", name="Bogdan Borowski")
    czajka = await appointed_juror(edition, clerk_id=clerk.id, email="celina@gamma.edu.pl", name="Celina Czajka")
    dudek = await appointed_juror(edition, clerk_id=clerk.id, email="dorota@delta.edu.pl", name="Dorota Dudek")
    opened = await post_form(client, f"/staff/editions/{edition.id}/advance", {"target": "jury_scoring"})
    assert opened.status_code == 302
    await declare_all(edition, adamska.id)
    await score(edition, adamska.id, first, value=7, submit=True, comment='=HYPERLINK("http://evil.example")')
    await score(edition, adamska.id, second, value=5, submit=True)
    await declare_all(edition, borowski.id, {first: "family"})
    await score(edition, borowski.id, second, value=6, submit=True)
    await declare_all(edition, czajka.id)
    await score(edition, czajka.id, first, value=4, submit=False)
    base = f"/staff/editions/{edition.id}"

    page = await client.get(f"{base}/scoring")

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    # declared all, to score, drafts, submitted, left, conflicted
    assert cells_of(row_of(page.text, "data-juror", adamska.id)) == ["yes", "2", "0", "2", "0", "0"]
    assert cells_of(row_of(page.text, "data-juror", borowski.id)) == ["yes", "1", "0", "1", "0", "1"]
    assert cells_of(row_of(page.text, "data-juror", czajka.id)) == ["yes", "2", "1", "0", "2", "0"]
    assert cells_of(row_of(page.text, "data-juror", dudek.id)) == ["no", "2", "0", "0", "2", "0"]
    assert "Alicja Adamska (chair)" in page.text

    before = await last_mail_id()
    reminded = await post_form(client, f"{base}/scoring/remind", {})
    assert (reminded.status_code, reminded.headers["location"]) == (302, f"{base}/scoring")
    assert "A reminder was sent to 2 jurors." in (await client.get(f"{base}/scoring")).text
    mails = await mails_since(before)
    assert [m["to_address"] for m in mails] == ["celina@gamma.edu.pl", "dorota@delta.edu.pl"]
    assert "You still have 2 nominations to score in A.D. 2025." in mails[0]["body_text"]

    # Czajka submits, then turns out to work for the nominator's organisation: her sheet drops out.
    await score(edition, czajka.id, first, value=4, submit=True)
    await jury.update_organisations(
        actor_id=clerk.id, edition_id=edition.id, user_id=czajka.id, organisations="Fundacja Alfa"
    )
    assert (await post_form(client, f"{base}/conflicts/detect", {})).status_code == 302
    assert await conflicts.conflicted_ids(edition.id, czajka.id) == {first}

    export = await client.get(f"{base}/scores.csv")

    assert export.status_code == 200
    assert export.headers["content-type"] == "text/csv; charset=utf-8"
    assert export.headers["cache-control"] == "no-store"
    assert export.headers["content-disposition"] == 'attachment; filename="scores-A.D.-2025.csv"'
    assert export.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    weights = [c.weight for c in edition.criteria]
    formula = '\'=HYPERLINK("http://evil.example")'  # neutralised: a spreadsheet shows it as text
    assert rows == [
        [
            "reference",
            "category",
            "nominee",
            "juror",
            *[f"criterion {i + 1} (weight {w})" for i, w in enumerate(weights)],
            "comment",
        ],
        ["2025/0001", "B", "Olena Kovalenko", "Alicja Adamska", *["7"] * len(weights), formula],
        ["2025/0002", "B", "Jan Kowalski", "Alicja Adamska", *["5"] * len(weights), ""],
        ["2025/0002", "B", "Jan Kowalski", "Bogdan Borowski", *["6"] * len(weights), ""],
    ]


async def test_detection_stops_once_scoring_has_closed(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await checked_edition(clerk_id=clerk.id)
    await put_in_state(edition.id, EditionState.DELIBERATION)

    refused = await post_form(client, f"/staff/editions/{edition.id}/conflicts/detect", {})

    assert refused.status_code == 409
    assert "Conflicts are detected only until scoring closes." in refused.text
    page = await client.get(f"/staff/editions/{edition.id}/conflicts")
    assert "Run detection now" not in page.text
