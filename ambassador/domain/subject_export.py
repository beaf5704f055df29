"""The copy of a person's data (GDPR art. 15 and 20): a PDF in their language, or JSON.

The copy lists every item ``subject_requests.collect`` finds with its fields; the request is
audited (``privacy.export``: the query's digest, the format, the language and the items'
kinds and ids, never their values).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from ambassador import pdf
from ambassador.db import utcnow, write_transaction
from ambassador.domain import audit
from ambassador.domain.subject_requests import EXPORT, KINDS, Found, Item, collect, parse_query
from ambassador.enums import LANGUAGES
from ambassador.errors import N_, InvalidInput
from ambassador.i18n import TIMEZONE, translate

FORMATS = ("pdf", "json")
ABOUT = N_("This is a copy of the personal data the award's office holds about %(subject)s, as of %(date)s.")
RIGHTS = N_(
    "The data was given in nominations, in the nomination form or by the award's office; it is used "
    "to run the award and kept as the privacy notice says. You may ask for it to be corrected or "
    "erased, and complain to the President of the Personal Data Protection Office (UODO)."
)


@dataclass(frozen=True)
class Export:
    filename: str
    media_type: str
    content: bytes


def _when(value: dt.datetime | None) -> str:
    return value.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M") if value else ""


def _state(item: Item, language: str) -> str:
    return translate(language, item.state_label) if item.state_label else item.state


def as_json(found: Found, now: dt.datetime) -> bytes:
    """Machine-readable: one object per item, its fields named by their English labels."""
    document: dict[str, Any] = {
        "subject": {"kind": found.query.kind, "value": found.query.value},
        "generated_at": now.isoformat(),
        "items": [
            {
                "kind": item.kind,
                "id": item.id,
                "title": item.title,
                "edition": item.edition,
                "state": item.state,
                "created_at": item.created_at.isoformat() if item.created_at else None,
                "updated_at": item.updated_at.isoformat() if item.updated_at else None,
                "fields": dict(item.fields),
            }
            for item in found.items
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def _table(item: Item, language: str) -> pdf.Table:
    def t(msgid: str) -> str:
        return translate(language, msgid)

    rows = [
        (t(N_("Edition")), item.edition),
        (t(N_("State")), _state(item, language)),
        (t(N_("Created")), _when(item.created_at)),
        (t(N_("Changed")), _when(item.updated_at)),
        *((t(label), value) for label, value in item.fields),
    ]
    return pdf.Table((t(N_("Field")), t(N_("Value"))), tuple((k, v) for k, v in rows if v))


def as_document(found: Found, language: str, now: dt.datetime) -> pdf.Document:
    """The readable copy, in ``language``: one section per kind of item, a table per item."""

    def t(msgid: str, **params: object) -> str:
        return translate(language, msgid, **params)

    intro = pdf.Section(
        t(N_("About this copy")),
        (t(ABOUT, subject=found.query.value, date=_when(now)), t(RIGHTS)),
    )
    sections = [intro]
    if not found.items:
        sections.append(pdf.Section(t(N_("Nothing is held")), (t(N_("No data about this person was found.")),)))
    for kind, label in KINDS.items():
        items = found.of_kind(kind)
        if items:
            sections.append(
                pdf.Section(
                    f"{t(label)} ({len(items)})",
                    tuple(i.title for i in items),
                    tuple(_table(i, language) for i in items),
                )
            )
    return pdf.Document(
        title=t(N_("Personal data held about you")),
        subtitle=found.query.value,
        sections=tuple(sections),
        footer=t(N_("Copy of personal data (GDPR art. 15)")),
    )


async def export(*, actor_id: int, raw_query: str, language: str, fmt: str, now: dt.datetime | None = None) -> Export:
    """The copy in the chosen format and language; audited."""
    query = parse_query(raw_query)
    errors = {}
    if fmt not in FORMATS:
        errors["format"] = N_("Choose PDF or JSON.")
    if language not in LANGUAGES:
        errors["language"] = N_("Choose a language.")
    if errors:
        raise InvalidInput(errors)
    now = now or utcnow()
    found = await collect(query)
    if fmt == "json":
        result = Export("personal-data.json", "application/json", as_json(found, now))
    else:
        result = Export(
            "personal-data.pdf",
            "application/pdf",
            await asyncio.to_thread(pdf.render, as_document(found, language, now)),
        )
    async with write_transaction():
        await audit.record(
            EXPORT,
            actor_id=actor_id,
            object_type="data_subject",
            object_id=query.digest(),
            data={
                "subject": query.digest(),
                "format": fmt,
                "language": language,
                "items": [i.token for i in found.items],
                "outcome": "exported",
            },
        )
    return result
