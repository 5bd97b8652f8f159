"""Run a compiled program: deal samples into seeded blocks, call the kernel, merge in block order.

Block ``k`` holds samples ``k * BLOCK_SIZE`` onwards and draws from
``SeedSequence(seed, spawn_key=(k,))``, one xoshiro256** stream per (parameter, month). The
first block is also run once as a pilot that fixes each histogram's window and each sum's shift
(its mean), so every later number is a deterministic function of (model, samples, seed).

Stopping (``run(..., rtol=r)``): stages double the sample count (whole blocks), from ``samples``
up to ``max_samples``; blocks keep their seeds, so a run that stops at N samples equals a fixed
run of N samples.

Refining: when a quantile lands where its window is coarse (see
:func:`simulate.engine.histogram.refined_windows`), :func:`refine` draws the same samples again
into windows at full resolution around it; numbers stay a function of (model, samples, seed).
"""
from __future__ import annotations

import concurrent.futures
import os
import threading

import numba
import numpy as np

from ..errors import ModelError
from . import _kernel
from .compiler import Program
from .encoding import TILE
from .histogram import Windows, empty_layout, refined_windows, with_refined

BLOCK_SIZE = 1 << 16        # samples per seeded block: fixed, part of what a seed means
BATCH_BLOCKS = 32           # blocks per kernel call (memory and progress granularity only)
DEFAULT_MAX_SAMPLES = 100_000_000     # where a run with rtol gives up unless told otherwise


MAX_SAMPLES = 2**53          # sample counts are summed as float64: exact up to here


class BlockSizes:
    """The number of samples in each block (full blocks, then the remainder), never materialised:
    ``len()``, indexing and slicing (an int64 array) as for the array they stand for."""

    def __init__(self, samples: int):
        self.samples = int(samples)
        self.n_full, self.rest = divmod(self.samples, BLOCK_SIZE)

    def __len__(self) -> int:
        return self.n_full + (1 if self.rest else 0)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return np.array([self[k] for k in range(*index.indices(len(self)))], dtype=np.int64)
        k = range(len(self))[index]
        return BLOCK_SIZE if k < self.n_full else self.rest

    def __array__(self, dtype=None, copy=None):
        return self[:].astype(dtype or np.int64)

    def sum(self) -> int:
        return self.samples


def block_sizes(samples: int) -> BlockSizes:
    """The number of samples in each block: full blocks, then the remainder."""
    return BlockSizes(samples)


def block_states(seed: int, blocks, n_streams: int) -> np.ndarray:
    """xoshiro256** states for the given block indices: ``(len(blocks), n_streams, 4)`` uint64."""
    states = np.empty((len(blocks), n_streams, 4), dtype=np.uint64)
    for i, k in enumerate(blocks):
        seq = np.random.SeedSequence(seed, spawn_key=(int(k),))
        states[i] = seq.generate_state(4 * n_streams, np.uint64).reshape(n_streams, 4)
    return states


