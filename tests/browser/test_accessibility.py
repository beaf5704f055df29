"""axe-core (WCAG 2.0 and 2.1, levels A and AA) on every public page, every form in its error
state and every staff page, as the browser renders them: no violation anywhere.

The pages reached only along a flow (nomination confirmed, consent, laureate check) are checked
in the flows' tests.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from playwright.async_api import Page, expect

from ambassador.db import utcnow
from ambassador.domain import account_links, approval, deliberation, publication, scoring_round
from ambassador.domain.approval import DecisionData, Outcome
from ambassador.domain.nominations import Upload
from ambassador.enums import ApprovingBody, Distinction, Role
from ambassador.tables import Laureate
from ambassador.web.app import throttle_policy
from tests.archive_factories import add_laureate, archive_edition
from tests.browser.conftest import LOOP, Browsing
from tests.browser.helpers import NARROW, AxeLog, log_in, mailed_path, send_form, with_second_factor
from tests.clerk_factories import BASE, PNG, checked_edition, paper_nomination
from tests.deliberation_factories import deliberated, scored_edition
from tests.factories import PDF, make_edition, make_user
from tests.jury_factories import Scoring

pytestmark = LOOP


async def test_public_pages_and_their_forms(browsing: Browsing) -> None:
    await make_edition(year=2025)
    archived = await archive_edition(2023)
    slug = await add_laureate(archived, "Olena Kovalenko", citation_en="Runs a bilingual reading club.")
    await add_laureate(archived, "Fundacja Most", category="A", distinction="mention", citation_en="Festivals.")
    withdrawn = await add_laureate(
        archived, "Jan Kowalski", withdrawn_at=utcnow(), withdrawn_reason="The distinction was withdrawn by order."
    )
    clerk = await make_user("clerk@example.org", (Role.CLERK,))
    await with_second_factor(clerk)
    page = await browsing.new_page()
    await page.set_viewport_size(NARROW)
    log = AxeLog()

    for path in ("/", "/laureates", "/laureates?q=nobody", "/editions/2023", f"/laureates/{slug}"):
        await log.visit(page, path)
    await log.visit(page, f"/laureates/{withdrawn}")
    await log.visit(page, "/nominate")
    await log.visit(page, "/nominate/sent")
    await log.visit(page, "/n/confirm/no-such-link")  # checked when confirmed
    for path in ("/n/no-such-link", "/consent/no-such-link", "/laureate-check/no-such-link"):
        await log.visit(page, path, status=404)
    await log.visit(page, "/no-such-page", status=404)
    await log.visit(page, "/login")
    await log.visit(page, "/password/forgot")
    await log.visit(page, "/password/reset?token=no-such-token", status=400)
    await log.visit(page, "/account/activate?token=no-such-token", status=400)

    # The nomination form with an error beside nearly every field.
    await page.goto("/en/nominate")
    await page.get_by_label("A: organisation").check()
    await log.errors(
        page,
        "/en/nominate",
        {
            "nominee_email": "not an address",
            "organisation_website": "http://insecure.example.org",
            "registry_number": "12ab",
            "links": "not a link",
            "nominator_email": "anna@",
        },
    )
    await expect(page.get_by_role("alert")).to_contain_text("Please correct the marked fields.")

    # Login: a wrong password, then a wrong second-step code.
    await log.errors(page, "/login", {"email": clerk.email, "password": "not the password"}, at="/login")
    await log.errors(page, "/login", {"email": clerk.email, "password": "correct horse battery staple"}, status=200)
    await expect(page.get_by_role("heading", name="Two-step login")).to_be_visible()
    await log.errors(page, "/login/totp", {"code": "000000"})

    # Password reset: an invalid address, the mailed link, two passwords that differ.
    other = await browsing.new_page()
    await other.set_viewport_size(NARROW)
    await log.errors(other, "/password/forgot", {"email": "not an address"}, at="/password/forgot")
    await send_form(other, "/password/forgot", {"email": clerk.email})
    await log.check(other, "/login (after asking for a reset)")
    # What the mail sender does before it sends (the live server runs none).
    assert await account_links.process_reset_requests(policy=throttle_policy(browsing.settings)) == 1
    await log.visit(other, await mailed_path(clerk.email, r"/password/reset\?token=[A-Za-z0-9_-]+"))
    await log.errors(other, "/password/reset", {"password": "a new passphrase 1", "password_again": "another one"})

    # The other languages: the same pages, their lang attributes and texts.
    for code in ("pl", "uk"):
        await page.goto(f"/language/{code}?next=/")
        await log.check(page, f"/ ({code})")
        await log.visit(page, "/nominate")
        await log.visit(page, f"/laureates/{slug}")

    log.assert_clean()


@dataclass
class People:
    """An edition in jury scoring, another in the formal check, and a page for each person."""

    setup: Scoring
    checking: int
    paper: int
    clerk: Page
    juror: Page
    chair: Page
    log: AxeLog = field(default_factory=AxeLog)

    @property
    def edition(self) -> int:
        return self.setup.edition.id

    @property
    def nomination(self) -> int:
        return self.setup.nominations[0]


async def the_formal_check_and_scoring(people: People) -> None:
    log, clerk, checking, paper, edition = people.log, people.clerk, people.checking, people.paper, people.edition
    for path in (
        "/staff",
        "/staff/editions",
        "/staff/editions/new",
        f"/staff/editions/{checking}",
        f"/staff/editions/{checking}/edit",
        f"/staff/editions/{checking}/nominations",
        f"/staff/editions/{checking}/nominations/new",
        f"/staff/nominations/{paper}",
        f"/staff/editions/{checking}/jury",
        f"/staff/editions/{edition}",
        f"/staff/editions/{edition}/nominations",
        f"/staff/nominations/{people.nomination}",
        f"/staff/editions/{edition}/jury",
        f"/staff/editions/{edition}/conflicts",
        f"/staff/editions/{edition}/scoring",
        "/account",
        "/account/totp",
        "/account/sessions",
        "/account/sessions/end-others",
        "/account/confirm?next=/account/sessions",
    ):
        await log.visit(clerk, path)
    await log.errors(clerk, "/staff/editions/new", at="/staff/editions/new")
    await log.errors(clerk, f"/staff/editions/{checking}/edit", {"name_en": ""}, at=f"/staff/editions/{checking}/edit")
    new_paper = f"/staff/editions/{checking}/nominations/new"
    await log.errors(clerk, new_paper, at=new_paper)
    await log.errors(
        clerk, f"/staff/nominations/{paper}/decision", at=f"/staff/nominations/{paper}", button="Reject formally"
    )
    await log.errors(clerk, f"/staff/editions/{checking}/jury/invite", at=f"/staff/editions/{checking}/jury")
    await log.errors(clerk, "/account/password", {"current_password": "wrong"}, at="/account")
    await log.errors(clerk, "/account/totp", {"code": "000000"}, at="/account/totp")
    await log.errors(clerk, "/account/confirm", {"password": "wrong password"}, at="/account/confirm")

    juror, nomination = people.juror, people.nomination
    for path in (
        "/jury",
        f"/jury/editions/{edition}",
        f"/jury/editions/{edition}/conflicts",
        f"/jury/nominations/{nomination}",
    ):
        await log.visit(juror, path)
    conflicts = f"/jury/editions/{edition}/conflicts"
    await log.errors(
        juror, conflicts, {f"answer_{nomination}": "conflict", f"kind_{nomination}": "other"}, at=conflicts
    )
    score = {f"score_{people.setup.criteria[0]}": "11"}
    await log.errors(
        juror, f"/jury/nominations/{nomination}/score", score, at=f"/jury/nominations/{nomination}", button="Submit"
    )

    for path in (f"/jury/editions/{edition}", f"/jury/editions/{edition}/matrix", f"/jury/editions/{edition}/results"):
        await log.visit(people.chair, path)
    await log.visit(people.chair, f"/jury/editions/{edition}/close-scoring")  # its confirmation page


async def the_deliberation(people: People) -> None:
    """The chair's, a juror's and the clerk's pages; then the decision form, empty and refused."""
    setup, log, edition = people.setup, people.log, people.edition
    await scoring_round.close_scoring(chair_id=setup.chair.id, edition_id=edition)
    await deliberated(setup)
    for path in ("results", "deliberation", "minutes"):
        await log.visit(people.chair, f"/jury/editions/{edition}/{path}")
        await log.visit(people.clerk, f"/staff/editions/{edition}/{path}")
    await log.visit(people.juror, f"/jury/editions/{edition}/deliberation")
    await log.visit(people.juror, f"/jury/nominations/{people.nomination}")
    await log.visit(people.chair, f"/jury/editions/{edition}/deliberation/recommend")  # its confirmation page

    await deliberation.recommend(chair_id=setup.chair.id, edition_id=edition)
    await log.visit(people.clerk, f"/staff/editions/{edition}")
    await log.visit(people.clerk, f"/staff/editions/{edition}/decision")
    await log.errors(people.clerk, f"/staff/editions/{edition}/decision", {"number": "", "decided_on": ""})


