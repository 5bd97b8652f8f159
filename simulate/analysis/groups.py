"""The model's inputs as groups for sensitivity analysis.

A group is what a reader asks about: a parameter with all its months ("visits"), a parameter over
a dimension with all its coordinates ("shipped[*]"; or each coordinate alone with
``by_coordinate=True``), or a set of shares over a dimension ("region shares", drawn jointly from
as many uniforms as coordinates: uniform -> Gamma(concentration x share) quantile -> normalised,
which is the exact Dirichlet law). Groups linked by rank correlations are joined and sampled from
the kernel's Gaussian copula, so groups stay independent and grouped Sobol indices stay valid
(Jacques et al. 2006, "Sensitivity analysis in presence of model uncertainty and correlated
inputs", RESS 91).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..spec.correlation import cholesky_of, correlated_sets

REGION_SHARES = "region shares"     # the group of [regions]' load shares


@dataclass(frozen=True)
class Block:
    """Uniforms -> values for some of a group's columns: ``kind`` "ppf" (one marginal each),
    "copula" (rank-correlated marginals, ``chol``) or "dirichlet" (``alphas``)."""

    kind: str
    columns: tuple              # positions in the input matrix
    dists: tuple = ()           # ppf, copula: each column's Distribution
    chol: np.ndarray | None = None
    alphas: np.ndarray | None = None
    function: object = None     # kind "function": any map of (n, len(columns)) uniforms to values

    def values(self, u):
        if self.kind == "function":
            return self.function(u)
        if self.kind == "ppf":
            return np.column_stack([d.ppf(u[:, j]) for j, d in enumerate(self.dists)])
        if self.kind == "copula":
            z = stats.norm.ppf(u) @ self.chol.T
            return np.column_stack([d.ppf(stats.norm.cdf(z[:, j])) for j, d in enumerate(self.dists)])
        g = np.column_stack([stats.gamma(a).ppf(u[:, j]) for j, a in enumerate(self.alphas)])
        return g / g.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Group:
    """One analysed input: the draws (``members``, at input-matrix ``columns``) it gathers.

    :meth:`transform` maps ``(n, n_uniforms)`` uniforms in (0, 1) to ``(n, len(columns))`` values of
    those columns, in the order of ``columns``.
    """

    name: str
    members: tuple
    columns: tuple
    blocks: tuple
    fixed: bool = False

    @property
    def is_shares(self) -> bool:
        """A joint split (Dirichlet shares): no single p5 or p95 point."""
        return any(b.kind == "dirichlet" for b in self.blocks)

    @property
    def n_uniforms(self) -> int:
        return sum(len(b.columns) for b in self.blocks)

    def transform(self, u):
        out = np.empty((len(u), len(self.columns)))
        where = {c: i for i, c in enumerate(self.columns)}
        start = 0
        for block in self.blocks:
            width = len(block.columns)
            out[:, [where[c] for c in block.columns]] = block.values(u[:, start:start + width])
            start += width
        return out

    @classmethod
    def of_function(cls, name: str, columns, transform) -> "Group":
        """A group of ``columns`` drawn by ``transform`` (uniforms -> values), for any function."""
        return cls(name, tuple(str(c) for c in columns), tuple(columns), (Block("function", tuple(columns),
                                                                                 function=transform),))

    def distribution_of(self, column):
        """The marginal Distribution of one of the group's columns (None for shares)."""
        for block in self.blocks:
            if column in block.columns and block.dists:
                return block.dists[block.columns.index(column)]
        return None


def input_groups(model, program, join_correlated: bool = True, by_coordinate: bool = False) -> list[Group]:
    """The model's draws (``program.draw_keys``) gathered into groups, in draw order.

    Correlated parameters form one group unless ``join_correlated`` is False (the tornado moves
    one parameter at a time, its correlated partners keeping their draws).
    """
    flat = model.flat
    owner = {}
    for p in model.parameters.values():
        for cell in p.cells:
            owner[cell.name] = cell.name if by_coordinate or p.rank_coordinates else f"{p.name}[*]"
    for shares in flat.shares.values():
        label = REGION_SHARES if shares.name == "region_share" and model.regions is not None else shares.name
        owner.update({name: label for name in shares.names})
    shares_of = {name: s for s in flat.shares.values() for name in s.names}
    order, columns = [], {}
    for column, (name, month) in enumerate(program.draw_keys):
        key = owner.get(name, name)
        if key not in columns:
            order.append(key)
            columns[key] = []
        columns[key].append(column)
    groups = []
    for key in order:
        cols = tuple(columns[key])
        members = tuple(program.draw_names[c] for c in cols)
        first = program.draw_keys[cols[0]][0]
        if first in shares_of:
            s = shares_of[first]
            groups.append(Group(key, members, cols, (Block("dirichlet", cols, alphas=s.concentration * np.array(s.shares)),)))
            continue
        dists = tuple(_marginal(flat, program.draw_keys[c]) for c in cols)
        groups.append(Group(key, members, cols, (Block("ppf", cols, dists),),
                            fixed=all(d.family == "fixed" for d in dists)))
    return _join_correlated(model, program, groups, join_correlated)


def _marginal(flat, key):
    name, month = key
    param = flat.parameters[name]
    return param.for_month(month) if month else param.dist


def _join_correlated(model, program, groups, join: bool = True):
    """Correlated draws inside one group become a copula block of it, drawn from the same Gaussian
    copula as the kernel; with ``join``, groups linked by correlations become one group too (else
    each keeps the correlations among its own members only)."""
    column_of = {key[0]: c for c, key in enumerate(program.draw_keys) if not key[1]}
    for names in correlated_sets(model.correlations):
        cols = [column_of[n] for n in names]
        touched = [g for g in groups if set(g.columns) & set(cols)]
        if not join and len(touched) > 1:   # each group keeps the correlations among its own members
            for g in touched:
                inside = [n for n, c in zip(names, cols) if c in g.columns]
                if len(inside) > 1:
                    groups = [_with_copula(model, program, h, inside) if h is g else h for h in groups]
            continue
        joined = Group(" + ".join(g.name for g in touched),
                       tuple(m for g in touched for m in g.members), tuple(c for g in touched for c in g.columns),
                       tuple(b for g in touched for b in g.blocks))
        groups = [g for g in groups if g not in touched] + [_with_copula(model, program, joined, names)]
    return sorted(groups, key=lambda g: min(g.columns))


def _with_copula(model, program, group, names):
    """``group`` with the draws ``names`` (rank-correlated) taken out of its blocks into one copula block."""
    column_of = {key[0]: c for c, key in enumerate(program.draw_keys) if not key[1]}
    cols = [column_of[n] for n in names]
    links = [c for c in model.correlations if set(c.between) <= set(names)]
    copula = Block("copula", tuple(cols), tuple(_marginal(model.flat, program.draw_keys[c]) for c in cols),
                   chol=cholesky_of(names, links, path=model.path))
    kept = tuple(_without(b, cols) for b in group.blocks)
    return Group(group.name, group.members, group.columns, tuple(b for b in kept if b.columns) + (copula,),
                 group.fixed)


def _without(block, cols):
    """``block`` without the columns that a copula block now draws."""
    keep = [i for i, c in enumerate(block.columns) if c not in cols]
    return Block(block.kind, tuple(block.columns[i] for i in keep), tuple(block.dists[i] for i in keep),
                 block.chol, block.alphas)
