"""Database work for the load tests, run as ``python -m tests.load.dbtool`` in its own process.

The app binds its database engine when ``ambassador`` is imported, from
``AMBASSADOR_DATABASE_URL``; each load test has its own database, so everything touching
it (set-up, the outbox drain, the final snapshot) runs in a subprocess with that variable
set, and prints JSON on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from typing import Any

from ambassador import db
from ambassador.domain import (
    accounts,
    categories,
    conflict_declarations,
    consent,
    editions,
    formal_check,
    jury,
    outbox,
    scoring_round,
)
from ambassador.domain.audit_verify import verify_chain
from ambassador.domain.editions import EditionData, default_criteria
from ambassador.domain.nominations import NominationData, Upload
from ambassador.enums import EditionState, MailStatus, Role
from ambassador.mail import SmtpTransport
from ambassador.passwords import Passwords
from ambassador.settings import Argon2Params
from ambassador.tables import AuditEntry, Nomination, OutboxMail, Score, ScoreSheet

PASSWORD = "load test passphrase 0123"
BASE = "http://load.invalid"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
CHEAP = Argon2Params(time_cost=1, memory_cost=1024, parallelism=1)


def edition_data(year: int, opens_at: dt.datetime, closes_at: dt.datetime) -> EditionData:
    return EditionData(
        activity_year=year,
        name_pl=f"Ambasador {year}",
        name_en=f"Ambassador {year}",
        name_uk=f"Амбасадор {year}",
        opens_at=opens_at,
        closes_at=closes_at,
        criteria=default_criteria(),
    )


async def _user(email: str, role: Role, name: str, password_hash: str) -> int:
    account = await accounts.create_user(
        email=email, display_name=name, roles=frozenset({role}), actor_id=None, password_hash=password_hash
    )
    return account.id


async def setup(jurors: int, shortlisted: int) -> dict[str, Any]:
    """An edition open for nominations now, and last year's edition in jury scoring.

    The scoring edition has ``shortlisted`` paper nominations before ``jurors`` jurors who
    have declared no conflict, so they can save scores at once.
    """
    password_hash = await Passwords(CHEAP).hash(PASSWORD)
    clerk = await _user("clerk@load.example.org", Role.CLERK, "Load Clerk", password_hash)
    now = db.utcnow()
    scored = await editions.create_edition(
        actor_id=clerk,
        data=edition_data(2024, now - dt.timedelta(days=20), now - dt.timedelta(days=2)),
        categories=categories.installation_defaults(),
    )
    await editions.advance(
        actor_id=clerk, edition_id=scored.id, target=EditionState.OPEN, now=now - dt.timedelta(days=10)
    )
    scored = await editions.advance(actor_id=clerk, edition_id=scored.id, target=EditionState.FORMAL_CHECK)
    first_criterion = scored.criteria[0].id
    assert first_criterion is not None
    ids: list[int] = []
    for number in range(1, shortlisted + 1):
        entered = await formal_check.enter_paper_nomination(
            actor_id=clerk,
            edition_id=scored.id,
            data=NominationData(
                category="B",
                nominee_name=f"Shortlisted Person {number}",
                nominee_email=f"shortlisted{number}@example.org",
                descriptions={first_criterion: "Runs a bilingual reading club."},
                nominator_name=f"Paper Nominator {number}",
                nominator_email=f"paper{number}@example.org",
                privacy_ack=True,
                language="en",
            ),
            uploads=[Upload(f"scan {number}.png", PNG)],
            received_on=(now - dt.timedelta(days=5)).date(),
            base_url=BASE,
        )
        nomination_id = entered.nomination_id
        await formal_check.decide(actor_id=clerk, nomination_id=nomination_id, accept=True, reason="")
        await consent.record_paper_consent(actor_id=clerk, nomination_id=nomination_id, given=True, note="Binder")
        await formal_check.shortlist(actor_id=clerk, nomination_id=nomination_id)
        ids.append(nomination_id)
    juror_rows: list[dict[str, Any]] = []
    for number in range(1, jurors + 1):
        email = f"juror{number}@jury.load.example.net"
        user_id = await _user(email, Role.JUROR, f"Juror Number{number}", password_hash)
        await jury.appoint(actor_id=clerk, edition_id=scored.id, user_id=user_id, base_url=BASE)
        juror_rows.append({"id": user_id, "email": email})
    await jury.set_chair(actor_id=clerk, edition_id=scored.id, user_id=juror_rows[0]["id"])
    scored = await scoring_round.open_scoring(base_url=BASE, actor_id=clerk, edition_id=scored.id)
    for juror in juror_rows:
        for nomination_id in ids:
            await conflict_declarations.declare(
                juror_id=juror["id"], edition_id=scored.id, nomination_id=nomination_id, conflicted=False
            )
    opened = await editions.create_edition(
        actor_id=clerk,
        data=edition_data(2025, now - dt.timedelta(days=1), now + dt.timedelta(days=30)),
        categories=categories.installation_defaults(),
    )
    opened = await editions.advance(actor_id=clerk, edition_id=opened.id, target=EditionState.OPEN)
    return {
        "open_edition": opened.id,
        "scoring_edition": scored.id,
        "shortlisted": ids,
        "criteria": [c.id for c in scored.criteria],
        "jurors": juror_rows,
        "password": PASSWORD,
    }


async def drain(smtp_url: str, timeout: float) -> dict[str, Any]:
    """Deliver the outbox until no mail is pending (waiting out the leases of a killed sender)."""
    transport = SmtpTransport(smtp_url)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    sent = 0
    while True:
        report = await outbox.send_due(transport, sender="Load <no-reply@load.example.org>", limit=1000)
        sent += report.sent
        pending = await OutboxMail.count().where(OutboxMail.status == MailStatus.PENDING.value)
        if pending == 0 or loop.time() > deadline:
            return {"sent_by_drain": sent, "pending": pending}
        if report.sent == 0:
            await asyncio.sleep(0.5)


async def snapshot(edition_id: int) -> dict[str, Any]:
    """What the database holds after the run, for the test to compare with what was acknowledged."""
    found = await Nomination.select(Nomination.id, Nomination.nominee_name, Nomination.state).where(
        Nomination.edition == edition_id
    )
    audit_rows = await AuditEntry.select(
        AuditEntry.action, AuditEntry.object_type, AuditEntry.object_id, AuditEntry.actor
    ).order_by(AuditEntry.id)
    sheets = await ScoreSheet.select(
        ScoreSheet.id, ScoreSheet.juror, ScoreSheet.nomination, ScoreSheet.status, ScoreSheet.comment
    )
    values = await Score.select(Score.sheet, Score.value)
    mails = await OutboxMail.select(
        OutboxMail.message_id, OutboxMail.to_address, OutboxMail.status, OutboxMail.attempts, OutboxMail.subject
    ).order_by(OutboxMail.id)
    chain = await verify_chain()
    return {
        "nominations": [[r["id"], r["nominee_name"], r["state"]] for r in found],
        "audit": [[r["action"], r["object_type"], r["object_id"], r["actor"]] for r in audit_rows],
        "sheets": [[r["id"], r["juror"], r["nomination"], r["status"], r["comment"]] for r in sheets],
        "scores": [[r["sheet"], r["value"]] for r in values],
        "mails": [[r["message_id"], r["to_address"], r["status"], r["attempts"], r["subject"]] for r in mails],
        "chain": {"checked": chain.checked, "broken_at": chain.broken_at},
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.load.dbtool")
    sub = parser.add_subparsers(dest="command", required=True)
    made = sub.add_parser("setup")
    made.add_argument("--jurors", type=int, default=4)
    made.add_argument("--shortlisted", type=int, default=3)
    drained = sub.add_parser("drain")
    drained.add_argument("--smtp-url", required=True)
    drained.add_argument("--timeout", type=float, default=120.0)
    snap = sub.add_parser("snapshot")
    snap.add_argument("--edition", type=int, required=True)
    args = parser.parse_args(argv)
    if args.command == "setup":
        result = asyncio.run(setup(args.jurors, args.shortlisted))
    elif args.command == "drain":
        result = asyncio.run(drain(args.smtp_url, args.timeout))
    else:
        result = asyncio.run(snapshot(args.edition))
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
