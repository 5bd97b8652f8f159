"""Rank correlations between parameters, sampled through a Gaussian copula.

A model file declares Spearman rank correlations between pairs of parameters. The kernel draws
independent standard normal scores for the correlated parameters, mixes them with the lower
Cholesky factor of the normal-score correlation matrix, and reads each parameter's own quantile
function at its score (families defined on uniforms read Phi(score)). So every parameter keeps its
declared marginal distribution exactly. A Spearman correlation r_s of a Gaussian copula comes from
the normal correlation r = 2 sin(pi r_s / 6) (Pearson 1907), which is what the scores use.
(Before issue 17 the engine reordered independent draws inside each tile to follow such scores,
Iman & Conover 1982: the same copula in expectation, at the cost of two sorts per parameter.)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import Location, ModelError
from .fields import known_keys, text


@dataclass(frozen=True)
class Correlation:
    between: tuple       # two parameter names
    rank: float          # Spearman rank correlation
    source: str
    rationale: str = ""


def spearman_to_normal(rank):
    """The normal-copula correlation whose Spearman rank correlation is ``rank``."""
    return 2.0 * np.sin(np.pi * np.asarray(rank, float) / 6.0)


def normal_to_spearman(r):
    return 6.0 / np.pi * np.arcsin(np.asarray(r, float) / 2.0)


def rank_matrix(names: list[str], correlations) -> np.ndarray:
    """The declared Spearman matrix over ``names`` (ones on the diagonal, zeros where undeclared)."""
    index = {n: i for i, n in enumerate(names)}
    matrix = np.eye(len(names))
    for c in correlations:
        i, j = index[c.between[0]], index[c.between[1]]
        matrix[i, j] = matrix[j, i] = c.rank
    return matrix


def nearest_correlation(matrix: np.ndarray, floor: float = 1e-6) -> np.ndarray:
    """A close valid correlation matrix: eigenvalues clipped at ``floor``, diagonal rescaled to 1."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    fixed = vectors @ np.diag(np.maximum(values, floor)) @ vectors.T
    scale = np.sqrt(np.diag(fixed))
    return fixed / np.outer(scale, scale)


def cholesky_of(names, correlations, *, path=None) -> np.ndarray:
    """The lower Cholesky factor of the normal-score matrix, or a ModelError that suggests a fix."""
    ranks = rank_matrix(names, correlations)
    normal = spearman_to_normal(ranks)
    np.fill_diagonal(normal, 1.0)
    try:
        return np.linalg.cholesky(normal)
    except np.linalg.LinAlgError:
        suggestion = normal_to_spearman(nearest_correlation(normal))
        pairs = ", ".join(f"{c.between[0]}~{c.between[1]} = {suggestion[names.index(c.between[0]), names.index(c.between[1])]:.2f}"
                          for c in correlations)
        raise ModelError("the rank correlations are not jointly possible (the matrix is not positive definite)",
                         path=path, field="correlations", value=[f"{c.between[0]}~{c.between[1]} = {c.rank:g}"
                                                                 for c in correlations],
                         fix=f"loosen them; the nearest valid set is {pairs}") from None


def correlated_names(correlations) -> list[str]:
    """The correlated parameters, in the order they first appear (the kernel's copula order)."""
    names = []
    for c in correlations:
        for name in c.between:
            if name not in names:
                names.append(name)
    return names


def correlated_sets(correlations) -> list[list[str]]:
    """Parameters linked by declared rank correlations, as connected sets (in file order)."""
    sets: list[list[str]] = []
    for c in correlations:
        touching = [s for s in sets if set(s) & set(c.between)]
        merged = [n for s in touching for n in s]
        merged += [n for n in c.between if n not in merged]
        sets = [s for s in sets if s not in touching] + [merged]
    return sets


def parse_correlations(entries, sampled: dict, *, path=None) -> tuple:
    """``[[correlations]]`` entries (between = [A, B], rank = Spearman correlation, source), checked
    against the ``sampled`` parameters (name -> Parameter) and for joint validity."""
    where = Location(path, "correlations")
    if not isinstance(entries, list):
        where.fail("must be a list of tables", value=entries,
                   fix='write [[correlations]] with between = ["a", "b"], rank = 0.5, source = "..."')
    result, seen = [], set()
    for i, entry in enumerate(entries):
        item = Location(path, f"correlations[{i}]")
        if not isinstance(entry, dict):
            item.fail("must be a table", value=entry, fix='write between = ["a", "b"], rank = 0.5')
        known_keys(entry, ("between", "rank", "source", "rationale"), item, "use between, rank, source, rationale")
        between = entry.get("between")
        if (not isinstance(between, list) or len(between) != 2
                or not all(isinstance(n, str) for n in between) or between[0] == between[1]):
            item.fail("must name two different parameters", "between", between,
                      'write between = ["visits", "hgx_servers"]')
        for name in between:
            if name not in sampled:
                item.fail("is not a parameter of this model", "between", name, f"use one of {sorted(sampled)}")
            if sampled[name].varies_by_month:
                item.fail("a parameter that varies by month cannot be correlated", "between", name,
                          "correlate parameters that have one distribution for the whole period")
            if sampled[name].dist.family == "fixed":
                item.fail("a fixed parameter cannot be correlated", "between", name,
                          "give it a distribution or drop the correlation")
        rank = entry.get("rank")
        if not isinstance(rank, (int, float)) or isinstance(rank, bool) or not -1 < rank < 1:
            item.fail("a rank correlation lies strictly between -1 and 1", "rank", rank, "write e.g. rank = 0.5")
        pair = frozenset(between)
        if pair in seen:
            item.fail("this pair is correlated twice", "between", between, "keep one entry")
        seen.add(pair)
        result.append(Correlation(tuple(between), float(rank), text(entry, "source", item),
                                  text(entry, "rationale", item, required=False)))
    if result:
        cholesky_of(correlated_names(result), result, path=path)
    return tuple(result)



