"""Tornado: the output median with one input fixed at its p5 and then at its p95, the others left
random on the same draws (common random numbers), sorted by swing.

One run keeps its draws; each input's column is replaced and the kept draws evaluated again, so
the medians are exact sample medians. A correlated input moves alone, its partners keeping their
draws.
"""
from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from .target import coords_for, dims_for, evaluator, only_output

TORNADO_LOW, TORNADO_HIGH = 0.05, 0.95
TORNADO_CELLS = 20_000_000    # values (samples x days) evaluated at once by a daily tornado: 160 MB


def _quantile_value(dist, q):
    return float(dist.ppf(np.array([q]))[0])


def _shown_column(program, group, month) -> int:
    """The group's column reported as its input value: the analysed month's draw, else the first."""
    return next((c for c in group.columns if program.draw_keys[c][1] == month), group.columns[0])


def _finite_median(y):
    """The median over samples (axis 0) of the finite values; NaN where there are none."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # all-NaN columns give NaN
        return np.nanmedian(np.where(np.isfinite(y), y, np.nan), axis=0)


def _day_chunks(program, target, samples):
    """The slices of days a daily tornado evaluates at once (at most TORNADO_CELLS values), else [None]."""
    step = max(1, TORNADO_CELLS // samples)
    return [slice(d, d + step) for d in range(0, program.n_days, step)] if target.daily else [None]


def tornado_work(program, chosen, target, samples) -> int:
    """The samples run plus rows of draws evaluated by :func:`tornado` (its progress total)."""
    return samples * (1 + (1 + 2 * len(chosen)) * len(_day_chunks(program, target, samples)))


def tornado(model, program, chosen, target, samples, seed):
    """Median of ``target`` with each chosen input alone at its p5 and p95, the others random on the same draws."""
    model = only_output(model, target)
    month = model.period.months[target.month or 0]
    X = np.asarray(model.run(samples=samples, seed=seed, keep=samples)["inputs"].values)
    # the kept draws are evaluated again with the input's column(s) replaced; days in chunks
    # of at most TORNADO_CELLS values, so memory stays bounded on long periods
    funcs = [evaluator(program, target, days) for days in _day_chunks(program, target, len(X))]

    def median_with(values=None):
        Xc = X.copy()
        for column, value in (values or {}).items():
            Xc[:, column] = value
        medians = [_finite_median(func(Xc)) for func in funcs]
        return np.concatenate(medians) if target.daily else float(medians[0])

    baseline = median_with()
    rows = {"input_low": [], "input_high": [], "output_low": [], "output_high": []}
    for group in chosen:
        shown = _shown_column(program, group, month)
        for end, q in (("low", TORNADO_LOW), ("high", TORNADO_HIGH)):
            values = {c: _quantile_value(group.distribution_of(c), q) for c in group.columns}
            rows[f"input_{end}"].append(values[shown])
            rows[f"output_{end}"].append(median_with(values))
    dims, unit = dims_for(target), model.outputs[target.output].unit
    low, high = np.array(rows["output_low"]), np.array(rows["output_high"])
    data = {
        "input_low": (("parameter",), np.array(rows["input_low"]),
                      {"long_name": f"input at its p5 (in {month} when it varies by month; its first coordinate "
                                    "when it has dimensions)", "units": "see members"}),
        "input_high": (("parameter",), np.array(rows["input_high"]),
                       {"long_name": f"input at its p95 (in {month} when it varies by month; its first coordinate "
                                     "when it has dimensions)", "units": "see members"}),
        "output_low": (dims, low, {"units": unit, "long_name": f"median of {target.output} with the input at its p5"}),
        "output_high": (dims, high, {"units": unit, "long_name": f"median of {target.output} with the input at its p95"}),
        "swing": (dims, np.abs(high - low), {"units": unit, "long_name": "|output_high - output_low|"}),
        "baseline": (dims[1:], baseline, {"units": unit, "long_name": f"median of {target.output}, nothing fixed"}),
    }
    ds = xr.Dataset(data, coords=coords_for(model, chosen, target))
    ds["input_units"] = ("parameter", [model.unit_of(program.draw_keys[g.columns[0]][0]) or "" for g in chosen])
    ds.attrs["note"] = ("each input alone fixed at its p5 and p95, the others random on the same draws "
                        "(common random numbers): exact sample medians of the kept draws re-evaluated; a correlated "
                        "input moves alone, its partners keeping their draws; "
                        "region shares are left out (a joint Dirichlet split has no single p5/p95 point)")
    return ds
