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
interval.
"""
from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass

import numpy as np
import xarray as xr

from .distributions import Z95
from .errors import ModelError
from .results import QUANTILES

MIN_TAIL_DRAWS = 20          # ESS * min(q, 1 - q) needed to report quantile q
MAX_CALIBRATION_SAMPLES = 2_000_000
CHUNK = 1 << 16


@dataclass(frozen=True)
class Observation:
    quantity: str            # an output (its monthly value) or a sampled parameter
    month: str | None        # for outputs: which month (None: every month of the period)
    likelihood: str          # "normal" | "lognormal" | "interval"
    value: float = math.nan  # normal: mean; lognormal: median
    spread: float = math.nan  # normal: sd; lognormal: sigma of log
    low: float = math.nan    # interval bounds
    high: float = math.nan
    source: str = ""

    def log_likelihood(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            if self.likelihood == "normal":
                return -0.5 * ((x - self.value) / self.spread) ** 2
            if self.likelihood == "lognormal":
                return np.where(x > 0, -0.5 * ((np.log(x) - math.log(self.value)) / self.spread) ** 2, -np.inf)
            return np.where((x >= self.low) & (x <= self.high), 0.0, -np.inf)

    def describe(self) -> str:
        where = f"{self.quantity}" + (f" in {self.month}" if self.month else "")
        if self.likelihood == "interval":
            return f"{where} in [{self.low:.3g}, {self.high:.3g}]"
        return f"{where} ~ {self.likelihood}({self.value:.3g}, {self.spread:.3g})"


@dataclass(frozen=True)
class Reconcile:
    paths: tuple             # (output A, output B): compared by their monthly ratio A / B
    within_factor: float
    likelihood: str          # "lognormal" (90% within the factor) or "interval" (hard bound)
    source: str = ""

    def observation(self) -> Observation:
        if self.likelihood == "interval":
            return Observation("path_ratio", None, "interval", low=1 / self.within_factor,
                               high=self.within_factor, source=self.source)
        return Observation("path_ratio", None, "lognormal", value=1.0,
                           spread=math.log(self.within_factor) / Z95, source=self.source)


def parse_observation(entry, *, model, path=None, field="observations") -> Observation:
    """Check one observation table (from a model file or a script) against ``model``."""
    def fail(problem, key=None, value=None, fix=None):
        raise ModelError(problem, path=path, field=f"{field}.{key}" if key else field, value=value, fix=fix)

    if not isinstance(entry, dict):
        fail("must be a table", value=entry, fix='write quantity = "...", likelihood = "lognormal", value, sigma')
    allowed = {"quantity", "month", "likelihood", "value", "sd", "sigma", "low", "high", "source", "rationale"}
    for key in entry:
        if key not in allowed:
            fail("unknown key", key, fix=f"use {sorted(allowed)}")
    quantity = entry.get("quantity")
    sampled = {p.name for p in model.all_parameters()}
    if quantity not in model.outputs and quantity not in sampled:
        fail("is not an output or a sampled parameter", "quantity", quantity,
             "observe a quantity listed under [outputs] (add it there) or a parameter")
    if quantity in sampled and any(p.varies_by_month for p in model.all_parameters() if p.name == quantity):
        fail("observing a month-varying parameter is not supported", "quantity", quantity,
             "observe an output that depends on it instead")
    month = entry.get("month")
    if month is not None and month not in model.period.months:
        fail("is not a month of the period", "month", month,
             f"use one of {model.period.months[0]} .. {model.period.months[-1]}")
    kind = entry.get("likelihood", "normal")
    source = entry.get("source")
    if not isinstance(source, str) or not source.strip():
        fail("the source is missing", "source", fix='add source = "..." saying where the observation comes from')

    def number(key, positive=False):
        value = entry.get(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            fail("must be a finite number", key, value, f"write {key} = ...")
        if positive and value <= 0:
            fail("must be positive", key, value, f"use {key} > 0")
        return float(value)

    if kind == "normal":
        return Observation(quantity, month, kind, value=number("value"), spread=number("sd", True), source=source)
    if kind == "lognormal":
        return Observation(quantity, month, kind, value=number("value", True), spread=number("sigma", True),
                           source=source)
    if kind == "interval":
        low, high = number("low"), number("high")
        if low >= high:
            fail("low must be below high", "low", low, "swap them")
        return Observation(quantity, month, kind, low=low, high=high, source=source)
    fail("unknown likelihood", "likelihood", kind, "use normal (value, sd), lognormal (value, sigma) or interval (low, high)")


def parse_reconcile(table, *, model, path=None) -> Reconcile:
    def fail(problem, key, value=None, fix=None):
        raise ModelError(problem, path=path, field=f"reconcile.{key}", value=value, fix=fix)

    paths = table.get("paths")
    if not isinstance(paths, list) or len(paths) != 2 or not all(p in model.outputs for p in paths):
        fail("must name two outputs", "paths", paths, 'write paths = ["energy_kwh", "fleet_energy_kwh"]')
    factor = table.get("within_factor")
    if not isinstance(factor, (int, float)) or isinstance(factor, bool) or not factor > 1:
        fail("must be a number above 1", "within_factor", factor, "write within_factor = 2")
    kind = table.get("likelihood", "lognormal")
    if kind not in ("lognormal", "interval"):
        fail("must be lognormal or interval", "likelihood", kind, 'write likelihood = "lognormal"')
    source = table.get("source")
    if not isinstance(source, str) or not source.strip():
        fail("the source (or rationale) is missing", "source", fix='add source = "..."')
    return Reconcile(tuple(paths), float(factor), kind, source)


def calibrate(model, *, samples: int, seed: int, observations=None, reconcile=None,
              keep: int = 10_000) -> xr.Dataset:
    """Prior and posterior distributions of every output on the same draws (``stage`` dimension).

    ``observations``/``reconcile`` default to the model file's ``[[observations]]`` and
    ``[reconcile]``; scripts may pass their own (tables in the same format, or parsed objects).
    The first ``keep`` draws come back with their weights (``weight(sample)``) and monthly
    outputs, for scatter plots.
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
    prior = model.run(samples=samples, seed=seed, keep=samples)
    months = model.period.months
    out_names = list(model.outputs)
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

    posterior = _weighted_summary(model, draws, weights, reportable)
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
        warnings.warn(message, RuntimeWarning, stacklevel=2)
    return ds


