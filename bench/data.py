"""The benchmark's data set, built through the domain and table APIs (fictional names only).

Run by `bench/bench_app.py` in its own process after ``ambassador migrate`` and ``ambassador
laureates import`` of the shipped 2018-2024 record, with ``AMBASSADOR_DATABASE_URL`` pointing
at the benchmark's own database (Piccolo binds the engine when ``ambassador`` is imported, so
the environment must be set before this process starts). Subcommands:

``build``
    Adds ``--editions`` editions after the shipped years (default 7): all but two published,
    one in jury scoring, one open for nominations. ``--nominations`` (2,000) are spread evenly
    over them; ``--jurors`` (15) sit on every jury with ``--criteria`` (4) weighted criteria
    and have submitted a score sheet for every nomination that reached the jury; published
    editions add laureates until the archive holds ``--laureates`` (150, the shipped ones
    included). The edition in jury scoring also has ``--load-jurors`` (50) appointed in all,
    the clients of the score-save scenario; every juror has declared no conflict there.
    ``--storm-accounts`` (16) juror accounts sit on no jury: the login storm logs in as them.
    Accounts, the two current editions, appointments, rules and the opening of scoring go
    through the domain (audited, mailed); the bulk (nominations, declarations, sheets,
    scores, published editions and laureates) is inserted with the table API. Names read
    "Test Juror 07", "Test Nominee 2027/0042". Prints one JSON object describing the data set
    (ids, emails, the generated password) for the harness.
``mail-mark``
    Prints the newest outbox mail's id (0 for none).
``confirm-links --after ID``
    Prints the confirmation tokens mailed after mail ``ID``, as the nominators got them.
``count --edition ID``
    Prints the edition's nominations by state.
``settle``
    Marks every pending mail as sent, so that a server started next does not spend the
    benchmark's time delivering an earlier scenario's backlog. Prints how many.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import random
import re
import secrets
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ambassador import db
from ambassador.db import utcnow, write_transaction
from ambassador.domain import accounts, categories, editions, jury, scoring_round
from ambassador.domain.categories import CategoryInput
from ambassador.domain.editions import CriterionData, EditionData, default_criteria
from ambassador.domain.jury import JuryRules
from ambassador.domain.laureate_import import free_slug
from ambassador.enums import (
    ApprovingBody,
    ConsentState,
    EditionState,
    MailStatus,
    NominationState,
    Role,
    SheetStatus,
)
from ambassador.passwords import Passwords
from ambassador.settings import load_settings
from ambassador.tables import (
    ConflictDeclaration,
    Criterion,
    Edition,
    JuryMember,
    Laureate,
    Nomination,
    OutboxMail,
    Score,
    ScoreSheet,
)
from ambassador.text import fold

BASE_URL = "http://127.0.0.1:8000"
CHUNK = 400  # rows per INSERT (SQLite allows 32,766 parameters per statement)
CONFIRM_LINK = re.compile(r"/n/confirm/([A-Za-z0-9_-]+)")
JURY_DOMAIN = "jury.bench.example.net"
SCORE_MIN, SCORE_MAX = 0, 10
REJECTED_SHARE, WITHDRAWN_SHARE = 0.12, 0.03  # of a published edition's nominations

DESCRIPTION = (
    "A fictional nomination generated for the benchmark. Since {since} {who} has run language "
    "cafés, neighbourhood dinners and workshops for schools in Kraków, with about {people} "
    "participants a year from {countries} countries, and a festival of cultures on the Vistula."
)
CITATION = {
    "pl": "{name} to fikcyjny wpis wygenerowany do testu wydajności. Od {years} lat prowadzi warsztaty, "
    "spotkania sąsiedzkie i festiwal kultur w Krakowie.",
    "en": "{name} is a fictional record generated for the benchmark. For {years} years they have run "
    "workshops, neighbourhood meetings and a festival of cultures in Kraków.",
    "uk": "{name} — вигаданий запис, створений для тесту швидкодії. Уже {years} років проводить "
    "майстер-класи, сусідські зустрічі та фестиваль культур у Кракові.",
}


@dataclass(frozen=True)
class Shape:
    editions: int
    nominations: int
    jurors: int
    criteria: int
    laureates: int
    load_jurors: int
    storm_accounts: int
    seed: int = 42


def _write(value: object) -> None:
    sys.stdout.write(json.dumps(value) + "\n")


async def _chunked(table: Any, rows: Sequence[Any]) -> None:
    """Insert table instances in chunks, inside the caller's transaction."""
    for start in range(0, len(rows), CHUNK):
        await table.insert(*rows[start : start + CHUNK])


