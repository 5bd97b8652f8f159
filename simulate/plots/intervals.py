"""Interval rows: one row per quantity with its median, 50% and 90% intervals and the numbers beside
it, on one shared value axis. Per-item energies, CO2 by region, prior against posterior and the
results of a one-day model are all drawn this way.

A one-day model has no time to draw a band over, so :func:`interval_chart` is its chart: the
day's value as one row per output, with published figures and scenario values as markers just above
the row they belong to (never on top of our median).
"""
from __future__ import annotations

import numpy as np

from .axes import COLOURS, MARK_COLOUR, MARKERS, POINT_MARKERS, REFERENCE_COLOURS, new_axes, value_axis, variable
from .labels import day_words, format_number, month_words, scale_for, short_label

BANDS = (0.05, 0.25, 0.5, 0.75, 0.95)
MARKER_LIFT = 0.32           # published figures sit this far above their row (row spacing 1)


def quantiles_of(da, index: int = 0) -> np.ndarray:
    """The 5%, 25%, 50%, 75% and 95% quantiles of ``da`` at position ``index`` of its time dimension."""
    return np.array([float(da.sel(quantile=q).values.ravel()[index]) for q in BANDS])


def interval_rows(ax, rows, factor: float, unit: str, *, log=None, note_digits: int = 3):
    """Draw ``rows`` (top to bottom) on ``ax``: each a (label, five quantiles in the base unit[, colour]).

    Each row gets a thin 90% whisker, a thick 50% box, a white median dot, and "median [p5 to p95]
    unit" beside its whisker, every number in the axis unit. Returns whether the axis is logarithmic.
    """
    n = len(rows)
    y_of = {i: n - 1 - i for i in range(n)}
    low = min(float(r[1][0]) for r in rows) / factor
    high = max(float(r[1][-1]) for r in rows) / factor
    for i, row in enumerate(rows):
        q = np.asarray(row[1], dtype=float) / factor
        colour = row[2] if len(row) > 2 else COLOURS[0]
        y = y_of[i]
        ax.hlines(y, q[0], q[4], color=colour, lw=2.2, alpha=0.6, label="90% interval" if i == 0 else None)
        ax.hlines(y, q[1], q[3], color=colour, lw=9, alpha=0.85, label="50% interval" if i == 0 else None)
        ax.plot([q[2]], [y], "o", color="white", mec=MARK_COLOUR, mew=1.6, ms=7, zorder=5,
                label="median" if i == 0 else None)
        ax.annotate(f"{format_number(q[2], note_digits)} {unit}  [{format_number(q[0], note_digits)} to "
                    f"{format_number(q[4], note_digits)}]", (q[4], y), xytext=(6, 0), textcoords="offset points",
                    va="center", fontsize="small")
    ax.set_yticks([y_of[i] for i in range(n)], [r[0] for r in rows])
    ax.set_ylim(-0.7, n - 0.3)
    log = value_axis(ax, "x", low, high, log)
    lo, hi = ax.get_xlim()
    # room on the right for the numbers written beside the top whisker
    ax.set_xlim(lo, max(hi, high * 10) if log else max(hi, high * 1.5))
    ax.grid(True, axis="x", which="major", alpha=0.3)
    return log


def interval_chart(ds, outputs, references=(), points=(), colour=COLOURS[0]):
    """The results of a one-day (or one-month) model: one interval row per output, in one unit.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :meth:`simulate.Model.run`.
    outputs : str or list of str
        Outputs in one unit (e.g. ``"energy_kwh"``).
    references : iterable of Reference, optional
        Published figures; those of ``outputs`` are drawn above their row, converted to the axis unit
        (a figure per day or per month as the total over the model's day or month).
    points : iterable of (output, value, label), optional
        Scenario values in the output's unit, drawn above their row as black markers.

    Returns
    -------
    (Figure, Axes)
    """
    outputs = [outputs] if isinstance(outputs, str) else list(outputs)
    das = [variable(ds, f"{name}_monthly") for name in outputs]
    unit = das[0].attrs.get("units", "")
    rows = [(short_label(da, name), quantiles_of(da), colour) for name, da in zip(outputs, das)]
    days = ds.sizes["date"]
    refs = [r for r in references if r.output in outputs]
    marks = [(r.output, v, r) for r in refs for v in _over_period(r, days, das[outputs.index(r.output)])]
    values = [v for r in rows for v in r[1]] + [m[1] for m in marks] + [float(p[1]) for p in points]
    factor, label = scale_for([max(values)], unit)
    fig, ax = new_axes(None, (9, 1.9 + 0.75 * len(rows)))
    interval_rows(ax, rows, factor, label)
    lo, hi = ax.get_xlim()
    ax.set_xlim(min(lo, min(values) / factor / 1.3) if ax.get_xscale() == "log" else lo, hi)
    y_of = {name: len(outputs) - 1 - i for i, name in enumerate(outputs)}
    for i, (output, value, r) in enumerate(marks):
        ax.plot([value / factor], [y_of[output] + MARKER_LIFT], ls="none", marker=MARKERS[i % len(MARKERS)], ms=9,
                color=REFERENCE_COLOURS[i % len(REFERENCE_COLOURS)], zorder=6,
                label=f"{r.label}: {format_number(value / factor)} {label} (published as {r.describe()})")
    for i, (output, value, text) in enumerate(points):
        ax.plot([float(value) / factor], [y_of[output] + MARKER_LIFT], ls="none",
                marker=POINT_MARKERS[i % len(POINT_MARKERS)], ms=10, color=MARK_COLOUR, zorder=6,
                label=f"{text}: {format_number(float(value) / factor)} {label}")
    when = day_words(ds["date"].values[0]) if days == 1 else month_words(str(ds["month"].values[0])[:7])
    ax.set_xlabel(f"{rows[0][0] if len(rows) == 1 else 'value'} ({label}), {when}")
    ax.set_title(f"{when}{' (one day)' if days == 1 else ''}: median, 50% and 90% intervals "
                 f"({int(ds.attrs.get('samples', 0)):,} samples)", fontsize="medium")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), frameon=False, fontsize="small", ncols=2)
    return fig, ax


def _over_period(reference, days: int, da) -> tuple:
    """A published figure as a total over the model's days (sum outputs) or as published (means)."""
    if da.attrs.get("aggregate", "sum") != "sum":
        return reference.total()
    return tuple(v * days for v in reference.per_day())
