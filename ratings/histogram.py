"""A mergeable histogram of durations in minutes, with a stated maximum error.

Medians and 90th percentiles must be computable for any group of rollup rows and any period, so a rollup row
keeps its durations as counts per bucket: merging rows is adding counts, which the database does with plain
SUMs over fixed columns (fast, and the same on PostgreSQL and SQLite).

Buckets (minutes ``v``): 0 holds ``v == 0`` exactly (answered outside office hours: 0 working minutes);
1 holds ``0 < v < 1``; bucket ``k >= 2`` holds ``GAMMA**(k-2) <= v < GAMMA**(k-1)``; the last one holds
everything from ``GAMMA**(BUCKETS-2)`` (about 364 days) up. A percentile is the nearest-rank percentile (the
smallest value with at least p% of the values at or below it, PostgreSQL's ``percentile_disc``); read from the
histogram it is the representative value of the bucket that holds that rank, which errs by at most
**0.5 minute below one minute and 5% of the value from one minute to 364 days** (``MAX_RELATIVE_ERROR``);
beyond that it is reported as the lower bound. tests/ratings/test_histogram.py holds this bound against exact
computation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MAX_RELATIVE_ERROR = 0.05
# The bucket ratio for which the representative 2LU/(L+U) is within MAX_RELATIVE_ERROR of any value in [L, U).
GAMMA = (1 + MAX_RELATIVE_ERROR) / (1 - MAX_RELATIVE_ERROR)
LN_GAMMA = math.log(GAMMA)
# Geometric buckets from 1 minute to 2**19 minutes (about 364 days), plus the zero, sub-minute and overflow ones.
GEOMETRIC = math.ceil(math.log(2**19) / LN_GAMMA)
BUCKETS = GEOMETRIC + 3
TOP = GAMMA**GEOMETRIC  # the lower bound of the overflow bucket

# The four durations a rollup keeps: first response and resolution, in calendar and in working minutes.
METRICS = ("frc", "frw", "rsc", "rsw")
METRIC_NAMES = {
    "frc": "first_response",
    "frw": "first_response_working",
    "rsc": "resolution",
    "rsw": "resolution_working",
}


def column(metric: str, bucket: int) -> str:
    return f"h_{metric}_{bucket}"


def columns(metric: str) -> list[str]:
    return [column(metric, k) for k in range(BUCKETS)]


def bucket_of(minutes: float) -> int:
    """The bucket of a duration (the Python twin of `bucket_sql`)."""
    if minutes <= 0:
        return 0
    if minutes < 1:
        return 1
    if minutes >= TOP:
        return BUCKETS - 1
    return min(2 + math.floor(math.log(minutes) / LN_GAMMA), BUCKETS - 2)


def bucket_sql(value: str, floor_int: str) -> str:
    """SQL for the bucket of the minutes expression `value`; `floor_int` is a format string flooring to int."""
    geometric = floor_int.format(f"LN({value}) / {LN_GAMMA!r}")
    return (
        f"CASE WHEN {value} IS NULL THEN NULL WHEN {value} <= 0 THEN 0 WHEN {value} < 1 THEN 1 "
        f"WHEN {value} >= {TOP!r} THEN {BUCKETS - 1} "
        f"ELSE (CASE WHEN 2 + {geometric} > {BUCKETS - 2} THEN {BUCKETS - 2} ELSE 2 + {geometric} END) END"
    )


def representative(bucket: int) -> float:
    if bucket == 0:
        return 0.0
    if bucket == 1:
        return 0.5
    lower = GAMMA ** (bucket - 2)
    if bucket == BUCKETS - 1:
        return lower
    upper = lower * GAMMA
    return 2 * lower * upper / (lower + upper)


def percentile(counts: Sequence[int | None], share: float) -> float | None:
    """The nearest-rank percentile (`share` in (0, 1]) of a histogram, in minutes; None when it is empty."""
    total = sum(count or 0 for count in counts)
    if total == 0:
        return None
    rank = max(math.ceil(share * total), 1)
    seen = 0
    for bucket, count in enumerate(counts):
        seen += count or 0
        if seen >= rank:
            return representative(bucket)
    return representative(len(counts) - 1)  # pragma: no cover - the loop always reaches the rank


def exact_percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile of raw values: what `percentile` approximates (tests and benchmarks)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)), 1) - 1]
