"""Disclosure value against closed forms: a linear Gaussian model with correlated inputs, a product
of independent factors (scipy as the oracle for the quantiles of the rest), an input read with
no effect, the only random input, Dirichlet region shares, and brute-force nested re-runs."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize, stats

import simulate
from simulate.analysis.conditional import Cells, bands_given, rank_cells, resample_weights, today
from simulate.analysis.disclosure import cell_count, nested_disclosure
from simulate.spec.correlation import spearman_to_normal
from tests.helpers import load_text, model_text

Z95 = stats.norm.ppf(0.95)

NORMAL = {"dist": "normal", "mean": 0}
LINEAR = model_text({"a": {**NORMAL, "sd": 1}, "b": {**NORMAL, "sd": 1}, "c": {**NORMAL, "sd": 2}},
                    {"y": {"expr": "a + 2 * b + 0.5 * c", "unit": "1"}}, {"y": "mean"},
                    correlations=[("a", "b", 0.5), ("b", "c", 0.3)])
PRODUCT = model_text(
    {"visits": {"dist": "lognormal", "p5": 400e6, "p95": 900e6, "unit": "visits/month"},
     "queries_per_visit": {"dist": "pert", "min": 2, "mode": 5, "max": 15, "unit": "queries/visit"},
     "energy_per_query_kwh": {"dist": "lognormal", "p5": 0.001, "p95": 0.01, "unit": "kWh/query"},
     "grid_g_per_kwh_unused": {"dist": "uniform", "min": 100, "max": 500, "unit": "gCO2e/kWh"}},
    {"energy_kwh": "visits * day_share * queries_per_visit * energy_per_query_kwh"}, {"energy_kwh": "sum"},
    end="2023-01-31")


def dirichlet_text(g, m, concentration) -> str:
    """co2 = e x grid / 1000: e uniform on [1, 3] kWh, grid from Dirichlet shares of fixed intensities."""
    regions = "".join(f'[regions.r{i}]\nshare = {m[i]}\nintensity_g_per_kwh = {{ dist = "fixed", value = {g[i]}, '
                      f'source = "t" }}\n' for i in range(len(g)))
    return model_text({"e_kwh": {"dist": "uniform", "min": 1, "max": 3, "unit": "kWh"}},
                      {"co2_kg": "e_kwh * grid_g_per_kwh / 1000"}, {"co2_kg": "sum"},
                      extra=f'[regions]\nshares = "dirichlet"\nconcentration = {concentration}\nsource = "t"\n{regions}')


def inside(ds, name, key, truth, k=3.0):
    """``truth`` within ``k`` standard errors of the estimate, the error read from its 95% interval
    (k = 3: these tests check many correlated quantities of one sample at once)."""
    one = ds.sel(parameter=name)
    se = (float(one[f"{key}_high"]) - float(one[f"{key}_low"])) / (2 * 1.96)
    return abs(float(one[key]) - truth) <= k * se


def test_linear_gaussian_with_correlated_inputs_matches_closed_form(tmp_path):
    """y = a + 2b + c/2, normal inputs with a~b and b~c rank-correlated: given X_S, y is normal
    with variance Var(y) - c_S' Sigma_SS^-1 c_S (c_S = Cov(X_S, y)), so the 90% interval's width is
    2 z95 sqrt of that, whatever x_S is, and Var E[y | X_S] = c_S' Sigma_SS^-1 c_S."""
    model = load_text(tmp_path, LINEAR)
    ds = model.sensitivity("y", "disclosure", samples=40_000, seed=3, n_resamples=60)
    r = spearman_to_normal(np.array([0.5, 0.3]))
    corr = np.array([[1, r[0], 0], [r[0], 1, r[1]], [0, r[1], 1]])
    sd, beta = np.array([1.0, 1.0, 2.0]), np.array([1.0, 2.0, 0.5])
    cov = corr * np.outer(sd, sd)
    var = beta @ cov @ beta
    c = cov @ beta
    names = ["a", "b", "c"]
    singles = [str(n) for n, k in zip(ds["parameter"].values, ds["disclosed"].values) if k == 1]
    assert sorted(singles) == names
    for name in ds["parameter"].values:
        idx = [names.index(n) for n in str(name).split(" & ")]
        explained = c[idx] @ np.linalg.solve(cov[np.ix_(idx, idx)], c[idx])
        assert inside(ds, name, "variance_reduction", explained), (name, explained)
        assert inside(ds, name, "expected_width", 2 * Z95 * math.sqrt(var - explained)), name
        assert inside(ds, name, "variance_fraction", explained / var), name
    assert int((ds["disclosed"] == 2).sum()) == 3                       # every pair of the three
    assert list(ds["disclosed"].values) == [1, 1, 1, 2, 2, 2]           # singles first, then pairs
    assert np.isnan(ds["expected_ratio"].values).all()                  # y crosses 0: no p95/p5 ratio
    assert inside(ds, "b", "width_reduction", 1 - math.sqrt(1 - c[1] ** 2 / cov[1, 1] / var))
    assert "valid" in ds.attrs["validity"]


