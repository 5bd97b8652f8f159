"""Uncertainty-band figures from a results Dataset (matplotlib).

Every function takes the Dataset from :meth:`simulate.Model.run` and returns ``(Figure, Axes)``
(``Axes`` is an array when the figure has several panels), so scripts can restyle and save it.
Labels and units come from the Dataset's attrs; magnitudes get SI prefixes (MWh, GWh; t, kt) via
:func:`simulate.units.scale_for`; value axes are logarithmic when the values span more than
:data:`DECADES_FOR_LOG` decades. Functions that need per-sample draws (the ratio of two paths)
say so: run the model with ``keep=N``.
"""
from __future__ import annotations

import math
import re

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from .errors import ModelError
from .units import format_number, scale_for

DECADES_FOR_LOG = 1.5       # a value axis becomes logarithmic when max/min exceeds 10**1.5 (about 32x)
COLOURS = ("#2b6ca3", "#d9822b", "#3a8f5c", "#8e5ea2", "#b8443a", "#6b6b6b", "#c2a32c", "#4fa3a5")
MARK_STYLES = ("--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 1)), (0, (8, 2)))
MARK_COLOUR = "#222222"


# -- helpers ----------------------------------------------------------------------------------------
def _variable(ds, name):
    if name not in ds:
        outputs = sorted(v[: -len("_monthly")] for v in ds.data_vars if v.endswith("_monthly"))
        raise ModelError("is not in the results Dataset", field="output", value=name.rsplit("_", 1)[0],
                         fix=f"use one of {outputs}")
    return ds[name]


def _month_index(ds, month) -> int:
    months = [str(np.datetime64(m, "M")) for m in ds["month"].values]
    if month is None:
        return 0
    if isinstance(month, (int, np.integer)):
        if -len(months) <= month < len(months):
            return int(month) % len(months)
    elif str(month) in months:
        return months.index(str(month))
    raise ModelError("is not a month of the results", field="month", value=month,
                     fix=f"use an index or one of {months[0]}..{months[-1]}")


def _month_label(ds, m) -> str:
    return str(np.datetime64(ds["month"].values[m], "M"))


def spans_decades(low, high) -> bool:
    """True when positive values from ``low`` to ``high`` are best read on a log axis."""
    return low > 0 and high > 0 and math.log10(high / low) > DECADES_FOR_LOG


def time_axes(ax, low, high, factor, max_date_ticks: int = 9):
    """Fan-chart axes: a log value axis when ``low``..``high`` (unscaled) spans decades, else from
    zero; concise date ticks."""
    if spans_decades(low, high):
        ax.set_yscale("log")
        _readable_log_axis(ax.yaxis, math.log10(high / low))
    elif low >= 0:
        ax.set_ylim(bottom=0, top=high / factor * 1.08)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=max_date_ticks)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _readable_log_axis(axis, decades: float = 2.0):
    """Ticks at 1, 2, 5 x 10^k (only 10^k beyond 3 decades), printed as plain numbers (0.5, 2, 20)."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades <= 3 else (1.0,)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: format_number(v, 2)))
    axis.set_minor_formatter(NullFormatter())


def _unit_label(da, unit) -> str:
    return f"{da.attrs.get('long_name', da.name)} ({unit})" if unit not in ("", "1") else da.attrs.get("long_name", da.name)


def _si(value, da) -> str:
    """``value`` (in ``da``'s units) with its own SI prefix: 317 kg, 40.2 t, 1.77 kt."""
    factor, unit = scale_for([value], da.attrs.get("units", ""))
    return f"{format_number(value / factor)} {unit}"


def _marks(marks):
    """``marks`` as a list of (label, value, colour): a dict, or pairs, or (label, value, colour) triples."""
    if marks is None:
        return []
    items = marks.items() if isinstance(marks, dict) else marks
    return [(str(m[0]), float(m[1]), m[2] if len(m) > 2 else MARK_COLOUR) for m in items]


def _samples(ds, output, m):
    name = f"{output}_monthly_samples"
    if name not in ds:
        return None
    values = ds[name].values[:, m]
    return values[np.isfinite(values)]


def _need_samples(ds, output, m, what):
    values = _samples(ds, output, m)
    if values is None or values.size == 0:
        raise ModelError(f"{what} needs per-sample monthly draws of {output}", field="Dataset",
                         value=f"{output}_monthly_samples",
                         fix="run the model with keep=N (e.g. model.run(samples, seed, keep=100_000))")
    return values


# -- fan chart ---------------------------------------------------------------------------------------
def fan_chart(ds, output: str = "energy_kwh", published=None, ax=None, colour=COLOURS[0]):
    """Median line with 50% and 90% bands of the daily ``output`` over time.

    ``published`` is an optional iterable of ``(date, value, label)`` in the output's units (per day),
    drawn as markers. A one-day Dataset is drawn as a box one day wide.
    """
    da = _variable(ds, f"{output}_daily")
    dates = ds["date"].values
    q = {k: da.sel(quantile=k).values for k in (0.05, 0.25, 0.5, 0.75, 0.95)}
    points = [(np.datetime64(d, "ns"), float(v), str(label)) for d, v, label in (published or [])]
    factor, unit = scale_for([np.nanmax(q[0.95])] + [p[1] for p in points], da.attrs.get("units", ""))
    x = dates
    if len(dates) == 1:  # one day: a box one day wide rather than an invisible line
        half = np.timedelta64(12, "h")
        x = np.array([dates[0] - half, dates[0] + half])
        q = {k: np.repeat(v, 2) for k, v in q.items()}
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 4.8), layout="constrained")
    else:
        fig = ax.figure
    ax.fill_between(x, q[0.05] / factor, q[0.95] / factor, color=colour, alpha=0.15, lw=0, label="90% interval")
    ax.fill_between(x, q[0.25] / factor, q[0.75] / factor, color=colour, alpha=0.32, lw=0, label="50% interval")
    ax.plot(x, q[0.5] / factor, color=colour, lw=2.2, label="median", zorder=3)
    for i, (d, value, label) in enumerate(points):
        ax.plot([d], [value / factor], ls="none", marker="oDs^v<>"[i % 7], ms=8, mfc="white", mec=MARK_COLOUR,
                mew=1.6, label=label, zorder=4)
    low = np.nanmin(np.concatenate([q[0.05], [p[1] for p in points]]))
    high = np.nanmax(np.concatenate([q[0.95], [p[1] for p in points]]))
    time_axes(ax, low, high, factor)
    ax.set_ylabel(_unit_label(da, unit))
    ax.set_title(f"{da.attrs.get('long_name', output)}\nmedian, 50% and 90% intervals ({ds.attrs.get('samples', 0):,} samples)",
                 fontsize="medium")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize="small")
    return fig, ax