def weighted_quantiles(values, weights, quantiles=QUANTILES):
    """Quantiles of a weighted sample: the weighted empirical CDF inverted with linear
    interpolation between the midpoints of each draw's weight (for equal weights, the Hazen
    sample quantile)."""
    values = np.asarray(values, float)
    weights = np.asarray(weights, float)
    keep = np.isfinite(values) & (weights > 0)
    values, weights = values[keep], weights[keep]
    if values.size == 0:
        return np.full(len(quantiles), np.nan)
    order = np.argsort(values, kind="stable")
    values, weights = values[order], weights[order]
    centres = (np.cumsum(weights) - 0.5 * weights) / weights.sum()
    return np.interp(quantiles, centres, values)


def _weighted_summary(model, draws, weights, reportable):
    """Posterior quantiles, mean and sd of every daily and monthly output.

    The model is evaluated on the kept draws in chunks, twice: the first pass finds each
    (output, time)'s range, the second adds the weights into histograms on the same IEEE-754 keys
    as the kernel (256 bins per octave), so memory stays bounded for long periods.
    """
    from . import kernel
    from .program import compile_model
    from .runner import Windows, key_bounds, program_args, value_keys

    program = compile_model(model)
    n, n_out = draws.shape[0], len(model.outputs)
    n_times = program.n_days + program.n_months

    def chunks():
        daily = np.empty((CHUNK, n_out, program.n_days))
        monthly = np.empty((CHUNK, n_out, program.n_months))
        for start in range(0, n, CHUNK):
            stop = min(n, start + CHUNK)
            kernel.evaluate_draws(np.ascontiguousarray(draws[start:stop]), program.draw_regs, program.n_regs,
                                  *program_args(program), daily, monthly)
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
    quantiles = np.full((n_out, n_times, len(QUANTILES)), np.nan)
    for o in range(n_out):
        for t in range(n_times):
            counts = hist[o][t]
            total = counts.sum()
            if total <= 0:
                continue
            cum = np.cumsum(counts)
            target = np.array(QUANTILES) * total
            b = np.minimum(np.searchsorted(cum, target, side="left"), len(counts) - 1)
            low, high = key_bounds(key_lo[o, t] + b, floor[o, t])
            inside = (target - (cum[b] - counts[b])) / np.where(counts[b] > 0, counts[b], 1)
            quantiles[o, t] = np.clip(low + inside * (high - low), lo[o, t], hi[o, t])
    quantiles[..., ~reportable] = np.nan
    with np.errstate(all="ignore"):
        mean = sums[..., 1] / sums[..., 0]
        std = np.sqrt(np.maximum(sums[..., 2] / sums[..., 0] - mean ** 2, 0.0))
    result = {}
    for o, name in enumerate(model.outputs):
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
