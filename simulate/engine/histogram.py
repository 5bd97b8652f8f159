"""Histogram maths: IEEE-754 keys, windows, quantiles from counts and their confidence intervals.

Keys. A value's histogram key is its IEEE-754 magnitude with the bottom 44 mantissa bits dropped
(:data:`~simulate.engine.encoding.KEY_SHIFT`), signed: 256 keys per octave, so a bin is narrower
than 0.39% of the values in it, and the key is monotone in the value. The kernel computes the same
keys from the bits, with no logarithm.

Windows. Each (output, time) cell counts keys in a window fixed by a pilot block (its min and max
plus two octaves each side); values outside the window land in an underflow or overflow count.
A window wider than :data:`MAX_BINS` still covers the pilot's whole range while the run's
:data:`WIDE_BINS` last (the whole double range is 2 x 2^11 octaves, about a million bins); past
them, the smallest magnitudes share the bins next to zero. A quantile or confidence bound that
lands outside its window or in those shared bins is not within a bin's width of the truth:
:func:`refined_windows` then gives its cell a window at full resolution over the values its
ranks can take, for a second pass over the same samples (:func:`simulate.engine.runner.refine`).

Intervals. The distribution-free order-statistic interval: with ``n`` samples the number ``B`` of
samples below the true ``p``-quantile is Binomial(n, p), so the order statistics ``[X(l), X(u)]``
with ``l = binom.ppf(a/2, n, p)`` and ``u = binom.ppf(1 - a/2, n, p) + 1`` cover it with
probability at least ``1 - a`` (David & Nagaraja, *Order Statistics*, 3rd ed., 2003, section 7.1).
They are read from the same exact histogram counts as the quantiles, so they cost two
``searchsorted`` calls and need no per-sample storage.
"""
from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from .. import user_cache
from .encoding import KEY_SHIFT

QUANTILES = (0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975)   # reported for every output and time
CI_LEVEL = 0.95                       # confidence level of the reported intervals
CHECKED_QUANTILES = (0.05, 0.5, 0.95)  # what rtol and max_relative_error are checked on
MARGIN_KEYS = 2 * 256                  # two octaves of bins beyond the pilot's min and max
MAX_BINS = 64 * 256                    # 64 octaves of bins per output and time, always given
WIDE_BINS = 1 << 22                    # bins shared by the cells whose pilot range needs more
REFINE_BINS = 1 << 22                  # bins of a second pass, shared by the cells that need one
MAX_KEY = 0x7FEFFFFFFFFFFFFF >> KEY_SHIFT   # the magnitude key of the largest finite double


# -- keys --------------------------------------------------------------------------------------------
def value_keys(values, floor=0) -> np.ndarray:
    """The histogram key of each value: monotone in the value, 256 keys per octave.

    Magnitude keys at or below ``floor`` collapse to 0 (positive) or -1 (negative), as in the kernel.
    """
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
    magnitude = (bits & np.int64(0x7FFFFFFFFFFFFFFF)) >> KEY_SHIFT
    magnitude = np.maximum(magnitude - floor, 0)
    return np.where(bits >= 0, magnitude, -magnitude - 1)


def key_bounds(keys, floor=0) -> tuple[np.ndarray, np.ndarray]:
    """The [low, high) value interval each key covers (keys next to zero reach zero)."""
    keys = np.asarray(keys, dtype=np.int64)
    magnitude = np.where(keys >= 0, keys, -keys - 1)
    lo_mag = np.where(magnitude > 0, ((magnitude + floor) << KEY_SHIFT).view(np.float64), 0.0)
    hi_mag = ((magnitude + floor + 1) << KEY_SHIFT).view(np.float64)
    return np.where(keys >= 0, lo_mag, -hi_mag), np.where(keys >= 0, hi_mag, -lo_mag)


def _within_bins(keys, fraction, floor=0) -> np.ndarray:
    """The value ``fraction`` of the way through each key's bin."""
    lo, hi = key_bounds(keys, floor)
    return lo + fraction * (hi - lo)


# -- windows -----------------------------------------------------------------------------------------
class HistogramLayout(NamedTuple):
    """Where each (output, time) cell's bins live in the flat count array: the kernel's argument."""

    offset: np.ndarray      # (n_outputs, n_times) int64 first slot (the underflow count)
    lo_key: np.ndarray      # key of the first bin
    length: np.ndarray      # bins in the window (0: sums only)
    floor: np.ndarray       # magnitude keys at or below it share the bins next to zero
    shift: np.ndarray       # float64: sums are of (x - shift), for precision
    total: int              # length of the flat count array


