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
from .provenance import provenance


def build_dataset(model, program, windows, merged, *, samples, seed, elapsed_s, kept=None,
                  extra_attrs=None):
    """Assemble the results Dataset from merged reductions (``extra_attrs`` go on the Dataset)."""
    out_names = list(model.outputs)
    n_days, n_months = program.n_days, program.n_months
    n_times = n_days + n_months
    q = np.empty((len(out_names), n_times, len(QUANTILES)))
    ci = np.empty((2,) + q.shape)
    coarse_any = []
    for o in range(len(out_names)):
        for t in np.argsort(windows.source[o] != np.arange(n_times), kind="stable"):  # sources first
            source, scale = windows.source[o, t], windows.scale[o, t]
            if source != t and scale > 0:  # a day of a profile output: its month (computed above), scaled
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


def program_dates(model) -> np.ndarray:
    return model.period.dates.astype("datetime64[ns]")


def _input_units(model, program) -> dict:
    units = {}
    for name in program.draw_names:
        base = name.split("[")[0]
        units[name] = model.unit_of(base) or ("1" if base.startswith("share_") else "")
    return units
