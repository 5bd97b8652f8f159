"""Sweeps: the results Dataset along a new dimension named after a parameter fixed at each value."""
from __future__ import annotations

import json

import numpy as np
import xarray as xr

from ..errors import ModelError
from ..results.progress import task


def sweep(model, parameter: str, values, *, samples: int = 100_000, seed: int = 0, keep: int = 0,
          progress: bool | None = None) -> xr.Dataset:
    """The results Dataset of ``model`` with ``parameter`` fixed at each of ``values``.

    Every run uses the same seed, so each other input takes the same draws in every run (common
    random numbers): differences along the new dimension (named ``parameter``) come from the
    parameter alone. A fixed parameter may be swept too (a what-if on a constant).

    Parameters
    ----------
    model : Model
    parameter : str
        A parameter name.
    values : sequence of float
        Values in the parameter's unit, each once.
    samples, seed, keep : int
        As in :meth:`simulate.Model.run`.
    progress : bool, optional
        One bar over every run of the sweep (default: on a terminal or in a notebook).

    Returns
    -------
    xarray.Dataset
        The run's variables along a new leading dimension named ``parameter``.
    """
    params = {p.name: p for p in model.all_parameters()}
    if parameter not in params:
        raise ModelError("is not a parameter of this model", path=model.path, field="parameter", value=parameter,
                         fix=f"use one of {sorted(params)}")
    values = np.atleast_1d(np.asarray(values, dtype=float))
    if values.ndim != 1 or len(values) == 0 or not np.isfinite(values).all():
        raise ModelError("needs a non-empty list of finite numbers", path=model.path, field="values",
                         value=values.tolist(), fix="pass e.g. values=[1.1, 1.2, 1.3]")
    if len(set(values.tolist())) != len(values):
        raise ModelError("has repeated values", path=model.path, field="values", value=values.tolist(),
                         fix="give each value once")
    with task(progress, len(values) * samples, unit="samples", desc=f"sweep {parameter}"):
        runs = [model.with_fixed({parameter: float(v)}).run(samples=samples, seed=seed, keep=keep) for v in values]
    dim = xr.DataArray(values, dims=parameter, name=parameter,
                       attrs={"units": params[parameter].unit, "long_name": params[parameter].long_name})
    ds = xr.concat(runs, dim=dim, data_vars="all", coords="minimal", compat="override",
                   combine_attrs="drop_conflicts")
    ds.attrs.update({"sweep_parameter": parameter, "fixed_parameters": json.dumps(model.fixed, sort_keys=True),
                     "common_random_numbers": "every value of the sweep uses the same seed and streams"})
    return ds
