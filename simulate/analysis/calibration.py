"""Calibration on observations by importance weights on the prior's own draws.

An observation says how likely a sampled world is given something measured: "ChatGPT served
about 3 billion queries in January 2023 (lognormal, sigma 0.2)". Each prior sample gets the
weight ``w = prod(likelihood(observation | sample))``; posterior quantiles are weighted
quantiles of the same draws, so prior and posterior come from one run and share every draw.
The effective sample size ESS = (sum w)^2 / sum w^2 (Kish 1965) says how many draws the
posterior really rests on; a quantile q is reported only where ESS * min(q, 1 - q) >= 20, so
an observation far outside the prior gives a clear message instead of a posterior made of a
handful of draws.

Reconciling two paths is the same machinery: "the per-query and fleet paths agree within a
factor k" is a lognormal likelihood on their monthly ratio (90% of it within [1/k, k]) or a hard
interval (:mod:`simulate.spec.observations` reads both).
"""
from __future__ import annotations

import json
import warnings

import numpy as np
import xarray as xr

from ..engine.compiler import compile_model
from ..engine.histogram import (
    QUANTILES,
    Windows,
    value_keys,
    weighted_histogram_quantiles,
    weighted_quantiles,
)
from ..engine.runner import evaluate_draws
from ..errors import ModelError
from ..results.progress import advance, expect, task
from ..spec.observations import (
    Observation,
    Reconcile,
    parse_observation,
    parse_reconcile,
)

MIN_TAIL_DRAWS = 20          # ESS * min(q, 1 - q) needed to report quantile q
MAX_CALIBRATION_SAMPLES = 2_000_000
CHUNK = 1 << 16


def calibrate(model, *, samples: int, seed: int, observations=None, reconcile=None,
              keep: int = 10_000, progress: bool | None = None) -> xr.Dataset:
    """Prior and posterior distributions of every output on the same draws (``stage`` dimension).

    ``observations``/``reconcile`` default to the model file's ``[[observations]]`` and
    ``[reconcile]``; scripts may pass their own (tables in the same format, or parsed objects).
    The first ``keep`` draws come back with their weights (``weight(sample)``) and monthly
    outputs, for scatter plots.

    Parameters
    ----------
    model : Model
    samples, seed : int
        Prior draws (every one is kept, so at most 2 x 10^6) and their seed.
    observations : list, optional
        Observation tables (as in the file) or :class:`~simulate.spec.observations.Observation`.
    reconcile : dict or Reconcile, optional
    keep : int
        Draws returned with their weights.
    progress : bool, optional
        One bar over the prior run and the two passes over its draws (default: on a terminal or in
        a notebook).

    Returns
    -------
    xarray.Dataset
        Every output's quantiles, mean and sd along ``stage`` (prior, posterior), in the outputs'
        units; ``attrs["ess"]`` is the effective sample size.
    """
    obs = list(model.observations if observations is None else
               [o if isinstance(o, Observation) else parse_observation(o, model=model, path=model.path)
                for o in observations])
    rec = model.reconcile if reconcile is None else (
        reconcile if isinstance(reconcile, Reconcile) else parse_reconcile(reconcile, model=model, path=model.path))
    if rec is not None:
        obs.append(rec.observation())
    if not obs:
        raise ModelError("there is nothing to calibrate on", path=model.path, field="observations",
                         fix="add [[observations]] or [reconcile] to the model file, or pass observations=[...]")
    if samples > MAX_CALIBRATION_SAMPLES:
        raise ModelError(f"calibration keeps every draw, so it is limited to {MAX_CALIBRATION_SAMPLES:,} samples",
                         path=model.path, field="samples", value=samples, fix=f"use samples <= {MAX_CALIBRATION_SAMPLES}")
    with task(progress, 3 * samples, desc="calibration"):   # the prior run, then two passes over its draws
        return _calibrate(model, samples, seed, obs, rec, keep)


def _calibrate(model, samples, seed, obs, rec, keep):
    prior = model.run(samples=samples, seed=seed, keep=samples)
    months = model.period.months
    out_names = [n for n in model.outputs if f"{n}_monthly_samples" in prior]   # scalar outputs and totals
    monthly = np.stack([prior[f"{o}_monthly_samples"].values for o in out_names], axis=1)  # (n, out, month)
    draws = prior["inputs"].values
    draw_names = list(prior["input"].values)
    ratio = None
    if rec is not None:
        a, b = (out_names.index(p) for p in rec.paths)
        with np.errstate(all="ignore"):
            ratio = monthly[:, a, :] / monthly[:, b, :]

    log_w = np.zeros(samples)
    for o in obs:
        if o.quantity == "path_ratio":
            values = ratio
        elif o.quantity in model.outputs:
            values = monthly[:, out_names.index(o.quantity), :]
            if o.month is not None:
                values = values[:, [months.index(o.month)]]
        else:
            values = draws[:, [draw_names.index(o.quantity)]]
        log_w += np.nan_to_num(o.log_likelihood(values), nan=-np.inf).sum(axis=1)
    finite = np.isfinite(log_w)
    weights = np.zeros(samples)
    if finite.any():
        weights[finite] = np.exp(log_w[finite] - log_w[finite].max())
    total = weights.sum()
    ess = float(total ** 2 / (weights ** 2).sum()) if total > 0 else 0.0
    reportable = np.array([ess * min(q, 1 - q) >= MIN_TAIL_DRAWS for q in QUANTILES])

    posterior = _weighted_summary(model, draws, weights, reportable, out_names)
    ds = _stack(prior, posterior, out_names)
    if ratio is not None:
        ds["path_ratio_monthly"] = xr.concat(
            [_ratio_quantiles(ratio, np.ones(samples), np.ones(len(QUANTILES), bool), months),
             _ratio_quantiles(ratio, weights, reportable, months)], dim="stage").assign_attrs(
            units="1", long_name=f"ratio {rec.paths[0]} / {rec.paths[1]}, monthly")
    ds = ds.assign_coords(stage=["prior", "posterior"])
    kept = min(keep, samples)
    ds["weight"] = xr.DataArray(weights[:kept] / weights.mean() if total > 0 else weights[:kept],
                                dims="sample", attrs={"units": "1", "long_name": "importance weight (mean 1)"})
    for o, name in enumerate(out_names):
        ds[f"{name}_monthly_samples"] = prior[f"{name}_monthly_samples"].isel(sample=slice(0, kept))
    ds.attrs.update(prior.attrs)
    ds.attrs["ess"] = round(ess, 1)
    ds.attrs["ess_fraction"] = round(ess / samples, 6)
    ds.attrs["observations"] = json.dumps([o.describe() for o in obs])
    if not reportable.all():
        withheld = [q for q, ok in zip(QUANTILES, reportable) if not ok]
        message = (f"{model.path or model.name}: the effective sample size is {ess:.1f} of {samples:,} draws, "
                   f"too low for the posterior quantiles {withheld} (each needs ESS x min(q, 1-q) >= "
                   f"{MIN_TAIL_DRAWS}); they are NaN. The observations lie far outside the prior: widen the "
                   "prior, loosen the observation, or run more samples")
        ds.attrs["low_ess"] = message
        warnings.warn(message, RuntimeWarning, stacklevel=3)   # the caller of calibrate()
    return ds


