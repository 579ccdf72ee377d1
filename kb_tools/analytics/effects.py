"""What a publication did to its topic's calls, against the other topics over the same days.

A plain before/after ("calls on the topic per 1,000 sessions, 4 weeks before vs 4 weeks after")
is fooled by anything else that moved in those weeks: an Eid rush or an 11.11 sale raises calls
on every topic and hides, or fakes, an article's effect. So the change is estimated as a
difference-in-differences on the log scale (a ratio of ratios):

    change = (topic's calls after / before) / (other topics' calls after / before) - 1

Assumption (parallel trends, in ratios): without the publication, the topic's calls would have
moved by the same factor as the other topics' calls taken together. A rush or a sale that
multiplies every topic's calls by the same factor cancels out; one that hits this topic alone
does not, and nothing in the data can tell the two apart. Topics with a publication of their own
inside the same weeks are left out of the comparison group.

The 95 % interval is a paired bootstrap by day: days of the before period and of the after
period are drawn with replacement, the same days for the topic and for the comparison group (so a
busy day is busy for both), 2,000 times with a fixed seed. When the interval contains 0 the
effect is *not distinguishable from noise*.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

REPLICATES = 2000
MIN_CALLS = 20  # in each of the topic's before/after periods and the group's
NOISE = "not distinguishable from noise"


@dataclass(frozen=True)
class Effect:
    change_pct: float | None  # the difference-in-differences estimate, %
    low_pct: float | None  # 95 % bootstrap interval
    high_pct: float | None
    verdict: str  # "fewer calls" | "more calls" | NOISE | "too few calls"
    calls_avoided: float | None  # in the after period: calls expected without it - calls seen
    control_topics: int


def did_effect(treated: Sequence[int], control: Sequence[int], before: slice, after: slice, *,
               control_topics: int = 1, replicates: int = REPLICATES, seed: int = 0,
               min_calls: int = MIN_CALLS) -> Effect:
    """`treated`, `control`: calls per day (the topic, the other topics summed)."""
    t, c = np.asarray(treated, dtype=np.int64), np.asarray(control, dtype=np.int64)
    tb, ta, cb, ca = t[before], t[after], c[before], c[after]
    if len(tb) == 0 or len(ta) == 0 or min(tb.sum(), ta.sum(), cb.sum(), ca.sum()) < min_calls:
        return Effect(None, None, None, "too few calls", None, control_topics)
    est = (ta.sum() / tb.sum()) / (ca.sum() / cb.sum()) - 1
    rng = np.random.default_rng(seed)
    ib = rng.integers(0, len(tb), size=(replicates, len(tb)))
    ia = rng.integers(0, len(ta), size=(replicates, len(ta)))
    r_tb, r_cb, r_ta, r_ca = tb[ib].sum(1), cb[ib].sum(1), ta[ia].sum(1), ca[ia].sum(1)
    ok = (r_tb > 0) & (r_cb > 0) & (r_ca > 0)
    boot = (r_ta[ok] / r_tb[ok]) / (r_ca[ok] / r_cb[ok]) - 1
    low, high = np.percentile(boot, [2.5, 97.5])
    verdict = "fewer calls" if high < 0 else "more calls" if low > 0 else NOISE
    avoided = float(ta.sum() / (1 + est) - ta.sum())
    return Effect(round(100 * float(est), 1), round(100 * float(low), 1), round(100 * float(high), 1),
                  verdict, round(avoided, 1), control_topics)
