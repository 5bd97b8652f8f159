"""Ranges as Guesstimate and Squiggle users write them: "5 to 10", any two percentiles, loguniform and
mixtures. Each is drawn by the real kernel and KS-tested against scipy.stats; its declared
percentiles land where they were written."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import simulate
from simulate.spec.distributions import parse_distribution
from tests.helpers import load_text, toml_value

N = 40_000
KS_CRITICAL = 1.95 / math.sqrt(N)     # Kolmogorov-Smirnov, alpha = 0.001


def kernel_draws(tmp_path, spec: dict, n: int = N, seed: int = 1) -> np.ndarray:
    """``n`` draws of parameter ``x`` with distribution table ``spec``, by the compiled kernel."""
    table = "\n".join(f'"{k}" = {toml_value(v)}' for k, v in spec.items())   # "p2.5": a quoted key
    model = load_text(tmp_path, f"""
[period]
start = 2024-01-01
end = 2024-01-01
[parameters.x]
{table}
unit = "1"
source = "test"
[derived]
out = {{ expr = "x * day_share", unit = "1" }}
[outputs]
out = "sum"
""")
    ds = model.run(samples=n, seed=seed, keep=n)
    return ds["inputs"].sel(input="x").values


def mixture_oracle(parts, weights):
    """scipy.stats' own Mixture of new-style distributions (an independent implementation)."""
    return stats.Mixture(parts, weights=weights)


CASES = {
    "range, positive: lognormal 90% interval": (
        {"range": "5 to 10"},
        stats.lognorm((math.log(10) - math.log(5)) / (2 * stats.norm.ppf(0.95)), scale=math.sqrt(50)), (0.05, 5), (0.95, 10)),
    "range, through zero: normal 90% interval": (
        {"range": "-3 to 4"}, stats.norm(0.5, 3.5 / stats.norm.ppf(0.95)), (0.05, -3), (0.95, 4)),
    "range with a family: uniform": (
        {"range": "2 to 11", "dist": "uniform"}, stats.uniform(1.5, 10.0), (0.05, 2), (0.95, 11)),
    "lognormal p10/p90": (
        {"dist": "lognormal", "p10": 2, "p90": 8},
        stats.lognorm(math.log(4) / (2 * stats.norm.ppf(0.9)), scale=4.0), (0.10, 2), (0.90, 8)),
    "normal p25/p75": (
        {"dist": "normal", "p25": 1, "p75": 3}, stats.norm(2, 1 / stats.norm.ppf(0.75)), (0.25, 1), (0.75, 3)),
    "normal p2.5/p97.5": (
        {"dist": "normal", "p2.5": -1, "p97.5": 1}, stats.norm(0, 1 / stats.norm.ppf(0.975)), (0.025, -1), (0.975, 1)),
    "lognormal p10/p95 (not symmetric)": (
        {"dist": "lognormal", "p10": 1, "p95": 20},
        stats.lognorm(math.log(20) / (stats.norm.ppf(0.95) - stats.norm.ppf(0.1)),
                      scale=math.exp(-stats.norm.ppf(0.1) * math.log(20) / (stats.norm.ppf(0.95) - stats.norm.ppf(0.1)))),
        (0.10, 1), (0.95, 20)),
    "uniform p10/p90": ({"dist": "uniform", "p10": 0, "p90": 8}, stats.uniform(-1, 10), (0.10, 0), (0.90, 8)),
    "loguniform min/max": ({"dist": "loguniform", "min": 0.01, "max": 100}, stats.loguniform(0.01, 100),
                           (0.5, 1.0), (0.25, 0.1)),
    "loguniform p5/p95": ({"dist": "loguniform", "p5": 1, "p95": 10},
                          stats.loguniform(10 ** (-0.5 / 9), 10 ** (1 + 0.5 / 9)), (0.05, 1), (0.95, 10)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_kernel_draws_follow_scipy(name, tmp_path):
    spec, oracle, *marks = CASES[name]
    draws = kernel_draws(tmp_path, spec)
    assert stats.kstest(draws, oracle.cdf).statistic < KS_CRITICAL
    dist = parse_distribution(spec, field="x")
    for p, value in marks:      # the declared percentiles: exactly in the law, and in the draws
        assert dist.ppf([p])[0] == pytest.approx(value, rel=1e-9, abs=1e-12)
        assert oracle.ppf(p) == pytest.approx(value, rel=1e-9, abs=1e-12)
        share = np.mean(draws < value)
        assert share == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / N))


MIXTURE = {"dist": "mixture", "weights": [0.7, 0.3],
           "components": [{"dist": "lognormal", "p5": 1, "p95": 3}, {"dist": "uniform", "min": 5, "max": 8}]}


