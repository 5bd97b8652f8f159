"""Run a model: deal samples into seeded blocks, call the kernel, merge the reductions in block order.

Block ``k`` holds samples ``k * BLOCK_SIZE`` onwards and draws from
``SeedSequence(seed, spawn_key=(k,))``, one xoshiro256** stream per (parameter, month). The
first block is also run once as a pilot that fixes each histogram's window and each sum's shift
(its mean), so every later number is a deterministic function of (model, samples, seed).
"""
from __future__ import annotations

import time

import numba
import numpy as np

from . import kernel
from .program import Program, compile_model
from .results import Reductions, build_dataset

BLOCK_SIZE = 1 << 16        # samples per seeded block: fixed, part of what a seed means
BATCH_BLOCKS = 32           # blocks per kernel call (memory and progress granularity only)
MARGIN_KEYS = 2 * 256       # two octaves of bins beyond the pilot's min and max
MAX_BINS = 64 * 256         # at most 64 octaves of bins per output and time


def block_sizes(samples: int) -> np.ndarray:
    """The number of samples in each block: full blocks, then the remainder."""
    n_full, rest = divmod(samples, BLOCK_SIZE)
    return np.array([BLOCK_SIZE] * n_full + ([rest] if rest else []), dtype=np.int64)


def block_states(seed: int, blocks, n_streams: int) -> np.ndarray:
    """xoshiro256** states for the given block indices: ``(len(blocks), n_streams, 4)`` uint64."""
    states = np.empty((len(blocks), n_streams, 4), dtype=np.uint64)
    for i, k in enumerate(blocks):
        seq = np.random.SeedSequence(seed, spawn_key=(int(k),))
        states[i] = seq.generate_state(4 * n_streams, np.uint64).reshape(n_streams, 4)
    return states


def program_args(program: Program) -> tuple:
    """The program arrays in the order the kernel's evaluation stage takes them."""
    p = program
    return (p.const_reg, p.const_val, p.sample_prog, p.sample_len, p.month_prog, p.month_len,
            p.day_prog, p.day_len, p.builtin_reg, p.builtin_val, p.month_of_day, p.days_per_month,
            p.out_reg, p.out_is_mean)


class Windows:
    """Histogram windows and sum shifts for every (output, time), fixed by the pilot block."""

    def __init__(self, lo_key, length, shift, floor=None):
        self.lo_key = lo_key.astype(np.int64)
        self.length = length.astype(np.int64)
        self.shift = shift.astype(np.float64)
        self.floor = np.zeros_like(self.lo_key) if floor is None else floor.astype(np.int64)
        sizes = (self.length + 2).ravel()
        self.offset = np.concatenate([[0], np.cumsum(sizes)[:-1]]).reshape(self.length.shape).astype(np.int64)
        self.total = int(sizes.sum())

    @classmethod
    def empty(cls, shape):
        zeros = np.zeros(shape, dtype=np.int64)
        return cls(zeros, zeros, np.zeros(shape))

    @classmethod
    def from_pilot(cls, stats, extremes):
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
        length = np.where(finite, key_max - key_min + 1, 0)
        return cls(key_min, length, shift, floor)


def value_keys(values, floor=0) -> np.ndarray:
    """The histogram key of each value: monotone in the value, 256 keys per octave.

    Magnitude keys at or below ``floor`` collapse to 0 (positive) or -1 (negative), as in the kernel.
    """
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
    magnitude = (bits & np.int64(0x7FFFFFFFFFFFFFFF)) >> kernel.KEY_SHIFT
    magnitude = np.maximum(magnitude - floor, 0)
    return np.where(bits >= 0, magnitude, -magnitude - 1)


def key_bounds(keys, floor=0) -> tuple[np.ndarray, np.ndarray]:
    """The [low, high) value interval each key covers (keys next to zero reach zero)."""
    keys = np.asarray(keys, dtype=np.int64)
    magnitude = np.where(keys >= 0, keys, -keys - 1)
    lo_mag = np.where(magnitude > 0, ((magnitude + floor) << kernel.KEY_SHIFT).view(np.float64), 0.0)
    hi_mag = ((magnitude + floor + 1) << kernel.KEY_SHIFT).view(np.float64)
    return np.where(keys >= 0, lo_mag, -hi_mag), np.where(keys >= 0, hi_mag, -lo_mag)


def reduce_range(program: Program, windows: Windows, seed: int, sizes: np.ndarray, first_block: int,
                 keep_arrays=None):
    """Sample blocks ``first_block ..`` with the given sizes; return (hist, per-block stats, extremes).

    This is the unit of work a dask task runs; its result depends only on its arguments.
    """
    p = program
    blocks = np.arange(first_block, first_block + len(sizes))
    states = block_states(seed, blocks, p.n_streams)
    first_sample = blocks * BLOCK_SIZE
    if keep_arrays is None:
        keep_draws = np.empty((0, len(p.draw_regs)))
        keep_monthly = np.empty((0, p.out_reg.shape[1], p.n_months))
    else:
        keep_draws, keep_monthly = keep_arrays
    n_chunks = min(numba.get_num_threads(), len(sizes))
    return kernel.reduce_blocks(
        sizes, states, n_chunks, p.slot_code, p.slot_par, p.slot_reg, p.slot_stream, p.table,
        p.corr_regs, p.corr_chol, p.corr_stream, p.n_regs,
        *program_args(p), windows.offset, windows.lo_key, windows.length, windows.floor, windows.shift,
        windows.total,
        first_sample, p.draw_regs, keep_draws, keep_monthly)


def run_model(model, *, samples: int, seed: int, keep: int = 0, progress=None):
    """Sample ``model`` and return its results Dataset (see :meth:`simulate.model.Model.run`)."""
    from .errors import ModelError

    for name, value, low in (("samples", samples, 1), ("seed", seed, 0), ("keep", keep, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ModelError(f"must be an integer >= {low}", path=model.path, field=name, value=value,
                             fix=f"pass {name}={max(low, 1000) if name == 'samples' else low} or more")
    samples, seed, keep = int(samples), int(seed), min(int(keep), int(samples))
    program = compile_model(model)
    sizes = block_sizes(samples)
    started = time.perf_counter()

    shape = (program.out_reg.shape[1], program.n_days + program.n_months)
    _, pilot_stats, pilot_extremes = reduce_range(program, Windows.empty(shape), seed, sizes[:1], 0)
    windows = Windows.from_pilot(pilot_stats[0], pilot_extremes[0])

    keep_rows = min(samples, -(-keep // kernel.TILE) * kernel.TILE) if keep else 0
    keep_arrays = (np.full((keep_rows, len(program.draw_regs)), np.nan),
                   np.full((keep_rows, shape[0], program.n_months), np.nan))
    merged = Reductions.start(shape, windows.total)
    for first in range(0, len(sizes), BATCH_BLOCKS):
        batch = sizes[first:first + BATCH_BLOCKS]
        hist, stats, extremes = reduce_range(program, windows, seed, batch, first,
                                             keep_arrays if first * BLOCK_SIZE < keep_rows else None)
        merged.add(hist, stats, extremes)
    elapsed = time.perf_counter() - started
    kept = (keep_arrays[0][:keep], keep_arrays[1][:keep]) if keep else None
    return build_dataset(model, program, windows, merged, samples=samples, seed=seed,
                         elapsed_s=elapsed, kept=kept)
