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
from ambassador.domain import audit, editions
from ambassador.domain.editions import EditionView, get_edition
from ambassador.domain.outbox import queue_mail
from ambassador.enums import EditionState, NominationState
from ambassador.errors import N_, InvalidInput, NotAllowed
from ambassador.i18n import translate
from ambassador.tables import Edition, Laureate, Nomination

MAX_AHEAD = dt.timedelta(days=366)


async def publish(
    *, actor_id: int, edition_id: int, published_at: dt.datetime, base_url: str, now: dt.datetime | None = None
) -> EditionView:
    """Publish an approved edition's laureates at ``published_at`` (now or later)."""
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
        approved = await Laureate.select(
            Laureate.nomination,
            Laureate.name,
            Laureate.nomination.nominee_email,
            Laureate.nomination.nominator_email,
            Laureate.nomination.nominator_name,
            Laureate.nomination.language,
        ).where(Laureate.edition == edition_id)
        for item in approved:
            await _notify(item, edition, moment, base_url)
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


async def _notify(item: dict[str, object], edition: EditionView, moment: dt.datetime, base_url: str) -> None:
    """The laureate's and the nominator's mails, held back until the publication moment."""
    language = str(item["nomination.language"])
    name = str(item["name"])
    title = honour.active().text("name", language)
    for to, greeting in (
        (item["nomination.nominee_email"], name),
        (item["nomination.nominator_email"], item["nomination.nominator_name"]),
    ):
        if not to:
            continue
        await queue_mail(
            to=str(to),
            subject=translate(language, N_("%(name)s is a laureate of the title %(title)s"), name=name, title=title),
            body="\n\n".join(
                [
                    translate(language, N_("Hello %(name)s,"), name=str(greeting)),
                    translate(
                        language,
                        N_("The results of %(edition)s are published: %(name)s is among the laureates."),
                        edition=edition.label,
                        name=name,
                    ),
                    # The edition's page in the mail's language (docs/features.md, addresses per language).
                    f"{base_url}/{language}/editions/{edition.activity_year}",
                ]
            ),
            language=language,
            not_before=moment,
        )