# --- accounts -------------------------------------------------------------------------------


async def _accounts(shape: Shape, password_hash: str) -> tuple[int, list[int], list[str], list[str]]:
    """The clerk, the jurors (ids and emails, the jury first) and the login-storm accounts."""
    clerk = await accounts.create_user(
        email="clerk@bench.example.net",
        display_name="Test Clerk",
        roles=frozenset({Role.CLERK}),
        actor_id=None,
        password_hash=password_hash,
        language="en",
    )
    jurors = await _jurors("juror", "Test Juror", max(shape.jurors, shape.load_jurors), clerk.id, password_hash)
    storm = await _jurors("storm", "Test Account", shape.storm_accounts, clerk.id, password_hash)
    return clerk.id, [j.id for j in jurors], [j.email for j in jurors], [a.email for a in storm]


async def _jurors(prefix: str, name: str, count: int, clerk_id: int, password_hash: str) -> list[accounts.Account]:
    """``count`` accounts with the juror role: ``{prefix}01@…``, named ``{name} 01`` …"""
    return [
        await accounts.create_user(
            email=f"{prefix}{n:02d}@{JURY_DOMAIN}",
            display_name=f"{name} {n:02d}",
            roles=frozenset({Role.JUROR}),
            actor_id=clerk_id,
            password_hash=password_hash,
            language="en",
        )
        for n in range(1, count + 1)
    ]


# --- nominations, sheets and scores ---------------------------------------------------------


def _criteria(count: int) -> tuple[CriterionData, ...]:
    """The real rules' four criteria (more are numbered), weighted 1, 2, 3, ..."""
    base = list(default_criteria())
    while len(base) < count:
        n = len(base) + 1
        base.append(CriterionData(name_pl=f"Kryterium {n}", name_en=f"Criterion {n}", name_uk=f"Критерій {n}"))
    return tuple(
        CriterionData(name_pl=c.name_pl, name_en=c.name_en, name_uk=c.name_uk, weight=position)
        for position, c in enumerate(base[:count], start=1)
    )


def _nomination(
    rng: random.Random, edition_id: int, year: int, number: int, *, state: NominationState, criteria: list[int]
) -> Nomination:
    """A valid nomination row: category A (organisation) or B (person), texts for some criteria."""
    now = utcnow()
    category = "A" if number % 3 == 0 else "B"
    reference = f"{year}/{number:04d}"
    nominee = f"Test Nominee {reference}"
    described = criteria[: rng.randint(1, len(criteria))]
    text = {
        str(c): DESCRIPTION.format(
            since=rng.randint(2000, year - 1),
            who=nominee,
            people=rng.randint(50, 3000),
            countries=rng.randint(3, 60),
        )
        for c in described
    }
    return Nomination(
        edition=edition_id,
        number=number,
        reference=reference,
        state=state.value,
        category=category,
        nominee_name=nominee,
        nominee_key=fold(nominee)[:200],
        nominee_email=f"nominee.{year}.{number:04d}@nominees.example.org",
        organisation_kind="ngo" if category == "A" else "",
        descriptions=json.dumps(text),
        links=f"https://example.org/bench/{year}/{number:04d}",
        nominator_name=f"Test Nominator {reference}",
        nominator_email=f"nominator.{year}.{number:04d}@nominators.example.org",
        nominator_relation="colleague",
        language=("pl", "en", "uk")[number % 3],
        submission_key=f"bench-{year}-{number:05d}",
        consent=ConsentState.GIVEN.value if state != NominationState.SUBMITTED else ConsentState.PENDING.value,
        created_at=now - dt.timedelta(days=30),
        confirmed_at=now - dt.timedelta(days=30),
        updated_at=now - dt.timedelta(days=1),
    )


async def _insert_nominations(edition_id: int, rows: list[Nomination]) -> list[int]:
    """Insert and number them; the edition's counter continues after them (like the domain's)."""
    await _chunked(Nomination, rows)
    await Edition.update({Edition.next_number: len(rows) + 1}).where(Edition.id == edition_id)
    found = await Nomination.select(Nomination.id).where(Nomination.edition == edition_id).order_by(Nomination.number)
    return [int(r["id"]) for r in found]


async def _declarations(edition_id: int, juror_ids: Sequence[int], nomination_ids: Sequence[int]) -> None:
    now = utcnow()
    rows = [
        ConflictDeclaration(edition=edition_id, juror=j, nomination=n, conflicted=False, declared_at=now)
        for j in juror_ids
        for n in nomination_ids
    ]
    await _chunked(ConflictDeclaration, rows)


