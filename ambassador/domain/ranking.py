"""Ranking: weighted totals, per-nomination statistics and per-category rankings.

Pure computation on plain values (no database, no web, no I/O), so the numbers the Chapter
signs can be checked by hand and tested in isolation; the caller loads the sheets.

Conventions, chosen so that results are reproducible and explainable to the jury:

- A *total* is a sheet's weighted mean on the scale (Σ weight·score / Σ weight), so totals,
  means and medians all read like scores.
- Sheets missing a criterion are *incomplete* and ignored (listed in ``Results.ignored``):
  a partial sheet cannot be weighted like the others. Scores for unknown criteria are
  ignored; a score outside the scale is a caller bug and raises ``ValueError``.
- Statistics use the population standard deviation (the jury is the whole population).
- Values are never rounded here; only *comparisons* for ranking use values rounded to
  ``TIE_DECIMALS`` places, so that means equal on paper tie even when binary floating point
  puts them one unit in the last place apart.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ambassador.domain.ranking_types import (
    CONFLICT,
    INCOMPLETE,
    MEDIAN,
    TIE_DECIMALS,
    TOP_SCORES,
    UNKNOWN_NOMINATION,
    CategoryRanking,
    Criterion,
    IgnoredSheet,
    JurorStats,
    NominationStats,
    RankedNomination,
    RankingSettings,
    Results,
    Scale,
    Sheet,
    _Drop,
    _Index,
    _Nom,
)


class _Basis:
    """What ranking depends on besides the nominations: the chain and the z rescaling.

    ``rescale`` maps z linearly so that the edition's z_min and z_max land on the scale's
    ends; if all z are equal everything lands in the middle of the scale.
    """

    __slots__ = ("base", "chain", "factor", "normalise", "z_lo")

    def __init__(self, settings: RankingSettings, scale: Scale, z_range: tuple[float, float] | None) -> None:
        self.chain = settings.chain
        self.normalise = settings.normalise
        z_lo, z_hi = z_range or (0.0, 0.0)
        self.z_lo = z_lo
        if z_hi == z_lo:
            self.base, self.factor = scale.middle, 0.0
        else:
            self.base = float(scale.score_min)
            self.factor = (scale.score_max - scale.score_min) / (z_hi - z_lo)

    def rescale(self, z: float) -> float:
        return self.base + (z - self.z_lo) * self.factor


def _weights(criteria: Sequence[Criterion]) -> tuple[tuple[tuple[int, float], ...], float]:
    """Validated (id, weight) pairs and their sum: weights must be positive for a weighted mean."""
    if not criteria:
        raise ValueError("at least one criterion is needed")
    if len({c.id for c in criteria}) != len(criteria):
        raise ValueError("criterion ids must be unique")
    for c in criteria:
        if not (math.isfinite(c.weight) and c.weight > 0):
            raise ValueError(f"criterion {c.id}: the weight must be positive")
    return tuple((c.id, float(c.weight)) for c in criteria), math.fsum(c.weight for c in criteria)


def weighted_total(sheet: Sheet, criteria: Sequence[Criterion]) -> float | None:
    """Σ weight·score / Σ weight, a mean on the scale; ``None`` for an incomplete sheet."""
    pairs, total_weight = _weights(criteria)
    acc = 0.0
    for cid, weight in pairs:
        value = sheet.scores.get(cid)
        if value is None:
            return None
        acc += weight * value
    return acc / total_weight


def _median(ordered: Sequence[float]) -> float:
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _pstdev(values: Sequence[float], mean: float, low: float, high: float) -> float:
    """Population standard deviation (``low``/``high``: the extremes, 0 if equal).

    statistics.pstdev is exact but far slower (it works in fractions).
    """
    if low == high:
        return 0.0
    return math.sqrt(math.fsum([(v - mean) * (v - mean) for v in values]) / len(values))


def _key(nom: _Nom, drop: _Drop | None, basis: _Basis) -> tuple[float, ...]:
    """A nomination's tie-break values (negated: ascending order puts the best first).

    Only nominations level on the mean need one, so medians are sorted here, on demand.
    ``drop`` leaves one sheet out (leave-one-out), the same way for every tie-break.
    """
    totals, zs, n, tops = list(nom.totals), list(nom.zs), len(nom.totals), len(nom.top_jurors)
    raw_sum = nom.raw_sum
    if drop is not None:
        totals.remove(drop[0])
        zs.remove(drop[1])
        n -= 1
        raw_sum -= drop[0]
        tops -= drop[2]
    key: list[float] = []
    for name in basis.chain:
        if name == MEDIAN:
            median = basis.rescale(_median(sorted(zs))) if basis.normalise else _median(sorted(totals))
            key.append(-round(median, TIE_DECIMALS))
        elif name == TOP_SCORES:
            key.append(-tops)
        else:  # MEAN
            key.append(-round(raw_sum / n, TIE_DECIMALS))
    return tuple(key)


def _runs(keys: Sequence[object]) -> list[tuple[int, int]]:
    """(start, end) of each run of equal consecutive keys."""
    runs = []
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            runs.append((start, i))
            start = i
    return runs


def _rank(rows: list[tuple[float, int, float, _Nom, _Drop | None]], basis: _Basis) -> list[RankedNomination]:
    """Competition ranking (1, 2, 2, 4) of (rounded score, id, score, nomination, dropped sheet).

    Sorted on the mean first; the tie-break chain runs only inside groups level on it.
    Still-equal nominations share a rank and need a vote. ``decided_by`` is the tie-break
    at which a nomination parted from the neighbour it shared the most values with.
    """
    rows.sort(key=lambda r: (-r[0], r[1]))
    places: list[RankedNomination] = []
    for start, end in _runs([r[0] for r in rows]):
        if end - start == 1:
            places.append(RankedNomination(rows[start][1], start + 1, rows[start][2], (), False, None))
            continue
        group = sorted((_key(nom, drop, basis), nid, score) for _, nid, score, nom, drop in rows[start:end])
        keys = [g[0] for g in group]
        for first, last in _runs(keys):
            if last - first == 1:
                neighbours = [keys[j] for j in (first - 1, last) if 0 <= j < len(keys)]
                level = max(_common(keys[first], other) for other in neighbours)
                _, nid, score = group[first]
                places.append(RankedNomination(nid, start + first + 1, score, (), False, basis.chain[level]))
                continue
            ids = [g[1] for g in group[first:last]]
            for _, nid, score in group[first:last]:
                tied = tuple(i for i in ids if i != nid)
                places.append(RankedNomination(nid, start + first + 1, score, tied, True, None))
    return places


def _common(a: tuple[float, ...], b: tuple[float, ...]) -> int:
    """Length of the common prefix of two keys."""
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x != y:
            return i
    return len(a)


@dataclass
class _Weighed:
    """Valid sheets as columns: nomination → (jurors, totals, jurors with a top sheet),
    juror → (nominations, totals). Columns of numbers, not a tuple per sheet: fewer objects.
    """

    by_nomination: dict[int, tuple[list[int], list[float], list[int]]]
    by_juror: dict[int, tuple[list[int], list[float]]]
    ignored: list[IgnoredSheet]


def _weigh(
    sheets: Iterable[Sheet],
    criteria: Sequence[Criterion],
    scale: Scale,
    nominations: Mapping[int, str],
    conflicts: Collection[tuple[int, int]],
) -> _Weighed:
    """Weigh every sheet once; the loop is inlined because it runs once per sheet (the hot path).

    A *top* sheet has the maximum possible weighted sum, i.e. every criterion at the maximum:
    both sums are computed in the same order, so the comparison is exact.
    """
    pairs, total_weight = _weights(criteria)
    lo, hi = float(scale.score_min), float(scale.score_max)
    top_sum = 0.0
    for _, weight in pairs:
        top_sum += weight * hi
    excluded = conflicts if isinstance(conflicts, set | frozenset) else frozenset(conflicts)
    weighed = _Weighed({nid: ([], [], []) for nid in nominations}, {}, [])
    by_nomination, by_juror = weighed.by_nomination, weighed.by_juror
    for sheet in sheets:
        juror_id, nid = sheet.juror_id, sheet.nomination_id
        if excluded and (juror_id, nid) in excluded:
            weighed.ignored.append(IgnoredSheet(juror_id, nid, CONFLICT))
            continue
        column = by_nomination.get(nid)
        if column is None:
            weighed.ignored.append(IgnoredSheet(juror_id, nid, UNKNOWN_NOMINATION))
            continue
        scores = sheet.scores
        acc = 0.0
        try:
            for cid, weight in pairs:
                value = scores[cid]
                if not lo <= value <= hi:
                    raise ValueError(f"juror {juror_id}, nomination {nid}: score {value!r} is outside the scale")
                acc += weight * value
        except KeyError:
            weighed.ignored.append(IgnoredSheet(juror_id, nid, INCOMPLETE))
            continue
        total = acc / total_weight
        column[0].append(juror_id)
        column[1].append(total)
        if acc == top_sum:
            column[2].append(juror_id)
        mine = by_juror.get(juror_id)
        if mine is None:
            mine = by_juror[juror_id] = ([], [])
        mine[0].append(nid)
        mine[1].append(total)
    return weighed


def _by_first(*columns: list[Any]) -> tuple[list[Any], ...]:
    """Parallel columns reordered by the first one (already in order: returned as they are)."""
    keys = columns[0]
    if keys == sorted(keys):
        return columns
    order = sorted(range(len(keys)), key=keys.__getitem__)
    return tuple([column[i] for i in order] for column in columns)


def _nomination(
    nid: int,
    category: str,
    column: tuple[list[int], list[float], list[int]],
    params: tuple[Mapping[int, float], Mapping[int, float]],
    *,
    min_scores: int,
    basis: _Basis,
) -> tuple[NominationStats, _Nom | None]:
    """A nomination's statistics, and its aggregate if it is rankable (inlined: hot path).

    ``params`` holds each juror's μ and σ, with σ = inf when it is 0, so that z = 0.
    """
    jurors, totals, top_jurors = column
    if jurors != sorted(jurors):
        jurors, totals = _by_first(jurors, totals)
    count = len(jurors)
    if not count:
        return NominationStats(nid, category, (), (), (), 0, None, None, None, None, 0, None, None, False), None
    if len(set(jurors)) != count:
        raise ValueError(f"two sheets from one juror on nomination {nid}")
    mus, sigmas = params
    zs = tuple([(t - mus[j]) / sigmas[j] for j, t in zip(jurors, totals, strict=True)])
    raw, z_sorted = sorted(totals), sorted(zs)
    raw_sum, z_sum = math.fsum(raw), math.fsum(zs)
    mean = raw_sum / count
    juror_ids, totals_t = tuple(jurors), tuple(totals)
    stats = NominationStats(
        nid,
        category,
        juror_ids,
        totals_t,
        zs,
        count,
        mean,
        _median(raw),
        _pstdev(raw, mean, raw[0], raw[-1]),
        raw[-1] - raw[0],
        len(top_jurors),
        basis.rescale(z_sum / count),
        basis.rescale(_median(z_sorted)),
        count >= min_scores,
    )
    if count < min_scores:
        return stats, None
    return stats, _Nom(nid, juror_ids, totals_t, zs, tuple(top_jurors), raw_sum, z_sum)


def _juror_stats(
    by_juror: Mapping[int, tuple[list[int], list[float]]],
    params: Mapping[int, tuple[float, float]],
    means: Mapping[int, float | None],
) -> dict[int, JurorStats]:
    jurors = {}
    for juror_id in sorted(by_juror):
        nids, totals = _by_first(*by_juror[juror_id])
        offsets = [t - (means[n] or 0.0) for n, t in zip(nids, totals, strict=True)]
        jurors[juror_id] = JurorStats(
            juror_id=juror_id,
            nomination_ids=tuple(nids),
            totals=tuple(totals),
            count=len(nids),
            mean=params[juror_id][0],
            stdev=params[juror_id][1],
            leniency=math.fsum(offsets) / len(offsets),
        )
    return jurors


def compute_results(
    sheets: Iterable[Sheet],
    *,
    criteria: Sequence[Criterion],
    scale: Scale,
    nominations: Mapping[int, str],
    settings: RankingSettings,
    conflicts: Collection[tuple[int, int]] = frozenset(),
) -> Results:
    """Totals, statistics, normalisation and per-category rankings, in one pass over the sheets.

    ``nominations`` maps every nomination to rank (id → category); sheets for others are
    ignored. ``conflicts`` holds (juror id, nomination id) pairs whose sheets are excluded even
    if the caller passed them. Two valid sheets for the same pair raise ``ValueError``.

    Normalisation: z = (total − μ_j) / σ_j over juror j's own totals (0 when σ_j is 0), then
    score_min + (z − z_min) / (z_max − z_min) · (score_max − score_min) with z_min/z_max over
    the whole edition (the middle of the scale when they are equal).
    """
    weighed = _weigh(sheets, criteria, scale, nominations, conflicts)
    # z is monotone in a juror's total, so their z range comes from their extreme totals.
    params: dict[int, tuple[float, float]] = {}
    mus: dict[int, float] = {}
    sigmas: dict[int, float] = {}
    juror_z_range: dict[int, tuple[float, float]] = {}
    for juror_id, (_, totals) in weighed.by_juror.items():
        mu = math.fsum(totals) / len(totals)
        low, high = min(totals), max(totals)
        sigma = _pstdev(totals, mu, low, high)
        params[juror_id] = (mu, sigma)
        mus[juror_id] = mu
        sigmas[juror_id] = sigma or math.inf
        juror_z_range[juror_id] = ((low - mu) / sigmas[juror_id], (high - mu) / sigmas[juror_id])
    z_range = (
        (min(r[0] for r in juror_z_range.values()), max(r[1] for r in juror_z_range.values()))
        if juror_z_range
        else None
    )
    basis = _Basis(settings, scale, z_range)

    stats: dict[int, NominationStats] = {}
    by_category: dict[str, list[_Nom]] = {}
    rows: dict[str, list[tuple[float, int, float, _Nom, _Drop | None]]] = {}
    not_rankable: dict[str, list[int]] = {}
    for nid in sorted(nominations):
        category = nominations[nid]
        st, nom = _nomination(
            nid, category, weighed.by_nomination[nid], (mus, sigmas), min_scores=settings.min_scores, basis=basis
        )
        stats[nid] = st
        if nom is None:
            not_rankable.setdefault(category, []).append(nid)
            continue
        by_category.setdefault(category, []).append(nom)
        score = st.norm_mean if settings.normalise else st.mean
        assert score is not None  # a rankable nomination has sheets
        rows.setdefault(category, []).append((round(score, TIE_DECIMALS), nid, score, nom, None))

    return Results(
        scale=scale,
        settings=settings,
        nominations=stats,
        jurors=_juror_stats(weighed.by_juror, params, {nid: st.mean for nid, st in stats.items()}),
        rankings={
            category: CategoryRanking(
                category,
                tuple(_rank(rows.get(category, []), basis)),
                tuple(not_rankable.get(category, [])),
            )
            for category in sorted(set(nominations.values()))
        },
        ignored=tuple(weighed.ignored),
        z_range=z_range,
        _index=_Index(
            by_category={c: tuple(noms) for c, noms in by_category.items()},
            juror_z_range=juror_z_range,
        ),
    )
