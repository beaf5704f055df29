"""The chair's confirmation pages: closing scoring and signing the recommendation.

The routes are the jury's (``web.jury`` closes scoring, ``web.deliberation`` signs); the pages
are built here from ``domain.chair_steps``' consequences with the shared ``confirm.html``.
"""

from __future__ import annotations

from litestar.response import Template

from ambassador import i18n
from ambassador.domain import chair_steps
from ambassador.domain.consequences import Consequences
from ambassador.domain.editions import EditionView
from ambassador.errors import N_
from ambassador.web import confirm


async def _page(
    edition: EditionView, found: Consequences, *, title: str, action: str, back: str, problem: str, status_code: int
) -> Template:
    c = confirm.context(
        found,
        title=i18n.gettext(title),
        action=f"/jury/editions/{edition.id}{action}",
        cancel_url=f"/jury/editions/{edition.id}{back}",
        context_label=edition.label,
        problem=problem,
    )
    return confirm.page(c, status_code)


async def close_scoring_page(edition: EditionView, problem: str = "", status_code: int = 200) -> Template:
    found = await chair_steps.close_scoring_consequences(edition)
    return await _page(
        edition,
        found,
        title=N_("Close scoring"),
        action="/close-scoring",
        back="",
        problem=problem,
        status_code=status_code,
    )


async def recommend_page(edition: EditionView, problem: str = "", status_code: int = 200) -> Template:
    found = await chair_steps.recommend_consequences(edition)
    return await _page(
        edition,
        found,
        title=N_("Sign the recommendation"),
        action="/deliberation/recommend",
        back="/deliberation",
        problem=problem,
        status_code=status_code,
    )
