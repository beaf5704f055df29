"""Laureates' pictures in a browser: the clerk uploads a portrait on the laureate's page, the
archive shows it on a card on a phone (390x844), with the search box, the pagination bar and
the facts wrapping as they should; axe-core finds nothing.

The phone screenshots of the archive go to docs/guides/img/archive-cards-<language>.png (the
same rules as the guides' screenshots: rewritten only when the page visibly changed).
"""

from __future__ import annotations

from playwright.async_api import FilePayload, Page, ViewportSize, expect

from ambassador.domain import laureates
from ambassador.domain.laureates import RecordData
from ambassador.enums import Role
from ambassador.tables import Laureate, PortraitImage
from tests.archive_factories import add_laureate, archive_edition
from tests.browser.conftest import LOOP, Browsing
from tests.browser.helpers import assert_accessible, log_in
from tests.browser.test_guide_screenshots import _VOLATILE_BOXES, IMAGES, PHONE, VOLATILE, store
from tests.factories import make_user
from tests.portrait_factories import jpeg, png_logo

pytestmark = LOOP

TABLET: ViewportSize = {"width": 560, "height": 900}

# A word of the page split over two lines: a Range over it has more than one line box.
_SPLIT_WORDS = """(selector) => {
  const split = [];
  for (const element of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.textContent.matchAll(/[^\\s]+/gu)) {
        if (match[0].length > 30) continue;  // a URL or an address may break
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (tops.size > 1) split.push(match[0]);
      }
    }
  }
  return split;
}"""


async def split_words(page: Page, selector: str) -> list[str]:
    return list(await page.evaluate(_SPLIT_WORDS, selector))


async def upload_picture(page: Page, laureate_id: int, data: bytes, name: str, kind: str = "portrait") -> None:
    """The clerk's form on the laureate's page, filled as a person would."""
    await page.goto(f"/staff/laureates/{laureate_id}")
    form = page.locator(f'form[action="/staff/laureates/{laureate_id}/portrait"]')
    payload: FilePayload = {
        "name": name,
        "mimeType": "image/png" if name.endswith(".png") else "image/jpeg",
        "buffer": data,
    }
    await form.locator('input[name="picture"]').set_input_files(files=payload)
    await form.get_by_label("Kind").select_option(kind)
    await form.get_by_label("Description of the picture (Polski)").fill("Olena Kowalenko przed biblioteką.")
    await form.get_by_label("Description of the picture (English)").fill("Olena Kovalenko in front of a library.")
    await form.get_by_label("Description of the picture (Українська)").fill("Олена Коваленко перед бібліотекою.")
    await form.get_by_label("Photographer or source").fill("Jan Kowalski")
    await form.get_by_label("Licence or permission").fill("CC BY 4.0")
    await form.get_by_label("agreed to the publication").check()
    await form.get_by_role("button", name="Save the picture").click()
    await expect(page.get_by_text("The picture is saved.")).to_be_visible()


async def test_an_uploaded_portrait_shows_on_the_archive_cards_on_a_phone(browsing: Browsing) -> None:
    edition = await archive_edition(2024)
    olena = await add_laureate(
        edition,
        "Olena Kovalenko",
        citation_en="Runs a bilingual reading club.",
        source_url="https://example.org/" + "x" * 80,
    )
    foundation = await add_laureate(edition, "Fundacja Wielokulturowości Krakowskiej", category="A")
    for number in range(22):  # two pages: the pagination bar shows
        await add_laureate(edition, f"Zofia Numer {number:02d}")
    ids = {r["slug"]: r["id"] for r in await Laureate.select(Laureate.slug, Laureate.id)}
    clerk = await make_user("celina.clerk@example.org", (Role.CLERK,), name="Celina Clerk")
    # A correction: the clerk's page gets the table of earlier versions.
    corrected = RecordData(
        name="Olena Kovalenko",
        citation_en="Runs a bilingual reading club for children and their parents in Nowa Huta.",
        citation_uk="Веде двомовний читацький клуб для дітей та їхніх батьків у Новій Гуті.",
    )
    await laureates.edit(
        actor_id=clerk.id,
        laureate_id=ids[olena],
        data=corrected,
        reason="Uzupełniono nazwę dzielnicy na prośbę laureatki; poprzednia wersja była niepełna.",
    )

    page = await browsing.new_page()
    await log_in(page, clerk.email)
    await upload_picture(page, ids[olena], jpeg(1600, 1200), "olena.jpg")
    await upload_picture(page, ids[foundation], png_logo(), "logo.png", kind="logo")
    assert await PortraitImage.count() == 5
    await assert_accessible(page)  # the clerk's page with a picture and its form
    # The facts and tables wrap between words at any width (here a phone and a small tablet).
    for size in (PHONE, TABLET):
        await page.set_viewport_size(size)
        for laureate_id in (ids[foundation], ids[olena]):
            await page.goto(f"/staff/laureates/{laureate_id}")
            assert await split_words(page, ".facts, td, th, main p") == [], (size, laureate_id)

    for lang, query in (("en", ""), ("pl", "")):
        reader = await browsing.new_page()
        await reader.set_viewport_size(PHONE)
        await reader.goto(f"/language/{lang}?next=/laureates{query}")
        cards = reader.locator(".laureate-card.has-picture")
        await expect(cards).to_have_count(2)
        picture = cards.first.locator("img")
        await expect(picture).to_have_attribute(
            "srcset", f"/portraits/{foundation}/1/320.webp 320w, /portraits/{foundation}/1/500.webp 500w"
        )
        # The picture is loaded, as wide as its card, and the browser chose a copy by srcset.
        loaded = await picture.evaluate("(img) => img.complete && img.naturalWidth > 0 && img.currentSrc")
        assert loaded and "/portraits/" in loaded
        card_width = await cards.first.evaluate("(card) => card.getBoundingClientRect().width")
        assert abs(await picture.evaluate("(img) => img.getBoundingClientRect().width") - card_width) <= 2

        search = reader.locator("#f-q")
        size, height = await search.evaluate(
            "(input) => [parseFloat(getComputedStyle(input).fontSize), input.getBoundingClientRect().height]"
        )
        assert size >= 16 and height >= 44
        bar = reader.locator("nav.pagination ul")
        assert await bar.evaluate("(ul) => [getComputedStyle(ul).display, getComputedStyle(ul).listStyleType]") == [
            "flex",
            "none",
        ]
        await expect(reader.locator('nav.pagination a[aria-current="page"]')).to_have_text(
            "Page 1" if lang == "en" else "Strona 1"
        )
        await assert_accessible(reader)
        await reader.locator('p[role="status"]').evaluate("(status) => status.scrollIntoView({block: 'start'})")
        png = await reader.screenshot(animations="disabled", caret="hide")
        store(png, IMAGES / f"archive-cards-{lang}.png", await reader.evaluate(_VOLATILE_BOXES, VOLATILE))

        await reader.goto(f"/laureates/{olena}")
        figure = reader.locator("figure.laureate-picture")
        await expect(figure.locator("figcaption")).to_contain_text("Jan Kowalski")
        assert await split_words(reader, ".facts, main p") == []
        await assert_accessible(reader)
