"""The fan chart: median, 50% and 90% bands over time, with published figures (``[[references]]``)
drawn at their dates in the plotted unit.

``per="day"`` plots the daily quantiles and turns each reference into an average per day (an annual
TWh total / days in that year). ``per="year"`` plots each month's total as an annual rate (the
month's total / its days x the days of its year), so February does not dip for having fewer days
and an annual published total is drawn as it is: this is how a multi-year projection is read.
``per="month"`` plots the monthly totals themselves (references as annual / 12).

A single figure is a filled marker at the middle of its year, month or day, with a thin line across
the window it covers; a low-high range is a vertical bar there and a shaded box over the window.
Figures dated outside the period are not drawn (the axis stays on the period) and are named in the
legend as such. Scenario values (``points``) are black markers. A one-day model has no time axis:
its chart is :func:`simulate.plots.intervals.interval_chart`.
"""
from __future__ import annotations

import calendar

import numpy as np
from matplotlib.lines import Line2D

from .axes import COLOURS, MARK_COLOUR, MARKERS, POINT_MARKERS, REFERENCE_COLOURS, new_axes, time_axes, variable
from .labels import format_number, scale_for, short_label

HOW = {("year", "day"): "annual total / days in the year", ("year", "month"): "annual total / 12",
       ("month", "day"): "monthly total / days in the month", ("month", "month"): "monthly total",
       ("day", "day"): "daily value", ("day", "month"): "daily value x days in the month", ("", "day"): "as published",
       ("", "month"): "as published", ("year", "year"): "annual total", ("month", "year"): "monthly total, annualised",
       ("day", "year"): "daily value x days in the year", ("", "year"): "as published"}
PER_WORDS = {"day": "per day", "month": "per month", "year": "per year"}


def _day(value) -> np.datetime64:
    return np.datetime64(value, "D")


def _days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def converted(reference, per: str) -> tuple[float, ...]:
    """The reference's numbers in the output's unit, per ``per`` ("day", "month" or "year")."""
    if per == "day":
        return reference.per_day()
    if per == "month":
        return reference.per_month()
    if reference.per == "year" or not reference.per:
        return reference.total()
    return tuple(v * _days_in_year(reference.middle.year) for v in reference.per_day())


def month_middles(ds) -> np.ndarray:
    """The middle of each month of ``ds`` (start + half its length) as datetime64[h]."""
    starts = ds["month"].values.astype("datetime64[M]")
    ends = starts + 1
    return starts.astype("datetime64[h]") + (ends.astype("datetime64[h]") - starts.astype("datetime64[h]")) // 2


def annual_rate_factors(ds) -> np.ndarray:
    """Per month: days in its year / days in the month (a monthly total times this is an annual rate)."""
    out = []
    for m in ds["month"].values.astype("datetime64[M]"):
        year, month = (int(p) for p in str(m).split("-"))
        out.append(_days_in_year(year) / calendar.monthrange(year, month)[1])
    return np.array(out)


