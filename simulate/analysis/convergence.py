"""Convergence history: a run's quantiles and their confidence intervals as the sample count doubles."""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..engine.compiler import compile_model
from ..engine.distributed import reductions_for
from ..engine.histogram import CI_LEVEL, QUANTILES, cell_quantiles
from ..engine.runner import sample_stages, stage_samples
from ..errors import ModelError
from ..results.progress import task, timed_reductions


def history(model, output: str, *, scale: str = "monthly", time_index: int = 0, seed: int = 0,
            start: int = 65_536, max_samples: int = 4_194_304, level: float = CI_LEVEL, client=None,
            progress: bool | None = None):
    """Quantiles of one output and their confidence intervals as the sample count doubles.

    Parameters
    ----------
    model : Model
    output : str
        An output name.
    scale : {"monthly", "daily"}
    time_index : int
        The month's (or day's) index.
    seed : int
    start, max_samples : int
        The first and last sample counts (doubling in between, whole blocks of 65,536).
    level : float
        Confidence level of the intervals.
    client : dask.distributed.Client, optional
        Run the blocks on its cluster (same numbers).
    progress : bool, optional
        A bar over the samples of the last stage (default: on a terminal or in a notebook).

    Returns
    -------
    xarray.Dataset
        ``estimate``, ``ci_low`` and ``ci_high`` over (``samples``, ``quantile``), in the output's
        unit; each row equals what a fixed run of that many samples reports.
    """
    if output not in model.flat.outputs:
        raise ModelError("is not an output of this model", path=model.path, field="output", value=output,
                         fix=f"use one of {list(model.flat.outputs)}")
    program = compile_model(model)
    n_times = program.n_days if scale == "daily" else program.n_months
    if scale not in ("daily", "monthly") or not 0 <= time_index < n_times:
        raise ModelError("is not a day or month of the model's period", path=model.path, field="scale/time_index",
                         value=(scale, time_index), fix=f"scale 'daily' or 'monthly', time_index 0 to {n_times - 1}")
    o = list(model.flat.outputs).index(output)   # its position among the kernel's outputs
    t = time_index + (program.n_days if scale == "monthly" else 0)
    stages = stage_samples(start, 1.0, max(start, max_samples))
    rows = []
    with task(progress, stages[-1], unit="samples", desc=f"convergence {output}") as work:
        work.expect(stages[-1])   # inside a growing task (a report), these samples are new work
        shown = work.bar is not None and client is None
        reductions = timed_reductions(work.bar) if shown else reductions_for(client)
        for n, windows, merged in sample_stages(program, seed, stages, reductions=reductions, bar=work):
            rows.append(cell_quantiles(windows, merged, o, t, QUANTILES, level)[:3])
    out = model.flat.outputs[output]
    when = (model.period.dates[time_index] if scale == "daily" else model.period.months[time_index])
    attrs = {"units": out.unit, "long_name": f"{out.long_name} ({scale}, {when})"}
    data = {name: (("samples", "quantile"), np.array([r[i] for r in rows]), attrs)
            for i, name in enumerate(("estimate", "ci_low", "ci_high"))}
    return xr.Dataset(data, coords={"samples": np.array(stages), "quantile": np.array(QUANTILES)},
                      attrs={"output": output, "scale": scale, "time": str(when), "seed": seed,
                             "ci_level": level})