def empty_layout() -> HistogramLayout:
    """A layout with no bins, for kernel calls that reduce nothing."""
    zeros = np.zeros((1, 1), dtype=np.int64)
    return HistogramLayout(zeros, zeros, zeros, zeros, np.zeros((1, 1)), 1)


class Windows:
    """Histogram windows and sum shifts for every (output, time), fixed by the pilot block.

    ``source[o, t]`` and ``scale[o, t]``: the cell whose histogram and sums hold (o, t)'s
    distribution and the factor to apply (days of profile outputs read their month, see
    :meth:`simulate.engine.compiler.Program.cell_sources`); by default every cell is its own source.
    """

    def __init__(self, lo_key, length, shift, floor=None, sources=None):
        self.lo_key = lo_key.astype(np.int64)
        self.length = length.astype(np.int64)
        self.shift = shift.astype(np.float64)
        self.floor = np.zeros_like(self.lo_key) if floor is None else floor.astype(np.int64)
        sizes = (self.length + 2).ravel()
        self.offset = np.concatenate([[0], np.cumsum(sizes)[:-1]]).reshape(self.length.shape).astype(np.int64)
        self.total = int(sizes.sum())
        if sources is None:
            sources = (np.tile(np.arange(self.lo_key.shape[-1]), (self.lo_key.shape[0], 1)), np.ones(self.lo_key.shape))
        self.source, self.scale = sources

    @property
    def layout(self) -> HistogramLayout:
        return HistogramLayout(self.offset, self.lo_key, self.length, self.floor, self.shift, self.total)

    @classmethod
    def empty(cls, shape):
        zeros = np.zeros(shape, dtype=np.int64)
        return cls(zeros, zeros, np.zeros(shape))

    @classmethod
    def from_pilot(cls, stats, extremes, sources=None, wide_bins: int | None = None):
        """Windows from a pilot's sums ``stats[..., 0:2]`` and ``extremes[..., (min, max)]``.

        A cell whose range needs more than MAX_BINS bins gets it whole while ``wide_bins`` last
        (narrowest first; default :data:`WIDE_BINS`); past them, its top MAX_BINS / 2 keys of each sign.
        """
        wide_bins = WIDE_BINS if wide_bins is None else wide_bins
        count, s1 = stats[..., 0], stats[..., 1]
        shift = np.where(count > 0, s1 / np.maximum(count, 1), 0.0)
        vmin, vmax = extremes[..., 0], extremes[..., 1]
        finite = count > 0
        vmin, vmax = np.where(finite, vmin, 0.0), np.where(finite, vmax, 0.0)
        too_wide = value_keys(vmax) - value_keys(vmin) + 2 * MARGIN_KEYS + 1 > MAX_BINS
        # Too wide (values near zero or of both signs): keep the top MAX_BINS / 2 keys of each
        # sign and let smaller magnitudes share the bins next to zero.
        top = np.maximum(value_keys(np.abs(vmin)), value_keys(np.abs(vmax))) + MARGIN_KEYS
        floor = np.where(too_wide, np.maximum(top - (MAX_BINS // 2 - 1), 0), 0)
        key_min = np.maximum(value_keys(vmin, floor) - MARGIN_KEYS, -(top - floor) - 1)
        key_max = np.minimum(value_keys(vmax, floor) + MARGIN_KEYS, top - floor)
        # ... unless the whole range still fits in the run's wide bins
        whole_min = np.maximum(value_keys(vmin) - MARGIN_KEYS, -MAX_KEY - 1)
        whole_max = np.minimum(value_keys(vmax) + MARGIN_KEYS, MAX_KEY)
        whole = np.where(too_wide & finite, whole_max - whole_min + 1, 0).ravel()
        order = np.argsort(np.where(whole > 0, whole, np.iinfo(np.int64).max), kind="stable")
        fits = np.zeros(whole.shape, dtype=bool)
        fits[order] = (np.cumsum(whole[order]) <= wide_bins) & (whole[order] > 0)
        fits = fits.reshape(floor.shape)
        floor = np.where(fits, 0, floor)
        key_min, key_max = np.where(fits, whole_min, key_min), np.where(fits, whole_max, key_max)
        length = np.where(finite, key_max - key_min + 1, 0)
        return cls(key_min, length, shift, floor, sources)

    def counts(self, hist, o: int, t: int) -> np.ndarray:
        """Cell (o, t)'s counts: ``[below window, bin 0, ..., bin L-1, above window]``."""
        start = self.offset[o, t]
        return hist[start:start + self.length[o, t] + 2]


# -- quantiles from counts ---------------------------------------------------------------------------
def values_at_ranks(counts, lo_key, vmin, vmax, ranks, floor=0):
    """The values of the order statistics with 0-based ``ranks`` in one key histogram.

    ``counts`` is ``[below window, bin 0, ..., bin L-1, above window]``. Inside a bin the order
    statistics are taken as evenly spread, so the error is below one bin width (0.39%).
    Returns ``(values, coarse)`` where ``coarse`` is True when a rank fell outside the window (its
    value is then clamped to the sample minimum or maximum) or in the bins next to zero that
    magnitudes below the window's floor share: then the error may be larger.
    """
    values, coarse, _ = _rank_bins(counts, lo_key, vmin, vmax, ranks, floor, bounds=False)
    return values, bool(coarse.any())


def _rank_bins(counts, lo_key, vmin, vmax, ranks, floor=0, bounds=True):
    """For each rank: its value, whether its bin is coarse (outside the window, or the bins next
    to zero that smaller magnitudes share), and (with ``bounds``) the ``(low, high)`` values its
    bin can hold."""
    counts = np.asarray(counts)
    ranks = np.asarray(ranks, dtype=np.int64)
    cum = np.cumsum(counts)
    b = np.searchsorted(cum, ranks, side="right")
    edge = (b == 0) | (b == len(counts) - 1)
    inner = np.clip(b, 1, len(counts) - 2)
    keys = lo_key + inner - 1
    before = cum[inner] - counts[inner]
    with np.errstate(invalid="ignore", divide="ignore"):
        values = _within_bins(keys, (ranks - before + 0.5) / counts[inner], floor)
    values = np.where(edge, np.where(b == 0, vmin, vmax), np.clip(values, vmin, vmax))
    coarse = edge | ((floor > 0) & ((keys == 0) | (keys == -1)))
    if not bounds:
        return values, coarse, None
    low, high = key_bounds(keys, floor)
    low, high = np.where(b == 0, vmin, np.maximum(low, vmin)), np.where(b == len(counts) - 1, vmax, np.minimum(high, vmax))
    return values, coarse, (low, high)


def histogram_quantiles(counts, lo_key, vmin, vmax, quantiles=QUANTILES, floor=0):
    """Quantiles (numpy's default, linear between order statistics) from one key histogram.

    ``counts`` is ``[below window, bin 0, ..., bin L-1, above window]``; see :func:`values_at_ranks`.
    Returns ``(values, coarse)`` where ``coarse`` is True when a quantile fell outside the window or
    in its bins next to zero (see :func:`values_at_ranks`).
    """
    total = int(np.sum(counts))
    if total == 0:
        return np.full(len(quantiles), np.nan), False
    rank = np.asarray(quantiles) * (total - 1)
    j = np.floor(rank).astype(np.int64)
    both, outside = values_at_ranks(counts, lo_key, vmin, vmax, np.concatenate([j, np.minimum(j + 1, total - 1)]), floor)
    low, high = both[:len(j)], both[len(j):]
    return low + (rank - j) * (high - low), outside


def weighted_histogram_quantiles(weights, lo_key, vmin, vmax, quantiles=QUANTILES, floor=0) -> np.ndarray:
    """Quantiles of a weighted sample from the summed weights in each bin of one key window.

    ``weights[b]`` is the weight that fell in bin ``b`` (no under- or overflow: values were clipped
    into the window). Within a bin the weight is taken as evenly spread; NaN when it is all zero.
    """
    total = weights.sum()
    if total <= 0:
        return np.full(len(quantiles), np.nan)
    cum = np.cumsum(weights)
    target = np.array(quantiles) * total
    b = np.minimum(np.searchsorted(cum, target, side="left"), len(weights) - 1)
    inside = (target - (cum[b] - weights[b])) / np.where(weights[b] > 0, weights[b], 1)
    return np.clip(_within_bins(lo_key + b, inside, floor), vmin, vmax)


def weighted_quantiles(values, weights, quantiles=QUANTILES) -> np.ndarray:
    """Quantiles of a weighted sample: the weighted empirical CDF inverted with linear
    interpolation between the midpoints of each draw's weight (for equal weights, the Hazen
    sample quantile)."""
    values = np.asarray(values, float)
    weights = np.asarray(weights, float)
    keep = np.isfinite(values) & (weights > 0)
    values, weights = values[keep], weights[keep]
    if values.size == 0:
        return np.full(len(quantiles), np.nan)
    order = np.argsort(values, kind="stable")
    values, weights = values[order], weights[order]
    centres = (np.cumsum(weights) - 0.5 * weights) / weights.sum()
    return np.interp(quantiles, centres, values)


# -- confidence intervals ----------------------------------------------------------------------------
def order_statistic_ranks(n: int, quantiles, level: float = CI_LEVEL):
    """0-based ranks ``(low, high)`` of the order statistics bounding each quantile at ``level``.

    Ranks that fall off the sample (small ``n``) are clamped to the minimum or maximum.
    """
    return _ranks(int(n), tuple(float(q) for q in np.atleast_1d(quantiles)), float(level))


@functools.lru_cache(maxsize=1024)
def _ranks(n: int, quantiles: tuple, level: float):
    """Remembered in the user cache folder too (:mod:`simulate.user_cache`, keyed by the arguments,
    this module's code and scipy's version): a warm run does not import scipy.special (0.3-0.5 s)."""
    key = user_cache.digest("order-statistic ranks", n, repr(quantiles), repr(level),
                            user_cache.source_digest("engine/histogram.py"), user_cache.version_of("scipy"))
    ranks = user_cache.remembered_array(RANKS_MEMO, key, "<i8", 2 * len(quantiles),
                                        lambda: np.stack(_binomial_ranks(n, quantiles, level)))
    low, high = ranks.reshape(2, len(quantiles)).astype(np.int64)
    return low, high


RANKS_MEMO = "order-statistic-ranks"


def _binomial_ranks(n: int, quantiles: tuple, level: float):
    p = np.asarray(quantiles, dtype=float)
    tail = (1.0 - level) / 2.0
    low = binomial_ppf(tail, n, p)                 # 1-based rank l
    high = binomial_ppf(1.0 - tail, n, p) + 1       # 1-based rank u
    return np.clip(low - 1, 0, n - 1).astype(np.int64), np.clip(high - 1, 0, n - 1).astype(np.int64)


def binomial_ppf(q: float, n: int, p):
    """``scipy.stats.binom.ppf(q, n, p)`` for ``0 < q < 1``, ``n >= 1`` and ``0 <= p <= 1``, bit for bit.

    It is the ufunc ``binom.ppf`` calls there (Boost's binomial quantile, rounded up to an integer),
    without importing scipy.stats; tests/engine/test_histogram_ppf.py checks the two agree.
    """
    from scipy.special import _ufuncs as scipy_ufuncs   # scipy.stats takes 1 s to import, scipy.special 0.3 s

    return scipy_ufuncs._binom_ppf(q, float(n), np.asarray(p, dtype=float))


def quantile_interval(counts, lo_key, vmin, vmax, quantiles, level: float = CI_LEVEL, floor=0):
    """``(low, high)`` confidence bounds of each quantile from one key histogram."""
    return _interval(counts, lo_key, vmin, vmax, quantiles, level, floor)[:2]


def _interval(counts, lo_key, vmin, vmax, quantiles, level, floor):
    n = int(np.sum(counts))
    if n == 0:
        nan = np.full(len(quantiles), np.nan)
        return nan, nan, False
    lo_rank, hi_rank = order_statistic_ranks(n, quantiles, level)
    values, coarse = values_at_ranks(counts, lo_key, vmin, vmax, np.concatenate([lo_rank, hi_rank]), floor)
    return values[:len(quantiles)], values[len(quantiles):], coarse


def reported_ranks(n: int, quantiles=QUANTILES, level: float = CI_LEVEL) -> np.ndarray:
    """Every 0-based rank the quantiles and their confidence bounds of ``n`` samples are read from."""
    rank = np.floor(np.asarray(quantiles) * (n - 1)).astype(np.int64)
    return np.concatenate([rank, np.minimum(rank + 1, n - 1), *order_statistic_ranks(n, quantiles, level)])


def relative_error(estimate, low, high):
    """Half-width of the interval over the estimate's magnitude (0 when both are 0)."""
    estimate, low, high = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (estimate, low, high)))
    half = (high - low) / 2.0
    with np.errstate(all="ignore"):   # an estimate at (or next to) zero has an infinite relative error
        err = np.where(half == 0, 0.0, half / np.abs(estimate))
    return err


# -- cells of a run ----------------------------------------------------------------------------------
def cell_quantiles(windows, merged, o: int, t: int, quantiles=QUANTILES, level=None):
    """Quantiles of output ``o`` at time ``t`` and their confidence bounds, from merged histograms.

    Returns ``(quantiles, low, high, coarse)``; ``coarse`` is True when a quantile or bound may be
    off by more than a bin's width (see :func:`values_at_ranks`).
    """
    source, scale = windows.source[o, t], windows.scale[o, t]
    if source != t:  # a day of a profile output: its month, scaled (a negative scale swaps the tails)
        wanted = 1.0 - np.asarray(quantiles) if scale < 0 else quantiles
        q, low, high, outside = cell_quantiles(windows, merged, o, source, wanted, level)
        return (*scaled_cell(q, low, high, scale), outside)
    args = (windows.counts(merged.hist, o, t), windows.lo_key[o, t], *merged.extremes[o, t])
    q, coarse = histogram_quantiles(*args, quantiles, floor=windows.floor[o, t])
    low, high, coarse_bounds = _interval(*args, quantiles, CI_LEVEL if level is None else level, windows.floor[o, t])
    return q, low, high, coarse or coarse_bounds


def refined_windows(windows, merged, quantiles=QUANTILES, level: float = CI_LEVEL, budget: int | None = None,
                    first_month: int = 0):
    """Windows for a second pass over the same samples, or None when no cell needs one.

    A cell whose reported quantiles or bounds fell in coarse bins (see :func:`values_at_ranks`)
    gets a window at full resolution (no floor) over every value those ranks can hold, while
    ``budget`` bins last (default :data:`REFINE_BINS`; times from ``first_month`` on, the months
    a reader quotes, first); every other cell gets none (sums only).
    """
    budget = REFINE_BINS if budget is None else budget
    lo_key = np.zeros_like(windows.lo_key)
    length = np.zeros_like(windows.length)
    used = 0
    n_out, n_times = windows.length.shape
    for t in sorted(range(n_times), key=lambda t: t < first_month):
        for o in range(n_out):
            n = int(merged.stats[o, t, 0])
            if windows.source[o, t] != t or n == 0 or windows.length[o, t] == 0:
                continue
            counts = windows.counts(merged.hist, o, t)
            if windows.floor[o, t] == 0 and counts[0] == 0 and counts[-1] == 0:
                continue   # every sample inside the window, at full resolution
            vmin, vmax = merged.extremes[o, t]
            _, coarse, (low, high) = _rank_bins(counts, windows.lo_key[o, t], vmin, vmax,
                                                reported_ranks(n, quantiles, level), windows.floor[o, t])
            if not coarse.any():
                continue
            first, last = (int(k) for k in value_keys(np.array([low.min(), high.max()])))
            if used + last - first + 1 <= budget:
                lo_key[o, t], length[o, t] = first, last - first + 1
                used += last - first + 1
    if not length.any():
        return None
    return Windows(lo_key, length, windows.shift, None, (windows.source, windows.scale))


def with_refined(windows, hist, fine, fine_hist):
    """``(windows, hist)`` with every cell ``fine`` has a window for taken from ``fine``'s pass."""
    take = fine.length > 0
    merged = Windows(np.where(take, fine.lo_key, windows.lo_key), np.where(take, fine.length, windows.length),
                     windows.shift, np.where(take, 0, windows.floor), (windows.source, windows.scale))
    out = np.zeros(max(merged.total, 1), dtype=np.int64)
    for o, t in np.ndindex(*take.shape):
        source, counts = (fine, fine_hist) if take[o, t] else (windows, hist)
        start = merged.offset[o, t]
        out[start:start + merged.length[o, t] + 2] = source.counts(counts, o, t)
    return merged, out


def scaled_cell(q, low, high, scale):
    """Quantiles and their bounds multiplied by ``scale``; a negative scale swaps low and high."""
    low, high = (high, low) if scale < 0 else (low, high)
    return q * scale, low * scale, high * scale


def worst_relative_error(windows, merged, checked, quantiles=CHECKED_QUANTILES, level: float = CI_LEVEL):
    """The largest relative error over the ``checked`` (output, time) cells and quantiles, and where.

    Returns ``(error, (output_index, time_index, quantile))``; NaN errors (no finite samples) are
    skipped. Cells read from another cell have its relative error and are not in ``checked``.
    """
    worst, where = 0.0, None
    n_out, n_times = windows.length.shape
    for o in range(n_out):
        for t in range(n_times):
            if not checked[o, t]:
                continue
            q, low, high, _ = cell_quantiles(windows, merged, o, t, quantiles, level)
            err = relative_error(q, low, high)
            if not np.isnan(err).all():
                k = int(np.nanargmax(err))
                if where is None or err[k] > worst:
                    worst, where = float(err[k]), (o, t, quantiles[k])
    return worst, where
