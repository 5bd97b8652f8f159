"""Charts of what a disclosure would do: today's band beside the band after each disclosure, and
Shapley effects beside the first-order and total indices.

Each function takes the Dataset that :meth:`simulate.Model.sensitivity` returns (``method=
"disclosure"`` or ``"shapley"``) and gives back ``(Figure, Axes)``; nothing is shown or saved here.
"""
from __future__ import annotations

import math
import textwrap

import numpy as np

from .axes import COLOURS, new_axes, readable_log_axis, spans_decades
from .labels import format_number, scale_for

OUTCOMES = ((0.1, "a low value disclosed"), (0.5, "a middling value"), (0.9, "a high value"))
TODAY_COLOUR = "#9a9a9a"


def disclosure_bands(ds, top: int = 6, pairs: int = 2, ax=None, labels=None, title=None, output_label=None):
    """Today's 90% band on top, and below it the band each disclosure would leave.

    Each disclosure's row shows three bands, for a low, a middling and a high disclosed outcome
    (the cells whose conditional median is at the 10th, 50th and 90th percentile over the values
    the disclosure may take), with the expected width and its cut from today's written beside it.
    Inputs the output does not read (``attrs["unused_parameters"]``) are not drawn.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :meth:`simulate.Model.sensitivity` with ``method="disclosure"``.
    top, pairs : int
        How many single disclosures and pairs (as sorted), besides today's band.
    ax : matplotlib Axes, optional
        Draw here instead of on a new figure.
    labels : dict, optional
        Parameter -> the name to show (pairs "a & b" are named part by part).
    title, output_label : str, optional
        The title (default the analysis target) and the output's name on the axis.

    Returns
    -------
    (Figure, Axes)
    """
    unused = {n.strip() for n in ds.attrs.get("unused_parameters", "").split(",")}
    names = [(str(n), int(k)) for n, k in zip(ds["parameter"].values, ds["disclosed"].values) if str(n) not in unused]
    shown = [n for n, k in names if k == 1][:top] + [n for n, k in names if k > 1][:pairs]
    fig, ax = new_axes(ax, (8, 0.55 * (len(shown) + 1) + 1.6))
    unit = ds["expected_width"].attrs.get("units", "")
    low, high = float(ds["today_low"]), float(ds["today_high"])
    ends = [low, high] + [float(v) for n in shown for v in (ds["cell_low"].sel(parameter=n).min(),
                                                             ds["cell_high"].sel(parameter=n).max())]
    factor, label = scale_for([max(abs(e) for e in ends)], unit)
    y_today = len(shown)
    ax.barh(y_today, (high - low) / factor, left=low / factor, height=0.5, color=TODAY_COLOUR)
    ax.plot([float(ds["today_median"]) / factor] * 2, [y_today - 0.25, y_today + 0.25], color="black", lw=1)
    for edge in (low, high):
        ax.axvline(edge / factor, color=TODAY_COLOUR, lw=0.8, ls="--", zorder=0)
    for row, name in enumerate(shown):
        one = ds.sel(parameter=name)
        y = len(shown) - 1 - row
        cells = _outcome_cells(one)
        for (offset, cell), (_, text), colour in zip(zip((0.22, 0.0, -0.22), cells), OUTCOMES,
                                                     (COLOURS[1], COLOURS[0], COLOURS[4])):
            lo, hi = float(one["cell_low"][cell]) / factor, float(one["cell_high"][cell]) / factor
            ax.barh(y + offset, hi - lo, left=lo, height=0.18, color=colour, label=text if row == 0 else None)
        ax.annotate(f"width {format_number(float(one['expected_width']) / factor)} {label}, {change_words(one)}",
                    (1.01, y), xycoords=("axes fraction", "data"), va="center", fontsize=8)
    ax.annotate(f"today: {format_number(low / factor)} to {format_number(high / factor)} {label}",
                (1.01, y_today), xycoords=("axes fraction", "data"), va="center", fontsize=8)
    ax.set_yticks(np.arange(len(shown) + 1), [_wrapped(n, labels) for n in reversed(shown)] + ["today"])
    lowest, highest = min(ends), max(ends)
    if spans_decades(lowest, highest):
        ax.set_xscale("log")
        readable_log_axis(ax.xaxis, math.log10(highest / lowest))
    ax.set_xlabel(f"{output_label or ds.attrs.get('output', '')} ({label}): 90% interval today and once disclosed")
    ax.set_title(title or ds.attrs.get("target", ""), fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.3 / (len(shown) + 2)), ncol=3, fontsize=8,
              frameon=False)
    return fig, ax


