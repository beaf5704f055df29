"""Speed target for ambassador.domain.ranking (run by `make bench`, not part of `make test`).

1,000 nominations (half A, half B) x 15 jurors x 4 criteria (weights 1..4, scale 0..10),
deterministic (random.Random(42)). Each run computes the results with normalisation and the
leave-one-out check; the median of 20 runs must stay under 100 ms.
"""

from __future__ import annotations

import random
import statistics
import sys
import time

from ambassador.domain.ranking import compute_results
from ambassador.domain.ranking_stability import leave_one_out
from ambassador.domain.ranking_types import Criterion, LeaveOneOut, RankingSettings, Scale, Sheet

NOMINATIONS = 1000
JURORS = 15
RUNS = 20
LIMIT_MS = 100.0


def dataset() -> tuple[list[Sheet], list[Criterion], dict[int, str]]:
    """Scores = the nomination's merit + the juror's leniency + noise, clamped to the scale."""
    rng = random.Random(42)  # noqa: S311 - deterministic test data, not security
    criteria = [Criterion(id=c, weight=float(c)) for c in range(1, 5)]
    nominations = {n: "A" if n <= NOMINATIONS // 2 else "B" for n in range(1, NOMINATIONS + 1)}
    merit = {n: rng.uniform(2, 9) for n in nominations}
    leniency = {j: rng.uniform(-1.5, 1.5) for j in range(1, JURORS + 1)}
    sheets = [
        Sheet(
            juror_id=j,
            nomination_id=n,
            scores={c.id: min(10, max(0, round(rng.gauss(merit[n] + leniency[j], 1.5)))) for c in criteria},
        )
        for n in nominations
        for j in leniency
    ]
    return sheets, criteria, nominations


def main() -> int:
    sheets, criteria, nominations = dataset()
    settings = RankingSettings(min_scores=3, normalise=True, tie_break=("median", "top_scores", "mean", "vote"))
    top = {"A": 2, "B": 2}

    def once() -> LeaveOneOut:
        results = compute_results(
            sheets, criteria=criteria, scale=Scale(0, 10), nominations=nominations, settings=settings
        )
        return leave_one_out(results, top)

    stability = once()  # warm-up, not timed
    wall, cpu = [], []
    for _ in range(RUNS):
        start, start_cpu = time.perf_counter(), time.process_time()
        once()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    median = statistics.median(wall)
    sys.stdout.write(
        f"results + leave_one_out, {NOMINATIONS} nominations x {JURORS} jurors x {len(criteria)} criteria, "
        f"{RUNS} runs: median {median:.1f} ms, max {max(wall):.1f} ms (limit {LIMIT_MS:.0f} ms for the median; "
        f"CPU time median {statistics.median(cpu):.1f} ms)\n"
        f"top A {stability.top['A']}, top B {stability.top['B']}, stable: {stability.stable}\n"
    )
    if median > LIMIT_MS:
        sys.stdout.write("FAILED: the median is over the limit\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