def stage_samples(samples: int, rtol, max_samples) -> list[int]:
    """Cumulative sample counts after each stage: one stage without ``rtol``, else doubling.

    With ``rtol`` every stage but a final one capped at ``max_samples`` holds whole blocks, so
    each stage only adds blocks to the previous one.
    """
    if rtol is None:
        return [samples]
    cap = max_samples
    first = min(cap, -(-samples // BLOCK_SIZE) * BLOCK_SIZE)
    stages = [first]
    while stages[-1] < cap:
        stages.append(min(cap, 2 * stages[-1]))
    return stages


class Reductions:
    """Histogram counts and sums merged over blocks, in block order."""

    def __init__(self, hist, stats, extremes):
        self.hist, self.stats, self.extremes = hist, stats, extremes

    @classmethod
    def start(cls, shape, hist_total):
        extremes = np.empty(shape + (2,))
        extremes[..., 0], extremes[..., 1] = np.inf, -np.inf
        return cls(np.zeros(max(hist_total, 1), dtype=np.int64), np.zeros(shape + (3,)), extremes)

    def add(self, hist, block_stats, block_extremes):
        """Merge one kernel call's result; its blocks are added in their order."""
        self.hist += hist
        for stats in block_stats:  # fixed-order float sums: same bits for any scheduling
            self.stats += stats
        self.extremes[..., 0] = np.minimum(self.extremes[..., 0], block_extremes[..., 0].min(axis=0))
        self.extremes[..., 1] = np.maximum(self.extremes[..., 1], block_extremes[..., 1].max(axis=0))


class Kept(tuple):
    """The first samples' draws ``(rows, draws)`` and monthly outputs ``(rows, outputs, months)``."""

    @classmethod
    def empty(cls, program: Program, rows: int = 0) -> "Kept":
        return cls((np.full((rows, len(program.draw_names)), np.nan),
                    np.full((rows, program.n_outputs, program.n_months), np.nan)))

    @property
    def rows(self) -> int:
        return len(self[0])


def reduce_range(program: Program, windows: Windows, seed: int, sizes: np.ndarray, first_block: int,
                 kept: Kept | None = None):
    """Sample blocks ``first_block ..`` with the given sizes; return (hist, per-block stats, extremes).

    This is the unit of work a dask task runs; its result depends only on its arguments.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    if int(np.sum(sizes)) >= 2**31:
        raise ValueError("reduce_range takes fewer than 2**31 samples per call; split the blocks into batches")
    if windows.length.shape != (program.n_outputs, program.n_times):   # the kernel does not check its indices
        raise ValueError(f"reduce_range: windows of shape {windows.length.shape} cover (output, time) cells, the "
                         f"program has {(program.n_outputs, program.n_times)}: build them with shape (n_outputs, n_times)")
    blocks = np.arange(first_block, first_block + len(sizes))
    states = block_states(seed, blocks, program.n_streams)
    kept = Kept.empty(program) if kept is None else kept
    n_chunks = min(numba.get_num_threads(), len(sizes))
    layout = windows.layout
    hists = np.zeros((n_chunks, max(layout.total, 1)), dtype=np.int32)   # half the cache of int64
    shape = (len(sizes), program.n_outputs, program.n_times)
    stats = np.zeros(shape + (3,))
    extremes = np.empty(shape + (2,))
    extremes[..., 0], extremes[..., 1] = np.inf, -np.inf
    no_inputs = np.empty((0, len(program.draw_names)))
    no_days = np.empty((0, program.n_outputs, 1))
    in_threads(n_chunks, lambda c: _kernel.run_chunk(
        c, n_chunks, sizes, states, blocks * BLOCK_SIZE, no_inputs, program.draws, program.evaluation, layout,
        hists[c], stats, extremes, kept[0], no_days, kept[1]))
    return hists.sum(axis=0, dtype=np.int64), stats, extremes


_POOL: list = []
_POOL_LOCK = threading.Lock()


def in_threads(n: int, work) -> None:
    """Run ``work(0), ..., work(n - 1)`` at once, one thread each (the kernel releases the GIL)."""
    if n == 1:
        work(0)
        return
    with _POOL_LOCK:
        if not _POOL or _POOL[0]._max_workers < n:
            _POOL[:] = [concurrent.futures.ThreadPoolExecutor(max(n, numba.config.NUMBA_NUM_THREADS),
                                                              thread_name_prefix="simulate-kernel")]
        pool = _POOL[0]
    for future in [pool.submit(work, c) for c in range(n)]:
        future.result()


def local_reductions(program, windows, seed, sizes, first_block, kept: Kept):
    """Yield ``(samples, (hist, stats, extremes))`` for blocks ``first_block..len(sizes)`` in block
    order, from kernel calls of ``BATCH_BLOCKS`` blocks in this process."""
    for first in range(first_block, len(sizes), BATCH_BLOCKS):
        batch = sizes[first:min(first + BATCH_BLOCKS, len(sizes))]
        keep = kept if first * BLOCK_SIZE < kept.rows else None
        yield int(batch.sum()), reduce_range(program, windows, seed, batch, first, keep)


def sample_stages(program, seed: int, stages, *, reductions=local_reductions, kept: Kept | None = None, bar=None):
    """Yield ``(samples, windows, merged)`` after each cumulative sample count in ``stages``.

    Histogram windows come from a pilot of block 0 as it is in the last stage, so stopping after
    any stage gives the same numbers as a fixed run of that many samples. Stages other than the
    last must hold whole blocks (see :func:`stage_samples`). ``reductions`` runs the blocks
    (:func:`local_reductions`, or :func:`simulate.engine.distributed.cluster_reductions`);
    ``kept`` receives the first samples' draws.
    """
    kept = Kept.empty(program) if kept is None else kept
    shape = (program.n_outputs, program.n_times)
    _, pilot_stats, pilot_extremes = reduce_range(program, Windows.empty(shape), seed,
                                                  block_sizes(stages[-1])[:1], 0)
    windows = Windows.from_pilot(pilot_stats[0], pilot_extremes[0], program.cell_sources())
    check_memory(windows)
    merged = Reductions.start(shape, windows.total)
    done_blocks = 0
    for target in stages:
        sizes = block_sizes(target)  # earlier stages hold whole blocks: a prefix of later ones
        for n_done, (hist, stats, extremes) in reductions(program, windows, seed, sizes, done_blocks, kept):
            merged.add(hist, stats, extremes)
            if bar is not None:
                bar.update(n_done)
        done_blocks = len(sizes)
        yield target, windows, merged


def refine(program, seed: int, samples: int, windows: Windows, merged: Reductions, *,
           reductions=local_reductions, bar=None) -> tuple[Windows, Reductions]:
    """``(windows, merged)`` with every coarse cell redrawn at full resolution (unchanged if none).

    Cells where a reported quantile or confidence bound fell outside its window, or in the bins
    next to zero shared by small magnitudes, are counted again over the same ``samples`` in
    windows that cover every value those ranks can hold (:func:`~simulate.engine.histogram.refined_windows`).
    """
    fine = refined_windows(windows, merged, first_month=program.n_days)
    if fine is None:
        return windows, merged
    check_memory(fine)
    if bar is not None:
        bar.total += samples
        bar.refresh()
    hist = np.zeros(max(fine.total, 1), dtype=np.int64)
    for n_done, (counts, _, _) in reductions(program, fine, seed, block_sizes(samples), 0, Kept.empty(program)):
        hist += counts
        if bar is not None:
            bar.update(n_done)
    windows, hist = with_refined(windows, merged.hist, fine, hist)
    return windows, Reductions(hist, merged.stats, merged.extremes)


def histogram_bytes(windows: Windows) -> int:
    """Memory a run's histograms take: int32 counts per kernel thread, and two int64 sums."""
    return windows.total * (4 * numba.get_num_threads() + 16)


def check_memory(windows: Windows):
    """Refuse a model whose histograms would not fit in half of this machine's memory."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):   # no sysconf (Windows): nothing to compare with
        return
    need = histogram_bytes(windows)
    if need > memory / 2:
        raise ModelError(f"its histograms would take {need / 2**30:.1f} GiB, more than half of this machine's "
                         f"{memory / 2**30:.1f} GiB ({windows.length.size:,} output-days and months)",
                         field="outputs", fix="report fewer outputs or cover a shorter period")


def kept_rows(keep: int, samples: int) -> int:
    """Rows to allocate for ``keep`` kept samples: whole tiles, at most ``samples``."""
    return min(samples, -(-keep // TILE) * TILE) if keep else 0


def evaluate_draws(program: Program, values: np.ndarray, daily: np.ndarray, monthly: np.ndarray):
    """Evaluate ``program`` on given input values ``values[sample, draw]`` (columns as ``draw_names``).

    Writes ``daily[sample, output, day]`` (skipped when it has no rows) and
    ``monthly[sample, output, month]``. Used by sensitivity analysis and calibration.
    """
    n = len(values)
    if (len(monthly) < n or monthly.shape[1:] != (program.n_outputs, program.n_months)
            or values.shape[1:] != (len(program.draw_names),)
            or (len(daily) and (len(daily) < n or daily.shape[1:] != (program.n_outputs, program.n_days)))):
        raise ValueError("evaluate_draws: the arrays do not match the program's inputs, outputs and times")
    values = np.ascontiguousarray(values, dtype=np.float64)
    starts = np.arange(0, n, TILE, dtype=np.int64)
    sizes = np.minimum(TILE, n - starts)
    n_chunks = min(numba.get_num_threads(), len(sizes))
    states = np.empty((len(sizes), 0, 4), dtype=np.uint64)
    stats, extremes = np.zeros((len(sizes), 1, 1, 3)), np.zeros((len(sizes), 1, 1, 2))
    no_hist, layout = np.zeros(1, dtype=np.int32), empty_layout()
    if n:
        in_threads(n_chunks, lambda c: _kernel.run_chunk(
            c, n_chunks, sizes, states, starts, values, program.draws, program.evaluation, layout, no_hist,
            stats, extremes, np.empty((0, len(program.draw_names))), daily, monthly))
