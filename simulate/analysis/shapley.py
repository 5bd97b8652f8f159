"""Shapley effects: each input's share of the output variance, valid when inputs are correlated.

The Shapley effect of input i (Owen 2014, SIAM/ASA J. Uncertainty Quantification 2:245) is its
Shapley value in the game whose worth of a set J of inputs is ``c(J) = E[Var(Y | X_-J)]``:

    Sh_i = sum over J containing i of (|J| - 1)! (d - |J|)! / d! x (c(J) - c(J - {i})).

The effects are non-negative and sum to Var(Y) whatever the dependence; for independent inputs
each lies between the first-order and total Sobol indices. ``c(J)`` is estimated by conditional
sampling (Song, Nelson & Staum 2016, SIAM/ASA JUQ 4:1060, Algorithm 1): an outer draw of all
inputs, then ``n_inner`` draws of ``X_J`` given ``X_-J`` through the model's Gaussian copula
(:class:`.inputs.InputLaw`), whose sample variance is unbiased for ``Var(Y | X_-J)``. With few
inputs every subset is estimated ("exact permutations": each subset's ``c`` is shared by all the
orderings); otherwise random permutations, each contributing one increment per input (Castro,
Gomez & Tejada 2009), as in Song et al. The subsets of one outer draw (or the steps of one
permutation) share that draw and the variates of their inner draws, Var(Y) included (common random
numbers: the differences c(J) - c(J - {i}) then carry little noise, and the effects sum to one
exactly). Intervals are normal, from the spread over the independent outer draws (or
permutations) of each effect's share, linearised as a ratio estimator (Cochran 1977, Sampling
Techniques, ch. 6). Beside each effect: ``first_order = Var(E[Y | X_i]) / Var(Y)`` and
``total_order = E[Var(Y | X_-i)] / Var(Y)``, the full first-order and total indices under
dependence (Kucherenko, Tarantola & Annoni 2012, Comput. Phys. Commun. 183:937), which are the
Sobol indices when inputs are independent.
"""
from __future__ import annotations

import math

import numpy as np
import xarray as xr
from scipy import stats

from ..errors import ModelError
from .inputs import InputLaw, used_groups
from .sobol import CONFIDENCE
from .target import coords_for, dims_for, evaluator

N_INNER = 3                 # inner draws per outer draw (Song et al. 2016 recommend 3)
MIN_OUTER_EXACT = 64        # outer draws per subset below which random permutations are used instead
EVAL_CELLS = 8_000_000      # output values (rows x days) evaluated at once
MAX_PLAYERS = 62            # subsets are int64 bit masks


