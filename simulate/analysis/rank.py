"""Rank correlation: Spearman's rho of each input with the output, from an ordinary run's
per-sample draws (``scipy.stats.spearmanr``)."""
from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import stats

from .target import coords_for, dims_for, evaluator, only_output


def rank(model, program, groups, chosen, target, samples, seed):
    """Spearman rank correlation of each chosen input with ``target``, from one run's kept draws."""
    run = only_output(model, target).run(samples=samples, seed=seed, keep=samples)
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
        by_month = len(g.columns) > 1 and all(m.startswith(g.name + "[") for m in g.members)
        if len(g.columns) > 1 and not by_month:
            # region shares, or correlated parameters: the member whose rank moves the output most
            k = max(g.columns, key=lambda c: np.nanmean(np.abs(rho_all[where[c]])))
            rho[i], pval[i] = rho_all[where[k]], p_all[where[k]]
            used.append(f"{program.draw_names[k]} (strongest of {len(g.columns)})")
        elif by_month:                # varies by month: each time uses its own month's draw
            by_month = {name[len(g.name) + 1:-1]: c for name, c in zip(g.members, g.columns)}
            for t, m in enumerate(month_of):
                c = by_month[months[m]]
                rho[i, t], pval[i, t] = rho_all[where[c], t], p_all[where[c], t]
            used.append(f"{g.name}[month of each time]")
        else:
            rho[i], pval[i] = rho_all[where[g.columns[0]]], p_all[where[g.columns[0]]]
            used.append(g.members[0])
    dims = dims_for(target)

    def shaped(a):
        return a if target.daily else a[:, 0]

    ds = xr.Dataset({
        "rho": (dims, shaped(rho), {"long_name": "Spearman rank correlation of input and output"}),
        "pvalue": (dims, shaped(pval), {"long_name": "p-value of rho = 0 (scipy.stats.spearmanr)"}),
        "abs_rho": (dims, np.abs(shaped(rho)), {"long_name": "|rho|"}),
        "member_used": ("parameter", used),
    }, coords=coords_for(model, chosen, target))
    ds["member_used"].attrs["long_name"] = "the draw correlated with the output"
    return ds
