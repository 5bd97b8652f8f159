"""Corners of a range product pushed the way that raises (or lowers) the output, found on the model;
where the top corner of a product of lognormals lands (z = 1.645 x sum(sigma) / sqrt(sum(sigma^2)));
and a published figure on the IT boundary compared with the IT output in the report."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import simulate
from simulate.plots.labels import percentile_of
from simulate.report import compute, references, render, sections
from tests.helpers import PRIORS, load_text

RATIO = """
[period]
start = 2024-01-01
end = 2024-01-01
[parameters.a_kwh]
dist = "lognormal"
p5 = 10
p95 = 40
unit = "kWh"
source = "test"
[parameters.b]
dist = "uniform"
min = 2
max = 5
unit = "1"
source = "test"
[parameters.lag_years]
dist = "pert"
min = 0
mode = 0.5
max = 1
unit = "years"
source = "test"
[derived]
y_kwh = "a_kwh / b * exp(-lag_years)"
[outputs]
y_kwh = "sum"
"""


def test_the_top_corner_of_a_ratio_takes_its_denominator_at_p5(tmp_path):
    model = load_text(tmp_path, RATIO)
    p = {q.name: q.dist for q in model.all_parameters()}
    at = {name: {u: float(d.ppf(np.array([u]))[0]) for u in (0.05, 0.95)} for name, d in p.items()}
    top = compute.corner_model(model, "y_kwh", top=True)
    fixed = {q.name: q.dist.params["value"] for q in top.all_parameters()}
    assert fixed["b"] == at["b"][0.05] and fixed["lag_years"] == at["lag_years"][0.05]   # denominators, lags: p5
    assert fixed["a_kwh"] == at["a_kwh"][0.95]
    bottom = {q.name: q.dist.params["value"] for q in compute.corner_model(model, "y_kwh", top=False).all_parameters()}
    assert bottom["b"] == at["b"][0.95] and bottom["a_kwh"] == at["a_kwh"][0.05]
    low, high = compute.Corners(model).values("y_kwh", [0])
    assert high[0] == pytest.approx(at["a_kwh"][0.95] / at["b"][0.05] * np.exp(-at["lag_years"][0.05]), rel=1e-12)
    assert low[0] == pytest.approx(at["a_kwh"][0.05] / at["b"][0.95] * np.exp(-at["lag_years"][0.95]), rel=1e-12)
    ds = top.run(samples=200, seed=0)
    assert float(ds["y_kwh_monthly"].sel(quantile=0.5)[0]) == pytest.approx(high[0], rel=1e-9)


PRODUCT = """
[period]
start = 2024-01-01
end = 2024-01-01
[parameters.x1_kwh]
dist = "lognormal"
mu = 0
sigma = 1.0
unit = "kWh"
source = "test"
[parameters.x2]
dist = "lognormal"
mu = 0
sigma = 0.3
unit = "1"
source = "test"
[parameters.x3]
dist = "lognormal"
mu = 0
sigma = 0.1
unit = "1"
source = "test"
[parameters.x4]
dist = "lognormal"
mu = 0
sigma = 0.5
unit = "1"
source = "test"
[derived]
y_kwh = "x1_kwh * x2 / x3 * x4"
[outputs]
y_kwh = "sum"
"""


def test_the_top_corner_of_a_lognormal_product_sits_where_the_general_formula_says(tmp_path):
    """Unequal spreads: z = 1.645 x sum(sigma) / sqrt(sum(sigma^2)), not 1.645 x sqrt(k)."""
    model = load_text(tmp_path, PRODUCT)
    sigma = np.array([1.0, 0.3, 0.1, 0.5])
    z = 1.645 * sigma.sum() / np.sqrt((sigma ** 2).sum())
    assert abs(z - 1.645 * np.sqrt(4)) > 0.5        # the sqrt(k) rule would be far off here
    n = 400_000
    draws = model.run(samples=n, seed=5, keep=n)["y_kwh_monthly_samples"].values[:, 0]
    low, high = compute.Corners(model).values("y_kwh", [0])
    exact = 100 * stats.norm.cdf(z)
    tolerance = 100 * 4 * np.sqrt(stats.norm.cdf(z) * stats.norm.sf(z) / n)
    assert percentile_of(draws, high[0]) == pytest.approx(exact, abs=tolerance)
    assert percentile_of(draws, low[0]) == pytest.approx(100 - exact, abs=tolerance)
    # x3 is a denominator: the top corner takes it at its p5 (z = -1.645 for its log)
    assert high[0] == pytest.approx(np.exp(stats.norm.ppf(0.95) * sigma.sum()), rel=1e-9)


@pytest.mark.slow
def test_the_training_top_corner_of_chatgpt_2025_lies_above_its_p95():
    """Its amortisation period is a denominator: pushed to its p5, the top corner is above the 95th
    percentile (set at every p95 regardless of sign it sat at P85.7)."""
    model = simulate.load(PRIORS / "chatgpt-2025.toml")
    ds = model.run(samples=100_000, seed=1, keep=100_000)
    draws = ds["training_energy_kwh_monthly_samples"].values[:, 0]
    low, high = compute.Corners(model).values("training_energy_kwh", [0])
    assert high[0] > np.quantile(draws, 0.95) and low[0] < np.quantile(draws, 0.05)
    assert percentile_of(draws, high[0]) > 97
    p = {q.name: q.dist for q in model.all_parameters()}
    expected = p["training_energy_gwh"].ppf(np.array([0.95]))[0] * 1e6 / (p["deployment_years"].ppf(np.array([0.05]))[0]
                                                                         * 365.25) * 30
    assert high[0] == pytest.approx(expected, rel=1e-9)


def test_the_corner_section_explains_the_general_formula(tmp_path):
    model = load_text(tmp_path, PRODUCT)
    ds = model.run(samples=2000, seed=1, keep=2000)
    rep = compute.Report(model, ds, "y_kwh", ["y_kwh"], [], [{
        "output": "y_kwh", "month": "2024-01", "unit": "kWh", "corner_low": 0.01, "corner_high": 100.0,
        "p5": 0.1, "p95": 10.0, "corner_low_percentile": 0.1, "corner_high_percentile": 99.9}], {})
    text = render.to_markdown(sections._corner_blocks(rep))
    assert "z = 1.645 x sum(sigma_i) / sqrt(sum(sigma_i^2))" in text
    assert "1.645 x sqrt(k) only when the spreads are equal" in text
    assert "bottom corner" in text and "top corner" in text


BOUNDARIES = """
[period]
start = 2024-01-01
end = 2024-01-31
[parameters.it_kwh]
dist = "lognormal"
p5 = 100
p95 = 400
unit = "kWh"
source = "test"
[parameters.pue]
dist = "uniform"
min = 1.5
max = 2.5
unit = "1"
source = "test"
[derived]
it_energy_kwh = "it_kwh * day_share"
energy_kwh = "it_energy_kwh * pue"
[outputs]
energy_kwh = { aggregate = "sum", boundary = "facility" }
it_energy_kwh = { aggregate = "sum", boundary = "it" }
[[references]]
output = "energy_kwh"
month = "2024-01"
value = 300
unit = "kWh"
per = "month"
boundary = "it"
label = "a figure without overhead"
source = "test"
"""


def test_a_reference_on_the_it_boundary_is_read_in_the_it_draws(tmp_path):
    model = load_text(tmp_path, BOUNDARIES)
    ds = model.run(samples=5000, seed=2, keep=5000)
    rep = compute.Report(model, ds, "energy_kwh", ["energy_kwh"], [], [], {})
    (row,) = references.reference_rows(rep)
    it = ds["it_energy_kwh_monthly_samples"].values[:, 0]
    facility = ds["energy_kwh_monthly_samples"].values[:, 0]
    assert row["percentiles"][0] == pytest.approx(100 * np.mean(it <= 300), abs=1e-12)
    assert abs(row["percentiles"][0] - 100 * np.mean(facility <= 300)) > 10       # not the facility draws
    table = render.to_markdown(references.reference_blocks(rep, None))
    assert "IT boundary: like for like" in table
