"""Which disclosure would narrow the band most: the output's band once an input, or a pair of
inputs, is known exactly.

For an estimation problem the value of perfect partial information about an input X is the
expected reduction of the output's variance, ``Var(E[Y | X])`` (the R package ``voi``'s
``evppivar``: Jackson, Presanis, Conti & De Angelis 2019, J. Am. Stat. Assoc. 114:1436; Heath et
al. 2017, Med. Decis. Making 37:747). Readers quote bands, so each disclosure also gets the band it would leave: the
5th and 95th percentiles of Y given X = x, for x drawn from X's prior, summarised as the expected
width of the 90% interval and its expected p95/p5 ratio beside today's, and the whole
"preposterior" distribution of that width ("how narrow could the band get if they published it").

Everything is read from one run's kept draws (:mod:`.conditional`: equal-mass cells by the
input's rank, a line inside each cell, residual quantiles, Poisson-bootstrap intervals; Strong &
Oakley 2013; Strong, Oakley & Brennan 2014). An input correlated with others is disclosed with its
partners' draws as they came, so its value includes what it tells about them. An input the kernel
evaluates from several columns (monthly draws, the Dirichlet region shares) is set, draw by draw,
to one of a few prior draws and the output evaluated again. :func:`nested_disclosure` checks the
kept-draw estimates by brute force: a full run with the input fixed at each of several values.
"""
from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import xarray as xr

from ..errors import ModelError
from ..spec.correlation import correlated_names
from .conditional import BAND, Cells, bands_given, rank_cells, resample_weights, today
from .inputs import used_groups
from .sobol import CONFIDENCE, N_RESAMPLES
from .target import evaluator, only_output, target_for

PAIR_TOP = 4            # pairs are formed among the inputs whose disclosure narrows the band most
MAX_CELLS = 64          # equal-mass cells per disclosure (a square, so pairs get sqrt x sqrt)
MIN_PER_CELL = 1000     # draws per cell at least: fewer bias the width of a skewed output upwards (~1% at 400)
PAIR_SEPARATOR = " & "


