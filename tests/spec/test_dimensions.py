"""Dimensions in the model format: closed forms, the hand-written fleet reproduced, bad input."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import simulate
from tests.helpers import PRIORS, ROOT, load_text

N = 40_000
BIN = 2 ** (1 / 256) - 1     # one histogram bin, relative

LOGNORMAL_SUM = """
[dimensions]
k = ["a", "b", "c"]
[period]
start = 2023-01-01
end = 2023-01-01
[parameters.x_kwh]
dims = ["k"]
dist = "lognormal"
mu = [0.0, 1.0, 2.0]
sigma = { a = 0.5, b = 0.3, c = 0.1 }
unit = "kWh"
source = "closed-form test"
[derived]
energy_kwh = 'sum(x_kwh, "k")'
[outputs]
energy_kwh = "sum"
"""


def test_a_sum_over_a_dimension_of_independent_lognormals_has_their_moments(tmp_path):
    model = load_text(tmp_path, LOGNORMAL_SUM)
    mu, sigma = np.array([0.0, 1.0, 2.0]), np.array([0.5, 0.3, 0.1])
    mean = np.sum(np.exp(mu + sigma ** 2 / 2))
    var = np.sum((np.exp(sigma ** 2) - 1) * np.exp(2 * mu + sigma ** 2))
    ds = model.run(samples=N, seed=1, keep=N)
    assert abs(float(ds["energy_kwh_monthly_mean"][0]) - mean) < 4 * np.sqrt(var / N)
    # the kernel adds the three coordinates' own draws, no more, no less
    draws = ds["inputs"].values
    assert list(ds["input"].values) == ["x_kwh[a]", "x_kwh[b]", "x_kwh[c]"]
    np.testing.assert_allclose(ds["energy_kwh_monthly_samples"].values[:, 0], draws.sum(axis=1), rtol=1e-15)
    for j in range(3):   # each coordinate follows its own law
        law = stats.lognorm(sigma[j], scale=np.exp(mu[j]))
        assert stats.kstest(draws[:, j], law.cdf).statistic < 1.95 / np.sqrt(N)


QUERY_MIX = """
[dimensions]
query_type = ["chat", "long_context", "reasoning", "image"]
[period]
start = 2023-01-01
end = 2023-01-01
[parameters.query_mix]
dist = "dirichlet"
dims = ["query_type"]
shares = [0.6, 0.2, 0.15, 0.05]
concentration = 30
source = "test mix"
[parameters.energy_wh_per_query]
dims = ["query_type"]
dist = "fixed"
value = [0.3, 2.5, 10.0, 3.0]
unit = "Wh/query"
source = "test energies"
[derived]
mean_wh_per_query = { expr = 'sum(query_mix * energy_wh_per_query, "query_type")', unit = "Wh/query" }
[outputs]
mean_wh_per_query = "mean"
query_mix = { aggregate = "mean", unit = "1" }
"""


def test_dirichlet_shares_over_a_dimension_follow_scipy_dirichlet_marginals(tmp_path):
    model = load_text(tmp_path, QUERY_MIX)
    ds = model.run(samples=N, seed=2, keep=N)
    alpha = 30 * np.array([0.6, 0.2, 0.15, 0.05])
    draws = ds["inputs"].sel(input=[f"query_mix[{q}]" for q in ("chat", "long_context", "reasoning", "image")]).values
    np.testing.assert_allclose(draws.sum(axis=1), 1.0, rtol=1e-12)
    means = stats.dirichlet(alpha).mean()
    for j, a in enumerate(alpha):      # Dirichlet marginals are Beta(alpha_j, alpha_0 - alpha_j)
        assert stats.kstest(draws[:, j], stats.beta(a, alpha.sum() - a).cdf).statistic < 1.95 / np.sqrt(N)
        assert abs(draws[:, j].mean() - means[j]) < 4 * np.sqrt(stats.dirichlet(alpha).var()[j] / N)
    # the share-weighted sum is the arithmetic on the same draws, and each share is its own output
    np.testing.assert_allclose(ds["mean_wh_per_query_monthly_samples"].values[:, 0],
                               draws @ np.array([0.3, 2.5, 10.0, 3.0]), rtol=1e-12)
    assert ds["query_mix_by_query_type_monthly"].sizes == {"quantile": 7, "month": 1, "query_type": 4}
    assert list(ds["query_type"].values) == ["chat", "long_context", "reasoning", "image"]
    assert "query_mix_monthly" not in ds      # a mean over coordinates has no total unless asked


AR1 = """
[dimensions]
cohort = [2024, 2025, 2026, 2027, 2028]
[period]
start = 2024-01-01
end = 2024-01-01
[parameters.shipped]
dims = ["cohort"]
dist = "lognormal"
p5 = 1
p95 = 10
unit = "1"
source = "test"
[[correlations]]
parameter = "shipped"
pattern = "ar1"
rank = 0.7
source = "test pattern"
[derived]
total = { expr = 'sum(shipped, "cohort")', unit = "1" }
[outputs]
total = "sum"
"""


def test_a_correlation_pattern_gives_its_spearman_matrix_within_monte_carlo_error(tmp_path):
    model = load_text(tmp_path, AR1)
    assert len(model.correlations) == 10        # every pair of the five years
    draws = model.run(samples=N, seed=3, keep=N)["inputs"].values
    rho = stats.spearmanr(draws).statistic
    k = np.arange(5)
    declared = 0.7 ** np.abs(k[:, None] - k[None, :])
    # Fisher z of a Spearman correlation has sd about 1.03 / sqrt(n - 3) (Fieller et al. 1957)
    z_error = np.abs(np.arctanh(np.clip(rho, -0.999999, 0.999999)) - np.arctanh(np.clip(declared, -0.999999, 0.999999)))
    off = ~np.eye(5, dtype=bool)
    assert np.all(z_error[off] < 4 * 1.03 / np.sqrt(N - 3)), rho


def test_yearly_and_whole_period_totals_are_the_sums_of_each_samples_months():
    model = simulate.load(PRIORS / "ai-fleet-2023-2028.toml")
    n = 8192
    ds = model.run(samples=n, seed=4, keep=n)
    monthly = ds["energy_kwh_monthly_samples"].values
    years = ds["month"].dt.year.values
    for y, year in enumerate(sorted(set(years))):
        per_sample = monthly[:, years == year].sum(axis=1)
        np.testing.assert_allclose(float(ds["energy_kwh_yearly_mean"][y]), per_sample.mean(), rtol=1e-9)
        exact = np.quantile(per_sample, ds["quantile"].values)
        np.testing.assert_allclose(ds["energy_kwh_yearly"].values[:, y], exact, rtol=2 * BIN)
    total = monthly.sum(axis=1)
    np.testing.assert_allclose(ds["energy_kwh_total"].values, np.quantile(total, ds["quantile"].values), rtol=2 * BIN)
    # a monthly mean's yearly value is the day-weighted mean of its months
    days = ds["month"].dt.days_in_month.values
    level = ds["installed_accelerators_monthly_samples"].values
    first = years == years[0]
    np.testing.assert_allclose(float(ds["installed_accelerators_yearly_mean"][0]),
                               (level[:, first] @ days[first] / days[first].sum()).mean(), rtol=1e-9)


def test_the_dimensioned_fleet_draws_exactly_what_the_hand_written_one_draws():
    """Same streams (parameters in the same order) and the same arithmetic: the same numbers. Both files
    are the fleet model as it was before accelerator classes (kept in tests/data, not the shipped model)."""
    written = simulate.load(ROOT / "tests" / "data" / "ai-fleet-handwritten.toml")
    dimensioned = simulate.load(ROOT / "tests" / "data" / "ai-fleet-dimensioned.toml")
    a = written.run(samples=6000, seed=5, keep=6000)
    b = dimensioned.run(samples=6000, seed=5, keep=6000)
    # the written-out ranks (0.49, 0.343, ...) and the pattern's powers of 0.7 differ in their last
    # bits, and so do the copula's Cholesky factors: correlated draws agree to rounding, the rest exactly
    same = dict(rtol=1e-13, atol=0)
    np.testing.assert_allclose(a["inputs"].values, b["inputs"].values, **same)
    uncorrelated = [i for i, name in enumerate(a["input"].values) if not str(name).startswith("shipped")]
    np.testing.assert_array_equal(a["inputs"].values[:, uncorrelated], b["inputs"].values[:, uncorrelated])
    for name in written.outputs:
        np.testing.assert_allclose(a[f"{name}_monthly"].values, b[f"{name}_monthly"].values, err_msg=name, **same)
        np.testing.assert_allclose(a[f"{name}_yearly"].values, b[f"{name}_yearly"].values, err_msg=name, **same)
    for scenario in written.scenarios:
        x = written.with_scenario(scenario).run(samples=200, seed=1)
        y = dimensioned.with_scenario(scenario).run(samples=200, seed=1)
        np.testing.assert_array_equal(x["energy_kwh_monthly"].values, y["energy_kwh_monthly"].values)


def test_an_output_keeps_its_dimension_and_reports_its_total(tmp_path):
    text = LOGNORMAL_SUM.replace('energy_kwh = \'sum(x_kwh, "k")\'', 'energy_kwh = "x_kwh * 2"')
    model = load_text(tmp_path, text)
    ds = model.run(samples=5000, seed=6, keep=5000)
    by = ds["energy_kwh_by_k_monthly"]
    assert by.dims == ("quantile", "month", "k") and list(ds["k"].values) == ["a", "b", "c"]
    draws = ds["inputs"].values
    for j, label in enumerate("abc"):
        exact = np.quantile(2 * draws[:, j], ds["quantile"].values)
        np.testing.assert_allclose(by.sel(k=label).values[:, 0], exact, rtol=2 * BIN)
    np.testing.assert_allclose(ds["energy_kwh_monthly_samples"].values[:, 0], 2 * draws.sum(axis=1), rtol=1e-12)


def test_a_one_off_total_is_reported_once(tmp_path):
    text = """
