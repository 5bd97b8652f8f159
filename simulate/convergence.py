"""Confidence intervals for the reported quantiles, and when to stop adding samples.

Interval: the distribution-free order-statistic interval. With ``n`` samples the number ``B`` of
samples below the true ``p``-quantile is Binomial(n, p), so the order statistics
``[X(l), X(u)]`` with ``l = binom.ppf(a/2, n, p)`` and ``u = binom.ppf(1 - a/2, n, p) + 1``
cover it with probability at least ``1 - a`` (David & Nagaraja, *Order Statistics*, 3rd ed.,
2003, section 7.1). The order statistics are read from the same exact histogram counts as the
quantiles, so the interval costs two ``searchsorted`` calls and needs no per-sample storage.

Stopping: ``run(..., rtol=r)`` samples in stages that double the sample count (whole blocks),
from ``samples`` up to ``max_samples``, and stops at the first stage where every checked quantile
(5%, 50%, 95%) of every output, daily and monthly, has half-width / |estimate| below ``r``.
Blocks keep their seeds, so a run that stops at N samples equals a fixed run of N samples.
"""
from __future__ import annotations

import functools

import numpy as np
from scipy import stats

CI_LEVEL = 0.95                       # confidence level of the reported intervals
CHECKED_QUANTILES = (0.05, 0.5, 0.95)  # what rtol is checked on
DEFAULT_MAX_SAMPLES = 100_000_000     # where a run with rtol gives up unless told otherwise


def order_statistic_ranks(n: int, quantiles, level: float = CI_LEVEL):
    """0-based ranks ``(low, high)`` of the order statistics bounding each quantile at ``level``.

    Ranks that fall off the sample (small ``n``) are clamped to the minimum or maximum.
    """
    return _ranks(int(n), tuple(float(q) for q in np.atleast_1d(quantiles)), float(level))


@functools.lru_cache(maxsize=1024)
def _ranks(n: int, quantiles: tuple, level: float):
    p = np.asarray(quantiles, dtype=float)
    tail = (1.0 - level) / 2.0
    low = stats.binom.ppf(tail, n, p)              # 1-based rank l
    high = stats.binom.ppf(1.0 - tail, n, p) + 1    # 1-based rank u
    return np.clip(low - 1, 0, n - 1).astype(np.int64), np.clip(high - 1, 0, n - 1).astype(np.int64)


def quantile_interval(counts, lo_key, vmin, vmax, quantiles, level: float = CI_LEVEL, floor=0):
    """``(low, high)`` confidence bounds of each quantile from one key histogram."""
    from .results import values_at_ranks

    n = int(np.sum(counts))
    if n == 0:
        nan = np.full(len(quantiles), np.nan)
        return nan, nan
    lo_rank, hi_rank = order_statistic_ranks(n, quantiles, level)
    values, _ = values_at_ranks(counts, lo_key, vmin, vmax, np.concatenate([lo_rank, hi_rank]), floor)
    return values[:len(quantiles)], values[len(quantiles):]


def relative_error(estimate, low, high):
    """Half-width of the interval over the estimate's magnitude (0 when both are 0)."""
    estimate, low, high = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (estimate, low, high)))
    half = (high - low) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        err = np.where(half == 0, 0.0, half / np.abs(estimate))
    return err


def worst_relative_error(windows, merged, quantiles=CHECKED_QUANTILES, level: float = CI_LEVEL):
    """The largest relative error over every output, time and checked quantile, and where it is.

    Returns ``(error, (output_index, time_index, quantile))``; NaN errors (no finite samples) are
    skipped.
    """
    from .results import cell_quantiles

    worst, where = 0.0, None
    n_out, n_times = windows.length.shape
    for o in range(n_out):
        for t in range(n_times):
            if windows.source[o, t] != t:  # a scaled copy of another cell: the same relative error
                continue
            q, low, high, _ = cell_quantiles(windows, merged, o, t, quantiles, level)
            err = relative_error(q, low, high)
            if not np.isnan(err).all():
                k = int(np.nanargmax(err))
                if where is None or err[k] > worst:
                    worst, where = float(err[k]), (o, t, quantiles[k])
    return worst, where


def stage_samples(samples: int, rtol, max_samples, block_size: int) -> list[int]:
    """Cumulative sample counts after each stage: one stage without ``rtol``, else doubling.

    With ``rtol`` every stage but a final one capped at ``max_samples`` holds whole blocks, so
    each stage only adds blocks to the previous one.
    """
    if rtol is None:
        return [samples]
    cap = max_samples
    first = min(cap, -(-samples // block_size) * block_size)
    stages = [first]
    while stages[-1] < cap:
        stages.append(min(cap, 2 * stages[-1]))
    return stages


def history(model, output: str, *, scale: str = "monthly", time_index: int = 0, seed: int = 0,
            start: int = 65_536, max_samples: int = 4_194_304, level: float = CI_LEVEL, client=None):
    """Quantiles of one output and their confidence intervals as the sample count doubles.

    Returns an ``xarray.Dataset`` with ``estimate``, ``ci_low`` and ``ci_high`` over
    (``samples``, ``quantile``); each row equals what a fixed run of that many samples reports.
    ``scale`` is "daily" or "monthly"; ``time_index`` picks the day or month.
    """
    import xarray as xr

    from .errors import ModelError
    from .program import compile_model
    from .results import QUANTILES, cell_quantiles
    from .runner import BLOCK_SIZE, sample_stages

    if output not in model.outputs:
        raise ModelError("is not an output of this model", path=model.path, field="output", value=output,
                         fix=f"use one of {list(model.outputs)}")
    program = compile_model(model)
    n_times = program.n_days if scale == "daily" else program.n_months
    if scale not in ("daily", "monthly") or not 0 <= time_index < n_times:
        raise ModelError("is not a day or month of the model's period", path=model.path, field="scale/time_index",
                         value=(scale, time_index), fix=f"scale 'daily' or 'monthly', time_index 0 to {n_times - 1}")
    o = list(model.outputs).index(output)
    t = time_index + (program.n_days if scale == "monthly" else 0)
    stages = stage_samples(start, 1.0, max(start, max_samples), BLOCK_SIZE)
    rows = []
    for n, windows, merged in sample_stages(program, seed, stages, client=client):
        rows.append(cell_quantiles(windows, merged, o, t, QUANTILES, level)[:3])
    out = model.outputs[output]
    when = (model.period.dates[time_index] if scale == "daily" else model.period.months[time_index])
    attrs = {"units": out.unit, "long_name": f"{out.long_name} ({scale}, {when})"}
    data = {name: (("samples", "quantile"), np.array([r[i] for r in rows]), attrs)
            for i, name in enumerate(("estimate", "ci_low", "ci_high"))}
    return xr.Dataset(data, coords={"samples": np.array(stages), "quantile": np.array(QUANTILES)},
                      attrs={"output": output, "scale": scale, "time": str(when), "seed": seed,
                             "ci_level": level})