def _weighted_summary(model, draws, weights, reportable, out_names):
    """Posterior quantiles, mean and sd of every daily and monthly output.

    The model is evaluated on the kept draws in chunks, twice: the first pass finds each
    (output, time)'s range, the second adds the weights into histograms on the same IEEE-754 keys
    as the kernel (256 bins per octave), so memory stays bounded for long periods.
    """
    program = compile_model(model)
    n, n_out = draws.shape[0], program.n_outputs     # every kernel output; ``out_names`` are reported
    n_times = program.n_days + program.n_months   # the posterior is reported per day and month

    def chunks():
        daily = np.empty((CHUNK, n_out, program.n_days))
        monthly = np.empty((CHUNK, n_out, program.n_months))
        for start in range(0, n, CHUNK):
            stop = min(n, start + CHUNK)
            expect(stop - start)
            evaluate_draws(program, draws[start:stop], daily, monthly)
            advance(stop - start)
            yield weights[start:stop], np.concatenate([daily, monthly], axis=2)[:stop - start]

    lo = np.full((n_out, n_times), np.inf)
    hi = np.full((n_out, n_times), -np.inf)
    for w, values in chunks():
        values = np.where(np.isfinite(values) & (w > 0)[:, None, None], values, np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            lo = np.fmin(lo, np.nanmin(values, axis=0))
            hi = np.fmax(hi, np.nanmax(values, axis=0))
    seen = np.isfinite(lo)
    stats = np.stack([seen.astype(float), np.zeros_like(lo), np.zeros_like(lo)], axis=-1)
    windows = Windows.from_pilot(stats, np.stack([np.where(seen, lo, 0.0), np.where(seen, hi, 0.0)], axis=-1))
    key_lo, floor, length = windows.lo_key, windows.floor, np.maximum(windows.length, 1)
    hist = [[np.zeros(length[o, t]) for t in range(n_times)] for o in range(n_out)]
    sums = np.zeros((n_out, n_times, 3))
    for w, values in chunks():
        for o in range(n_out):
            for t in range(n_times):
                x = values[:, o, t]
                ok = np.isfinite(x) & (w > 0)
                bins = np.clip(value_keys(x[ok], floor[o, t]) - key_lo[o, t], 0, length[o, t] - 1)
                hist[o][t] += np.bincount(bins, weights=w[ok], minlength=length[o, t])
                sums[o, t] += (w[ok].sum(), (w[ok] * x[ok]).sum(), (w[ok] * x[ok] ** 2).sum())
    quantiles = np.array([[weighted_histogram_quantiles(hist[o][t], key_lo[o, t], lo[o, t], hi[o, t], QUANTILES,
                                                        floor[o, t]) for t in range(n_times)] for o in range(n_out)])
    quantiles[..., ~reportable] = np.nan
    with np.errstate(all="ignore"):
        mean = sums[..., 1] / sums[..., 0]
        std = np.sqrt(np.maximum(sums[..., 2] / sums[..., 0] - mean ** 2, 0.0))
    result = {}
    for o, name in enumerate(model.flat.outputs):
        if name not in out_names:
            continue
        for scale, times in (("daily", slice(0, program.n_days)), ("monthly", slice(program.n_days, n_times))):
            result[f"{name}_{scale}"] = quantiles[o, times].T
            result[f"{name}_{scale}_mean"] = mean[o, times]
            result[f"{name}_{scale}_std"] = std[o, times]
    return result


def _ratio_quantiles(ratio, weights, reportable, months):
    q = np.array([weighted_quantiles(ratio[:, m], weights) for m in range(ratio.shape[1])])
    q[:, ~reportable] = np.nan
    return xr.DataArray(q.T, dims=("quantile", "month"))


def _stack(prior, posterior, out_names):
    variables = {}
    for name in out_names:
        for scale in ("daily", "monthly"):
            for suffix in ("", "_mean", "_std"):
                key = f"{name}_{scale}{suffix}"
                post = prior[key].copy(data=posterior[key])
                variables[key] = xr.concat([prior[key], post], dim="stage").assign_attrs(prior[key].attrs)
    return xr.Dataset(variables)
