"""Rank-correlated priors: exact marginals, the declared Spearman correlations, reproducibility."""
import math
import textwrap

import numba
import numpy as np
import pytest
from scipy import stats

import simulate
from simulate.spec.correlation import nearest_correlation

N = 200_000


def write_model(tmp_path, correlations, name="corr.toml"):
    text = textwrap.dedent("""
        [period]
        start = 2023-01-01
        end = 2023-01-01
        [parameters.a]
        dist = "lognormal"
        p5 = 1
        p95 = 10
        unit = "1"
        source = "test"
        [parameters.b]
        dist = "pert"
        min = 0
        mode = 1
        max = 5
        unit = "1"
        source = "test"
        [parameters.c]
        dist = "uniform"
        min = 0
        max = 1
        unit = "1"
        source = "test"
        [derived]
        y = { expr = "a + b + c", unit = "1" }
        [outputs]
        y = "sum"
    """) + correlations
    path = tmp_path / name
    path.write_text(text)
    return path


CORRELATED = """
[[correlations]]
between = ["a", "b"]
rank = 0.7
source = "test"
[[correlations]]
between = ["b", "c"]
rank = -0.4
source = "test"
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("corr")
    plain = simulate.load(write_model(tmp, "", "plain.toml")).run(samples=N, seed=5, keep=N)
    model = simulate.load(write_model(tmp, CORRELATED))
    correlated = model.run(samples=N, seed=5, keep=N)
    return model, plain, correlated


def test_marginals_are_unchanged(runs):
    model, plain, correlated = runs
    for j, name in enumerate(["a", "b", "c"]):
        x = correlated["inputs"].values[:, j]
        assert stats.ks_2samp(x, plain["inputs"].values[:, j]).pvalue > 1e-3
        assert stats.kstest(x, model.parameters[name].dist.to_scipy().cdf).pvalue > 1e-3


def test_spearman_matches_declared_within_monte_carlo_error(runs):
    _, plain, correlated = runs
    rho = stats.spearmanr(correlated["inputs"].values).statistic
    se = 1 / math.sqrt(N - 1)  # Spearman's standard error under independence bounds it from above
    assert rho[0, 1] == pytest.approx(0.7, abs=4 * se)
    assert rho[1, 2] == pytest.approx(-0.4, abs=4 * se)
    # an undeclared pair is uncorrelated: its entry in the copula's matrix is zero
    assert rho[0, 2] == pytest.approx(0.0, abs=4 * se)
    assert abs(stats.spearmanr(plain["inputs"].values).statistic[0, 1]) < 4 * se


def test_same_seed_same_numbers_on_one_and_two_threads(runs):
    model = runs[0]
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = model.run(samples=150_000, seed=9, keep=1000)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = model.run(samples=150_000, seed=9, keep=1000)
    finally:
        numba.set_num_threads(before)
    for ds in (one, two):
        for key in ("created", "history", "elapsed_s"):
            ds.attrs.pop(key)
    assert one.identical(two)


def test_impossible_correlations_get_a_suggestion(tmp_path):
    bad = CORRELATED.replace("rank = -0.4", "rank = -0.9").replace("rank = 0.7", "rank = 0.9") + """
[[correlations]]
between = ["a", "c"]
rank = 0.9
source = "test"
"""
    with pytest.raises(simulate.ModelError) as err:
        simulate.load(write_model(tmp_path, bad))
    message = str(err.value)
    assert "corr.toml" in message and "correlations" in message
    assert "not positive definite" in message and "nearest valid set is" in message


def test_unknown_parameter_in_a_correlation(tmp_path):
    bad = CORRELATED.replace('between = ["a", "b"]', 'between = ["a", "gpus"]')
    with pytest.raises(simulate.ModelError, match=r"correlations\[0\]\.between = 'gpus'.*not a parameter"):
        simulate.load(write_model(tmp_path, bad))


def test_nearest_correlation_is_valid():
    bad = np.array([[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]])
    fixed = nearest_correlation(bad)
    assert np.allclose(np.diag(fixed), 1)
    assert np.linalg.eigvalsh(fixed).min() > 0
    np.linalg.cholesky(fixed)


UNIFORM_READERS = """
[period]
start = 2023-01-01
end = 2023-01-01
[parameters.d]
dist = "triangular"
min = 0
mode = 1
max = 4
unit = "1"
source = "test"
[parameters.e]
dist = "normal"
mean = 10
sd = 2
unit = "1"
source = "test"
[parameters.f]
dist = "discrete"
values = [1, 2, 3]
weights = [0.2, 0.5, 0.3]
unit = "1"
source = "test"
[derived]
y = { expr = "d + e + f", unit = "1" }
[outputs]
y = "sum"
[[correlations]]
between = ["d", "e"]
rank = 0.6
source = "test"
[[correlations]]
between = ["d", "f"]
rank = 0.5
source = "test"
"""


def test_families_that_read_uniforms_keep_their_marginals_in_the_copula(tmp_path):
    """Triangular, normal and discrete parameters take Phi(score) in the Gaussian copula."""
    path = tmp_path / "readers.toml"
    path.write_text(UNIFORM_READERS)
    model = simulate.load(path)
    n = 100_000
    x = model.run(samples=n, seed=3, keep=n)["inputs"].values
    for j, name in enumerate(["d", "e"]):
        assert stats.kstest(x[:, j], model.parameters[name].dist.to_scipy().cdf).pvalue > 1e-3
    counts = np.array([(x[:, 2] == v).sum() for v in (1, 2, 3)])
    assert counts.sum() == n
    assert stats.chisquare(counts, n * np.array([0.2, 0.5, 0.3])).pvalue > 1e-3
    rho = stats.spearmanr(x[:, :2]).statistic
    assert rho == pytest.approx(0.6, abs=4 / math.sqrt(n - 1))
    # the discrete one is tied within its values: its rank correlation is below 0.5 but clearly positive
    assert 0.3 < stats.spearmanr(x[:, 0], x[:, 2]).statistic < 0.5
