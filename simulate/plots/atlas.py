"""The atlas chart: published per-query figures on one log axis, each in front of our 90% band for
the same quantity on the same boundary, so a reader sees at once which figures are compatible."""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np

from .axes import COLOURS, REFERENCE_COLOURS
from .labels import format_number

BAND, MEDIAN, INSIDE, OUTSIDE = "#c9d9e8", COLOURS[0], COLOURS[2], REFERENCE_COLOURS[0]


def per_query_atlas(rows, unit: str = "Wh"):
    """One row per published figure: our 5-95% band (bar), median (tick), the figure (diamond, or a
    line for a low-high range), green inside the band and red outside it.

    Parameters
    ----------
    rows : list of (label, (p5, median, p95), numbers)
        ``numbers`` is the published value, or (low, high), in ``unit``; all on one boundary each.
    unit : str
        The axis unit (energy per query or per item).

    Returns
    -------
    (Figure, Axes)
    """
    fig, ax = plt.subplots(figsize=(11, 1.6 + 0.42 * len(rows)), layout="constrained")
    for i, (label, (low, mid, high), numbers) in enumerate(rows):
        y = len(rows) - 1 - i
        ax.plot([low, high], [y, y], color=BAND, linewidth=9, solid_capstyle="butt", zorder=1)
        ax.plot([mid], [y], marker="|", markersize=12, color=MEDIAN, zorder=2)
        inside = all(low <= v <= high for v in numbers)
        colour = INSIDE if inside else OUTSIDE
        if len(numbers) == 2:
            ax.plot(numbers, [y, y], color=colour, linewidth=2, marker="|", markersize=10, zorder=3)
        else:
            ax.plot(numbers, [y], marker="D", markersize=6, color=colour, linestyle="none", zorder=3)
    ax.set_yticks(range(len(rows)), [textwrap.fill(r[0], 60, max_lines=2, placeholder="...", break_on_hyphens=False)
                                     for r in reversed(rows)], fontsize=8)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: format_number(v, 2)))
    ax.set_xlabel(f"energy per query or item ({unit}, log scale)")
    ax.grid(axis="x", which="major", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    handles = [plt.Line2D([], [], color=BAND, linewidth=9, label="our 90% band (same boundary)"),
               plt.Line2D([], [], color=MEDIAN, marker="|", linestyle="none", markersize=12, label="our median"),
               plt.Line2D([], [], color=INSIDE, marker="D", linestyle="none", label="published, inside our band"),
               plt.Line2D([], [], color=OUTSIDE, marker="D", linestyle="none", label="published, outside our band")]
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    values = [v for _, band, numbers in rows for v in (*band, *numbers) if np.isfinite(v) and v > 0]
    if values:
        ax.set_xlim(min(values) / 1.6, max(values) * 1.6)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    return fig, ax
