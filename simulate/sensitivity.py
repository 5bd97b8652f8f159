"""Sensitivity analysis: which assumption drives the spread of an output, in a month or on each day.

Three methods, each returning an ``xarray.Dataset`` indexed by ``parameter`` (sorted, most
influential first), plus sweeps:

* ``sobol``: first-order and total Sobol indices with bootstrap confidence intervals. The design
  is Saltelli's radial A/B/AB scheme (Saltelli et al. 2010, Comput. Phys. Commun. 181:259) on a
  scrambled Sobol' sequence; the estimator is ``scipy.stats.sobol_indices`` (Saltelli 2010 first
  order, Jansen total order), called on our own evaluations of the model.
* ``tornado``: the output median with one parameter fixed at its p5 and then at its p95, the
  others left random on the same draws (common random numbers), sorted by swing.
* ``rank``: Spearman rank correlation of each input with the output, from an ordinary run's
  per-sample draws (``scipy.stats.spearmanr``).
* :func:`sweep`: the usual results Dataset along a new dimension named after a parameter,
  with common random numbers across the sweep.

Groups. A parameter that varies by month has one draw per month ("visits[2023-01]", ...); it is
analysed as one group, the parameter. Dirichlet region shares are one group, "region shares".
For Sobol indices each group is one "super-input": the AB pages swap all of a group's columns
from B into A at once, which gives the closed (group) index of the set (Jansen 1999; Saltelli et
al. 2008, Global Sensitivity Analysis, sec. 1.2.15). Dirichlet shares are drawn jointly from as
many uniforms as regions: uniform -> Gamma(concentration x share) quantile -> normalised, which is
the exact Dirichlet law. The ``members`` coordinate of every result lists each group's draws.
"""
from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import xarray as xr
from scipy import stats

from .errors import ModelError

METHODS = ("sobol", "tornado", "rank")
DEFAULT_SAMPLES = {"sobol": 4096, "tornado": 100_000, "rank": 100_000}
MIN_SOBOL_SAMPLES = 64
CONFIDENCE = 0.95
N_RESAMPLES = 200           # bootstrap resamples for the Sobol confidence intervals
BOOTSTRAP_BATCH_FLOATS = 8_000_000   # floats gathered per vectorised bootstrap batch (memory bound)
REGION_SHARES = "region shares"
TORNADO_LOW, TORNADO_HIGH = 0.05, 0.95
TORNADO_CELLS = 20_000_000    # values (samples x days) evaluated at once by a daily tornado: 160 MB


@dataclass(frozen=True)
class Group:
    """One analysed input: a parameter (all its months) or the Dirichlet region shares.

    ``transform`` maps ``(n, n_uniforms)`` uniforms in (0, 1) to ``(n, len(columns))`` values of
    the input-matrix columns the group owns.
    """

    name: str
    members: tuple
    columns: tuple
    n_uniforms: int
    transform: Callable
    fixed: bool = False


