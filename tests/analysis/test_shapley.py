"""Shapley effects against closed forms: the Ishigami function, a linear Gaussian model with
correlated inputs (through the model file and the kernel), Sobol indices of independent inputs,
Dirichlet region shares as one input, a daily analysis, and the copula's conditional sampling."""
from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from simulate.analysis.groups import Group
from simulate.analysis.inputs import InputLaw
from simulate.analysis.shapley import shapley_effects
from simulate.spec.correlation import spearman_to_normal
from tests.analysis.test_disclosure import dirichlet_text
from tests.helpers import load_text, model_text


def within(result, key, truth, k=3.0):
    """Each estimate within ``k`` standard errors (read from its 95% interval) of ``truth``."""
    value, low, high = (np.asarray(result[f"{key}{end}"]) for end in ("", "_low", "_high"))
    se = (high - low) / (2 * 1.96)
    return bool(np.all(np.abs(value - truth) <= k * se)), value, truth


def ishigami(X, a=7.0, b=0.1):
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


@pytest.mark.parametrize("exact", [True, False])
def test_ishigami_shapley_effects(exact):
    """Ishigami & Homma 1990 with a = 7, b = 0.1: ANOVA variances from Saltelli et al. 2008 (Global
    Sensitivity Analysis, p. 179); for independent inputs Sh_j = sum over u containing j of V_u / |u|
    (Owen 2014, SIAM/ASA JUQ 2:245, sec. 4), so x1 and x3 split V13, and the full first-order and
    total indices are the Sobol ones."""
    a, b = 7.0, 0.1
    v1, v2, v13 = 0.5 * (1 + b * math.pi ** 4 / 5) ** 2, a ** 2 / 8, 8 * b ** 2 * math.pi ** 8 / 225
    var = a ** 2 / 8 + b * math.pi ** 4 / 5 + b ** 2 * math.pi ** 8 / 18 + 0.5
    law = stats.uniform(-math.pi, 2 * math.pi)
    groups = [Group.of_function(f"x{i}", (i,), law.ppf) for i in range(3)]
    res = shapley_effects(ishigami, InputLaw(groups, [], 3), [0, 1, 2], 200_000, seed=4, exact=exact)
    assert res["design"].startswith("exact" if exact else "random permutations")
    for key, truth in (("shapley", [v1 + v13 / 2, v2, v13 / 2]), ("first_order", [v1, v2, 0.0]),
                       ("total_order", [v1 + v13, v2, v13])):
        ok, value, _ = within({k: v[0] for k, v in res.items() if k.startswith(key)}, key, np.array(truth) / var)
        assert ok, (key, value, np.array(truth) / var)
    assert res["shapley"][0].sum() == pytest.approx(1.0, abs=1e-12)      # efficiency, exactly
    assert np.all(res["shapley_high"][0] - res["shapley_low"][0] < 0.05)  # informative intervals


NORMAL = {"dist": "normal", "mean": 0}
LINEAR = model_text({"a": {**NORMAL, "sd": 1}, "b": {**NORMAL, "sd": 1}, "c": {**NORMAL, "sd": 2},
                     "unused": {"dist": "uniform", "min": 0, "max": 1}},
                    {"y": {"expr": "a + b + c", "unit": "1"}}, {"y": "mean"}, correlations=[("b", "c", 0.6)])


def uniforms(**widths):
    return {name: {"dist": "uniform", "min": 0, "max": width} for name, width in widths.items()}


def gaussian_shapley(beta, cov):
    """Exact Shapley effects of y = beta' X, X ~ N(0, cov), with the worth Var E[y | X_S] =
    c_S' cov_SS^-1 c_S (c = cov beta), over all subsets."""
    d = len(beta)
    c = cov @ beta

    def worth(S):
        S = list(S)
        return 0.0 if not S else float(c[S] @ np.linalg.solve(cov[np.ix_(S, S)], c[S]))
    out = np.zeros(d)
    for i in range(d):
        others = [j for j in range(d) if j != i]
        for size in range(d):
            weight = math.factorial(size) * math.factorial(d - size - 1) / math.factorial(d)
            out[i] += sum(weight * (worth(S + (i,)) - worth(S)) for S in combinations(others, size))
    return out, worth


