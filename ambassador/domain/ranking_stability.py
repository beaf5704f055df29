"""How robust a ranking is: each category's top places without one juror (leave-one-out), and chart series.

Pure computation on ``ranking``'s results, like it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from ambassador.domain.ranking import _Basis, _rank
from ambassador.domain.ranking_types import (
    TIE_DECIMALS,
    ChartSummary,
    JurorEffect,
    LeaveOneOut,
    Results,
    _Drop,
    _Nom,
)

# Leave-one-out skips nominations whose mean, whichever juror is removed, stays this far
# below n others' (in raw or z units): far more than the TIE_DECIMALS rounding can bridge.
_MARGIN = 1e-4


def _contenders(noms: tuple[_Nom, ...], n: int, normalise: bool) -> tuple[_Nom, ...]:
    """The nominations that could take a place <= n whichever single juror is removed.

    Removing one sheet moves a mean between (Σ − max)/(k − 1) and (Σ − min)/(k − 1); a
    nomination whose highest possible mean stays ``_MARGIN`` below n others' lowest possible
    means is beaten by those n after any removal, so it cannot place and need not be scored.
    """
    if len(noms) <= n:
        return noms
    bounds = []
    for nom in noms:
        values, total = (nom.zs, nom.z_sum) if normalise else (nom.totals, nom.raw_sum)
        count = len(values)
        mean = total / count
        if count == 1:
            bounds.append((-math.inf, mean, nom))  # its only juror may be the one removed
        else:
            least, most = (total - max(values)) / (count - 1), (total - min(values)) / (count - 1)
            bounds.append((min(least, mean), max(most, mean), nom))
    floor = sorted((b[0] for b in bounds), reverse=True)[n - 1]
    return tuple(nom for _, most, nom in bounds if most + _MARGIN >= floor)


def _top_without(noms: Iterable[_Nom], juror_id: int, n: int, basis: _Basis) -> tuple[tuple[int, int], ...]:
    """(nomination, rank) of places 1..n without the juror's sheets.

    Means come from the stored sums in O(1); only nominations whose mean is at least the n-th
    best can take a place <= n, so only they are ranked.
    """
    if n <= 0:
        return ()
    rows: list[tuple[float, int, float, _Nom, _Drop | None]] = []
    for nom in noms:
        drop = nom.sheet_of(juror_id)
        if drop is None:
            count, raw_sum, z_sum = len(nom.totals), nom.raw_sum, nom.z_sum
        else:
            count = len(nom.totals) - 1
            if not count:
                continue
            raw_sum, z_sum = nom.raw_sum - drop[0], nom.z_sum - drop[1]
        score = basis.rescale(z_sum / count) if basis.normalise else raw_sum / count
        rows.append((round(score, TIE_DECIMALS), nom.id, score, nom, drop))
    if len(rows) > n:
        threshold = sorted((r[0] for r in rows), reverse=True)[n - 1]
        rows = [r for r in rows if r[0] >= threshold]
    return tuple((p.nomination_id, p.rank) for p in _rank(rows, basis) if p.rank <= n)


def leave_one_out(results: Results, top: Mapping[str, int]) -> LeaveOneOut:
    """For each juror, each category's top-N without that juror's sheets, against the full jury's.

    ``top`` maps a category to its number of titles (categories absent are not checked).
    The quorum is judged on the whole jury: the question is whether one juror's opinion
    decides a title, not whether a smaller jury would reach quorum; so the candidates are the
    nominations rankable with everyone, less any left with no sheet at all.

    Not a naive recomputation (which costs more than the whole ranking per juror): the other
    jurors' z-scores do not depend on the removed juror (only the edition's z_min/z_max do),
    so stored sums give each mean in O(1), and only nominations that can still reach the
    top-N are ranked. The outcome equals a recomputation up to the ``TIE_DECIMALS`` rounding.
    """
    index = results._index
    settings = results.settings
    base = {c: results.rankings[c].top(n) if c in results.rankings else () for c, n in sorted(top.items())}
    bases = {}
    for juror_id in sorted(index.juror_z_range):
        others = [r for j, r in index.juror_z_range.items() if j != juror_id]
        z_range = (min(r[0] for r in others), max(r[1] for r in others)) if others else None
        bases[juror_id] = _Basis(settings, results.scale, z_range)
    # If a removal leaves every z equal, all normalised means tie: the bounds no longer apply.
    bounded = not (settings.normalise and any(b.factor == 0 for b in bases.values()))
    effects: list[JurorEffect] = []
    for category, n in sorted(top.items()):
        noms = index.by_category.get(category, ())
        contenders = _contenders(noms, n, settings.normalise) if bounded else noms
        reference = base[category]
        for juror_id, basis in bases.items():
            places = _top_without(contenders, juror_id, n, basis)
            effects.append(
                JurorEffect(
                    category=category,
                    juror_id=juror_id,
                    top=places,
                    set_changed={p[0] for p in places} != {p[0] for p in reference},
                    order_changed=places != reference,
                )
            )
    return LeaveOneOut(top=base, effects=tuple(effects), stable=not any(e.set_changed for e in effects))


def chart_summary(results: Results) -> ChartSummary:
    """Series for charts: who scores high or low, and how dispersed each nomination's totals are."""
    return ChartSummary(
        jurors=tuple((j.juror_id, j.totals, j.mean) for j in results.jurors.values()),
        nominations=tuple((s.nomination_id, s.category, s.totals) for s in results.nominations.values()),
    )
