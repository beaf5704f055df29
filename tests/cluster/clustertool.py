"""Database work for the cluster test, run as ``python -m tests.cluster.clustertool`` in its own process.

Piccolo binds its engine when ``ambassador`` is imported, from ``AMBASSADOR_DATABASE_URL``:
the cluster's database is named only in this process's environment, so everything that
touches it from the test (the set-up, what the database holds afterwards, extra mails)
runs here and prints one JSON object on stdout. It imports nothing from ``tests.conftest``,
which would point the engine at the unit tests' database.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from typing import Any

from ambassador import db
from ambassador.domain import accounts, categories, editions, outbox
from ambassador.enums import EditionState, Role
from ambassador.passwords import Passwords
from ambassador.settings import Argon2Params
from ambassador.tables import Edition, Laureate, Nomination, OutboxMail
from ambassador.text import fold
from tests.load.dbtool import edition_data

PASSWORD = "cluster test passphrase 0123"
CLERK = "clerk@cluster.example.org"
CITATION = "Runs a bilingual reading club for children in Kraków."


async def setup() -> dict[str, Any]:
    """A clerk; a published edition with one laureate (name misspelt); an edition open now."""
    password_hash = await Passwords(Argon2Params()).hash(PASSWORD)
    clerk = await accounts.create_user(
        email=CLERK,
        display_name="Cluster Clerk",
        roles=frozenset({Role.CLERK}),
        actor_id=None,
        password_hash=password_hash,
    )
    now = db.utcnow()
    published = await editions.create_edition(
        actor_id=clerk.id,
        data=edition_data(2023, now - dt.timedelta(days=400), now - dt.timedelta(days=300)),
        categories=categories.installation_defaults(),
    )
    await Edition.update(
        {Edition.state: EditionState.PUBLISHED.value, Edition.published_at: now - dt.timedelta(hours=1)}
    ).where(Edition.id == published.id)
    name = "Anna Pubic"
    slug = "anna-pubic"
    laureate = Laureate(
        edition=published.id,
        slug=slug,
        name=name,
        name_key=fold(name),
        category="B",
        distinction="title",
        citation_en=CITATION,
    )
    await laureate.save()
    opened = await editions.create_edition(
        actor_id=clerk.id,
        data=edition_data(2025, now - dt.timedelta(days=1), now + dt.timedelta(days=30)),
        categories=categories.installation_defaults(),
    )
    opened = await editions.advance(actor_id=clerk.id, edition_id=opened.id, target=EditionState.OPEN)
    return {
        "clerk": CLERK,
        "password": PASSWORD,
        "laureate_id": laureate.id,
        "slug": slug,
        "citation": CITATION,
        "open_edition": opened.id,
        "criteria": [c.id for c in opened.criteria],
    }


async def nominations(edition_id: int) -> dict[str, Any]:
    """The nominee names stored for the edition (one entry per row)."""
    rows = await Nomination.select(Nomination.nominee_name).where(Nomination.edition == edition_id)
    return {"names": [r["nominee_name"] for r in rows]}


async def queue(count: int) -> dict[str, Any]:
    """``count`` mails queued at once, as a burst of changes would queue them."""
    ids = []
    for number in range(count):
        mail = await outbox.queue_mail(
            to=f"burst-{number:04d}@cluster.example.org",
            subject=f"Cluster burst {number}",
            body="A mail queued by the cluster test.",
            language="en",
        )
        ids.append(mail.message_id)
    return {"queued": ids}


async def mails() -> dict[str, Any]:
    rows = await OutboxMail.select(OutboxMail.message_id, OutboxMail.status, OutboxMail.attempts)
    return {"mails": [[r["message_id"], r["status"], r["attempts"]] for r in rows]}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.cluster.clustertool")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup")
    listed = sub.add_parser("nominations")
    listed.add_argument("--edition", type=int, required=True)
    queued = sub.add_parser("queue")
    queued.add_argument("--count", type=int, required=True)
    sub.add_parser("mails")
    args = parser.parse_args(argv)
    result: dict[str, Any]
    if args.command == "setup":
        result = asyncio.run(setup())
    elif args.command == "nominations":
        result = asyncio.run(nominations(args.edition))
    elif args.command == "queue":
        result = asyncio.run(queue(args.count))
    else:
        result = asyncio.run(mails())
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
