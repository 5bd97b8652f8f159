"""Distribution families: the kernel's draws against their scipy.stats twins.

Every law is sampled THROUGH THE KERNEL: a one-day model whose only output is the parameter, run
with ``keep`` equal to the sample count, so ``ds["inputs"]`` holds the raw draws. Each family is
compared with :meth:`Distribution.to_scipy` by a Kolmogorov-Smirnov test (chi-square for the
discrete family) at a fixed seed; percentile forms are checked at p5 and p95 with a tolerance of
four binomial standard errors.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from simulate.spec.distributions import Z95, parse_distribution
from tests.helpers import binomial_tolerance, load_text, one_parameter_text

N = 20_000
SEED = 12345
P_MIN = 0.001

CONTINUOUS = {
    "uniform_min_max": {"dist": "uniform", "min": -2.0, "max": 5.0},
    "uniform_p5_p95": {"dist": "uniform", "p5": 10.0, "p95": 19.0},
    "triangular": {"dist": "triangular", "min": 1.0, "mode": 2.0, "max": 6.0},
    "triangular_mode_at_min": {"dist": "triangular", "min": 0.0, "mode": 0.0, "max": 1.0},
    "pert": {"dist": "pert", "min": 1.1, "mode": 1.18, "max": 1.4},
    "pert_lambda": {"dist": "pert", "min": 0.0, "mode": 7.0, "max": 10.0, "lambda": 2.5},
    "normal_mean_sd": {"dist": "normal", "mean": 3.0, "sd": 0.5},
    "normal_p5_p95": {"dist": "normal", "p5": -1.0, "p95": 4.0},
    "truncated_normal_lower": {"dist": "normal", "mean": 1.0, "sd": 2.0, "lower": 0.0},
    "truncated_normal_both": {"dist": "normal", "mean": 0.0, "sd": 1.0, "lower": 0.5, "upper": 3.0},
    "lognormal_p5_p95": {"dist": "lognormal", "p5": 500e6, "p95": 700e6},
    "lognormal_median_gsd": {"dist": "lognormal", "median": 4.0, "gsd": 2.5},
    "lognormal_mu_sigma": {"dist": "lognormal", "mu": -1.0, "sigma": 0.8},
    "beta": {"dist": "beta", "alpha": 6.0, "beta": 4.0},
    "beta_small_shapes": {"dist": "beta", "alpha": 0.5, "beta": 0.7},
    "beta_scaled": {"dist": "beta", "alpha": 2.0, "beta": 5.0, "min": 100.0, "max": 300.0},
}


def kernel_draws(tmp_path, spec, samples=N, seed=SEED):
    """Sample ``spec`` through the kernel; return (draws, distribution, dataset)."""
    model = load_text(tmp_path, one_parameter_text(spec))
    ds = model.run(samples=samples, seed=seed, keep=samples)
    draws = ds["inputs"].sel(input="x").values
    # a one-day period: the monthly output of a "mean" aggregate is the draw itself
    np.testing.assert_array_equal(ds["x_monthly_samples"].values[:, 0], draws)
    return draws, model.parameters["x"].dist, ds


@pytest.mark.parametrize("spec", CONTINUOUS.values(), ids=CONTINUOUS.keys())
def test_kernel_draws_follow_the_scipy_law(tmp_path, spec):
    draws, dist, _ = kernel_draws(tmp_path, spec)
    assert draws.shape == (N,) and np.isfinite(draws).all()
    lo, hi = dist.support()
    assert draws.min() >= lo and draws.max() <= hi
    result = stats.kstest(draws, dist.to_scipy().cdf)
    assert result.pvalue > P_MIN, f"{dist.describe()}: KS D={result.statistic:.4g}, p={result.pvalue:.3g}"


def test_kernel_draws_of_a_wrong_law_fail_the_same_test(tmp_path):
    """The KS test above has the power to see a 1% shift of a normal's mean (0.06 sd)."""
    draws, _, _ = kernel_draws(tmp_path, {"dist": "normal", "mean": 3.0, "sd": 0.5})
    assert stats.kstest(draws, stats.norm(3.03, 0.5).cdf).pvalue < P_MIN


def test_discrete_frequencies_pass_chi_square(tmp_path):
    values, weights = [0.0, 1.5, 4.0, 10.0], [1.0, 2.0, 5.0, 0.5]
    draws, dist, _ = kernel_draws(tmp_path, {"dist": "discrete", "values": values, "weights": weights})
    assert set(np.unique(draws)) <= set(values)
    observed = np.array([(draws == v).sum() for v in values])
    assert observed.sum() == N
    expected = N * np.array(weights) / sum(weights)
    assert stats.chisquare(observed, expected).pvalue > P_MIN
    # the scipy twin lives on indices 0..k-1 with the same probabilities
    np.testing.assert_allclose(dist.to_scipy().pmf(np.arange(4)), np.array(weights) / sum(weights))


def test_discrete_zero_weight_value_is_never_drawn(tmp_path):
    draws, _, _ = kernel_draws(tmp_path, {"dist": "discrete", "values": [1, 2, 3], "weights": [1, 0, 1]},
                               samples=5000)
    assert not (draws == 2).any()
    assert (draws == 1).any() and (draws == 3).any()


def test_fixed_draws_are_the_value_and_scipy_twin_is_a_point_mass(tmp_path):
    draws, dist, _ = kernel_draws(tmp_path, {"dist": "fixed", "value": 3.5}, samples=3000)
    assert (draws == 3.5).all()
    law = dist.to_scipy()
    # a point mass: a KS test does not apply, so check the law itself
    assert law.mean() == 3.5 and law.median() == 3.5 and law.std() == 0.0
    assert list(law.cdf([3.4, 3.5, 3.6])) == [0.0, 1.0, 1.0]
    np.testing.assert_array_equal(dist.ppf([0.01, 0.5, 0.99]), [3.5, 3.5, 3.5])