[period]
start = 2023-01-01
end = 2023-03-31
[parameters.training_energy_gwh]
dist = "uniform"
min = 1
max = 2
unit = "GWh"
source = "test"
[derived]
training_energy_kwh = "training_energy_gwh * 1e6"
[outputs]
training_energy_kwh = "once"
"""
    ds = load_text(tmp_path, text).run(samples=20_000, seed=7)
    assert "training_energy_kwh_daily" not in ds and "training_energy_kwh_monthly" not in ds
    q = ds["training_energy_kwh_total"].values
    np.testing.assert_allclose(q, stats.uniform(1e6, 1e6).ppf(ds["quantile"].values), rtol=0.02)
    assert ds["training_energy_kwh_total"].attrs["long_name"].endswith("one-off total")


@pytest.mark.parametrize("change, fragments", [
    (("dims = [\"k\"]", "dims = [\"nope\"]"), ["parameters.x_kwh.dims = 'nope'", "is not a dimension of this model"]),
    (("mu = [0.0, 1.0, 2.0]", "mu = [0.0, 1.0]"), ["parameters.x_kwh.mu", "gives 2 values for the 3 coordinates of k"]),
    (("sum(x_kwh, \"k\")", "sum(x_kwh, \"j\")"), ["derived.energy_kwh", "over an unknown dimension 'j'"]),
    (("energy_kwh = 'sum(x_kwh, \"k\")'", "y = 'sum(x_kwh, \"k\")'\nenergy_kwh = 'sum(y, \"k\")'"),
     ["derived.energy_kwh", "over k, which y does not have"]),
    (("sigma = { a = 0.5, b = 0.3, c = 0.1 }", "sigma = { a = 0.5, b = 0.3 }"),
     ["parameters.x_kwh.sigma", "has no value for some coordinates of k"]),
    (("energy_kwh = 'sum(x_kwh, \"k\")'", "energy_kwh = 'x_kwh[\"z\"]'"), ["derived.energy_kwh", "'z' is not a coordinate"]),
    (("energy_kwh = \"sum\"", "energy_kwh = { aggregate = \"sum\", by = [\"k\"] }"),
     ["outputs.energy_kwh.by", "keeps all of them (by) or none"]),
])
def test_bad_dimensions_get_one_clear_error(tmp_path, change, fragments):
    text = LOGNORMAL_SUM.replace(*change)
    assert text != LOGNORMAL_SUM
    with pytest.raises(simulate.ModelError) as info:
        load_text(tmp_path, text)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


@pytest.mark.parametrize("change, fragments", [
    (("shares = [0.6, 0.2, 0.15, 0.05]", "shares = [0.6, 0.2, 0.15, 0.15]"), ["the shares must sum to 1"]),
    (("shares = [0.6, 0.2, 0.15, 0.05]", "shares = [0.6, 0.2, 0.2]"), ["gives 3 values for the 4 coordinates"]),
])
def test_bad_shares_get_one_clear_error(tmp_path, change, fragments):
    with pytest.raises(simulate.ModelError) as info:
        load_text(tmp_path, QUERY_MIX.replace(*change))
    for fragment in fragments:
        assert fragment in str(info.value)


def test_a_parameter_over_a_dimension_is_one_sensitivity_group_unless_asked(tmp_path):
    model = load_text(tmp_path, LOGNORMAL_SUM)
    together = model.sensitivity("energy_kwh", "sobol", samples=512, seed=1)
    assert list(together["parameter"].values) == ["x_kwh[*]"]
    assert float(together["total_order"][0]) == pytest.approx(1.0, abs=0.05)
    each = model.sensitivity("energy_kwh", "sobol", samples=1024, seed=1, by_coordinate=True)
    assert set(each["parameter"].values) == {"x_kwh[a]", "x_kwh[b]", "x_kwh[c]"}
    # independent inputs of an additive model: first-order index = the coordinate's variance share
    mu, sigma = np.array([0.0, 1.0, 2.0]), np.array([0.5, 0.3, 0.1])
    var = (np.exp(sigma ** 2) - 1) * np.exp(2 * mu + sigma ** 2)
    for j, label in enumerate("abc"):
        row = each.sel(parameter=f"x_kwh[{label}]")
        assert float(row["first_order_low"]) <= var[j] / var.sum() <= float(row["first_order_high"])
