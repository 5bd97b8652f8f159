"""Sensitivity analysis: which assumption drives the spread of an output, in a month or on each day.

Five methods, each returning an ``xarray.Dataset`` indexed by ``parameter`` (sorted, most
influential first): ``sobol`` (:mod:`.sobol`), ``tornado`` (:mod:`.tornado`), ``rank``
(:mod:`.rank`), ``shapley`` (:mod:`.shapley`: variance shares valid under correlations) and
``disclosure`` (:mod:`.disclosure`: the band left once an input, or a pair, is known exactly);
:func:`simulate.analysis.sweep.sweep` stacks whole runs along a parameter. Inputs are analysed as
groups (:mod:`.groups`): a parameter with all its months, the Dirichlet region shares, or (for
Sobol and rank) a set of correlated parameters. The ``members`` coordinate of every result lists
each group's draws.
"""
from __future__ import annotations

import json
import time

import numpy as np
import xarray as xr

from ..engine.compiler import compile_model
from ..errors import ModelError
from ..results.progress import task
from .disclosure import disclosure
from .groups import input_groups
from .rank import rank
from .shapley import shapley
from .sobol import CONFIDENCE, N_RESAMPLES, check_sobol_samples, sobol
from .target import target_for
from .tornado import tornado, tornado_work

METHODS = ("sobol", "tornado", "rank", "shapley", "disclosure")
DEFAULT_SAMPLES = {"sobol": 4096, "tornado": 100_000, "rank": 100_000, "shapley": 1 << 20, "disclosure": 100_000}
SORT_KEY = {"sobol": "first_order", "tornado": "swing", "rank": "abs_rho", "shapley": "shapley",
            "disclosure": "width_reduction"}
JOINS_CORRELATED = ("sobol", "rank")     # the others analyse each correlated parameter on its own


def sensitivity(model, output: str = "energy_kwh", method: str = "sobol", *, samples: int | None = None,
                seed: int = 0, month: str | None = None, daily: bool = False, parameters=None,
                n_resamples: int = N_RESAMPLES, confidence: float = CONFIDENCE,
                by_coordinate: bool = False, progress: bool | None = None) -> xr.Dataset:
    """Sensitivity of one output to the model's inputs; see the module docstring.

    Parameters
    ----------
    model : Model
    output : str
        An output name.
    method : {"sobol", "tornado", "rank", "shapley", "disclosure"}
    samples : int, optional
        Sobol base samples (a power of 2; the model is evaluated samples x (groups + 2) times,
        default 4096), the Monte Carlo samples of each tornado, rank or disclosure run (default
        100,000; a disclosure keeps them all), or the model evaluations of a Shapley design
        (default 2^20).
    seed : int
    month : str, optional
        "YYYY-MM" of the monthly total (or mean) analysed; default the first month.
    daily : bool
        Indices for every day (a ``date`` dimension) instead of one month.
    parameters : list of str, optional
        Only these groups (names as in the result's ``parameter``, or "region shares").
    n_resamples, confidence
        Bootstrap resamples and confidence level of the Sobol and disclosure intervals (the
        confidence level of the Shapley intervals).
    by_coordinate : bool
        Rank each coordinate of a parameter over dimensions on its own ("shipped[2024]") instead
        of the parameter as one group ("shipped[*]").
    progress : bool, optional
        One bar over every run and model evaluation of the analysis (default: on a terminal or in
        a notebook; see :func:`simulate.results.progress.task`).

    Returns
    -------
    xarray.Dataset
        Indexed by ``parameter``, most influential first; its variables depend on ``method``
        (``first_order``, ``total_order`` and their interval ends; ``output_low``,
        ``output_high`` and ``swing`` in the output's unit; ``rho``; ``shapley`` beside the
        ``first_order`` and ``total_order`` indices under the correlations; for a disclosure,
        single inputs then pairs "a & b" (``disclosed`` 1 or 2): ``expected_width``,
        ``expected_ratio``, ``width_reduction``, ``variance_reduction``, ``variance_fraction``
        with interval ends, ``width_p5``/``width_p50``/``width_p95`` (the width over the values
        the disclosure may take), ``typical_low``/``typical_high``, per-cell bands, and today's
        band as ``today_low``, ``today_high``, ``today_width``, ``today_ratio``).
    """
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
    groups = input_groups(model, program, join_correlated=method in JOINS_CORRELATED, by_coordinate=by_coordinate)
    chosen = _choose(model, groups, parameters, method)
    started = time.perf_counter()
    with task(progress, _work(method, program, samples, chosen, target), desc=f"{method} {output}"):
        if method == "sobol":
            ds = sobol(model, program, groups, chosen, target, samples, seed, n_resamples, confidence)
        elif method == "tornado":
            ds = tornado(model, program, chosen, target, samples, seed)
        elif method == "shapley":
            ds = shapley(model, program, chosen, target, samples, seed, confidence)
        elif method == "disclosure":
            ds = disclosure(model, program, chosen, target, samples, seed, n_resamples, confidence)
        else:
            ds = rank(model, program, groups, chosen, target, samples, seed)
    ds = _sorted(ds, SORT_KEY[method])
    fixed = [g.name for g in groups if g.fixed]
    ds.attrs.update({
        "method": method, "output": output, "target": target.label(model),
        "month": "" if daily else model.period.months[target.month], "daily": int(daily),
        "samples": int(samples), "seed": int(seed), "fixed_parameters": json.dumps(fixed),
        "grouping": ("monthly draws of a parameter form one group named after it, and the coordinates of a "
                     "parameter over dimensions one group 'name[*]' (by_coordinate: one each); Dirichlet shares "
                     "form one group (the regions' is 'region shares'); rank-correlated parameters form one group "
                     "named 'a + b', sampled jointly; see the members coordinate"),
        "validity": _validity(model, method),
        "model_path": model.path or "", "model_sha256": model.sha256, "scenario": model.scenario or "",
        "model_fixed": json.dumps(model.fixed, sort_keys=True),
        "elapsed_s": round(time.perf_counter() - started, 3),
    })
    ds["parameter"].attrs["long_name"] = "input (group)"
    for name in ds.data_vars:
        ds[name].attrs.setdefault("units", "1")
    return ds


