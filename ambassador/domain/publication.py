"""Publication: the approved laureates become public at a moment the clerk chooses.

The laureates' records exist since the decision (ambassador.domain.laureates); publishing
sets the edition's ``published_at``. The archive's queries show nothing of the edition
before that moment, and the notification mails wait in the outbox until then. So the
laureates appear everywhere at the same time.
"""

from __future__ import annotations

import datetime as dt

from ambassador import honour
from ambassador.db import utcnow, write_transaction
from ambassador.domain import audit, editions, laureates
from ambassador.domain.editions import EditionView, get_edition
from ambassador.domain.outbox import queue_mail
from ambassador.enums import Distinction, EditionState, NominationState
from ambassador.errors import N_, InvalidInput, Message, NotAcknowledged, NotAllowed
from ambassador.i18n import translate
from ambassador.tables import Edition, Laureate, Nomination

MAX_AHEAD = dt.timedelta(days=366)


async def warnings(edition_id: int) -> tuple[Message, ...]:
    """What the clerk should see before publishing: citations missing, entries not confirmed."""
    found: list[Message] = []
    waiting = await laureates.unfinished(edition_id)
    if missing := waiting.citation_missing:
        found.append(Message(N_("A citation is missing in some language for: %(names)s."), names=", ".join(missing)))
    if unconfirmed := waiting.unconfirmed:
        found.append(
            Message(N_("These laureates have not confirmed their entry: %(names)s."), names=", ".join(unconfirmed))
        )
    return tuple(found)


async def publish(
    *,
    actor_id: int,
    edition_id: int,
    published_at: dt.datetime,
    base_url: str,
    acknowledged: bool = False,
    now: dt.datetime | None = None,
) -> EditionView:
    """Publish an approved edition's laureates at ``published_at`` (now or later); the
    :func:`warnings`, if any, must have been acknowledged."""
    now = now or utcnow()
    if published_at.tzinfo is None:
        raise InvalidInput({"published_at": N_("Give the date and time of publication.")})
    if published_at > now + MAX_AHEAD:
        raise InvalidInput({"published_at": N_("Publish within a year from today.")})
    moment = max(published_at, now)
    async with write_transaction():
        edition = await get_edition(edition_id)
        if edition.state != EditionState.APPROVED:
            raise NotAllowed(N_("Only an approved edition can be published."))
        if not acknowledged and await warnings(edition_id):
            raise NotAcknowledged()
        approved = await Laureate.select(Laureate.nomination, Laureate.name, Laureate.distinction).where(
            Laureate.edition == edition_id
        )
        await _notify(approved, edition, moment, base_url)
        await Nomination.update({Nomination.state: NominationState.LAUREATE.value, Nomination.updated_at: now}).where(
            Nomination.id.is_in([i["nomination"] for i in approved if i["nomination"]] or [0])
        )
        await Edition.update({Edition.published_at: moment}).where(Edition.id == edition_id)
        await audit.record(
            "edition.publication_set",
            actor_id=actor_id,
            object_type="edition",
            object_id=edition_id,
            data={"published_at": moment.isoformat(), "laureates": len(approved)},
        )
        return await editions.advance(
            actor_id=actor_id, edition_id=edition_id, target=EditionState.PUBLISHED, now=now, owned_step=True
        )


# Nominations that reached the jury: their nominators hear the result, laureate or not.
_BEFORE_THE_JURY = (
    NominationState.ACCEPTED,
    NominationState.SHORTLISTED,
    NominationState.RECOMMENDED,
    NominationState.APPROVED,
    NominationState.NOT_APPROVED,
)


async def _notify(approved: list[dict[str, object]], edition: EditionView, moment: dt.datetime, base_url: str) -> None:
    """Every result mail, held back until the publication moment: each laureate, and every
    nominator whose nomination reached the jury (merged ones through the dossier they joined),
    laureate or not, each in the nomination's language."""
    laureates = {int(str(item["nomination"])): item for item in approved if item["nomination"]}
    rows = await Nomination.select(
        Nomination.id,
        Nomination.state,
        Nomination.merged_into,
        Nomination.nominee_name,
        Nomination.nominee_email,
        Nomination.nominator_name,
        Nomination.nominator_email,
        Nomination.language,
    ).where(
        (Nomination.edition == edition.id)
        & Nomination.state.is_in([s.value for s in (*_BEFORE_THE_JURY, NominationState.MERGED)])
    )
    states = {int(r["id"]): str(r["state"]) for r in rows}
    for row in sorted(rows, key=lambda r: int(r["id"])):
        dossier = int(row["merged_into"] or row["id"])
        if states.get(dossier) not in {s.value for s in _BEFORE_THE_JURY}:
            continue  # merged into a nomination that never reached the jury
        language = str(row["language"])
        # The edition's page in the mail's language (docs/features.md, addresses per language).
        link = f"{base_url}/{language}/editions/{edition.activity_year}"
        laureate = laureates.get(dossier)
        if laureate is None:
            mail = _result(language, edition, str(row["nominee_name"]), None)
        else:
            mail = _result(language, edition, str(laureate["name"]), Distinction(str(laureate["distinction"])))
            if row["id"] == dossier and row["nominee_email"]:
                await _queue(
                    str(row["nominee_email"]),
                    str(laureate["name"]),
                    mail=mail,
                    link=link,
                    language=language,
                    moment=moment,
                )
        if row["nominator_email"]:
            await _queue(
                str(row["nominator_email"]),
                str(row["nominator_name"]),
                mail=mail,
                link=link,
                language=language,
                moment=moment,
            )


def _result(language: str, edition: EditionView, name: str, distinction: Distinction | None) -> tuple[str, str]:
    """The subject and the news of a result mail, as the distinction has it."""
    title = honour.active().text("name", language)
    if distinction == Distinction.TITLE:
        subject = translate(language, N_("%(name)s is a laureate of the title %(title)s"), name=name, title=title)
        news = N_("The results of %(edition)s are published: %(name)s is among the laureates.")
    elif distinction == Distinction.MENTION:
        subject = translate(language, N_("%(name)s receives an honourable mention: %(title)s"), name=name, title=title)
        news = N_("The results of %(edition)s are published: %(name)s receives an honourable mention.")
    else:
        subject = translate(language, N_("The results of %(edition)s are published"), edition=edition.label)
        news = N_(
            "The results of %(edition)s are published. %(name)s is not among the laureates this time. "
            "Thank you for the nomination: it helped the jury see what people do for the city."
        )
    return subject, translate(language, news, edition=edition.label, name=name)


async def _queue(
    to: str, greeting: str, *, mail: tuple[str, str], link: str, language: str, moment: dt.datetime
) -> None:
    subject, news = mail
    await queue_mail(
        to=to,
        subject=subject,
        body="\n\n".join([translate(language, N_("Hello %(name)s,"), name=greeting), news, link]),
        language=language,
        not_before=moment,
    )
