"""Rank correlations between parameters, sampled with the Iman-Conover method.

A model file declares Spearman rank correlations between pairs of parameters. Within every tile
of samples the kernel draws each parameter independently, then reorders the draws so that their
ranks follow correlated normal scores (Iman & Conover, "A distribution-free approach to inducing
rank correlation among input variables", Commun. Stat. B 11(3), 1982). Reordering permutes draws,
so every parameter keeps its own marginal distribution exactly; the normal scores make it a
Gaussian copula. A Spearman correlation r_s of a Gaussian copula comes from the normal
correlation r = 2 sin(pi r_s / 6) (Pearson 1907), which is what the scores use.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ModelError


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