async def the_approval_and_publication(people: People) -> None:
    """The decision's record, the publication form, the laureates' records before and after."""
    setup, log, clerk, edition = people.setup, people.log, people.clerk, people.edition
    listed = {r.nominee_name.split()[0]: r.nomination_id for r in await approval.recommended(edition)}
    await approval.record_decision(
        acknowledged=True,
        actor_id=setup.clerk.id,
        edition_id=edition,
        data=DecisionData(
            kind=ApprovingBody.COUNCIL_RESOLUTION,
            number="LXXXV/2418/22",
            decided_on=utcnow().date(),
            document=Upload("uchwała.pdf", PDF),
            outcomes={listed["Olena"]: Outcome(Distinction.TITLE), listed["Bohdan"]: Outcome(Distinction.MENTION)},
            votes_for=35,
        ),
    )
    olena = await Laureate.select(Laureate.id).where(Laureate.name == "Olena Kovalenko").first()
    assert olena is not None
    record = f"/staff/laureates/{olena['id']}"
    for path in ("", "/decision", "/publication", "/laureates"):
        await log.visit(clerk, f"/staff/editions/{edition}{path}")
    await log.visit(clerk, record)
    await log.errors(clerk, record, {"name": ""}, button="Save")
    publishing = f"/staff/editions/{edition}/publication"
    await log.errors(clerk, publishing, {"published_time": "12:00"}, at=publishing)

    published_at = utcnow() - dt.timedelta(minutes=1)
    await publication.publish(
        actor_id=setup.clerk.id, edition_id=edition, published_at=published_at, base_url=BASE, acknowledged=True
    )
    await log.visit(clerk, publishing)
    await log.visit(clerk, f"/staff/editions/{edition}/laureates")
    await log.visit(clerk, record)
    await log.errors(clerk, record, {"citation_en": "Changed.", "reason": ""}, button="Save the correction")
    await log.errors(clerk, f"{record}/withdraw", {"withdraw_reason": "A reason."}, at=f"{record}/withdraw")