def _clamp(value: int) -> int:
    return min(SCORE_MAX, max(SCORE_MIN, value))


async def _sheets(
    rng: random.Random, edition_id: int, juror_ids: Sequence[int], nomination_ids: Sequence[int], criteria: list[int]
) -> int:
    """A submitted sheet from every juror on every nomination: merit + leniency + noise."""
    now = utcnow()
    merit = {n: rng.uniform(2, 9) for n in nomination_ids}
    leniency = {j: rng.uniform(-1.5, 1.5) for j in juror_ids}
    sheets = [
        ScoreSheet(
            edition=edition_id,
            juror=j,
            nomination=n,
            status=SheetStatus.SUBMITTED.value,
            comment="",
            updated_at=now,
            submitted_at=now,
        )
        for j in juror_ids
        for n in nomination_ids
    ]
    await _chunked(ScoreSheet, sheets)
    ids = await ScoreSheet.select(ScoreSheet.id, ScoreSheet.juror, ScoreSheet.nomination).where(
        ScoreSheet.edition == edition_id
    )
    scores = [
        Score(
            sheet=row["id"],
            criterion=c,
            value=_clamp(round(rng.gauss(merit[row["nomination"]] + leniency[row["juror"]], 1.5))),
        )
        for row in ids
        for c in criteria
    ]
    await _chunked(Score, scores)
    return len(sheets)


# --- editions -------------------------------------------------------------------------------


def _categories(quotas: dict[str, tuple[int, int]]) -> list[CategoryInput]:
    """The installation's categories (Kraków's A and B) with the given (titles, mentions)."""
    return [
        dataclasses.replace(c, titles=quotas[c.code][0], mentions=quotas[c.code][1]) if c.code in quotas else c
        for c in categories.installation_defaults()
    ]


