"""Demo data for `make run`: an open edition with realistic (fictional) nominations.

Everything goes through the same domain functions a citizen and a clerk use, so the demo
shows real states, audit entries and mails (written to var/mail/ in development). Like
``cli``, it is a consumer of the domain, not part of its rules.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from ambassador import honour
from ambassador.db import utcnow, write_transaction
from ambassador.domain import consent, editions, formal_check, jury, submission
from ambassador.domain.categories import CategoryInput
from ambassador.domain.editions import EditionData, EditionView, default_criteria
from ambassador.domain.nominations import NominationData, Upload
from ambassador.enums import EditionState, NomineeKind, Role
from ambassador.tables import Edition, OutboxMail, User, UserRole

DEMO_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
CONFIRM_LINK = re.compile(r"/n/confirm/([A-Za-z0-9_-]+)")
CONSENT_LINK = re.compile(r"/consent/([A-Za-z0-9_-]+)")

# (who is nominated: the edition's first category for them, nominee, minor, nominee email,
#  org kind, KRS, nominator, nominator email, relation, language, texts for the four criteria,
#  what the clerk has done: "", "accepted", "paper")
NOMINATIONS: tuple[tuple[NomineeKind, str, bool, str, str, str, str, str, str, str, tuple[str, ...], str], ...] = (
    (
        NomineeKind.ORGANISATION,
        "Fundacja Kultury Bez Granic",
        False,
        "biuro@bezgranic.example.com",
        "ngo",
        "0000123456",
        "Anna Nowak",
        "anna.nowak@example.com",
        "wolontariuszka",
        "pl",
        (
            "Od 2012 roku fundacja prowadzi w Krakowie kluby dialogu dla mieszkańców i cudzoziemców.",
            "W 2026 r. 48 spotkań, 1200 uczestników z 30 krajów; kursy polskiego dla 300 osób.",
            "Mentoring sąsiedzki łączący rodziny krakowskie z nowo przybyłymi.",
            "Festiwal kuchni, warsztaty dla szkół, poradnictwo prawne.",
        ),
        "accepted",
    ),
    (
        NomineeKind.ORGANISATION,
        "Fundacja Kultury bez Granic",
        False,
        "",
        "ngo",
        "0000123456",
        "Piotr Zieliński",
        "piotr.zielinski@example.com",
        "partner projektu",
        "pl",
        ("", "Współorganizacja Tygodnia Wielokulturowości na Kazimierzu.", "", ""),
        "",
    ),
    (
        NomineeKind.PERSON,
        "Olena Kovalenko",
        False,
        "olena.kovalenko@example.com",
        "",
        "",
        "Iryna Shevchenko",
        "iryna.shevchenko@example.com",
        "koleżanka z pracy",
        "uk",
        (
            "З 2022 року координує волонтерів, які допомагають українським родинам у Кракові.",
            "Понад 400 дітей отримали місця в школах завдяки її консультаціям.",
            "Створила двомовний клуб читання для польських і українських дітей.",
            "Організовує концерти, виставки та спільні свята.",
        ),
        "accepted",
    ),
    (
        NomineeKind.PERSON,
        "Tomasz Wiśniewski",
        False,
        "",
        "",
        "",
        "Maria Lewandowska",
        "maria.lewandowska@example.com",
        "sąsiadka",
        "pl",
        ("Przewodnik po wielokulturowym Krakowie od 15 lat.", "Bezpłatne spacery dla 2000 osób rocznie.", "", ""),
        "paper",
    ),
    (
        NomineeKind.PERSON,
        "Amira Haddad",
        False,
        "amira.haddad@example.com",
        "",
        "",
        "John Smith",
        "john.smith@example.com",
        "colleague",
        "en",
        (
            "Since 2019 she has run an Arabic-Polish language exchange in Kraków.",
            "Her weekly meetups reached over 600 people in 2026.",
            "A podcast about everyday life of migrants in Kraków.",
            "Language exchange, cooking workshops, a children's choir.",
        ),
        "",
    ),
    (
        NomineeKind.PERSON,
        "Kacper Mazur",
        True,
        "rodzice.mazur@example.com",
        "",
        "",
        "Ewa Kaczmarek",
        "ewa.kaczmarek@example.com",
        "nauczycielka",
        "pl",
        ("W szkole od trzech lat prowadzi klub przyjaciół dla uczniów z zagranicy.", "", "", ""),
        "",
    ),
)


async def _with_role(role: Role) -> list[int]:
    rows = await User.select(User.id).where(
        User.id.is_in(UserRole.select(UserRole.user).where(UserRole.role == role.value))
    )
    return [int(r["id"]) for r in rows]


async def _demo_clerk() -> int:
    clerks = await _with_role(Role.CLERK)
    if not clerks:
        raise RuntimeError("the demo needs a clerk account (dev-setup creates one)")
    return clerks[0]


async def _link_in_mail(to: str, pattern: re.Pattern[str]) -> str | None:
    """The token of the newest link of this kind mailed to ``to``, as the recipient sees it."""
    mail = (
        await OutboxMail.select(OutboxMail.body_text)
        .where(OutboxMail.to_address == to)
        .order_by(OutboxMail.id, ascending=False)
        .first()
    )
    found = pattern.search(mail["body_text"]) if mail else None
    return found.group(1) if found else None


async def load_demo_edition(*, base_url: str, categories: Sequence[CategoryInput]) -> str | None:
    """Create the demo edition once (all or nothing) with ``categories``; its label, or None if editions exist."""
    async with write_transaction():
        if await Edition.exists():
            return None
        return await _load(base_url, categories)


def _category_for(edition: EditionView, kind: NomineeKind) -> str:
    """The code of the edition's first category that takes this kind of nominee."""
    takes = {NomineeKind.PERSON: "takes_persons", NomineeKind.ORGANISATION: "takes_organisations"}[kind]
    return next((c.code for c in edition.categories if getattr(c, takes)), edition.categories[0].code)