def _work(method, program, samples, chosen, target) -> int | None:
    """The samples run plus draws evaluated by ``method`` (None: counted as each piece starts)."""
    if method == "sobol":      # the A, B and one AB page per group
        return samples * (len(chosen) + 2)
    if method == "tornado":    # one kept run, then its draws with nothing fixed and each input at p5 and p95
        return tornado_work(program, chosen, target, samples)
    if method == "rank":       # one kept run (and its draws on every day)
        return samples * (2 if target.daily else 1)
    return None                # shapley's and disclosure's designs size themselves


def _validity(model, method) -> str:
    """Which reading of the result holds when inputs are correlated."""
    if not model.correlations:
        return "inputs are independent: every method reads as usual"
    return {"sobol": "valid: correlated parameters are one group, and groups are independent",
            "tornado": "one-at-a-time swings of marginals; with correlated inputs they ignore the partners' shift",
            "rank": "Spearman correlations include the effect of correlated partners; use sobol for attribution",
            "shapley": "valid: each correlated parameter is its own input, sampled given the others through "
                       "the Gaussian copula",
            "disclosure": "valid: a disclosed input's correlated partners keep their joint draws, so its value "
                          "includes what it reveals about them",
            }[method]


def _choose(model, groups, parameters, method):
    names = {g.name: g for g in groups}
    usable = [g for g in groups if not g.fixed and not (method == "tornado" and g.is_shares)]
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
        if method == "tornado" and names[name].is_shares:
            raise ModelError("a joint Dirichlet split has no single p5 and p95 point", path=model.path,
                             field="parameters", value=name, fix="use method 'sobol' or 'rank' for region shares")
        chosen.append(names[name])
    return chosen


def _sorted(ds, key):
    """Largest ``key`` first (its largest value over dates), within each count of inputs
    ``disclosed`` together when the result has that coordinate."""
    score = ds[key].max("date") if "date" in ds[key].dims else ds[key]
    size = ds["disclosed"].values if "disclosed" in ds.coords else np.zeros(ds.sizes["parameter"])
    order = np.lexsort((-np.nan_to_num(score.values, nan=-np.inf), size))
    return ds.isel(parameter=order)
