"""Shared figure style and helpers: colours, log axes that read as plain numbers, date axes, and
reading variables and per-sample draws from a results Dataset."""
from __future__ import annotations

import math

import matplotlib.dates as mdates
import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from ..errors import ModelError
from .labels import format_number, month_labels

DECADES_FOR_LOG = 1.5       # a value axis becomes logarithmic when max/min exceeds 10**1.5 (about 32x)
COLOURS = ("#2b6ca3", "#d9822b", "#3a8f5c", "#8e5ea2", "#b8443a", "#6b6b6b", "#c2a32c", "#4fa3a5")
MARK_STYLES = ("--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 1)), (0, (8, 2)))
MARK_COLOUR = "#222222"
REFERENCE_COLOURS = ("#b8443a", "#8e5ea2", "#3a8f5c", "#c2a32c", "#4fa3a5", "#d9822b", "#6b6b6b")
MARKERS = "oDs^v<>p"        # published figures: filled, coloured
POINT_MARKERS = "*XPh"      # scenario values: filled, black


def variable(ds, name):
    """``ds[name]``, or a ModelError listing the outputs the Dataset has."""
    if name not in ds:
        outputs = sorted(v[: -len("_monthly")] for v in ds.data_vars if v.endswith("_monthly"))
        raise ModelError("is not in the results Dataset", field="output", value=name.rsplit("_", 1)[0],
                         fix=f"use one of {outputs}")
    return ds[name]


def month_index(ds, month) -> int:
    """The index of ``month`` (an index, or "YYYY-MM"; None: the first) in the Dataset's months."""
    months = month_labels(ds)
    if month is None:
        return 0
    if isinstance(month, (int, np.integer)):
        if -len(months) <= month < len(months):
            return int(month) % len(months)
    elif str(month) in months:
        return months.index(str(month))
    raise ModelError("is not a month of the results", field="month", value=month,
                     fix=f"use an index or one of {months[0]}..{months[-1]}")


def monthly_draws(ds, output, m):
    """The finite per-sample draws of ``output`` in month ``m``, or None without ``keep=N``."""
    name = f"{output}_monthly_samples"
    if name not in ds:
        return None
    values = ds[name].values[:, m]
    return values[np.isfinite(values)]


def need_monthly_draws(ds, output, m, what):
    values = monthly_draws(ds, output, m)
    if values is None or values.size == 0:
        raise ModelError(f"{what} needs per-sample monthly draws of {output}", field="Dataset",
                         value=f"{output}_monthly_samples",
                         fix="run the model with keep=N (e.g. model.run(samples, seed, keep=100_000))")
    return values


def spans_decades(low, high) -> bool:
    """True when positive values from ``low`` to ``high`` are best read on a log axis."""
    return low > 0 and high > 0 and math.log10(high / low) > DECADES_FOR_LOG


def time_axes(ax, low, high, factor, max_date_ticks: int = 9, log=None):
    """Fan-chart axes: a log value axis when ``low``..``high`` (unscaled) spans decades (or ``log``),
    else from zero; date ticks that name the period once (no offset text)."""
    value_axis(ax, "y", low / factor, high / factor, log)
    start, end = (mdates.num2date(v) for v in ax.get_xlim())
    if (end - start).days <= 62:     # one or two months: day-of-month ticks, the month named below
        ax.xaxis.set_major_locator(mdates.DayLocator(bymonthday=(1, 8, 15, 22, 29)))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%-d %b"))
    else:
        locator = mdates.AutoDateLocator(minticks=3, maxticks=max_date_ticks)
        formatter = mdates.ConciseDateFormatter(locator, show_offset=False)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(formatter)


def nice_log_limits(low: float, high: float) -> tuple[float, float]:
    """The 1-2-5 x 10^k steps just below ``low`` and just above ``high``: a log axis whose ends are ticks,
    so the top of a band is never above the last labelled tick."""
    def step(value, up):
        k = math.floor(math.log10(value))
        for m in ((1, 2, 5, 10) if up else (10, 5, 2, 1)):
            v = m * 10.0 ** k
            if (v >= value * (1 - 1e-12)) if up else (v <= value * (1 + 1e-12)):
                return v
        return 10.0 ** (k + 1) if up else 10.0 ** k
    return step(low, False), step(high, True)


def value_axis(ax, which: str, low: float, high: float, log=None) -> bool:
    """The ``which`` ("x" or "y") value axis of ``ax`` over ``low``..``high`` (in the plotted unit):
    logarithmic with ticks at both ends when the values span decades (or when ``log`` says so), else
    linear from zero. Returns whether it is logarithmic."""
    log = spans_decades(low, high) if log is None else bool(log and low > 0)
    axis, set_scale, set_lim = ((ax.yaxis, ax.set_yscale, ax.set_ylim) if which == "y"
                                else (ax.xaxis, ax.set_xscale, ax.set_xlim))
    if log:
        set_scale("log")
        lo, hi = nice_log_limits(low, high)
        if math.log10(hi / lo) > 3:     # ticks only at powers of ten there: end on powers of ten
            lo, hi = 10.0 ** math.floor(math.log10(lo) + 1e-9), 10.0 ** math.ceil(math.log10(hi) - 1e-9)
        set_lim(lo, hi)
        readable_log_axis(axis, math.log10(hi / lo))
    elif low >= 0:
        set_lim(0, high * 1.08)
    return log


def readable_log_axis(axis, decades: float = 2.0):
    """Ticks at 1, 2, 5 x 10^k (only 10^k beyond 3 decades), printed as plain numbers (0.5, 2, 20)."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades <= 3 else (1.0,)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: format_number(v, 2)))
    axis.set_minor_formatter(NullFormatter())


def new_axes(ax, size):
    """``(Figure, Axes)``: ``ax`` and its figure, or a new constrained-layout figure of ``size``."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=size, layout="constrained")
        return fig, ax
    return ax.figure, ax
