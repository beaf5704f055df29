"""Mails that go by themselves (issue 15): scoring opened, the reminder before the deadline, votes.

The clock moves by passing ``now``; nothing sleeps. Mails are delivered through a real
aiosmtpd server and compared whole, in each juror's language.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from email.message import EmailMessage, Message
from pathlib import Path

from ambassador import honour
from ambassador.db import utcnow
from ambassador.domain import deliberation, jury, mail_schedule, outbox, scoring_round
from ambassador.domain.jury import JuryRules
from ambassador.enums import Distinction, VoteChoice
from ambassador.mail import SmtpTransport
from ambassador.settings import Settings
from ambassador.tables import AuditEntry, JurySettings, Nomination, OutboxMail, User
from tests.clerk_factories import BASE, checked_edition, clerk_logged_in, english
from tests.conftest import SECRET, Client
from tests.deliberation_factories import propose, scored_edition
from tests.helpers import login, post_form
from tests.jury_factories import Scoring, declare_none, scoring_edition, submit_scores
from tests.smtp import smtp_server

SENDER = "Ambassador <no-reply@example.org>"
DEADLINE = dt.datetime(2100, 3, 10, 11, 0, tzinfo=dt.UTC)  # 12:00 in Warsaw (winter time)
REMINDER_AT = DEADLINE - dt.timedelta(days=3)
SECOND = dt.timedelta(seconds=1)
RULES_FORM: dict[str, str | list[str]] = {
    "appointment_document": "",
    "score_visibility": "after_own",
    "min_scores": "3",
    "tie_break_1": "median",
    "tie_break_2": "vote",
    "vote_quorum_percent": "50",
    "majority": "simple",
}


def signature(language: str) -> str:
    return str(honour.active().text("mail_signature", language))


def title(language: str) -> str:
    return str(honour.active().text("name", language))


async def deliver() -> list[Message]:
    """Every due mail through a real SMTP server; the messages it accepted, in order."""
    with smtp_server() as (handler, url):
        report = await outbox.send_due(SmtpTransport(url, timeout=10), sender=SENDER)
        assert report.failed == 0
        return list(handler.messages)


def text_of(message: Message) -> str:
    assert isinstance(message, EmailMessage)  # parsed with the default policy
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def mail_of(messages: list[Message], to: str) -> tuple[str, str, str]:
    """The one message to ``to``: (subject, body, language)."""
    found = [m for m in messages if m["To"] == to]
    assert len(found) == 1, [m["Subject"] for m in found]
    return str(found[0]["Subject"]), text_of(found[0]), str(found[0]["Content-Language"])


async def outbox_ids() -> set[int]:
    return set(await OutboxMail.select(OutboxMail.id).output(as_list=True))


async def reminded(setup: Scoring, now: dt.datetime) -> tuple[int, list[str]]:
    """``queue_due`` at ``now``: how many mails it says, and the addresses of the mails it queued."""
    before = await outbox_ids()
    count = await mail_schedule.queue_due(now, base_url=BASE)
    new = sorted((await outbox_ids()) - before)
    rows = await OutboxMail.select(OutboxMail.to_address).where(OutboxMail.id.is_in(new or [0])).order_by(OutboxMail.id)
    return count, [r["to_address"] for r in rows]


async def test_opening_scoring_mails_each_juror_in_their_language_with_the_deadline() -> None:
    setup = await scoring_edition(rules=JuryRules(scoring_closes_at=DEADLINE), languages=("pl", "en", "uk"))
    ewa, marta, tomasz = setup.jurors
    label, link = setup.edition.label, f"{BASE}/jury/editions/{setup.edition.id}"

    # The appointment mails went to the same jurors; the opening ones carry the edition's link.
    opened = [m for m in await deliver() if f"{link}\n" in text_of(m)]

    assert mail_of(opened, marta.email) == (
        f"Scoring has opened: {label}",
        f"Hello Marta Krawczyk,\n\nScoring for the title {title('en')}, {label}, has opened. Declare your "
        "possible conflicts of interest first; then the nominations are yours to read and score.\n\n"
        f"Please submit your score sheets by 2100-03-10 12:00.\n\n{link}\n\n-- \n{signature('en')}\n",
        "en",
    )
    assert mail_of(opened, ewa.email) == (
        f"Rozpoczęło się ocenianie zgłoszeń: {label}",
        f"Dzień dobry, Ewa Pawlak,\n\nRozpoczęło się ocenianie zgłoszeń do tytułu {title('pl')}, {label}. Najpierw "
        "zadeklaruj ewentualne konflikty interesów; potem możesz czytać i oceniać zgłoszenia.\n\n"
        f"Prosimy o złożenie kart ocen do 2100-03-10 12:00.\n\n{link}\n\n-- \n{signature('pl')}\n",
        "pl",
    )
    assert mail_of(opened, tomasz.email) == (
        f"Розпочалося оцінювання: {label}",
        f"Добрий день, Tomasz Dudek,\n\nРозпочалося оцінювання кандидатур на звання {title('uk')}, {label}. Спершу "
        "заявіть про можливі конфлікти інтересів; після цього ви зможете читати й оцінювати кандидатури.\n\n"
        f"Будь ласка, подайте оцінювальні листи до 2100-03-10 12:00.\n\n{link}\n\n-- \n{signature('uk')}\n",
        "uk",
    )


async def test_without_a_deadline_the_opening_mail_names_none_and_no_reminder_is_ever_due() -> None:
    setup = await scoring_edition(languages=("en",))
    body = await OutboxMail.select(OutboxMail.body_text).where(
        (OutboxMail.to_address == setup.chair.email)
        & (OutboxMail.subject == f"Scoring has opened: {setup.edition.label}")
    )
    assert len(body) == 1
    assert "score sheets by" not in body[0]["body_text"]
    assert await reminded(setup, dt.datetime(2199, 1, 1, tzinfo=dt.UTC)) == (0, [])


async def test_the_reminder_goes_n_days_before_the_deadline_once_to_those_who_have_not_submitted() -> None:
    setup = await scoring_edition(rules=JuryRules(scoring_closes_at=DEADLINE), languages=("pl", "en", "uk"))
    ewa, marta, tomasz = setup.jurors
    await declare_none(setup, ewa)
    for nomination_id in setup.nominations:
        await submit_scores(setup, ewa, nomination_id, 7)  # Ewa has submitted everything
    await declare_none(setup, marta)
    await submit_scores(setup, marta, setup.nominations[0], 6)  # Marta one of two
    await deliver()  # the opening mails are out of the way

    assert await reminded(setup, REMINDER_AT - dt.timedelta(days=2)) == (0, [])
    assert await reminded(setup, REMINDER_AT - SECOND) == (0, [])
    assert await reminded(setup, REMINDER_AT) == (2, [marta.email, tomasz.email])
    assert await reminded(setup, REMINDER_AT) == (0, [])  # run again: nothing more
    assert await reminded(setup, REMINDER_AT + dt.timedelta(days=1)) == (0, [])

    messages = await deliver()
    label, link = setup.edition.label, f"{BASE}/jury/editions/{setup.edition.id}"
    assert sorted(m["To"] for m in messages) == [marta.email, tomasz.email]
    assert mail_of(messages, marta.email) == (
        f"Reminder: scoring for {label} closes on 2100-03-10 12:00",
        f"Hello Marta Krawczyk,\n\nScoring for {label} closes on 2100-03-10 12:00. "
        f"Nominations you have not submitted yet: 1.\n\n{link}\n\n-- \n{signature('en')}\n",
        "en",
    )
    assert mail_of(messages, tomasz.email) == (
        f"Нагадування: оцінювання у виданні {label} завершується 2100-03-10 12:00",
        f"Добрий день, Tomasz Dudek,\n\nОцінювання у виданні {label} завершується 2100-03-10 12:00. "
        f"Кандидатур, оцінки яких ви ще не подали: 2.\n\n{link}\n\n-- \n{signature('uk')}\n",
        "uk",
    )
    entries = (
        await AuditEntry.select(AuditEntry.actor, AuditEntry.data)
        .where(AuditEntry.action == "scoring.reminded_automatically")
        .output(load_json=True)
    )
    assert [(e["actor"], e["data"]["jurors"]) for e in entries] == [(None, [marta.id, tomasz.id])]


async def test_a_moved_deadline_brings_a_new_reminder_and_a_past_one_none() -> None:
    setup = await scoring_edition(rules=JuryRules(scoring_closes_at=DEADLINE, reminder_days=3))
    ewa, marta, tomasz = setup.jurors
    assert await reminded(setup, REMINDER_AT) == (3, [ewa.email, marta.email, tomasz.email])

    later = DEADLINE + dt.timedelta(days=7)
    await jury.set_schedule(
        actor_id=setup.clerk.id, edition_id=setup.edition.id, closes_at=later, reminder_days=1, now=REMINDER_AT
    )
    assert await reminded(setup, later - dt.timedelta(days=1) - SECOND) == (0, [])
    assert await reminded(setup, later - dt.timedelta(days=1)) == (3, [ewa.email, marta.email, tomasz.email])

    # Saving the same deadline again does not repeat its reminder; 0 days means none at all.
    await jury.set_schedule(
        actor_id=setup.clerk.id, edition_id=setup.edition.id, closes_at=later, reminder_days=2, now=REMINDER_AT
    )
    assert await reminded(setup, later - SECOND) == (0, [])
    again = later + dt.timedelta(days=1)
    await jury.set_schedule(
        actor_id=setup.clerk.id, edition_id=setup.edition.id, closes_at=again, reminder_days=0, now=REMINDER_AT
    )
    assert await reminded(setup, again - SECOND) == (0, [])

    # A reminder whose deadline has passed before anyone ran the schedule is dropped, unsent.
    last = again + dt.timedelta(days=1)
    await jury.set_schedule(
        actor_id=setup.clerk.id, edition_id=setup.edition.id, closes_at=last, reminder_days=3, now=REMINDER_AT
    )
    assert await reminded(setup, last + SECOND) == (0, [])
    row = await JurySettings.select(JurySettings.reminder_due_at, JurySettings.reminded_for).first()
    assert row == {"reminder_due_at": None, "reminded_for": last}


async def test_no_reminder_once_scoring_has_closed() -> None:
    setup = await scoring_edition(rules=JuryRules(scoring_closes_at=DEADLINE))
    await scoring_round.close_scoring(chair_id=setup.chair.id, edition_id=setup.edition.id)
    assert await reminded(setup, REMINDER_AT) == (0, [])


async def test_two_schedulers_at_once_queue_each_reminder_once() -> None:
    setup = await scoring_edition(rules=JuryRules(scoring_closes_at=DEADLINE))
    before = await outbox_ids()

    counts = await asyncio.gather(*(mail_schedule.queue_due(REMINDER_AT, base_url=BASE) for _ in range(4)))

    assert sorted(counts) == [0, 0, 0, 3]
    new = await OutboxMail.select(OutboxMail.to_address).where(OutboxMail.id.not_in(list(before)))
    assert sorted(r["to_address"] for r in new) == sorted(j.email for j in setup.jurors)
    assert await AuditEntry.count().where(AuditEntry.action == "scoring.reminded_automatically") == 1


async def test_the_mail_sender_queues_due_reminders_before_it_claims(settings: Settings) -> None:
    setup = await scoring_edition()
    await deliver()
    soon = utcnow() + dt.timedelta(days=1)  # with 3 days of notice, the reminder is already due
    await jury.set_schedule(actor_id=setup.clerk.id, edition_id=setup.edition.id, closes_at=soon, reminder_days=3)
    with smtp_server() as (handler, url):
        sender = outbox.sender_for(settings.with_changes(smtp_url=url, mail_from=SENDER, mail_rate=1000))
        report = await sender.run()
        messages = list(handler.messages)
    assert report.sent == 3
    assert sorted(m["To"] for m in messages) == sorted(j.email for j in setup.jurors)
    assert {str(m["Subject"]).split(":")[0] for m in messages} == {"Przypomnienie"}


async def _names() -> dict[int, tuple[str, str]]:
    rows = await Nomination.select(Nomination.id, Nomination.reference, Nomination.nominee_name)
    return {r["id"]: (r["reference"], r["nominee_name"]) for r in rows}


async def test_proposals_in_a_row_make_one_vote_mail_per_juror_who_may_vote() -> None:
    setup = await scoring_edition_in_deliberation()
    ewa, marta, tomasz = setup.jurors  # Tomasz is conflicted with the second nomination
    await deliver()  # the earlier mails are out of the way
    before = await outbox_ids()
    first = await propose(setup, 0, Distinction.TITLE)
    await propose(setup, 2, Distinction.TITLE)
    await propose(setup, 1, Distinction.MENTION)

    pending = await OutboxMail.select(OutboxMail.to_address, OutboxMail.next_attempt_at).where(
        OutboxMail.id.not_in(list(before))
    )
    assert sorted(r["to_address"] for r in pending) == [marta.email, tomasz.email]  # not the chair
    assert all(r["next_attempt_at"] > utcnow() + dt.timedelta(minutes=4) for r in pending)
    assert await deliver() == []  # held back for the chair's next proposals

    await OutboxMail.update({OutboxMail.next_attempt_at: utcnow()}).where(OutboxMail.id.not_in(list(before)))
    messages = await deliver()
    names = await _names()
    olena, bohdan, iryna = (names[n] for n in setup.nominations)
    label, link = setup.edition.label, f"{BASE}/jury/editions/{setup.edition.id}/deliberation"
    assert mail_of(messages, marta.email) == (
        f"The jury votes: {label}",
        f"Hello Marta Krawczyk,\n\nThe chair of the jury has put proposals to the vote. Waiting for your vote in "
        f"{label}:\n\n- {olena[0]} {olena[1]}: title\n- {iryna[0]} {iryna[1]}: title\n"
        f"- {bohdan[0]} {bohdan[1]}: honourable mention\n\n{link}\n\n-- \n{signature('en')}\n",
        "en",
    )
    assert mail_of(messages, tomasz.email) == (
        f"Głosowanie Kapituły: {label}",
        f"Dzień dobry, Tomasz Dudek,\n\nPrzewodniczący Kapituły poddał wnioski pod głosowanie. Na Twój głos czekają "
        f"w edycji {label}:\n\n- {olena[0]} {olena[1]}: tytuł\n- {iryna[0]} {iryna[1]}: tytuł\n\n"
        f"{link}\n\n-- \n{signature('pl')}\n",
        "pl",
    )

    # Once that mail is out, a new proposal makes a new one (Marta has voted on the first).
    await deliberation.cast_vote(juror_id=marta.id, proposal_id=first, choice=VoteChoice.FOR)
    await deliberation.withdraw_proposal(chair_id=ewa.id, proposal_id=first)
    sent = await outbox_ids()
    await propose(setup, 0, Distinction.TITLE)
    fresh = await OutboxMail.select(OutboxMail.to_address, OutboxMail.body_text).where(OutboxMail.id.not_in(list(sent)))
    assert sorted(r["to_address"] for r in fresh) == [marta.email, tomasz.email]


async def scoring_edition_in_deliberation() -> Scoring:
    setup = await scored_edition()
    await _language(setup.jurors[1].id, "en")
    return setup


async def _language(user_id: int, language: str) -> None:
    await User.update({User.language: language}).where(User.id == user_id)


async def test_the_rules_form_checks_the_deadline_and_the_days_in_the_clerks_language(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    english(client)
    edition = await checked_edition(clerk_id=clerk.id)
    url = f"/staff/editions/{edition.id}/jury/rules"

    past = await post_form(client, url, {**RULES_FORM, "scoring_closes_at": "2020-01-01T10:00", "reminder_days": "31"})
    assert past.status_code == 400
    assert 'id="f-scoring_closes_at-error">The scoring deadline must be in the future.</p>' in past.text
    assert 'id="f-reminder_days-error">Enter a whole number from 0 to 30.</p>' in past.text
    garbled = await post_form(client, url, {**RULES_FORM, "scoring_closes_at": "tomorrow", "reminder_days": "-1"})
    assert 'id="f-scoring_closes_at-error">Enter a date and time, or leave the field empty.</p>' in garbled.text
    assert 'id="f-reminder_days-error">Enter a whole number from 0 to 30.</p>' in garbled.text
    client.headers["accept-language"] = "pl"
    polish = await post_form(client, url, {**RULES_FORM, "scoring_closes_at": "2020-01-01T10:00"})
    assert 'id="f-scoring_closes_at-error">Termin oceniania musi przypadać w przyszłości.</p>' in polish.text
    client.headers["accept-language"] = "uk"
    ukrainian = await post_form(client, url, {**RULES_FORM, "reminder_days": "45"})
    assert 'id="f-reminder_days-error">Введіть ціле число від 0 до 30.</p>' in ukrainian.text
    assert (await jury.rules_of(edition.id)).scoring_closes_at is None

    saved = await post_form(client, url, {**RULES_FORM, "scoring_closes_at": "2100-03-10T12:00", "reminder_days": "5"})

    assert saved.status_code == 302
    rules = await jury.rules_of(edition.id)
    assert (rules.scoring_closes_at, rules.reminder_days) == (DEADLINE, 5)
    page = await client.get(f"/staff/editions/{edition.id}/jury")
    assert 'name="scoring_closes_at" type="datetime-local" value="2100-03-10T12:00"' in page.text
    assert 'name="reminder_days" type="number" value="5"' in page.text


async def test_while_the_jury_scores_only_the_deadline_moves_and_jurors_see_it(client: Client) -> None:
    setup = await scoring_edition(rules=JuryRules(scoring_closes_at=DEADLINE))
    assert (await login(client, setup.clerk.email)).status_code == 302
    english(client)
    base = f"/staff/editions/{setup.edition.id}/jury"

    fixed = await post_form(client, f"{base}/rules", {**RULES_FORM, "scoring_closes_at": "2100-03-10T12:00"})
    assert fixed.status_code == 409
    refused = await post_form(
        client, f"{base}/schedule", {"scoring_closes_at": "2020-01-01T10:00", "reminder_days": "3"}
    )
    assert refused.status_code == 400
    assert 'id="f-scoring_closes_at-error">The scoring deadline must be in the future.</p>' in refused.text
    moved = await post_form(client, f"{base}/schedule", {"scoring_closes_at": "2100-03-17T12:00", "reminder_days": "2"})
    assert moved.status_code == 302
    rules = await jury.rules_of(setup.edition.id)
    assert (rules.scoring_closes_at, rules.reminder_days) == (DEADLINE + dt.timedelta(days=7), 2)
    kept = await post_form(client, f"{base}/schedule", {"scoring_closes_at": "2100-03-17T12:00", "reminder_days": "0"})
    assert kept.status_code == 302
    assert (await jury.rules_of(setup.edition.id)).reminder_days == 0
    page = await client.get(base)
    assert f'<form method="post" action="{base}/schedule">' in page.text
    assert 'name="scoring_closes_at" type="datetime-local" value="2100-03-17T12:00"' in page.text
    assert 'name="reminder_days" type="number" value="0"' in page.text

    assert (await login(client, setup.jurors[1].email)).status_code == 302
    english(client)
    page = await client.get(f"/jury/editions/{setup.edition.id}")
    assert "<dt>Scoring deadline</dt><dd data-deadline>" in page.text
    assert page.text.split("<dd data-deadline>")[1].split("</dd>")[0] != ""


async def test_the_cli_command_queues_due_reminders_once(database_url: str, tmp_path: Path) -> None:
    setup = await scoring_edition()
    soon = utcnow() + dt.timedelta(days=1)  # with 3 days of notice, the reminder is already due
    await jury.set_schedule(actor_id=setup.clerk.id, edition_id=setup.edition.id, closes_at=soon, reminder_days=3)
    env = {
        **os.environ,
        "AMBASSADOR_DATABASE_URL": database_url,
        "AMBASSADOR_SECRET_KEY": SECRET,
        "AMBASSADOR_VAR_DIR": str(tmp_path / "var"),
        "AMBASSADOR_BASE_URL": "https://ambasador.example.org",
    }
    said = []
    for _ in range(2):
        command = await asyncio.create_subprocess_exec(
            sys.executable, *("-m", "ambassador", "mail", "schedule"), env=env, stdout=subprocess.PIPE
        )
        out, _ = await asyncio.wait_for(command.communicate(), 60)
        said.append((command.returncode, out.decode().strip()))

    assert said == [(0, "queued 3 scheduled mails"), (0, "queued 0 scheduled mails")]
    links = await OutboxMail.select(OutboxMail.body_text).where(OutboxMail.subject.like("Przypomnienie:%"))
    assert len(links) == 3
    assert all(f"https://ambasador.example.org/jury/editions/{setup.edition.id}\n" in r["body_text"] for r in links)