def test_linear_gaussian_with_correlated_inputs(tmp_path):
    """y = a + b + c, b and c rank-correlated (normal-score r = 2 sin(pi 0.6 / 6)): the Shapley
    effects against the exact subset sum, itself checked against Iooss & Prieur's closed form for
    this case (2019, Int. J. Uncertainty Quantification 9:493: Sh_a = s_a^2, Sh_b =
    s_b^2 (1 - r^2/2) + r^2 s_c^2 / 2 + r s_b s_c, Sh_c likewise); the first-order and total
    indices are Var E[y | X_i] / Var y and 1 - Var E[y | X_-i] / Var y."""
    model = load_text(tmp_path, LINEAR)
    ds = model.sensitivity("y", "shapley", samples=400_000, seed=2)
    r = float(spearman_to_normal(0.6))
    sd = np.array([1.0, 1.0, 2.0])
    cov = np.array([[1, 0, 0], [0, 1, r], [0, r, 1]]) * np.outer(sd, sd)
    beta = np.ones(3)
    var = beta @ cov @ beta
    shapley, worth = gaussian_shapley(beta, cov)
    closed = np.array([sd[0] ** 2, sd[1] ** 2 * (1 - r ** 2 / 2) + r ** 2 * sd[2] ** 2 / 2 + r * sd[1] * sd[2],
                       sd[2] ** 2 * (1 - r ** 2 / 2) + r ** 2 * sd[1] ** 2 / 2 + r * sd[1] * sd[2]])
    np.testing.assert_allclose(shapley, closed, rtol=1e-12)               # the oracle agrees with the paper
    names = ["a", "b", "c"]
    one = ds.sel(parameter=names)
    truths = {"shapley": shapley / var, "first_order": np.array([worth((i,)) for i in range(3)]) / var,
              "total_order": 1 - np.array([worth(tuple(j for j in range(3) if j != i)) for i in range(3)]) / var}
    for key, truth in truths.items():
        ok, value, _ = within(one, key, truth)
        assert ok, (key, value, truth)
    assert float(ds.sel(parameter="unused")["shapley_high"]) == 0.0        # a null player, exactly
    assert "unused" in ds.attrs["null_parameters"]
    # under dependence the first-order index of c exceeds its total index (its partner's share)
    assert float(one.sel(parameter="c")["first_order_low"]) > float(one.sel(parameter="c")["total_order_high"])


def test_independent_inputs_lie_between_first_order_and_total_sobol(tmp_path):
    """y = a x b + c (independent uniforms): each Shapley effect lies between the input's first-order
    and total Sobol indices (here from the Sobol method on the same model), and equals
    V_i + V_ab / 2 (Owen 2014)."""
    model = load_text(tmp_path, model_text(uniforms(a=1, b=2, c=1), {"y": {"expr": "a * b + c", "unit": "1"}},
                                           {"y": "mean"}))
    shapley = model.sensitivity("y", "shapley", samples=300_000, seed=3).sortby("parameter")
    sobol = model.sensitivity("y", "sobol", samples=4096, seed=3).sortby("parameter")
    ma, va, mb, vb, vc = 0.5, 1 / 12, 1.0, 1 / 3, 1 / 12
    v_a, v_b, v_ab = mb ** 2 * va, ma ** 2 * vb, va * vb
    var = v_a + v_b + v_ab + vc
    ok, value, truth = within(shapley, "shapley", np.array([v_a + v_ab / 2, v_b + v_ab / 2, vc]) / var)
    assert ok, (value, truth)
    assert np.all(sobol["first_order_low"].values <= shapley["shapley"].values)
    assert np.all(shapley["shapley"].values <= sobol["total_order_high"].values)
    assert float(sobol.sel(parameter="a")["total_order_low"]) > float(shapley.sel(parameter="a")["shapley_high"]) \
        > float(sobol.sel(parameter="a")["first_order_high"])            # strictly between, for the interacting a


