"""The kernel's quantile tables (beta, PERT, gamma): scipy's inverses bit for bit, remembered in the
user cache folder so that a warm start does not import scipy.special (issue 17)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from simulate import user_cache
from simulate.engine import encoding
from simulate.engine.encoding import QTABLE_KNOTS, QTABLE_Z, TABLE_MEMO, beta_quantile_table, gamma_quantile_table

GRID = np.linspace(-QTABLE_Z, QTABLE_Z, QTABLE_KNOTS)


@pytest.fixture
def fresh_memo(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMULATE_CACHE_DIR", str(tmp_path / "cache"))
    encoding._cached_table.cache_clear()        # the in-process layer: every call below reads the folder
    yield tmp_path / "cache" / TABLE_MEMO
    encoding._cached_table.cache_clear()


def scipy_beta(a, b, loc, scale):
    law = stats.beta(a, b, loc=loc, scale=scale)
    lower = GRID <= 0
    return np.concatenate([law.ppf(stats.norm.cdf(GRID[lower])), law.isf(stats.norm.sf(GRID[~lower]))])


@pytest.mark.parametrize("a, b, loc, scale", [(2.0, 5.0, 0.0, 1.0), (1.3, 0.7, 3.0, 40.0), (30.0, 30.0, -1.0, 2.0)])
def test_a_remembered_table_is_scipys_bit_for_bit(fresh_memo, a, b, loc, scale):
    fresh = beta_quantile_table(a, b, loc, scale)
    assert len(list(fresh_memo.iterdir())) == 1
    encoding._cached_table.cache_clear()
    remembered = beta_quantile_table(a, b, loc, scale)
    assert remembered.tobytes() == fresh.tobytes() == scipy_beta(a, b, loc, scale).tobytes()


def test_the_memo_is_read_and_a_damaged_one_is_tabulated_again(fresh_memo, monkeypatch):
    table = gamma_quantile_table(0.4)
    (memo,) = fresh_memo.iterdir()
    lower = GRID <= 0
    assert table.tobytes() == np.concatenate([stats.gamma(0.4).ppf(stats.norm.cdf(GRID[lower])),
                                              stats.gamma(0.4).isf(stats.norm.sf(GRID[~lower]))]).tobytes()
    memo.write_bytes(np.full(QTABLE_KNOTS, 7.0).tobytes())          # a memo of the right size is believed...
    encoding._cached_table.cache_clear()
    assert np.all(gamma_quantile_table(0.4) == 7.0)
    memo.write_bytes(b"\0" * 100)                                    # ...a truncated one is not
    encoding._cached_table.cache_clear()
    assert gamma_quantile_table(0.4).tobytes() == table.tobytes()


def test_another_law_scipy_or_grid_is_another_memo(fresh_memo, monkeypatch):
    beta_quantile_table(2.0, 5.0)
    beta_quantile_table(2.0, 5.0, 0.0, 2.0)
    gamma_quantile_table(2.0)
    assert len(list(fresh_memo.iterdir())) == 3
    encoding._cached_table.cache_clear()
    monkeypatch.setattr(user_cache, "version_of", lambda name: "0.0-another")
    beta_quantile_table(2.0, 5.0)
    assert len(list(fresh_memo.iterdir())) == 4
