"""Two estimation paths of one quantity side by side, and their ratio on the same draws."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from ..errors import ModelError
from .axes import (
    COLOURS,
    MARK_COLOUR,
    month_index,
    need_monthly_draws,
    readable_log_axis,
    spans_decades,
    value_axis,
    variable,
)
from .labels import format_number, month_label, month_words, scale_for, short_label


def paths(ds, outputs=("energy_kwh", "fleet_energy_kwh"), month=None, labels=None):
    """The monthly distributions of two outputs side by side (left) and of their ratio (right).

    The ratio ``outputs[0] / outputs[1]`` is taken sample by sample (as ``path_ratio`` of
    :meth:`simulate.Model.calibrate`), so it needs per-sample monthly
    draws of both (``run(..., keep=N)``); both outputs must share a unit.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :meth:`simulate.Model.run`, run with ``keep=N``.
    outputs : (str, str)
        Two outputs in the same unit.
    month : int or str, optional
        An index or "YYYY-MM" (default the first month).
    labels : (str, str), optional
        Names for the two paths (default: from their long names).

    Returns
    -------
    (Figure, array of two Axes)
        The side-by-side intervals and the ratio's density.
    """
    m = month_index(ds, month)
    das = [variable(ds, f"{name}_monthly") for name in outputs]
    units = {da.attrs.get("units", "") for da in das}
    if len(units) != 1:
        raise ModelError("the two outputs have different units", field="outputs", value=list(outputs),
                         fix="compare two outputs with the same unit (e.g. energy_kwh and fleet_energy_kwh)")
    a, b = (need_monthly_draws(ds, name, m, "the ratio of two paths") for name in outputs)
    n = min(a.size, b.size)
    ratio = a[:n] / b[:n]
    ratio = ratio[np.isfinite(ratio) & (ratio > 0)]
    names = [short_label(da, name) for da, name in zip(das, outputs)]
    labels = list(labels or [n.split(",", 1)[1].strip() if "," in n else n for n in names])
    quantiles = list(ds["quantile"].values)
    qs = [da.values[:, m] for da in das]
    factor, unit = scale_for([max(q[-1] for q in qs)], units.pop())

    fig, (ax_box, ax_ratio) = plt.subplots(1, 2, figsize=(10, 4.6), layout="constrained",
                                           gridspec_kw={"width_ratios": (1, 1.4)})
    for i, (q, label) in enumerate(zip(qs, labels)):
        colour = COLOURS[i]
        q5, q25, q50, q75, q95 = (q[quantiles.index(k)] / factor for k in (0.05, 0.25, 0.5, 0.75, 0.95))
        ax_box.vlines(i, q5, q95, color=colour, lw=6, alpha=0.35, label="90% interval" if i == 0 else None)
        ax_box.vlines(i, q25, q75, color=colour, lw=16, alpha=0.7, label="50% interval" if i == 0 else None)
        ax_box.plot([i - 0.22, i + 0.22], [q50, q50], color="black", lw=2, label="median" if i == 0 else None)
        ax_box.annotate(f"{format_number(q50)} {unit}\n[{format_number(q5)}, {format_number(q95)}]",
                        (i + 0.22, q50), xytext=(6, 0), textcoords="offset points", va="center", fontsize="small")
    ax_box.set_xticks(range(len(labels)), labels)
    ax_box.set_xlim(-0.5, len(labels) - 0.1)
    low = min(q[quantiles.index(0.05)] for q in qs)
    high = max(q[quantiles.index(0.95)] for q in qs)
    value_axis(ax_box, "y", low / factor, high / factor, log=True)   # always log: a ratio reads as a distance
    long = names[0].split(",")[0]
    ax_box.set_ylabel(f"{long}, {month_words(month_label(ds, m))} ({unit})")
    ax_box.set_title("median, 50% and 90% intervals", fontsize="medium")
    ax_box.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), fontsize="small", frameon=False, ncols=3)
    ax_box.grid(True, axis="y", alpha=0.3)

    r5, r50, r95 = np.quantile(ratio, [0.05, 0.5, 0.95])
    r_lo, r_hi = np.quantile(ratio, [0.001, 0.999])
    log = spans_decades(r_lo, r_hi) or r_lo > 0
    edges = np.geomspace(r_lo, r_hi, 80)
    counts, _ = np.histogram(ratio, bins=edges)
    ax_ratio.stairs(counts / ratio.size / np.diff(np.log10(edges)), edges, fill=True, color=COLOURS[2], alpha=0.55,
                    label=f"{ratio.size:,} paired draws")
    ax_ratio.axvspan(r5, r95, color="#777777", alpha=0.15, lw=0, label=f"90% interval [{format_number(r5, 2)}, {format_number(r95, 2)}]")
    ax_ratio.axvline(r50, color=COLOURS[2], lw=1.8, label=f"median {format_number(r50, 2)}")
    ax_ratio.axvline(1.0, color=MARK_COLOUR, lw=1.2, ls="--",
                     label=f"equal; {labels[0]} higher in {100 * np.mean(ratio > 1):.0f}% of draws")
    if log:
        ax_ratio.set_xscale("log")
        readable_log_axis(ax_ratio.xaxis, math.log10(r_hi / r_lo))
    ax_ratio.set_xlim(min(r_lo, 0.9), max(r_hi, 1.1))
    ax_ratio.set_ylim(bottom=0)
    ax_ratio.set_xlabel(f"{labels[0]} / {labels[1]} (same draws)")
    ax_ratio.set_ylabel("density per decade")
    ax_ratio.set_title("ratio of the two paths, sample by sample", fontsize="medium")
    ax_ratio.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize="small", frameon=False, ncols=2)
    ax_ratio.grid(True, alpha=0.3)
    return fig, np.array([ax_box, ax_ratio])