def change_words(one) -> str:
    """"31% narrower", or "no clear change" when the reduction's interval holds 0."""
    cut, low, high = (float(one[k]) for k in ("width_reduction", "width_reduction_low", "width_reduction_high"))
    if low <= 0 <= high:
        return "no clear change"
    return f"{100 * cut:.0f}% narrower" if cut > 0 else f"{-100 * cut:.0f}% wider"


def _outcome_cells(one):
    """The cells whose conditional median sits at the OUTCOMES percentiles (by prior mass)."""
    median, mass = one["cell_median"].values, one["cell_mass"].values
    order = np.argsort(median)
    cum = np.cumsum(mass[order]) - mass[order] / 2
    return [int(order[np.argmin(np.abs(cum / cum[-1] - q))]) for q, _ in OUTCOMES]


def _wrapped(name: str, labels=None) -> str:
    """A row name: each part of a pair "a & b" named by ``labels``, wrapped, the parts on two lines."""
    labels = labels or {}
    return " &\n".join("\n".join(textwrap.wrap(labels.get(part, part), 38)) for part in name.split(" & "))


def shapley_bars(ds, ax=None, labels=None, title=None):
    """Shapley effects beside the first-order and total indices, with their intervals.

    Inputs with an effect of exactly zero (the output does not read them and they are independent
    of those it does) are left out and counted in the title.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :meth:`simulate.Model.sensitivity` with ``method="shapley"`` (daily results show
        each input's largest value over dates).
    ax : matplotlib Axes, optional
        Draw here instead of on a new figure.
    labels : dict, optional
        Parameter -> the name to show.
    title : str, optional
        The title (default the analysis target).

    Returns
    -------
    (Figure, Axes)
    """
    if "date" in ds.dims:
        ds = ds.max("date", keep_attrs=True)
    null = (ds["shapley"] == 0) & (ds["shapley_low"] == 0) & (ds["shapley_high"] == 0)
    kept = ds.isel(parameter=np.flatnonzero(~null.values))
    names = list(kept["parameter"].values)
    fig, ax = new_axes(ax, (7, 0.55 * len(names) + 1.6))
    y = np.arange(len(names))[::-1]
    for offset, key, colour, text in ((0.27, "first_order", COLOURS[0], "first order"),
                                      (0.0, "shapley", COLOURS[2], "Shapley effect"),
                                      (-0.27, "total_order", COLOURS[4], "total")):
        value = kept[key].values
        err = np.vstack([value - kept[f"{key}_low"].values, kept[f"{key}_high"].values - value]).clip(min=0)
        ax.barh(y + offset, value, height=0.26, xerr=err, color=colour, alpha=0.85, label=text,
                error_kw={"elinewidth": 0.8, "capsize": 2})
    ax.set_yticks(y, [_wrapped(str(n), labels) for n in names])
    ax.axvline(0, color="black", lw=0.6)
    level = ds.attrs.get("confidence_level", 0.95)
    ax.set_xlabel(f"share of the output's variance (bars: {level:.0%} intervals)")
    title = title or ds.attrs.get("target", "")
    if int(null.sum()):
        title += f"\n({int(null.sum())} inputs it does not read are left out: their effects are 0)"
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    return fig, ax
