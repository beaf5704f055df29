"""What the ranking takes in and gives out: plain values, no database (``ranking`` computes them).

The conventions the numbers follow are written once, in ``ranking``'s docstring.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

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
