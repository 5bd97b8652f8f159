"""Convergence history: each row equals a fixed run of that many samples; and its plot."""
import numpy as np
import pytest

import simulate
from simulate.analysis.convergence import history
from simulate.engine import runner
from simulate.plots.convergence import plot_convergence
from tests.helpers import CHATGPT


@pytest.fixture(scope="module")
def chatgpt():
    return simulate.load(CHATGPT)


def test_convergence_history_and_plot(chatgpt):
    h = history(chatgpt, "energy_kwh", seed=3, max_samples=4 * runner.BLOCK_SIZE)
    assert list(h["samples"].values) == [runner.BLOCK_SIZE, 2 * runner.BLOCK_SIZE, 4 * runner.BLOCK_SIZE]
    # each row is what a fixed run of that many samples reports
    fixed = chatgpt.run(samples=2 * runner.BLOCK_SIZE, seed=3)
    np.testing.assert_array_equal(h["estimate"].sel(samples=2 * runner.BLOCK_SIZE).values,
                                  fixed["energy_kwh_monthly"].values[:, 0])
    np.testing.assert_array_equal(h["ci_low"].sel(samples=2 * runner.BLOCK_SIZE).values,
                                  fixed["energy_kwh_monthly_ci_low"].values[:, 0])
    width = (h["ci_high"] - h["ci_low"]).sel(quantile=0.5).values
    assert width[-1] < width[0]
    fig, ax = plot_convergence(h)
    assert ax.get_xscale() == "log" and len(ax.collections) == 1 and len(ax.lines) == 1
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), h["estimate"].sel(quantile=0.5).values)
    with pytest.raises(simulate.ModelError, match="output"):
        history(chatgpt, "nope")
