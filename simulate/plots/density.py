"""The distribution of a monthly value: density above, cumulative probability below, with marks.

Each mark (a published value, a corner product) is a vertical line through both panels with its own
colour and dash, and its name, value and percentile written beside it on its own level of the
density panel, so that two marks close together stay readable.
"""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np

from .axes import COLOURS, MARK_COLOUR, MARK_STYLES, month_index, monthly_draws, value_axis, variable
from .labels import format_number, month_label, month_words, percentile_of, percentile_text, scale_for, short_label

LANE_TOP, LANE_STEP = 0.93, 0.105     # where mark labels sit in the density panel (axes fraction)


def line_marks(marks):
    """``marks`` as a list of (label, value, colour[, style]): a dict, pairs, or longer tuples."""
    if marks is None:
        return []
    items = marks.items() if isinstance(marks, dict) else marks
    out = []
    for i, m in enumerate(items):
        colour = m[2] if len(m) > 2 else MARK_COLOUR
        style = m[3] if len(m) > 3 else MARK_STYLES[i % len(MARK_STYLES)]
        out.append((str(m[0]), float(m[1]), colour, style))
    return out


def distribution(ds, output: str = "energy_kwh", month=None, marks=None, colour=COLOURS[0], log=None):
    """Density (top) and CDF (bottom) of the monthly ``output``, with ``marks`` as labelled lines.

    From per-sample draws when the Dataset has ``OUTPUT_monthly_samples`` (``run(..., keep=N)``),
    else from the quantiles alone. ``marks`` maps a label to a value in the output's units (published
    figures, scenario corners; tuples add a colour and a line style); each mark's label gives its
    value and, with draws, its percentile.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :meth:`simulate.Model.run` (with ``keep=N`` for the full shape).
    output : str
        An output name.
    month : int or str, optional
        An index or "YYYY-MM" (default the first month).
    marks : dict or list, optional
        Label -> value in the output's unit, or (label, value[, colour[, line style]]) items.
    log : bool, optional
        Force a log (True) or linear (False) value axis, e.g. to draw two paths alike; default: log
        when the values span decades.

    Returns
    -------
    (Figure, array of two Axes)
        The density panel and the CDF panel.
    """
    m = month_index(ds, month)
    da = variable(ds, f"{output}_monthly")
    quantiles = list(ds["quantile"].values)
    qv = da.values[:, m]
    draws = monthly_draws(ds, output, m)
    have_draws = draws is not None and draws.size > 0
    marks = line_marks(marks)
    low, high = np.quantile(draws, [0.001, 0.999]) if have_draws else (qv[0], qv[-1])
    low, high = min([low] + [k[1] for k in marks]), max([high] + [k[1] for k in marks])
    factor, unit = scale_for([high], da.attrs.get("units", ""))

    fig, (ax_pdf, ax_cdf) = plt.subplots(2, 1, figsize=(8, 6.8), sharex=True, layout="constrained",
                                         gridspec_kw={"height_ratios": (1.25, 1)})
    log = value_axis(ax_cdf, "x", low / factor, high / factor, log)
    lo_edge, hi_edge = (v * factor for v in ax_cdf.get_xlim())
    if not log:
        lo_edge = max(0.0, low - 0.04 * (high - low)) if low >= 0 else low - 0.04 * (high - low)
        hi_edge = high + 0.04 * (high - low)
    if have_draws:
        edges = np.geomspace(lo_edge, hi_edge, 90) if log else np.linspace(lo_edge, hi_edge, 90)
        counts, _ = np.histogram(draws, bins=edges)
        widths = np.diff(np.log10(edges)) if log else np.diff(edges) / factor
        ax_pdf.stairs(counts / draws.size / widths, edges / factor, fill=True, color=colour, alpha=0.55,
                      label=f"{draws.size:,} draws")
        grid = np.geomspace(lo_edge, hi_edge, 400) if log else np.linspace(lo_edge, hi_edge, 400)
        ordered = np.sort(draws)
        ax_cdf.plot(grid / factor, np.searchsorted(ordered, grid, side="right") / ordered.size, color=colour,
                    lw=2, label="share of draws at or below")
        source = f"{draws.size:,} per-sample draws"
    else:
        widths = np.diff(np.log10(qv)) if log else np.diff(qv) / factor
        with np.errstate(divide="ignore", invalid="ignore"):
            density = np.where(widths > 0, np.diff(quantiles) / widths, 0.0)
        ax_pdf.stairs(density, qv / factor, fill=True, color=colour, alpha=0.55, label="between quantiles")
        ax_cdf.plot(qv / factor, quantiles, color=colour, lw=2, marker="o", ms=4, label="quantiles")
        source = "quantiles only (run with keep=N for the full shape)"
    p5, p50, p95 = (qv[quantiles.index(k)] / factor for k in (0.05, 0.5, 0.95))
    for axis in (ax_pdf, ax_cdf):
        axis.axvspan(p5, p95, color=colour, alpha=0.14, lw=0,
                     label=f"our 90% interval: {format_number(p5)} to {format_number(p95)} {unit}"
                     if axis is ax_cdf else None)
        axis.axvline(p50, color=colour, lw=1.8, label=f"our median: {format_number(p50)} {unit}" if axis is ax_cdf else None)
    for p in (0.05, 0.5, 0.95):
        ax_cdf.axhline(p, color="#777777", lw=0.8, ls=":")
    left, right = ax_cdf.get_xlim()
    for i, (label, value, mark_colour, style) in enumerate(marks):
        x = value / factor
        text = f"{label}: {format_number(x)} {unit}"
        if have_draws:
            text += f" ({percentile_text(percentile_of(draws, value))})"
        for axis in (ax_pdf, ax_cdf):
            axis.axvline(x, color=mark_colour, lw=1.6, ls=style)
        where = (np.log10(x / left) / np.log10(right / left)) if log else (x - left) / (right - left)
        ax_pdf.annotate(text, (x, LANE_TOP - LANE_STEP * i), xycoords=("data", "axes fraction"),
                        xytext=(4 if where < 0.55 else -4, 0), textcoords="offset points",
                        ha="left" if where < 0.55 else "right", va="center", fontsize="small", color=mark_colour,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})
    ax_cdf.set_ylim(0, 1)
    ax_pdf.set_ylim(0, ax_pdf.get_ylim()[1] * (1 + 0.12 * len(marks)))   # headroom for the mark labels
    ax_pdf.set_yticks([])
    ax_pdf.set_ylabel("how likely (density)")
    ax_cdf.set_ylabel("share of draws at or below")
    name = short_label(da, output)
    when = month_words(month_label(ds, m))
    ax_cdf.set_xlabel(f"{name}, total for {when} ({unit})" if da.attrs.get("aggregate", "sum") == "sum"
                      else f"{name}, mean over {when} ({unit})")
    ax_pdf.set_title("\n".join(textwrap.wrap(f"{name}, {when}: distribution from {source}", 75)), fontsize="medium")
    ax_cdf.legend(loc="lower right", fontsize="small", framealpha=0.9)
    for axis in (ax_pdf, ax_cdf):
        axis.grid(True, which="major", alpha=0.3)
    return fig, np.array([ax_pdf, ax_cdf])
