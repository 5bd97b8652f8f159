"""The kernel's draws, bit for bit: its generator against a pure-Python xoshiro256**, and its row
passes (uniforms, then normal scores, then the transform) against the same formulas applied one
sample at a time, in the order the streams are consumed."""
from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit
from scipy import stats

from simulate.engine import _kernel as kernel
from simulate.engine import encoding
from simulate.engine.encoding import quantile_table


MASK = 2**64 - 1


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


def reference_uniforms(state, n):
    """xoshiro256** as in Blackman & Vigna's reference C code, and the kernel's map to (0, 1)."""
    s = [int(x) for x in state]
    out = []
    for _ in range(n):
        result = rotl(s[1] * 5 & MASK, 7) * 9 & MASK
        t = s[1] << 17 & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        out.append(min(((result >> 11) + 0.5) / 2**53, 1.0 - 2.0**-53))
    return np.array(out), s


def state_whose_next_output_is(result):
    """A state whose next xoshiro256** output is ``result``: invert the scrambler on s[1]."""
    x = result * pow(9, -1, 2**64) & MASK
    s1 = rotl(x, 57) * pow(5, -1, 2**64) & MASK   # rotl by 57 undoes rotl by 7
    return np.array([1, s1, 2, 3], dtype=np.uint64)


def random_state(rng):
    return rng.integers(0, 2**63, 4, dtype=np.int64).astype(np.uint64) * np.uint64(3)


@pytest.mark.parametrize("n", [1, 7, 512, 3000])
def test_uniforms_follow_the_reference_generator(rng, n):
    state = random_state(rng)
    want, want_state = reference_uniforms(state, n)
    got = np.empty(n)
    kernel._fill_uniform(state, got, n)
    assert got.tobytes() == want.tobytes()
    assert [int(x) for x in state] == want_state


def test_largest_generator_output_stays_below_one():
    """(2**53 - 1) + 0.5 rounds to 2**53: the largest output would be exactly 1.0, whose normal
    score is NaN (a NaN lognormal draw, an out-of-range table read). It maps just below 1."""
    state = state_whose_next_output_is(MASK)
    u = np.empty(1)
    kernel._fill_uniform(state.copy(), u, 1)
    assert u[0] == np.nextafter(1.0, 0.0)
    x = np.empty(1)
    kernel._draw_slot(encoding.LOGNORMAL, np.array([0.0, 1.0, 0.0, 0.0]), np.zeros(1), state.copy(), x,
                      np.empty(1), 1, False)
    assert x[0] == pytest.approx(math.exp(stats.norm.ppf(1.0 - 2.0**-53)), rel=1e-8)


def test_row_normal_scores_equal_the_scalar_function():
    """The vectorised central pass and the tail fix-up give exactly the scalar ``_ndtri``."""
    p_low = kernel.P_LOW
    edges = [p_low, 1.0 - p_low, 2.0**-54, 0.5, 1.0 - 2.0**-53]
    edges += [np.nextafter(e, d) for e in edges for d in (0.0, 1.0)]
    u = np.concatenate([edges, np.random.default_rng(1).random(100_000), np.geomspace(1e-16, 0.5, 1000)])
    u = np.concatenate([u, 1.0 - u])
    got = np.empty_like(u)
    kernel._fill_ndtri(u, got, len(u))
    want = np.array([kernel._ndtri(p) for p in u])
    assert got.tobytes() == want.tobytes()


@njit
def scalar_draws(code, par, table, u, out):
    """The family formulas one sample at a time, on the given uniforms."""
    for i in range(out.shape[0]):
        if code == encoding.UNIFORM:
            out[i] = par[0] + (par[1] - par[0]) * u[i]
        elif code == encoding.TRIANGULAR:
            a, c, b = par[0], par[1], par[2]
            if u[i] < (c - a) / (b - a):
                out[i] = a + math.sqrt(u[i] * (b - a) * (c - a))
            else:
                out[i] = b - math.sqrt((1.0 - u[i]) * (b - a) * (b - c))
        elif code == encoding.TABULATED:
            out[i] = kernel._tabulated(table, int(par[0]), kernel._ndtri(u[i]))
        elif code == encoding.NORMAL:
            out[i] = par[0] + par[1] * kernel._ndtri(par[2] + (par[3] - par[2]) * u[i])
        elif code == encoding.LOGNORMAL:
            out[i] = math.exp(par[0] + par[1] * kernel._ndtri(u[i]))
        elif code == encoding.DISCRETE:
            offset, count = int(par[0]), int(par[1])
            k = 0
            while k < count - 1 and table[offset + count + k] < u[i]:
                k += 1
            out[i] = table[offset + k]


