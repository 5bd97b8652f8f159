"""Running a model: confidence intervals beside the quantiles, rtol-driven stages, progress, bounded state."""
import numpy as np
import pytest

import simulate
from simulate.engine import histogram, runner
from simulate.engine.histogram import order_statistic_ranks
from simulate.engine.runner import stage_samples
from tests.helpers import CHATGPT

PRIORS = str(CHATGPT)
VOLATILE = ("created", "history", "elapsed_s")

# One lognormal quantity doubled: every quantile of the output is known exactly.
LOGNORMAL_TOML = """
[model]
name = "lognormal-check"
title = "One lognormal quantity"

[period]
start = 2023-01-01
end = 2023-01-02

[parameters.load_kwh]
dist = "lognormal"
median = 100
gsd = 2
unit = "kWh"
source = "closed-form test case"

[derived]
energy_kwh = "load_kwh * 2"

[outputs]
energy_kwh = "mean"
"""


@pytest.fixture(scope="module")
def lognormal(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "lognormal.toml"
    path.write_text(LOGNORMAL_TOML)
    return simulate.load(path)


@pytest.fixture(scope="module")
def chatgpt():
    return simulate.load(PRIORS)


def strip(ds, extra=()):
    ds = ds.copy()
    for key in VOLATILE + tuple(extra):
        ds.attrs.pop(key, None)
    return ds


def true_quantiles(model, quantiles):
    return 2.0 * model.parameters["load_kwh"].dist.to_scipy().ppf(quantiles)


def test_order_statistic_ranks_match_binomial_coverage():
    n, p, level = 1000, 0.05, 0.9
    lo, hi = order_statistic_ranks(n, [p], level)
    from scipy import stats
    # [X(lo+1), X(hi+1)] covers the p-quantile when lo+1 <= B <= hi, B ~ Binomial(n, p)
    coverage = stats.binom.cdf(hi[0], n, p) - stats.binom.cdf(lo[0], n, p)
    assert coverage >= level
    # and is the narrowest such pair up to one rank on each side
    assert stats.binom.cdf(hi[0] - 1, n, p) - stats.binom.cdf(lo[0] + 1, n, p) < level


def test_dataset_has_interval_beside_each_quantile(chatgpt):
    ds = chatgpt.run(samples=70_000, seed=5)
    q = ds["energy_kwh_monthly"]
    low, high = ds["energy_kwh_monthly_ci_low"], ds["energy_kwh_monthly_ci_high"]
    assert low.dims == q.dims and high.dims == q.dims
    assert (low <= q).all() and (q <= high).all() and (low < high).all()
    assert low.attrs["units"] == q.attrs["units"] and ds.attrs["ci_level"] == 0.95
    assert ds["co2_kg_daily_ci_high"].shape == ds["co2_kg_daily"].shape
    # the reported worst error is the largest half-width / estimate over 5/50/95% quantiles
    errs = []
    for name in [v[:-len("_monthly")] for v in ds.data_vars if v.endswith("_monthly")]:   # totals and by-region
        for scale in ("daily", "monthly"):
            sel = dict(quantile=[0.05, 0.5, 0.95])
            est = ds[f"{name}_{scale}"].sel(sel)
            half = (ds[f"{name}_{scale}_ci_high"].sel(sel) - ds[f"{name}_{scale}_ci_low"].sel(sel)) / 2
            errs.append(float((half / abs(est)).max()))
    assert ds.attrs["max_relative_error"] == pytest.approx(max(errs), rel=1e-12)


@pytest.mark.parametrize("level, at_least", [(0.90, 85), (0.95, 90)])
def test_intervals_cover_the_exact_quantile(lognormal, monkeypatch, level, at_least):
    """Over 100 seeds at 2,000 samples, the order-statistic intervals cover the true quantiles at about the stated rate."""
    monkeypatch.setattr(histogram, "CI_LEVEL", level)
    quantiles = [0.05, 0.5, 0.95]
    truth = true_quantiles(lognormal, quantiles)
    hits = np.zeros(3, dtype=int)
    for seed in range(100):
        ds = lognormal.run(samples=2000, seed=seed)
        low = ds["energy_kwh_monthly_ci_low"].sel(quantile=quantiles).values[:, 0]
        high = ds["energy_kwh_monthly_ci_high"].sel(quantile=quantiles).values[:, 0]
        hits += (low <= truth) & (truth <= high)
    assert (hits >= at_least).all(), hits
    assert (hits <= 100).all() and hits.min() < 100  # an interval that always covers would be too wide


def test_stage_plan_doubles_whole_blocks():
    b = runner.BLOCK_SIZE
    assert stage_samples(1000, None, None) == [1000]
    assert stage_samples(100_000, 0.01, 10 * b) == [2 * b, 4 * b, 8 * b, 10 * b]
    assert stage_samples(100_000, 0.01, 1000) == [1000]


def test_rtol_run_reports_error_below_rtol_and_equals_fixed_run(chatgpt):
    rtol = 0.02  # the per-region CO2 outputs have wide lower tails (a region's share can be near 0)
    ds = chatgpt.run(samples=10_000, seed=7, rtol=rtol, max_samples=2_000_000)
    assert ds.attrs["converged"] == 1 and ds.attrs["rtol"] == rtol
    assert ds.attrs["max_relative_error"] < rtol
    n = ds.attrs["samples"]
    assert n > runner.BLOCK_SIZE  # it needed more than the first stage
    fixed = chatgpt.run(samples=n, seed=7)
    assert strip(ds, ("rtol", "max_samples", "converged")).identical(strip(fixed))


def test_reaching_max_samples_is_said(chatgpt):
    with pytest.warns(RuntimeWarning, match="stopped at max_samples=100,000 before reaching rtol=0.001"):
        ds = chatgpt.run(samples=1000, seed=1, rtol=0.001, max_samples=100_000)
    assert ds.attrs["converged"] == 0 and ds.attrs["samples"] == 100_000
    assert ds.attrs["max_relative_error"] > 0.001
    assert strip(ds, ("rtol", "max_samples", "converged")).identical(strip(chatgpt.run(samples=100_000, seed=1)))


def test_bad_rtol_is_a_model_error(chatgpt):
    with pytest.raises(simulate.ModelError, match="rtol"):
        chatgpt.run(samples=1000, rtol=2.0)
    with pytest.raises(simulate.ModelError, match="max_samples"):
        chatgpt.run(samples=1000, rtol=0.1, max_samples=0)


def test_reduction_state_does_not_grow_with_samples(chatgpt, monkeypatch):
    """Histogram size and the per-call block stats are fixed by the model, not the sample count."""
    calls = []
    original = runner.reduce_range

    def spy(program, windows, seed, sizes, first_block, kept=None):
        hist, stats, extremes = original(program, windows, seed, sizes, first_block, kept)
        calls.append((windows.total, hist.shape, stats.shape, extremes.shape))
        return hist, stats, extremes

    monkeypatch.setattr(runner, "reduce_range", spy)
    shapes = {}
    for samples in (70_000, 2_500_000):
        calls.clear()
        chatgpt.run(samples=samples, seed=2)
        shapes[samples] = calls[1:]   # calls[0] is the pilot
    small, large = shapes[70_000], shapes[2_500_000]
    assert len(large) > 1
    assert {c[0] for c in small} == {c[0] for c in large}        # same window total
    assert {c[1] for c in small} == {c[1] for c in large}        # same histogram array
    n_out, n_times = len(chatgpt.flat.outputs), 31 + 1 + 1 + 1   # days, the month, its year, the period
    for total, hist, stats, extremes in small + large:
        assert hist == (total,)
        assert stats[0] <= runner.BATCH_BLOCKS and stats[1:] == (n_out, n_times, 3)
        assert extremes[0] <= runner.BATCH_BLOCKS
