"""Mails to nominators whose nomination window changed under them.

A nominator's receipt promises changes until the closing time. When a clerk moves that time
earlier, or closes nominations before it, each nominator who could still confirm, change or
withdraw a nomination is told the new moment, in the nomination's language. Used by the
edition's settings (``editions.update_edition``) and the clerk's steps (``steps``).
"""

from __future__ import annotations

import datetime as dt

from ambassador.domain.outbox import queue_mail
from ambassador.enums import NominationState
from ambassador.errors import N_
from ambassador.i18n import TIMEZONE, translate
from ambassador.tables import Nomination

# Nominations whose nominator was promised changes until the closing time.
EDITABLE = (NominationState.UNCONFIRMED, NominationState.SUBMITTED)


def mail_body(language: str, name: str, *paragraphs: str) -> str:
    """A nominator's or nominee's mail: the greeting, the paragraphs, the disclaimer."""
    parts = [translate(language, N_("Hello %(name)s,"), name=name), *paragraphs]
    parts.append(translate(language, N_("If you did not expect this message, ignore it.")))
    return "\n\n".join(parts)


def when(value: dt.datetime) -> str:
    """A moment as the receipts write it (Warsaw time, to the minute)."""
    return value.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M")


async def editable_nominations(edition_id: int) -> list[dict[str, object]]:
    """The nominations of an edition that can still be confirmed, changed or withdrawn."""
    return list(
        await Nomination.select(
            Nomination.reference, Nomination.nominator_name, Nomination.nominator_email, Nomination.language
        ).where((Nomination.edition == edition_id) & Nomination.state.is_in([s.value for s in EDITABLE]))
    )


async def mail_new_deadline(*, edition_id: int, label: str, moment: dt.datetime, closed: bool) -> int:
    """Tell every nominator who could still change a nomination the new moment; how many mails.

    ``closed``: nominations closed at ``moment`` (early); else the closing time moved to it.
    """
    sent = 0
    for row in await editable_nominations(edition_id):
        if not row["nominator_email"]:
            continue
        language = str(row["language"])
        params = {"edition": label, "moment": when(moment), "reference": str(row["reference"])}
        if closed:
            subject = translate(language, N_("Nominations for %(edition)s closed early"), edition=label)
            news = N_(
                "Nominations for %(edition)s closed at %(moment)s, earlier than announced. Your nomination "
                "%(reference)s can no longer be confirmed, changed or withdrawn."
            )
        else:
            subject = translate(language, N_("Nominations for %(edition)s now close at %(moment)s"), **params)
            news = N_(
                "The closing time of nominations for %(edition)s has moved earlier, to %(moment)s. Until then you "
                "can still confirm, change or withdraw your nomination %(reference)s."
            )
        await queue_mail(
            to=str(row["nominator_email"]),
            subject=subject,
            body=mail_body(language, str(row["nominator_name"]), translate(language, news, **params)),
            language=language,
        )
        sent += 1
    return sent