def _product_oracle(model):
    """Quantiles of the product of two independent factors: P(A B <= r) = E_A[F_B(r / A)]."""
    laws = {n: model.parameters[n].dist.to_scipy() for n in ("visits", "queries_per_visit", "energy_per_query_kwh")}

    def quantile_of_product(first, second, p):
        a, b = laws[first], laws[second]
        lo, hi = a.ppf(1e-12), a.ppf(1 - 1e-12)

        def cdf(r):
            return integrate.quad(lambda x: b.cdf(r / x) * a.pdf(x), lo, hi, limit=200, points=[a.median()])[0]
        guess = a.median() * b.median()
        return optimize.brentq(lambda r: cdf(r) - p, guess / 1e3, guess * 1e3, xtol=guess * 1e-10)

    return laws, quantile_of_product


@pytest.mark.slow
def test_product_of_independent_factors_matches_the_oracle(tmp_path):
    """energy = visits x queries x energy per query: knowing one factor x leaves x times the product
    R of the others, so the expected width is E[X] (R95 - R5) and the ratio R95 / R5 for every x;
    knowing two leaves the third's band scaled by their expected product."""
    model = load_text(tmp_path, PRODUCT)
    ds = model.sensitivity("energy_kwh", "disclosure", samples=60_000, seed=5, n_resamples=100)
    laws, quantile = _product_oracle(model)
    names = list(laws)
    for i, name in enumerate(names):
        first, second = [n for n in names if n != name]
        r5, r95 = quantile(first, second, 0.05), quantile(first, second, 0.95)
        assert inside(ds, name, "expected_width", laws[name].mean() * (r95 - r5)), name
        assert inside(ds, name, "expected_ratio", r95 / r5), name
    for name in [str(n) for n in ds["parameter"].values if " & " in str(n)]:
        known = name.split(" & ")
        (rest,) = [n for n in names if n not in known]
        rest5, rest95 = laws[rest].ppf([0.05, 0.95])
        scale = laws[known[0]].mean() * laws[known[1]].mean()
        assert inside(ds, name, "expected_width", scale * (rest95 - rest5)), name
        assert inside(ds, name, "expected_ratio", rest95 / rest5), name
    # the preposterior spread of the width: x R-width over the disclosed x (by cells of 1/K each)
    k = ds.attrs["cells"]
    first, second = names[1], names[2]
    r_width = quantile(first, second, 0.95) - quantile(first, second, 0.05)
    lo, hi = (laws[names[0]].ppf([0.05 - 1 / k, 0.05 + 1 / k]) * r_width)
    assert lo * 0.97 <= float(ds.sel(parameter=names[0])["width_p5"]) <= hi * 1.03
    # an input the output does not read: exactly today's band, and named
    unused = ds.sel(parameter="grid_g_per_kwh_unused")
    assert float(unused["width_reduction"]) == 0.0 and float(unused["variance_reduction_high"]) == 0.0
    assert float(unused["expected_width"]) == float(ds["today_width"])
    assert ds.attrs["unused_parameters"] == "grid_g_per_kwh_unused"


@pytest.fixture
def only_model(tmp_path):
    return load_text(tmp_path, model_text(
        {"x": {"dist": "lognormal", "p5": 1, "p95": 10}, "k": {"dist": "fixed", "value": 3},
         "z": {"dist": "uniform", "min": 0, "max": 1}},
        {"y": {"expr": "k * x ** 2 + 0 * z", "unit": "1"}}, {"y": "mean"}))


def test_an_input_read_with_no_effect_is_zero_within_its_interval(only_model):
    """z enters y as 0 x z: the estimator sees it (it is not skipped as unread), and finds nothing."""
    ds = only_model.sensitivity("y", "disclosure", samples=40_000, seed=2, n_resamples=100)
    assert ds.attrs["unused_parameters"] == ""
    assert inside(ds, "z", "variance_reduction", 0.0)
    assert inside(ds, "z", "width_reduction", 0.0)
    assert inside(ds, "z", "expected_width", float(ds["today_width"]))


def test_disclosing_the_only_random_input_leaves_a_point(only_model):
    ds = only_model.sensitivity("y", "disclosure", samples=40_000, seed=2, n_resamples=100)
    x = ds.sel(parameter="x")
    assert float(x["expected_width_high"]) < 1e-9 * float(ds["today_width"])
    assert float(x["width_p95"]) < 1e-9 * float(ds["today_width"])
    assert float(x["variance_fraction"]) == pytest.approx(1.0, abs=1e-6)
    # the points move with x: the cells' (now zero-width) bands rise with the disclosed value's rank
    assert (np.diff(x["cell_median"].values) > 0).all()


