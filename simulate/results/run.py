"""Run a model end to end: check the arguments, compile, sample in stages, build the Dataset."""
from __future__ import annotations

import time
import warnings

import numpy as np

from ..engine.compiler import compile_model
from ..engine.distributed import reductions_for
from ..engine.histogram import worst_relative_error
from ..engine.runner import (
    DEFAULT_MAX_SAMPLES,
    Kept,
    kept_rows,
    sample_stages,
    stage_samples,
)
from ..errors import ModelError
from .dataset import build_dataset
from .progress import progress_bar, timed_reductions


def run_model(model, *, samples: int, seed: int, keep: int = 0, progress=None, rtol=None, max_samples=None,
              client=None):
    """Sample ``model`` and return its results Dataset (see :meth:`simulate.Model.run`)."""
    if max_samples is None and rtol is not None:
        max_samples = max(DEFAULT_MAX_SAMPLES, samples)
    _check_arguments(model, samples=samples, seed=seed, keep=keep, max_samples=max_samples, rtol=rtol)
    samples, seed = int(samples), int(seed)
    stages = stage_samples(samples, rtol, None if max_samples is None else int(max_samples))
    program = compile_model(model)
    started = time.perf_counter()

    keep = min(int(keep), stages[-1])
    kept = Kept.empty(program, kept_rows(keep, stages[-1]))
    bar = progress_bar(progress, stages[-1])
    reductions = timed_reductions(bar) if bar is not None and client is None else reductions_for(client)
    error, where = np.nan, None
    try:
        for target, windows, merged in sample_stages(program, seed, stages, kept=kept, bar=bar,
                                                     reductions=reductions):
            if rtol is not None:
                error, where = worst_relative_error(windows, merged, program.checked_cells())
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
            name, scale, when = _describe(model, program, where)
            warnings.warn(f"{model.path or model.name}: stopped at max_samples={done:,} before reaching "
                          f"rtol={rtol:g}: worst relative error {error:.3g} ({name}, {scale} {when}); "
                          "raise max_samples or rtol", RuntimeWarning, stacklevel=3)
    keep = min(keep, done)
    draws = (kept[0][:keep], kept[1][:keep]) if keep else None
    return build_dataset(model, program, windows, merged, samples=done, seed=seed,
                         elapsed_s=elapsed, kept=draws, extra_attrs=extra)


def _check_arguments(model, *, samples, seed, keep, max_samples, rtol):
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


def _describe(model, program, where):
    """Output name, scale and date of a (output, time, quantile) location."""
    if where is None:
        return "?", "", ""
    o, t, p = where
    name = list(model.flat.outputs)[o]
    if t < program.n_days:
        return name, "daily", f"{model.period.dates[t]}, quantile {p}"
    if t < program.n_days + program.n_months:
        return name, "monthly", f"{model.period.months[t - program.n_days]}, quantile {p}"
    return name, "whole period", f"quantile {p}"
