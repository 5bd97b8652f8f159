"""The distribution of a monthly value: density above, cumulative probability below, with marks."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from .axes import (
    COLOURS,
    MARK_COLOUR,
    MARK_STYLES,
    month_index,
    monthly_draws,
    readable_log_axis,
    spans_decades,
    variable,
)
from .labels import axis_label, format_number, month_label, percentile_of, scale_for


def line_marks(marks):
    """``marks`` as a list of (label, value, colour): a dict, or pairs, or (label, value, colour) triples."""
    if marks is None:
        return []
    items = marks.items() if isinstance(marks, dict) else marks
    return [(str(m[0]), float(m[1]), m[2] if len(m) > 2 else MARK_COLOUR) for m in items]


def distribution(ds, output: str = "energy_kwh", month=None, marks=None, colour=COLOURS[0]):
    """Density (top) and CDF (bottom) of the monthly ``output``, with ``marks`` as labelled lines.

    From per-sample draws when the Dataset has ``OUTPUT_monthly_samples`` (``run(..., keep=N)``),
    else from the quantiles alone. ``marks`` maps a label to a value in the output's units (published
    figures, scenario corners; triples add a colour); each legend entry gives the value and, with draws, its percentile.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :meth:`simulate.Model.run` (with ``keep=N`` for the full shape).
    output : str
        An output name.
    month : int or str, optional
        An index or "YYYY-MM" (default the first month).
    marks : dict or list, optional
        Label -> value in the output's unit, or (label, value[, colour]) items.

    Returns
    -------
    (Figure, array of two Axes)
        The density panel and the CDF panel.
    """
    m = month_index(ds, month)
    da = variable(ds, f"{output}_monthly")
    quantiles = ds["quantile"].values
    qv = da.values[:, m]
    draws = monthly_draws(ds, output, m)
    marks = line_marks(marks)
    if draws is not None and draws.size:
        low, high = np.quantile(draws, [0.001, 0.999])
    else:
        low, high = qv[0], qv[-1]
    mark_values = [m[1] for m in marks]
    low, high = min([low] + mark_values), max([high] + mark_values)
    log = spans_decades(low, high)
    pad = (high / low) ** 0.04 if log else None
    lo_edge, hi_edge = (low / pad, high * pad) if log else (low - 0.04 * (high - low), high + 0.04 * (high - low))
    factor, unit = scale_for([high], da.attrs.get("units", ""))

    fig, (ax_pdf, ax_cdf) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True, layout="constrained",
                                         gridspec_kw={"height_ratios": (1.1, 1)})
    if draws is not None and draws.size:
        edges = np.geomspace(lo_edge, hi_edge, 90) if log else np.linspace(lo_edge, hi_edge, 90)
        counts, _ = np.histogram(draws, bins=edges)
        widths = np.diff(np.log10(edges)) if log else np.diff(edges) / factor
        ax_pdf.stairs(counts / draws.size / widths, edges / factor, fill=True, color=colour, alpha=0.55,
                      label=f"{draws.size:,} draws")
        grid = np.geomspace(lo_edge, hi_edge, 400) if log else np.linspace(lo_edge, hi_edge, 400)
        ordered = np.sort(draws)
        ax_cdf.plot(grid / factor, np.searchsorted(ordered, grid, side="right") / ordered.size, color=colour,
                    lw=2, label="CDF of the draws")
        source = f"from {draws.size:,} per-sample draws"
    else:
        widths = np.diff(np.log10(qv)) if log else np.diff(qv) / factor
        with np.errstate(divide="ignore", invalid="ignore"):
            density = np.where(widths > 0, np.diff(quantiles) / widths, 0.0)
        ax_pdf.stairs(density, qv / factor, fill=True, color=colour, alpha=0.55, label="between quantiles")
        ax_cdf.plot(qv / factor, quantiles, color=colour, lw=2, marker="o", ms=4, label="quantiles")
        source = "from quantiles only (run with keep=N for the full shape)"
    ax_cdf.axhspan(0.05, 0.95, color=colour, alpha=0.07, lw=0)
    for p in (0.05, 0.5, 0.95):
        ax_cdf.axhline(p, color="#777777", lw=0.8, ls=":")
    ax_pdf.axvspan(qv[list(quantiles).index(0.05)] / factor, qv[list(quantiles).index(0.95)] / factor,
                   color="#777777", alpha=0.08, lw=0, label="our 90% interval")
    ax_pdf.axvline(qv[list(quantiles).index(0.5)] / factor, color=colour, lw=1.6,
                   label=f"our median {format_number(qv[list(quantiles).index(0.5)] / factor)} {unit}")
    for i, (label, value, mark_colour) in enumerate(marks):
        text = f"{label}: {format_number(value / factor)} {unit}"
        if draws is not None and draws.size:
            text += f" (P{percentile_of(draws, value):.1f})"
        for axis in (ax_pdf, ax_cdf):
            axis.axvline(value / factor, color=mark_colour, lw=1.5, ls=MARK_STYLES[i % len(MARK_STYLES)],
                         label=text if axis is ax_cdf else None)
    if log:
        ax_cdf.set_xscale("log")
        readable_log_axis(ax_cdf.xaxis, math.log10(hi_edge / lo_edge))
    ax_cdf.set_xlim(lo_edge / factor, hi_edge / factor)
    ax_cdf.set_ylim(0, 1)
    ax_pdf.set_ylim(bottom=0)
    ax_pdf.set_ylabel("density per decade" if log else f"density per {unit}")
    ax_cdf.set_ylabel("cumulative probability")
    ax_cdf.set_xlabel(axis_label(da, unit) + ", " + month_label(ds, m))
    ax_pdf.set_title(f"{da.attrs.get('long_name', output)}, {month_label(ds, m)} ({source})", fontsize="medium")
    ax_pdf.legend(loc="upper right" if not log else "upper left", fontsize="small", framealpha=0.9)
    ax_cdf.legend(loc="lower right", fontsize="small", framealpha=0.9)
    for axis in (ax_pdf, ax_cdf):
        axis.grid(True, which="major", alpha=0.3)
    return fig, np.array([ax_pdf, ax_cdf])
