"""The chair's confirmation pages: closing scoring and signing the recommendation.

The routes are the jury's (``web.jury`` closes scoring, ``web.deliberation`` signs); the pages
are built here from ``domain.chair_steps``' consequences with the shared ``confirm.html``.
"""

from __future__ import annotations

from litestar.response import Template

from ambassador import i18n
from ambassador.domain import chair_steps
from ambassador.domain.editions import EditionView
from ambassador.errors import N_
from ambassador.web import confirm


async def close_scoring_page(edition: EditionView, problem: str = "", status_code: int = 200) -> Template:
    found = await chair_steps.close_scoring_consequences(edition)
    c = confirm.context(
        found,
        title=i18n.gettext(N_("Close scoring")),
        action=f"/jury/editions/{edition.id}/close-scoring",
        cancel_url=f"/jury/editions/{edition.id}",
        context_label=edition.label,
        problem=problem,
    )
    return confirm.page(c, status_code)


async def recommend_page(edition: EditionView, problem: str = "", status_code: int = 200) -> Template:
    found = await chair_steps.recommend_consequences(edition)
    c = confirm.context(
        found,
        title=i18n.gettext(N_("Sign the recommendation")),
        action=f"/jury/editions/{edition.id}/deliberation/recommend",
        cancel_url=f"/jury/editions/{edition.id}/deliberation",
        context_label=edition.label,
        problem=problem,
    )
    return confirm.page(c, status_code)
