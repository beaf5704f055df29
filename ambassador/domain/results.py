"""An edition's results as the chair and the clerk see them: loaded from the database, computed by ``ranking``.

Only the clerk and the chair see them (the web layer guards who calls ``for_chair``); the
sheets of conflicted jurors never reach the computation.
"""

from __future__ import annotations

from dataclasses import dataclass

from ambassador.domain import conflicts, ranking, ranking_stability, ranking_types, scoring
from ambassador.domain.editions import EditionView, get_edition
from ambassador.domain.jury import JuryRules, require_chair, rules_of
from ambassador.tables import Nomination


@dataclass(frozen=True)
class Standings:
    edition: EditionView
    rules: JuryRules
    computed: ranking_types.Results
    stability: ranking_types.LeaveOneOut
    chart: ranking_types.ChartSummary
    references: dict[int, str]
    nominees: dict[int, str]
    jurors: dict[int, str]
    excluded: dict[int, tuple[str, ...]]  # nomination → names of conflicted jurors

    def ordered_rankings(self) -> list[tuple[str, ranking_types.CategoryRanking]]:
        """The rankings in the order of the edition's categories (unknown codes last, by code)."""
        order = {c.code: index for index, c in enumerate(self.edition.categories)}
        return sorted(self.computed.rankings.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))

    def top(self, category: str) -> int:
        """The category's number of titles (the ranking's top-N); none for a code the edition lacks."""
        row = self.edition.category(category)
        return row.titles if row else 0


def ranking_settings(rules: JuryRules) -> ranking_types.RankingSettings:
    return ranking_types.RankingSettings(
        min_scores=rules.min_scores, normalise=rules.normalise, tie_break=rules.tie_break
    )


async def compute(edition_id: int, hidden: frozenset[int] = frozenset()) -> Standings:
    """Compute the edition's standings from its submitted, non-conflicted sheets.

    ``hidden`` nominations are left out entirely (a conflicted chair must not see them).
    The conflicts are read once (only the conflicted cells of the matrix); the sheets by edition.
    """
    edition = await get_edition(edition_id)
    rules = await rules_of(edition_id)
    rows = await Nomination.select(
        Nomination.id, Nomination.reference, Nomination.nominee_name, Nomination.category
    ).where((Nomination.edition == edition_id) & Nomination.state.is_in([s.value for s in scoring.SCORED]))
    rows = [r for r in rows if r["id"] not in hidden]
    found = await conflicts.exclusions(edition_id)
    pairs = set(found.pairs)
    sheets = [
        ranking_types.Sheet(
            juror_id=s.juror_id,
            nomination_id=s.nomination_id,
            scores={c: float(v) for c, v in s.values.items() if v is not None},
        )
        for s in await scoring.submitted_sheets(edition_id, pairs)
        if s.nomination_id not in hidden
    ]
    computed = ranking.compute_results(
        sheets,
        criteria=[ranking_types.Criterion(c.id, float(c.weight)) for c in edition.criteria if c.id is not None],
        scale=ranking_types.Scale(edition.score_min, edition.score_max),
        nominations={r["id"]: r["category"] for r in rows},
        settings=ranking_settings(rules),
        conflicts=pairs,
    )
    names = {j.user_id: j.display_name for j in found.jurors}
    return Standings(
        edition=edition,
        rules=rules,
        computed=computed,
        stability=ranking_stability.leave_one_out(computed, {c.code: c.titles for c in edition.categories}),
        chart=ranking_stability.chart_summary(computed),
        references={r["id"]: r["reference"] for r in rows},
        nominees={r["id"]: r["nominee_name"] for r in rows},
        jurors=names,
        excluded={
            r["id"]: tuple(j.display_name for j in found.excluded(r["id"]))
            for r in rows
            if r["id"] in {n for _, n in pairs}
        },
    )


async def for_chair(edition_id: int, chair_id: int) -> Standings:
    """The standings as the chair may see them: without the nominations they are conflicted on."""
    await require_chair(edition_id, chair_id)
    return await compute(edition_id, frozenset(await conflicts.conflicted_ids(edition_id, chair_id)))
