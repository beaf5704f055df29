"""The installation's honour as configuration: the shipped Kraków file, a fictional one, bad files,
and the pages, mails and feeds of an app running the fictional Lakeside Medal."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from ambassador import deploycheck, honour
from ambassador.domain import editions, minutes, outbox, submission
from ambassador.honour import Accessibility, CategoryDefault, Honour, HonourError, SignLanguage
from ambassador.resources import SHIPPED_HONOUR
from ambassador.settings import ConfigurationError, Settings, load_settings, read_settings
from ambassador.tables import Edition, OutboxMail
from ambassador.web.app import create_app
from tests.conftest import Client
from tests.deliberation_factories import scored_edition
from tests.factories import make_edition, nomination_data
from tests.honours import FICTIONAL, honour_active

ROOT = Path(__file__).resolve().parent.parent
LAKESIDE = "Lakeside Medal of Neighbourliness"
LAKESIDE_PL = "Medal Dobrego Sąsiedztwa Lakeside"
LOGO = FICTIONAL.parent / "lakeside-logo.svg"
BASE = "http://testserver.local"


def lakeside_expected() -> Honour:
    return Honour(
        name={"pl": LAKESIDE_PL, "en": LAKESIDE, "uk": "Медаль добросусідства Lakeside"},
        short_name={"pl": "Medal Dobrego Sąsiedztwa", "en": "Lakeside Medal", "uk": "Медаль добросусідства"},
        description={
            "pl": "Wyróżnienie miasta Lakeside dla sąsiadów, organizacji i młodzieży, którzy dbają o dobre "
            "sąsiedztwo nad jeziorem.",
            "en": "The town of Lakeside's award for neighbours, organisations and young people who make the "
            "lakeshore a good place to live together.",
            "uk": "Відзнака міста Lakeside для сусідів, організацій і молоді, які дбають про добросусідство "
            "на березі озера.",
        },
        approving_body={"pl": "Rada Gminy Lakeside", "en": "the Lakeside Town Board", "uk": "Рада громади Lakeside"},
        controller={
            "pl": "Burmistrz Lakeside, Ratusz, ul. Nadbrzeżna 1, 00-001 Lakeside",
            "en": "the Mayor of Lakeside, Town Hall, 1 Shore Road, Lakeside",
            "uk": "Мер Lakeside, Ратуша, вул. Набережна 1, Lakeside",
        },
        legal_basis={
            "pl": "Podstawą prawną jest zgoda osoby, której dane dotyczą (art. 6 ust. 1 lit. a RODO), i regulamin "
            "Medalu przyjęty przez Radę Gminy Lakeside.",
            "en": "The legal basis is the consent of the person concerned (Article 6(1)(a) GDPR) and the rules of "
            "the Medal adopted by the Lakeside Town Board.",
            "uk": "Правова підстава — згода особи (ст. 6(1)(a) GDPR) і положення про Медаль, ухвалене Радою "
            "громади Lakeside.",
        },
        publisher={"pl": "Miasto Lakeside", "en": "Town of Lakeside", "uk": "Місто Lakeside"},
        mail_signature={
            "pl": "Zespół Medalu Lakeside\nRatusz Lakeside",
            "en": "The Lakeside Medal team\nLakeside Town Hall",
            "uk": "Команда Медалі Lakeside\nРатуша Lakeside",
        },
        footer={
            "pl": "Medal przyznaje miasto Lakeside od 1999 roku.",
            "en": "The Medal has been awarded by the town of Lakeside since 1999.",
            "uk": "Медаль присуджує місто Lakeside з 1999 року.",
        },
        logo=LOGO,
        criteria=(
            {
                "pl": "Pomoc sąsiedzka na co dzień",
                "en": "Everyday help to neighbours",
                "uk": "Щоденна допомога сусідам",
            },
            {
                "pl": "Trwałość i zasięg działań nad jeziorem",
                "en": "Lasting effect and reach on the lakeshore",
                "uk": "Тривалість і охоплення діяльності на березі озера",
            },
        ),
        categories=(
            CategoryDefault(
                code="N",
                names={"pl": "Sąsiedzi", "en": "Neighbours", "uk": "Сусіди"},
                nominee_kind="person",
                titles=1,
                mentions=1,
                fields=(),
            ),
            CategoryDefault(
                code="O",
                names={"pl": "Organizacje", "en": "Organisations", "uk": "Організації"},
                nominee_kind="organisation",
                titles=1,
                mentions=0,
                fields=("organisation_kind", "registry_number"),
            ),
            CategoryDefault(
                code="Y",
                names={"pl": "Projekty młodzieżowe", "en": "Youth projects", "uk": "Молодіжні проєкти"},
                nominee_kind="either",
                titles=2,
                mentions=1,
                fields=(),
            ),
        ),
        accessibility=Accessibility(
            entity={"pl": "Ratusz Lakeside", "en": "Lakeside Town Hall", "uk": "Ратуша Lakeside"},
            address={
                "pl": "ul. Nadbrzeżna 1, 00-001 Lakeside",
                "en": "1 Shore Road, Lakeside",
                "uk": "вул. Набережна 1, Lakeside",
            },
            site_url="https://medal.lakeside.example",
            published=dt.date(2021, 3, 15),
            updated=dt.date(2025, 9, 1),
            prepared=dt.date(2021, 3, 20),
            reviewed=dt.date(2026, 3, 30),
            status="none",
            non_compliant=(
                {
                    "pl": "Nagrania z gali nie mają napisów.",
                    "en": "The gala recordings have no captions.",
                    "uk": "Записи гали не мають субтитрів.",
                },
                {
                    "pl": "Mapa dojazdu jest obrazkiem bez opisu.",
                    "en": "The map to the town hall is a picture without a description.",
                    "uk": "Мапа до ратуші — це зображення без опису.",
                },
            ),
            exclusions=(),
            assessment="external",
            assessor="Lakeside Accessibility Lab",
            contact_person={
                "pl": "Anna Brzeg, sekretariat ratusza",
                "en": "Anna Brzeg, town hall office",
                "uk": "Анна Бжег, секретаріат ратуші",
            },
            email="access@lakeside.example",
            phone="+48 12 345 67 89",
            complaints_to={
                "pl": "Burmistrz Lakeside, ul. Nadbrzeżna 1, 00-001 Lakeside",
                "en": "the Mayor of Lakeside, 1 Shore Road, Lakeside",
                "uk": "Мер Lakeside, вул. Набережна 1, Lakeside",
            },
            architecture={
                "pl": "Ratusz ma wejście bez schodów od strony jeziora.",
                "en": "The town hall has a step-free entrance on the lake side.",
                "uk": "Ратуша має вхід без сходів з боку озера.",
            },
            mobile_apps={
                "pl": "Aplikacja Lakeside Medal na Androida jest częściowo zgodna z ustawą.",
                "en": "The Lakeside Medal app for Android partially complies with the act.",
                "uk": "Застосунок Lakeside Medal для Android частково відповідає закону.",
            },
            additional={
                "pl": "Ratusz ma pętlę indukcyjną w sali obrad.",
                "en": "The town hall has an induction loop in the council room.",
                "uk": "У залі засідань ратуші є індукційна петля.",
            },
        ),
        easy_read={
            "pl": "Lakeside to miasteczko nad jeziorem.\n\n"
            "Niektórzy sąsiedzi pomagają innym sąsiadom.\nMogą za to dostać medal.",
            "en": "Lakeside is a small town by a lake.\n\nSome neighbours help other neighbours.\n"
            "They can get a medal for this.",
            "uk": "Lakeside — це містечко біля озера.\n\n"
            "Деякі сусіди допомагають іншим сусідам.\nЗа це вони можуть отримати медаль.",
        },
        sign_language=SignLanguage(
            video_url="https://video.lakeside.example/medal-pjm.webm",
            video_file=None,
            transcript_url="https://video.lakeside.example/medal-pjm.txt",
        ),
    )


# --- the files ----------------------------------------------------------------------------


def test_the_shipped_honour_is_krakows() -> None:
    shipped = honour.load(None)

    assert shipped == honour.shipped()
    assert shipped.name == {
        "pl": "Krakowski Ambasador Wielokulturowości",
        "en": "Krakow Ambassador of Multiculturalism",
        "uk": "Краківський амбасадор мультикультурності",
    }
    assert shipped.short_name == shipped.name  # not given: the name
    assert shipped.approving_body == {
        "pl": "Prezydent Miasta Krakowa",
        "en": "the Mayor of the City of Kraków",
        "uk": "Президент міста Кракова",
    }
    assert shipped.publisher == {"pl": "Miasto Kraków", "en": "City of Kraków", "uk": "Місто Краків"}
    assert shipped.footer["en"] == "The title is conferred by the City of Kraków within the Open Kraków programme."
    assert shipped.logo is None
    assert [c["en"] for c in shipped.criteria] == [
        "How long the candidate has worked for intercultural dialogue in Kraków",
        "The effects and scope of the activities",
        "Innovative activities going beyond statutory aims",
        "The diversity of activities",
    ]
    assert shipped.categories == (
        CategoryDefault(
            code="A",
            names={"pl": "organizacja", "en": "organisation", "uk": "організація"},
            nominee_kind="organisation",
            titles=2,
            mentions=0,
            fields=("organisation_kind", "registry_number"),
        ),
        CategoryDefault(
            code="B",
            names={"pl": "osoba fizyczna", "en": "individual", "uk": "фізична особа"},
            nominee_kind="person",
            titles=2,
            mentions=0,
            fields=(),
        ),
    )


def test_the_fictional_file_loads_as_written() -> None:
    assert honour.load(FICTIONAL) == lakeside_expected()


def test_a_text_is_in_the_language_asked_else_polish() -> None:
    lakeside = honour.load(FICTIONAL)

    assert lakeside.text("name", "uk") == "Медаль добросусідства Lakeside"
    assert lakeside.text("name", "de") == LAKESIDE_PL
    assert lakeside.logo_media_type == "image/svg+xml"
    with pytest.raises(KeyError):
        lakeside.text("logo", "en")


def test_activate_is_what_active_answers_until_another_is_activated() -> None:
    assert honour.active() == honour.shipped()
    with honour_active(FICTIONAL) as lakeside:
        assert honour.active() is lakeside
        assert [c.name_en for c in editions.default_criteria()] == [
            "Everyday help to neighbours",
            "Lasting effect and reach on the lakeshore",
        ]
    assert honour.active() == honour.shipped()


def shipped_text() -> str:
    return SHIPPED_HONOUR.read_text(encoding="utf-8")


def without_uk_name(text: str) -> str:
    return text.replace('uk = "Краківський амбасадор мультикультурності"\n', "", 1)


BAD_FILES = [
    pytest.param(without_uk_name, "name.uk: the text is missing or empty", id="missing-language"),
    pytest.param(lambda t: t.replace("[name]\n", '[name]\nde = "Krakauer Botschafter"\n', 1),
                 "name: unknown language 'de' (the languages are pl, en and uk)", id="unknown-language"),
    pytest.param(lambda t: 'motto = "x"\n' + t,
                 "motto: unknown key (the keys are " + ", ".join(honour.KEYS) + ")", id="unknown-key"),
    pytest.param(lambda t: re.sub(r"\[footer\]\n(.+\n)+", "", t, count=1),
                 "footer: must be a table of texts with the keys pl, en and uk", id="missing-text"),
    pytest.param(lambda t: t.replace('code = "B"', 'code = "b"', 1),
                 "categories[2].code: must be 1 to 8 capital letters or digits", id="bad-code"),
    pytest.param(lambda t: t.replace('code = "B"', 'code = "A"', 1),
                 "categories: two categories have the same code (A, A)", id="same-code"),
    pytest.param(lambda t: t.replace('nominee_kind = "person"', 'nominee_kind = "anyone"', 1),
                 "categories[2].nominee_kind: must be one of person, organisation, either", id="bad-kind"),
    pytest.param(lambda t: t.replace("fields = []", 'fields = ["pesel"]', 1),
                 "categories[2].fields: must be a list of distinct fields from organisation_kind, registry_number",
                 id="bad-field"),
    pytest.param(lambda t: t.replace("titles = 2", "titles = -1", 1),
                 "categories[1].titles: must be a whole number from 0 to 20", id="bad-titles"),
    pytest.param(lambda t: t.replace('fields = []', 'fields = []\nlogo = "x.svg"', 1),
                 "categories[2].logo: unknown key (the keys are code, name, nominee_kind, titles, mentions, fields)",
                 id="unknown-category-key"),
    # The accessibility statement's variable parts (docs/honour.md).
    pytest.param(lambda t: t[: t.index("[accessibility]")],
                 "accessibility: must be a table (the accessibility statement's variable parts, docs/honour.md)",
                 id="no-statement"),
    pytest.param(lambda t: t.replace('status = "partial"', 'status = "partial"\nfax = "12 000 00 00"', 1),
                 "accessibility.fax: unknown key (the keys are " + ", ".join(honour.ACCESSIBILITY_KEYS) + ")",
                 id="statement-unknown-key"),
    pytest.param(lambda t: t.replace(', uk = "Управління міста Кракова" }', " }", 1),
                 "accessibility.entity.uk: the text is missing or empty", id="statement-missing-language"),
    pytest.param(lambda t: t.replace("published = 2026-12-05", 'published = "2026-12-05"', 1),
                 "accessibility.published: must be a date written YYYY-MM-DD (without quotes)", id="date-as-text"),
    pytest.param(lambda t: t.replace("updated = 2026-12-05", "updated = 2026-12-01", 1),
                 "accessibility.updated: must not be before accessibility.published", id="updated-before-published"),
    pytest.param(lambda t: t.replace("# reviewed = 2027-03-31", "reviewed = 2026-01-31", 1),
                 "accessibility.reviewed: must not be before accessibility.prepared", id="reviewed-before-prepared"),
    pytest.param(lambda t: t.replace('status = "partial"', 'status = "mostly"', 1),
                 "accessibility.status: must be one of full, partial, none", id="bad-status"),
    pytest.param(lambda t: re.sub(r"non_compliant = \[\n(.+\n)+?\]\n", "", t, count=1),
                 "accessibility.non_compliant: must list what does not comply when the status is partial",
                 id="partial-without-list"),
    pytest.param(lambda t: t.replace('status = "partial"', 'status = "full"', 1),
                 "accessibility.non_compliant: must be empty when the status is full", id="full-with-list"),
    pytest.param(lambda t: t.replace('assessment = "self"', 'assessment = "external"', 1),
                 "accessibility.assessor: names the body that assessed the site, given only when assessment is "
                 "external", id="external-without-assessor"),
    pytest.param(lambda t: t.replace('# email = "…"', 'email = "coordinator at um.krakow.pl"', 1),
                 "accessibility.email: must be an e-mail address", id="bad-email"),
    pytest.param(lambda t: t.replace('# phone = "…"', 'phone = "call the office"', 1),
                 "accessibility.phone: must be a phone number (digits, spaces, +, -, brackets)", id="bad-phone"),
    pytest.param(lambda t: t.replace('# site_url = "https://…"', 'site_url = "ambasador.krakow.pl"', 1),
                 "accessibility.site_url: must be an http:// or https:// address", id="bad-site-url"),
    pytest.param(lambda t: t.replace("# [sign_language]", '[sign_language]\nvideo = "pjm.avi"', 1),
                 "sign_language.video: must be a .mp4, .webm file or an address, not pjm.avi", id="bad-video"),
    pytest.param(lambda t: t.replace("# [sign_language]", '[sign_language]\nvideo = "https://x.example/pjm.mp4"\n'
                                     'subtitles = "pl"', 1),
                 "sign_language.subtitles: unknown key (the keys are video, transcript)", id="sign-language-key"),
    pytest.param(lambda t: t.replace("[easy_read]", "[easy_read]\nde = 'Leicht lesen'", 1),
                 "easy_read: unknown language 'de' (the languages are pl, en and uk)", id="easy-read-language"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "problem"), BAD_FILES)
def test_a_bad_file_is_refused_naming_the_file_and_the_key(tmp_path: Path, change: object, problem: str) -> None:
    path = tmp_path / "honour.toml"
    assert callable(change)
    path.write_text(change(shipped_text()), encoding="utf-8")

    with pytest.raises(HonourError) as refused:
        honour.load(path)

    assert str(refused.value) == f"{path}: {problem}"


def test_a_file_that_is_not_toml_or_not_there_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('[name]\npl = "unterminated\n', encoding="utf-8")
    missing = tmp_path / "missing.toml"
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe")

    with pytest.raises(HonourError) as not_toml:
        honour.load(broken)
    with pytest.raises(HonourError) as not_there:
        honour.load(missing)
    with pytest.raises(HonourError) as not_text:
        honour.load(binary)

    assert str(not_toml.value).startswith(f"{broken}: is not valid TOML (")
    assert "\n" not in str(not_toml.value)
    assert str(not_there.value) == f"{missing}: cannot be read (No such file or directory)"
    assert str(not_text.value) == f"{binary}: is not UTF-8 text"


def test_a_logo_must_be_an_image_file_beside_the_honour_file(tmp_path: Path) -> None:
    text = FICTIONAL.read_text(encoding="utf-8")
    path = tmp_path / "honour.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(HonourError) as missing:
        honour.load(path)
    path.write_text(text.replace("lakeside-logo.svg", "logo.gif"), encoding="utf-8")
    with pytest.raises(HonourError) as gif:
        honour.load(path)
    (tmp_path / "big.png").write_bytes(b"\x89PNG" + b"\0" * honour.MAX_LOGO_BYTES)
    path.write_text(text.replace("lakeside-logo.svg", "big.png"), encoding="utf-8")
    with pytest.raises(HonourError) as big:
        honour.load(path)

    logo = tmp_path / "lakeside-logo.svg"
    assert str(missing.value) == f"{path}: logo: {logo} cannot be read (No such file or directory)"
    assert str(gif.value) == f"{path}: logo: must be a .svg, .png, .webp, .jpg file, not logo.gif"
    assert str(big.value) == f"{path}: logo: {tmp_path / 'big.png'} is larger than 512 KiB"


# --- the setting --------------------------------------------------------------------------


def bad_file(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "bad-honour.toml"
    path.write_text(without_uk_name(shipped_text()), encoding="utf-8")
    return path, f"AMBASSADOR_HONOUR_FILE: {path}: name.uk: the text is missing or empty"


def test_the_setting_names_the_file_and_a_bad_one_is_refused_at_start(tmp_path: Path) -> None:
    path, message = bad_file(tmp_path)
    env = {"AMBASSADOR_VAR_DIR": str(tmp_path / "var")}

    assert read_settings(env).honour_file is None
    assert load_settings({**env, "AMBASSADOR_HONOUR_FILE": str(FICTIONAL)}).honour_file == FICTIONAL
    with pytest.raises(ConfigurationError) as refused:
        load_settings({**env, "AMBASSADOR_HONOUR_FILE": str(path)})
    assert str(refused.value) == message
    findings = deploycheck.settings_findings(read_settings({**env, "AMBASSADOR_HONOUR_FILE": str(path)}))
    assert deploycheck.Finding("ERROR", "honour", message) in findings


def run_command(tmp_path: Path, honour_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith("AMBASSADOR_")}
    return subprocess.run(
        [sys.executable, "-m", "ambassador", *args],
        cwd=ROOT,
        env={**clean, "AMBASSADOR_VAR_DIR": str(tmp_path / "var"), "AMBASSADOR_HONOUR_FILE": str(honour_file)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_and_check_deploy_stop_on_a_bad_file_with_one_line(tmp_path: Path) -> None:
    path, message = bad_file(tmp_path)

    served = run_command(tmp_path, path, "serve", "--port", "1")
    checked = run_command(tmp_path, path, "check", "--deploy")

    assert (served.returncode, served.stdout, served.stderr) == (1, "", f"refusing to start: {message}\n")
    assert checked.returncode == 1
    assert f"ERROR: [honour] {message}" in checked.stdout.splitlines()


async def test_a_command_runs_with_the_honour_of_the_setting(tmp_path: Path, database_url: str) -> None:
    laureates = tmp_path / "laureates.csv"
    laureates.write_text(
        "edition,category,distinction,name,citation,source\n2019,B,title,Maja Brzeg,Runs the lakeshore choir.,\n",
        encoding="utf-8",
    )
    bad, message = bad_file(tmp_path)
    env = {**os.environ, "AMBASSADOR_DATABASE_URL": database_url, "AMBASSADOR_VAR_DIR": str(tmp_path / "var")}

    def command(honour_file: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ambassador", "laureates", "import", str(laureates)],
            env={**env, "AMBASSADOR_HONOUR_FILE": str(honour_file)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    refused = await asyncio.to_thread(command, bad)
    done = await asyncio.to_thread(command, FICTIONAL)

    assert (refused.returncode, refused.stdout, refused.stderr) == (1, "", f"{message}\n")
    assert done.returncode == 0, done.stderr
    names = await Edition.select(Edition.name_pl, Edition.name_en)
    # The name only: the pages add the label "A.D. 2019" themselves (editions.edition_label).
    assert names == [{"name_pl": LAKESIDE_PL, "name_en": LAKESIDE}]


# --- an app running the fictional honour --------------------------------------------------


@pytest.fixture
def lakeside(settings: Settings) -> Iterator[Settings]:
    """Settings naming the fictional honour; the honour active before is active again after."""
    with honour_active(None):
        yield settings.with_changes(honour_file=FICTIONAL)


@pytest.fixture
async def lakeside_client(lakeside: Settings) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(lakeside)) as test_client:
        test_client.follow_redirects = False
        test_client.cookies.set("lang", "en", domain="testserver.local")
        yield test_client


async def test_the_app_activates_the_honour_its_settings_name(lakeside: Settings) -> None:
    create_app(lakeside)

    assert honour.active() == lakeside_expected()


async def test_the_home_page_carries_the_honour(lakeside_client: Client) -> None:
    page = await lakeside_client.get("/", follow_redirects=True)
    lakeside_client.cookies.set("lang", "pl", domain="testserver.local")
    polish = await lakeside_client.get("/", follow_redirects=True)

    assert page.status_code == 200
    assert f"<title>{LAKESIDE}</title>" in page.text
    assert f"<h1>{LAKESIDE}</h1>" in page.text
    assert "make the lakeshore a good place to live together." in page.text
    assert "The title is conferred by the Lakeside Town Board and the laureates are published." in page.text
    assert "<li>N: Neighbours</li>" in page.text
    assert "<li>Y: Youth projects</li>" in page.text
    assert "<li>Everyday help to neighbours</li>" in page.text
    assert "<p>The Medal has been awarded by the town of Lakeside since 1999.</p>" in page.text
    assert f'alt="{LAKESIDE}" class="brand-logo"><span aria-hidden="true">Lakeside Medal</span>' in page.text
    assert f"<h1>{LAKESIDE_PL}</h1>" in polish.text
    assert "<li>O: Organizacje</li>" in polish.text
    for answer in (page, polish):
        assert "Krak" not in answer.text


async def test_the_logo_is_served_by_the_app(lakeside_client: Client) -> None:
    page = await lakeside_client.get("/", follow_redirects=True)
    address = page.text.split('<img src="', 1)[1].split('"', 1)[0]

    logo = await lakeside_client.get(address)

    assert address.startswith("/honour/logo?v=")
    assert logo.status_code == 200
    assert logo.content == LOGO.read_bytes()
    assert logo.headers["content-type"] == "image/svg+xml"
    assert logo.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_without_a_logo_there_is_none_to_serve(client: Client) -> None:
    page = await client.get("/", follow_redirects=True)

    assert (await client.get("/honour/logo")).status_code == 404
    assert "<img" not in page.text
    assert '<a class="brand" href="/pl/">Krakowski Ambasador Wielokulturowości</a>' in page.text


async def test_the_nomination_form_and_its_privacy_notice_carry_the_honour(lakeside_client: Client) -> None:
    await make_edition()

    page = await lakeside_client.get("/nominate", follow_redirects=True)

    assert page.status_code == 200
    assert f'<p class="lead">{LAKESIDE}: ' in page.text
    assert (
        "The controller of the personal data in this form, yours and the nominee's, is the Mayor of Lakeside, "
        "Town Hall, 1 Shore Road, Lakeside."
    ) in page.text
    assert (
        f"The data are processed to run the competition for the title {LAKESIDE}: to check the nomination, to have "
        "it assessed by the jury, to confer the title and to contact you about it. The legal basis is the consent of "
        "the person concerned (Article 6(1)(a) GDPR) and the rules of the Medal adopted by the Lakeside Town Board."
    ) in page.text
    assert "Everyday help to neighbours" in page.text
    assert "Krak" not in page.text


async def mailed_token(to: str, prefix: str) -> str:
    rows = await OutboxMail.select(OutboxMail.body_text).where(OutboxMail.to_address == to)
    found = [m.group(1) for r in rows if (m := re.search(rf"{BASE}/{prefix}/([A-Za-z0-9_-]+)", r["body_text"]))]
    assert len(found) == 1, found
    return found[0]


async def test_the_mails_of_a_nomination_and_the_consent_page_carry_the_honour(lakeside_client: Client) -> None:
    edition = await make_edition()
    await submission.submit(
        edition=edition,
        data=nomination_data(edition, category="N"),  # the fictional honour's neighbours
        uploads=[],
        submission_key="k" * 20,
        base_url=BASE,
    )
    await submission.confirm(token=await mailed_token("anna@example.org", "n/confirm"), base_url=BASE)

    mails = await OutboxMail.select(OutboxMail.to_address, OutboxMail.subject, OutboxMail.body_text).order_by(
        OutboxMail.id
    )
    consent = await lakeside_client.get(f"/consent/{await mailed_token('olena@example.org', 'consent')}")

    assert [m["to_address"] for m in mails] == ["anna@example.org", "anna@example.org", "olena@example.org"]
    assert mails[2]["subject"] == f"A nomination for the {LAKESIDE} title"
    assert f"You have been nominated for the title {LAKESIDE}, A.D. 2025." in mails[2]["body_text"]
    for mail in mails:
        assert mail["body_text"].endswith("\n\n-- \nThe Lakeside Medal team\nLakeside Town Hall")
        assert "Krak" not in mail["subject"] + mail["body_text"]
    assert consent.status_code == 200
    assert f"<h1>A nomination for the {LAKESIDE} title</h1>" in consent.text
    assert "make the lakeshore a good place to live together. A jury, the Chapter, assesses" in consent.text
    assert "The controller of the personal data is the Mayor of Lakeside, Town Hall, 1 Shore Road, Lakeside." in (
        consent.text
    )
    assert "conferring of the title. The legal basis is the consent of the person concerned" in consent.text
    assert "Krak" not in consent.text


async def test_a_mail_is_signed_in_its_own_language(lakeside: Settings) -> None:
    create_app(lakeside)

    polish = await outbox.queue_mail(to="a@example.org", subject="Temat", body="Treść", language="pl")
    ukrainian = await outbox.queue_mail(to="b@example.org", subject="Тема", body="Текст", language="uk")

    assert polish.body_text == "Treść\n\n-- \nZespół Medalu Lakeside\nRatusz Lakeside"
    assert ukrainian.body_text == "Текст\n\n-- \nКоманда Медалі Lakeside\nРатуша Lakeside"


async def test_the_feed_and_open_data_carry_the_honour(lakeside_client: Client) -> None:
    feed = await lakeside_client.get("/feed.atom")
    schema = await lakeside_client.get("/schema/openapi.json")

    assert f"<title>{LAKESIDE}: Laureates</title>" in feed.text
    assert "<author><name>Town of Lakeside</name></author>" in feed.text
    assert schema.json()["info"]["description"].startswith(
        f"Read-only open data of the public archive of the {LAKESIDE}: editions and laureates"
    )
    for answer in (feed, schema):
        assert "Krak" not in answer.text


async def test_the_error_page_carries_the_honour(lakeside_client: Client) -> None:
    page = await lakeside_client.get("/no-such-page")

    assert page.status_code == 404
    assert f"<title>Page not found · {LAKESIDE}</title>" in page.text
    assert "Krak" not in page.text


async def test_the_minutes_name_the_honour() -> None:
    setup = await scored_edition()  # Kraków's categories: the factories nominate in A and B

    with honour_active(FICTIONAL):
        document = await minutes.minutes(setup.edition.id, "en", today=dt.date(2026, 3, 2))

    assert document.title == f"Minutes of the jury of the title {LAKESIDE}, A.D. 2025"