@njit
def scalar_dirichlet(par, table, u, shares):
    offset, count = int(par[0]), int(par[1])
    for i in range(shares.shape[1]):
        total = 0.0
        for k in range(count):
            g = math.exp(kernel._tabulated(table, offset + k * encoding.QTABLE_KNOTS, kernel._ndtri(u[i * count + k])))
            shares[k, i] = g
            total += g
        for k in range(count):
            shares[k, i] /= total


def discrete_table(values, weights):
    w = np.asarray(weights, float)
    return np.concatenate([values, np.cumsum(w / w.sum())])


TABLE = np.concatenate([quantile_table(stats.beta(2, 5)), quantile_table(stats.beta(0.4, 0.7)),
                        discrete_table(np.arange(37.0), np.r_[0, np.linspace(0, 1, 35), 0]),
                        discrete_table([1.0, 2.0, 3.0], [1, 0, 1])])
Q = encoding.QTABLE_KNOTS
FAMILIES = [(encoding.UNIFORM, [1.0, 3.0]), (encoding.TRIANGULAR, [1.0, 3.0, 10.0]), (encoding.TRIANGULAR, [0.0, 0.0, 1.0]),
            (encoding.TRIANGULAR, [0.0, 1.0, 1.0]), (encoding.TABULATED, [0.0]), (encoding.TABULATED, [float(Q)]),
            (encoding.NORMAL, [10.0, 2.0, 0.0, 1.0]), (encoding.NORMAL, [1.0, 2.0, 0.3, 0.93]),
            (encoding.NORMAL, [1.0, 2.0, 0.0, 1e-3]), (encoding.LOGNORMAL, [0.3, 1.7]),
            (encoding.DISCRETE, [2.0 * Q, 37.0]), (encoding.DISCRETE, [2.0 * Q + 74, 3.0])]


@pytest.mark.parametrize("code, par", FAMILIES)
@pytest.mark.parametrize("n", [1, 333, 512])
def test_row_draws_equal_the_formulas_one_sample_at_a_time(rng, code, par, n):
    """Uniform i of a slot's stream goes to sample i, and each family's passes give its formula's bits."""
    par = np.array((par + [0.0] * 4)[:4])
    state = random_state(rng)
    u, after = reference_uniforms(state, n)
    want = np.empty(n)
    scalar_draws(code, par, TABLE, u, want)
    got = np.full(n, np.nan)
    kernel._draw_slot(code, par, TABLE, state, got, np.full(n, np.nan), n, False)
    assert got.tobytes() == want.tobytes()
    assert [int(x) for x in state] == after


@pytest.mark.parametrize("count", [1, 2, 6])
@pytest.mark.parametrize("n", [1, 333, 512])
def test_dirichlet_shares_take_uniforms_sample_by_sample(rng, count, n):
    table = np.concatenate([np.log(quantile_table(stats.gamma(a))) for a in [0.3, 1.0, 4.0, 20.0, 0.7, 2.5][:count]])
    par = np.array([0.0, count, 0.0, 0.0])
    state = random_state(rng)
    u, after = reference_uniforms(state, n * count)
    want = np.empty((count, n))
    scalar_dirichlet(par, table, u, want)
    regs = np.full((count + 3, n), np.nan)
    kernel._draw_dirichlet(par, table, state, regs, 2, np.full((2 * count + 1) * n, np.nan), n)
    assert regs[2:2 + count].tobytes() == want.tobytes()
    assert [int(x) for x in state] == after
