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
    MAX_SAMPLES,
    Kept,
    kept_rows,
    refine,
    sample_stages,
    stage_samples,
)
from ..errors import ModelError
from .dataset import build_dataset
from .progress import current, progress_bar, timed_reductions

MAX_SEED = 2**63 - 1             # seeds are stored as a netCDF int64 attribute
MAX_KEPT_BYTES = 2 * 2**30       # per-sample draws kept in memory (keep=...)
ESTIMATE_AFTER_S = 60.0          # runs expected to take longer than this say so when they start


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
    _check_kept(model, program, keep)
    kept = Kept.empty(program, kept_rows(keep, stages[-1]))
    outer = current()   # inside an analysis: count into its bar (see simulate.results.progress.task)
    if outer is not None:
        outer.expect(stages[-1])
    bar = _Progress(model, stages[-1], progress_bar(progress, stages[-1]) if outer is None else outer.bar,
                    owned=outer is None)
    reductions = timed_reductions(bar.bar) if bar.bar is not None and client is None else reductions_for(client)
    error, where = np.nan, None
    try:
        for target, windows, merged in sample_stages(program, seed, stages, kept=kept, bar=bar,
                                                     reductions=reductions):
            if rtol is not None:
                error, where = worst_relative_error(windows, merged, program.checked_cells())
                bar.set_postfix_str(f"worst relative error {error:.3g}")
                if error < rtol:
                    break
        refined = refine(program, seed, target, windows, merged, reductions=reductions, bar=bar)
        if rtol is not None and refined[0] is not windows:   # the error as the refined counts give it
            error, where = worst_relative_error(*refined, program.checked_cells())
        windows, merged = refined
    except ModelError as exc:
        raise exc.located(model.path) from None
    finally:
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
    checks = [("samples", samples, 1, MAX_SAMPLES), ("seed", seed, 0, MAX_SEED), ("keep", keep, 0, MAX_SAMPLES)]
    if max_samples is not None:
        checks.append(("max_samples", max_samples, 1, MAX_SAMPLES))
    for name, value, low, high in checks:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
            raise ModelError(f"must be an integer from {low} to {high:,}", path=model.path, field=name, value=value,
                             fix=f"pass {name}={max(low, 1000) if 'samples' in name else low} or more, "
                                 f"at most {high:,}")
    if rtol is not None and (isinstance(rtol, bool) or not isinstance(rtol, (int, float)) or not 0 < rtol < 1):
        raise ModelError("must be a number between 0 and 1", path=model.path, field="rtol", value=rtol,
                         fix="pass rtol=0.01 for quantiles within 1% (at 95% confidence)")


def most_kept(program) -> int:
    """The most samples whose draws (inputs and monthly outputs) fit in MAX_KEPT_BYTES."""
    return MAX_KEPT_BYTES // ((len(program.draw_names) + program.n_outputs * program.n_months) * 8)


def _check_kept(model, program, keep):
    """Refuse ``keep`` draws that would not fit in MAX_KEPT_BYTES."""
    need = keep * (len(program.draw_names) + program.n_outputs * program.n_months) * 8
    if need > MAX_KEPT_BYTES:
        most = most_kept(program)
        raise ModelError(f"keeping {keep:,} samples' draws would take {need / 2**30:.1f} GiB", path=model.path,
                         field="keep", value=keep, fix=f"keep at most {most:,}")


class _Progress:
    """Counts samples for the progress bar (if any) and, once the second kernel call has timed the
    machine (the first may include compiling the kernel), warns when the rest of the run will take
    longer than ESTIMATE_AFTER_S."""

    def __init__(self, model, total, bar, owned=True):
        self.model, self.total, self.bar, self.owned = model, total, bar, owned
        self.done, self.calls, self.mark = 0, 0, None
        self.shown_total = total     # the part of bar.total that is this run's (a bar may be shared)

    def update(self, n):
        self.done += n
        self.calls += 1
        if self.bar is not None:
            self.bar.update(n)
        if self.calls == 1:
            self.mark = (time.perf_counter(), self.done)
        elif self.calls == 2:
            rate = (self.done - self.mark[1]) / max(time.perf_counter() - self.mark[0], 1e-9)
            left = (self.total - self.done) / rate
            if left > ESTIMATE_AFTER_S:
                warnings.warn(f"{self.model.path or self.model.name}: {self.total:,} samples will take about "
                              f"{_duration(left)} more at this machine's {rate:,.0f} samples/s (Ctrl-C stops the "
                              "run; fewer samples, or rtol, stop sooner)", RuntimeWarning, stacklevel=2)

    def set_postfix_str(self, text):
        if self.bar is not None:
            self.bar.set_postfix_str(text)

    def refresh(self):
        if self.bar is not None:
            self._show_total(self.total)
            self.bar.refresh()

    def _show_total(self, total):
        self.bar.total += total - self.shown_total
        self.shown_total = total

    def close(self):
        if self.bar is not None:
            self._show_total(self.done)    # a run stopped early (rtol) did less than it expected
            if self.owned:
                self.bar.close()


def _duration(seconds: float) -> str:
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.0f} {unit}"
    return f"{seconds:.0f} seconds"


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