async def test_staff_and_jury_pages_through_an_edition(browsing: Browsing) -> None:
    setup = await scored_edition(close=False)
    checking = await checked_edition(clerk_id=setup.clerk.id, year=2024)
    paper = await paper_nomination(checking, clerk_id=setup.clerk.id, uploads=[Upload("scan.png", PNG)])
    clerk, juror, chair = [await browsing.new_page() for _ in range(3)]
    for narrow in (clerk, chair):  # the juror keeps a desktop window
        await narrow.set_viewport_size(NARROW)
    people = People(setup, checking.id, paper, clerk=clerk, juror=juror, chair=chair)
    for page, account in ((clerk, setup.clerk), (juror, setup.jurors[1]), (chair, setup.chair)):
        await log_in(page, account.email)

    await the_formal_check_and_scoring(people)
    await the_deliberation(people)
    await the_approval_and_publication(people)
    people.log.assert_clean()


async def test_administration_pages(browsing: Browsing) -> None:
    admin = await make_user("admin@example.org", (Role.ADMIN,), name="Adam Admin")
    clerk = await make_user("clerk@example.org", (Role.CLERK,), name="Celina Clerk")
    page = await browsing.new_page()
    await page.set_viewport_size(NARROW)
    log = AxeLog()
    await log_in(page, admin.email)
    for path in (
        "/staff",
        "/admin/users",
        "/admin/users/new",
        f"/admin/users/{clerk.id}",
        "/admin/security",
        "/admin/audit",
        f"/admin/users/{clerk.id}/sessions/end",
        "/admin/sessions/end",
    ):
        await log.visit(page, path)
    await page.goto("/admin/users/new")
    await log.errors(page, "/admin/users/new", {"email": "not an address"})
    log.assert_clean()