def fan_chart(ds, output: str = "energy_kwh", references=(), per: str = "day", points=(), colour=COLOURS[0],
              ax=None, log=None):
    """Median, 50% and 90% bands of ``output`` per day, per month or as an annual rate, with
    published figures on them.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :meth:`simulate.Model.run`.
    output : str
        An output name, e.g. ``"energy_kwh"``.
    references : iterable of :class:`simulate.spec.references.Reference`, optional
        Published figures (``model.references``); those of ``output`` are converted to the plotted
        unit and window and drawn as markers (a range as a bar).
    per : {"day", "month", "year"}
        Plot daily values, monthly totals (or means), or monthly totals as annual rates.
    points : iterable of (date, value, label), optional
        Extra markers already in the output's unit per ``per`` (scenario values).
    ax : matplotlib Axes, optional
        Draw here instead of on a new figure.
    log : bool, optional
        Force a log (True) or linear (False) value axis; default: log when the values span decades.

    Returns
    -------
    (Figure, Axes)
    """
    if per == "day" and ds.sizes["date"] == 1 and ax is None:
        from .intervals import interval_chart

        return interval_chart(ds, output, references,
                              points=[(output, value, label) for _, value, label in points])
    da = variable(ds, f"{output}_{'daily' if per == 'day' else 'monthly'}")
    total = da.attrs.get("aggregate", "sum") == "sum"    # a total per day or month, else a mean (per query)
    x = ds["date"].values.astype("datetime64[h]") + np.timedelta64(12, "h") if per == "day" else month_middles(ds)
    scale = annual_rate_factors(ds) if per == "year" and total else 1.0
    q = {k: da.sel(quantile=k).values * scale for k in (0.05, 0.25, 0.5, 0.75, 0.95)}
    first, last = _day(ds["date"].values[0]), _day(ds["date"].values[-1])
    refs = [r for r in references if r.output == output]
    inside = [r for r in refs if not (_day(r.end) < first or _day(r.start) > last)]
    outside = [r for r in refs if r not in inside]
    ref_values = [v for r in inside for v in converted(r, per)]
    point_values = [float(p[1]) for p in points]
    factor, unit = scale_for([np.nanmax(q[0.95])] + ref_values + point_values, da.attrs.get("units", ""))
    if len(x) == 1:  # one month: a box one step wide rather than an invisible line
        half = np.timedelta64(15 * 24, "h")
        x = np.array([x[0] - half, x[0] + half])
        q = {k: np.repeat(v, 2) for k, v in q.items()}

    fig, ax = new_axes(ax, (10, 5.6 + 0.18 * len(refs)))
    ax.fill_between(x, q[0.05] / factor, q[0.95] / factor, color=colour, alpha=0.2, lw=0, label="90% interval")
    ax.fill_between(x, q[0.25] / factor, q[0.75] / factor, color=colour, alpha=0.45, lw=0, label="50% interval")
    ax.plot(x, q[0.5] / factor, color=colour, lw=2, label="median")
    for i, (d, value, label) in enumerate(points):
        ax.plot([np.datetime64(d, "h")], [value / factor], ls="none", marker=POINT_MARKERS[i % len(POINT_MARKERS)],
                ms=11, color=MARK_COLOUR, label=str(label), zorder=5)
    per_words = PER_WORDS[per] if total else f"mean over the {per}"
    for i, r in enumerate(inside):
        c, marker = REFERENCE_COLOURS[i % len(REFERENCE_COLOURS)], MARKERS[i % len(MARKERS)]
        mid = _day(r.middle).astype("datetime64[h]") + np.timedelta64(12, "h")
        start, end = _day(r.start), _day(r.end) + 1
        values = [v / factor for v in converted(r, per)]
        shown = "-".join(format_number(v) for v in values)
        same = r.unit == unit and (r.per == per or not r.per)
        label = (f"{r.label}: {shown} {unit}{' ' + per_words if total else ''}"
                 + ("" if same else f" (published as {r.describe()}; {HOW[(r.per, per)]})"))
        if r.is_range:
            ax.fill_between([start, end], [values[0]] * 2, [values[1]] * 2, color=c, alpha=0.12, lw=0)
            ax.vlines(mid, values[0], values[1], color=c, lw=3, label=label, zorder=4)
            ax.plot([mid, mid], values, ls="none", marker="_", ms=14, mew=3, color=c, zorder=4)
        else:
            if (r.end - r.start).days > 0:
                ax.hlines(values[0], start, end, color=c, lw=1.2, ls="--", zorder=3)
            ax.plot([mid], values, ls="none", marker=marker, ms=9, color=c, mec="white", mew=0.8, label=label,
                    zorder=4)
    for r in outside:    # named, not drawn: the time axis stays on the model's period
        ax.add_line(Line2D([], [], ls="none", label=f"not drawn, dated outside the period: {r.label} "
                                                   f"(published as {r.describe()})"))
    ax.set_xlim(x[0] - (np.timedelta64(12, "h") if per == "day" else np.timedelta64(15 * 24, "h")),
                x[-1] + (np.timedelta64(11, "h") if per == "day" else np.timedelta64(15 * 24, "h")))
    low = np.nanmin(np.concatenate([q[0.05], ref_values, point_values]))
    high = np.nanmax(np.concatenate([q[0.95], ref_values, point_values]))
    time_axes(ax, low, high, factor, max_date_ticks=10, log=log)
    name = short_label(da, output)
    rate = {"day": "per day", "month": "per month", "year": "per year, at each month's rate"}[per]
    if unit in ("", "1"):
        ax.set_ylabel(name)
    elif total:
        ax.set_ylabel(f"{name}\n({unit} {rate})")
    else:
        ax.set_ylabel(f"{name}\n({unit}, mean over the {per})")
    ax.set_title(f"{name}: median, 50% and 90% intervals ({int(ds.attrs.get('samples', 0)):,} samples)",
                 fontsize="medium")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), frameon=False, fontsize="small",
              ncols=1 if refs else 3)
    return fig, ax
