"""Turn merged reductions into the results ``xarray.Dataset``, and save it atomically to netCDF.

The Dataset contract (DESIGN.md): for each output NAME, ``NAME_daily(quantile, date)`` and
``NAME_monthly(quantile, month)``, with ``NAME_daily_mean``, ``NAME_daily_std``,
``NAME_monthly_mean``, ``NAME_monthly_std`` and the count of non-finite samples beside them;
``units`` and ``long_name`` on every variable; seed, samples, versions and the model's hash on
the Dataset.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import tempfile
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

QUANTILES = (0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975)


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


def values_at_ranks(counts, lo_key, vmin, vmax, ranks, floor=0):
    """The values of the order statistics with 0-based ``ranks`` in one key histogram.

    ``counts`` is ``[below window, bin 0, ..., bin L-1, above window]``. Inside a bin the order
    statistics are taken as evenly spread, so the error is below one bin width (0.39%).
    Returns ``(values, outside)`` where ``outside`` is True when a rank fell outside the window
    (its value is then clamped to the sample minimum or maximum).
    """
    from .runner import key_bounds

    counts = np.asarray(counts)
    ranks = np.asarray(ranks, dtype=np.int64)
    cum = np.cumsum(counts)
    b = np.searchsorted(cum, ranks, side="right")
    edge = (b == 0) | (b == len(counts) - 1)
    inner = np.clip(b, 1, len(counts) - 2)
    lo, hi = key_bounds(lo_key + inner - 1, floor)
    before = cum[inner] - counts[inner]
    with np.errstate(invalid="ignore", divide="ignore"):
        values = lo + (ranks - before + 0.5) / counts[inner] * (hi - lo)
    values = np.where(edge, np.where(b == 0, vmin, vmax), np.clip(values, vmin, vmax))
    return values, bool(edge.any())


def histogram_quantiles(counts, lo_key, vmin, vmax, quantiles=QUANTILES, floor=0):
    """Quantiles (numpy's default, linear between order statistics) from one key histogram.

    ``counts`` is ``[below window, bin 0, ..., bin L-1, above window]``; see :func:`values_at_ranks`.
    Returns ``(values, outside)`` where ``outside`` is True when a quantile fell outside the window.
    """
    total = int(np.sum(counts))
    if total == 0:
        return np.full(len(quantiles), np.nan), False
    rank = np.asarray(quantiles) * (total - 1)
    j = np.floor(rank).astype(np.int64)
    both, outside = values_at_ranks(counts, lo_key, vmin, vmax, np.concatenate([j, np.minimum(j + 1, total - 1)]), floor)
    low, high = both[:len(j)], both[len(j):]
    return low + (rank - j) * (high - low), outside


def cell_quantiles(windows, merged, o: int, t: int, quantiles=QUANTILES, level=None):
    """Quantiles of output ``o`` at time ``t`` and their confidence bounds, from merged histograms.

    Returns ``(quantiles, low, high, outside)``; see :func:`histogram_quantiles` and
    :func:`simulate.convergence.quantile_interval`.
    """
    from .convergence import CI_LEVEL, quantile_interval

    source, scale = windows.source[o, t], windows.scale[o, t]
    if source != t:  # a day of a profile output: its month, scaled (a negative scale swaps the tails)
        wanted = 1.0 - np.asarray(quantiles) if scale < 0 else quantiles
        q, low, high, outside = cell_quantiles(windows, merged, o, source, wanted, level)
        return (*scaled_cell(q, low, high, scale), outside)
    start = windows.offset[o, t]
    counts = merged.hist[start:start + windows.length[o, t] + 2]
    args = (counts, windows.lo_key[o, t], *merged.extremes[o, t])
    q, outside = histogram_quantiles(*args, quantiles, floor=windows.floor[o, t])
    low, high = quantile_interval(*args, quantiles, CI_LEVEL if level is None else level, floor=windows.floor[o, t])
    return q, low, high, outside


def scaled_cell(q, low, high, scale):
    """Quantiles and their bounds multiplied by ``scale``; a negative scale swaps low and high."""
    low, high = (high, low) if scale < 0 else (low, high)
    return q * scale, low * scale, high * scale


def build_dataset(model, program, windows, merged: Reductions, *, samples, seed, elapsed_s, kept=None,
                  extra_attrs=None):
    """Assemble the results Dataset from merged reductions (``extra_attrs`` go on the Dataset)."""
    from .convergence import CHECKED_QUANTILES, CI_LEVEL, relative_error

    out_names = list(model.outputs)
    n_days, n_months = program.n_days, program.n_months
    n_times = n_days + n_months
    q = np.empty((len(out_names), n_times, len(QUANTILES)))
    ci = np.empty((2,) + q.shape)
    outside_any = []
    for o in range(len(out_names)):
        for t in np.argsort(windows.source[o] != np.arange(n_times), kind="stable"):  # sources first
            source, scale = windows.source[o, t], windows.scale[o, t]
            if source != t and scale > 0:  # a day of a profile output: its month (computed above), scaled
                q[o, t], ci[0, o, t], ci[1, o, t] = scaled_cell(q[o, source], ci[0, o, source], ci[1, o, source], scale)
                continue
            q[o, t], ci[0, o, t], ci[1, o, t], outside = cell_quantiles(windows, merged, o, t)
            if outside:
                outside_any.append(out_names[o])
    count, s1, s2 = merged.stats[..., 0], merged.stats[..., 1], merged.stats[..., 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = windows.shift + s1 / count
        var = (s2 - s1 * s1 / count) / (count - 1)
    std = np.sqrt(np.maximum(var, 0.0))
    rows = np.arange(len(out_names))[:, None]  # days of profile outputs: their month, scaled
    mean, std = mean[rows, windows.source] * windows.scale, std[rows, windows.source] * np.abs(windows.scale)
    nonfinite = samples - count[rows, windows.source].astype(np.int64)

    dates = program_dates(model)
    months = np.array([np.datetime64(m + "-01", "ns") for m in model.period.months])
    coords = {"quantile": ("quantile", np.array(QUANTILES), {"long_name": "quantile", "units": "1"}),
              "date": ("date", dates, {"long_name": "day"}),
              "month": ("month", months, {"long_name": "calendar month (first day)"})}
    data = {}
    for o, name in enumerate(out_names):
        out = model.outputs[name]
        for scale, dim, times in (("daily", "date", slice(0, n_days)), ("monthly", "month", slice(n_days, n_times))):
            how = "per day" if scale == "daily" else ("monthly total" if out.aggregate == "sum" else "monthly mean")
            attrs = {"units": out.unit, "long_name": f"{out.long_name}, {how}", "aggregate": out.aggregate}
            data[f"{name}_{scale}"] = (("quantile", dim), q[o, times].T, attrs)
            for b, bound in enumerate(("low", "high")):
                data[f"{name}_{scale}_ci_{bound}"] = (("quantile", dim), ci[b, o, times].T, {
                    **attrs, "long_name": f"{bound} end of the {CI_LEVEL:.0%} confidence interval of each quantile of "
                    f"{attrs['long_name']}", "confidence_level": CI_LEVEL})
            data[f"{name}_{scale}_mean"] = ((dim,), mean[o, times], {**attrs, "long_name": f"mean of {attrs['long_name']}"})
            data[f"{name}_{scale}_std"] = ((dim,), std[o, times], {**attrs, "long_name": f"standard deviation of {attrs['long_name']}"})
            data[f"{name}_{scale}_nonfinite"] = ((dim,), nonfinite[o, times], {
                "units": "samples", "long_name": f"samples of {name} ({scale}) that were NaN or infinite"})
    if kept is not None:
        draws, monthly = kept
        coords["sample"] = ("sample", np.arange(len(draws)), {"long_name": "sample index"})
        coords["input"] = ("input", np.array(program.draw_names), {"long_name": "sampled input"})
        data["inputs"] = (("sample", "input"), draws, {"units": "see input_units", "long_name": "per-sample input draws",
                                                       "input_units": json.dumps(_input_units(model, program))})
        for o, name in enumerate(out_names):
            out = model.outputs[name]
            data[f"{name}_monthly_samples"] = (("sample", "month"), monthly[:, o, :], {
                "units": out.unit, "long_name": f"{out.long_name}, per-sample monthly {out.aggregate}"})
    ds = xr.Dataset(data, coords=coords, attrs=provenance(model, samples=samples, seed=seed, elapsed_s=elapsed_s))
    checked = [QUANTILES.index(p) for p in CHECKED_QUANTILES]
    errors = relative_error(q[..., checked], ci[0][..., checked], ci[1][..., checked])
    ds.attrs.update({
        "ci_level": CI_LEVEL,
        "ci_method": "order-statistic (binomial) interval read from the histogram counts",
        "max_relative_error": float(np.nanmax(errors)) if not np.isnan(errors).all() else np.nan,
        "max_relative_error_quantiles": ", ".join(str(p) for p in CHECKED_QUANTILES),
        **(extra_attrs or {})})
    bad = {name: int(ds[f"{name}_monthly_nonfinite"].max()) for name in out_names
           if int(ds[f"{name}_monthly_nonfinite"].max()) > 0}
    if bad:
        ds.attrs["nonfinite_samples"] = json.dumps(bad)
        warnings.warn(f"{model.path or model.name}: some samples gave NaN or infinite outputs and are left out "
                      f"of the quantiles (counts per output, worst month): {bad}", RuntimeWarning, stacklevel=3)
    if outside_any:
        ds.attrs["quantiles_outside_window"] = ", ".join(sorted(set(outside_any)))
        warnings.warn(f"{model.path or model.name}: some quantiles of {sorted(set(outside_any))} fell outside "
                      "the histogram window and are clamped to the sample min/max", RuntimeWarning, stacklevel=3)
    return ds


def program_dates(model) -> np.ndarray:
    return model.period.dates.astype("datetime64[ns]")


def _input_units(model, program) -> dict:
    units = {}
    for name in program.draw_names:
        base = name.split("[")[0]
        units[name] = model.unit_of(base) or ("1" if base.startswith("share_") else "")
    return units


def versions() -> dict:
    import numba
    import scipy

    from . import __version__
    return {"simulate": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "numba": numba.__version__, "scipy": scipy.__version__, "xarray": xr.__version__}


def provenance(model, *, samples, seed, elapsed_s) -> dict:
    from .runner import BLOCK_SIZE

    return {
        "title": model.title, "model_name": model.name, "model_path": model.path or "",
        "model_sha256": model.sha256, "scenario": model.scenario or "",
        "fixed_parameters": json.dumps(model.fixed, sort_keys=True),
        "seed": int(seed), "samples": int(samples), "block_size": BLOCK_SIZE,
        "versions": json.dumps(versions(), sort_keys=True),
        "quantile_method": "histogram of IEEE-754 keys, 256 bins per octave, linear between order statistics",
        "elapsed_s": round(float(elapsed_s), 3),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def save_netcdf(ds: xr.Dataset, path) -> Path:
    """Write ``ds`` to ``path`` via a temporary file in the same folder, then rename: never half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        ds.to_netcdf(tmp, engine="netcdf4")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