def test_a_mixture_follows_scipys_mixture(tmp_path):
    sigma = math.log(3) / (2 * stats.norm.ppf(0.95))
    LogNormal = stats.make_distribution(stats.lognorm)
    oracle = mixture_oracle([LogNormal(s=sigma) * math.sqrt(3), stats.Uniform(a=5, b=8)], [0.7, 0.3])
    draws = kernel_draws(tmp_path, MIXTURE)
    assert stats.kstest(draws, oracle.cdf).statistic < KS_CRITICAL
    # 70% of the draws from the lognormal (below 5 but for its 0.35% tail above 5), 30% on [5, 8]
    expected = 0.7 * stats.lognorm(sigma, scale=math.sqrt(3)).cdf(5)
    assert np.mean(draws < 5) == pytest.approx(expected, abs=4 * math.sqrt(expected * (1 - expected) / N))
    dist = parse_distribution(MIXTURE, field="x")
    u = np.array([0.01, 0.3, 0.5, 0.69, 0.9, 0.999])
    assert dist.ppf(u) == pytest.approx(oracle.icdf(u), rel=1e-7)
    assert dist.support() == (0.0, math.inf)
    assert dist.describe() == "mixture(0.7 x lognormal(p5=1, p95=3), 0.3 x uniform(min=5, max=8))"


def test_a_mixture_of_normals_with_a_truncated_component(tmp_path):
    spec = {"dist": "mixture", "weights": [1, 3],
            "components": [{"dist": "normal", "mean": 0, "sd": 1, "lower": 0}, {"dist": "normal", "p5": 4, "p95": 6}]}
    Trunc = stats.make_distribution(stats.truncnorm)
    oracle = mixture_oracle([Trunc(a=0, b=math.inf), stats.Normal(mu=5, sigma=1 / stats.norm.ppf(0.95))], [0.25, 0.75])
    assert stats.kstest(kernel_draws(tmp_path, spec), oracle.cdf).statistic < KS_CRITICAL


@settings(max_examples=40, deadline=None)
@given(low=st.floats(1e-6, 1e9), ratio=st.floats(1.01, 1e4), negative=st.booleans())
def test_a_range_is_a_90_percent_interval(low, ratio, negative):
    high = low * ratio
    if negative:
        low = -low
    dist = parse_distribution({"range": f"{low!r} to {high!r}"}, field="x")
    assert dist.family == ("normal" if negative else "lognormal")
    assert dist.ppf([0.05, 0.95]) == pytest.approx([low, high], rel=1e-9, abs=1e-9 * abs(high))


@pytest.mark.parametrize("spec, message", [
    ({"range": "10 to 5"}, "LOW below HIGH"),
    ({"range": "5 - 10"}, '"LOW to HIGH"'),
    ({"range": "5 to 10", "dist": "pert"}, "lognormal, normal, uniform or loguniform"),
    ({"range": "5 to 10", "p5": 1}, "whole distribution"),
    ({"dist": "lognormal", "p10": -1, "p90": 3}, "must be positive"),
    ({"dist": "normal", "p90": 1, "p10": 3}, "p10 must be below p90"),
    ({"dist": "normal", "p0": 1, "p90": 3}, "strictly between 0 and 100"),
    ({"dist": "loguniform", "min": 0, "max": 3}, "must be positive"),
    ({"dist": "mixture", "components": [{"dist": "fixed", "value": 1}, {"dist": "uniform", "min": 0, "max": 1}],
      "weights": [1, 1]}, "continuous"),
    ({"dist": "mixture", "components": [{"dist": "uniform", "min": 0, "max": 1}], "weights": [1]}, "at least two"),
    ({"dist": "mixture", "components": [{"dist": "uniform", "min": 0, "max": 1}] * 2, "weights": [1]}, "one per component"),
])
def test_bad_ranges_get_one_clear_error(spec, message):
    with pytest.raises(simulate.ModelError, match=message) as error:
        parse_distribution(spec, path="m.toml", field="parameters.x")
    assert str(error.value).startswith("m.toml: parameters.x") and "Fix:" in str(error.value)


def test_p5_p95_give_the_same_parameters_as_before():
    """The general percentile code keeps the exact p5/p95 arithmetic (so existing runs do not move)."""
    z = stats.norm.ppf(0.95)
    lognormal = parse_distribution({"dist": "lognormal", "p5": 500e6, "p95": 700e6}, field="x").params
    assert lognormal["mu"] == (math.log(500e6) + math.log(700e6)) / 2
    assert lognormal["sigma"] == (math.log(700e6) - math.log(500e6)) / (2 * z)
    normal = parse_distribution({"dist": "normal", "p5": 1, "p95": 4}, field="x").params
    assert normal["mean"] == 2.5 and normal["sd"] == 3 / (2 * z)
    uniform = parse_distribution({"dist": "uniform", "p5": 1, "p95": 10}, field="x").params
    width = 9 / 0.9
    assert uniform == {"min": 1 - 0.05 * width, "max": 10 + 0.05 * width, "_as_written": {"p5": 1, "p95": 10}}
