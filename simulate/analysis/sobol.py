"""Sobol indices by groups: Saltelli's radial A/B/AB design on a scrambled Sobol' sequence.

The design is Saltelli et al. 2010 (Comput. Phys. Commun. 181:259); the estimator is
``scipy.stats.sobol_indices`` (Saltelli 2010 first order, Jansen total order), called on our own
evaluations of the model. Each group is one "super-input": the AB pages swap all of a group's
columns from B into A at once, which gives the closed (group) index of the set (Jansen 1999;
Saltelli et al. 2008, Global Sensitivity Analysis, sec. 1.2.15).
"""
from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import stats

from ..errors import ModelError
from .target import coords_for, dims_for, evaluator

MIN_SOBOL_SAMPLES = 64
CONFIDENCE = 0.95
N_RESAMPLES = 200           # bootstrap resamples for the Sobol confidence intervals
BOOTSTRAP_BATCH_FLOATS = 8_000_000   # floats gathered per vectorised bootstrap batch (memory bound)


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
    if d == 1:   # scipy's estimator needs two AB pages; an unchanged page (A itself) has indices 0
        f_AB = np.concatenate([f_AB, f_A[None]])
    d_used = len(f_AB)
    result = stats.sobol_indices(func={"f_A": f_A, "f_B": f_B, "f_AB": f_AB}, n=n)
    first = np.reshape(result.first_order, (s, d_used))[:, :d]
    total = np.reshape(result.total_order, (s, d_used))[:, :d]

    def statistic(idx, axis=-1):
        idx = np.atleast_2d(idx).astype(np.intp)
        b = idx.shape[0]
        res = stats.sobol_indices(func={"f_A": f_A[:, idx].reshape(s * b, n), "f_B": f_B[:, idx].reshape(s * b, n),
                                        "f_AB": f_AB[..., idx].reshape(d_used, s * b, n)}, n=n)
        both = np.stack([np.reshape(res.first_order, (s, b, d_used))[..., :d],
                         np.reshape(res.total_order, (s, b, d_used))[..., :d]])
        return np.moveaxis(both, 2, -1).reshape(-1, b)     # (2 * s * d, b)

    batch = max(1, BOOTSTRAP_BATCH_FLOATS // ((d + 2) * s * n))
    boot = stats.bootstrap((np.arange(n),), statistic, vectorized=True, n_resamples=n_resamples,
                           batch=batch, method="percentile", confidence_level=confidence,
                           rng=np.random.default_rng([seed, 1]))
    k = len(indexed)
    low = boot.confidence_interval.low.reshape(2, s, d)[..., :k]
    high = boot.confidence_interval.high.reshape(2, s, d)[..., :k]
    variance = np.var(np.concatenate([f_A, f_B], axis=1), axis=1)
    return {"names": [g.name for g in indexed], "first_order": first[:, :k], "total_order": total[:, :k],
            "first_order_low": low[0], "first_order_high": high[0],
            "total_order_low": low[1], "total_order_high": high[1], "variance": variance,
            "evaluations": n * (k + 2)}


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


def sobol(model, program, groups, chosen, target, n, seed, n_resamples=N_RESAMPLES, confidence=CONFIDENCE):
    """Grouped Sobol indices of ``target`` for the ``chosen`` groups, as a Dataset over ``parameter``."""
    res = grouped_sobol(evaluator(program, target), groups, len(program.draw_names), n, seed=seed,
                        indexed=chosen, n_resamples=n_resamples, confidence=confidence)
    dims = dims_for(target)

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
    unit = model.flat.outputs[target.output].unit
    var = res["variance"] if target.daily else res["variance"][0]
    data["output_variance"] = (dims[1:], var, {"units": f"({unit})^2", "long_name": f"variance of {target.output}"})
    ds = xr.Dataset(data, coords=coords_for(model, chosen, target))
    ds.attrs.update({"evaluations": int(res["evaluations"]), "confidence_level": confidence,
                     "n_resamples": int(n_resamples),
                     "estimator": "scipy.stats.sobol_indices (Saltelli 2010 first order, Jansen total order) "
                                  "on a grouped radial design over a scrambled Sobol' sequence; intervals from "
                                  "scipy.stats.bootstrap (percentile) over design rows"})
    return ds
