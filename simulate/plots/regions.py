"""Each region's contribution to an output (CO2 by region)."""
from __future__ import annotations

import math
import re

import matplotlib.dates as mdates
import matplotlib.pyplot as plt

from ..errors import ModelError
from .axes import COLOURS, MARK_COLOUR, readable_log_axis, spans_decades, variable
from .labels import month_label, scale_for, si_unit


def region_outputs(ds, output: str = "co2_kg") -> dict:
    """Region name -> output name, for outputs named like ``output`` with a region in the middle.

    ``co2_kg`` finds ``co2_virginia_kg``, ``co2_iowa_kg``, ... (the model declares them as derived
    outputs, e.g. ``energy_kwh * share_virginia * grid_virginia_g_per_kwh / 1000``).
    """
    head, _, tail = output.rpartition("_")
    pattern = re.compile(rf"^{re.escape(head)}_(\w+?)_{re.escape(tail)}_monthly$")
    found = {}
    for var in ds.data_vars:
        match = pattern.match(var)
        if match:
            found[match.group(1)] = var[: -len("_monthly")]
    return found


def co2_by_region(ds, output: str = "co2_kg", regions: dict | None = None):
    """Each region's contribution to ``output``: median and 90% interval per month.

    One month: horizontal bars (median) with 90% whiskers, largest first, the total beside them.
    Several months: one median line and 90% band per region over time.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :meth:`simulate.Model.run`.
    output : str
        The total, e.g. ``"co2_kg"``; its parts are found by :func:`region_outputs`.
    regions : dict, optional
        Region -> output name, instead of finding them by name.

    Returns
    -------
    (Figure, Axes)
    """
    regions = regions or region_outputs(ds, output)
    if not regions:
        raise ModelError("has no per-region outputs in the results", field="output", value=output,
                         fix=f"declare outputs such as {output.rpartition('_')[0]}_REGION_{output.rpartition('_')[2]} "
                             "= energy_kwh * share_REGION * grid_REGION_g_per_kwh / 1000")
    total = variable(ds, f"{output}_monthly")
    unit_of = total.attrs.get("units", "")
    quantiles = list(ds["quantile"].values)
    qi = [quantiles.index(k) for k in (0.05, 0.5, 0.95)]
    values = {r: variable(ds, f"{name}_monthly").values[qi] for r, name in regions.items()}
    factor, unit = scale_for([total.values[qi[2]].max()] + [v[2].max() for v in values.values()],
                             total.attrs.get("units", ""))
    label = total.attrs.get("long_name", output).split(",")[0]
    n_months = ds.sizes["month"]
    if n_months == 1:
        qi4 = [quantiles.index(k) for k in (0.05, 0.25, 0.5, 0.75, 0.95)]
        rows_q = {r: variable(ds, f"{name}_monthly").values[qi4, 0] for r, name in regions.items()}
        order = sorted(rows_q, key=lambda r: rows_q[r][2])
        rows = order + ["total"]
        rows_q["total"] = total.values[qi4, 0]
        low = min(v[0] for v in rows_q.values())
        high = max(v[-1] for v in rows_q.values())
        log = spans_decades(low, high)
        fig, ax = plt.subplots(figsize=(8, 1.2 + 0.5 * len(rows)), layout="constrained")
        for y, r in enumerate(rows):
            q5, q25, q50, q75, q95 = rows_q[r] / factor
            colour = MARK_COLOUR if r == "total" else COLOURS[0]
            ax.hlines(y, q5, q95, color=colour, lw=2, alpha=0.45, label="90% interval" if y == 0 else None)
            ax.hlines(y, q25, q75, color=colour, lw=7, alpha=0.7, label="50% interval" if y == 0 else None)
            ax.plot([q50], [y], "o", color="white", mec=colour, mew=2, ms=7, label="median" if y == 0 else None)
            text = f"{si_unit(rows_q[r][2], unit_of)} [{si_unit(rows_q[r][0], unit_of)}, {si_unit(rows_q[r][4], unit_of)}]"
            ax.annotate(text, (q95, y), xytext=(6, 0), textcoords="offset points", va="center", fontsize="small")
        ax.set_yticks(range(len(rows)), rows)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        if log:
            ax.set_xscale("log")
            readable_log_axis(ax.xaxis, math.log10(high / low) + 1.2)
            ax.set_xlim(low / factor / 1.5, high / factor * 12)
        else:
            ax.set_xlim(0, high / factor * 1.45)
        ax.set_xlabel(f"{label}, {month_label(ds, 0)} ({unit})")
        ax.legend(loc="lower right", fontsize="small", framealpha=0.9)
        ax.grid(True, axis="x", alpha=0.3)
    else:
        fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
        months = ds["month"].values
        for i, r in enumerate(sorted(values, key=lambda r: -values[r][1].mean())):
            colour = COLOURS[i % len(COLOURS)]
            ax.fill_between(months, values[r][0] / factor, values[r][2] / factor, color=colour, alpha=0.15, lw=0)
            ax.plot(months, values[r][1] / factor, color=colour, lw=2, marker="o", ms=3, label=f"{r} (median, 90% band)")
        locator = mdates.AutoDateLocator(minticks=3, maxticks=9)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.set_ylabel(f"{label}, per month ({unit})")
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper left", fontsize="small", framealpha=0.9)
        ax.grid(True, alpha=0.3)
    ax.set_title(f"{label} by region ({ds.attrs.get('samples', 0):,} samples)", fontsize="medium")
    return fig, ax
