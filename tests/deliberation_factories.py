"""An edition whose jury has scored (with one conflict) and deliberates, made through the domain.

Three category-B nominations, three jurors (Ewa Pawlak chairs), every criterion scored alike,
so a sheet's total is the score itself:

    juror            Olena (1)   Bohdan (2)        Iryna (3)
    Ewa Pawlak       8           6                 7
    Marta Krawczyk   7           7                 8
    Tomasz Dudek     9           (conflict: family) 7

Olena: mean 8.00, median 8.00, stdev √(2/3) = 0.82, spread 2.00. Iryna: mean 22/3 = 7.33,
median 7.00, stdev √(2/9) = 0.47, spread 1.00. Bohdan has two valid sheets, under the
default minimum of three: not ranked. Without Tomasz's sheets Olena and Iryna tie at 7.50
(same median, no top score): the top two stay the same, only their order changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from ambassador.domain import conflict_declarations, deliberation, scoring_round
from ambassador.domain.accounts import Account
from ambassador.domain.editions import get_edition
from ambassador.domain.jury import JuryRules
from ambassador.enums import ConflictKind, Distinction, VoteChoice
from ambassador.tables import Nomination
from tests.clerk_factories import BASE, english
from tests.conftest import Client
from tests.factories import set_quota
from tests.helpers import login
from tests.jury_factories import NOMINEES, Scoring, declare_none, scoring_edition, submit_scores

THIRD: dict[str, object] = {
    "nominee_name": "Iryna Shevchenko",
    "nominee_email": "iryna@example.org",
    "nominator_name": "Adam Mazur",
    "nominator_email": "adam@example.org",
}
# Per juror (chair first), the score on each nomination; None: conflicted, not scored.
SCORES: tuple[tuple[int | None, ...], ...] = ((8, 6, 7), (7, 7, 8), (9, None, 7))
APPOINTMENT = "Zarządzenie nr 123/2025 Prezydenta Miasta Krakowa"


async def scored_edition(
    *, close: bool = True, year: int = 2025, normalise: bool = False, duplicate: dict[str, object] | None = None
) -> Scoring:
    """Scored as in the table above; in deliberation when ``close``, else still scoring.

    The edition allows one honourable mention in category B besides its two titles.
    ``duplicate``: a second nomination of Olena, merged into hers before the jury.
    """
    setup = await scoring_edition(
        year=year,
        duplicate=duplicate,
        nominees=(*NOMINEES, THIRD),
        rules=JuryRules(appointment_document=APPOINTMENT, normalise=normalise),
    )
    await set_quota(setup.edition.id, "B", mentions=1)
    conflicted = setup.nominations[1]
    last = setup.jurors[2]
    for juror in setup.jurors[:2]:
        await declare_none(setup, juror)
    await declare_none(setup, last, except_for=(conflicted,))
    await conflict_declarations.declare(
        juror_id=last.id,
        edition_id=setup.edition.id,
        nomination_id=conflicted,
        conflicted=True,
        kind=ConflictKind.FAMILY,
    )
    for juror, values in zip(setup.jurors, SCORES, strict=True):
        for nomination_id, value in zip(setup.nominations, values, strict=True):
            if value is not None:
                await submit_scores(setup, juror, nomination_id, value)
    if close:
        await scoring_round.close_scoring(chair_id=setup.chair.id, edition_id=setup.edition.id)
    return dataclasses.replace(setup, edition=await get_edition(setup.edition.id))


async def references(setup: Scoring) -> list[str]:
    """The nominations' reference numbers, in the order of ``setup.nominations``."""
    rows = await Nomination.select(Nomination.id, Nomination.reference).where(
        Nomination.id.is_in(list(setup.nominations))
    )
    found = {r["id"]: r["reference"] for r in rows}
    return [found[n] for n in setup.nominations]


async def propose(setup: Scoring, index: int, distinction: Distinction) -> int:
    """The chair proposes the nomination at ``index``; the proposal's id."""
    return await deliberation.propose(
        base_url=BASE,
        chair_id=setup.chair.id,
        edition_id=setup.edition.id,
        nomination_id=setup.nominations[index],
        distinction=distinction,
    )


async def vote(proposal_id: int, votes: Iterable[tuple[Account, VoteChoice]]) -> None:
    for juror, choice in votes:
        await deliberation.cast_vote(juror_id=juror.id, proposal_id=proposal_id, choice=choice)


async def deliberated(setup: Scoring) -> tuple[int, int, int]:
    """Olena for a title (passes 2–1), Iryna for a title (fails 1–2), Bohdan for a mention
    (passes 2–0; Tomasz is left out). The proposals' ids, in that order."""
    ewa, marta, tomasz = setup.jurors
    olena = await propose(setup, 0, Distinction.TITLE)
    iryna = await propose(setup, 2, Distinction.TITLE)
    bohdan = await propose(setup, 1, Distinction.MENTION)
    await vote(olena, [(ewa, VoteChoice.FOR), (marta, VoteChoice.FOR), (tomasz, VoteChoice.AGAINST)])
    await vote(iryna, [(ewa, VoteChoice.AGAINST), (marta, VoteChoice.FOR), (tomasz, VoteChoice.AGAINST)])
    await vote(bohdan, [(ewa, VoteChoice.FOR), (marta, VoteChoice.FOR)])
    return olena, iryna, bohdan


async def logged_in(client: Client, account: Account) -> None:
    """A session for ``account`` in ``client``, with pages in English (the message ids)."""
    response = await login(client, account.email)
    assert response.status_code == 302
    english(client)
