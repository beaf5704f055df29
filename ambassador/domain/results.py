"""Scoring results: weighted totals, per-nomination statistics, ranking and its robustness.

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
from dataclasses import dataclass, field
from typing import Any, NamedTuple

MEDIAN = "median"
TOP_SCORES = "top_scores"
MEAN = "mean"
VOTE = "vote"
TIE_BREAKS = frozenset({MEDIAN, TOP_SCORES, MEAN, VOTE})
# Ranking compares values rounded to this many decimals (see the module docstring).
TIE_DECIMALS = 9

CONFLICT = "conflict"
UNKNOWN_NOMINATION = "unknown_nomination"
INCOMPLETE = "incomplete"


# --- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Criterion:
    id: int
    weight: float


@dataclass(frozen=True)
class Scale:
    """The edition's score range; totals and normalised values live on it too."""

    score_min: int
    score_max: int

    def __post_init__(self) -> None:
        if not self.score_min < self.score_max:
            raise ValueError("score_min must be below score_max")

    @property
    def middle(self) -> float:
        return (self.score_min + self.score_max) / 2


@dataclass(frozen=True)
class Sheet:
    """A juror's submitted scores on one nomination (criterion id → value)."""

    juror_id: int
    nomination_id: int
    scores: Mapping[int, float]


@dataclass(frozen=True)
class RankingSettings:
    """How the ranking is decided.

    ``min_scores``: the quorum of valid sheets for a nomination to be ranked.
    ``normalise``: rank on per-juror normalised scores instead of raw totals.
    ``tie_break``: applied in order to nominations tied on the mean:
    ``median`` (higher median first, on the ranking's basis, raw or normalised),
    ``top_scores`` (more sheets with every criterion at the scale's maximum, i.e. a weighted
    total equal to the maximum possible), ``mean`` (higher *raw* mean: a no-op without
    normalisation, with it the jurors' own numbers decide), ``vote`` (the jury votes: the
    tie stays and is flagged; names after it are never reached).
    """

    min_scores: int = 1
    normalise: bool = False
    tie_break: Sequence[str] = (MEDIAN, TOP_SCORES, VOTE)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tie_break", tuple(self.tie_break))
        if self.min_scores < 1:
            raise ValueError("min_scores must be at least 1")
        unknown = [name for name in self.tie_break if name not in TIE_BREAKS]
        if unknown:
            raise ValueError(f"unknown tie-break: {', '.join(unknown)}")

    @property
    def chain(self) -> tuple[str, ...]:
        """The tie-breaks that compare numbers: those before the first ``vote``."""
        names = tuple(self.tie_break)
        return names[: names.index(VOTE)] if VOTE in names else names


# --- outputs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class IgnoredSheet:
    """A sheet left out of the results, with why (``conflict``, ``unknown_nomination``, ``incomplete``)."""

    juror_id: int
    nomination_id: int
    reason: str


@dataclass(frozen=True)
class NominationStats:
    """One nomination's valid sheets and their statistics.

    ``juror_ids``, ``totals`` and ``z_scores`` (each juror's z for this sheet) are parallel,
    in juror id order. The statistics are ``None`` when there is no valid sheet; ``stdev``
    is 0 for one sheet. ``top_scores`` counts sheets with every criterion at the maximum.
    ``norm_mean``/``norm_median`` are on the scale (see ``compute_results``).
    """

    nomination_id: int
    category: str
    juror_ids: tuple[int, ...]
    totals: tuple[float, ...]
    z_scores: tuple[float, ...]
    count: int
    mean: float | None
    median: float | None
    stdev: float | None
    spread: float | None
    top_scores: int
    norm_mean: float | None
    norm_median: float | None
    rankable: bool


@dataclass(frozen=True)
class JurorStats:
    """One juror's totals, for a lenient/severe view.

    ``mean`` and ``stdev`` are the juror's own (the z-score parameters). ``leniency`` is the
    mean of (the juror's total − the nomination's raw mean) over their sheets: positive for a
    lenient juror, comparable even when jurors scored different nominations.
    """

    juror_id: int
    nomination_ids: tuple[int, ...]
    totals: tuple[float, ...]
    count: int
    mean: float
    stdev: float
    leniency: float