def test_dirichlet_shares_are_one_input(tmp_path):
    """co2 = e x grid / 1000 with Dirichlet shares: for a product of independent inputs the Shapley
    effects are V_e + V_int / 2 and V_shares + V_int / 2 (Owen 2014), with V_int = Var e Var grid."""
    g, m, conc = np.array([100.0, 400.0, 800.0]), np.array([0.5, 0.3, 0.2]), 10.0
    model = load_text(tmp_path, dirichlet_text(g, m, conc))
    ds = model.sensitivity("co2_kg", "shapley", samples=200_000, seed=5).sortby("parameter")
    mean_g, var_g = m @ g, (m @ g ** 2 - (m @ g) ** 2) / (conc + 1)
    mean_e, var_e = 2.0, 1 / 3
    v_e, v_s, v_int = var_e * mean_g ** 2, mean_e ** 2 * var_g, var_e * var_g
    var = v_e + v_s + v_int
    assert list(ds["parameter"].values) == ["e_kwh", "region shares"]
    ok, value, truth = within(ds, "shapley", np.array([v_e + v_int / 2, v_s + v_int / 2]) / var)
    assert ok, (value, truth)


def test_daily_shapley_has_a_date_dimension(tmp_path):
    """out = (a + 2 b) x day_share: every day splits its variance 1 : 4 between a and b."""
    model = load_text(tmp_path, model_text(uniforms(a=1, b=1), {"out": {"expr": "(a + 2 * b) * day_share", "unit": "1"}},
                                           {"out": "sum"}, end="2023-01-05"))
    ds = model.sensitivity("out", "shapley", samples=100_000, seed=6, daily=True)
    assert ds["shapley"].dims == ("parameter", "date") and ds.sizes["date"] == 5
    ok, value, truth = within(ds.sel(parameter=["a", "b"]), "shapley", np.array([[0.2], [0.8]]))
    assert ok, (value, truth)


@settings(max_examples=15, deadline=None)
@given(st.floats(-0.8, 0.8), st.floats(-0.8, 0.8), st.floats(-0.8, 0.8), st.integers(1, 6), st.integers(0, 2 ** 16))
def test_conditional_redraws_keep_the_joint_law(r01, r02, r12, mask, seed):
    """Redrawing any subset of a Gaussian-copula set given the rest leaves the joint law unchanged:
    the redrawn normal scores keep the correlation matrix (within 5 standard errors,
    (1 - r^2) / sqrt(n)), and their marginals stay standard normal."""
    corr = np.array([[1, r01, r02], [r01, 1, r12], [r02, r12, 1]])
    if np.linalg.eigvalsh(corr).min() < 0.05:
        return
    groups = [Group.of_function(n, (i,), stats.norm.ppf) for i, n in enumerate("xyz")]
    law = InputLaw(groups, [(list("xyz"), corr)], 3)
    rng = np.random.default_rng(seed)
    n = 20_000
    latent = law.draw(n, rng)
    redrawn = np.zeros((n, 3), dtype=bool)
    redrawn[:, [k for k in range(3) if mask >> k & 1]] = True
    again = law.redraw(latent, redrawn, law.noise(n, rng))
    found = np.corrcoef(again.T)
    assert np.all(np.abs(found - corr) <= 5 * (1 - corr ** 2) / math.sqrt(n) + 1e-12)
    assert np.all(np.abs(again.mean(axis=0)) < 5 / math.sqrt(n))
    kept = [k for k in range(3) if not mask >> k & 1]
    np.testing.assert_array_equal(again[:, kept], latent[:, kept])       # given coordinates untouched