def cell_count(n: int) -> int:
    """Cells for ``n`` draws: the largest square up to MAX_CELLS with MIN_PER_CELL draws each (at least 4)."""
    return max(math.isqrt(min(MAX_CELLS, n // MIN_PER_CELL)), 2) ** 2


def disclosure(model, program, chosen, target, samples, seed, n_resamples=N_RESAMPLES, confidence=CONFIDENCE,
               pairs: int = PAIR_TOP) -> xr.Dataset:
    """The band of ``target`` after each chosen input, and each pair of the ``pairs`` best, is disclosed.

    Returns a Dataset over ``parameter`` (single inputs, then pairs named "a & b"); see
    :func:`simulate.analysis.sensitivity.sensitivity` for the variables.
    """
    if target.daily:
        raise ModelError("a disclosure's band is computed for one month's total or mean", path=model.path,
                         field="daily", value=True, fix="drop daily and choose a month")
    run = only_output(model, target).run(samples=samples, seed=seed, keep=samples)
    X = np.asarray(run["inputs"].values)
    y = np.asarray(run[f"{target.output}_monthly_samples"].values)[:, target.month]
    if not np.isfinite(y).all():
        raise ModelError(f"{int((~np.isfinite(y)).sum())} kept draws of the output are NaN or infinite",
                         path=model.path, field="output", value=target.output,
                         fix="check the expressions for divisions by zero or logs of values that can reach 0")
    func = evaluator(program, target)
    K, n = cell_count(len(y)), len(y)
    k2 = math.isqrt(K)
    weights = resample_weights(n, n_resamples, seed)
    now = today(y, weights)
    used, dependent = used_groups(model, chosen, target.output), set(correlated_names(model.correlations))
    rng = np.random.default_rng([seed, 4])

    def labelled(group, n_labels):
        """The output with the group's columns set, draw by draw, to one of ``n_labels`` prior draws."""
        Xl, label = X.copy(), np.arange(n) % n_labels
        values = group.transform(np.clip(rng.random((n_labels, group.n_uniforms)), 1e-12, 1 - 1e-12))
        Xl[:, list(group.columns)] = values[label]
        return np.asarray(func(Xl), dtype=float), [(label, n_labels)]

    results, names, members, unused = [], [], [], []
    for i, g in enumerate(chosen):
        if g.name not in used and g.name not in dependent:
            results.append(_unchanged(now, K))        # the output does not read it: exactly no change
            unused.append(g.name)
        elif len(g.columns) == 1:
            x = X[:, g.columns[0]]
            results.append(bands_given(Cells(y, rank_cells(x, K), K, x[:, None]), weights, seed + i))
        else:
            yl, labels = labelled(g, K)
            results.append(bands_given(Cells(yl, labels[0][0], K, np.empty((n, 0)), labels), weights, seed + i))
        names.append(g.name)
        members.append(", ".join(g.members))
    singles = [_summary(r, now, confidence) for r in results]
    best = sorted(range(len(chosen)), key=lambda i: -singles[i]["width_reduction"][0])
    best = [i for i in best if singles[i]["width_reduction"][0] > 0][:pairs]
    skipped = []
    for a, b in combinations(best, 2):
        ga, gb = chosen[a], chosen[b]
        if len(ga.columns) > 1 and len(gb.columns) > 1:
            skipped.append(ga.name + PAIR_SEPARATOR + gb.name)
            continue
        if len(ga.columns) > 1 or len(gb.columns) > 1:
            many, one = (ga, gb) if len(ga.columns) > 1 else (gb, ga)
            yl, labels = labelled(many, k2)
            x = X[:, one.columns[0]]
            cells = Cells(yl, rank_cells(x, k2, labels[0][0], k2), K, x[:, None], labels)
        else:
            xa, xb = X[:, ga.columns[0]], X[:, gb.columns[0]]
            cells = Cells(y, rank_cells(xb, k2, rank_cells(xa, k2), k2), K, np.column_stack([xa, xb]))
        results.append(bands_given(cells, weights, seed + len(results)))
        names.append(ga.name + PAIR_SEPARATOR + gb.name)
        members.append(", ".join(ga.members + gb.members))
    summaries = singles + [_summary(r, now, confidence) for r in results[len(chosen):]]
    ds = _dataset(model, target, names, members, results, summaries, now, confidence)
    ds.attrs.update({"cells": K, "pair_cells": f"{k2} x {k2}", "n_resamples": int(n_resamples),
                     "confidence_level": confidence, "band": "5th to 95th percentile",
                     "unused_parameters": ", ".join(unused), "pairs_left_out": ", ".join(skipped),
                     "estimator": "one run's kept draws cut into equal-mass cells by the input's rank (a pair: "
                                  "nested); the band: a line in each cell (in logs for a positive output) and "
                                  "residual quantiles (Hyndman-Fan type 8); Var E[Y|X]: a quadratic surface in each "
                                  "cell, its fitting noise removed; Poisson bootstrap intervals "
                                  "(Strong & Oakley 2013; Strong, Oakley & Brennan 2014)"})
    return ds


def _unchanged(now, K):
    """Today's band in every cell: what disclosing an input the output does not read leaves."""
    rows = len(now["variance"])
    out = {key: np.repeat(now[key], K, axis=1) for key in ("low", "median", "high")}
    return {**out, "mass": np.full((rows, K), 1 / K), "explained": np.zeros(rows), "variance": now["variance"],
            "unchanged": True}


def _summary(r, now, confidence) -> dict:
    """Per-row expected width, ratio, reductions; estimates are row 0, the rest resamples."""
    today_width = (now["high"] - now["low"])[:, 0]
    if r.get("unchanged"):       # exactly today's band, without the rounding of a sum over cells
        ratio = (now["high"] / now["low"])[:, 0] if (now["low"] > 0).all() else np.full(len(today_width), np.nan)
        return {"expected_width": today_width, "expected_ratio": ratio, "width_reduction": np.zeros(len(today_width)),
                "variance_reduction": r["explained"], "variance_fraction": r["explained"]}
    held = r["mass"] > 0          # a resample may leave a label's cells empty: they weigh nothing
    width = np.where(held, r["high"] - r["low"], 0.0)
    expected_width = np.sum(r["mass"] * width, axis=1)
    positive = ((r["low"] > 0) | ~held).all(axis=1)
    ratio = np.where(positive, np.sum(np.where(held, r["mass"] * r["high"] / np.where(r["low"] > 0, r["low"], 1.0), 0.0),
                                      axis=1), np.nan)
    return {"expected_width": expected_width, "expected_ratio": ratio,
            "width_reduction": 1 - expected_width / today_width,
            "variance_reduction": r["explained"], "variance_fraction": r["explained"] / r["variance"]}


def _interval(values, confidence):
    rest = values[1:]
    if len(rest) == 0 or np.isnan(rest).all():
        return np.nan, np.nan
    return tuple(np.nanpercentile(rest, [50 * (1 - confidence), 50 * (1 + confidence)]))


def _weighted_quantiles(values, mass, qs):
    order = np.argsort(values)
    cum = np.cumsum(mass[order]) - mass[order] / 2
    return np.interp(qs, cum / cum[-1], values[order])


def _dataset(model, target, names, members, results, summaries, now, confidence) -> xr.Dataset:
    unit = model.outputs[target.output].unit
    level = f"{confidence:.0%}"
    variables = {
        "expected_width": (unit, "expected width of the 90% interval once disclosed"),
        "expected_ratio": ("1", "expected p95/p5 ratio once disclosed"),
        "width_reduction": ("1", "1 - expected width / today's width"),
        "variance_reduction": (f"({unit})^2", "expected variance reduction Var(E[Y|X]) (EVPPI for estimation)"),
        "variance_fraction": ("1", "Var(E[Y|X]) / Var(Y)"),
    }
    data = {}
    for key, (units, text) in variables.items():
        est = np.array([s[key][0] for s in summaries])
        ends = np.array([_interval(s[key], confidence) for s in summaries])
        data[key] = (("parameter",), est, {"units": units, "long_name": text})
        data[f"{key}_low"] = (("parameter",), ends[:, 0], {"units": units, "long_name": f"{text}, lower end of {level} interval"})
        data[f"{key}_high"] = (("parameter",), ends[:, 1], {"units": units, "long_name": f"{text}, upper end of {level} interval"})
    cells = {key: np.array([r[key][0] for r in results]) for key in ("mass", "low", "median", "high")}
    width = cells["high"] - cells["low"]
    spread = np.array([_weighted_quantiles(w, m, [0.05, 0.5, 0.95]) for w, m in zip(width, cells["mass"])])
    for j, q in enumerate((5, 50, 95)):
        data[f"width_p{q}"] = (("parameter",), spread[:, j], {"units": unit, "long_name": (
            f"{q}th percentile of the 90% interval's width over the values the disclosure may take")})
    typical = np.array([np.argmin(np.abs(med - _weighted_quantiles(med, m, [0.5])[0]))
                        for med, m in zip(cells["median"], cells["mass"])])
    rows = np.arange(len(names))
    for key, text in (("low", "5th"), ("median", "50th"), ("high", "95th")):
        data[f"typical_{key}"] = (("parameter",), cells[key][rows, typical], {"units": unit, "long_name": (
            f"{text} percentile once disclosed, for a disclosure of middling outcome (the median cell)")})
        data[f"cell_{key}"] = (("parameter", "cell"), cells[key], {"units": unit, "long_name": (
            f"{text} percentile of the output given the disclosed value in each cell")})
    data["cell_mass"] = (("parameter", "cell"), cells["mass"], {"units": "1", "long_name": "prior probability of the cell"})
    after = np.array([r["variance"][0] - r["explained"][0] for r in results])
    data["sd_after"] = (("parameter",), np.sqrt(np.clip(after, 0, None)),
                        {"units": unit, "long_name": "expected standard deviation once disclosed, sqrt(E[Var(Y|X)])"})
    today_width = (now["high"] - now["low"])[:, 0]
    today_ratio = (now["high"] / now["low"])[:, 0] if (now["low"] > 0).all() else np.full(len(today_width), np.nan)
    for key, values, units, text in (("today_low", now["low"][:, 0], unit, "5th percentile today"),
                                     ("today_median", now["median"][:, 0], unit, "median today"),
                                     ("today_high", now["high"][:, 0], unit, "95th percentile today"),
                                     ("today_width", today_width, unit, "width of today's 90% interval"),
                                     ("today_ratio", today_ratio, "1", "today's p95/p5 ratio")):
        data[key] = ((), values[0], {"units": units, "long_name": text})
        if key in ("today_width", "today_ratio"):
            low, high = _interval(values, confidence)
            data[f"{key}_low"] = ((), low, {"units": units, "long_name": f"{text}, lower end of {level} interval"})
            data[f"{key}_high"] = ((), high, {"units": units, "long_name": f"{text}, upper end of {level} interval"})
    data["output_variance"] = ((), now["variance"][0], {"units": f"({unit})^2", "long_name": f"variance of {target.output}"})
    coords = {"parameter": ("parameter", names),
              "members": ("parameter", members, {"long_name": "the draws each disclosure reveals"}),
              "disclosed": ("parameter", [n.count(PAIR_SEPARATOR) + 1 for n in names],
                            {"long_name": "inputs disclosed together"}),
              "cell": ("cell", np.arange(cells["mass"].shape[1]), {"long_name": "equal-mass cell of the disclosed values"})}
    return xr.Dataset(data, coords=coords)


def nested_disclosure(model, output: str, parameter: str, *, month: str | None = None, outer: int = 32,
                      inner: int = 20_000, seed: int = 0) -> dict:
    """The same disclosure by brute force: a run of ``inner`` samples with ``parameter`` fixed at each
    of ``outer`` values, one drawn in each of ``outer`` equal-probability strata of its prior.

    Parameters
    ----------
    model : Model
    output, parameter : str
        An output and an independent parameter with one distribution for the whole period.
    month : str, optional
        "YYYY-MM" (default the first month).
    outer, inner : int
        Values disclosed (an even number) and the samples of each run.
    seed : int

    Returns
    -------
    dict
        ``expected_width``, ``expected_ratio``, ``variance_reduction`` and their standard errors
        ``*_se`` (collapsed strata: adjacent strata paired, Cochran 1977, Sampling Techniques,
        ch. 5A), the disclosed ``values`` and each run's ``widths``, in the output's unit.
    """
    target = target_for(model, output, month, False)
    params = {p.name: p for p in model.all_parameters()}
    if parameter not in params or params[parameter].dist is None or params[parameter].dist.family == "fixed" \
            or params[parameter].varies_by_month or parameter in correlated_names(model.correlations):
        raise ModelError("nested re-runs fix one independent parameter with one distribution for the period",
                         path=model.path, field="parameter", value=parameter,
                         fix="choose a parameter that has a distribution, is not correlated and does not vary by month")
    if outer < 2 or outer % 2:
        raise ModelError("must be an even number of at least 2 (strata are paired for the error)",
                         path=model.path, field="outer", value=outer, fix="use e.g. 32")
    rng = np.random.default_rng([seed, 5])
    u = (np.arange(outer) + rng.random(outer)) / outer
    values = np.asarray(params[parameter].dist.ppf(u), dtype=float)
    ends, means, variances = [], [], []
    one = only_output(model, target)
    for k, value in enumerate(values):
        ds = one.with_fixed({parameter: float(value)}).run(samples=inner, seed=seed + 1 + k)
        q = ds[f"{output}_monthly"]
        ends.append([float(q.sel(quantile=p).values[target.month]) for p in BAND])
        means.append(float(ds[f"{output}_monthly_mean"].values[target.month]))
        variances.append(float(ds[f"{output}_monthly_std"].values[target.month]) ** 2)
    ends, means, variances = np.array(ends), np.array(means), np.array(variances)
    widths = ends[:, 1] - ends[:, 0]
    ratios = ends[:, 1] / ends[:, 0]
    centre = means.mean()
    contribution = means ** 2 - 2 * centre * means - variances / inner   # linearised Var(E[Y|X]) per stratum

    def collapsed_se(z):
        pairs = z.reshape(-1, 2)
        return float(np.sqrt(np.sum((pairs[:, 0] - pairs[:, 1]) ** 2)) / outer)

    return {"expected_width": float(widths.mean()), "expected_width_se": collapsed_se(widths),
            "expected_ratio": float(ratios.mean()), "expected_ratio_se": collapsed_se(ratios),
            "variance_reduction": float(contribution.mean() + centre ** 2),
            "variance_reduction_se": collapsed_se(contribution), "values": values, "widths": widths}