@dataclass(frozen=True)
class RankedNomination:
    """A place in a category's ranking.

    ``rank`` is standard competition ranking (1, 2, 2, 4). ``score`` is the ranking basis
    (raw or normalised mean). ``tied_with`` lists the nominations still tied after the
    chain; ``needs_vote`` is set for them. ``decided_by`` names the tie-break that separated
    the nomination from those level with it on the mean (``None``: the mean alone did).
    """

    nomination_id: int
    rank: int
    score: float
    tied_with: tuple[int, ...]
    needs_vote: bool
    decided_by: str | None


@dataclass(frozen=True)
class CategoryRanking:
    category: str
    ranked: tuple[RankedNomination, ...]
    not_rankable: tuple[int, ...]

    def top(self, n: int) -> tuple[tuple[int, int], ...]:
        """(nomination id, rank) of places 1..n; ties on the boundary are all included."""
        return tuple((r.nomination_id, r.rank) for r in self.ranked if r.rank <= n)


_Drop = tuple[float, float, bool]  # one sheet of a nomination: (raw total, z, top sheet)


class _Nom(NamedTuple):
    """Internal aggregate of one rankable nomination, kept for ties and leave-one-out.

    A named tuple, not a dataclass: one is built per nomination on the hot path.
    """

    id: int
    jurors: tuple[int, ...]
    totals: tuple[float, ...]
    zs: tuple[float, ...]
    top_jurors: tuple[int, ...]
    raw_sum: float
    z_sum: float

    def sheet_of(self, juror_id: int) -> _Drop | None:
        if juror_id not in self.jurors:
            return None
        i = self.jurors.index(juror_id)
        return self.totals[i], self.zs[i], juror_id in self.top_jurors


@dataclass(frozen=True)
class _Index:
    """What leave-one-out needs, kept from the computation of the results."""

    by_category: Mapping[str, tuple[_Nom, ...]]
    juror_z_range: Mapping[int, tuple[float, float]]


@dataclass(frozen=True)
class Results:
    """Everything the results page shows. ``z_range`` is (z_min, z_max) of the edition."""

    scale: Scale
    settings: RankingSettings
    nominations: Mapping[int, NominationStats]
    jurors: Mapping[int, JurorStats]
    rankings: Mapping[str, CategoryRanking]
    ignored: tuple[IgnoredSheet, ...]
    z_range: tuple[float, float] | None
    _index: _Index = field(repr=False, compare=False)


@dataclass(frozen=True)
class JurorEffect:
    """The top-N of a category without one juror's sheets, against the full jury's.

    ``set_changed``: other nominations are in the top-N. ``order_changed``: the
    (nomination, rank) list differs (a new or broken tie counts).
    """

    category: str
    juror_id: int
    top: tuple[tuple[int, int], ...]
    set_changed: bool
    order_changed: bool


@dataclass(frozen=True)
class LeaveOneOut:
    """``top``: the full jury's top-N per category; ``stable``: no single juror changes a set."""

    top: Mapping[str, tuple[tuple[int, int], ...]]
    effects: tuple[JurorEffect, ...]
    stable: bool

    @property
    def decisive_jurors(self) -> tuple[int, ...]:
        """Jurors whose removal alone changes some category's top-N set."""
        return tuple(sorted({e.juror_id for e in self.effects if e.set_changed}))


@dataclass(frozen=True)
class ChartSummary:
    """Plain series for charts: per juror (id, totals, mean), per nomination (id, category, totals)."""

    jurors: tuple[tuple[int, tuple[float, ...], float], ...]
    nominations: tuple[tuple[int, str, tuple[float, ...]], ...]


# --- computation ----------------------------------------------------------------------------

# Leave-one-out skips nominations whose mean, whichever juror is removed, stays this far
# below n others' (in raw or z units): far more than the TIE_DECIMALS rounding can bridge.
_MARGIN = 1e-4


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
