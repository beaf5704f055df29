"""The screenshots of the user guides (docs/guides/), taken along each role's main path in
Polish and in English; every step first checks the page's heading, so a changed page fails here.

The images are written to docs/guides/img/<role>-<step>-<language>.png: viewport only (1280x800
on a desktop, 390x844 on a phone), reduced to 256 colours. An image is rewritten only when more
than a few dozen pixels differ visibly from the stored one outside the text that changes from
run to run (dates, times, random ids: ``VOLATILE``), so a rerun leaves git clean while a changed
page shows as a changed image. How to refresh and commit them: docs/testing.md.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw
from playwright.async_api import FilePayload, Page, ViewportSize, expect

from ambassador.db import utcnow
from ambassador.domain import approval, conflict_declarations, deliberation
from ambassador.domain.approval import DecisionData, Outcome
from ambassador.domain.nominations import Upload
from ambassador.enums import ApprovingBody, ConflictKind, Distinction, Role, VoteChoice
from ambassador.tables import Nomination
from tests.archive_factories import add_laureate, archive_edition
from tests.browser.conftest import LOOP, ROOT, Browsing
from tests.browser.helpers import confirm_step, log_in, mailed_path
from tests.clerk_factories import PNG, checked_edition, paper_nomination
from tests.confirm_pages import decision_pdf
from tests.deliberation_factories import SCORES, THIRD, deliberated, propose, scored_edition, vote
from tests.factories import PDF, make_edition, make_user
from tests.jury_factories import NOMINEES, declare_none, scoring_edition, submit_scores

pytestmark = LOOP

IMAGES = ROOT / "docs" / "guides" / "img"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
# A difference of a pixel's grey level above this is visible (below: anti-aliasing noise).
VISIBLE = 40
# Chromium draws a few pixels of a radio button or a border differently from run to run: that
# many visibly changed pixels are still no change (a changed word alone makes hundreds).
STRAY_PIXELS = 64
# Text that differs on every run: dates and times (the data is made relative to now), hex ids.
VOLATILE = r"\d{1,2}:\d{2}|\d{4}-\d{2}-\d{2}|\d{1,2} \p{L}{3,}\.? \d{4}|\p{L}{3} \d{1,2}, \d{4}|[0-9a-f]{12,}"
_VOLATILE_BOXES = """(pattern) => {
  const volatile = new RegExp(pattern, "u");
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const boxes = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!volatile.test(node.textContent)) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) boxes.push([r.left, r.top, r.right, r.bottom]);
  }
  return boxes;
}"""
LANGUAGES = ("pl", "en")
NOMINATOR = "anna.nowak@example.org"


def text(lang: str, pl: str, en: str) -> str:
    return pl if lang == "pl" else en


def store(png: bytes, path: Path, volatile: list[list[float]]) -> bool:
    """Write the screenshot (256 colours, optimised) unless the stored one looks the same outside
    the ``volatile`` boxes; whether it was written.

    The comparison maps the new picture onto the stored picture's palette, so that a palette
    chosen a little differently (a date's digits change the colour counts) is no difference,
    and allows ``STRAY_PIXELS`` of rendering noise.
    """
    image = Image.open(io.BytesIO(png)).convert("RGB")
    if path.exists():
        with Image.open(path) as old:
            old.load()
            if old.mode == "P" and old.size == image.size:
                same_palette = image.quantize(palette=old, dither=Image.Dither.NONE)
                changed = ImageChops.difference(old.convert("RGB"), same_palette.convert("RGB")).convert("L")
                changed = changed.point(lambda level: 255 * (level > VISIBLE))
                draw = ImageDraw.Draw(changed)
                for left, top, right, bottom in volatile:
                    draw.rectangle((left - 2, top - 2, right + 2, bottom + 2), fill=0)
                if changed.histogram()[255] <= STRAY_PIXELS:
                    return False
    path.parent.mkdir(parents=True, exist_ok=True)
    image.quantize(colors=256, dither=Image.Dither.NONE).save(path, optimize=True)
    return True


async def shot(page: Page, name: str, lang: str, heading: str, *, hide: tuple[str, ...] = (), show: str = "") -> None:
    """Check the page's main heading, then keep what the window shows as ``name``-``lang``.png:
    the top of the page, or the middle of what the selector ``show`` finds; ``hide``: selectors
    of what must not be published (a secret), painted over."""
    await page.wait_for_load_state("load")
    assert (await page.get_by_role("heading", level=1).inner_text()).strip() == heading
    if show:
        await page.locator(show).evaluate("(element) => element.scrollIntoView({block: 'center'})")
    else:
        await page.evaluate("window.scrollTo(0, 0)")
    png = await page.screenshot(
        animations="disabled", caret="hide", mask=[page.locator(selector) for selector in hide], mask_color="#888"
    )
    store(png, IMAGES / f"{name}-{lang}.png", await page.evaluate(_VOLATILE_BOXES, VOLATILE))


async def in_language(page: Page, lang: str, then: str = "/") -> None:
    """The language switch in the page's footer, as a person would use it."""
    await page.goto(f"/language/{lang}?next={then}")


async def person(browsing: Browsing, lang: str, size: ViewportSize = DESKTOP) -> Page:
    page = await browsing.new_page()
    await page.set_viewport_size(size)
    await in_language(page, lang)
    return page


async def reference_of(nomination_id: int) -> str:
    row = await Nomination.select(Nomination.reference).where(Nomination.id == nomination_id).first()
    assert row is not None
    return str(row["reference"])


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_citizen(browsing: Browsing, lang: str) -> None:
    edition = await make_edition(year=2025)
    archived = await archive_edition(2024)
    await add_laureate(archived, "Olena Kovalenko", citation_en="Runs a bilingual reading club.")
    await add_laureate(archived, "Fundacja Most", category="A", distinction="mention", citation_en="Festivals.")
    page = await person(browsing, lang)

    await page.goto("/")
    await shot(
        page,
        "citizen-home",
        lang,
        text(lang, "Krakowski Ambasador Wielokulturowości", "Krakow Ambassador of Multiculturalism"),
    )
    await page.goto("/laureates")
    await shot(page, "citizen-archive", lang, text(lang, "Laureaci", "Laureates"))

    await page.goto("/nominate")
    form_heading = text(lang, "Zgłoś kandydaturę do tytułu", "Nominate for the title")
    await shot(page, "citizen-form-desktop", lang, form_heading)
    await page.set_viewport_size(PHONE)
    await shot(page, "citizen-form-phone", lang, form_heading)
    await page.set_viewport_size(DESKTOP)

    # The last category is the one for people; the fields by their ids (the labels are translated).
    await page.locator('input[name="category"]').last.check()
    await page.locator("#f-nominee_name").fill("Olena Kovalenko")
    await page.locator("#f-nominee_email").fill("olena@example.org")
    await page.locator(f"#f-description_{edition.criteria[0].id}").fill(
        text(lang, "Prowadzi dwujęzyczny klub czytelniczy dla dzieci.", "Runs a bilingual reading club for children.")
    )
    await page.locator("#f-nominator_name").fill("Anna Nowak")
    await page.locator("#f-nominator_email").fill(NOMINATOR)
    await page.locator("#f-privacy_ack").check()
    await page.locator(f'form[action="/{lang}/nominate"] button[type="submit"]:not([name])').click()
    await shot(page, "citizen-sent", lang, text(lang, "Sprawdź skrzynkę pocztową", "Check your mailbox"))

    await page.goto(await mailed_path(NOMINATOR, r"/n/confirm/[A-Za-z0-9_-]+"))
    await shot(page, "citizen-confirm", lang, text(lang, "Potwierdź swoje zgłoszenie", "Confirm your nomination"))
    await page.locator("main form button[type=submit]").click()
    await expect(page.get_by_role("status")).to_be_visible()
    confirmed = text(lang, "Twoje zgłoszenie zostało potwierdzone", "Your nomination is confirmed")
    await shot(page, "citizen-confirmed", lang, confirmed)

    row = await Nomination.select(Nomination.id).where(Nomination.nominee_name == "Olena Kovalenko").first()
    assert row is not None
    reference = await reference_of(row["id"])
    await page.goto(await mailed_path(NOMINATOR, r"/n/[A-Za-z0-9_-]{20,}"))
    await shot(page, "citizen-manage", lang, text(lang, "Twoje zgłoszenie ", "Your nomination ") + reference)
    await page.locator('main a[href$="/edit"]').click()
    await shot(page, "citizen-edit", lang, text(lang, "Zmień swoje zgłoszenie", "Change your nomination"))


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_clerk(browsing: Browsing, lang: str) -> None:
    setup = await scored_edition()
    await deliberated(setup)
    await deliberation.recommend(chair_id=setup.chair.id, edition_id=setup.edition.id)
    checking = await checked_edition(clerk_id=setup.clerk.id, year=2024)
    paper = await paper_nomination(checking, clerk_id=setup.clerk.id, uploads=[Upload("scan.png", PNG)])
    await paper_nomination(
        checking,
        clerk_id=setup.clerk.id,
        nominee_name="Bohdan Melnyk",
        nominee_email="bohdan@example.org",
        nominator_name="Piotr Zieliński",
        nominator_email="piotr@example.org",
    )
    page = await browsing.new_page()
    await page.set_viewport_size(DESKTOP)
    await log_in(page, setup.clerk.email)
    await in_language(page, lang, "/staff")

    await shot(page, "clerk-home", lang, text(lang, "Panel pracownika", "Staff dashboard"))
    await page.goto(f"/staff/editions/{checking.id}")
    await shot(
        page,
        "clerk-edition",
        lang,
        text(lang, "Edycja A.D. 2024: Ambasador 2024", "Edition A.D. 2024: Ambassador 2024"),
    )
    draft = await make_edition(year=2026, clerk_id=setup.clerk.id, open_it=False)
    await page.goto(f"/staff/editions/{draft.id}")
    await shot(
        page,
        "clerk-categories",
        lang,
        text(lang, "Edycja A.D. 2026: Ambasador 2026", "Edition A.D. 2026: Ambassador 2026"),
        show="#categories-section",
    )
    await page.goto(f"/staff/categories/{draft.categories[0].id}/edit")
    await shot(page, "clerk-category-form", lang, text(lang, "Edytuj kategorię A", "Edit the category A"))
    await page.goto(f"/staff/editions/{checking.id}/nominations")
    await shot(
        page,
        "clerk-nominations",
        lang,
        text(lang, "Zgłoszenia w edycji A.D. 2024", "Nominations of the edition A.D. 2024"),
    )
    await page.goto(f"/staff/nominations/{paper}")
    reference = await reference_of(paper)
    await shot(page, "clerk-dossier", lang, text(lang, "Zgłoszenie ", "Nomination ") + f"{reference}: Olena Kovalenko")

    edition = setup.edition.id
    await page.goto(f"/staff/editions/{edition}/jury")
    await shot(page, "clerk-jury", lang, text(lang, "Kapituła edycji A.D. 2025", "The jury of the edition A.D. 2025"))
    await page.goto(f"/staff/editions/{edition}/decision")
    await shot(
        page,
        "clerk-decision",
        lang,
        text(lang, "Decyzja organu zatwierdzającego, A.D. 2025", "Decision of the approving body, A.D. 2025"),
    )

    listed = {r.nominee_name.split()[0]: r.nomination_id for r in await approval.recommended(edition)}
    await approval.record_decision(
        acknowledged=True,
        actor_id=setup.clerk.id,
        edition_id=edition,
        data=DecisionData(
            kind=ApprovingBody.COUNCIL_RESOLUTION,
            number="LXXXV/2418/25",
            decided_on=utcnow().date(),
            document=Upload("uchwala.pdf", PDF),
            outcomes={listed["Olena"]: Outcome(Distinction.TITLE), listed["Bohdan"]: Outcome(Distinction.MENTION)},
            votes_for=35,
        ),
    )
    await page.goto(f"/staff/editions/{edition}/laureates")
    await shot(page, "clerk-laureates", lang, text(lang, "Laureaci: A.D. 2025", "Laureates: A.D. 2025"))
    await page.goto(f"/staff/editions/{edition}/publication")
    await shot(
        page,
        "clerk-publication",
        lang,
        text(lang, "Publikacja laureatów, A.D. 2025", "Publication of the laureates, A.D. 2025"),
    )


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_jury(browsing: Browsing, lang: str) -> None:
    setup = await scoring_edition(nominees=(*NOMINEES, THIRD))
    ewa, marta, tomasz = setup.jurors
    olena, bohdan, iryna = setup.nominations
    edition = setup.edition.id

    # Marta declares and scores in the browser, as the guide shows.
    juror = await browsing.new_page()
    await juror.set_viewport_size(DESKTOP)
    await log_in(juror, marta.email)
    await in_language(juror, lang, f"/jury/editions/{edition}/conflicts")
    for nomination in setup.nominations:
        await juror.locator(f"#f-answer_{nomination}-none").check()
    await shot(
        juror, "jury-conflicts", lang, text(lang, "Konflikty interesów, A.D. 2025", "Conflicts of interest, A.D. 2025")
    )
    await juror.locator(f'form[action="/jury/editions/{edition}/conflicts"] button[type="submit"]').click()
    await shot(juror, "jury-edition", lang, text(lang, "Kapituła edycji A.D. 2025", "Jury of the edition A.D. 2025"))

    await juror.goto(f"/jury/nominations/{olena}")
    for criterion in setup.criteria:
        await juror.locator(f"#f-score_{criterion}").fill(str(SCORES[1][0]))
    reference = await reference_of(olena)
    await shot(juror, "jury-score", lang, text(lang, "Zgłoszenie ", "Nomination ") + f"{reference}: Olena Kovalenko")
    async with juror.expect_navigation():
        await juror.locator('button[name="action"][value="submit"]').click()

    # The rest of the scoring as in tests.deliberation_factories, Tomasz conflicted on Bohdan.
    for nomination, value in zip((bohdan, iryna), SCORES[1][1:], strict=True):
        assert value is not None
        await submit_scores(setup, marta, nomination, value)
    await declare_none(setup, ewa)
    await declare_none(setup, tomasz, except_for=(bohdan,))
    await conflict_declarations.declare(
        juror_id=tomasz.id, edition_id=edition, nomination_id=bohdan, conflicted=True, kind=ConflictKind.FAMILY
    )
    for account, values in ((ewa, SCORES[0]), (tomasz, SCORES[2])):
        for nomination, score in zip(setup.nominations, values, strict=True):
            if score is not None:
                await submit_scores(setup, account, nomination, score)

    # The chair closes scoring, reads the results, and after the votes signs.
    chair = await browsing.new_page()
    await chair.set_viewport_size(DESKTOP)
    await log_in(chair, ewa.email)
    await in_language(chair, lang, f"/jury/editions/{edition}")
    close = f'form[action="/jury/editions/{edition}/close-scoring"]'
    await shot(
        chair, "jury-chair", lang, text(lang, "Kapituła edycji A.D. 2025", "Jury of the edition A.D. 2025"), show=close
    )
    await chair.locator(f"{close} button").click()
    await confirm_step(chair)
    await chair.goto(f"/jury/editions/{edition}/results")
    await shot(chair, "jury-results", lang, text(lang, "Wyniki edycji A.D. 2025", "Results of the edition A.D. 2025"))
    # The chair proposes Olena for a title (two titles, no mention in the edition); all vote for.
    proposal = await propose(setup, 0, Distinction.TITLE)
    await vote(proposal, [(ewa, VoteChoice.FOR), (marta, VoteChoice.FOR), (tomasz, VoteChoice.FOR)])
    await chair.goto(f"/jury/editions/{edition}/deliberation")
    deliberation_heading = text(lang, "Obrady Kapituły, A.D. 2025", "Deliberation of the jury, A.D. 2025")
    await shot(chair, "jury-deliberation", lang, deliberation_heading)
    await chair.locator(f'form[action="/jury/editions/{edition}/deliberation/recommend"] button').click()
    await confirm_step(chair)
    await expect(chair.get_by_role("status")).not_to_have_count(0)
    await shot(chair, "jury-signed", lang, deliberation_heading)


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_admin(browsing: Browsing, lang: str) -> None:
    admin = await make_user("admin@example.org", (Role.ADMIN,), name="Adam Admin")
    clerk = await make_user("celina.clerk@example.org", (Role.CLERK,), name="Celina Clerk")
    await make_user("ewa.pawlak@example.org", (Role.JUROR,), name="Ewa Pawlak")
    page = await browsing.new_page()
    await page.set_viewport_size(DESKTOP)
    await log_in(page, admin.email)
    await in_language(page, lang, "/admin/users")

    await shot(page, "admin-users", lang, text(lang, "Konta pracowników", "Staff accounts"))
    await page.goto(f"/admin/users/{clerk.id}")
    await shot(page, "admin-user", lang, "Celina Clerk")
    await page.goto("/admin/security")
    await shot(page, "admin-security", lang, text(lang, "Zasady bezpieczeństwa", "Security policy"))
    await page.goto("/account/totp")
    await shot(
        page, "admin-totp", lang, text(lang, "Logowanie dwuetapowe", "Two-step login"), hide=(".qr svg", "code.secret")
    )
    await page.goto("/account/sessions")
    await shot(page, "admin-sessions", lang, text(lang, "Twoje sesje", "Your sessions"))
    await page.goto("/admin/audit")
    await shot(page, "admin-audit", lang, text(lang, "Dziennik zdarzeń", "Audit log"))


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_clerk_privacy_requests(browsing: Browsing, lang: str) -> None:
    """A person's request about their data: find by email, then the erasure's confirmation,
    with the keyboard; the page fits a phone's width."""
    clerk = await make_user("celina.clerk@example.org", (Role.CLERK,), name="Celina Clerk")
    edition = await make_edition(year=2025, clerk_id=clerk.id)
    await paper_nomination(edition, clerk_id=clerk.id, nominator_email=NOMINATOR)
    old = await archive_edition(2018)
    await add_laureate(old, "Olena Kovalenko")
    page = await browsing.new_page()
    await page.set_viewport_size(DESKTOP)
    await log_in(page, clerk.email)
    await in_language(page, lang, "/staff")
    await page.get_by_role(
        "link", name=text(lang, "Żądania dotyczące danych osobowych (RODO)", "Requests about personal data (GDPR)")
    ).click()
    heading = text(lang, "Żądania dotyczące danych osobowych", "Requests about personal data")

    await page.get_by_label(text(lang, "Adres e-mail lub imię i nazwisko", "Email address or name")).fill(
        NOMINATOR.upper()
    )
    await page.keyboard.press("Enter")
    # The nomination made and the receipt mailed to the address.
    await expect(page.locator("tr[data-item]")).to_have_count(2)
    await shot(page, "clerk-privacy", lang, heading, show="#results")
    await page.locator("tr[data-item] input[type=checkbox]").first.check()
    await page.get_by_role("button", name=text(lang, "Usuń zaznaczone pozycje…", "Erase the ticked items…")).click()
    await shot(page, "clerk-privacy-erase", lang, text(lang, "Potwierdź usunięcie", "Confirm the erasure"))

    await page.set_viewport_size(PHONE)
    await page.goto("/staff/privacy")
    await page.get_by_label(text(lang, "Adres e-mail lub imię i nazwisko", "Email address or name")).fill(
        "Olena Kovalenko"
    )
    await page.get_by_role("button", name=text(lang, "Szukaj", "Find")).click()
    # The nomination received and the laureate's record of 2018 (same name).
    await expect(page.locator("tr[data-item]")).to_have_count(2)
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_bulk_work(browsing: Browsing, lang: str) -> None:
    """The bulk actions of the guides: the nominations selected at once, a pasted list of
    jurors previewed, every proposal voted in one form."""
    clerk = await make_user("clerk@example.org", (Role.CLERK,), name="Celina Clerk")
    checking = await checked_edition(clerk_id=clerk.id, year=2024)
    for nominee, email in (("Olena Kovalenko", "olena@example.org"), ("Bohdan Melnyk", ""), ("Iryna Shevchenko", "")):
        await paper_nomination(checking, clerk_id=clerk.id, nominee_name=nominee, nominee_email=email)
    await make_user("marta.krawczyk@example.org", (Role.JUROR,), name="Marta Krawczyk")
    page = await browsing.new_page()
    await page.set_viewport_size(DESKTOP)
    await log_in(page, clerk.email)
    await in_language(page, lang, f"/staff/editions/{checking.id}/nominations?select=all")
    await shot(
        page,
        "clerk-bulk-nominations",
        lang,
        text(lang, "Zgłoszenia w edycji A.D. 2024", "Nominations of the edition A.D. 2024"),
        show="table.nominations",
    )
    await page.goto(f"/staff/editions/{checking.id}/jury")
    await page.locator("#f-list").fill(
        "Nowa Jurorka <nowa.jurorka@example.org>\n"
        "marta.krawczyk@example.org, Marta Krawczyk\n"
        "Jan Kowalski; jan.kowalski@example.org; Fundacja Alfa\n"
        "Bez adresu"
    )
    async with page.expect_navigation():
        await page.locator('form[action$="/jury/invite-list"] button[type="submit"]').click()
    await shot(
        page,
        "clerk-invite-list",
        lang,
        text(lang, "Zaproszenie kilku osób do jury: sprawdź listę", "Invite several jurors: check the list"),
    )

    setup = await scored_edition(year=2025)
    await propose(setup, 0, Distinction.TITLE)
    await propose(setup, 2, Distinction.TITLE)
    juror = await browsing.new_page()
    await juror.set_viewport_size(DESKTOP)
    await log_in(juror, setup.jurors[1].email)
    await in_language(juror, lang, f"/jury/editions/{setup.edition.id}/deliberation")
    proposals = await juror.locator('#votes-form input[type="radio"][value="for"]').all()
    for radio in proposals:
        await radio.check()
    await shot(
        juror,
        "jury-vote-all",
        lang,
        text(lang, "Obrady Kapituły, A.D. 2025", "Deliberation of the jury, A.D. 2025"),
        show="#votes-form",
    )


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_confirmations(browsing: Browsing, lang: str) -> None:
    """Two of the irreversible steps' confirmation pages: the chair's close of scoring and the
    clerk's decision, whose document does not carry the decision's number."""
    setup = await scored_edition(close=False)
    edition = setup.edition.id
    chair = await browsing.new_page()
    await chair.set_viewport_size(DESKTOP)
    await log_in(chair, setup.chair.email)
    await in_language(chair, lang, f"/jury/editions/{edition}/close-scoring")
    await shot(chair, "jury-close-scoring", lang, text(lang, "Zakończ ocenianie", "Close scoring"))
    await confirm_step(chair)

    await deliberated(setup)
    await deliberation.recommend(chair_id=setup.chair.id, edition_id=edition)
    clerk = await browsing.new_page()
    await clerk.set_viewport_size(DESKTOP)
    await log_in(clerk, setup.clerk.email)
    await in_language(clerk, lang, f"/staff/editions/{edition}/decision")
    await clerk.locator("#f-number").fill("LXXXV/2418/25")
    await clerk.locator("#f-decided_on").fill(utcnow().date().isoformat())
    await clerk.locator("#f-document").set_input_files(
        FilePayload(name="uchwala.pdf", mimeType="application/pdf", buffer=decision_pdf("Uchwala nr XII/100/21"))
    )
    async with clerk.expect_navigation():
        await clerk.locator('main form[method="post"] button[type="submit"]').click()
    await shot(
        clerk,
        "clerk-decision-confirm",
        lang,
        text(lang, "Decyzja organu zatwierdzającego, A.D. 2025", "Decision of the approving body, A.D. 2025"),
        show="#warnings",
    )
