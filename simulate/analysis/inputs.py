"""The inputs of a target: which of them it reads, and their joint law with conditional sampling.

The law is the kernel's: each group (:func:`.groups.input_groups` with ``join_correlated=False``:
a parameter with all its months, or the Dirichlet region shares) is independent of the others,
except rank-correlated parameters, which share a Gaussian copula whose normal-score correlation
is ``R = 2 sin(pi r_s / 6)`` (:mod:`simulate.spec.correlation`). In latent coordinates (a uniform
per uniform of an independent group, a standard normal score per correlated parameter), sampling
some groups given the others is exact: an independent group is drawn afresh, and a subset ``S`` of
a correlated set given the rest ``K`` is Gaussian,
``z_S | z_K ~ N(R_SK R_KK^-1 z_K, R_SS - R_SK R_KK^-1 R_KS)`` (Rasmussen & Williams 2006,
Gaussian Processes for Machine Learning, eq. A.6). This is the conditional sampling that Shapley
effects under dependence need (Song, Nelson & Staum 2016, SIAM/ASA J. Uncertainty Quantification
4:1060, sec. 4).
"""
from __future__ import annotations

import re

import numpy as np
from scipy import stats

from ..engine.encoding import QTABLE_KNOTS, QTABLE_Z, quantile_table
from ..errors import ModelError
from ..spec.correlation import cholesky_of, correlated_sets
from ..spec.expressions import names_in
from .groups import input_groups

U_CLIP = 1e-12   # a quantile function at exactly 0 or 1 may be infinite
_MONTH = re.compile(r"\[\d{4}-\d{2}\]$")   # the month of a monthly draw, "visits[2023-01]"


def names_used(model, output: str) -> set:
    """Every (flat) parameter, share and derived name ``output`` reads, through the derived quantities
    of the model with its dimensions unrolled."""
    reads = {name: names_in(d.node) for name, d in model.flat.derived.items()}
    needed, stack = set(), [output]
    while stack:
        name = stack.pop()
        if name not in needed:
            needed.add(name)
            stack.extend(reads.get(name, ()))
    return needed


def used_groups(model, groups, output: str) -> set:
    """Names of the groups whose draws ``output`` reads (a monthly draw ``x[2023-01]`` counts as ``x``)."""
    used = names_used(model, output)
    return {g.name for g in groups if any(_MONTH.sub("", m) in used for m in g.members)}