PATTERN_KEYS = {"parameter", "dim", "pattern", "rank", "matrix", "coordinates", "source", "rationale"}


def expand_patterns(entries, parameters: dict, dims: dict, *, path=None) -> list:
    """``[[correlations]]`` with every pattern over a dimension written out as pairs.

    ``parameter = "shipped"``, ``pattern = "ar1"``, ``rank = 0.7``: coordinates k apart along the
    dimension (``dim``, needed when the parameter has several) get the rank correlation 0.7**k;
    ``matrix = [[...]]`` gives the Spearman matrix instead. ``coordinates`` picks which coordinates,
    in order (default all). Along one dimension of a parameter with several, each combination of
    the other coordinates is correlated the same way. Entries with ``between`` pass unchanged.
    """
    if not isinstance(entries, list):
        return entries    # parse_correlations says what is wrong
    out = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or "parameter" not in entry:
            out.append(entry)
            continue
        where = Location(path, f"correlations[{i}]")
        known_keys(entry, PATTERN_KEYS, where)
        name = entry["parameter"]
        param = parameters.get(name) if isinstance(name, str) else None
        if param is None or not param.dims:
            where.fail("is not a parameter with dimensions", "parameter", name,
                       f"use one of {sorted(n for n, p in parameters.items() if p.dims) or 'none'}, or between = [a, b]")
        dim_name = entry.get("dim", param.dims[0] if len(param.dims) == 1 else None)
        if dim_name not in param.dims:
            where.fail(f"says which of {list(param.dims)} the pattern runs along", "dim", dim_name,
                       f"write dim = \"{param.dims[0]}\"")
        dim = dims[dim_name]
        chosen = entry.get("coordinates", list(dim.coords))
        if not isinstance(chosen, list) or len(chosen) < 2 or any(dim.index(c) is None for c in chosen):
            where.fail(f"must list at least two coordinates of {dim_name}", "coordinates", chosen,
                       f"use coordinates from {list(dim.labels)}")
        positions = [dim.index(c) for c in chosen]
        matrix = _pattern_matrix(entry, len(positions), where)
        axis = param.dims.index(dim_name)
        shape = [len(dims[d].coords) for d in param.dims]
        grid = np.arange(len(param.cells)).reshape(shape)
        others = np.moveaxis(grid, axis, -1).reshape(-1, shape[axis])
        for line in others:
            for a in range(len(positions)):
                for b in range(a + 1, len(positions)):
                    if matrix[a, b] != 0:
                        out.append({"between": [param.cells[line[positions[a]]].name, param.cells[line[positions[b]]].name],
                                    "rank": float(matrix[a, b]), "source": entry.get("source"),
                                    "rationale": entry.get("rationale", "")})
    return out


def _pattern_matrix(entry, n, where) -> np.ndarray:
    if ("pattern" in entry) == ("matrix" in entry):
        where.fail("give either pattern (with rank) or matrix", value=sorted(entry),
                   fix='write pattern = "ar1", rank = 0.7, or matrix = [[1, 0.5], [0.5, 1]]')
    if "pattern" in entry:
        if entry["pattern"] != "ar1":
            where.fail("is not a correlation pattern", "pattern", entry["pattern"],
                       'use "ar1": coordinates k apart get rank ** k')
        rank = entry.get("rank")
        if not isinstance(rank, (int, float)) or isinstance(rank, bool) or not -1 < rank < 1:
            where.fail("a rank correlation lies strictly between -1 and 1", "rank", rank, "write e.g. rank = 0.7")
        k = np.arange(n)
        return float(rank) ** np.abs(k[:, None] - k[None, :]).astype(float)
    matrix = entry["matrix"]
    try:
        m = np.array(matrix, dtype=float)
    except (TypeError, ValueError):
        m = None
    if m is None or m.shape != (n, n) or not np.all(np.isfinite(m)) or not np.allclose(m, m.T) \
            or not np.allclose(np.diag(m), 1) or np.any(np.abs(m[~np.eye(n, dtype=bool)]) >= 1):
        where.fail(f"must be a symmetric {n} x {n} matrix with ones on the diagonal and ranks in (-1, 1) elsewhere",
                   "matrix", matrix, "write one row per coordinate listed")
    return m