async def _published(
    rng: random.Random, shape: Shape, year: int, *, nominations: int, laureates: int, juror_ids: Sequence[int]
) -> tuple[int, str]:
    """A published edition (table API): its nominations, jury, sheets and laureates."""
    now = utcnow()
    label = f"A.D. {year}"
    async with write_transaction():
        edition = Edition(
            activity_year=year,
            state=EditionState.PUBLISHED.value,
            name_pl=f"Testowa edycja {label}",
            name_en=f"Test edition {label}",
            name_uk=f"Тестове видання {label}",
            intro_en="A fictional edition generated for the benchmark.",
            opens_at=dt.datetime(year, 3, 1, tzinfo=dt.UTC),
            closes_at=dt.datetime(year, 4, 30, 23, 59, tzinfo=dt.UTC),
            approving_body=ApprovingBody.COUNCIL_RESOLUTION.value,
            published_at=now - dt.timedelta(days=1),
        )
        await edition.save()
        quotas = {"A": (2, max(0, laureates // 2 - 2)), "B": (2, max(0, laureates - laureates // 2 - 2))}
        await categories.insert_all(edition.id, _categories(quotas))
        criteria: list[int] = []
        for position, c in enumerate(_criteria(shape.criteria), start=1):
            row = Criterion(
                edition=edition.id,
                position=position,
                name_pl=c.name_pl,
                name_en=c.name_en,
                name_uk=c.name_uk,
                weight=c.weight,
            )
            await row.save()
            criteria.append(int(row.id))
        rejected = round(nominations * REJECTED_SHARE)
        withdrawn = round(nominations * WITHDRAWN_SHARE)

        def state(number: int) -> NominationState:
            if number <= laureates:
                return NominationState.LAUREATE
            if number <= laureates + rejected:
                return NominationState.REJECTED
            if number <= laureates + rejected + withdrawn:
                return NominationState.WITHDRAWN
            return NominationState.SHORTLISTED

        rows = [
            _nomination(rng, edition.id, year, n, state=state(n), criteria=criteria) for n in range(1, nominations + 1)
        ]
        ids = await _insert_nominations(edition.id, rows)
        scored = [i for i, row in zip(ids, rows, strict=True) if row.state in {"laureate", "shortlisted"}]
        await _chunked(
            JuryMember, [JuryMember(edition=edition.id, user=j, is_chair=k == 0) for k, j in enumerate(juror_ids)]
        )
        await _declarations(edition.id, juror_ids, scored)
        await _sheets(rng, edition.id, juror_ids, scored, criteria)
        slug = ""
        for number, nomination_id in enumerate(ids[:laureates], start=1):
            category = rows[number - 1].category
            name = f"Test Laureate {year}-{number:02d}"
            values = {"name": name, "years": 3 + number % 12}
            slug = await free_slug(year, name)
            await Laureate(
                edition=edition.id,
                nomination=nomination_id,
                slug=slug,
                name=name,
                name_key=fold(name),
                category=category,
                distinction="title" if number <= 4 else "mention",
                citation_pl=CITATION["pl"].format(**values),
                citation_en=CITATION["en"].format(**values),
                citation_uk=CITATION["uk"].format(**values),
                source_url=f"https://example.org/bench/laureates/{year}/{number:02d}",
                created_at=now - dt.timedelta(days=2),
            ).save()
    return int(edition.id), slug


async def _current(
    clerk_id: int, shape: Shape, year: int, opens: dt.datetime, closes: dt.datetime, *, open_now: bool
) -> tuple[int, list[int]]:
    """An edition made by the clerk through the domain and opened (closed again if not ``open_now``)."""
    edition = await editions.create_edition(
        actor_id=clerk_id,
        data=EditionData(
            activity_year=year,
            name_pl=f"Testowa edycja A.D. {year}",
            name_en=f"Test edition A.D. {year}",
            name_uk=f"Тестове видання A.D. {year}",
            intro_en="A fictional edition generated for the benchmark.",
            opens_at=opens,
            closes_at=closes,
            criteria=_criteria(shape.criteria),
        ),
        categories=_categories({"A": (2, 2), "B": (2, 4)}),
    )
    at = opens + dt.timedelta(hours=1)
    edition = await editions.advance(actor_id=clerk_id, edition_id=edition.id, target=EditionState.OPEN, now=at)
    if not open_now:
        edition = await editions.advance(actor_id=clerk_id, edition_id=edition.id, target=EditionState.FORMAL_CHECK)
    return edition.id, [c.id for c in edition.criteria if c.id is not None]


async def _scoring(
    rng: random.Random, shape: Shape, clerk_id: int, *, year: int, nominations: int, juror_ids: list[int]
) -> dict[str, Any]:
    """In jury scoring: shortlisted nominations, the jury's sheets submitted, everyone declared."""
    now = utcnow()
    edition_id, criteria = await _current(
        clerk_id, shape, year, now - dt.timedelta(days=60), now - dt.timedelta(days=20), open_now=False
    )
    async with write_transaction():
        rows = [
            _nomination(rng, edition_id, year, n, state=NominationState.SHORTLISTED, criteria=criteria)
            for n in range(1, nominations + 1)
        ]
        ids = await _insert_nominations(edition_id, rows)
    appointed = juror_ids[: max(shape.jurors, shape.load_jurors)]
    for user_id in appointed:
        await jury.appoint(actor_id=clerk_id, edition_id=edition_id, user_id=user_id, base_url=BASE_URL)
    await jury.set_chair(actor_id=clerk_id, edition_id=edition_id, user_id=appointed[0])
    await jury.set_rules(
        actor_id=clerk_id,
        edition_id=edition_id,
        rules=JuryRules(appointment_document="Test order 1/2026", normalise=True, min_scores=3),
    )
    await scoring_round.open_scoring(actor_id=clerk_id, edition_id=edition_id, base_url=BASE_URL)
    async with write_transaction():
        await _declarations(edition_id, appointed, ids)
        sheets = await _sheets(rng, edition_id, appointed[: shape.jurors], ids, criteria)
    return {"id": edition_id, "year": year, "criteria": criteria, "nominations": ids, "sheets": sheets}


async def _open(rng: random.Random, shape: Shape, clerk_id: int, year: int, nominations: int) -> dict[str, Any]:
    """Open for nominations now (for 60 more days), with confirmed nominations so far."""
    now = utcnow()
    edition_id, criteria = await _current(
        clerk_id, shape, year, now - dt.timedelta(days=10), now + dt.timedelta(days=60), open_now=True
    )
    async with write_transaction():
        rows = [
            _nomination(rng, edition_id, year, n, state=NominationState.SUBMITTED, criteria=criteria)
            for n in range(1, nominations + 1)
        ]
        await _insert_nominations(edition_id, rows)
    return {"id": edition_id, "year": year, "criteria": criteria}


async def build(shape: Shape) -> dict[str, Any]:
    if shape.editions < 3:
        raise SystemExit("--editions must be at least 3: published ones, one in jury scoring, one open")
    rng = random.Random(shape.seed)  # noqa: S311 - deterministic test data, not security
    password = secrets.token_urlsafe(18)
    password_hash = await Passwords(load_settings().argon2).hash(password)
    clerk_id, juror_ids, juror_emails, storm = await _accounts(shape, password_hash)
    shipped = int(await Laureate.count())
    latest = await Edition.select(Edition.activity_year).order_by(Edition.activity_year, ascending=False).first()
    year = int(latest["activity_year"]) + 1 if latest else 2025
    published = shape.editions - 2
    per_edition = shape.nominations // shape.editions
    to_add = max(0, shape.laureates - shipped)
    slug = ""
    for k in range(published):
        laureates = to_add // published + (1 if k < to_add % published else 0)
        _, made = await _published(
            rng,
            shape,
            year + k,
            nominations=max(per_edition, laureates),
            laureates=laureates,
            juror_ids=juror_ids[: shape.jurors],
        )
        slug = made or slug
    in_scoring = await _scoring(
        rng, shape, clerk_id, year=year + published, nominations=per_edition, juror_ids=juror_ids
    )
    rest = shape.nominations - per_edition * (shape.editions - 1)
    open_edition = await _open(rng, shape, clerk_id, year + published + 1, rest)
    settled = await settle()
    public = await Edition.count().where(Edition.state == EditionState.PUBLISHED.value)
    return {
        "password": password,
        "clerk": "clerk@bench.example.net",
        "jurors": juror_emails[: max(shape.jurors, shape.load_jurors)],
        "jury": shape.jurors,
        "chair": juror_emails[0],
        "storm": storm,
        "criteria": shape.criteria,
        "laureates": int(await Laureate.count()),
        "shipped_laureates": shipped,
        "published_editions": int(public),
        "generated_editions": shape.editions,
        "nominations": int(await Nomination.count()),
        "slug": slug,
        "scoring": in_scoring,
        "open": open_edition,
        "mails_settled": settled,
    }


# --- the outbox -----------------------------------------------------------------------------


async def mail_mark() -> int:
    row = await OutboxMail.select(OutboxMail.id).order_by(OutboxMail.id, ascending=False).first()
    return int(row["id"]) if row else 0


async def confirm_links(after: int) -> list[str]:
    rows = await OutboxMail.select(OutboxMail.body_text).where(OutboxMail.id > after).order_by(OutboxMail.id)
    return [found.group(1) for row in rows if (found := CONFIRM_LINK.search(row["body_text"]))]


async def count(edition_id: int) -> dict[str, int]:
    rows = await Nomination.select(Nomination.state).where(Nomination.edition == edition_id)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    return counts


async def settle() -> int:
    async with write_transaction():
        done = await (
            OutboxMail.update({OutboxMail.status: MailStatus.SENT.value, OutboxMail.sent_at: utcnow()})
            .where(OutboxMail.status == MailStatus.PENDING.value)
            .returning(OutboxMail.id)
        )
    return len(done)


async def _run(action: Callable[[], Awaitable[object]]) -> object:
    await db.start_pool()
    try:
        return await action()
    finally:
        await db.close_pool()
        await db.close_connections()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("build", help="build the data set")
    make.add_argument("--editions", type=int, default=7, help="generated editions (default 7)")
    make.add_argument("--nominations", type=int, default=2000, help="over the generated editions (default 2000)")
    make.add_argument("--jurors", type=int, default=15, help="on every jury (default 15)")
    make.add_argument("--criteria", type=int, default=4, help="per edition (default 4)")
    make.add_argument("--laureates", type=int, default=150, help="in the archive, shipped included (default 150)")
    make.add_argument("--load-jurors", type=int, default=50, help="on the jury in scoring (default 50)")
    make.add_argument("--storm-accounts", type=int, default=16, help="accounts for the login storm (default 16)")
    commands.add_parser("mail-mark", help="the newest outbox mail's id")
    links = commands.add_parser("confirm-links", help="confirmation tokens mailed after a mail id")
    links.add_argument("--after", type=int, required=True)
    counting = commands.add_parser("count", help="an edition's nominations by state")
    counting.add_argument("--edition", type=int, required=True)
    commands.add_parser("settle", help="mark pending mails as sent")
    args = parser.parse_args(argv)
    if args.command == "build":
        shape = Shape(
            editions=args.editions,
            nominations=args.nominations,
            jurors=args.jurors,
            criteria=args.criteria,
            laureates=args.laureates,
            load_jurors=args.load_jurors,
            storm_accounts=args.storm_accounts,
        )
        _write(asyncio.run(_run(lambda: build(shape))))
    elif args.command == "mail-mark":
        _write(asyncio.run(_run(mail_mark)))
    elif args.command == "confirm-links":
        _write(asyncio.run(_run(lambda: confirm_links(args.after))))
    elif args.command == "count":
        _write(asyncio.run(_run(lambda: count(args.edition))))
    else:
        _write(asyncio.run(_run(settle)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
