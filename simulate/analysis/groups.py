"""The model's inputs as groups for sensitivity analysis: a parameter (all its months), the
Dirichlet region shares, or a set of rank-correlated parameters.

A parameter that varies by month has one draw per month ("visits[2023-01]", ...); it is analysed
as one group, the parameter. Dirichlet region shares are one group, "region shares", drawn jointly
from as many uniforms as regions: uniform -> Gamma(concentration x share) quantile -> normalised,
which is the exact Dirichlet law. Correlated parameters are one group sampled jointly from the
kernel's Gaussian copula, so groups stay independent.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import stats

from ..spec.correlation import cholesky_of, correlated_sets

REGION_SHARES = "region shares"


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


def _join_correlated(model, groups):
    """Correlated parameters become one group sampled jointly from the same Gaussian copula as the
    kernel, so groups stay independent and grouped Sobol indices stay valid (Jacques et al. 2006,
    "Sensitivity analysis in presence of model uncertainty and correlated inputs", RESS 91)."""
    by_name = {g.name: g for g in groups}
    for names in correlated_sets(model.correlations):
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
