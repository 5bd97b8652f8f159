"""Turn merged reductions into the results ``xarray.Dataset``.

The Dataset contract: for each output NAME, ``NAME_daily(quantile, date)`` and
``NAME_monthly(quantile, month)``, with ``NAME_daily_mean``, ``NAME_daily_std``,
``NAME_monthly_mean``, ``NAME_monthly_std``, the count of non-finite samples and the 95%
confidence interval of each quantile beside them; ``units`` and ``long_name`` on every variable;
seed, samples, versions and the model's hash on the Dataset (:mod:`simulate.results.provenance`).
"""
from __future__ import annotations

import json
import warnings

import numpy as np
import xarray as xr

from ..engine.histogram import (
    CHECKED_QUANTILES,
    CI_LEVEL,
    QUANTILES,
    cell_quantiles,
    relative_error,
    scaled_cell,
)
from ..spec.grid_data import DATASETS
from . import lazy_duck_arrays
from .cf import cell_methods, time_bounds
from .provenance import provenance

lazy_duck_arrays.install()    # a Dataset of numpy arrays imports neither dask.array nor pint

SCALES = ("daily", "monthly", "yearly", "total")   # the cells of every output, in the kernel's order
SCALE_DIMS = {"daily": ("date",), "monthly": ("month",), "yearly": ("year",), "total": ()}