def shapley_effects(func, law: InputLaw, players, evaluations: int, *, seed: int = 0, n_inner: int = N_INNER,
                    confidence: float = CONFIDENCE, exact: bool | None = None) -> dict:
    """Shapley effects, full first-order and total indices of ``func`` over ``players``, with intervals.

    Every subset (exact) or every step of a permutation, the full set included, shares its outer
    draw and the variates of its inner draws with the others of the same outer draw (common random
    numbers), so the differences ``c(J) - c(J - {i})`` are estimated far more precisely than from
    independent draws; the independent units are the outer draws (exact) or the permutations, and
    the intervals come from their spread.

    Parameters
    ----------
    func : callable
        ``func(X)`` of an input matrix ``(rows, law.n_columns)``, returning ``(rows,)`` or ``(rows, s)``.
    law : InputLaw
        The joint law of the input matrix's columns.
    players : list of int
        Indices into ``law.groups`` of the inputs that share the variance; the other groups are
        held at their medians (they must not change ``func``, nor be correlated with a player).
    evaluations : int
        Budget of ``func`` evaluations (rows).
    seed : int
    n_inner : int
        Draws per conditional variance (at least 2; the outer draw is the first).
    confidence : float
        Level of the normal intervals.
    exact : bool, optional
        Estimate every subset (default: when the budget gives at least MIN_OUTER_EXACT outer
        draws for the ``2^d - 1`` subsets), else random permutations.

    Returns
    -------
    dict
        ``names``; ``shapley``, ``first_order``, ``total_order`` and their ``*_low``/``*_high``,
        each ``(s, d)`` and normalised by the variance; ``variance`` ``(s,)``; ``design``;
        ``evaluations`` actually made.
    """
    rng = np.random.default_rng(seed)
    d = len(players)
    if d > MAX_PLAYERS:
        raise ModelError(f"Shapley effects here take at most {MAX_PLAYERS} inputs (subsets are bit masks)",
                         field="parameters", value=d, fix="group inputs (e.g. fix the least influential) and rerun")
    constant = set(range(len(law.groups))) - set(players)
    full = 2 ** d - 1
    singles = 1 << np.arange(d)
    per_outer_cost = 1 + full * (n_inner - 1)        # the outer draw, then every subset and the full set
    if exact is None:
        exact = evaluations // per_outer_cost >= MIN_OUTER_EXACT
    if exact or d == 1:
        n_outer = max(2, evaluations // per_outer_cost)
        cv = _conditional_variances(func, law, players, np.arange(1, full + 1), n_outer, n_inner, rng, constant)
        c_all = cv[:, -1]                                                       # Var(Y) on the same draws
        per_outer = np.einsum("ij,ojs->ois", _shapley_coefficients(d), cv[:, :-1]) + c_all[:, None] / d
        c_single, c_others = cv[:, singles - 1], cv[:, (full ^ singles) - 1] if d > 1 else np.zeros_like(cv)
        design = f"exact: all {full} subsets on each of {n_outer} outer draws, {n_inner} draws each"
        made = n_outer * per_outer_cost
    else:
        ft_cost = 1 + (2 * d + 1) * (n_inner - 1)
        n_ft = max(2, evaluations // 4 // ft_cost)                               # a quarter for first/total
        ft = _conditional_variances(func, law, players, np.concatenate([singles, full ^ singles, [full]]), n_ft,
                                    n_inner, rng, constant)
        ft_single, ft_others, ft_all = ft[:, :d], ft[:, d:2 * d], ft[:, -1]
        step_cost = 1 + d * (n_inner - 1)
        m = max(2, (evaluations - n_ft * ft_cost) // step_cost)
        order = np.argsort(rng.random((m, d)), axis=1)
        prefix = np.cumsum(1 << order, axis=1)                                   # (m, d) bitmasks, the last all
        cv = _conditional_variances(func, law, players, prefix, m, n_inner, rng, constant)     # (m, d, s)
        c_all = cv[:, -1]
        steps = np.diff(np.concatenate([np.zeros_like(cv[:, :1]), cv], axis=1), axis=1)   # c(P_j) - c(P_j-1)
        per_outer = np.zeros_like(steps)
        np.put_along_axis(per_outer, np.broadcast_to(order[:, :, None], steps.shape), steps, axis=1)
        design = (f"random permutations: {m} orderings of {d} inputs, each on one outer draw, "
                  f"{n_inner} draws per step")
        made = n_ft * ft_cost + m * step_cost
    z = stats.norm.ppf(0.5 + confidence / 2)

    def share(units, total, plus=0.0, sign=1.0):
        """plus + sign x mean(units) / mean(total) over independent outer draws, with its normal
        interval (the ratio estimator's linearised variance); (s, d) arrays."""
        ratio = units.mean(axis=0) / total.mean(axis=0)[None]
        spread = (units - ratio[None] * total[:, None]).std(axis=0, ddof=1) / np.sqrt(len(units))
        se = spread / np.abs(total.mean(axis=0))[None]
        value = plus + sign * ratio
        return value.T, (value - z * se).T, (value + z * se).T

    out = {"names": [law.groups[i].name for i in players], "variance": c_all.mean(axis=0), "design": design,
           "evaluations": int(made), "n_inner": n_inner}
    out["shapley"], out["shapley_low"], out["shapley_high"] = share(per_outer, c_all)
    if not (exact or d == 1):
        c_single, c_others, c_all = ft_single, ft_others, ft_all
    out["total_order"], out["total_order_low"], out["total_order_high"] = share(c_single, c_all)
    if d == 1:
        out["first_order"], out["first_order_low"], out["first_order_high"] = (out["total_order"],) * 3
    else:   # 1 - E[Var(Y|X_i)] / Var(Y)
        out["first_order"], out["first_order_low"], out["first_order_high"] = share(c_others, c_all, 1.0, -1.0)
    return out


def _shapley_coefficients(d):
    """``coef[i, J - 1]``: the weight of ``c(J)`` in input i's Shapley value, J over proper subsets."""
    subsets = np.arange(1, 2 ** d - 1)
    size = np.array([bin(j).count("1") for j in subsets])
    weight = np.array([math.factorial(s - 1) * math.factorial(d - s) / math.factorial(d) for s in range(1, d + 1)])
    member = (subsets[None, :] >> np.arange(d)[:, None]) & 1
    return np.where(member == 1, weight[size - 1], -weight[np.minimum(size, d - 1)])


def _conditional_variances(func, law, players, masks, n_outer, n_inner, rng, constant):
    """``(n_outer, *masks.shape[1:] or len(masks), s)``: for each of ``n_outer`` joint outer draws
    and each bitmask (over ``players``) of inputs J, the sample variance of ``func`` over the outer
    draw and ``n_inner - 1`` draws of X_J given the others, made from the same variates for every
    mask of an outer draw (common random numbers). ``masks`` is ``(k,)`` (the same masks on every
    outer draw) or ``(n_outer, k)``. Groups in ``constant`` stay at their medians."""
    masks = np.broadcast_to(masks, (n_outer,) + np.shape(masks)[-1:]) if np.ndim(masks) == 1 else masks
    k = masks.shape[1]
    base = law.draw(n_outer, rng)
    fresh = [law.noise(n_outer, rng) for _ in range(n_inner - 1)]             # shared by every mask of an outer draw
    X_base = law.inputs(base, constant)
    y_base = _evaluate(func, X_base)                                           # (n_outer, s)
    s = y_base.shape[1]
    ids, flat = np.repeat(np.arange(n_outer), k), masks.ravel()
    step = max(1, EVAL_CELLS // ((n_inner - 1) * s))
    out = np.empty((len(flat), s))
    for start in range(0, len(flat), step):
        rows = slice(start, start + step)
        redrawn = np.zeros((len(flat[rows]), len(law.groups)), dtype=bool)
        redrawn[:, players] = ((flat[rows, None] >> np.arange(len(players))) & 1).astype(bool)
        outer, X = base[ids[rows]], X_base[ids[rows]]
        inner = [law.inputs(law.redraw(outer, redrawn, f[ids[rows]]), constant, redrawn, X) for f in fresh]
        y = np.concatenate([y_base[ids[rows]][None]] + [_evaluate(func, Xi)[None] for Xi in inner])
        out[rows] = y.var(axis=0, ddof=1)
    return out.reshape(n_outer, k, s)


def _evaluate(func, X):
    values = np.asarray(func(X), dtype=float).reshape(len(X), -1)
    if not np.isfinite(values).all():
        raise ModelError("the output is NaN or infinite for some inputs of the Shapley design",
                         field="output", fix="check the expressions for divisions by zero or logs of "
                         "values that can reach 0 within the parameters' ranges")
    return values


def shapley(model, program, chosen, target, samples, seed, confidence=CONFIDENCE):
    """Shapley effects of ``target`` for the ``chosen`` groups, as a Dataset over ``parameter``.

    Every input the target reads, or that is correlated with one it reads, is a player, chosen or
    not (a Shapley effect depends on all the others); an independent input the target does not
    read has an effect of exactly 0 (a null player).
    """
    law = InputLaw.of_model(model, program)
    used, dependent = used_groups(model, law.groups, target.output), law.dependent()
    players = [i for i, g in enumerate(law.groups) if not g.fixed and (g.name in used or g.name in dependent)]
    if not players:
        raise ModelError("no input that varies reaches this output", path=model.path, field="output",
                         value=target.output, fix="analyse an output that depends on a parameter with a distribution")
    res = shapley_effects(evaluator(program, target), law, players, samples, seed=seed, confidence=confidence)
    where = {name: k for k, name in enumerate(res["names"])}
    dims, level = dims_for(target), f"{confidence:.0%}"

    def arr(key):
        a = np.zeros((len(chosen), res[key].shape[0]))    # null players: exactly 0
        for row, g in enumerate(chosen):
            if g.name in where:
                a[row] = res[key][:, where[g.name]]
        return a if target.daily else a[:, 0]

    long_names = {"shapley": "Shapley effect (share of the variance)",
                  "first_order": "first-order index Var(E[Y|X_i])/Var(Y), under the correlations",
                  "total_order": "total index E[Var(Y|X_-i)]/Var(Y), under the correlations"}
    data = {}
    for key, text in long_names.items():
        data[key] = (dims, arr(key), {"long_name": text})
        data[f"{key}_low"] = (dims, arr(f"{key}_low"), {"long_name": f"{text}, lower end of {level} interval"})
        data[f"{key}_high"] = (dims, arr(f"{key}_high"), {"long_name": f"{text}, upper end of {level} interval"})
    unit = model.outputs[target.output].unit
    var = res["variance"] if target.daily else res["variance"][0]
    data["output_variance"] = (dims[1:], var, {"units": f"({unit})^2", "long_name": f"variance of {target.output}"})
    ds = xr.Dataset(data, coords=coords_for(model, chosen, target))
    null = [g.name for g in chosen if g.name not in where]
    ds.attrs.update({"evaluations": res["evaluations"], "confidence_level": confidence, "design": res["design"],
                     "null_parameters": ", ".join(null),
                     "estimator": "Shapley effects by conditional sampling through the model's Gaussian copula "
                                  "(Song, Nelson & Staum 2016); normal intervals, delta method for the division "
                                  "by Var(Y); inputs the output does not read and that are independent of those "
                                  "it reads are null players (exactly 0)"})
    return ds
