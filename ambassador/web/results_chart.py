"""The results chart: plain coordinates of the dots, and numbers as the results pages show them.

The chart is an SVG drawn by a template (``results/_chart.svg.html``) from the coordinates computed
here, so every name in it is escaped like any other text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ambassador import i18n
from ambassador.domain import minutes
from ambassador.domain.results import Standings
from ambassador.errors import N_

# --- numbers --------------------------------------------------------------------------------


def two_places(value: float | None) -> str:
    """A statistic with two decimals in the page's language (as in the minutes)."""
    return minutes.decimal(value, i18n.current_language.get())


# --- the chart ------------------------------------------------------------------------------

CHART_WIDTH = 720
PLOT_LEFT = 230
PLOT_RIGHT = 700
ROW_HEIGHT = 22
HEADING_HEIGHT = 30
AXIS_HEIGHT = 50  # tick labels and the legend
MAX_LABEL = 32
TICK_STEPS = (1, 2, 5, 10, 20, 25, 50)


@dataclass(frozen=True)
class Dot:
    """A total; equal totals in a row are spread vertically by ``dy`` so that each shows."""

    x: float
    dy: float
    value: str


@dataclass(frozen=True)
class ChartRow:
    """One juror's or one nomination's totals as dots, and the juror's mean (jurors only)."""

    y: float
    label: str
    full_label: str
    dots: tuple[Dot, ...]
    mean_x: float | None
    mean: str


@dataclass(frozen=True)
class ChartGroup:
    heading: str
    y: float
    rows: tuple[ChartRow, ...]

    @property
    def grid_top(self) -> float:
        return self.rows[0].y - ROW_HEIGHT / 2

    @property
    def grid_bottom(self) -> float:
        return self.rows[-1].y + ROW_HEIGHT / 2


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    top: float
    bottom: float
    ticks: tuple[tuple[float, str], ...]
    groups: tuple[ChartGroup, ...]
    score_min: int
    score_max: int


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1].rstrip() + "…"


DOT_SPACING = 6.0
MAX_STACK = 16.0  # the height equal dots may take in a row


def _dots(totals: Iterable[float], x: Any) -> tuple[Dot, ...]:
    """Dots in value order; a value given n times becomes a small vertical stack of n dots."""
    ordered = sorted(totals)
    counts: dict[float, int] = {}
    for value in ordered:
        counts[value] = counts.get(value, 0) + 1
    seen: dict[float, int] = {}
    dots = []
    for value in ordered:
        n, k = counts[value], seen.get(value, 0)
        seen[value] = k + 1
        spacing = min(DOT_SPACING, MAX_STACK / (n - 1)) if n > 1 else 0.0
        dots.append(Dot(x(value), round((k - (n - 1) / 2) * spacing, 1), two_places(value)))
    return tuple(dots)


def _ticks(low: int, high: int) -> list[int]:
    step = next((s for s in TICK_STEPS if (high - low) / s <= 10), math.ceil((high - low) / 10))
    first = math.ceil(low / step) * step
    values = list(range(first, high + 1, step))
    return sorted({low, *values, high})


def build_chart(s: Standings) -> Chart:
    """Coordinates of the dots: per juror (lenient or severe), then per nomination (dispersion)."""
    low, high = s.edition.score_min, s.edition.score_max

    def x(value: float) -> float:
        return round(PLOT_LEFT + (value - low) / (high - low) * (PLOT_RIGHT - PLOT_LEFT), 1)

    y = float(HEADING_HEIGHT)
    groups = []
    juror_rows = []
    heading_y = y
    for juror_id, totals, mean in s.chart.jurors:
        y += ROW_HEIGHT
        name = s.jurors.get(juror_id, str(juror_id))
        juror_rows.append(
            ChartRow(
                y=y,
                label=_short(name),
                full_label=name,
                dots=_dots(totals, x),
                mean_x=x(mean),
                mean=two_places(mean),
            )
        )
    if juror_rows:
        groups.append(ChartGroup(i18n.gettext(N_("Jurors: totals given and their mean")), heading_y, tuple(juror_rows)))
        y += HEADING_HEIGHT
    nomination_rows = []
    heading_y = y
    by_rank = {
        r.nomination_id: (r.rank, index)
        for ranking in s.computed.rankings.values()
        for index, r in enumerate(ranking.ranked)
    }
    series = [n for n in s.chart.nominations if n[2]]
    series.sort(key=lambda n: (n[1], by_rank.get(n[0], (math.inf, 0)), n[0]))
    for nomination_id, _category, totals in series:
        y += ROW_HEIGHT
        label = f"{s.references.get(nomination_id, '')} {s.nominees.get(nomination_id, '')}".strip()
        stats = s.computed.nominations[nomination_id]
        nomination_rows.append(
            ChartRow(
                y=y,
                label=_short(label),
                full_label=label,
                dots=_dots(totals, x),
                mean_x=x(stats.mean) if stats.mean is not None else None,
                mean=two_places(stats.mean),
            )
        )
    if nomination_rows:
        groups.append(
            ChartGroup(
                i18n.gettext(N_("Nominations: totals received and their mean")), heading_y, tuple(nomination_rows)
            )
        )
    bottom = y + ROW_HEIGHT / 2
    return Chart(
        width=CHART_WIDTH,
        height=int(bottom + AXIS_HEIGHT),
        left=PLOT_LEFT,
        right=PLOT_RIGHT,
        top=HEADING_HEIGHT / 2,
        bottom=bottom,
        ticks=tuple((x(v), str(v)) for v in _ticks(low, high)),
        groups=tuple(groups),
        score_min=low,
        score_max=high,
    )