def build_dataset(model, program, windows, merged, *, samples, seed, elapsed_s, kept=None,
                  extra_attrs=None):
    """Assemble the results Dataset from merged reductions (``extra_attrs`` go on the Dataset).

    Every output gets ``NAME_daily``, ``NAME_monthly``, ``NAME_yearly`` and ``NAME_total`` (one-off
    outputs, ``aggregate = "once"``, only ``NAME_total``; outputs at month resolution no
    ``NAME_daily``), each with its mean, sd, non-finite count
    and the confidence interval of each quantile. An output that keeps dimensions gets
    ``NAME_by_DIM_<scale>`` with them as trailing dimensions, and ``NAME_<scale>`` for its total.
    """
    out_names = list(model.flat.outputs)   # the kernel's outputs: every coordinate of a dimensioned one
    n_times = program.n_times
    q = np.empty((len(out_names), n_times, len(QUANTILES)))
    ci = np.empty((2,) + q.shape)
    coarse_any = []
    q[:], ci[:] = np.nan, np.nan
    for o in range(len(out_names)):
        for t in np.argsort(windows.source[o] != np.arange(n_times), kind="stable"):  # sources first
            if t < program.n_days and not program.daily_outputs[o]:
                continue    # month resolution: no daily cells
            source, scale = windows.source[o, t], windows.scale[o, t]
            if source != t and scale > 0:  # read from another cell (a profile day: its month), scaled
                q[o, t], ci[0, o, t], ci[1, o, t] = scaled_cell(q[o, source], ci[0, o, source], ci[1, o, source], scale)
                continue
            q[o, t], ci[0, o, t], ci[1, o, t], coarse = cell_quantiles(windows, merged, o, t)
            if coarse:
                coarse_any.append(out_names[o])
    count, s1, s2 = merged.stats[..., 0], merged.stats[..., 1], merged.stats[..., 2]
    with np.errstate(all="ignore"):
        mean = windows.shift + s1 / count
        var = (s2 - s1 * s1 / count) / (count - 1)
    std = np.sqrt(np.maximum(var, 0.0))
    overflowed = (count > 1) & ~(np.isfinite(mean) & np.isfinite(std))
    rows = np.arange(len(out_names))[:, None]  # cells read from another cell: its moments, scaled
    mean, std = mean[rows, windows.source] * windows.scale, std[rows, windows.source] * np.abs(windows.scale)
    nonfinite = samples - count[rows, windows.source].astype(np.int64)

    cells = _cell_slices(program)
    coords = _time_coords(model)
    coords.update({d.name: (d.name, np.array(d.coords), {"long_name": d.name.replace("_", " ")})
                   for d in model.dimensions.values()})
    coords.update({f"{d.name}_label": (d.name, np.array(d.titles), {"long_name": f"name of each {d.name}"})
                   for d in model.dimensions.values() if d.titles})
    index = {name: o for o, name in enumerate(out_names)}
    stats_of = {"": q, "_ci_low": ci[0], "_ci_high": ci[1], "_mean": mean, "_std": std, "_nonfinite": nonfinite}
    data = {}
    for name, out in model.outputs.items():
        parts = []
        if name in index:            # a scalar output, or the total of a dimensioned one
            parts.append((name, [index[name]], ()))
        if out.by:
            dims = [model.dimensions[d] for d in out.by]
            parts.append((f"{name}_by_{'_'.join(out.by)}",
                          [index[o] for o in out_names if model.flat.outputs[o].of == name], tuple(out.by)))
        for var, rows, extra in parts:
            shape = tuple(len(d.coords) for d in dims) if extra else ()
            scales = ("total",) if out.aggregate == "once" else SCALES if model.has_daily(name) else SCALES[1:]
            for scale in scales:
                dims_t, times = SCALE_DIMS[scale], cells[scale]
                attrs = {"units": out.unit, "long_name": f"{out.long_name}, {_how(scale, out.aggregate)}",
                         "aggregate": out.aggregate, "label": out.short,
                         "cell_methods": cell_methods(scale, out.aggregate), **out.basis_attrs()}
                for suffix, values in stats_of.items():
                    picked = values[rows][:, times]                     # (cells, times[, quantile])
                    picked = np.moveaxis(picked, 0, -1).reshape(picked.shape[1:] + shape) if extra else picked[0]
                    if suffix in ("", "_ci_low", "_ci_high"):
                        picked = np.moveaxis(picked, 1, 0)              # quantile first
                        picked = picked[:, 0] if not dims_t else picked
                        vdims = ("quantile",) + dims_t + extra
                    else:
                        picked = picked[0] if not dims_t else picked
                        vdims = dims_t + extra
                    data[f"{var}_{scale}{suffix}"] = (vdims, picked, _attrs(attrs, suffix, name, scale))
    if kept is not None:
        draws, monthly = kept
        coords["sample"] = ("sample", np.arange(len(draws)), {"long_name": "sample index"})
        coords["input"] = ("input", np.array(program.draw_names), {"long_name": "sampled input"})
        data["inputs"] = (("sample", "input"), draws, {"units": "see input_units", "long_name": "per-sample input draws",
                                                       "input_units": json.dumps(_input_units(model, program))})
        for name, out in model.outputs.items():
            if name not in index:
                continue
            o = index[name]
            if out.aggregate == "once":
                data[f"{name}_total_samples"] = (("sample",), monthly[:, o, 0], {
                    "units": out.unit, "long_name": f"{out.long_name}, per-sample total"})
                continue
            data[f"{name}_monthly_samples"] = (("sample", "month"), monthly[:, o, :], {
                "units": out.unit, "long_name": f"{out.long_name}, per-sample monthly {out.aggregate}"})
    ds = xr.Dataset(data, coords=coords, attrs=provenance(model, samples=samples, seed=seed, elapsed_s=elapsed_s))
    checked = [QUANTILES.index(p) for p in CHECKED_QUANTILES]
    errors = relative_error(q[..., checked], ci[0][..., checked], ci[1][..., checked])[program.checked_cells()]
    ds.attrs.update({
        "ci_level": CI_LEVEL,
        "ci_method": "order-statistic (binomial) interval read from the histogram counts",
        "max_relative_error": float(np.nanmax(errors)) if not np.isnan(errors).all() else np.nan,
        "max_relative_error_quantiles": ", ".join(str(p) for p in CHECKED_QUANTILES),
        **_dataset_attrs(model), **(extra_attrs or {})})
    worst = {name: int(nonfinite[o][program.checked_cells()[o]].max()) for o, name in enumerate(out_names)}
    bad = {name: n for name, n in worst.items() if n > 0}
    if bad:
        ds.attrs["nonfinite_samples"] = json.dumps(bad)
        warnings.warn(f"{model.path or model.name}: some samples gave NaN or infinite outputs and are left out "
                      f"of the quantiles (counts per output, worst month): {bad}", RuntimeWarning, stacklevel=3)
    if overflowed.any():
        names = sorted({out_names[o] for o in np.flatnonzero(overflowed.any(axis=1))})
        ds.attrs["moments_overflowed"] = ", ".join(names)
        warnings.warn(f"{model.path or model.name}: the mean or standard deviation of {names} overflowed a 64-bit "
                      "float (values near 1.8e308) and is shown as inf or nan; the quantiles are unaffected",
                      RuntimeWarning, stacklevel=3)
    if coarse_any:
        names = sorted(set(coarse_any))
        ds.attrs["quantiles_imprecise"] = ", ".join(names)
        warnings.warn(f"{model.path or model.name}: some quantiles or confidence bounds of {names} may be off by more "
                      "than the histogram's 0.39%: they fell outside its window (clamped to the sample min/max) or in "
                      "the bins next to zero that very small magnitudes share (attrs['quantiles_imprecise'])",
                      RuntimeWarning, stacklevel=3)
    return ds


