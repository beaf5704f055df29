"""Editions in a given lifecycle state and nominations, made through the domain as a clerk would."""

from __future__ import annotations

import datetime as dt
import re

from ambassador.db import utcnow
from ambassador.domain import editions, formal_check, submission
from ambassador.domain.accounts import Account
from ambassador.domain.editions import EditionView
from ambassador.domain.nominations import Upload
from ambassador.enums import EditionState, Role
from ambassador.i18n import TIMEZONE
from ambassador.tables import OutboxMail
from tests.conftest import Client
from tests.factories import make_edition, make_user, nomination_data
from tests.helpers import login

BASE = "http://testserver.local"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40


async def clerk_logged_in(client: Client, email: str = "clerk@example.org") -> Account:
    """A clerk with a live session in ``client``."""
    clerk = await make_user(email, (Role.CLERK,), name="Celina Clerk")
    response = await login(client, email)
    assert response.status_code == 302
    return clerk


async def juror_logged_in(client: Client, email: str = "juror@example.org") -> Account:
    juror = await make_user(email, (Role.JUROR,))
    response = await login(client, email)
    assert response.status_code == 302
    return juror


def english(client: Client) -> None:
    """Pages in English (the message ids), whatever the catalogs hold."""
    client.headers["accept-language"] = "en"


async def open_edition(*, clerk_id: int, year: int = 2025) -> EditionView:
    """Open for nominations now, for 30 days."""
    return await make_edition(year=year, clerk_id=clerk_id)


async def checked_edition(*, clerk_id: int, year: int = 2025, closes_at: dt.datetime | None = None) -> EditionView:
    """Closed (two days ago unless told) and in the formal check; it was opened while its window ran."""
    now = utcnow()
    edition = await make_edition(
        year=year,
        opens_at=now - dt.timedelta(days=20),
        closes_at=closes_at or now - dt.timedelta(days=2),
        open_it=False,
        clerk_id=clerk_id,
    )
    await editions.advance(
        actor_id=clerk_id, edition_id=edition.id, target=EditionState.OPEN, now=now - dt.timedelta(days=10)
    )
    return await editions.advance(actor_id=clerk_id, edition_id=edition.id, target=EditionState.FORMAL_CHECK)


def deadline_of(edition: EditionView) -> dt.date:
    return edition.closes_at.astimezone(TIMEZONE).date()


async def paper_nomination(
    edition: EditionView,
    *,
    clerk_id: int,
    uploads: list[Upload] | None = None,
    received_on: dt.date | None = None,
    **changes: object,
) -> int:
    """A nomination the clerk entered from paper (submitted, as if confirmed)."""
    entered = await formal_check.enter_paper_nomination(
        actor_id=clerk_id,
        edition_id=edition.id,
        data=nomination_data(edition, **changes),
        uploads=uploads or [],
        received_on=received_on or min(utcnow().astimezone(TIMEZONE).date(), deadline_of(edition)),
        base_url=BASE,
    )
    return entered.nomination_id


async def citizen_nomination(edition: EditionView, key: str, *, confirm: bool = True, **changes: object) -> int:
    """A nomination sent through the public path; confirmed with the link from the mail."""
    submitted = await submission.submit(
        edition=edition,
        data=nomination_data(edition, **changes),
        uploads=[],
        submission_key=key,
        base_url=BASE,
    )
    if confirm:
        to = str(changes.get("nominator_email", "anna@example.org"))
        mail = (
            await OutboxMail.select(OutboxMail.body_text)
            .where(OutboxMail.to_address == to)
            .order_by(OutboxMail.id, ascending=False)
            .first()
        )
        assert mail is not None
        found = re.search(rf"{BASE}/n/confirm/([A-Za-z0-9_-]+)", mail["body_text"])
        assert found is not None
        await submission.confirm(token=found.group(1), base_url=BASE)
    return submitted.nomination_id


Form = dict[str, str | list[str]]


def edition_form(**changes: str) -> Form:
    """A valid edition as the form posts it: two criteria, an empty row, then a new one."""
    form: Form = {
        "activity_year": "2025",
        "name_pl": "Krakowski Ambasador Wielokulturowości A.D. 2025",
        "name_en": "Krakow Ambassador of Multiculturalism A.D. 2025",
        "name_uk": "Краківський амбасадор мультикультурності A.D. 2025",
        "intro_pl": "Zgłoś osobę lub organizację.\nDruga linia.",
        "intro_en": "Nominate a person or an organisation.",
        "intro_uk": "",
        "opens_at": "2026-03-01T09:00",
        "closes_at": "2026-04-30T23:59",
        "score_min": "0",
        "score_max": "10",
        "approving_body": "mayor_order",
        "retention_months": "36",
    }
    rows = [
        ("Okres działalności", "Length of activity", "Тривалість діяльності", "2"),
        ("Efekty działań", "Effects of the activities", "Результати діяльності", "1"),
        ("", "", "", "1"),
        ("Różnorodność", "Diversity", "Різноманітність", "3"),
    ]
    for index, (pl, en, uk, weight) in enumerate(rows):
        form.update(
            {
                f"criterion_{index}_id": "",
                f"criterion_{index}_name_pl": pl,
                f"criterion_{index}_name_en": en,
                f"criterion_{index}_name_uk": uk,
                f"criterion_{index}_weight": weight,
            }
        )
    form.update(changes)
    return form
