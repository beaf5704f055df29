"""Issue 14 over HTTP: the form keeps what was typed and chosen; its errors help.

The browser side (focus, the buttons outside the form, axe) is in
tests/browser/test_form_keeps_work.py; here every behaviour is checked on the answers.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

from ambassador.db import utcnow
from ambassador.domain import held_files
from ambassador.settings import Settings
from ambassador.tables import Attachment, Edition, HeldFile, Nomination
from ambassador.web.nominate import language_cookies
from tests.conftest import Client
from tests.factories import PDF, make_edition
from tests.smtp import smtp_server
from tests.test_nomination_public import (
    FormPage,
    confirmed_nomination,
    counts,
    open_form,
    pdf_file,
    send_form,
    use_language,
)

SUMMARY_LINK = re.compile(r'<li><a href="#([\w-]+)">([^<]*)</a></li>')


def kept_files(page: str) -> list[tuple[str, str, str]]:
    """(name, size, id) of each file the page lists as kept, in order."""
    return re.findall(
        r'<li>kept: <bdi>([^<]*)</bdi>, ([^\n<]*)\s*<button type="submit" name="remove_held" value="(\d+)"', page
    )


async def test_a_validation_error_keeps_the_files_and_sending_uses_them(client: Client) -> None:
    use_language(client, "en")
    await make_edition()
    form = await open_form(client)

    refused = await send_form(client, "/nominate", form.fields(nominee_name=""), pdf_file("report.pdf", PDF + b"1"))

    assert refused.status_code == 400
    assert [(name, size) for name, size, _ in kept_files(refused.text)] == [("report.pdf", "70 B")]
    assert "Please choose them again." not in refused.text
    assert await counts() == (0, 0, 0)
    # The corrected form is sent without choosing the file again: it is attached.
    sent = await send_form(client, "/nominate", form.fields())
    assert sent.status_code == 303
    attachments = await Attachment.select(Attachment.filename, Attachment.content)
    assert [(a["filename"], bytes(a["content"])) for a in attachments] == [("report.pdf", PDF + b"1")]
    assert await HeldFile.count() == 0


async def test_kept_and_new_files_are_sent_together_and_count_toward_the_limit(client: Client) -> None:
    use_language(client, "en")
    await make_edition()
    form = await open_form(client)
    first = [("attachments", (f"kept {i}.pdf", PDF + str(i).encode(), "application/pdf")) for i in range(4)]
    assert (await send_form(client, "/nominate", form.fields(privacy_ack=""), first)).status_code == 400

    two_more = [("attachments", (f"new {i}.pdf", PDF + b"new" + str(i).encode(), "application/pdf")) for i in range(2)]
    over = await send_form(client, "/nominate", form.fields(), two_more)

    assert over.status_code == 400
    assert "Attach at most 5 files." in over.text
    assert [name for name, _, _ in kept_files(over.text)] == [*(f"kept {i}.pdf" for i in range(4)), "new 0.pdf"]
    assert (await send_form(client, "/nominate", form.fields())).status_code == 303
    names = [r["filename"] for r in await Attachment.select(Attachment.filename).order_by(Attachment.id)]
    assert names == [*(f"kept {i}.pdf" for i in range(4)), "new 0.pdf"]


async def test_a_kept_file_can_be_removed_without_sending(client: Client) -> None:
    use_language(client, "en")
    await make_edition()
    form = await open_form(client)
    files = [("attachments", (name, PDF + name.encode(), "application/pdf")) for name in ("a.pdf", "b.pdf")]
    refused = await send_form(client, "/nominate", form.fields(nominator_name=""), files)
    (_, _, a_id), (_, _, b_id) = kept_files(refused.text)

    removed = await send_form(client, "/nominate", form.fields(nominator_name="", remove_held=a_id))

    assert removed.status_code == 200
    assert [(name, file_id) for name, _, file_id in kept_files(removed.text)] == [("b.pdf", b_id)]
    # Nothing was checked or sent: no problems listed, the typed values still there.
    assert ('id="error-summary"' in removed.text, 'value="Olena Kovalenko"' in removed.text) == (False, True)
    assert await Nomination.count() == 0
    # Another form's key cannot remove it.
    other = await open_form(client)
    assert (await send_form(client, "/nominate", other.fields(remove_held=b_id))).status_code == 200
    assert [name for name, _, _ in await held_names(form.submission_key)] == ["b.pdf"]


async def test_switching_the_language_keeps_the_values_and_the_files(client: Client) -> None:
    use_language(client, "pl")
    await make_edition()
    form = await open_form(client)
    typed = form.fields(
        nominee_name="Олена Коваленко", nominator_name="", **{form.descriptions[1]: "Prowadzi chór <i>od lat</i>."}
    )

    switched = await send_form(client, "/nominate", {**typed, "switch_language": "uk"}, pdf_file("лист.pdf"))

    assert switched.status_code == 200
    assert '<html lang="uk">' in switched.text
    assert "<h1>Висунути на звання</h1>" in switched.text
    assert 'value="Олена Коваленко"' in switched.text
    assert html.escape("Prowadzi chór <i>od lat</i>.", quote=False) in switched.text
    assert f'value="{form.submission_key}"' in switched.text
    assert [name for name, _, _ in await held_names(form.submission_key)] == ["лист.pdf"]
    assert "лист.pdf" in switched.text
    # No field was checked (the nominator's name is still missing): nothing to correct shown.
    assert 'id="error-summary"' not in switched.text
    # The choice is remembered as the language links remember it.
    assert client.cookies.get("lang") == "uk"
    assert await Nomination.count() == 0
    # The next page is in Ukrainian and the form, sent from there, has the file.
    assert (await send_form(client, "/nominate", {**typed, "nominator_name": "Anna Nowak"})).status_code == 303
    nomination = await Nomination.select(Nomination.language, Nomination.nominee_name).first()
    assert nomination == {"language": "uk", "nominee_name": "Олена Коваленко"}
    assert [r["filename"] for r in await Attachment.select(Attachment.filename)] == ["лист.pdf"]


async def held_names(key: str) -> list[tuple[str, int, str]]:
    return [(f.filename, f.size, f.content_type) for f in await held_files.held(key)]


async def test_the_language_buttons_submit_the_form_and_enter_still_sends_it(client: Client) -> None:
    use_language(client, "en")
    await make_edition()
    page = (await client.get("/en/nominate")).text
    buttons = re.findall(r"<button ([^>]*)>", page)
    # The first submit button of the form in the page is its default (Enter in a field):
    # the hidden send button, before the language buttons in the header.
    assert buttons[0] == 'type="submit" form="nomination-form" hidden tabindex="-1"'
    languages = [b for b in buttons if 'name="switch_language"' in b]
    assert [re.search(r'value="(\w+)"', b).group(1) for b in languages] == ["pl", "en", "uk"]  # type: ignore[union-attr]
    assert all('form="nomination-form" formnovalidate' in b for b in languages)
    assert 'href="/language/' not in page


async def test_an_unknown_language_or_a_forged_key_changes_nothing(client: Client) -> None:
    use_language(client, "en")
    await make_edition()
    form = await open_form(client)

    odd = await send_form(client, "/nominate", form.fields(switch_language="xx", submission_key="short"), pdf_file())

    assert odd.status_code == 200
    assert '<html lang="en">' in odd.text
    fresh = FormPage(odd.text).submission_key
    assert fresh != "short"
    assert [name for name, _, _ in await held_names(fresh)] == ["letter.pdf"]
    assert await HeldFile.select(HeldFile.submission_key) == [{"submission_key": fresh}]


async def test_the_error_summary_comes_first_links_each_field_and_reads_cleanly(client: Client) -> None:
    use_language(client, "pl")
    await make_edition()
    form = await open_form(client)

    refused = await send_form(client, "/nominate", form.fields(privacy_ack="", nominee_email="anna@example.org"))

    assert refused.status_code == 400
    content = refused.text.split('<main id="content" class="wrap" tabindex="-1">', 1)[1].lstrip()
    assert content.startswith('<div class="notice notice-error error-summary" role="alert" id="error-summary"')
    summary = content.split("</div>", 1)[0]
    assert 'tabindex="-1" autofocus' in summary
    links = SUMMARY_LINK.findall(summary)
    assert [anchor for anchor, _ in links] == ["f-nominee_email", "f-nominator_email", "f-privacy_ack"]
    for anchor, _ in links:
        assert f'id="{anchor}"' in refused.text
    privacy = html.unescape(links[2][1])
    assert privacy == (
        "Zapoznałem(-am) się z informacją o przetwarzaniu danych osobowych: "
        "Potwierdź, że zapoznałeś(-aś) się z klauzulą informacyjną."
    )
    assert ".:" not in html.unescape(summary)
    assert "<title>Błąd:" in refused.text


async def test_a_form_sent_after_the_deadline_says_the_window_closed(client: Client) -> None:
    use_language(client, "en")
    edition = await make_edition()
    form = await open_form(client)
    closed_at = utcnow() - dt.timedelta(seconds=1)
    await Edition.update({Edition.closes_at: closed_at}).where(Edition.id == edition.id)

    # Sent, or switched to Polish: either way the page says the window closed, and when.
    for extra, said in (
        ({}, ("Nominations for this edition are closed.", "The deadline was", "Nominations are accepted until")),
        (
            {"switch_language": "pl"},
            ("Nabór zgłoszeń w tej edycji jest zamknięty.", "Termin minął", "Zgłoszenia są przyjmowane do"),
        ),
    ):
        late = await send_form(client, "/nominate", form.fields(**extra), pdf_file())
        closed, deadline, still_open = said
        assert late.status_code == 409
        assert (closed in late.text, deadline in late.text, still_open in late.text) == (True, True, False)
        assert 'value="Olena Kovalenko"' in late.text
        assert 'type="submit"' not in late.text  # neither a send button nor language buttons
    assert (await HeldFile.count(), await counts()) == (0, (0, 0, 0))


async def test_on_the_edit_form_a_self_nomination_is_shown_at_the_fixed_email(client: Client, tmp_path: Path) -> None:
    use_language(client, "en")
    await make_edition()
    with smtp_server() as (handler, smtp_url):
        manage = await confirmed_nomination(client, smtp_url, tmp_path, handler)
    form = FormPage((await client.get(f"{manage}/edit")).text)

    refused = await send_form(client, f"{manage}/edit", form.fields(nominee_email="anna@example.org"))

    assert refused.status_code == 400
    links = SUMMARY_LINK.findall(refused.text)
    assert [anchor for anchor, _ in links] == ["f-nominee_email", "f-nominator_email"]
    assert all(f'id="{anchor}"' in refused.text for anchor, _ in links)
    assert 'id="f-nominator_email-error">You cannot nominate yourself.' in refused.text


def test_the_language_buttons_remember_the_choice_as_the_language_links_do(settings: Settings) -> None:
    """Development: ``lang``; production: ``__Host-lang`` (Secure) and the old ``lang`` dropped."""
    development = language_cookies("uk", settings)
    production = language_cookies("uk", settings.with_changes(env="production"))

    assert [(c.key, c.value, c.secure, c.max_age) for c in development] == [("lang", "uk", False, 365 * 24 * 3600)]
    assert [(c.key, c.value, c.secure, c.max_age) for c in production] == [
        ("__Host-lang", "uk", True, 365 * 24 * 3600),
        ("lang", "", False, 0),
    ]
    assert {(c.path, c.httponly, c.samesite) for c in development + production} == {("/", True, "lax")}


async def test_the_edit_form_switches_language_with_the_changes_typed_and_saves_nothing(
    client: Client, tmp_path: Path
) -> None:
    use_language(client, "en")
    await make_edition()
    with smtp_server() as (handler, smtp_url):
        manage = await confirmed_nomination(client, smtp_url, tmp_path, handler)
    editing = (await client.get(f"{manage}/edit")).text
    assert 'name="switch_language" value="uk"' in editing
    form = FormPage(editing)

    switched = await send_form(
        client,
        f"{manage}/edit",
        {**form.fields(nominee_name="Olena Kovalenko-Nowicka", nominator_name=""), "switch_language": "uk"},
        pdf_file("new.pdf"),
    )

    assert switched.status_code == 200
    assert '<html lang="uk">' in switched.text
    assert "<h1>Змінити кандидатуру</h1>" in switched.text
    assert 'value="Olena Kovalenko-Nowicka"' in switched.text
    assert 'id="error-summary"' not in switched.text
    assert "Вибрані файли не збережено під час зміни мови." in switched.text
    assert client.cookies.get("lang") == "uk"
    assert await Nomination.select(Nomination.nominee_name, Nomination.nominator_name) == [
        {"nominee_name": "Olena Kovalenko", "nominator_name": "Anna Nowak"}
    ]
    assert [r["filename"] for r in await Attachment.select(Attachment.filename)] == ["letter.pdf"]
