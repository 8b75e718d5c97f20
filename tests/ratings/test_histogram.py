"""The histogram's percentiles stay within the error the docs state, against exact computation."""

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from ratings import histogram

durations = st.floats(min_value=0, max_value=histogram.TOP * 0.999, allow_nan=False, allow_infinity=False)


def _within_bound(estimate: float, exact: float) -> bool:
    if exact < 1:
        return abs(estimate - exact) <= 0.5
    return abs(estimate - exact) <= histogram.MAX_RELATIVE_ERROR * exact + 1e-9


@settings(max_examples=300, deadline=None, database=None)
@given(values=st.lists(durations, min_size=1, max_size=200), share=st.sampled_from([0.5, 0.9, 0.1, 1.0]))
def test_percentiles_from_the_histogram_are_within_the_stated_error(values, share):
    counts = [0] * histogram.BUCKETS
    for value in values:
        counts[histogram.bucket_of(value)] += 1
    assert _within_bound(histogram.percentile(counts, share), histogram.exact_percentile(values, share))


@settings(max_examples=300, deadline=None, database=None)
@given(
    first=st.lists(durations, min_size=1, max_size=50),
    second=st.lists(durations, min_size=1, max_size=50),
)
def test_merged_histograms_give_the_percentile_of_the_union(first, second):
    def counts_of(values):
        counts = [0] * histogram.BUCKETS
        for value in values:
            counts[histogram.bucket_of(value)] += 1
        return counts

    merged = [a + b for a, b in zip(counts_of(first), counts_of(second), strict=True)]
    exact = histogram.exact_percentile(first + second, 0.5)
    assert _within_bound(histogram.percentile(merged, 0.5), exact)


def test_zero_is_exact_and_the_overflow_bucket_is_a_lower_bound():
    assert histogram.bucket_of(0) == 0 and histogram.representative(0) == 0
    assert histogram.bucket_of(10**9) == histogram.BUCKETS - 1
    assert histogram.representative(histogram.BUCKETS - 1) == histogram.TOP
    assert histogram.percentile([0] * histogram.BUCKETS, 0.5) is None


def test_bucket_boundaries_follow_the_ratio():
    for minutes in (1, 2, 7.5, 60, 480, 1440, 43_200, 200_000):
        bucket = histogram.bucket_of(minutes)
        lower = histogram.GAMMA ** (bucket - 2)
        assert lower <= minutes * (1 + 1e-12) and minutes < lower * histogram.GAMMA * (1 + 1e-12)
        assert math.isclose(histogram.representative(bucket), minutes, rel_tol=histogram.MAX_RELATIVE_ERROR)