# -- distribution of a monthly total ----------------------------------------------------------------
def distribution(ds, output: str = "energy_kwh", month=None, marks=None, colour=COLOURS[0]):
    """Density (top) and CDF (bottom) of the monthly ``output``, with ``marks`` as labelled lines.

    From per-sample draws when the Dataset has ``OUTPUT_monthly_samples`` (``run(..., keep=N)``),
    else from the quantiles alone. ``marks`` maps a label to a value in the output's units (published
    figures, scenario corners; triples add a colour); each legend entry gives the value and, with draws, its percentile.
    """
    m = _month_index(ds, month)
    da = _variable(ds, f"{output}_monthly")
    quantiles = ds["quantile"].values
    qv = da.values[:, m]
    draws = _samples(ds, output, m)
    marks = _marks(marks)
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
        _readable_log_axis(ax_cdf.xaxis, math.log10(hi_edge / lo_edge))
    ax_cdf.set_xlim(lo_edge / factor, hi_edge / factor)
    ax_cdf.set_ylim(0, 1)
    ax_pdf.set_ylim(bottom=0)
    ax_pdf.set_ylabel("density per decade" if log else f"density per {unit}")
    ax_cdf.set_ylabel("cumulative probability")
    ax_cdf.set_xlabel(_unit_label(da, unit) + ", " + _month_label(ds, m))
    ax_pdf.set_title(f"{da.attrs.get('long_name', output)}, {_month_label(ds, m)} ({source})", fontsize="medium")
    ax_pdf.legend(loc="upper right" if not log else "upper left", fontsize="small", framealpha=0.9)
    ax_cdf.legend(loc="lower right", fontsize="small", framealpha=0.9)
    for axis in (ax_pdf, ax_cdf):
        axis.grid(True, which="major", alpha=0.3)
    return fig, np.array([ax_pdf, ax_cdf])


def percentile_of(draws, value) -> float:
    """The percentile (0-100) of ``value`` in ``draws``: the share of draws at or below it."""
    draws = np.asarray(draws)
    return 100.0 * np.count_nonzero(draws <= value) / draws.size