async def _load(base_url: str, categories: Sequence[CategoryInput]) -> str:
    clerk = await _demo_clerk()
    now = utcnow()
    name = honour.active().name  # the edition is called as the honour, in the three languages
    edition = await editions.create_edition(
        actor_id=clerk,
        data=EditionData(
            activity_year=now.year,
            name_pl=name["pl"],
            name_en=name["en"],
            name_uk=name["uk"],
            intro_pl="Zgłoś osobę lub organizację, która w tym roku budowała dialog międzykulturowy w Krakowie.",
            intro_en="Nominate a person or an organisation who built intercultural dialogue in Kraków this year.",
            intro_uk="Висуньте людину чи організацію, яка цього року будувала міжкультурний діалог у Кракові.",
            opens_at=(now - dt.timedelta(days=20)).replace(minute=0, second=0, microsecond=0),
            closes_at=(now + dt.timedelta(days=40)).replace(hour=22, minute=59, second=0, microsecond=0),
            criteria=default_criteria(),
        ),
        categories=categories,
    )
    edition = await editions.advance(actor_id=clerk, edition_id=edition.id, target=EditionState.OPEN)
    criteria = [c.id for c in edition.criteria if c.id is not None]
    for index, item in enumerate(NOMINATIONS):
        (who, nominee, minor, nominee_email, kind, krs, nominator, email, relation, language, texts, done) = item
        data = NominationData(
            category=_category_for(edition, who),
            nominee_name=nominee,
            nominee_is_minor=minor,
            nominee_email=nominee_email,
            organisation_kind=kind,
            registry_number=krs,
            descriptions=dict(zip(criteria, texts, strict=False)),
            nominator_name=nominator,
            nominator_email=email,
            nominator_relation=relation,
            privacy_ack=True,
            language=language,
        )
        uploads = [Upload("rekomendacja.pdf", DEMO_PDF)] if index % 2 == 0 else []
        if done == "paper":
            submitted = await formal_check.enter_paper_nomination(
                actor_id=clerk,
                edition_id=edition.id,
                data=data,
                uploads=uploads,
                received_on=(now - dt.timedelta(days=3)).date(),
                base_url=base_url,
            )
        else:
            submitted = await submission.submit(
                edition=edition,
                data=data,
                uploads=uploads,
                submission_key=f"demo-nomination-{index:04d}-{now:%Y%m%d}",
                base_url=base_url,
            )
            token = await _link_in_mail(email, CONFIRM_LINK)
            if token and index != len(NOMINATIONS) - 1:  # the last one waits for its confirmation
                await submission.confirm(token=token, base_url=base_url)
        if done == "accepted":
            await formal_check.decide(actor_id=clerk, nomination_id=submitted.nomination_id, accept=True, reason="")
            if nominee_email and (consent_token := await _link_in_mail(nominee_email, CONSENT_LINK)):
                await consent.answer_consent(token=consent_token, given=True)
    # The demo juror sits on the jury (and chairs it), ready for scoring once nominations close.
    for index, juror in enumerate(await _with_role(Role.JUROR)):
        await jury.appoint(actor_id=clerk, edition_id=edition.id, user_id=juror, base_url=base_url)
        if index == 0:
            await jury.set_chair(actor_id=clerk, edition_id=edition.id, user_id=juror)
    return edition.label