PERCENTILE_FORMS = {
    "uniform": ({"dist": "uniform", "p5": 10.0, "p95": 19.0}, 10.0, 19.0),
    "normal": ({"dist": "normal", "p5": -1.0, "p95": 4.0}, -1.0, 4.0),
    "lognormal": ({"dist": "lognormal", "p5": 500e6, "p95": 700e6}, 500e6, 700e6),
    "lognormal_median_gsd": ({"dist": "lognormal", "median": 4.0, "gsd": 2.5},
                             4.0 / 2.5 ** Z95, 4.0 * 2.5 ** Z95),
}


@pytest.mark.parametrize("spec,p5,p95", PERCENTILE_FORMS.values(), ids=PERCENTILE_FORMS.keys())
def test_p5_and_p95_hold_five_percent_each(tmp_path, spec, p5, p95):
    draws, dist, _ = kernel_draws(tmp_path, spec)
    tol = binomial_tolerance(0.05, N)
    assert abs((draws < p5).mean() - 0.05) < tol
    assert abs((draws > p95).mean() - 0.05) < tol
    # and the scipy twin agrees exactly on where those percentiles are
    np.testing.assert_allclose(dist.to_scipy().ppf([0.05, 0.95]), [p5, p95], rtol=1e-9)


# -- the Distribution object without the kernel ----------------------------------------------------
def parse(spec):
    return parse_distribution(spec, path="m.toml", field="parameters.x")


@pytest.mark.parametrize("spec", CONTINUOUS.values(), ids=CONTINUOUS.keys())
def test_ppf_is_the_scipy_inverse_cdf(spec):
    dist = parse(spec)
    u = np.array([0.001, 0.05, 0.3, 0.5, 0.9, 0.999])
    np.testing.assert_allclose(dist.ppf(u), dist.to_scipy().ppf(u), rtol=1e-12)
    assert np.all(np.diff(dist.ppf(u)) > 0)


def test_discrete_ppf_returns_values_not_indices():
    dist = parse({"dist": "discrete", "values": [5.0, 7.0, 9.0], "weights": [1, 1, 2]})
    np.testing.assert_array_equal(dist.ppf([0.1, 0.4, 0.6, 0.99]), [5.0, 7.0, 9.0, 9.0])


def test_canonical_parameters_closed_forms():
    uniform = parse({"dist": "uniform", "p5": 10.0, "p95": 19.0})
    assert uniform.params["min"] == pytest.approx(9.5) and uniform.params["max"] == pytest.approx(19.5)
    normal = parse({"dist": "normal", "p5": -1.0, "p95": 4.0})
    assert normal.params["mean"] == pytest.approx(1.5)
    assert normal.params["sd"] == pytest.approx(2.5 / 1.6448536269514722)
    lognormal = parse({"dist": "lognormal", "p5": 2.0, "p95": 12.0})
    assert lognormal.params["mu"] == pytest.approx(math.log(math.sqrt(24.0)))
    assert lognormal.params["sigma"] == pytest.approx(math.log(6.0) / (2 * Z95))
    pert = parse({"dist": "pert", "min": 0.0, "mode": 2.5, "max": 10.0})
    assert pert.beta_shapes() == pytest.approx((2.0, 4.0))  # 1 + 4 * 0.25, 1 + 4 * 0.75
    assert pert.to_scipy().mean() == pytest.approx((0 + 4 * 2.5 + 10) / 6)


def test_support_and_describe():
    assert parse({"dist": "normal", "mean": 0.0, "sd": 1.0, "lower": 0.0}).support() == (0.0, math.inf)
    assert parse({"dist": "lognormal", "mu": 0.0, "sigma": 1.0}).support() == (0.0, math.inf)
    assert parse({"dist": "discrete", "values": [3, -1, 2], "weights": [1, 1, 1]}).support() == (-1.0, 3.0)
    assert parse({"dist": "lognormal", "p5": 500e6, "p95": 700e6}).describe() == "lognormal(p5=5e+08, p95=7e+08)"



@pytest.mark.parametrize("frozen, log", [(stats.beta(1.8, 4.5, loc=1.1, scale=0.3), False), (stats.beta(6, 4), False),
                                         (stats.beta(1, 1.2), False), (stats.gamma(0.5), True), (stats.gamma(3.0), True)])
def test_tabulated_quantiles_match_scipy(frozen, log):
    """Beta/PERT and the Dirichlet gammas are drawn from a tabulated quantile function; it must
    agree with scipy's to 1e-4 relative across the body and the tails the generator can reach."""
    from simulate.engine import _kernel as kernel
    from simulate.engine.encoding import quantile_table

    table = np.log(quantile_table(frozen)) if log else quantile_table(frozen)   # Dirichlet gammas: log
    u = np.concatenate([np.geomspace(1e-15, 0.5, 400), 1 - np.geomspace(1e-15, 0.5, 400)[::-1]])
    got = np.array([kernel._tabulated(table, 0, kernel._ndtri(x)) for x in u])
    got = np.exp(got) if log else got
    want = frozen.ppf(u)
    body = (u > 1e-9) & (u < 1 - 1e-9)
    assert np.all(np.abs(got[body] - want[body]) <= 1e-4 * np.abs(want[body]) + 1e-12)
    assert np.all(np.diff(got) >= 0)   # monotone, so ranks (and the copula) are preserved
