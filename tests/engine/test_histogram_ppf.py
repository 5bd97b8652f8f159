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


def test_remembered_ranks_are_the_binomial_ones_and_a_damaged_memo_is_computed_again(tmp_path, monkeypatch):
    """The ranks are remembered in the user cache folder (a warm run does not import scipy.special)."""
    from simulate.engine import histogram

    monkeypatch.setenv("SIMULATE_CACHE_DIR", str(tmp_path))
    quantiles, tail = [0.025, 0.5, 0.975], (1 - CI_LEVEL) / 2
    expected = (np.clip(stats.binom.ppf(tail, 12_345, quantiles) - 1, 0, 12_344),
                np.clip(stats.binom.ppf(1 - tail, 12_345, quantiles), 0, 12_344))
    for damage in (None, b"\0" * 5):
        histogram._ranks.cache_clear()
        order_statistic_ranks(12_345, quantiles)                 # computed (or found) and remembered
        (memo,) = (tmp_path / histogram.RANKS_MEMO).iterdir()
        if damage:
            memo.write_bytes(damage)
        histogram._ranks.cache_clear()
        low, high = order_statistic_ranks(12_345, quantiles)     # read from the folder (or computed again)
        np.testing.assert_array_equal(low, expected[0])
        np.testing.assert_array_equal(high, expected[1])
        assert low.dtype == high.dtype == np.int64
    histogram._ranks.cache_clear()
