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
            p.out_reg, p.out_is_mean, p.out_profile, p.day_factor, p.month_factor)


class Windows:
    """Histogram windows and sum shifts for every (output, time), fixed by the pilot block.

    ``source[o, t]`` and ``scale[o, t]``: the cell whose histogram and sums hold (o, t)'s
    distribution and the factor to apply (days of profile outputs read their month, see
    :meth:`simulate.program.Program.cell_sources`); by default every cell is its own source.
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

    @classmethod
    def empty(cls, shape):
        zeros = np.zeros(shape, dtype=np.int64)
        return cls(zeros, zeros, np.zeros(shape))

    @classmethod
    def from_pilot(cls, stats, extremes, sources=None):
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
        return cls(key_min, length, shift, floor, sources)


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
    if int(np.sum(sizes)) >= 2**31:
        raise ValueError("reduce_range takes fewer than 2**31 samples per call; split the blocks into batches")
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


def run_model(model, *, samples: int, seed: int, keep: int = 0, progress=None, rtol=None, max_samples=None,
              client=None):
    """Sample ``model`` and return its results Dataset (see :meth:`simulate.model.Model.run`)."""
    from .convergence import DEFAULT_MAX_SAMPLES, stage_samples, worst_relative_error
    from .errors import ModelError

    if max_samples is None and rtol is not None:
        max_samples = max(DEFAULT_MAX_SAMPLES, samples)
    checks = [("samples", samples, 1), ("seed", seed, 0), ("keep", keep, 0)]
    if max_samples is not None:
        checks.append(("max_samples", max_samples, 1))
    for name, value, low in checks:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ModelError(f"must be an integer >= {low}", path=model.path, field=name, value=value,
                             fix=f"pass {name}={max(low, 1000) if 'samples' in name else low} or more")
    if rtol is not None and (isinstance(rtol, bool) or not isinstance(rtol, (int, float)) or not 0 < rtol < 1):
        raise ModelError("must be a number between 0 and 1", path=model.path, field="rtol", value=rtol,
                         fix="pass rtol=0.01 for quantiles within 1% (at 95% confidence)")
    samples, seed = int(samples), int(seed)
    stages = stage_samples(samples, rtol, None if max_samples is None else int(max_samples), BLOCK_SIZE)
    program = compile_model(model)
    started = time.perf_counter()

    shape = (program.out_reg.shape[1], program.n_days + program.n_months)
    keep = min(int(keep), stages[-1])
    keep_rows = min(stages[-1], -(-keep // kernel.TILE) * kernel.TILE) if keep else 0
    keep_arrays = (np.full((keep_rows, len(program.draw_regs)), np.nan),
                   np.full((keep_rows, shape[0], program.n_months), np.nan))
    bar = _progress_bar(progress, stages[-1])
    error, where = np.nan, None
    try:
        for target, windows, merged in sample_stages(program, seed, stages, client=client,
                                                     keep_arrays=keep_arrays, keep_rows=keep_rows, bar=bar):
            if rtol is not None:
                error, where = worst_relative_error(windows, merged)
                if bar is not None:
                    bar.set_postfix_str(f"worst relative error {error:.3g}")
                if error < rtol:
                    break
    finally:
        if bar is not None:
            bar.close()
    done = target
    elapsed = time.perf_counter() - started
    extra = {}
    if rtol is not None:
        converged = bool(error < rtol)
        extra = {"rtol": float(rtol), "max_samples": int(max_samples), "converged": int(converged)}
        if not converged:
            import warnings

            name, scale, when = _describe(model, program, where)
            warnings.warn(f"{model.path or model.name}: stopped at max_samples={done:,} before reaching "
                          f"rtol={rtol:g}: worst relative error {error:.3g} ({name}, {scale} {when}); "
                          "raise max_samples or rtol", RuntimeWarning, stacklevel=3)
    keep = min(keep, done)
    kept = (keep_arrays[0][:keep], keep_arrays[1][:keep]) if keep else None
    return build_dataset(model, program, windows, merged, samples=done, seed=seed,
                         elapsed_s=elapsed, kept=kept, extra_attrs=extra)


def sample_stages(program, seed: int, stages, *, client=None, keep_arrays=None, keep_rows: int = 0, bar=None):
    """Yield ``(samples, windows, merged)`` after each cumulative sample count in ``stages``.

    Histogram windows come from a pilot of block 0 as it is in the last stage, so stopping after
    any stage gives the same numbers as a fixed run of that many samples. Stages other than the
    last must hold whole blocks (see :func:`simulate.convergence.stage_samples`).
    """
    shape = (program.out_reg.shape[1], program.n_days + program.n_months)
    _, pilot_stats, pilot_extremes = reduce_range(program, Windows.empty(shape), seed,
                                                  block_sizes(stages[-1])[:1], 0)
    windows = Windows.from_pilot(pilot_stats[0], pilot_extremes[0], program.cell_sources())
    merged = Reductions.start(shape, windows.total)
    done_blocks = 0
    for target in stages:
        sizes = block_sizes(target)  # earlier stages hold whole blocks: a prefix of later ones
        for n_done, (hist, stats, extremes) in _reductions(program, windows, seed, sizes, done_blocks,
                                                           client, keep_arrays, keep_rows):
            merged.add(hist, stats, extremes)
            if bar is not None:
                bar.update(n_done)
        done_blocks = len(sizes)
        yield target, windows, merged


def _reductions(program, windows, seed, sizes, first_block, client, keep_arrays, keep_rows):
    """Yield ``(samples, (hist, stats, extremes))`` for blocks ``first_block..len(sizes)`` in block order.

    Local runs call the kernel on batches of ``BATCH_BLOCKS``; with a dask ``client`` the batches
    run as tasks and only their reductions come back. Blocks holding kept samples run here.
    """
    n_blocks = len(sizes)
    local_until = first_block
    while local_until < n_blocks and local_until * BLOCK_SIZE < keep_rows:
        local_until += 1
    if client is None:
        local_until = n_blocks
    for first in range(first_block, local_until, BATCH_BLOCKS):
        batch = sizes[first:min(first + BATCH_BLOCKS, local_until)]
        keep = keep_arrays if first * BLOCK_SIZE < keep_rows else None
        yield int(batch.sum()), reduce_range(program, windows, seed, batch, first, keep)
    if local_until < n_blocks:
        from .distributed import ordered_reductions

        yield from ordered_reductions(client, program, windows, seed, sizes, local_until)


def _progress_bar(progress, total):
    """A tqdm bar on stderr when asked, or by default when stderr is a terminal; shown after 2 s."""
    import sys

    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="samples", unit_scale=True, delay=2.0, file=sys.stderr, leave=False)


def _describe(model, program, where):
    """Output name, scale and date of a (output, time, quantile) location."""
    if where is None:
        return "?", "", ""
    o, t, p = where
    name = list(model.outputs)[o]
    if t < program.n_days:
        return name, "daily", f"{model.period.dates[t]}, quantile {p}"
    return name, "monthly", f"{model.period.months[t - program.n_days]}, quantile {p}"