class InputLaw:
    """The joint law of the input-matrix columns: independent groups and Gaussian-copula sets.

    Parameters
    ----------
    groups : list of Group
        Every group of the input matrix, one parameter (or the region shares) each.
    correlated : list of (list of str, ndarray)
        Each correlated set: its group names and their normal-score correlation matrix.
    n_columns : int
        Columns of the input matrix (``len(program.draw_names)``).
    tables : dict, optional
        Group index -> ``(scores, values)``: a one-column group drawn as the kernel draws beta and
        PERT laws, ``x = Q(z)`` for a standard normal score z, Q read by linear interpolation in a
        table (:func:`simulate.engine.encoding.quantile_table`); much faster than scipy's beta ppf.
    """

    def __init__(self, groups, correlated, n_columns: int, tables=None):
        self.groups = list(groups)
        self.n_columns = n_columns
        self.tables = dict(tables or {})
        index = {g.name: i for i, g in enumerate(self.groups)}
        in_set = {index[name] for names, _ in correlated for name in names}
        self.normal = in_set | set(self.tables)  # groups whose latent coordinate is a normal score
        self.slots, start = [], 0                # latent coordinates of each group
        for i, g in enumerate(self.groups):
            width = 1 if i in self.normal else g.n_uniforms
            self.slots.append(list(range(start, start + width)))
            start += width
        self.n_latent = start
        self.independent = [i for i in range(len(self.groups)) if i not in in_set]
        self.sets = []                     # (group indices, latent slots, correlation, its Cholesky factor)
        for names, matrix in correlated:
            members = [index[n] for n in names]
            self.sets.append((members, [self.slots[i][0] for i in members], matrix, np.linalg.cholesky(matrix)))

    @classmethod
    def of_model(cls, model, program) -> "InputLaw":
        """The law the kernel samples ``model`` from (groups one parameter each)."""
        groups = input_groups(model, program, join_correlated=False)
        group_of = {m: g.name for g in groups for m in g.members}
        correlated = []
        for names in correlated_sets(model.correlations):
            if len({group_of[n] for n in names}) == 1:
                continue     # correlated draws inside one group: its own copula block draws them
            if any(len(g.columns) > 1 for g in groups if g.name in {group_of[n] for n in names}):
                raise ModelError("correlations between parameters over dimensions and other parameters are not "
                                 "supported by this analysis", path=model.path, field="correlations",
                                 value=names, fix="use method 'sobol', or correlate whole coordinates of one parameter")
            links = [c for c in model.correlations if set(c.between) <= set(names)]
            chol = cholesky_of(names, links, path=model.path)
            correlated.append((names, chol @ chol.T))
        params = {p.name: p for p in model.all_parameters()}
        tables = {}
        for i, g in enumerate(groups):
            dist = params[g.name].dist if g.name in params and not params[g.name].varies_by_month else None
            if dist is not None and dist.family in ("pert", "beta"):
                tables[i] = (np.linspace(-QTABLE_Z, QTABLE_Z, QTABLE_KNOTS), quantile_table(dist.to_scipy()))
        return cls(groups, correlated, len(program.draw_names), tables)

    @property
    def names(self) -> list:
        return [g.name for g in self.groups]

    def dependent(self) -> set:
        """Names of the groups that are correlated with another group."""
        return {self.groups[i].name for members, *_ in self.sets for i in members}

    def noise(self, n: int, rng) -> np.ndarray:
        """``(n, n_latent)`` independent variates: uniforms for uniform coordinates, standard normals
        for normal scores (correlated ones not yet correlated)."""
        out = rng.random((n, self.n_latent))
        normal = [k for i in self.normal for k in self.slots[i]]
        out[:, normal] = rng.standard_normal((n, len(normal)))
        return out

    def draw(self, n: int, rng) -> np.ndarray:
        """``n`` independent joint draws in latent coordinates, ``(n, n_latent)``."""
        latent = self.noise(n, rng)
        for _, slots, _, chol in self.sets:
            latent[:, slots] = latent[:, slots] @ chol.T
        return latent

    def redraw(self, latent: np.ndarray, redrawn: np.ndarray, fresh: np.ndarray) -> np.ndarray:
        """A copy of ``latent`` where, row by row, the groups marked in ``redrawn`` (``(n, n_groups)``
        bool) are drawn again from their law given the row's other groups, from the variates
        ``fresh`` (:meth:`noise`; the same ``fresh`` for different ``redrawn`` gives common random
        numbers)."""
        out = latent.copy()
        for i in self.independent:
            rows = np.flatnonzero(redrawn[:, i])
            out[np.ix_(rows, self.slots[i])] = fresh[np.ix_(rows, self.slots[i])]
        for members, slots, matrix, _ in self.sets:
            pattern = redrawn[:, members] @ (1 << np.arange(len(members)))
            for code in np.unique(pattern[pattern > 0]):
                rows = np.flatnonzero(pattern == code)
                new = [slots[k] for k in range(len(members)) if code >> k & 1]
                kept = [slots[k] for k in range(len(members)) if not code >> k & 1]
                mean, cov = _conditional(matrix, [slots.index(k) for k in new], [slots.index(k) for k in kept])
                noise = fresh[np.ix_(rows, new)] @ np.linalg.cholesky(cov).T
                out[np.ix_(rows, new)] = out[np.ix_(rows, kept)] @ mean.T + noise
        return out

    def inputs(self, latent: np.ndarray, constant=(), rows=None, into=None) -> np.ndarray:
        """The input matrix ``X[row, column]`` (columns as ``program.draw_names``) of latent draws.

        Groups whose indices are in ``constant`` are set to their median instead (for inputs the
        evaluated output does not read: any value will do, and quantile functions cost time).
        With ``into`` (an input matrix of the same rows) and ``rows`` (``(n, n_groups)`` bool),
        only the marked groups of the marked rows are computed, the rest kept from ``into``.
        """
        X = np.empty((len(latent), self.n_columns)) if into is None else into.copy()
        for i, g in enumerate(self.groups):
            if into is not None and (i in constant or not rows[:, i].any()):
                continue
            if i in constant:
                X[:, list(g.columns)] = g.transform(np.full((1, g.n_uniforms), 0.5))
                continue
            where = slice(None) if into is None else np.flatnonzero(rows[:, i])
            u = latent[where][:, self.slots[i]]
            if i in self.tables:
                X[where, g.columns[0]] = np.interp(u[:, 0], *self.tables[i])
                continue
            if i in self.normal:
                u = stats.norm.cdf(u)
            X[np.ix_(np.arange(len(X))[where], list(g.columns))] = g.transform(np.clip(u, U_CLIP, 1 - U_CLIP))
        return X


def _conditional(matrix, new, kept):
    """``(A, C)``: z_new | z_kept ~ N(A z_kept, C) for a standard Gaussian with correlation ``matrix``."""
    if not kept:
        return np.zeros((len(new), 0)), matrix[np.ix_(new, new)]
    a = np.linalg.solve(matrix[np.ix_(kept, kept)], matrix[np.ix_(kept, new)]).T
    return a, matrix[np.ix_(new, new)] - a @ matrix[np.ix_(kept, new)]

