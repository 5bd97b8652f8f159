"""The fan chart: median, 50% and 90% bands over time, with published figures (``[[references]]``)
drawn at their dates in the plotted unit.

``per="day"`` plots the daily quantiles and turns each reference into an average per day (an annual
TWh total / days in that year); ``per="month"`` plots the monthly totals and turns references into
averages per month (annual / 12), which is how a multi-year energy projection is usually read. A
single figure is a marker at the middle of its year, month or day, with a thin line across the
window it covers; a low-high range is a vertical bar there and a shaded box over the window. Every
legend entry says what was converted and how, and gives the figure's scope.
"""
from __future__ import annotations

import math

import numpy as np

from .axes import COLOURS, new_axes, readable_log_axis, time_axes, variable
from .labels import format_number, scale_for

REFERENCE_COLOURS = ("#b8443a", "#8e5ea2", "#3a8f5c", "#c2a32c", "#4fa3a5", "#d9822b", "#6b6b6b")
MARKERS = "oDs^v<>p"
POINT_MARKERS = "*XPh"      # scenario values: filled, black
HOW = {("year", "day"): "annual total / days in the year", ("year", "month"): "annual total / 12",
       ("month", "day"): "monthly total / days in the month", ("month", "month"): "monthly total",
       ("day", "day"): "daily value", ("day", "month"): "daily value x days in the month", ("", "day"): "as published",
       ("", "month"): "as published"}


def _day(value) -> np.datetime64:
    return np.datetime64(value, "D")


def converted(reference, per: str) -> tuple[float, ...]:
    """The reference's numbers in the output's unit, per ``per`` ("day" or "month")."""
    return reference.per_day() if per == "day" else reference.per_month()


def month_middles(ds) -> np.ndarray:
    """The middle of each month of ``ds`` (start + half its length) as datetime64[h]."""
    starts = ds["month"].values.astype("datetime64[M]")
    ends = starts + 1
    return starts.astype("datetime64[h]") + (ends.astype("datetime64[h]") - starts.astype("datetime64[h]")) // 2


def fan_chart(ds, output: str = "energy_kwh", references=(), per: str = "day", points=(), colour=COLOURS[0],
              ax=None):
    """Median, 50% and 90% bands of ``output`` per day or per month, with published figures on them.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :meth:`simulate.Model.run`.
    output : str
        An output name, e.g. ``"energy_kwh"``.
    references : iterable of :class:`simulate.spec.references.Reference`, optional
        Published figures (``model.references``); those of ``output`` are converted to the plotted
        unit and window and drawn as markers (a range as a bar).
    per : {"day", "month"}
        Plot daily values or monthly totals (or means).
    points : iterable of (date, value, label), optional
        Extra markers already in the output's unit per ``per`` (scenario values).
    ax : matplotlib Axes, optional
        Draw here instead of on a new figure.

    Returns
    -------
    (Figure, Axes)
    """
    da = variable(ds, f"{output}_{'daily' if per == 'day' else 'monthly'}")
    x = ds["date"].values.astype("datetime64[h]") + np.timedelta64(12, "h") if per == "day" else month_middles(ds)
    q = {k: da.sel(quantile=k).values for k in (0.05, 0.25, 0.5, 0.75, 0.95)}
    refs = [r for r in references if r.output == output]
    ref_values = [v for r in refs for v in converted(r, per)]
    point_values = [float(p[1]) for p in points]
    base_unit = da.attrs.get("units", "")
    factor, unit = scale_for([np.nanmax(q[0.95])] + ref_values + point_values, base_unit)
    if len(x) == 1:  # one day or month: a box one step wide rather than an invisible line
        half = np.timedelta64(12, "h") if per == "day" else np.timedelta64(15 * 24, "h")
        x = np.array([x[0] - half, x[0] + half])
        q = {k: np.repeat(v, 2) for k, v in q.items()}

    fig, ax = new_axes(ax, (10, 5.2 + 0.32 * len(refs)))
    ax.fill_between(x, q[0.05] / factor, q[0.95] / factor, color=colour, alpha=0.18, lw=0, label="90% interval")
    ax.fill_between(x, q[0.25] / factor, q[0.75] / factor, color=colour, alpha=0.35, lw=0, label="50% interval")
    ax.plot(x, q[0.5] / factor, color=colour, lw=2, label="median")
    first, last = ds["date"].values[0], ds["date"].values[-1]
    for i, (d, value, label) in enumerate(points):
        ax.plot([np.datetime64(d, "h")], [value / factor], ls="none", marker=POINT_MARKERS[i % len(POINT_MARKERS)],
                ms=11, color="#222222", label=str(label), zorder=5)
    per_word = "day" if per == "day" else "month"
    total = da.attrs.get("aggregate", "sum") == "sum"    # a total per day or month, else a mean (per query)
    for i, r in enumerate(refs):
        c, marker = REFERENCE_COLOURS[i % len(REFERENCE_COLOURS)], MARKERS[i % len(MARKERS)]
        mid = _day(r.middle).astype("datetime64[h]") + np.timedelta64(12, "h")
        start, end = _day(r.start), _day(r.end) + 1
        values = [v / factor for v in converted(r, per)]
        outside = _day(r.end) < first or _day(r.start) > last
        shown = "-".join(format_number(v) for v in values)
        label = (f"{r.label}: {r.describe()}\n    = {shown} {unit}{f' per {per_word}' if total else ''} ({HOW[(r.per, per)]})"
                 + (f"; scope: {r.scope}" if r.scope else "") + ("; outside the model period" if outside else ""))
        if r.is_range:
            ax.fill_between([start, end], [values[0]] * 2, [values[1]] * 2, color=c, alpha=0.12, lw=0)
            ax.vlines(mid, values[0], values[1], color=c, lw=3, label=label, zorder=4)
            ax.plot([mid, mid], values, ls="none", marker="_", ms=14, mew=3, color=c, zorder=4)
        else:
            if (r.end - r.start).days > 0:
                ax.hlines(values[0], start, end, color=c, lw=1.2, ls="--", zorder=3)
            ax.plot([mid], values, ls="none", marker=marker, ms=9, mfc="white" if outside else c, mec=c, mew=2,
                    label=label, zorder=4)
    low = np.nanmin(np.concatenate([q[0.05], ref_values, point_values]))
    high = np.nanmax(np.concatenate([q[0.95], ref_values, point_values]))
    time_axes(ax, low, high, factor, max_date_ticks=10)
    long_name = da.attrs.get("long_name", output)
    if total:
        ax.set_ylabel(f"{long_name}\n({unit})" if unit not in ("", "1") else long_name)
    else:
        ax.set_ylabel(f"{long_name}\n({unit}, mean over the {per_word})" if unit not in ("", "1") else long_name)
    if per == "month" and total:
        twin = ax.secondary_yaxis("right", functions=(lambda y: y * 12, lambda y: y / 12))
        twin.set_ylabel(f"x 12: {unit} per year at that month's rate")
        if ax.get_yscale() == "log":
            readable_log_axis(twin.yaxis, math.log10(high / low))
    ax.set_title(f"{long_name}: median, 50% and 90% intervals ({ds.attrs.get('samples', 0):,} samples)"
                 + ("\npublished figures converted to the same unit: markers (hollow: outside the model period), "
                    "bars for ranges" if refs else ""), fontsize="medium")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), frameon=False, fontsize="small", ncol=1)
    return fig, ax
