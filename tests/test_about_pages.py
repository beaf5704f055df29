"""What Polish law asks of a public body's site: the accessibility statement, the title as
text, in easy-to-read text and in Polish Sign Language; linked from every page's footer."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from httpx import Response
from litestar.testing import AsyncTestClient

from ambassador import honour
from ambassador.enums import Role
from ambassador.settings import Settings
from ambassador.web import about
from ambassador.web.app import create_app
from ambassador.web.middleware import CONTENT_SECURITY_POLICY
from tests.archive_factories import add_laureate, archive_edition
from tests.conftest import Client
from tests.factories import make_edition, make_user
from tests.helpers import login
from tests.honours import FICTIONAL, honour_active

# Each section of the statement, by the id the ministry's template gives it.
SECTIONS = (
    "a11y-wstep",
    "a11y-podmiot",
    "a11y-url",
    "a11y-data-publikacja",
    "a11y-data-aktualizacja",
    "a11y-status",
    "a11y-data-sporzadzenie",
    "a11y-ocena",
    "a11y-kontakt",
    "a11y-osoba",
    "a11y-procedura",
    "a11y-architektura",
    "a11y-aplikacje",
    "a11y-informacje",
)
HEADINGS = {
    "pl": [
        "Deklaracja dostępności",
        "Wstęp deklaracji",
        "Daty publikacji i aktualizacji",
        "Status pod względem zgodności z ustawą",
        "Treści niedostępne",
        "Wyłączenia",
        "Sporządzenie deklaracji dostępności",
        "Informacje zwrotne i dane kontaktowe",
        "Procedura wnioskowo-skargowa",
        "Dostępność architektoniczna",
        "Aplikacje mobilne",
        "Informacje dodatkowe",
    ],
    "en": [
        "Accessibility statement",
        "Introduction",
        "Publication and update dates",
        "Compliance status",
        "Non-accessible content",
        "Exemptions",
        "Preparation of this statement",
        "Feedback and contact information",
        "Requests and complaints",
        "Architectural accessibility",
        "Mobile applications",
        "Additional information",
    ],
    "uk": [
        "Декларація доступності",
        "Вступ",
        "Дати публікації та оновлення",
        "Статус відповідності закону",
        "Недоступний вміст",
        "Винятки",
        "Підготовка декларації",
        "Зворотний зв'язок і контактні дані",
        "Порядок подання вимог і скарг",
        "Архітектурна доступність",
        "Мобільні застосунки",
        "Додаткова інформація",
    ],
}
FOOTER_LINKS = ("/accessibility", "/about", "/about/easy-read")


async def get(client: Client, path: str, language: str = "pl") -> Response:
    """A page in ``language`` as a browser gets it (following a redirect to a per-language address)."""
    client.cookies.set("lang", language, domain="testserver.local")
    return await client.get(path, headers={"accept-language": language}, follow_redirects=True)


def headings(page: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", h)).strip() for h in re.findall(r"<h[123][^>]*>(.*?)</h[123]>", page)]


def by_id(page: str, element_id: str) -> str:
    """The text of the element with this id (its tags removed)."""
    found = re.search(rf'<(\w+)[^>]* id="{element_id}"[^>]*>(.*?)</\1>', page, re.S)
    assert found is not None, element_id
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(2))).strip()


def footer(page: str) -> str:
    found = re.search(r'<footer class="site-footer">(.*?)</footer>', page, re.S)
    assert found is not None
    return found.group(1)


def footer_links(page: str) -> list[str]:
    """The footer's links to the law's pages, without a language prefix (/pl/accessibility is /accessibility)."""
    hrefs = re.findall(r'href="([^"]+)"', footer(page))
    return [re.sub(r"^/(pl|en|uk)(?=/)", "", href) for href in hrefs]


@pytest.mark.parametrize("language", ["pl", "en", "uk"])
async def test_the_statement_has_every_section_of_the_template_in_each_language(client: Client, language: str) -> None:
    page = await get(client, "/accessibility", language)

    assert (page.status_code, page.headers["content-type"]) == (200, "text/html; charset=utf-8")
    assert f'<html lang="{language}">' in page.text
    assert [element for element in SECTIONS if f'id="{element}"' not in page.text] == []
    assert headings(page.text) == HEADINGS[language]


async def test_the_statement_carries_the_shipped_honours_values(client: Client, settings: Settings) -> None:
    page = (await get(client, "/accessibility", "pl")).text

    assert by_id(page, "a11y-podmiot") == "Urząd Miasta Krakowa"
    assert re.search(r'<a id="a11y-url" href="([^"]+)"', page).group(1) == settings.base_url  # type: ignore[union-attr]
    assert by_id(page, "a11y-data-publikacja") == "2026-12-05"
    assert '<time id="a11y-data-aktualizacja" datetime="2026-12-05">2026-12-05</time>' in page
    assert by_id(page, "a11y-data-sporzadzenie") == "2026-12-05"
    assert 'id="a11y-data-przeglad"' not in page  # not reviewed yet
    assert by_id(page, "a11y-status").startswith("Strona internetowa jest częściowo zgodna z ustawą z dnia 4 kwietnia")
    assert by_id(page, "a11y-ocena") == (
        "Deklarację sporządzono na podstawie samooceny przeprowadzonej przez podmiot publiczny."
    )
    assert by_id(page, "a11y-osoba") == "Koordynator do spraw dostępności Urzędu Miasta Krakowa"
    assert by_id(page, "a11y-adres") == "pl. Wszystkich Świętych 3-4, 31-004 Kraków"
    assert by_id(page, "a11y-skargi") == "Prezydent Miasta Krakowa, pl. Wszystkich Świętych 3-4, 31-004 Kraków"
    # No e-mail or phone is shipped (the office adds them): none is shown, the address is.
    assert [part for part in ('id="a11y-email"', 'id="a11y-telefon"', "mailto:", "tel:") if part in page] == []
    assert "Do budynków urzędu można wejść z psem asystującym i psem przewodnikiem." in page
    assert "<p>Do tej strony nie ma aplikacji mobilnej.</p>" in page
    assert '<a href="https://www.rpo.gov.pl/">Rzecznika Praw Obywatelskich</a>' in page


@pytest.fixture
async def lakeside_client(settings: Settings) -> AsyncIterator[Client]:
    with honour_active(None):
        async with AsyncTestClient(app=create_app(settings.with_changes(honour_file=FICTIONAL))) as test_client:
            test_client.follow_redirects = False
            yield test_client


async def test_the_statement_carries_another_honours_values(lakeside_client: Client) -> None:
    page = (await get(lakeside_client, "/accessibility", "en")).text

    assert by_id(page, "a11y-podmiot") == "Lakeside Town Hall"
    assert '<a id="a11y-url" href="https://medal.lakeside.example">' in page
    dates = ("publikacja", "aktualizacja", "sporzadzenie", "przeglad")
    assert [by_id(page, f"a11y-data-{name}") for name in dates] == [
        "2021-03-15",
        "2025-09-01",
        "2021-03-20",
        "2026-03-30",
    ]
    assert by_id(page, "a11y-status").startswith("This website is not compliant with the act of 4 April 2019")
    assert "<li>The gala recordings have no captions.</li>" in page
    assert "<li>The map to the town hall is a picture without a description.</li>" in page
    assert 'id="a11y-wylaczenia"' not in page  # no exemptions given
    assert by_id(page, "a11y-audytor") == "Lakeside Accessibility Lab"
    assert by_id(page, "a11y-osoba") == "Anna Brzeg, town hall office"
    assert '<a id="a11y-email" href="mailto:access@lakeside.example">access@lakeside.example</a>' in page
    assert '<a id="a11y-telefon" href="tel:+48123456789">+48 12 345 67 89</a>' in page
    assert by_id(page, "a11y-skargi") == "the Mayor of Lakeside, 1 Shore Road, Lakeside"
    assert "<p>The town hall has a step-free entrance on the lake side.</p>" in page
    assert "<p>The Lakeside Medal app for Android partially complies with the act.</p>" in page
    assert "<p>The town hall has an induction loop in the council room.</p>" in page
    assert "Kraków" not in page


async def test_without_a_recording_the_title_page_says_how_to_get_it_in_sign_language(client: Client) -> None:
    page = await get(client, "/about", "pl")

    assert page.status_code == 200
    assert "<video" not in page.text
    assert "Na tej stronie nie ma jeszcze nagrania w polskim języku migowym." in page.text
    assert (
        "Aby otrzymać tę informację w polskim języku migowym, zwróć się do osoby kontaktowej "
        "(Koordynator do spraw dostępności Urzędu Miasta Krakowa):" in page.text
    )
    assert "<li>Adres: pl. Wszystkich Świętych 3-4, 31-004 Kraków</li>" in page.text
    assert honour.shipped().text("description", "pl") in page.text
    assert "media-src" not in page.headers["content-security-policy"]


async def test_a_configured_recording_is_shown_with_its_transcript(lakeside_client: Client) -> None:
    page = await get(lakeside_client, "/about", "en")

    assert page.status_code == 200
    assert '<source src="https://video.lakeside.example/medal-pjm.webm" type="video/webm">' in page.text
    assert '<a href="https://video.lakeside.example/medal-pjm.txt">Transcript of the recording</a>' in page.text
    assert "This site has no recording in Polish Sign Language yet." not in page.text
    # The page's own policy lets the <video> load from the recording's site, and nothing else changes.
    assert page.headers["content-security-policy"].endswith("; media-src 'self' https://video.lakeside.example")
    assert page.headers["content-security-policy"].startswith("default-src 'self'")


async def test_a_recording_file_beside_the_honour_file_is_served_by_the_app(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    video = tmp_path / "pjm.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    logo = str(FICTIONAL.parent / "lakeside-logo.svg")
    text = FICTIONAL.read_text(encoding="utf-8").replace("lakeside-logo.svg", logo)
    text = text.replace('video = "https://video.lakeside.example/medal-pjm.webm"', 'video = "pjm.mp4"')
    text = text.replace('transcript = "https://video.lakeside.example/medal-pjm.txt"\n', "")
    path = tmp_path / "honour.toml"
    path.write_text(text, encoding="utf-8")
    with honour_active(None):
        async with AsyncTestClient(app=create_app(settings.with_changes(honour_file=path))) as own:
            page = await get(own, "/about", "en")
            served = await own.get("/about/sign-language-video")

    assert '<source src="/about/sign-language-video" type="video/mp4">' in page.text
    assert '<a href="#about-text">Transcript of the recording</a>' in page.text  # the page's text
    assert "media-src" not in page.headers["content-security-policy"]
    assert (served.status_code, served.headers["content-type"], served.content) == (
        200,
        "video/mp4",
        video.read_bytes(),
    )


async def test_without_a_recording_file_there_is_none_to_serve(client: Client) -> None:
    assert (await client.get("/about/sign-language-video")).status_code == 404


@pytest.mark.parametrize(
    ("language", "first", "process"),
    [
        ("pl", "Kraków to miasto wielu kultur.", "Tytuł przyznaje Prezydent Miasta Krakowa."),
        ("en", "Kraków is a city of many cultures.", "The title is given by the Mayor of the City of Kraków."),
        ("uk", "Краків — місто багатьох культур.", "Звання присуджує Президент міста Кракова."),
    ],
)
async def test_the_easy_to_read_text_is_one_sentence_a_line(
    client: Client, language: str, first: str, process: str
) -> None:
    page = await get(client, "/about/easy-read", language)

    assert (page.status_code, page.headers["content-type"]) == (200, "text/html; charset=utf-8")
    assert f"<p>{first}</p>" in page.text
    assert f"<p>{process}</p>" in page.text
    article = re.search(r'<article class="easy-read">(.*)</article>', page.text, re.S)
    assert article is not None
    sentences = re.findall(r"<p>([^<]*)</p>", article.group(1))
    # Short sentences: one idea each, none longer than 20 words.
    assert max(len(sentence.split()) for sentence in sentences) <= 20


async def test_the_easy_to_read_text_of_another_honour_is_its_own(lakeside_client: Client) -> None:
    page = await get(lakeside_client, "/about/easy-read", "pl")

    assert "<p>Lakeside to miasteczko nad jeziorem.</p>" in page.text
    assert "<p>Tytuł przyznaje Rada Gminy Lakeside.</p>" in page.text
    assert '<p>E-mail: <a href="mailto:access@lakeside.example">access@lakeside.example</a></p>' in page.text


async def test_the_home_page_links_to_the_title_told_plainly(client: Client) -> None:
    page = await get(client, "/", "en")

    main = page.text.split("<main", 1)[1].split("</main>", 1)[0]
    links = [re.sub(r"^/(pl|en|uk)(?=/)", "", href) for href in re.findall(r'href="([^"]+)"', main)]
    assert {"/about", "/about/easy-read", "/about#pjm"} <= set(links)


async def test_every_kind_of_page_links_to_the_statement_in_its_footer(client: Client) -> None:
    await make_edition(year=2026)
    edition = await archive_edition(2023)
    slug = await add_laureate(edition, "Jan Kowalski")
    await make_user("clerk@example.org", (Role.CLERK,))
    public = [
        "/",
        "/nominate",
        "/laureates",
        "/editions/2023",
        f"/laureates/{slug}",
        "/accessibility",
        "/about",
        "/about/easy-read",
        "/login",
        "/no-such-page",
    ]
    found = {}
    for language in ("pl", "en", "uk"):
        for path in public:
            page = await get(client, path, language)
            found[(language, path)] = (page.status_code, footer_links(page.text))
    await login(client, "clerk@example.org")
    staff = await get(client, "/staff", "pl")

    expected = {
        (language, path): (404 if path == "/no-such-page" else 200, list(FOOTER_LINKS))
        for language in ("pl", "en", "uk")
        for path in public
    }
    assert found == expected
    assert (staff.status_code, footer_links(staff.text)) == (200, list(FOOTER_LINKS))
    names = {"pl": "Deklaracja dostępności", "en": "Accessibility statement", "uk": "Декларація доступності"}
    for language, name in names.items():
        page = await get(client, "/laureates", language)
        assert f">{name}</a>" in footer(page.text)


def test_only_a_plain_host_widens_the_policy_for_the_recording() -> None:
    widened = about.media_policy("https://video.example:8443/pjm.mp4?x=1")

    assert widened == {
        "content-security-policy": f"{CONTENT_SECURITY_POLICY}; media-src 'self' https://video.example:8443"
    }
    assert about.media_policy("https://video.example;script-src */pjm.mp4") == {}
    assert about.media_policy(about.VIDEO_PATH) == {}