# -- Sobol indices on any function ---------------------------------------------------------------
def grouped_sobol(func, groups, n_columns: int, n: int, *, seed: int = 0, indexed=None,
                  n_resamples: int = N_RESAMPLES, confidence: float = CONFIDENCE) -> dict:
    """First-order and total Sobol indices of ``func`` for each group, with bootstrap intervals.

    ``func(X)`` takes ``X`` of shape ``(rows, n_columns)`` and returns ``(rows,)`` or
    ``(rows, s)`` finite values. ``n`` base samples (a power of 2) cost ``n * (len(indexed) + 2)``
    evaluations. ``indexed`` names the groups to index (default: all that are not fixed); the
    others still vary, drawn from A. Returns arrays of shape ``(s, len(indexed))`` for
    ``first_order``, ``total_order`` and their ``*_low``/``*_high`` interval ends, with
    ``names`` and the output ``variance``.

    Intervals: ``scipy.stats.bootstrap`` over the rows of the design (``n_resamples``
    resamples, percentile method), each resample's indices computed by
    ``scipy.stats.sobol_indices``. Rows of a scrambled Sobol' design are not independent, so the
    bootstrap treats them as if they were: the intervals err on the wide side.
    """
    indexed = [g for g in groups if not g.fixed] if indexed is None else list(indexed)
    rng = np.random.default_rng(seed)
    n_uniforms = sum(g.n_uniforms for g in groups)
    u = stats.qmc.Sobol(2 * n_uniforms, scramble=True, rng=rng, bits=64).random(n)
    u = np.clip(u, 1e-12, 1 - 1e-12)  # a quantile function at exactly 0 or 1 may be infinite
    A, B = _fill(groups, u[:, :n_uniforms], n_columns), _fill(groups, u[:, n_uniforms:], n_columns)

    def evaluate(X):
        values = np.asarray(func(X), dtype=float)
        return values.reshape(len(X), -1).T      # (s, rows)

    f_A, f_B = evaluate(A), evaluate(B)
    f_AB = np.empty((len(indexed),) + f_A.shape)
    for i, group in enumerate(indexed):
        X = A.copy()
        X[:, list(group.columns)] = B[:, list(group.columns)]
        f_AB[i] = evaluate(X)
    bad = ~(np.isfinite(f_A).all() and np.isfinite(f_B).all() and np.isfinite(f_AB).all())
    if bad:
        raise ModelError("the output is NaN or infinite for some inputs of the Sobol design",
                         field="output", fix="check the expressions for divisions by zero or logs of "
                         "values that can reach 0 within the parameters' ranges")
    s, d = f_A.shape[0], len(indexed)
    result = stats.sobol_indices(func={"f_A": f_A, "f_B": f_B, "f_AB": f_AB}, n=n)
    first = np.reshape(result.first_order, (s, d))
    total = np.reshape(result.total_order, (s, d))

    def statistic(idx, axis=-1):
        idx = np.atleast_2d(idx).astype(np.intp)
        b = idx.shape[0]
        res = stats.sobol_indices(func={"f_A": f_A[:, idx].reshape(s * b, n), "f_B": f_B[:, idx].reshape(s * b, n),
                                        "f_AB": f_AB[..., idx].reshape(d, s * b, n)}, n=n)
        both = np.stack([np.reshape(res.first_order, (s, b, d)), np.reshape(res.total_order, (s, b, d))])
        return np.moveaxis(both, 2, -1).reshape(-1, b)     # (2 * s * d, b)

    batch = max(1, BOOTSTRAP_BATCH_FLOATS // ((d + 2) * s * n))
    boot = stats.bootstrap((np.arange(n),), statistic, vectorized=True, n_resamples=n_resamples,
                           batch=batch, method="percentile", confidence_level=confidence,
                           rng=np.random.default_rng([seed, 1]))
    low = boot.confidence_interval.low.reshape(2, s, d)
    high = boot.confidence_interval.high.reshape(2, s, d)
    variance = np.var(np.concatenate([f_A, f_B], axis=1), axis=1)
    return {"names": [g.name for g in indexed], "first_order": first, "total_order": total,
            "first_order_low": low[0], "first_order_high": high[0],
            "total_order_low": low[1], "total_order_high": high[1], "variance": variance,
            "evaluations": n * (d + 2)}


def _fill(groups, u, n_columns):
    X = np.empty((len(u), n_columns))
    start = 0
    for g in groups:
        X[:, list(g.columns)] = g.transform(u[:, start:start + g.n_uniforms])
        start += g.n_uniforms
    return X


def check_sobol_samples(n, path=None) -> int:
    """``n`` if it is a power of 2 of at least MIN_SOBOL_SAMPLES, else a ModelError saying what to use."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < MIN_SOBOL_SAMPLES or n & (n - 1):
        below = 1 << max(int(np.log2(max(n, 1))) if isinstance(n, (int, np.integer)) else 0, 6)
        fix = (f"use a power of 2 such as {below} or {below * 2} (2^{below.bit_length() - 1}); "
               f"the design costs samples x (groups + 2) model evaluations")
        raise ModelError(f"Sobol indices need a power of 2 of at least {MIN_SOBOL_SAMPLES} base samples",
                         path=path, field="samples", value=n, fix=fix)
    return int(n)


# -- the model's inputs as groups ----------------------------------------------------------------
def input_groups(model, program, join_correlated: bool = True) -> list[Group]:
    """The model's draws (``program.draw_names``) gathered into groups, in draw order.

    Correlated parameters form one group unless ``join_correlated`` is False (the tornado moves
    one parameter at a time, its correlated partners keeping their draws).
    """
    params = {p.name: p for p in model.all_parameters()}
    order, members = [], {}
    share_names = set()
    if model.regions is not None and model.regions.mode == "dirichlet":
        share_names = {f"share_{r.name}" for r in model.regions.regions}
    for column, draw in enumerate(program.draw_names):
        key = REGION_SHARES if draw in share_names else draw.split("[")[0]
        if key not in members:
            order.append(key)
            members[key] = []
        members[key].append((column, draw))
    groups = []
    for key in order:
        cols = tuple(c for c, _ in members[key])
        names = tuple(d for _, d in members[key])
        if key == REGION_SHARES:
            alphas = np.array([model.regions.concentration * r.share for r in model.regions.regions])
            groups.append(Group(key, names, cols, len(cols), _dirichlet_transform(alphas)))
            continue
        param = params[key]
        dists = [param.for_month(d[len(key) + 1:-1]) if "[" in d else param.dist for d in names]
        groups.append(Group(key, names, cols, len(cols), _ppf_transform(dists),
                            fixed=all(dist.family == "fixed" for dist in dists)))
    return _join_correlated(model, groups) if join_correlated else groups


def correlated_sets(model) -> list[list[str]]:
    """Parameters linked by declared rank correlations, as connected sets (in file order)."""
    sets: list[list[str]] = []
    for c in model.correlations:
        touching = [s for s in sets if set(s) & set(c.between)]
        merged = [n for s in touching for n in s]
        merged += [n for n in c.between if n not in merged]
        sets = [s for s in sets if s not in touching] + [merged]
    return sets


def _join_correlated(model, groups):
    """Correlated parameters become one group sampled jointly from the same Gaussian copula as the
    kernel, so groups stay independent and grouped Sobol indices stay valid (Jacques et al. 2006,
    "Sensitivity analysis in presence of model uncertainty and correlated inputs", RESS 91)."""
    from .correlation import cholesky_of

    by_name = {g.name: g for g in groups}
    for names in correlated_sets(model):
        members = [by_name.pop(n) for n in names]
        links = [c for c in model.correlations if set(c.between) <= set(names)]
        chol = cholesky_of(names, links, path=model.path)
        dists = [next(p for p in model.all_parameters() if p.name == n).dist for n in names]
        joined = Group(" + ".join(names), tuple(m for g in members for m in g.members),
                       tuple(c for g in members for c in g.columns), len(names), _copula_transform(dists, chol))
        by_name[joined.name] = joined
    return sorted(by_name.values(), key=lambda g: min(g.columns))


def _copula_transform(dists, chol):
    """Uniforms -> independent normal scores -> correlated by ``chol`` -> each marginal's ppf."""
    def transform(u):
        z = stats.norm.ppf(u) @ chol.T
        return np.column_stack([dist.ppf(stats.norm.cdf(z[:, j])) for j, dist in enumerate(dists)])
    return transform


def _ppf_transform(dists):
    def transform(u):
        return np.column_stack([dist.ppf(u[:, j]) for j, dist in enumerate(dists)])
    return transform


def _dirichlet_transform(alphas):
    """Uniforms -> Gamma(alpha_r) quantiles -> normalised: the Dirichlet(alphas) law, jointly."""
    def transform(u):
        g = np.column_stack([stats.gamma(a).ppf(u[:, j]) for j, a in enumerate(alphas)])
        return g / g.sum(axis=1, keepdims=True)
    return transform


# -- what is analysed: one output in one month, or on every day ----------------------------------
@dataclass(frozen=True)
class Target:
    output: str
    index: int          # the output's position in model.outputs
    month: int | None   # month index, or None for daily values
    daily: bool

    def label(self, model) -> str:
        return f"{self.output}, {'daily values' if self.daily else 'monthly ' + model.outputs[self.output].aggregate + ' of ' + model.period.months[self.month]}"


def target_for(model, output, month, daily) -> Target:
    if output not in model.outputs:
        raise ModelError("is not an output of this model", path=model.path, field="output", value=output,
                         fix=f"use one of {list(model.outputs)}")
    months = model.period.months
    if daily:
        if month is not None:
            raise ModelError("daily indices cover every date; a month cannot be chosen as well",
                             path=model.path, field="month", value=month, fix="drop month, or drop daily")
        return Target(output, list(model.outputs).index(output), None, True)
    if month is None:
        month = months[0]
    if month not in months:
        raise ModelError("is not a month of the model period", path=model.path, field="month", value=month,
                         fix=f"use a month from {months[0]} to {months[-1]} written as YYYY-MM")
    return Target(output, list(model.outputs).index(output), months.index(month), False)


def evaluator(program, target: Target, days: slice | None = None):
    """A function of the input matrix ``X[sample, draw]`` returning the target's values.

    Monthly: ``(n,)``; daily: ``(n, n_days)``, or only the ``days`` asked for. Runs the Numba
    kernel's ``evaluate_draws`` on a copy of the program that computes only the target output,
    on only the days it needs.
    """
    from . import kernel
    from .runner import program_args

    one = program.only_outputs([target.index])
    if not target.daily:  # a month's value needs only that month's days
        one = one.only_days(program.month_of_day == target.month)
    elif days is not None:
        keep = np.zeros(program.n_days, dtype=bool)
        keep[days] = True
        one = one.only_days(keep)
    args = program_args(one)

    def func(X):
        X = np.ascontiguousarray(X, dtype=np.float64)
        monthly = np.empty((len(X), 1, one.n_months))
        daily = np.empty((len(X) if target.daily else 0, 1, one.n_days if target.daily else 1))
        kernel.evaluate_draws(X, one.draw_regs, one.n_regs, *args, daily, monthly)
        return daily[:, 0, :] if target.daily else monthly[:, 0, target.month]
    return func


# -- the three methods -----------------------------------------------------------------------------
def sensitivity(model, output: str = "energy_kwh", method: str = "sobol", *, samples: int | None = None,
                seed: int = 0, month: str | None = None, daily: bool = False, parameters=None,
                n_resamples: int = N_RESAMPLES, confidence: float = CONFIDENCE) -> xr.Dataset:
    """Sensitivity of one output to the model's inputs; see the module docstring.

    ``samples``: Sobol base samples (a power of 2; the model is evaluated samples x (groups + 2)
    times) or the Monte Carlo samples of each tornado/rank run. ``month`` ("YYYY-MM", default the
    first month) or ``daily=True`` (indices over ``date``). ``parameters`` limits the analysis to
    some groups (names as in ``members``' keys, or "region shares").
    """
    from .program import compile_model

    if method not in METHODS:
        raise ModelError("is not a sensitivity method", path=model.path, field="method", value=method,
                         fix=f"use one of {list(METHODS)}")
    target = target_for(model, output, month, daily)
    samples = DEFAULT_SAMPLES[method] if samples is None else samples
    if method == "sobol":
        samples = check_sobol_samples(samples, model.path)
    elif isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 100:
        raise ModelError("must be an integer of at least 100", path=model.path, field="samples", value=samples,
                         fix=f"use e.g. {DEFAULT_SAMPLES[method]}")
    program = compile_model(model)
    groups = input_groups(model, program, join_correlated=method != "tornado")
    chosen = _choose(model, groups, parameters, method)
    started = time.perf_counter()
    if method == "sobol":
        ds = _sobol(model, program, groups, chosen, target, samples, seed, n_resamples, confidence)
    elif method == "tornado":
        ds = _tornado(model, program, chosen, target, samples, seed)
    else:
        ds = _rank(model, program, groups, chosen, target, samples, seed)
    ds = _sorted(ds, "first_order" if method == "sobol" else "swing" if method == "tornado" else "abs_rho")
    fixed = [g.name for g in groups if g.fixed]
    ds.attrs.update({
        "method": method, "output": output, "target": target.label(model),
        "month": "" if daily else model.period.months[target.month], "daily": int(daily),
        "samples": int(samples), "seed": int(seed), "fixed_parameters": json.dumps(fixed),
        "grouping": ("monthly draws of a parameter form one group named after it; Dirichlet region shares "
                     "form one group named 'region shares'; rank-correlated parameters form one group named "
                     "'a + b', sampled jointly; see the members coordinate"),
        "validity": _validity(model, method),
        "model_path": model.path or "", "model_sha256": model.sha256, "scenario": model.scenario or "",
        "model_fixed": json.dumps(model.fixed, sort_keys=True),
        "elapsed_s": round(time.perf_counter() - started, 3),
    })
    ds["parameter"].attrs["long_name"] = "input (group)"
    for name in ds.data_vars:
        ds[name].attrs.setdefault("units", "1")
    return ds


def _validity(model, method) -> str:
    """Which reading of the result holds when inputs are correlated."""
    if not model.correlations:
        return "inputs are independent: every method reads as usual"
    return {"sobol": "valid: correlated parameters are one group, and groups are independent",
            "tornado": "one-at-a-time swings of marginals; with correlated inputs they ignore the partners' shift",
            "rank": "Spearman correlations include the effect of correlated partners; use sobol for attribution",
            }[method]


def _choose(model, groups, parameters, method):
    names = {g.name: g for g in groups}
    usable = [g for g in groups if not g.fixed and not (method == "tornado" and g.name == REGION_SHARES)]
    if parameters is None:
        if not usable:
            raise ModelError("every parameter is fixed: there is no spread to attribute", path=model.path,
                             field="parameters", fix="give at least one parameter a distribution")
        return usable
    chosen = []
    for name in parameters:
        if name not in names:
            raise ModelError("is not a parameter of this model", path=model.path, field="parameters", value=name,
                             fix=f"use one of {[g.name for g in groups]}")
        if names[name].fixed:
            raise ModelError("is fixed, so it has no spread to analyse", path=model.path, field="parameters",
                             value=name, fix=f"drop it, or use one of {[g.name for g in usable]}")
        if method == "tornado" and name == REGION_SHARES:
            raise ModelError("a joint Dirichlet split has no single p5 and p95 point", path=model.path,
                             field="parameters", value=name, fix="use method 'sobol' or 'rank' for region shares")
        chosen.append(names[name])
    return chosen


def _coords(model, groups, target):
    coords = {"parameter": ("parameter", [g.name for g in groups]),
              "members": ("parameter", [", ".join(g.members) for g in groups],
                          {"long_name": "the draws each group gathers"})}
    if target.daily:
        from .results import program_dates
        coords["date"] = ("date", program_dates(model), {"long_name": "day"})
    return coords


def _dims(target):
    return ("parameter", "date") if target.daily else ("parameter",)


def _sobol(model, program, groups, chosen, target, n, seed, n_resamples, confidence):
    res = grouped_sobol(evaluator(program, target), groups, len(program.draw_names), n, seed=seed,
                        indexed=chosen, n_resamples=n_resamples, confidence=confidence)
    dims = _dims(target)

    def arr(key):
        a = res[key].T                      # (groups, s)
        return a if target.daily else a[:, 0]

    level = f"{confidence:.0%}"
    data = {
        "first_order": (dims, arr("first_order"), {"long_name": "first-order Sobol index"}),
        "first_order_low": (dims, arr("first_order_low"), {"long_name": f"first-order index, lower end of {level} interval"}),
        "first_order_high": (dims, arr("first_order_high"), {"long_name": f"first-order index, upper end of {level} interval"}),
        "total_order": (dims, arr("total_order"), {"long_name": "total Sobol index"}),
        "total_order_low": (dims, arr("total_order_low"), {"long_name": f"total index, lower end of {level} interval"}),
        "total_order_high": (dims, arr("total_order_high"), {"long_name": f"total index, upper end of {level} interval"}),
    }
    unit = model.outputs[target.output].unit
    var = res["variance"] if target.daily else res["variance"][0]
    data["output_variance"] = (dims[1:], var, {"units": f"({unit})^2", "long_name": f"variance of {target.output}"})
    ds = xr.Dataset(data, coords=_coords(model, chosen, target))
    ds.attrs.update({"evaluations": int(res["evaluations"]), "confidence_level": confidence,
                     "n_resamples": int(n_resamples),
                     "estimator": "scipy.stats.sobol_indices (Saltelli 2010 first order, Jansen total order) "
                                  "on a grouped radial design over a scrambled Sobol' sequence; intervals from "
                                  "scipy.stats.bootstrap (percentile) over design rows"})
    return ds


def _quantile_value(dist, q):
    return float(dist.ppf(np.array([q]))[0])


def _fixed_at(model, param, q):
    """with_fixed value putting ``param`` at its ``q`` quantile (per month when it varies by month)."""
    if param.varies_by_month:
        return {m: _quantile_value(param.for_month(m), q) for m in model.period.months}
    return _quantile_value(param.dist, q)


def _finite_median(y):
    """The median over samples (axis 0) of the finite values; NaN where there are none."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # all-NaN columns give NaN
        return np.nanmedian(np.where(np.isfinite(y), y, np.nan), axis=0)


def _only_output(model, target):
    """The model reporting only the target output: fewer histograms, the same draws (streams are
    keyed by parameter, not by output)."""
    return dataclasses.replace(model, outputs={target.output: model.outputs[target.output]})


def _tornado(model, program, chosen, target, samples, seed):
    params = {p.name: p for p in model.all_parameters()}
    model = _only_output(model, target)
    month = model.period.months[target.month or 0]
    X = np.asarray(model.run(samples=samples, seed=seed, keep=samples)["inputs"].values)
    # the kept draws are evaluated again with the input's column(s) replaced; days in chunks
    # of at most TORNADO_CELLS values, so memory stays bounded on long periods
    step = max(1, TORNADO_CELLS // len(X))
    chunks = [slice(d, d + step) for d in range(0, program.n_days, step)] if target.daily else [None]
    funcs = [evaluator(program, target, days) for days in chunks]

    def median_with(name=None, value=None):
        Xc = X.copy()
        for column, draw in enumerate(program.draw_names):
            base, _, when = draw.partition("[")
            if base == name:
                Xc[:, column] = value[when[:-1]] if isinstance(value, dict) else value
        medians = [_finite_median(func(Xc)) for func in funcs]
        return np.concatenate(medians) if target.daily else float(medians[0])

    baseline = median_with()
    rows = {"input_low": [], "input_high": [], "output_low": [], "output_high": []}
    for group in chosen:
        param = params[group.name]
        for end, q in (("low", TORNADO_LOW), ("high", TORNADO_HIGH)):
            value = _fixed_at(model, param, q)
            rows[f"input_{end}"].append(value[month] if isinstance(value, dict) else value)
            rows[f"output_{end}"].append(median_with(group.name, value))
    dims, unit = _dims(target), model.outputs[target.output].unit
    low, high = np.array(rows["output_low"]), np.array(rows["output_high"])
    data = {
        "input_low": (("parameter",), np.array(rows["input_low"]),
                      {"long_name": f"input at its p5 (in {month} when it varies by month)", "units": "see members"}),
        "input_high": (("parameter",), np.array(rows["input_high"]),
                       {"long_name": f"input at its p95 (in {month} when it varies by month)", "units": "see members"}),
        "output_low": (dims, low, {"units": unit, "long_name": f"median of {target.output} with the input at its p5"}),
        "output_high": (dims, high, {"units": unit, "long_name": f"median of {target.output} with the input at its p95"}),
        "swing": (dims, np.abs(high - low), {"units": unit, "long_name": "|output_high - output_low|"}),
        "baseline": (dims[1:], baseline, {"units": unit, "long_name": f"median of {target.output}, nothing fixed"}),
    }
    ds = xr.Dataset(data, coords=_coords(model, chosen, target))
    ds["input_units"] = ("parameter", [params[g.name].unit for g in chosen])
    ds.attrs["note"] = ("each input alone fixed at its p5 and p95, the others random on the same draws "
                        "(common random numbers): exact sample medians of the kept draws re-evaluated; a correlated "
                        "input moves alone, its partners keeping their draws; "
                        "region shares are left out (a joint Dirichlet split has no single p5/p95 point)")
    return ds


def _rank(model, program, groups, chosen, target, samples, seed):
    run = _only_output(model, target).run(samples=samples, seed=seed, keep=samples)
    X = np.asarray(run["inputs"].values)
    if target.daily:
        Y = evaluator(program, target)(X)                         # the same draws, every day
        month_of = program.month_of_day
    else:
        Y = np.asarray(run[f"{target.output}_monthly_samples"].values)[:, [target.month]]
        month_of = np.array([target.month])
    cols = sorted({c for g in chosen for c in g.columns})
    where = {c: i for i, c in enumerate(cols)}
    rho_all, p_all = stats.spearmanr(np.column_stack([X[:, cols], Y]), axis=0)
    rho_all = np.atleast_2d(rho_all)[:len(cols), len(cols):]     # (input column, time)
    p_all = np.atleast_2d(p_all)[:len(cols), len(cols):]
    months = model.period.months
    rho = np.empty((len(chosen), Y.shape[1]))
    pval = np.empty_like(rho)
    used = []
    for i, g in enumerate(chosen):
        if g.name == REGION_SHARES:   # the share whose rank moves the output most (over all times)
            k = max(g.columns, key=lambda c: np.nanmean(np.abs(rho_all[where[c]])))
            rho[i], pval[i] = rho_all[where[k]], p_all[where[k]]
            used.append(f"{program.draw_names[k]} (strongest of {len(g.columns)})")
        elif len(g.columns) > 1:      # varies by month: each time uses its own month's draw
            by_month = {name[len(g.name) + 1:-1]: c for name, c in zip(g.members, g.columns)}
            for t, m in enumerate(month_of):
                c = by_month[months[m]]
                rho[i, t], pval[i, t] = rho_all[where[c], t], p_all[where[c], t]
            used.append(f"{g.name}[month of each time]")
        else:
            rho[i], pval[i] = rho_all[where[g.columns[0]]], p_all[where[g.columns[0]]]
            used.append(g.members[0])
    dims = _dims(target)

    def shaped(a):
        return a if target.daily else a[:, 0]

    ds = xr.Dataset({
        "rho": (dims, shaped(rho), {"long_name": "Spearman rank correlation of input and output"}),
        "pvalue": (dims, shaped(pval), {"long_name": "p-value of rho = 0 (scipy.stats.spearmanr)"}),
        "abs_rho": (dims, np.abs(shaped(rho)), {"long_name": "|rho|"}),
        "member_used": ("parameter", used),
    }, coords=_coords(model, chosen, target))
    ds["member_used"].attrs["long_name"] = "the draw correlated with the output"
    return ds


def _sorted(ds, key):
    score = ds[key].max("date") if "date" in ds[key].dims else ds[key]
    order = np.argsort(-np.nan_to_num(score.values, nan=-np.inf), kind="stable")
    return ds.isel(parameter=order)


# -- sweeps ------------------------------------------------------------------------------------------
def sweep(model, parameter: str, values, *, samples: int = 100_000, seed: int = 0, keep: int = 0) -> xr.Dataset:
    """The results Dataset of ``model`` with ``parameter`` fixed at each of ``values``.

    Every run uses the same seed, so each other input takes the same draws in every run (common
    random numbers): differences along the new dimension (named ``parameter``) come from the
    parameter alone. A fixed parameter may be swept too (a what-if on a constant).
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
    runs = [model.with_fixed({parameter: float(v)}).run(samples=samples, seed=seed, keep=keep) for v in values]
    dim = xr.DataArray(values, dims=parameter, name=parameter,
                       attrs={"units": params[parameter].unit, "long_name": params[parameter].long_name})
    ds = xr.concat(runs, dim=dim, data_vars="all", coords="minimal", compat="override",
                   combine_attrs="drop_conflicts")
    ds.attrs.update({"sweep_parameter": parameter, "fixed_parameters": json.dumps(model.fixed, sort_keys=True),
                     "common_random_numbers": "every value of the sweep uses the same seed and streams"})
    return ds


def ranked_table(ds: xr.Dataset) -> str:
    """The result as a plain-text table, most influential first."""
    method = ds.attrs["method"]
    lines = [f"{ds.attrs['target']}: {method}, {ds.attrs['samples']:,} samples, seed {ds.attrs['seed']}"]
    daily = "date" in ds.dims

    def v(name):   # daily: the largest value over dates
        da = ds[name]
        return da.max("date").values if daily else da.values

    if method == "sobol":
        cols = ["first_order", "first_order_low", "first_order_high", "total_order", "total_order_low",
                "total_order_high"]
        vals = [v(c) for c in cols]
        head = f"{'parameter':<28} {'first order':>11} {'95% interval':>17} {'total':>8} {'95% interval':>17}"
        lines += [head + ("   (max over dates)" if daily else ""), "-" * len(head)]
        for i, name in enumerate(ds["parameter"].values):
            lines.append(f"{name:<28} {vals[0][i]:>11.3f} [{vals[1][i]:>6.3f}, {vals[2][i]:>6.3f}] "
                         f"{vals[3][i]:>8.3f} [{vals[4][i]:>6.3f}, {vals[5][i]:>6.3f}]")
    elif method == "tornado":
        from .units import format_number, scale_for
        unit = ds["swing"].attrs["units"]
        factor, label = scale_for([float(np.max(ds["baseline"].values))], unit)
        lines.append(f"median with nothing fixed: {format_number(float(np.max(ds['baseline'].values)) / factor)} {label}"
                     + (" (max over dates)" if daily else ""))
        head = f"{'parameter':<28} {'at p5':>10} {'at p95':>10} {'swing':>10}  unit"
        lines += [head, "-" * len(head)]
        lo, hi, sw = v("output_low"), v("output_high"), v("swing")
        for i, name in enumerate(ds["parameter"].values):
            lines.append(f"{name:<28} {format_number(lo[i] / factor):>10} {format_number(hi[i] / factor):>10} "
                         f"{format_number(sw[i] / factor):>10}  {label}")
    else:
        head = f"{'parameter':<28} {'rho':>7}  draw"
        lines += [head + ("   (largest |rho| over dates)" if daily else ""), "-" * len(head)]
        rho = ds["rho"].values
        if daily:
            rho = np.take_along_axis(rho, np.nanargmax(np.abs(rho), axis=1)[:, None], axis=1)[:, 0]
        for i, name in enumerate(ds["parameter"].values):
            lines.append(f"{name:<28} {rho[i]:>7.3f}  {ds['member_used'].values[i]}")
    fixed = json.loads(ds.attrs.get("fixed_parameters", "[]"))
    if fixed:
        lines.append(f"fixed (no spread, not ranked): {', '.join(fixed)}")
    return "\n".join(lines)


# -- the command line ----------------------------------------------------------------------------------
def _arguments(parser):
    parser.add_argument("priors", help="model file (TOML)")
    parser.add_argument("--output", required=True, help="the output to analyse, e.g. energy_kwh")
    parser.add_argument("--method", choices=METHODS, default="sobol", help="sobol (default), tornado or rank")
    parser.add_argument("--month", help="month YYYY-MM of the monthly total (default: the first month)")
    parser.add_argument("--daily", action="store_true", help="indices for every day instead of one month")
    parser.add_argument("--samples", type=int, help="Sobol base samples (power of 2, default 4096) or "
                        "Monte Carlo samples per run (tornado, rank; default 100000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--scenario", help="fix parameters at a named scenario of the model file first")
    parser.add_argument("--out", help="write the result Dataset to this netCDF file")
    parser.add_argument("--figure", help="save the chart (tornado, Sobol bars, indices over time) to this file")


from .cli import command  # noqa: E402  (registration needs the decorator; cli imports this module lazily)


@command("sensitivity", "rank a model's inputs by their effect on one output (Sobol, tornado, rank)")(_arguments)
def _main(args):
    from .modelfile import load
    from .results import save_netcdf

    model = load(args.priors)
    if args.scenario:
        model = model.with_scenario(args.scenario)
    ds = sensitivity(model, args.output, args.method, samples=args.samples, seed=args.seed,
                     month=args.month, daily=args.daily)
    print(ranked_table(ds))
    if args.out:
        print(f"wrote {save_netcdf(ds, args.out)}")
    if args.figure:
        from .sensitivity_plots import figure_for
        fig = figure_for(ds)
        fig.savefig(args.figure, dpi=150, bbox_inches="tight")
        print(f"wrote {args.figure}")
