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

from .. import user_cache

# Distribution families as the kernel draws them.
FIXED, UNIFORM, TRIANGULAR, TABULATED, NORMAL, LOGNORMAL, DISCRETE, DIRICHLET = range(8)
FAMILY_CODES = {"fixed": FIXED, "uniform": UNIFORM, "triangular": TRIANGULAR, "pert": TABULATED,
                "beta": TABULATED, "normal": NORMAL, "lognormal": LOGNORMAL, "discrete": DISCRETE,
                "loguniform": TABULATED, "mixture": TABULATED}
TABULATED_FAMILIES = tuple(name for name, code in FAMILY_CODES.items() if code == TABULATED)

# Instructions: (opcode, destination, first, second, third operand) over registers.
# muladd: x * y + w (two roundings, as written); clip: min(max(x, y), w). Both fuse what a model
# writes as two operations into one pass over the registers, with the same bits.
OPCODE_NAMES = ("add", "sub", "mul", "div", "pow", "neg", "min", "max", "exp", "log", "sqrt", "muladd", "clip")
ADD, SUB, MUL, DIV, POW, NEG, MIN, MAX, EXP, LOG, SQRT, MULADD, CLIP = range(len(OPCODE_NAMES))
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
        if dist.family in ("pert", "beta"):
            a, b = dist.beta_shapes()
            table.extend(beta_quantile_table(a, b, p["min"], p["max"] - p["min"]).tolist())
        else:                     # log-uniform, mixtures: their own quantile functions (scipy.stats)
            table.extend(quantile_table(dist.to_scipy()).tolist())
        return [float(offset)]
    if dist.family == "normal":
        cdf_lo = _ndtr((p.get("lower", -math.inf) - p["mean"]) / p["sd"])
        cdf_hi = _ndtr((p.get("upper", math.inf) - p["mean"]) / p["sd"])
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


def _ndtr(x: float) -> float:
    """``scipy.special.ndtr`` (the normal CDF); scipy is imported only for a finite truncation bound."""
    if math.isinf(x):
        return 0.0 if x < 0 else 1.0     # what ndtr gives at -inf and inf
    from scipy import special

    return float(special.ndtr(x))


def beta_quantile_table(a: float, b: float, loc: float = 0.0, scale: float = 1.0) -> np.ndarray:
    """The quantile function of Beta(a, b) on ``[loc, loc + scale]`` at the kernel's normal-score grid
    (see :data:`QTABLE_KNOTS`): ``scipy.stats.beta(a, b, loc, scale)``'s ppf and isf, bit for bit,
    from the ``scipy.special`` inverses they call (scipy.stats takes a second to import)."""
    return _cached_table("beta", (float(a), float(b)), float(loc), float(scale)).copy()


def gamma_quantile_table(a: float) -> np.ndarray:
    """The quantile function of Gamma(a) at the kernel's normal-score grid, as
    ``scipy.stats.gamma(a)``'s ppf and isf give it."""
    return _cached_table("gamma", (float(a),), 0.0, 1.0).copy()


def quantile_table(frozen) -> np.ndarray:
    """A frozen ``scipy.stats`` law's quantile function at the kernel's grid: beta and gamma from the
    ``scipy.special`` inverses, any other law (log-uniform) from its own ppf and isf, and a
    :class:`~simulate.spec.distributions.MixtureLaw` by bisection on its CDF."""
    if hasattr(frozen, "key"):   # a mixture
        return _mixture_table(frozen.key, frozen).copy()
    if frozen.dist.name not in ("beta", "gamma"):
        return _frozen_table(frozen)
    args = tuple(float(a) for a in frozen.args)
    loc, scale = float(frozen.kwds.get("loc", 0.0)), float(frozen.kwds.get("scale", 1.0))
    return _cached_table(frozen.dist.name, args, loc, scale).copy()


_mixtures: dict = {}


def _mixture_table(key, law) -> np.ndarray:
    if key not in _mixtures:
        if len(_mixtures) > 256:
            _mixtures.clear()
        _mixtures[key] = _frozen_table(law)
    return _mixtures[key]


def _frozen_table(law) -> np.ndarray:
    """Any law with ``ppf`` and ``isf`` at the grid (the upper half from ``isf``: full precision in the tail)."""
    from scipy import special

    z = np.linspace(-QTABLE_Z, QTABLE_Z, QTABLE_KNOTS)
    lower = z <= 0
    values = np.empty_like(z)
    values[lower] = law.ppf(special.ndtr(z[lower]))
    values[~lower] = law.isf(special.ndtr(-z[~lower]))
    return values


@functools.lru_cache(maxsize=256)
def _cached_table(name: str, args: tuple, loc: float, scale: float) -> np.ndarray:
    """Tabulated by law and parameters: a model is compiled on every run, sensitivity runs many.

    Remembered in the user cache folder too (:mod:`simulate.user_cache`, keyed by the law, its
    parameters, the grid, this module's code and scipy's version), so a warm ``simulate check``
    does not import scipy.special (0.3-0.5 s) to tabulate what it tabulated before.
    """
    key = user_cache.digest("quantile table", name, repr(args), repr(loc), repr(scale), QTABLE_KNOTS, QTABLE_Z,
                            user_cache.source_digest("engine/encoding.py"), user_cache.version_of("scipy"))
    return user_cache.remembered_array(TABLE_MEMO, key, "<f8", QTABLE_KNOTS,
                                       lambda: _tabulate(name, args, loc, scale))


TABLE_MEMO = "quantile-tables"


def _tabulate(name: str, args: tuple, loc: float, scale: float) -> np.ndarray:
    """The upper half uses the survival function so that tails keep full precision."""
    from scipy import special

    z = np.linspace(-QTABLE_Z, QTABLE_Z, QTABLE_KNOTS)
    lower = z <= 0
    p_low, q_high = special.ndtr(z[lower]), special.ndtr(-z[~lower])   # norm.cdf and norm.sf
    inverse = {"beta": (special.betaincinv, special.betainccinv),
               "gamma": (lambda a, p: special.gammaincinv(a, p), lambda a, q: special.gammainccinv(a, q))}[name]
    values = np.empty_like(z)
    values[lower] = inverse[0](*args, p_low) * scale + loc
    values[~lower] = inverse[1](*args, q_high) * scale + loc
    return values
