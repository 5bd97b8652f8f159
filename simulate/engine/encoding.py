"""How a model is encoded for the kernel: family codes, opcodes, table layouts, histogram keys.

Defined once, here, without numba: the compiler writes these codes and the kernel
(:mod:`simulate.engine._kernel`) reads them as compile-time constants. Numba freezes globals when
it compiles, and its on-disk cache is keyed by the kernel's own source file, so a change here
must be followed by touching ``_kernel.py`` (or clearing ``__pycache__``).
"""
from __future__ import annotations

import functools
import math

import numpy as np
from scipy import stats

# Distribution families as the kernel draws them.
FIXED, UNIFORM, TRIANGULAR, TABULATED, NORMAL, LOGNORMAL, DISCRETE, DIRICHLET = range(8)
FAMILY_CODES = {"fixed": FIXED, "uniform": UNIFORM, "triangular": TRIANGULAR, "pert": TABULATED,
                "beta": TABULATED, "normal": NORMAL, "lognormal": LOGNORMAL, "discrete": DISCRETE,
                "loguniform": TABULATED, "mixture": TABULATED}
TABULATED_FAMILIES = tuple(name for name, code in FAMILY_CODES.items() if code == TABULATED)

# Instructions: (opcode, destination, left, right) over registers.
OPCODE_NAMES = ("add", "sub", "mul", "div", "pow", "neg", "min", "max", "exp", "log", "sqrt")
ADD, SUB, MUL, DIV, POW, NEG, MIN, MAX, EXP, LOG, SQRT = range(len(OPCODE_NAMES))
OPCODES = {name: code for code, name in enumerate(OPCODE_NAMES)}

# Families without a closed-form inverse CDF in the kernel (beta, PERT, log-uniform, mixtures, the
# gammas behind Dirichlet shares) are drawn as x = Q(Phi(z)) with z a standard normal and Q tabulated exactly (scipy) at QTABLE_KNOTS
# evenly spaced scores on [-QTABLE_Z, QTABLE_Z], read by linear interpolation: every uniform the
# generator can return maps inside the grid, and the interpolation error is below 1e-4 relative.
QTABLE_KNOTS = 4096
QTABLE_Z = 8.3

TILE = 512            # samples evaluated together: registers stay in cache
KEY_SHIFT = 44        # histogram keys: 52 - 8 mantissa bits kept -> 256 bins per octave


def family_code(dist) -> int:
    """The kernel's code for a :class:`~simulate.spec.distributions.Distribution`."""
    return FAMILY_CODES[dist.family]


def family_params(dist, table: list[float]) -> list[float]:
    """Up to four numbers for the kernel; tabulated and discrete laws append to ``table``."""
    p = dist.params
    if dist.family == "fixed":
        return [p["value"]]
    if dist.family == "uniform":
        return [p["min"], p["max"]]
    if dist.family == "triangular":
        return [p["min"], p["mode"], p["max"]]
    if dist.family in TABULATED_FAMILIES:
        offset = len(table)
        table.extend(quantile_table(dist.to_scipy()).tolist())
        return [float(offset)]
    if dist.family == "normal":
        cdf_lo = stats.norm.cdf((p.get("lower", -math.inf) - p["mean"]) / p["sd"])
        cdf_hi = stats.norm.cdf((p.get("upper", math.inf) - p["mean"]) / p["sd"])
        return [p["mean"], p["sd"], float(cdf_lo), float(cdf_hi)]
    if dist.family == "lognormal":
        return [p["mu"], p["sigma"]]
    if dist.family == "discrete":
        offset = len(table)
        weights = np.asarray(p["weights"], float)
        table.extend(p["values"])
        table.extend(np.cumsum(weights / weights.sum()).tolist())
        return [float(offset), float(len(weights))]
    raise AssertionError(dist.family)


def quantile_table(frozen) -> np.ndarray:
    """``frozen``'s quantile function at the kernel's normal-score grid (see :data:`QTABLE_KNOTS`).

    The upper half uses the survival function so that tails keep full precision. Tables are
    cached by law and parameters: a model is compiled on every run, sensitivity runs many.
    ``frozen`` is a frozen scipy.stats law, or a :class:`~simulate.spec.distributions.MixtureLaw`.
    """
    if hasattr(frozen, "key"):   # a mixture: quantiles by bisection on its CDF
        return _mixture_table(frozen.key, frozen).copy()
    return _cached_table(frozen.dist.name, tuple(frozen.args), tuple(sorted(frozen.kwds.items()))).copy()


@functools.lru_cache(maxsize=256)
def _cached_table(name: str, args: tuple, kwds: tuple) -> np.ndarray:
    return _table(getattr(stats, name)(*args, **dict(kwds)))


_mixtures: dict = {}


def _mixture_table(key, law) -> np.ndarray:
    if key not in _mixtures:
        if len(_mixtures) > 256:
            _mixtures.clear()
        _mixtures[key] = _table(law)
    return _mixtures[key]


def _table(frozen) -> np.ndarray:
    z = np.linspace(-QTABLE_Z, QTABLE_Z, QTABLE_KNOTS)
    lower = z <= 0
    values = np.empty_like(z)
    values[lower] = frozen.ppf(stats.norm.cdf(z[lower]))
    values[~lower] = frozen.isf(stats.norm.sf(z[~lower]))
    return values