def test_dirichlet_shares_are_disclosed_through_prior_draws(tmp_path):
    """co2 = e x grid / 1000, grid = sum of Dirichlet shares x fixed intensities (the shares span
    several columns, so the output is re-evaluated at prior draws of them): Var E[co2 | shares] =
    E[e]^2 Var(grid) / 1e6, and given the shares the band is grid(s) x e's band, E[grid] x 1.8 / 1000."""
    g, m, conc = np.array([100.0, 400.0, 800.0]), np.array([0.5, 0.3, 0.2]), 10.0
    model = load_text(tmp_path, dirichlet_text(g, m, conc))
    ds = model.sensitivity("co2_kg", "disclosure", samples=60_000, seed=4, n_resamples=100)
    var_g = (m @ g ** 2 - (m @ g) ** 2) / (conc + 1)
    assert inside(ds, "region shares", "variance_reduction", 2.0 ** 2 * var_g / 1e6)
    assert inside(ds, "region shares", "expected_width", (m @ g) * 1.8 / 1000)
    assert inside(ds, "e_kwh", "variance_reduction", (1 / 3) * (m @ g) ** 2 / 1e6)
    (both,) = [str(n) for n in ds["parameter"].values if " & " in str(n)]
    assert set(both.split(" & ")) == {"e_kwh", "region shares"}
    assert float(ds.sel(parameter=both)["expected_width_high"]) < 1e-9 * float(ds["today_width"])   # nothing left


def test_kept_draws_estimator_on_given_data_finds_no_value_in_noise():
    """The estimator alone: a column unrelated to y has Var E[y | column] = 0 within its interval,
    for a heavy-tailed y (where a fit's noise would otherwise widen the bands)."""
    rng = np.random.default_rng(7)
    n = 40_000
    y = np.exp(rng.normal(0, 1.2, n))
    noise = rng.random(n)
    k = cell_count(n)
    weights = resample_weights(n, 100, 7)
    now = today(y, weights)
    res = bands_given(Cells(y, rank_cells(noise, k), k, noise[:, None]), weights)
    explained = np.percentile(res["explained"][1:], [2.5, 97.5])
    assert explained[0] <= 0 <= explained[1]
    ratio = (res["mass"] * (res["high"] - res["low"])).sum(axis=1) / (now["high"] - now["low"])[:, 0]
    assert np.percentile(ratio[1:], 2.5) <= 1 <= np.percentile(ratio[1:], 97.5)


@pytest.mark.slow
def test_kept_draws_agree_with_nested_reruns(tmp_path):
    """The kept-draw estimates against brute force: a run of 20,000 samples with the input fixed at
    each of 32 stratified prior values, its histogram quantiles read; within 3 combined standard
    errors (bootstrap and collapsed strata) plus two histogram bins (0.39% each)."""
    model = load_text(tmp_path, PRODUCT)
    ds = model.sensitivity("energy_kwh", "disclosure", samples=60_000, seed=11, n_resamples=100)
    for name in ("visits", "queries_per_visit", "energy_per_query_kwh"):
        nested = nested_disclosure(model, "energy_kwh", name, outer=32, inner=20_000, seed=12)
        one = ds.sel(parameter=name)
        for key in ("expected_width", "expected_ratio"):
            se_kept = (float(one[f"{key}_high"]) - float(one[f"{key}_low"])) / (2 * 1.96)
            tol = 3 * math.hypot(se_kept, nested[f"{key}_se"]) + 2 * 0.0039 * nested[key]
            assert abs(float(one[key]) - nested[key]) <= tol, (name, key, float(one[key]), nested[key], tol)


def test_nested_reruns_refuse_what_they_cannot_fix(tmp_path):
    model = load_text(tmp_path, LINEAR)
    with pytest.raises(simulate.ModelError) as err:
        nested_disclosure(model, "y", "a")            # correlated: fixing it alone would break the copula
    assert err.value.field == "parameter" and "Fix:" in str(err.value)
    with pytest.raises(simulate.ModelError) as err:
        nested_disclosure(load_text(tmp_path, PRODUCT, "p.toml"), "energy_kwh", "visits", outer=3)
    assert err.value.field == "outer"


def test_a_daily_disclosure_is_refused_with_a_fix(tmp_path):
    model = load_text(tmp_path, PRODUCT)
    with pytest.raises(simulate.ModelError) as err:
        model.sensitivity("energy_kwh", "disclosure", daily=True, samples=1000)
    assert err.value.field == "daily" and "choose a month" in str(err.value)


def test_same_seed_same_numbers(tmp_path):
    model = load_text(tmp_path, PRODUCT)
    a = model.sensitivity("energy_kwh", "disclosure", samples=5000, seed=9, n_resamples=20)
    b = model.sensitivity("energy_kwh", "disclosure", samples=5000, seed=9, n_resamples=20)
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values)
