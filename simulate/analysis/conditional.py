"""The output's band given an input, from one run's draws: cells of equal prior mass, a fit inside
each, residual quantiles, and a Poisson bootstrap.

Knowing input X exactly turns the output's law into the law of Y given X = x, for an x the
disclosure draws from X's prior. From n joint draws (X_r, Y_r) this is estimated without new
model runs (the "given data" or regression approach to partial value of information: Strong &
Oakley 2013, Med. Decis. Making 33:755, who sort the draws by the input and cut them into equal
bins; Strong, Oakley & Brennan 2014, Med. Decis. Making 34:311, who regress on the input):

- the draws are cut into K cells of equal size by the rank of X (a pair: by the rank of the first
  input, then of the second within each of those), so each cell holds 1/K of X's prior mass;
- inside each cell Y is fitted by a straight line in the known inputs (the local-linear variant of
  binning: a line removes the trend of E[Y|X] across the cell, which a cell mean would leave in
  the spread); the cell's band is the fitted value plus the 5th and 95th percentiles of the
  residuals (Hyndman & Fan 1996 type 8), averaged over the cell's draws. An output that is
  positive on every draw has its band read in logarithms (quantiles commute with a monotone
  map), the line fitted to log Y against the logs of positive inputs: products of inputs, which
  every model here is made of, become sums there, the line then fits a power law exactly and the
  residuals lose the heavy upper tail whose noise would widen the band;
- Var(E[Y|X]) is the variance of fitted values minus their noise, from a quadratic surface in the
  inputs inside each cell (E[Y|x] bends across a cell when Y is a power or a ratio of x): each
  cell's fit of q coefficients adds q x sigma_k^2 to the sum of squares (the trace of its hat
  matrix), which is taken off;
- Monte Carlo intervals come from a Poisson bootstrap (weights Poisson(1) per draw; Hanley &
  MacGibbon 2006, Comput. Methods Programs Biomed. 83:57) with the cells held fixed.

An input the kernel evaluates from several columns (a parameter that varies by month, the
Dirichlet region shares) is disclosed through *labels*: the caller sets its columns, draw by
draw, to one of L prior draws and re-evaluates the output; the cells are then the labels (exact
conditioning), the bootstrap also resamples the L prior draws, and the variance between labels is
scaled by L / (L - 1), since L independent atoms understate a variance by that factor.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

BAND = (0.05, 0.95)            # the band: a 90% interval
BOOTSTRAP_CELLS = 4_000_000    # weights (resamples x draws) processed at once


@dataclass
class Cells:
    """Draws cut into cells: what is known about each draw, and the output there.

    ``y`` (n,) output draws; ``cell`` (n,) cell index in ``0..n_cells-1``; ``regressors`` (n, p)
    the known inputs fitted by a line inside each cell (p = 0 for labels only); ``labels``: a list
    of ``(label (n,), n_labels)`` for inputs disclosed through labels, the first of them also the
    outer level of the cells (``cell // (n_cells // n_labels)`` is the label).
    """

    y: np.ndarray
    cell: np.ndarray
    n_cells: int
    regressors: np.ndarray
    labels: list = field(default_factory=list)


def rank_cells(x, k: int, within=None, n_within: int = 1) -> np.ndarray:
    """Cell of each draw: ``k`` equal-count bins of the rank of ``x``, inside each group of ``within``.

    Returns ``within * k + bin``. Ties keep the draws' order (draws are exchangeable).
    """
    x = np.asarray(x, float)
    within = np.zeros(len(x), dtype=np.int64) if within is None else np.asarray(within, np.int64)
    order = np.lexsort((x, within))
    sizes = np.bincount(within, minlength=n_within)
    starts = np.cumsum(sizes) - sizes
    position = np.empty(len(x), dtype=np.int64)
    position[order] = np.arange(len(x)) - starts[within[order]]
    return within * k + position * k // sizes[within]


def resample_weights(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """Poisson(1) bootstrap weights ``(n_resamples, n)``, shared by every band of one analysis so
    that differences from today's band are resampled together."""
    return np.random.default_rng([seed, 2]).poisson(1.0, (n_resamples, n)).astype(np.uint8)


def bands_given(cells: Cells, weights, seed: int = 0, band=BAND) -> dict:
    """The band given the cells' inputs: the estimate (row 0, unit weights) and one row per
    resample in ``weights`` (from :func:`resample_weights`; labels are resampled with ``seed``).

    Returns a dict of arrays with a leading axis of length ``1 + len(weights)``: ``mass``,
    ``low``, ``median``, ``high`` (row, cell); ``explained`` (Var E[Y | inputs]) and ``variance``
    (Var Y), (row,).
    """
    y = np.asarray(cells.y, float)
    positive = bool((y > 0).all())
    fit = _Fit(cells, band, quadratic=True)      # E[Y | x] bends across a cell (a power of x, a ratio)
    if positive:        # quantiles commute with log: read the bands where products are sums
        x = np.asarray(cells.regressors, float).reshape(len(y), -1)
        logs = x.copy()
        for j in range(x.shape[1]):
            if (x[:, j] > 0).all():
                logs[:, j] = np.log(x[:, j])
        log_fit = _Fit(Cells(np.log(y), cells.cell, cells.n_cells, logs, cells.labels), band, log_mean=True)
    rng = np.random.default_rng([seed, 3])
    n = len(y)
    batch = max(1, BOOTSTRAP_CELLS // n)

    def evaluate(w):
        out = fit.evaluate(w, bands=not positive)
        if positive:
            logged = log_fit.evaluate(w, moments=False)
            out.update({k: np.exp(v) if k != "mass" else v for k, v in logged.items()})
        return out

    parts = [evaluate(np.ones((1, n), dtype=np.uint8))]
    for start in range(0, len(weights), batch):
        w = np.asarray(weights[start:start + batch])
        for label, n_labels in cells.labels:            # the labels' prior draws are resampled too
            w = w * rng.multinomial(n_labels, np.full(n_labels, 1 / n_labels), size=len(w))[:, label]
        parts.append(evaluate(w))
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def today(y, weights, band=BAND) -> dict:
    """The band with nothing disclosed (one cell), as :func:`bands_given` returns it."""
    y = np.asarray(y, float)
    return bands_given(Cells(y, np.zeros(len(y), dtype=np.int64), 1, np.empty((len(y), 0))), weights, band=band)


def _centred(x, cell, K, count):
    """Each column of ``x`` minus its mean in the draw's cell."""
    means = np.zeros((K, x.shape[1]))
    for j in range(x.shape[1]):
        means[:, j] = np.bincount(cell, x[:, j], K) / count
    return x - means[cell]


class _Fit:
    """The full-sample line in each cell, the draws sorted by cell and residual, and the sums,
    fits and quantiles under any weights. With ``log_mean`` (a fit in logarithms) a cell's centre
    is the log of the mean of exp(fitted value) over its draws, so that the band's width is the
    mean of the draws' widths; ``quadratic`` fits a quadratic surface instead of a line."""

    def __init__(self, cells: Cells, band, log_mean: bool = False, quadratic: bool = False):
        y, cell, K = np.asarray(cells.y, float), np.asarray(cells.cell, np.int64), cells.n_cells
        x = np.asarray(cells.regressors, float).reshape(len(y), -1)
        count = np.bincount(cell, minlength=K)
        if (count == 0).any():
            raise ValueError("every cell needs at least one draw")
        self.K, self.band, self.labels, self.log_mean = K, band, cells.labels, log_mean
        # centre (and scale) inside each cell first, so sums of squares keep their precision
        self.y_centre = np.bincount(cell, y, K) / count
        xc = _centred(x / np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0), cell, K, count)
        if quadratic and x.shape[1]:      # squares and products, centred in the cell again
            pairs = [(i, j) for i in range(x.shape[1]) for j in range(i, x.shape[1])]
            xc = np.column_stack([xc, _centred(np.column_stack([xc[:, i] * xc[:, j] for i, j in pairs]), cell, K, count)])
        self.p = xc.shape[1]
        yc = y - self.y_centre[cell]
        self.order = np.argsort(cell, kind="stable")          # the unit-weight fit, to order the residuals
        self.starts = np.concatenate([[0], np.cumsum(count)[:-1]])
        self.ends = self.starts + count
        self.x, self.y = xc[self.order], yc[self.order]
        sorted_cell = cell[self.order]
        line = self._sums(np.ones((1, len(y))), self._features(self.y))
        residual = self.y - self._line_at(line, sorted_cell)
        by_residual = np.lexsort((residual, sorted_cell))
        self.order = self.order[by_residual]
        self.x, self.y, self.residual = self.x[by_residual], self.y[by_residual], residual[by_residual]
        fitted = self.y - self.residual                       # relative to y_centre
        self.features = self._features(self.y, np.exp(fitted) if log_mean else fitted)

    def _line_at(self, fit, sorted_cell):
        """Each (sorted) draw's value on its cell's unit-weight line."""
        return fit["intercept"][0][sorted_cell] + np.einsum("rp,rp->r", self.x, fit["beta"][0][sorted_cell])

    def _features(self, y, centre=None):
        """Per-draw columns whose weighted cell sums give every fit: 1, y, y^2, x_j, x_j y, x_i x_j,
        and what the cell's centre averages (the fitted value, or its exp)."""
        p, x = self.p, self.x
        columns = [np.ones(len(y)), y, y ** 2]
        columns += [x[:, j] for j in range(p)] + [x[:, j] * y for j in range(p)]
        columns += [x[:, i] * x[:, j] for i in range(p) for j in range(i, p)]
        columns.append(np.zeros(len(y)) if centre is None else centre)
        return np.column_stack(columns)

    def _cell_sums(self, w, features):
        """``(b, K, f)``: the weighted sums of each feature over each cell, for sorted weights (b, n)."""
        out = np.empty((len(w), self.K, features.shape[1]))
        for k, (start, end) in enumerate(zip(self.starts, self.ends)):
            out[:, k] = w[:, start:end] @ features[start:end]
        return out

    def _sums(self, w, features):
        """Weighted cell sums and each cell's line, for sorted weights ``w`` (b, n) and ``features``
        from :meth:`_features`."""
        b, K, p = len(w), self.K, self.p
        sums = self._cell_sums(w.astype(float), features)
        W = sums[..., 0]
        safe = np.where(W > 0, W, np.nan)
        y_mean = sums[..., 1] / safe
        cyy = sums[..., 2] - W * y_mean ** 2
        x_mean = sums[..., 3:3 + p] / safe[..., None]
        cxy = sums[..., 3 + p:3 + 2 * p] - W[..., None] * x_mean * y_mean[..., None]
        cxx = np.empty((b, K, p, p))
        column = 3 + 2 * p
        for i in range(p):
            for j in range(i, p):
                cxx[..., i, j] = cxx[..., j, i] = sums[..., column] - W * x_mean[..., i] * x_mean[..., j]
                column += 1
        inverse = np.linalg.pinv(np.nan_to_num(cxx), rcond=1e-10, hermitian=True)
        beta = np.einsum("bkij,bkj->bki", inverse, np.nan_to_num(cxy))
        return {"W": W, "y_mean": y_mean, "beta": beta, "cyy": cyy, "centre_sum": sums[..., -1],
                "fitted_ss": np.einsum("bkp,bkp->bk", cxy, beta),           # the line's share of the sum of squares
                "intercept": y_mean - np.einsum("bkp,bkp->bk", x_mean, beta)}

    def evaluate(self, w, moments: bool = True, bands: bool = True) -> dict:
        """``explained`` and ``variance`` (moments), ``mass``, ``low``, ``median``, ``high`` (bands),
        each with a leading axis over the rows of weights ``w`` (a cell a resample leaves empty has
        mass 0 and NaN bands)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self._evaluate(w, moments, bands)

    def _evaluate(self, w, moments, bands):
        counts = w[:, self.order]
        w = counts.astype(float)
        s = self._sums(w, self.features)
        W, y_mean = s["W"], s["y_mean"] + self.y_centre[None, :]
        total_w = W.sum(axis=1)
        out = {}
        if bands:
            # a cell's band: its fitted values' mean plus quantiles of the full-sample residuals
            cum = np.cumsum(counts, axis=1, dtype=np.int32)     # whole numbers of draws: int32 is exact and fast
            mean_fit = s["centre_sum"] / W
            centre = self.y_centre[None, :] + (np.log(mean_fit) if self.log_mean else mean_fit)
            before = np.cumsum(W, axis=1) - W
            out.update(zip(("low", "median", "high"),
                           (centre + self._quantile(cum, before, W, p) for p in (self.band[0], 0.5, self.band[1]))))
            out["mass"] = W / total_w[:, None]
        if not moments:
            return out
        grand = np.nansum(W * y_mean, axis=1) / total_w
        between = np.nansum(W * (y_mean - grand[:, None]) ** 2, axis=1)
        rss = np.clip(s["cyy"] - s["fitted_ss"], 0, None)
        # each cell's q coefficients add q x (noise of a weighted mean) to the fitted sum of squares;
        # a weight w counts w^2 towards that noise (duplicates in a bootstrap resample)
        q = 1 + self.p
        repeat = self._cell_sums(w * w, self.features[:, :1])[..., 0] / np.where(W > 0, W, np.nan)
        sigma2 = rss / np.maximum(W - q * repeat, 1)
        noise = np.nansum(q * repeat * sigma2, axis=1) - np.nansum(repeat * W * sigma2, axis=1) / total_w
        explained = between + np.nansum(s["fitted_ss"], axis=1) - noise
        if self.labels:                     # L prior draws understate the variance between them by (L - 1) / L
            _, n_labels = self.labels[0]
            per = self.K // n_labels
            W_l = W.reshape(len(W), n_labels, per).sum(axis=2)
            m_l = np.nansum((W * y_mean).reshape(len(W), n_labels, per), axis=2) / W_l
            explained += np.nansum(W_l * (m_l - grand[:, None]) ** 2, axis=1) / (n_labels - 1)
        variance = (np.nansum(s["cyy"], axis=1) + between) / total_w
        return {**out, "explained": explained / total_w, "variance": variance}

    def _quantile(self, cum, before, W, p):
        """Weighted quantiles of the residuals in every cell, ``(b, K)``: the value at rank
        ``p (W + 1/3) + 1/3`` with linear interpolation between neighbours (Hyndman & Fan 1996
        type 8, median-unbiased whatever the law; the least biased in width for the skewed,
        heavy-tailed outputs here)."""
        rank = before + p * (W + 1 / 3) + 1 / 3
        out = np.empty_like(rank)
        for i in range(len(cum)):
            needle = np.ceil(rank[i] - 1e-9).astype(np.int32)      # first draw whose cumulative count reaches the rank
            at = np.clip(np.searchsorted(cum[i], needle, side="left"), self.starts, self.ends - 1)
            prev = np.maximum(at - 1, self.starts)
            below = np.where(prev < at, cum[i][prev], before[i])
            frac = np.clip(rank[i] - below, 0.0, 1.0)
            out[i] = self.residual[prev] + frac * (self.residual[at] - self.residual[prev])
        return out