# -- both paths ---------------------------------------------------------------------------------------
def paths(ds, outputs=("energy_kwh", "fleet_energy_kwh"), month=None, labels=None):
    """The monthly distributions of two outputs side by side (left) and of their ratio (right).

    The ratio ``outputs[1] / outputs[0]`` is taken sample by sample, so it needs per-sample monthly
    draws of both (``run(..., keep=N)``); both outputs must share a unit.
    """
    m = _month_index(ds, month)
    das = [_variable(ds, f"{name}_monthly") for name in outputs]
    units = {da.attrs.get("units", "") for da in das}
    if len(units) != 1:
        raise ModelError("the two outputs have different units", field="outputs", value=list(outputs),
                         fix="compare two outputs with the same unit (e.g. energy_kwh and fleet_energy_kwh)")
    a, b = (_need_samples(ds, name, m, "the ratio of two paths") for name in outputs)
    n = min(a.size, b.size)
    ratio = b[:n] / a[:n]
    ratio = ratio[np.isfinite(ratio) & (ratio > 0)]
    labels = list(labels or [da.attrs.get("long_name", name).split(",")[1].strip() if "," in da.attrs.get("long_name", "")
                              else name for da, name in zip(das, outputs)])
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
    if spans_decades(low, high):
        ax_box.set_yscale("log")
        _readable_log_axis(ax_box.yaxis, math.log10(high / low))
    else:
        ax_box.set_ylim(0, high / factor * 1.1)
    long = das[0].attrs.get("long_name", outputs[0]).split(",")[0]
    ax_box.set_ylabel(f"{long}, {_month_label(ds, m)} ({unit})")
    ax_box.set_title("median, 50% and 90% intervals", fontsize="medium")
    ax_box.legend(loc="upper left", fontsize="small", framealpha=0.9)
    ax_box.grid(True, axis="y", alpha=0.3)

    r5, r50, r95 = np.quantile(ratio, [0.05, 0.5, 0.95])
    r_lo, r_hi = np.quantile(ratio, [0.001, 0.999])
    log = spans_decades(r_lo, r_hi) or r_lo > 0
    edges = np.geomspace(r_lo, r_hi, 80)
    counts, _ = np.histogram(ratio, bins=edges)
    ax_ratio.stairs(counts / ratio.size / np.diff(np.log10(edges)), edges, fill=True, color=COLOURS[2], alpha=0.55,
                    label=f"{ratio.size:,} paired draws")
    ax_ratio.axvspan(r5, r95, color="#777777", alpha=0.08, lw=0, label=f"90% interval [{format_number(r5, 2)}, {format_number(r95, 2)}]")
    ax_ratio.axvline(r50, color=COLOURS[2], lw=1.8, label=f"median {format_number(r50, 2)}")
    ax_ratio.axvline(1.0, color=MARK_COLOUR, lw=1.2, ls="--", label=f"equal; P(ratio > 1) = {np.mean(ratio > 1):.2f}")
    if log:
        ax_ratio.set_xscale("log")
        _readable_log_axis(ax_ratio.xaxis, math.log10(r_hi / r_lo))
    ax_ratio.set_xlim(min(r_lo, 0.9), max(r_hi, 1.1))
    ax_ratio.set_ylim(bottom=0)
    ax_ratio.set_xlabel(f"{labels[1]} / {labels[0]} (same draws)")
    ax_ratio.set_ylabel("density per decade")
    ax_ratio.set_title("ratio of the two paths, sample by sample", fontsize="medium")
    ax_ratio.legend(loc="upper right", fontsize="small", framealpha=0.9)
    ax_ratio.grid(True, alpha=0.3)
    return fig, np.array([ax_box, ax_ratio])


# -- CO2 by region -------------------------------------------------------------------------------------
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
    """
    regions = regions or region_outputs(ds, output)
    if not regions:
        raise ModelError("has no per-region outputs in the results", field="output", value=output,
                         fix=f"declare outputs such as {output.rpartition('_')[0]}_REGION_{output.rpartition('_')[2]} "
                             "= energy_kwh * share_REGION * grid_REGION_g_per_kwh / 1000")
    total = _variable(ds, f"{output}_monthly")
    quantiles = list(ds["quantile"].values)
    qi = [quantiles.index(k) for k in (0.05, 0.5, 0.95)]
    values = {r: _variable(ds, f"{name}_monthly").values[qi] for r, name in regions.items()}
    factor, unit = scale_for([total.values[qi[2]].max()] + [v[2].max() for v in values.values()],
                             total.attrs.get("units", ""))
    label = total.attrs.get("long_name", output).split(",")[0]
    n_months = ds.sizes["month"]
    if n_months == 1:
        qi4 = [quantiles.index(k) for k in (0.05, 0.25, 0.5, 0.75, 0.95)]
        rows_q = {r: _variable(ds, f"{name}_monthly").values[qi4, 0] for r, name in regions.items()}
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
            text = f"{_si(rows_q[r][2], total)} [{_si(rows_q[r][0], total)}, {_si(rows_q[r][4], total)}]"
            ax.annotate(text, (q95, y), xytext=(6, 0), textcoords="offset points", va="center", fontsize="small")
        ax.set_yticks(range(len(rows)), rows)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        if log:
            ax.set_xscale("log")
            _readable_log_axis(ax.xaxis, math.log10(high / low) + 1.2)
            ax.set_xlim(low / factor / 1.5, high / factor * 12)
        else:
            ax.set_xlim(0, high / factor * 1.45)
        ax.set_xlabel(f"{label}, {_month_label(ds, 0)} ({unit})")
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
