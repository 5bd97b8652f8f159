"""Calibration by importance weights: a conjugate case, the low-ESS message, path reconciliation."""
import math
import textwrap

import numpy as np
import pytest
from scipy import stats

import simulate
from simulate.engine.histogram import QUANTILES

N = 400_000
BIN = 2 ** -8  # relative width of a histogram bin


def write(tmp_path, body, name="model.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


PRIOR = """
[period]
start = 2023-01-01
end = 2023-01-01
[parameters.x_kwh]
dist = "lognormal"
median = 100
gsd = 2
unit = "kWh"
source = "test"
[derived]
energy_kwh = "x_kwh"
[outputs]
energy_kwh = "sum"
"""

OBSERVED = PRIOR + """
[[observations]]
quantity = "energy_kwh"
likelihood = "lognormal"
value = 150
sigma = 0.3
source = "test"
"""


def test_conjugate_lognormal_matches_the_analytic_posterior(tmp_path):
    ds = simulate.load(write(tmp_path, OBSERVED)).calibrate(samples=N, seed=1)
    s0, s1 = math.log(2), 0.3
    var = 1 / (1 / s0 ** 2 + 1 / s1 ** 2)
    mu = var * (math.log(100) / s0 ** 2 + math.log(150) / s1 ** 2)
    truth = stats.lognorm(math.sqrt(var), scale=math.exp(mu)).ppf(QUANTILES)
    got = ds["energy_kwh_monthly"].sel(stage="posterior").values.ravel()
    ess = ds.attrs["ess"]
    # standard error of a quantile's log: sqrt(q(1-q)/ESS) / density of the standard normal at z_q x sigma
    z = stats.norm.ppf(QUANTILES)
    se_log = np.sqrt(np.array(QUANTILES) * (1 - np.array(QUANTILES)) / ess) / stats.norm.pdf(z) * math.sqrt(var)
    assert np.all(np.abs(np.log(got / truth)) < 4 * se_log + BIN)
    prior = ds["energy_kwh_monthly"].sel(stage="prior", quantile=0.5).item()
    assert prior == pytest.approx(100, rel=0.01)
    assert 0 < ds.attrs["ess_fraction"] < 1
    assert ds["energy_kwh_monthly_mean"].sel(stage="posterior").item() == pytest.approx(
        math.exp(mu + var / 2), rel=0.01)


def test_observation_far_outside_the_prior_says_so(tmp_path):
    model = simulate.load(write(tmp_path, PRIOR))
    far = dict(quantity="energy_kwh", likelihood="lognormal", value=1e6, sigma=0.01, source="far away")
    with pytest.warns(RuntimeWarning, match=r"effective sample size is .* too low .* far outside the prior"):
        ds = model.calibrate(samples=50_000, seed=1, observations=[far])
    assert np.isnan(ds["energy_kwh_monthly"].sel(stage="posterior").values).all()
    assert "low_ess" in ds.attrs and ds.attrs["ess"] < 10


def test_bad_observations_get_clear_errors(tmp_path):
    model = simulate.load(write(tmp_path, PRIOR))
    with pytest.raises(simulate.ModelError, match=r"quantity = 'gpus'.*not an output"):
        model.calibrate(samples=1000, observations=[dict(quantity="gpus", value=1, sd=1, source="s")])
    with pytest.raises(simulate.ModelError, match=r"source.*missing"):
        model.calibrate(samples=1000, observations=[dict(quantity="energy_kwh", value=1, sd=1)])
    with pytest.raises(simulate.ModelError, match=r"month = '2024-05'.*not a month of the period"):
        model.calibrate(samples=1000, observations=[dict(quantity="energy_kwh", value=1, sd=1, month="2024-05",
                                                         source="s")])
    with pytest.raises(simulate.ModelError, match="nothing to calibrate"):
        model.calibrate(samples=1000)


TWO_PATHS = """
[period]
start = 2023-01-01
end = 2023-01-01
[parameters.a_kwh]
dist = "lognormal"
median = 100
gsd = 3
unit = "kWh"
source = "test"
[parameters.b_kwh]
dist = "lognormal"
median = 200
gsd = 2
unit = "kWh"
source = "test"
[derived]
energy_kwh = "a_kwh"
fleet_energy_kwh = "b_kwh"
[outputs]
energy_kwh = "sum"
fleet_energy_kwh = "sum"
[reconcile]
paths = ["energy_kwh", "fleet_energy_kwh"]
within_factor = 2
likelihood = "LIKELIHOOD"
source = "test"
"""


def test_reconciling_two_paths_matches_the_normal_algebra(tmp_path):
    ds = simulate.load(write(tmp_path, TWO_PATHS.replace("LIKELIHOOD", "lognormal"))).calibrate(samples=N, seed=3)
    # log ratio ~ N(log(1/2), ln3^2 + ln2^2) a priori; the constraint is N(0, (ln 2 / z95)^2)
    m0, v0 = math.log(0.5), math.log(3) ** 2 + math.log(2) ** 2
    v1 = (math.log(2) / stats.norm.ppf(0.95)) ** 2
    var = 1 / (1 / v0 + 1 / v1)
    mu = var * m0 / v0
    ratio = ds["path_ratio_monthly"]
    prior_truth = np.exp(m0 + math.sqrt(v0) * stats.norm.ppf(QUANTILES))
    post_truth = np.exp(mu + math.sqrt(var) * stats.norm.ppf(QUANTILES))
    assert np.allclose(ratio.sel(stage="prior").values.ravel(), prior_truth, rtol=0.02)
    assert np.allclose(ratio.sel(stage="posterior").values.ravel(), post_truth, rtol=0.02)
    # the reconciled energy band is narrower than either prior band
    width = lambda da: float(da.sel(quantile=0.95) - da.sel(quantile=0.05))
    post = ds["energy_kwh_monthly"].sel(stage="posterior").isel(month=0)
    assert width(post) < width(ds["energy_kwh_monthly"].sel(stage="prior").isel(month=0))


def test_hard_agreement_interval_keeps_the_ratio_inside(tmp_path):
    ds = simulate.load(write(tmp_path, TWO_PATHS.replace("LIKELIHOOD", "interval"))).calibrate(samples=100_000, seed=3)
    post = ds["path_ratio_monthly"].sel(stage="posterior").values.ravel()
    assert post.min() >= 0.5 * (1 - BIN) and post.max() <= 2.0 * (1 + BIN)
    prior = ds["path_ratio_monthly"].sel(stage="prior").values.ravel()
    assert prior.min() < 0.5  # the prior does reach outside, so the constraint did something


def test_plots_show_both_stages_and_the_agreement_region(tmp_path):
    from simulate.plots.calibration import plot_path_agreement, plot_prior_posterior

    ds = simulate.load(write(tmp_path, TWO_PATHS.replace("LIKELIHOOD", "lognormal"))).calibrate(
        samples=20_000, seed=3, keep=2000)
    fig, ax = plot_prior_posterior(ds, "energy_kwh")   # one month: an interval row per stage
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows == ["energy kwh: prior", "energy kwh: posterior"]
    assert {"90% interval", "50% interval", "median"} <= set(ax.get_legend_handles_labels()[1])
    assert "kWh" in ax.get_xlabel()
    fig.savefig(tmp_path / "bands.png")
    fig, ax = plot_path_agreement(ds, within_factor=2)
    assert "agree within a factor 2" in ax.get_legend_handles_labels()[1]
    assert ax.get_xscale() == "log" and ax.get_xlabel().startswith("fleet energy kwh")   # the long name
    assert len(ds["weight"]) == 2000 and ds["weight"].mean() > 0
    fig.savefig(tmp_path / "paths.png")
    assert (tmp_path / "paths.png").stat().st_size > 10_000


def test_conjugate_normal_through_zero(tmp_path):
    body = """
    [period]
    start = 2023-01-01
    end = 2023-01-01
    [parameters.x]
    dist = "normal"
    mean = 0
    sd = 1
    unit = "1"
    source = "test"
    [derived]
    y = { expr = "x", unit = "1" }
    [outputs]
    y = "sum"
    [[observations]]
    quantity = "y"
    likelihood = "normal"
    value = 1
    sd = 1
    source = "test"
    """
    ds = simulate.load(write(tmp_path, body)).calibrate(samples=200_000, seed=2)
    truth = stats.norm(0.5, math.sqrt(0.5)).ppf(QUANTILES)   # N(0,1) prior x N(y; x, 1) likelihood
    got = ds["y_monthly"].sel(stage="posterior").values.ravel()
    se = np.sqrt(np.array(QUANTILES) * (1 - np.array(QUANTILES)) / ds.attrs["ess"]) / stats.norm.pdf(
        stats.norm.ppf(QUANTILES)) * math.sqrt(0.5)
    assert np.all(np.abs(got - truth) < 4 * se + BIN * np.abs(truth) + 1e-3)
    assert (got[0] < 0) and (got[-1] > 0)
