"""The juror's pages through HTTP: editions, conflict declarations, dossiers, score sheets, closing."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from ambassador.domain import conflict_declarations, conflicts, jury, scoring
from ambassador.domain.accounts import Account
from ambassador.domain.jury import JuryRules
from ambassador.enums import ConflictKind, EditionState, ScoreVisibility, SheetStatus
from ambassador.tables import Attachment, AuditEntry, DetectedConflict, Edition, Score, ScoreSheet
from ambassador.web.middleware import ATTACHMENT_CONTENT_SECURITY_POLICY
from tests import confirm_pages
from tests.clerk_factories import PNG, english
from tests.conftest import Client
from tests.helpers import login, post_form, without_tokens
from tests.jury_factories import Scoring, declare_none, scoring_edition, submit_scores

LEAK = "Zq7-leak-marker-9Xv"  # another juror's remark, never to reach a conflicted juror


async def as_juror(client: Client, juror: Account) -> None:
    response = await login(client, juror.email)
    assert response.status_code == 302
    english(client)


def fieldset(html: str, nomination_id: int) -> str:
    """The declaration fieldset of one nomination."""
    found = re.search(rf'<fieldset id="n-{nomination_id}".*?</fieldset>', html, re.DOTALL)
    assert found is not None
    return found.group(0)


def same_page(html: str) -> str:
    """A page without its tokens and with the nomination id of its own address (echoed by the language links)."""
    return re.sub(r"/jury/nominations/\d+", "/jury/nominations/ID", without_tokens(html))


def score_form(setup: Scoring, value: str, action: str = "submit", **extra: str) -> dict[str, str | list[str]]:
    data: dict[str, str | list[str]] = {f"score_{c}": value for c in setup.criteria}
    data.update(extra)
    data["action"] = action
    return data


async def sheet_of(juror: Account, nomination_id: int) -> dict[str, Any] | None:
    row = (
        await ScoreSheet.select()
        .where((ScoreSheet.juror == juror.id) & (ScoreSheet.nomination == nomination_id))
        .first()
    )
    return dict(row) if row is not None else None


async def stored_values(juror: Account, nomination_id: int) -> dict[int, int | None]:
    sheet = await sheet_of(juror, nomination_id)
    assert sheet is not None
    return {s["criterion"]: s["value"] for s in await Score.select().where(Score.sheet == sheet["id"])}


async def attachment_of(nomination_id: int) -> int:
    row = await Attachment.select(Attachment.id).where(Attachment.nomination == nomination_id).first()
    assert row is not None
    return int(row["id"])


async def test_the_jury_area_lists_the_jurors_editions_and_is_linked_from_the_dashboard(client: Client) -> None:
    setup = await scoring_edition()
    await scoring_edition(
        year=2024, jurors=(("other.chair@jury.example.net", "Irena Sowa"),), nominees=({"nominee_name": "Lev Hrytsak"},)
    )
    await as_juror(client, setup.jurors[1])

    dashboard = await client.get("/staff")
    listing = await client.get("/jury")

    assert '<a href="/jury">' in dashboard.text
    assert listing.status_code == 200
    assert listing.headers["cache-control"] == "no-store"
    assert re.findall(r'<a href="/jury/editions/(\d+)">', listing.text) == [str(setup.edition.id)]
    assert "A.D. 2025" in listing.text
    assert "jury scoring" in listing.text
    assert f'<a href="/jury/editions/{setup.edition.id}/conflicts">to declare</a>' in listing.text


async def test_staff_without_the_juror_role_is_refused_and_not_linked(client: Client) -> None:
    setup = await scoring_edition()
    response = await login(client, setup.clerk.email)
    assert response.status_code == 302

    assert '<a href="/jury">' not in (await client.get("/staff")).text
    pages = ["/jury", f"/jury/editions/{setup.edition.id}", f"/jury/nominations/{setup.nominations[0]}"]
    assert [(await client.get(page)).status_code for page in pages] == [403, 403, 403]


async def test_a_juror_of_another_edition_gets_404_everywhere_in_this_one(client: Client) -> None:
    setup = await scoring_edition()
    other = await scoring_edition(
        year=2024, jurors=(("other.chair@jury.example.net", "Irena Sowa"),), nominees=({"nominee_name": "Lev Hrytsak"},)
    )
    outsider = other.jurors[0]
    await declare_none(other, outsider)
    await as_juror(client, outsider)
    nomination = setup.nominations[0]
    attachment = await attachment_of(nomination)

    pages = [
        f"/jury/editions/{setup.edition.id}",
        f"/jury/editions/{setup.edition.id}/conflicts",
        f"/jury/nominations/{nomination}",
        f"/jury/nominations/{nomination}/attachments/{attachment}",
    ]
    assert [(await client.get(page)).status_code for page in pages] == [404] * 4
    declared = await post_form(client, f"/jury/editions/{setup.edition.id}/conflicts", {f"answer_{nomination}": "none"})
    scored = await post_form(client, f"/jury/nominations/{nomination}/score", score_form(setup, "5"))
    closed = await post_form(client, f"/jury/editions/{setup.edition.id}/close-scoring", {})

    assert (declared.status_code, scored.status_code, closed.status_code) == (404, 404, 404)
    assert await ScoreSheet.count() == 0
    assert await conflicts.has_declared_all(setup.edition.id, setup.jurors[0].id) is False
    edition = await Edition.select(Edition.state).where(Edition.id == setup.edition.id).first()
    assert edition == {"state": EditionState.JURY_SCORING.value}
    # Their own edition opens.
    assert (await client.get(f"/jury/editions/{other.edition.id}")).status_code == 200
    assert (await client.get(f"/jury/nominations/{other.nominations[0]}")).status_code == 200


async def test_before_declaring_only_names_and_categories_are_shown(client: Client) -> None:
    setup = await scoring_edition()
    juror = setup.jurors[1]
    await as_juror(client, juror)
    first, second = setup.nominations
    attachment = await attachment_of(first)

    edition_page = await client.get(f"/jury/editions/{setup.edition.id}")
    dossier = await client.get(f"/jury/nominations/{first}")
    download = await client.get(f"/jury/nominations/{first}/attachments/{attachment}")
    scored = await post_form(client, f"/jury/nominations/{first}/score", score_form(setup, "5"))
    declaration = await client.get(f"/jury/editions/{setup.edition.id}/conflicts")

    conflicts_url = f"/jury/editions/{setup.edition.id}/conflicts"
    assert edition_page.status_code == 200
    assert f'href="{conflicts_url}"' in edition_page.text
    assert "You have answered for 0 of 2 nominations." in edition_page.text
    assert "Olena Kovalenko" not in edition_page.text
    assert f"/jury/nominations/{first}" not in edition_page.text
    assert [(r.status_code, r.headers["location"]) for r in (dossier, download, scored)] == [(302, conflicts_url)] * 3
    assert await ScoreSheet.count() == 0
    assert declaration.status_code == 200
    assert "Olena Kovalenko" in fieldset(declaration.text, first)
    assert "Bohdan Melnyk" in fieldset(declaration.text, second)
    assert "B: individual" in fieldset(declaration.text, first)
    for private in (
        "Anna Nowak",
        "anna@example.org",
        "olena@example.org",
        "Runs a bilingual reading club.",
        "2025/0001",
    ):
        assert private not in declaration.text
    assert "Your scores on that nomination are then voided" in declaration.text

    saved = await post_form(client, conflicts_url, {f"answer_{first}": "none", f"answer_{second}": "none"})

    assert (saved.status_code, saved.headers["location"]) == (302, f"/jury/editions/{setup.edition.id}")
    page = await client.get(f"/jury/editions/{setup.edition.id}")
    assert "Saved." in page.text
    assert f'<a href="/jury/nominations/{first}">Olena Kovalenko</a>' in page.text
    assert "Submitted: 0 of 2. Drafts: 0." in page.text
    assert "How long the candidate has worked for intercultural dialogue in Kraków" in page.text
    assert "Each criterion is scored with a whole number from 0 to 10." in page.text
    assert (await client.get(f"/jury/nominations/{first}")).status_code == 200


async def test_declaration_problems_are_shown_beside_their_nomination_and_the_rest_is_saved(client: Client) -> None:
    setup = await scoring_edition(
        nominees=({}, {"nominee_name": "Bohdan Melnyk"}, {"nominee_name": "Iryna Shevchuk"}),
    )
    juror = setup.jurors[1]
    await as_juror(client, juror)
    first, second, third = setup.nominations
    url = f"/jury/editions/{setup.edition.id}/conflicts"

    refused = await post_form(
        client,
        url,
        {
            f"answer_{first}": "conflict",
            f"kind_{first}": "",
            f"answer_{second}": "conflict",
            f"kind_{second}": "other",
            f"reason_{second}": "   ",
            f"answer_{third}": "none",
        },
    )

    assert refused.status_code == 400
    assert "Choose the kind of conflict." in fieldset(refused.text, first)
    assert "Describe the conflict." in fieldset(refused.text, second)
    assert "Describe the conflict." not in fieldset(refused.text, first)
    assert "Choose the kind of conflict." not in fieldset(refused.text, second)
    assert f'id="f-answer_{second}-conflict" name="answer_{second}" value="conflict" checked' in refused.text
    assert '<option value="other" selected>' in fieldset(refused.text, second)
    assert "You declared no conflict." in fieldset(refused.text, third)
    assert await conflicts.conflicted_ids(setup.edition.id, juror.id) == set()
    listed = {
        item.nomination_id: item.answered
        for item in await conflict_declarations.declaration_list(setup.edition.id, juror.id)
    }
    assert listed == {first: False, second: False, third: True}
    garbled = await post_form(client, url, {f"answer_{first}": "maybe"})
    assert garbled.status_code == 400
    assert "Choose “No conflict” or “Conflict”." in fieldset(garbled.text, first)

    fixed = await post_form(
        client,
        url,
        {
            f"answer_{first}": "conflict",
            f"kind_{first}": "family",
            f"answer_{second}": "conflict",
            f"kind_{second}": "other",
            f"reason_{second}": "We sit on the same <board>.",
            f"answer_{third}": "none",
        },
    )

    assert (fixed.status_code, fixed.headers["location"]) == (302, f"/jury/editions/{setup.edition.id}")
    assert await conflicts.conflicted_ids(setup.edition.id, juror.id) == {first, second}
    page = await client.get(url)
    assert "You declared a conflict: family." in fieldset(page.text, first)
    assert "You declared a conflict: other." in fieldset(page.text, second)
    # Sending the page back unchanged keeps the reason given before and records nothing new.
    entries = await AuditEntry.count()
    again = await post_form(
        client,
        url,
        {
            f"answer_{first}": "conflict",
            f"kind_{first}": "family",
            f"answer_{second}": "conflict",
            f"kind_{second}": "other",
            f"reason_{second}": "",
            f"answer_{third}": "none",
        },
    )
    assert again.status_code == 302
    assert await AuditEntry.count() == entries


async def test_pinned_conflicts_are_fixed_and_detected_ones_block_the_dossier(client: Client) -> None:
    setup = await scoring_edition(
        jurors=(
            ("ewa.pawlak@jury.example.net", "Ewa Pawlak"),
            # Named as the nominator of the second nomination: detected as scoring opens.
            ("piotr.zielinski@jury.example.net", "Piotr Zieliński"),
        ),
    )
    juror = setup.jurors[1]
    first, second = setup.nominations
    await conflict_declarations.declare(
        juror_id=juror.id, edition_id=setup.edition.id, nomination_id=first, conflicted=True, kind="business"
    )
    await conflict_declarations.pin(
        actor_id=setup.clerk.id, edition_id=setup.edition.id, juror_id=juror.id, nomination_id=first
    )
    await as_juror(client, juror)
    url = f"/jury/editions/{setup.edition.id}/conflicts"

    page = await client.get(url)
    withdrawn = await post_form(client, url, {f"answer_{first}": "none", f"answer_{second}": "none"})

    assert "A clerk has confirmed this conflict; it cannot be withdrawn." in fieldset(page.text, first)
    assert f'name="answer_{first}"' not in page.text
    assert "A possible conflict was found automatically." in fieldset(page.text, second)
    assert withdrawn.status_code == 302
    assert await conflicts.conflicted_ids(setup.edition.id, juror.id) == {first, second}
    assert (await client.get(f"/jury/nominations/{second}")).status_code == 404
    edition_page = await client.get(f"/jury/editions/{setup.edition.id}")
    assert "There is no nomination for you to score yet." in edition_page.text


async def test_a_confirmed_detection_asks_the_juror_for_no_declaration(client: Client) -> None:
    setup = await scoring_edition(
        jurors=(
            ("ewa.pawlak@jury.example.net", "Ewa Pawlak"),
            # Named as the nominator of the second nomination: detected as scoring opens.
            ("piotr.zielinski@jury.example.net", "Piotr Zieliński"),
        ),
    )
    juror = setup.jurors[1]
    first, second = setup.nominations
    matrix = await conflicts.matrix(setup.edition.id)
    detection = matrix.cell(juror.id, second).detection_id
    assert detection is not None
    await conflict_declarations.decide_detection(
        actor_id=setup.clerk.id, detection_id=detection, confirm=True, reason=""
    )
    await as_juror(client, juror)
    url = f"/jury/editions/{setup.edition.id}/conflicts"

    page = await client.get(url)
    saved = await post_form(client, url, {f"answer_{first}": "none"})

    assert "you do not score this nomination and need not declare on it" in fieldset(page.text, second)
    assert f'name="answer_{second}"' not in page.text
    assert (saved.status_code, saved.headers["location"]) == (302, f"/jury/editions/{setup.edition.id}")
    assert await conflicts.has_declared_all(setup.edition.id, juror.id) is True
    cell = (await conflicts.matrix(setup.edition.id)).cell(juror.id, second)
    assert (cell.answered, cell.awaits_answer, cell.conflicted) == (False, False, True)
    assert await conflicts.conflicted_ids(setup.edition.id, juror.id) == {second}


async def test_a_conflicted_juror_cannot_tell_the_nomination_from_one_that_does_not_exist(client: Client) -> None:
    setup = await scoring_edition()
    chair, other, conflicted = setup.jurors
    first, second = setup.nominations
    for juror in (chair, other):
        await declare_none(setup, juror)
    await submit_scores(setup, other, first, 7, comment=f"{LEAK} overall", remark=f"{LEAK} on the first criterion")
    await submit_scores(setup, chair, first, 4, comment=f"{LEAK} from the chair")
    await declare_none(setup, conflicted, except_for=(first,))
    await conflict_declarations.declare(
        juror_id=conflicted.id,
        edition_id=setup.edition.id,
        nomination_id=first,
        conflicted=True,
        kind=ConflictKind.FAMILY,
    )
    await as_juror(client, conflicted)
    attachment = await attachment_of(first)
    missing = 10_000 + first

    hidden = await client.get(f"/jury/nominations/{first}")
    absent = await client.get(f"/jury/nominations/{missing}")
    hidden_file = await client.get(f"/jury/nominations/{first}/attachments/{attachment}")
    absent_file = await client.get(f"/jury/nominations/{missing}/attachments/{attachment}")
    hidden_post = await post_form(client, f"/jury/nominations/{first}/score", score_form(setup, "5"))
    absent_post = await post_form(client, f"/jury/nominations/{missing}/score", score_form(setup, "5"))

    assert hidden.status_code == absent.status_code == 404
    assert same_page(hidden.text) == same_page(absent.text)
    assert hidden_file.status_code == absent_file.status_code == 404
    assert same_page(hidden_file.text) == same_page(absent_file.text)
    assert hidden_post.status_code == absent_post.status_code == 404
    assert same_page(hidden_post.text) == same_page(absent_post.text)
    assert await sheet_of(conflicted, first) is None
    # Nothing the conflicted juror can open carries the others' scores or remarks.
    await submit_scores(setup, conflicted, second, 6)
    pages = [
        "/jury",
        "/staff",
        f"/jury/editions/{setup.edition.id}",
        f"/jury/editions/{setup.edition.id}/conflicts",
        f"/jury/nominations/{second}",
    ]
    for page in pages:
        response = await client.get(page)
        assert response.status_code == 200, page
        assert LEAK not in response.text, page
    listing = await client.get(f"/jury/editions/{setup.edition.id}")
    assert f"/jury/nominations/{first}" not in listing.text
    assert "Submitted: 1 of 1. Drafts: 0." in listing.text
    # The chair, who submitted, does see them: the marker is real data.
    chair_client_page = await scoring.others_sheets(chair.id, first)
    assert [s.comment for s in chair_client_page] == [f"{LEAK} overall"]


async def test_declaring_a_conflict_later_voids_the_sheet_and_hides_it_from_others(client: Client) -> None:
    setup = await scoring_edition()
    chair, juror, _ = setup.jurors
    first, _second = setup.nominations
    for member in (chair, juror):
        await declare_none(setup, member)
    await submit_scores(setup, chair, first, 5)
    await as_juror(client, juror)
    scored = await post_form(
        client, f"/jury/nominations/{first}/score", score_form(setup, "8", comment=f"{LEAK} before the conflict")
    )
    assert scored.status_code == 302
    assert LEAK in "".join(s.comment for s in await scoring.others_sheets(chair.id, first))

    declared = await post_form(
        client,
        f"/jury/editions/{setup.edition.id}/conflicts",
        {f"answer_{first}": "conflict", f"kind_{first}": "other", f"reason_{first}": "I now work with them."},
    )

    assert declared.status_code == 302
    sheet = await sheet_of(juror, first)
    assert sheet is not None
    assert sheet["status"] == SheetStatus.VOID.value
    assert await scoring.others_sheets(chair.id, first) == []
    assert (await client.get(f"/jury/nominations/{first}")).status_code == 404
    await client.post("/logout", data={"_csrf_token": client.cookies["csrftoken"]})
    await as_juror(client, chair)
    chair_page = await client.get(f"/jury/nominations/{first}")
    assert chair_page.status_code == 200
    assert LEAK not in chair_page.text
    assert "Marta Krawczyk" not in chair_page.text


async def test_a_detection_dismissed_then_confirmed_hides_the_scores_given_meanwhile(client: Client) -> None:
    setup = await scoring_edition(
        jurors=(
            ("ewa.pawlak@jury.example.net", "Ewa Pawlak"),
            ("anna.nowak@jury.example.net", "Anna Nowak"),  # the first nominator's name: detected
        ),
    )
    chair, namesake = setup.jurors
    first, _second = setup.nominations
    detections = await DetectedConflict.select(DetectedConflict.id, DetectedConflict.nomination).where(
        DetectedConflict.juror == namesake.id
    )
    assert [d["nomination"] for d in detections] == [first]
    (detection,) = detections
    await conflict_declarations.decide_detection(
        actor_id=setup.clerk.id, detection_id=detection["id"], confirm=False, reason="Another Anna Nowak."
    )
    for member in (chair, namesake):
        await declare_none(setup, member)
    await submit_scores(setup, namesake, first, 9, comment=f"{LEAK} meanwhile")
    await submit_scores(setup, chair, first, 5)
    assert [s.comment for s in await scoring.others_sheets(chair.id, first)] == [f"{LEAK} meanwhile"]

    await conflict_declarations.decide_detection(
        actor_id=setup.clerk.id, detection_id=detection["id"], confirm=True, reason=""
    )

    sheet = await sheet_of(namesake, first)
    assert sheet is not None
    assert sheet["status"] == SheetStatus.VOID.value
    await as_juror(client, chair)
    page = await client.get(f"/jury/nominations/{first}")
    assert page.status_code == 200
    assert LEAK not in page.text


async def test_after_withdrawing_a_conflict_the_juror_scores_again(client: Client) -> None:
    setup = await scoring_edition()
    juror = setup.jurors[1]
    first, _second = setup.nominations
    await declare_none(setup, juror)
    await submit_scores(setup, juror, first, 3)
    await conflict_declarations.declare(
        juror_id=juror.id, edition_id=setup.edition.id, nomination_id=first, conflicted=True, kind="family"
    )
    await conflict_declarations.declare(
        juror_id=juror.id, edition_id=setup.edition.id, nomination_id=first, conflicted=False
    )
    await as_juror(client, juror)

    page = await client.get(f"/jury/nominations/{first}")
    saved = await post_form(client, f"/jury/nominations/{first}/score", score_form(setup, "9", action="draft"))

    assert page.status_code == 200
    assert "voided by a conflict" in page.text
    assert f'name="score_{setup.criteria[0]}" type="number"' in page.text
    assert saved.status_code == 302
    sheet = await sheet_of(juror, first)
    assert sheet is not None
    assert (sheet["status"], await stored_values(juror, first)) == ("draft", dict.fromkeys(setup.criteria, 9))


@pytest.mark.parametrize(
    ("visibility", "before_own", "after_own"),
    [
        (ScoreVisibility.AFTER_OWN, False, True),
        (ScoreVisibility.NEVER, False, False),
        (ScoreVisibility.ALWAYS, True, True),
    ],
)
async def test_others_scores_follow_the_editions_rule(
    client: Client, visibility: ScoreVisibility, before_own: bool, after_own: bool
) -> None:
    rules = None if visibility == ScoreVisibility.AFTER_OWN else JuryRules(score_visibility=visibility)
    setup = await scoring_edition(rules=rules)
    chair, juror, _ = setup.jurors
    first, _second = setup.nominations
    for member in (chair, juror):
        await declare_none(setup, member)
    await submit_scores(setup, chair, first, 6, comment="The chair's <overall> view", remark="Long record\nin Kraków")
    await as_juror(client, juror)
    url = f"/jury/nominations/{first}"

    before = await client.get(url)
    drafted = await post_form(client, f"{url}/score", score_form(setup, "5", action="draft"))
    after_draft = await client.get(url)
    submitted = await post_form(client, f"{url}/score", score_form(setup, "5"))
    after = await client.get(url)

    assert (drafted.status_code, submitted.status_code) == (302, 302)
    assert "Submitted." in after.text
    shown = [('<h2 id="others">' in page.text) for page in (before, after_draft, after)]
    assert shown == [before_own, before_own, after_own]
    if after_own:
        assert "Ewa Pawlak" in after.text
        assert "The chair&#39;s &lt;overall&gt; view" in after.text
        assert '<span class="prose">Long record\nin Kraków</span>' in after.text


async def test_the_dossier_shows_texts_escaped_without_contact_data_and_merged_files(client: Client) -> None:
    setup = await scoring_edition(
        nominees=(
            {
                "texts": {0: "<script>alert(1)</script>\nSecond line & more"},
                "links": "https://example.org/club\nhttp://example.com/a?b=1&c=2",
                "nominee_phone": "+48 600 100 200",
                "nominator_organisation": "Fundacja Most",
                "nominator_relation": "Neighbour",
            },
        ),
        duplicate={
            "nominee_email": "",
            "nominator_name": "Piotr Zieliński",
            "nominator_email": "piotr@example.org",
            "texts": {1: "Piotr's own <text>."},
        },
    )
    first_criterion, second_criterion = setup.criteria[0], setup.criteria[1]
    juror = setup.jurors[1]
    (nomination,) = setup.nominations
    await declare_none(setup, juror)
    await as_juror(client, juror)

    page = await client.get(f"/jury/nominations/{nomination}")

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert f'href="/jury/editions/{setup.edition.id}/conflicts#n-{nomination}"' in page.text
    assert '<p class="prose" lang="en">&lt;script&gt;alert(1)&lt;/script&gt;\nSecond line &amp; more</p>' in page.text
    assert "<script>" not in page.text
    assert (
        '<a href="https://example.org/club" rel="noopener noreferrer nofollow">https://example.org/club</a>'
        in page.text
    )
    assert '<a href="http://example.com/a?b=1&amp;c=2" rel="noopener noreferrer nofollow">' in page.text
    for private in ("olena@example.org", "anna@example.org", "piotr@example.org", "+48 600 100 200", "Fundacja Most"):
        assert private not in page.text
    assert "<dd>Anna Nowak</dd>" in page.text
    assert '<dd lang="en">Neighbour</dd>' in page.text
    assert "nominated by Piotr Zieliński" in page.text
    assert '<p class="prose" lang="en">Piotr&#39;s own &lt;text&gt;.</p>' in page.text
    assert (
        f'<label id="l-score_{first_criterion}" for="f-score_{first_criterion}">'
        'How long the candidate has worked for intercultural dialogue in Kraków <span class="weight">(weight 1)</span>'
        "</label>"
    ) in page.text
    assert "A whole number from 0 to 10." in page.text
    assert f'name="score_{second_criterion}" type="number" inputmode="numeric" step="1" min="0" max="10"' in page.text
    links = re.findall(rf'href="(/jury/nominations/{nomination}/attachments/\d+)"', page.text)
    assert len(links) == 2
    downloads = [await client.get(link) for link in links]
    assert [(d.status_code, d.content) for d in downloads] == [(200, PNG), (200, PNG)]
    assert downloads[0].headers["content-security-policy"] == ATTACHMENT_CONTENT_SECURITY_POLICY
    assert downloads[1].headers["content-disposition"] == "attachment; filename*=UTF-8''duplicate.png"


async def test_out_of_scale_and_garbled_scores_are_refused_beside_their_fields(client: Client) -> None:
    setup = await scoring_edition()
    juror = setup.jurors[1]
    first, _second = setup.nominations
    await declare_none(setup, juror)
    await as_juror(client, juror)
    c1, c2, c3, c4 = setup.criteria
    url = f"/jury/nominations/{first}/score"

    refused = await post_form(
        client,
        url,
        {
            f"score_{c1}": "11",
            f"score_{c2}": "seven",
            f"score_{c3}": "4",
            f"score_{c4}": "99999999999999999999",
            f"comment_{c3}": "Kept <as typed>",
            "comment": "Overall, kept",
            "action": "draft",
        },
    )

    assert refused.status_code == 400
    errors = re.findall(r'<p class="error" id="f-(score_\d+)-error">([^<]+)</p>', refused.text)
    assert errors == [
        (f"score_{c1}", "Give a whole number on the scale."),
        (f"score_{c2}", "Give a whole number on the scale."),
        (f"score_{c4}", "Give a whole number on the scale."),
    ]
    assert 'value="11"' in refused.text
    assert 'value="seven"' in refused.text
    assert 'value="4"' in refused.text
    assert "Kept &lt;as typed&gt;</textarea>" in refused.text
    assert "Overall, kept</textarea>" in refused.text
    assert (await ScoreSheet.count(), await Score.count()) == (0, 0)

    incomplete = await post_form(client, url, {f"score_{c1}": "3", f"score_{c2}": "0", "action": "submit"})

    assert incomplete.status_code == 400
    missing = re.findall(
        r'id="f-(score_\d+)-error">Give a score for every criterion before submitting.', incomplete.text
    )
    assert missing == [f"score_{c3}", f"score_{c4}"]
    assert (await ScoreSheet.count(), await Score.count()) == (0, 0)

    drafted = await post_form(client, url, {f"score_{c1}": "3", f"score_{c2}": "0", "action": "draft"})

    assert (drafted.status_code, drafted.headers["location"]) == (302, f"/jury/nominations/{first}")
    assert await stored_values(juror, first) == {c1: 3, c2: 0, c3: None, c4: None}
    page = await client.get(f"/jury/nominations/{first}")
    assert "Saved." in page.text
    assert "draft saved" in page.text
    listing = await client.get(f"/jury/editions/{setup.edition.id}")
    assert "Submitted: 0 of 2. Drafts: 1." in listing.text


async def test_a_revision_after_submitting_is_audited_with_old_and_new_values(client: Client) -> None:
    setup = await scoring_edition()
    juror = setup.jurors[1]
    first, _second = setup.nominations
    await declare_none(setup, juror)
    await as_juror(client, juror)
    c1, c2, c3, c4 = setup.criteria
    url = f"/jury/nominations/{first}/score"

    submitted = await post_form(client, url, score_form(setup, "5"))
    emptied = await post_form(client, url, {**score_form(setup, "5", action="draft"), f"score_{c2}": ""})
    revised = await post_form(client, url, {**score_form(setup, "5", action="draft"), f"score_{c1}": "7"})

    assert (submitted.status_code, revised.status_code) == (302, 302)
    assert emptied.status_code == 400
    assert "Give a score for every criterion before submitting." in emptied.text
    sheet = await sheet_of(juror, first)
    assert sheet is not None
    assert sheet["status"] == "submitted"
    assert await stored_values(juror, first) == {c1: 7, c2: 5, c3: 5, c4: 5}
    entries = (
        await AuditEntry.select(AuditEntry.action, AuditEntry.actor, AuditEntry.data)
        .where(AuditEntry.action.like("score.%"))
        .order_by(AuditEntry.id)
    )
    assert [(e["action"], e["actor"]) for e in entries] == [("score.submitted", juror.id)] * 2
    assert json.loads(entries[0]["data"])["changes"] == [
        {"criterion": c, "old": None, "new": 5} for c in (c1, c2, c3, c4)
    ]
    assert json.loads(entries[1]["data"])["changes"] == [{"criterion": c1, "old": 5, "new": 7}]


async def test_only_the_chair_closes_scoring_and_then_no_score_changes(client: Client) -> None:
    setup = await scoring_edition()
    chair, juror, _ = setup.jurors
    first, _second = setup.nominations
    for member in (chair, juror):
        await declare_none(setup, member)
    await submit_scores(setup, juror, first, 4)
    before = await stored_values(juror, first)
    close_url = f"/jury/editions/{setup.edition.id}/close-scoring"

    await as_juror(client, juror)
    assert "Close scoring" not in (await client.get(f"/jury/editions/{setup.edition.id}")).text
    refused = await post_form(client, close_url, {})
    assert refused.status_code == 403
    assert "Only the chair of the jury can do this." in refused.text
    assert (await Edition.select(Edition.state).where(Edition.id == setup.edition.id).first()) == {
        "state": "jury_scoring"
    }

    await client.post("/logout", data={"_csrf_token": client.cookies["csrftoken"]})
    await as_juror(client, chair)
    page = await client.get(f"/jury/editions/{setup.edition.id}")
    assert f'action="{close_url}"' in page.text
    confirmation = await client.get(close_url)
    assert confirm_pages.items(confirmation.text, "changes") == [
        "Scoring closes: no juror can change or submit a score any more.",
        "Nominations ranked: 0 of 2.",
        "The jury's deliberation begins: the chair proposes laureates and the jury votes.",
    ]
    assert confirm_pages.items(confirmation.text, "warnings") == [
        "These nominations have fewer than 3 scores and will not be ranked: 2025/0001, 2025/0002.",
        "Jurors who have not submitted every score sheet (sheets left): "
        "Ewa Pawlak (2), Marta Krawczyk (1), Tomasz Dudek (2).",
    ]
    assert confirm_pages.mails(confirmation.text) == "Nobody is mailed."
    unticked = await post_form(client, close_url, {})
    assert unticked.status_code == 400
    assert "Read the warnings and tick the box to confirm that you have." in unticked.text
    assert (await Edition.select(Edition.state).where(Edition.id == setup.edition.id).first()) == {
        "state": "jury_scoring"
    }
    closed = await post_form(client, close_url, {"acknowledged": "1"})
    assert (closed.status_code, closed.headers["location"]) == (302, f"/jury/editions/{setup.edition.id}")
    assert (await Edition.select(Edition.state).where(Edition.id == setup.edition.id).first()) == {
        "state": "deliberation"
    }
    after = await client.get(f"/jury/editions/{setup.edition.id}")
    assert "Scoring is closed." in after.text
    assert f'action="{close_url}"' not in after.text
    again = await post_form(client, close_url, {})
    assert again.status_code == 409
    assert "This step is not possible in the edition&#39;s current state." in again.text

    await client.post("/logout", data={"_csrf_token": client.cookies["csrftoken"]})
    await as_juror(client, juror)
    late = await post_form(client, f"/jury/nominations/{first}/score", score_form(setup, "9"))
    assert late.status_code == 409
    assert "Scoring is not open for this edition." in late.text
    assert f'action="/jury/nominations/{first}/score"' not in late.text
    assert await stored_values(juror, first) == before
    dossier = await client.get(f"/jury/nominations/{first}")
    assert dossier.status_code == 200
    assert f'action="/jury/nominations/{first}/score"' not in dossier.text


async def test_non_members_and_unknown_ids_are_404_for_a_member(client: Client) -> None:
    setup = await scoring_edition()
    juror = setup.jurors[1]
    await declare_none(setup, juror)
    await as_juror(client, juror)

    pages = [
        "/jury/editions/999",
        "/jury/editions/99999999999999999999/conflicts",
        "/jury/nominations/99999999999999999999",
        f"/jury/nominations/{setup.nominations[0]}/attachments/99999999999999999999",
        f"/jury/nominations/{setup.nominations[0]}/attachments/999",
    ]
    assert [(await client.get(page)).status_code for page in pages] == [404] * len(pages)
    assert (await jury.editions_of(juror.id))[0].id == setup.edition.id
