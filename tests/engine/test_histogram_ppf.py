"""The order-statistic ranks use scipy.stats.binom.ppf's own ufunc (no scipy.stats import at run time)."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from simulate.engine.histogram import CI_LEVEL, binomial_ppf, order_statistic_ranks


@settings(max_examples=400, deadline=None)
@given(n=st.integers(1, 2**40), p=st.floats(0.0, 1.0), q=st.floats(1e-9, 1 - 1e-9))
def test_binomial_ppf_is_scipy_stats_binom_ppf(n, p, q):
    assert binomial_ppf(q, n, p) == stats.binom.ppf(q, n, p)


def test_ranks_are_the_binomial_order_statistics_of_david_and_nagaraja():
    quantiles = [0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975]
    tail = (1 - CI_LEVEL) / 2
    for n in (1, 2, 7, 100, 131_072, 10**7):
        low, high = order_statistic_ranks(n, quantiles)
        np.testing.assert_array_equal(low, np.clip(stats.binom.ppf(tail, n, quantiles) - 1, 0, n - 1))
        np.testing.assert_array_equal(high, np.clip(stats.binom.ppf(1 - tail, n, quantiles), 0, n - 1))
