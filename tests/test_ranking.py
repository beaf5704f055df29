"""The ranking (``domain.ranking``) checked against hand-computed numbers.

Rounding convention: every expected value below was computed by hand (the working is in the
comments). Two criteria weigh 1 and 3, so a sheet's total is (a + 3b) / 4, a multiple of
1/4; such values, their sums, and their means over 2 or 4 sheets are exact in binary floating
point and are compared with ``==`` as they are. Values involving a division by 3 or a square
root are compared as ``round(value, 4) == <hand value rounded to 4 decimals>``.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

import pytest

from ambassador.domain.ranking import compute_results, weighted_total
from ambassador.domain.ranking_stability import chart_summary, leave_one_out
from ambassador.domain.ranking_types import (
    CONFLICT,
    INCOMPLETE,
    UNKNOWN_NOMINATION,
    Criterion,
    IgnoredSheet,
    RankedNomination,
    RankingSettings,
    Results,
    Scale,
    Sheet,
)

CRITERIA = (Criterion(id=1, weight=1), Criterion(id=2, weight=3))
SCALE = Scale(0, 10)


def sheet(juror: int, nomination: int, a: float, b: float) -> Sheet:
    return Sheet(juror_id=juror, nomination_id=nomination, scores={1: a, 2: b})


def flat(juror: int, nomination: int, total: float) -> Sheet:
    """A sheet with both criteria at ``total``, so its weighted total is ``total``."""
    return sheet(juror, nomination, total, total)


def run(
    sheets: Iterable[Sheet],
    nominations: dict[int, str],
    *,
    min_scores: int = 1,
    normalise: bool = False,
    tie_break: tuple[str, ...] = ("median", "top_scores", "vote"),
    conflicts: frozenset[tuple[int, int]] = frozenset(),
) -> Results:
    return compute_results(
        sheets,
        criteria=CRITERIA,
        scale=SCALE,
        nominations=nominations,
        settings=RankingSettings(min_scores=min_scores, normalise=normalise, tie_break=tie_break),
        conflicts=conflicts,
    )


def places(results: Results, category: str = "A") -> list[tuple[int, int]]:
    return [(p.nomination_id, p.rank) for p in results.rankings[category].ranked]


def r4(values: Iterable[float | None]) -> list[float | None]:
    return [None if v is None else round(v, 4) for v in values]


# 3 jurors x 4 nominations (A: 11, 12, 13; B: 21). Totals (a + 3b) / 4:
#            n11            n12            n13              n21
# juror 1    (8,9)  8.75    (6,7) 6.75     (10,10) 10.0     (4,5)  4.75
# juror 2    (7,8)  7.75    (9,6) 6.75     (5,6)    5.75    (6,6)  6.0
# juror 3    (10,8) 8.5     (5,5) 5.0      (8,9)    8.75    (2,3)  2.75
NOMINATIONS = {11: "A", 12: "A", 13: "A", 21: "B"}
SCORES = {
    (1, 11): (8, 9),
    (1, 12): (6, 7),
    (1, 13): (10, 10),
    (1, 21): (4, 5),
    (2, 11): (7, 8),
    (2, 12): (9, 6),
    (2, 13): (5, 6),
    (2, 21): (6, 6),
    (3, 11): (10, 8),
    (3, 12): (5, 5),
    (3, 13): (8, 9),
    (3, 21): (2, 3),
}
BASE = [sheet(j, n, a, b) for (j, n), (a, b) in SCORES.items()]


def test_weighted_total_is_a_weighted_mean_on_the_scale() -> None:
    assert weighted_total(sheet(1, 11, 8, 9), CRITERIA) == 8.75  # (8 + 27) / 4
    assert weighted_total(sheet(1, 13, 10, 10), CRITERIA) == 10.0
    assert weighted_total(sheet(3, 21, 2, 3), CRITERIA) == 2.75  # (2 + 9) / 4
    # A score for a criterion that is not in the list does not count.
    assert weighted_total(Sheet(1, 11, {1: 8, 2: 9, 99: 0}), CRITERIA) == 8.75


def test_weighted_total_of_an_incomplete_sheet_is_none() -> None:
    assert weighted_total(Sheet(1, 11, {1: 8}), CRITERIA) is None


def test_per_nomination_statistics() -> None:
    results = run(BASE, NOMINATIONS)
    n11, n12, n13, n21 = (results.nominations[n] for n in (11, 12, 13, 21))

    assert n11.juror_ids == (1, 2, 3)
    assert n11.totals == (8.75, 7.75, 8.5)
    assert n11.count == 3
    assert round(n11.mean or 0, 4) == 8.3333  # 25 / 3
    assert n11.median == 8.5
    assert n11.spread == 1.0  # 8.75 - 7.75
    # deviations 5/12, -7/12, 2/12: variance (25 + 49 + 4) / 144 / 3 = 26/144, stdev sqrt(26)/12
    assert round(n11.stdev or 0, 4) == 0.4249

    assert n12.totals == (6.75, 6.75, 5.0)
    assert round(n12.mean or 0, 4) == 6.1667  # 18.5 / 3 = 37/6
    assert n12.median == 6.75
    assert n12.spread == 1.75
    # deviations 7/12, 7/12, -14/12: variance 294/144/3 = 98/144, stdev sqrt(98)/12 = 0.82496
    assert round(n12.stdev or 0, 4) == 0.825

    assert n13.totals == (10.0, 5.75, 8.75)
    assert round(n13.mean or 0, 4) == 8.1667  # 24.5 / 3 = 49/6
    assert n13.median == 8.75
    assert n13.spread == 4.25
    # deviations 22/12, -29/12, 7/12: variance 1374/144/3 = 458/144, stdev sqrt(458)/12
    assert round(n13.stdev or 0, 4) == 1.7834
    assert n13.top_scores == 1  # juror 1 gave (10, 10)
    assert n11.top_scores == 0

    assert n21.totals == (4.75, 6.0, 2.75)
    assert n21.mean == 4.5  # 13.5 / 3
    assert n21.median == 4.75
    assert n21.spread == 3.25
    # deviations 0.25, 1.5, -1.75: variance 5.375 / 3 = 1.791667, stdev 1.338532
    assert round(n21.stdev or 0, 4) == 1.3385

    assert all(s.rankable for s in results.nominations.values())
    assert results.ignored == ()


def test_one_sheet_has_zero_stdev_and_no_sheet_has_no_statistics() -> None:
    results = run([sheet(1, 11, 8, 9)], {11: "A", 12: "A"})
    one, none = results.nominations[11], results.nominations[12]
    assert (one.count, one.mean, one.median, one.stdev, one.spread) == (1, 8.75, 8.75, 0.0, 0.0)
    assert (none.count, none.mean, none.median, none.stdev, none.spread) == (0, None, None, None, None)
    assert (none.norm_mean, none.norm_median, none.rankable) == (None, None, False)
    assert results.rankings["A"].not_rankable == (12,)


def test_raw_ranking_per_category() -> None:
    results = run(BASE, NOMINATIONS)
    # A: means 8.3333 (n11), 8.1667 (n13), 6.1667 (n12)
    assert places(results) == [(11, 1), (13, 2), (12, 3)]
    assert [p.decided_by for p in results.rankings["A"].ranked] == [None, None, None]
    assert not any(p.needs_vote for p in results.rankings["A"].ranked)
    assert places(results, "B") == [(21, 1)]
    assert results.rankings["B"].ranked[0].score == 4.5


def test_quorum_makes_a_nomination_not_rankable() -> None:
    sheets = [s for s in BASE if (s.juror_id, s.nomination_id) != (3, 21)]
    results = run(sheets, NOMINATIONS, min_scores=3)
    assert results.nominations[21].count == 2
    assert results.nominations[21].mean == 5.375  # (4.75 + 6.0) / 2
    assert results.nominations[21].rankable is False
    assert results.rankings["B"].ranked == ()
    assert results.rankings["B"].not_rankable == (21,)
    assert places(results) == [(11, 1), (13, 2), (12, 3)]  # 3 sheets each: still rankable


def test_conflicted_sheets_are_excluded_even_if_passed() -> None:
    # Without juror 3's 8.5 on n11: (8.75 + 7.75) / 2 = 8.25.
    # Without juror 1's 10.0 on n13: (5.75 + 8.75) / 2 = 7.25. The order stays n11, n13, n12.
    results = run(BASE, NOMINATIONS, conflicts=frozenset({(3, 11), (1, 13)}))
    assert results.nominations[11].totals == (8.75, 7.75)
    assert results.nominations[11].mean == 8.25
    assert results.nominations[13].totals == (5.75, 8.75)
    assert results.nominations[13].mean == 7.25
    assert results.nominations[13].top_scores == 0
    assert set(results.ignored) == {IgnoredSheet(3, 11, CONFLICT), IgnoredSheet(1, 13, CONFLICT)}
    assert places(results) == [(11, 1), (13, 2), (12, 3)]


def test_conflicts_can_change_the_order() -> None:
    # Without juror 1's 8.75 on n11: (7.75 + 8.5) / 2 = 8.125.
    # Without juror 2's 5.75 on n13: (10 + 8.75) / 2 = 9.375.
    results = run(BASE, NOMINATIONS, conflicts=frozenset({(1, 11), (2, 13)}))
    assert (results.nominations[11].mean, results.nominations[13].mean) == (8.125, 9.375)
    assert places(results) == [(13, 1), (11, 2), (12, 3)]


def test_conflict_given_as_a_list_counts_too() -> None:
    results = compute_results(
        BASE,
        criteria=CRITERIA,
        scale=SCALE,
        nominations=NOMINATIONS,
        settings=RankingSettings(),
        conflicts=[(1, 13)],
    )
    assert results.nominations[13].juror_ids == (2, 3)


def test_incomplete_and_unknown_sheets_are_ignored() -> None:
    sheets = [s for s in BASE if (s.juror_id, s.nomination_id) != (3, 21)]
    sheets.append(Sheet(3, 21, {1: 2}))  # criterion 2 missing
    sheets.append(sheet(3, 99, 5, 5))  # not a nomination of this ranking
    results = run(sheets, NOMINATIONS)
    assert results.nominations[21].totals == (4.75, 6.0)
    assert results.nominations[21].mean == 5.375
    assert results.ignored == (IgnoredSheet(3, 21, INCOMPLETE), IgnoredSheet(3, 99, UNKNOWN_NOMINATION))
    # The ignored sheet does not count for the juror either: 3 sheets, (8.5 + 5 + 8.75) / 3.
    assert results.jurors[3].nomination_ids == (11, 12, 13)
    assert round(results.jurors[3].mean, 4) == 7.4167


# Normalisation: 2 jurors x 3 nominations, flat sheets (total = the score).
#   juror 1: 4, 6, 8   mean 6, stdev sqrt(8/3) = 1.632993, z = -1.224745, 0, 1.224745
#   juror 2: 7, 7, 10  mean 8, stdev sqrt(6/3) = 1.414214, z = -0.707107, -0.707107, 1.414214
# z_min = -1.224745, z_max = 1.414214, z_max - z_min = 2.638958
# rescaled 10 * (z - z_min) / 2.638958:
#   juror 1: 0, 4.641016, 9.282032      juror 2: 1.961524, 1.961524, 10
# normalised means (= medians, two sheets): n1 0.980762, n2 3.301270, n3 9.641016
NORM = [flat(1, 1, 4), flat(1, 2, 6), flat(1, 3, 8), flat(2, 1, 7), flat(2, 2, 7), flat(2, 3, 10)]


def test_normalisation_numbers() -> None:
    results = run(NORM, {1: "A", 2: "A", 3: "A"}, normalise=True)
    assert (results.jurors[1].mean, round(results.jurors[1].stdev, 4)) == (6.0, 1.633)
    assert (results.jurors[2].mean, round(results.jurors[2].stdev, 4)) == (8.0, 1.4142)
    assert r4(results.nominations[1].z_scores) == [-1.2247, -0.7071]
    assert r4(results.nominations[2].z_scores) == [0.0, -0.7071]
    assert r4(results.nominations[3].z_scores) == [1.2247, 1.4142]
    assert results.z_range is not None
    assert r4(results.z_range) == [-1.2247, 1.4142]
    assert r4(results.nominations[n].norm_mean for n in (1, 2, 3)) == [0.9808, 3.3013, 9.641]
    assert r4(results.nominations[n].norm_median for n in (1, 2, 3)) == [0.9808, 3.3013, 9.641]
    # The raw statistics stay beside them.
    assert [results.nominations[n].mean for n in (1, 2, 3)] == [5.5, 6.5, 9.0]
    assert places(results) == [(3, 1), (2, 2), (1, 3)]
    assert r4(p.score for p in results.rankings["A"].ranked) == [9.641, 3.3013, 0.9808]


def test_juror_summary_and_leniency() -> None:
    results = run(NORM, {1: "A", 2: "A", 3: "A"})
    # Juror 1 is 1.5, 0.5 and 1 below the nominations' means (5.5, 6.5, 9): -1 on average.
    assert results.jurors[1].leniency == -1.0
    assert results.jurors[2].leniency == 1.0
    summary = chart_summary(results)
    assert summary.jurors == ((1, (4.0, 6.0, 8.0), 6.0), (2, (7.0, 7.0, 10.0), 8.0))
    assert summary.nominations == ((1, "A", (4.0, 7.0)), (2, "A", (6.0, 7.0)), (3, "A", (8.0, 10.0)))


def test_normalised_scores_sit_mid_scale_when_every_z_is_equal() -> None:
    # One juror giving the same total everywhere: sigma 0, z 0, z_min == z_max.
    results = run([flat(1, 1, 6), flat(1, 2, 6)], {1: "A", 2: "A"}, normalise=True)
    assert results.jurors[1].stdev == 0.0
    assert results.nominations[1].z_scores == (0.0,)
    assert (results.nominations[1].norm_mean, results.nominations[2].norm_median) == (5.0, 5.0)
    # A juror with a single sheet also gets z = 0.
    results = run([flat(1, 1, 6), flat(2, 1, 9), flat(2, 2, 3)], {1: "A", 2: "A"}, normalise=True)
    assert results.nominations[1].z_scores == (0.0, 1.0)  # juror 2: mean 6, stdev 3


# Tie-breaks: flat sheets from 3 jurors.
#   n1 [9, 9, 9]  mean 9
#   n2 [6, 6, 9]  mean 7, median 6
#   n3 [5, 8, 8]  mean 7, median 8
MEDIAN_TIE = [
    flat(j, n, t)
    for n, totals in {1: (9, 9, 9), 2: (6, 6, 9), 3: (5, 8, 8)}.items()
    for j, t in zip((1, 2, 3), totals, strict=True)
]
THREE = {1: "A", 2: "A", 3: "A"}


def test_median_breaks_a_tie_on_the_mean() -> None:
    results = run(MEDIAN_TIE, THREE, tie_break=("median",))
    assert results.rankings["A"].ranked == (
        RankedNomination(1, 1, 9.0, (), False, None),
        RankedNomination(3, 2, 7.0, (), False, "median"),
        RankedNomination(2, 3, 7.0, (), False, "median"),
    )


def test_median_then_vote_needs_no_vote_when_the_median_decides() -> None:
    results = run(MEDIAN_TIE, THREE, tie_break=("median", "vote"))
    assert places(results) == [(1, 1), (3, 2), (2, 3)]
    assert not any(p.needs_vote for p in results.rankings["A"].ranked)


def test_vote_first_leaves_the_tie_for_the_jury() -> None:
    # "vote" ends the chain: the median is never consulted, n2 and n3 share rank 2.
    results = run(MEDIAN_TIE, THREE, tie_break=("vote", "median"))
    assert results.rankings["A"].ranked == (
        RankedNomination(1, 1, 9.0, (), False, None),
        RankedNomination(2, 2, 7.0, (3,), True, None),
        RankedNomination(3, 2, 7.0, (2,), True, None),
    )


def test_top_scores_break_a_tie_on_mean_and_median() -> None:
    # n1 [10, 7, 4]: mean 7, median 7, one sheet with every criterion at 10.
    # n2 [9, 7, 5]: mean 7, median 7, no top sheet.
    sheets = [flat(j, 1, t) for j, t in ((1, 10), (2, 7), (3, 4))]
    sheets += [flat(j, 2, t) for j, t in ((1, 9), (2, 7), (3, 5))]
    results = run(sheets, {1: "A", 2: "A"}, tie_break=("median", "top_scores"))
    assert [results.nominations[n].top_scores for n in (1, 2)] == [1, 0]
    assert results.rankings["A"].ranked == (
        RankedNomination(1, 1, 7.0, (), False, "top_scores"),
        RankedNomination(2, 2, 7.0, (), False, "top_scores"),
    )
    # Without that tie-break the two stay tied.
    results = run(sheets, {1: "A", 2: "A"}, tie_break=("median",))
    assert places(results) == [(1, 1), (2, 1)]
    assert all(p.needs_vote for p in results.rankings["A"].ranked)


def test_a_sheet_one_point_short_of_the_top_is_not_a_top_score() -> None:
    results = run([sheet(1, 1, 10, 10), sheet(2, 1, 9, 10), sheet(3, 1, 10, 9)], {1: "A"})
    assert results.nominations[1].totals == (10.0, 9.75, 9.25)
    assert results.nominations[1].top_scores == 1


def test_a_tie_group_can_be_partly_resolved() -> None:
    # All three have mean 7. Medians: n1 8, n2 7, n3 7; n2 and n3 have the same totals.
    totals = {1: (5, 8, 8), 2: (6, 7, 8), 3: (8, 7, 6)}
    sheets = [flat(j, n, t) for n, ts in totals.items() for j, t in zip((1, 2, 3), ts, strict=True)]
    results = run(sheets, THREE, tie_break=("median", "top_scores"))
    assert results.rankings["A"].ranked == (
        RankedNomination(1, 1, 7.0, (), False, "median"),
        RankedNomination(2, 2, 7.0, (3,), True, None),
        RankedNomination(3, 2, 7.0, (2,), True, None),
    )


def test_raw_mean_breaks_a_tie_on_the_normalised_mean() -> None:
    # juror 1: n1 2, n2 4 (mean 3, stdev 1) -> z -1, +1
    # juror 2: n1 9, n2 5 (mean 7, stdev 2) -> z +1, -1
    # z_min -1, z_max 1: rescaled n1 (0, 10), n2 (10, 0); normalised mean and median 5 for both.
    # Raw means: n1 5.5, n2 4.5.
    sheets = [flat(1, 1, 2), flat(1, 2, 4), flat(2, 1, 9), flat(2, 2, 5)]
    results = run(sheets, {1: "A", 2: "A"}, normalise=True, tie_break=("median", "mean", "vote"))
    assert [(results.nominations[n].norm_mean, results.nominations[n].norm_median) for n in (1, 2)] == [
        (5.0, 5.0),
        (5.0, 5.0),
    ]
    assert results.rankings["A"].ranked == (
        RankedNomination(1, 1, 5.0, (), False, "mean"),
        RankedNomination(2, 2, 5.0, (), False, "mean"),
    )
    # Without "mean" in the chain the jury has to vote.
    results = run(sheets, {1: "A", 2: "A"}, normalise=True, tie_break=("median", "vote"))
    assert places(results) == [(1, 1), (2, 1)]
    assert all(p.needs_vote for p in results.rankings["A"].ranked)


def test_competition_ranking_and_unresolved_tie_needs_a_vote() -> None:
    # means 9, 7, 7, 5; n2 and n3 have the same totals, so median and top scores agree too.
    totals = {1: (9, 9, 9), 2: (6, 7, 8), 3: (8, 7, 6), 4: (5, 5, 5)}
    sheets = [flat(j, n, t) for n, ts in totals.items() for j, t in zip((1, 2, 3), ts, strict=True)]
    for chain in (("median", "top_scores"), ("median", "top_scores", "vote")):
        results = run(sheets, {1: "A", 2: "A", 3: "A", 4: "A"}, tie_break=chain)
        assert results.rankings["A"].ranked == (
            RankedNomination(1, 1, 9.0, (), False, None),
            RankedNomination(2, 2, 7.0, (3,), True, None),
            RankedNomination(3, 2, 7.0, (2,), True, None),
            RankedNomination(4, 4, 5.0, (), False, None),
        )


def test_means_equal_on_paper_tie_despite_floating_point() -> None:
    # Weights 1 and 2: totals (a + 2b) / 3. Weighted sums 0, 1, 7 and 1, 1, 6 both average 8/9,
    # but in binary floating point the two means differ in the last digit
    # (0.888888888888889 vs 0.8888888888888888). Medians are both 1/3.
    criteria = (Criterion(1, 1), Criterion(2, 2))
    sheets = [sheet(1, 1, 0, 0), sheet(2, 1, 1, 0), sheet(3, 1, 7, 0)]
    sheets += [sheet(1, 2, 1, 0), sheet(2, 2, 1, 0), sheet(3, 2, 6, 0)]
    results = compute_results(
        sheets,
        criteria=criteria,
        scale=SCALE,
        nominations={1: "A", 2: "A"},
        settings=RankingSettings(tie_break=("median", "top_scores", "vote")),
    )
    assert results.nominations[1].mean != results.nominations[2].mean
    assert places(results) == [(1, 1), (2, 1)]
    assert all(p.needs_vote for p in results.rankings["A"].ranked)


# Leave-one-out, top 2 of category A, flat sheets from jurors 1, 2, 3:
#   n1 [9, 9, 9] mean 9;  n2 [8, 5, 5] mean 6;  n3 [5, 6, 6] mean 5.667
# Without juror 1: n1 9, n2 5, n3 6 -> top 2 becomes {n1, n3}.
# Without juror 2 (or 3): n1 9, n2 6.5, n3 5.5 -> unchanged.
DECISIVE = [
    flat(j, n, t)
    for n, ts in {1: (9, 9, 9), 2: (8, 5, 5), 3: (5, 6, 6)}.items()
    for j, t in zip((1, 2, 3), ts, strict=True)
]


def test_leave_one_out_finds_the_juror_who_decides_a_title() -> None:
    results = run(DECISIVE, THREE)
    report = leave_one_out(results, {"A": 2})
    assert report.top == {"A": ((1, 1), (2, 2))}
    assert [(e.juror_id, e.top, e.set_changed, e.order_changed) for e in report.effects] == [
        (1, ((1, 1), (3, 2)), True, True),
        (2, ((1, 1), (2, 2)), False, False),
        (3, ((1, 1), (2, 2)), False, False),
    ]
    assert report.stable is False
    assert report.decisive_jurors == (1,)


def test_leave_one_out_judges_the_quorum_on_the_whole_jury() -> None:
    # With a quorum of 3 and 3 jurors, removing one would leave nothing rankable; the
    # question is whose opinion decides, so the nominations stay in play.
    report = leave_one_out(run(DECISIVE, THREE, min_scores=3), {"A": 2})
    assert [e.set_changed for e in report.effects] == [True, False, False]


def test_leave_one_out_stable_but_order_changes() -> None:
    # n1 [9, 7, 7] mean 7.667; n2 [6, 8, 8] mean 7.333; n3 [3, 3, 3].
    # Without juror 1: n1 7, n2 8 -> same two, other order. Without 2 or 3: n1 8, n2 7.
    sheets = [
        flat(j, n, t)
        for n, ts in {1: (9, 7, 7), 2: (6, 8, 8), 3: (3, 3, 3)}.items()
        for j, t in zip((1, 2, 3), ts, strict=True)
    ]
    report = leave_one_out(run(sheets, THREE), {"A": 2})
    assert [(e.juror_id, e.top, e.set_changed, e.order_changed) for e in report.effects] == [
        (1, ((2, 1), (1, 2)), False, True),
        (2, ((1, 1), (2, 2)), False, False),
        (3, ((1, 1), (2, 2)), False, False),
    ]
    assert report.stable is True
    assert report.decisive_jurors == ()


def test_leave_one_out_drops_a_nomination_left_without_sheets() -> None:
    # n1 has one sheet (juror 1: 10); n2 [8, 8] and n3 [6, 6] from jurors 1 and 2.
    sheets = [flat(1, 1, 10), flat(1, 2, 8), flat(2, 2, 8), flat(1, 3, 6), flat(2, 3, 6)]
    report = leave_one_out(run(sheets, THREE), {"A": 1})
    assert report.top == {"A": ((1, 1),)}
    assert [(e.juror_id, e.top, e.set_changed) for e in report.effects] == [
        (1, ((2, 1),), True),
        (2, ((1, 1),), False),
    ]


def test_leave_one_out_reports_every_category_listed() -> None:
    report = leave_one_out(run(BASE, NOMINATIONS), {"A": 2, "B": 1})
    assert report.top == {"A": ((11, 1), (13, 2)), "B": ((21, 1),)}
    assert [(e.category, e.juror_id) for e in report.effects] == [
        ("A", 1),
        ("A", 2),
        ("A", 3),
        ("B", 1),
        ("B", 2),
        ("B", 3),
    ]
    # Without juror 2: n11 (8.75 + 8.5) / 2 = 8.625, n13 (10 + 8.75) / 2 = 9.375 -> order changes.
    by_juror = {e.juror_id: e for e in report.effects if e.category == "A"}
    assert by_juror[2].top == ((13, 1), (11, 2))
    assert (by_juror[2].set_changed, by_juror[2].order_changed) == (False, True)
    # Without juror 1: n11 8.125, n12 5.875, n13 7.25 -> unchanged.
    assert by_juror[1].order_changed is False
    assert report.stable is True


@pytest.mark.parametrize("normalise", [False, True])
@pytest.mark.parametrize("scores", [(3, 10), (9, 10)], ids=["spread", "many-ties"])
def test_leave_one_out_equals_a_full_recomputation(normalise: bool, scores: tuple[int, int]) -> None:
    """The shortcut (stored sums, contenders only) must agree with recomputing from scratch."""
    rng = random.Random(7)
    nominations = {n: "A" if n <= 30 else "B" for n in range(1, 51)}
    sheets = [
        sheet(j, n, rng.randint(*scores), rng.randint(*scores))
        for n in nominations
        for j in range(1, 7)
        if rng.random() < 0.85
    ]
    top = {"A": 3, "B": 2}
    chain = ("median", "top_scores", "mean", "vote")
    results = run(sheets, nominations, normalise=normalise, tie_break=chain)
    report = leave_one_out(results, top)
    assert len(report.effects) == 12
    for effect in report.effects:
        rest = [s for s in sheets if s.juror_id != effect.juror_id]
        again = run(rest, nominations, normalise=normalise, tie_break=chain)
        assert effect.top == again.rankings[effect.category].top(top[effect.category])


def test_invalid_input_is_refused() -> None:
    with pytest.raises(ValueError, match="tie-break"):
        RankingSettings(tie_break=("median", "coin"))
    with pytest.raises(ValueError, match="min_scores"):
        RankingSettings(min_scores=0)
    with pytest.raises(ValueError, match="score_min"):
        Scale(5, 5)
    with pytest.raises(ValueError, match="weight"):
        weighted_total(sheet(1, 1, 1, 1), (Criterion(1, 0),))
    with pytest.raises(ValueError, match="outside the scale"):
        run([sheet(1, 11, 11, 5)], NOMINATIONS)
    with pytest.raises(ValueError, match="two sheets"):
        run([sheet(1, 11, 5, 5), sheet(1, 11, 6, 6)], NOMINATIONS)