def _dataset_attrs(model) -> dict:
    """The grid and water datasets the model read its intensities from: name, file, SHA-256, licence."""
    if not model.datasets:
        return {}
    return {"grid_datasets": json.dumps([DATASETS[name].provenance() for name in model.datasets], sort_keys=True)}


def _attrs(attrs, suffix, name, scale) -> dict:
    """The attributes of one statistic of an output at one scale."""
    what = attrs["long_name"]
    if suffix in ("_ci_low", "_ci_high"):
        bound = suffix[4:]
        return {**attrs, "long_name": f"{bound} end of the {CI_LEVEL:.0%} confidence interval of each quantile of "
                f"{what}", "confidence_level": CI_LEVEL}
    if suffix == "_mean":
        return {**attrs, "long_name": f"mean of {what}"}
    if suffix == "_std":
        return {**attrs, "long_name": f"standard deviation of {what}"}
    if suffix == "_nonfinite":
        return {"units": "1", "long_name": f"number of samples of {name} ({scale}) that were NaN or infinite"}
    return attrs


def _cell_slices(program) -> dict:
    """Where each scale's cells sit along the kernel's time axis."""
    d, m, y = program.n_days, program.n_months, program.n_years
    return {"daily": slice(0, d), "monthly": slice(d, d + m), "yearly": slice(d + m, d + m + y),
            "total": slice(d + m + y, d + m + y + 1)}


def _shaped(values, dims):
    """Drop the time axis of a whole-period cell (it has no time dimension)."""
    return values[..., 0] if not dims else values


def _how(scale, aggregate) -> str:
    if scale == "daily":
        return "per day"
    if aggregate == "once":
        return "one-off total"
    word = "total" if aggregate == "sum" else "mean"
    return {"monthly": f"monthly {word}", "yearly": f"yearly {word}", "total": f"{word} over the whole period"}[scale]


def _time_coords(model) -> dict:
    """The quantile and time coordinates, each time with CF bounds (the cell it covers, end exclusive)."""
    months = model.period.months
    years = sorted({m[:4] for m in months})
    times = {"date": (program_dates(model), "day"),
             "month": (np.array([np.datetime64(m + "-01", "ns") for m in months]), "calendar month (first day)"),
             "year": (np.array([np.datetime64(y + "-01-01", "ns") for y in years]),
                      "calendar year (first day; the period's part of it)")}
    coords = {"quantile": ("quantile", np.array(QUANTILES), {"long_name": "quantile", "units": "1"})}
    for name, (values, long_name) in times.items():
        coords[name] = (name, values, {"long_name": long_name, "standard_name": "time", "axis": "T",
                                       "bounds": f"{name}_bounds"})
        coords[f"{name}_bounds"] = ((name, "bounds"), time_bounds(name, values, model.period),
                                    {"long_name": long_name})   # CF: a bounds variable agrees with its coordinate
    return coords


def program_dates(model) -> np.ndarray:
    return model.period.dates.astype("datetime64[ns]")


def _input_units(model, program) -> dict:
    units = {}
    for name in program.draw_names:
        base = name.split("[")[0]
        units[name] = model.unit_of(base) or ("1" if base.startswith("share_") else "")
    return units
