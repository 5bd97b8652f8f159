"""Each region's contribution to an output (CO2 by region)."""
from __future__ import annotations

import math
import re

import matplotlib.dates as mdates
import matplotlib.pyplot as plt

from ..errors import ModelError
from .axes import COLOURS, MARK_COLOUR, variable
from .intervals import interval_rows, quantiles_of
from .labels import month_label, month_words, scale_for, short_label


def region_outputs(ds, output: str = "co2_kg") -> dict:
    """Region name -> its monthly quantiles (a DataArray over quantile and month) of ``output``.

    From ``NAME_by_region_monthly`` when the output keeps the region dimension (``by =
    ["region"]``), else from outputs named like ``output`` with a region in the middle: ``co2_kg``
    finds ``co2_virginia_kg``, ``co2_iowa_kg``, ...
    """
    by = f"{output}_by_region_monthly"
    if by in ds:
        titles = ds["region_label"].values if "region_label" in ds.coords else [""] * ds.sizes["region"]
        return {str(r): ds[by].sel(region=r).drop_vars("region_label", errors="ignore").assign_attrs(label=str(t))
                for r, t in zip(ds["region"].values, titles)}
    head, _, tail = output.rpartition("_")
    pattern = re.compile(rf"^{re.escape(head)}_(\w+?)_{re.escape(tail)}_monthly$")
    found = {}
    for var in ds.data_vars:
        match = pattern.match(var)
        if match:
            found[match.group(1)] = ds[var]
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
        Region -> its monthly quantiles (DataArray), instead of finding them.

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
    quantiles = list(ds["quantile"].values)
    qi = [quantiles.index(k) for k in (0.05, 0.5, 0.95)]
    values = {r: da.values[qi] for r, da in regions.items()}
    names = {r: _region_name(da, r) for r, da in regions.items()}
    label = short_label(total, output)
    n_months = ds.sizes["month"]
    if n_months == 1:
        rows_q = {r: quantiles_of(da) for r, da in regions.items()}
        order = sorted(rows_q, key=lambda r: -rows_q[r][2])
        rows = [("total", quantiles_of(total), MARK_COLOUR)] + [(names[r], rows_q[r], COLOURS[0]) for r in order]
        low = min(q[0] for _, q, _ in rows)
        high = max(q[-1] for _, q, _ in rows)
        factor, unit = scale_for([math.sqrt(low * high)] if low > 0 else [high], total.attrs.get("units", ""))
        fig, ax = plt.subplots(figsize=(8.5, 1.4 + 0.5 * len(rows)), layout="constrained")
        interval_rows(ax, rows, factor, unit)
        ax.set_xlabel(f"{label}, {month_words(month_label(ds, 0))} ({unit})")
        ax.legend(loc="lower right", fontsize="small", framealpha=0.9)
    else:
        factor, unit = scale_for([total.values[qi[2]].max()] + [v[2].max() for v in values.values()],
                                 total.attrs.get("units", ""))
        fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
        months = ds["month"].values
        for i, r in enumerate(sorted(values, key=lambda r: -values[r][1].mean())):
            colour = COLOURS[i % len(COLOURS)]
            ax.fill_between(months, values[r][0] / factor, values[r][2] / factor, color=colour, alpha=0.15, lw=0)
            ax.plot(months, values[r][1] / factor, color=colour, lw=2, marker="o", ms=3,
                    label=f"{names[r]} (median, 90% band)")
        locator = mdates.AutoDateLocator(minticks=3, maxticks=9)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))
        ax.set_ylabel(f"{label}, per month ({unit})")
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper left", fontsize="small", framealpha=0.9)
        ax.grid(True, alpha=0.3)
    ax.set_title(f"{label} by region ({int(ds.attrs.get('samples', 0)):,} samples)", fontsize="medium")
    return fig, ax


def _region_name(da, region: str) -> str:
    """A region's row name: the part output's label, else the region's name capitalised."""
    return da.attrs.get("label") or region.replace("_", " ").capitalize()
