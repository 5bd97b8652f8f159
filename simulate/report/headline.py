"""The headline box a report opens with: the number to quote, where the main published figure falls
in our distribution (on its own boundary), what drives the spread, and the cross-checks.

The number to quote is ``[model] headline`` (else the first output), over the window the report is
about: the month of a one-month model, the day of a one-day model, the last full calendar year of a
long period (quantiles of yearly totals of the kept draws). ``[model] headline_figure`` names the
main published figure: a scenario (compared on its ``output``, the figure's own boundary) or a
reference label.
"""
from __future__ import annotations

import itertools

import numpy as np

from ..plots.labels import day_words, format_number, month_labels, month_words, percentile_text, unit_for_series
from .compute import monthly_quantile
from .yearly import headline_year, is_long, year_label, yearly_draws, years

MIN_DRIVER_INDEX = 0.1      # inputs named as drivers: Sobol total index at least this (at most three)


def when_words(report) -> str:
    """The headline's window in words: "in January 2023", "on 2 June 2025", "in 2028"."""
    ds = report.ds
    if is_long(ds):
        return f"in {headline_year(ds)}"
    if ds.sizes["date"] == 1:
        return f"on {day_words(ds['date'].values[0])}"
    return f"in {month_words(month_labels(ds)[0])}"


def window_values(report, output: str) -> tuple[float, float, float]:
    """(p5, median, p95) of ``output`` over the headline window: the Dataset's monthly quantiles, or for a
    long period the quantiles of the headline year's per-sample totals (or day-weighted means)."""
    ds = report.ds
    if is_long(ds):
        draws = yearly_draws(ds, output, report.model.outputs[output].aggregate, years(ds)[headline_year(ds)])
        lo, mid, hi = np.quantile(draws[np.isfinite(draws)], [0.05, 0.5, 0.95])
        return float(lo), float(mid), float(hi)
    return tuple(monthly_quantile(ds, output, q, 0) for q in (0.05, 0.5, 0.95))


def _numbers(values, unit: str) -> tuple[str, str, str, str]:
    factor, label = unit_for_series([values[-1]], unit)
    return tuple(format_number(v / factor) for v in values) + (label,)


def interval_text(values, unit: str) -> str:
    """ "4.79 GWh (90% interval: 1.18 to 19.4 GWh)" """
    lo, mid, hi, label = _numbers(values, unit)
    return f"{mid} {label} (90% interval: {lo} to {hi} {label})"


def answer(report) -> str:
    """The sentence to quote: the headline output's median and 90% interval over the headline window."""
    out = report.model.outputs[report.headline]
    name = out.long_name[:1].upper() + out.long_name[1:]
    return f"{name} {when_words(report)}: {interval_text(report.headline_values, out.unit)}."


def _figure_row(report, name):
    """The scenario row (on the scenario's own output) or reference row the headline figure is."""
    from .references import reference_rows
    from .yearly import yearly_scenario_rows

    model, ds = report.model, report.ds
    if name in model.scenarios:
        scenario = model.scenarios[name]
        output = scenario.output or report.headline
        rows = yearly_scenario_rows(report) if is_long(ds) else report.scenario_rows
        window = (year_label(ds, headline_year(ds), years(ds)[headline_year(ds)]) if is_long(ds)
                  else month_labels(ds)[0])
        found = [r for r in rows if r["scenario"] == name and r["output"] == output]
        return "scenario", scenario, ([r for r in found if r["month"] == window] or found[-1:] or [None])[0]
    row = next(r for r in reference_rows(report) if r["reference"].label == name)
    return "reference", row["reference"], row


def figure_sentence(report) -> str:
    """Where the main published figure falls in our distribution, on its own boundary ("" if none)."""
    model = report.model
    if not model.headline_figure:
        return ""
    kind, figure, row = _figure_row(report, model.headline_figure)
    if kind == "scenario":
        if row is None:
            return ""
        out = model.outputs[row["output"]]
        factor, label = unit_for_series([row["value"]], out.unit)
        p = row["percentile"]
        hedge = " (a hypothesis: not found in retrievable text)" if figure.status == "U" else ""
        boundary = "" if row["output"] == report.headline else f", compared on its own boundary ({out.short})"
        month = month_words(row["month"]) if len(str(row["month"])) == 7 else row["month"]
        return (f"{figure.short}{hedge}: {format_number(row['value'] / factor)} {label} for {month}"
                f"{boundary}, sits at {percentile_text(p)} of our draws: {100 - p:.1f}% of them lie above it.")
    out = model.outputs[figure.output]
    if row["band"] is None:
        return f"{figure.label} ({figure.describe()}) is dated outside the model's period, so it is not compared."
    factor, label = unit_for_series([max(row["numbers"])], out.unit)
    numbers = " to ".join(format_number(v / factor) for v in row["numbers"])
    where = " to ".join(percentile_text(p) for p in row["percentiles"])
    verb = "spans our" if figure.is_range else "sits at"
    scope = f" It covers {figure.scope}." if figure.scope else ""
    basis = (f" {figure.mismatch[:1].upper() + figure.mismatch[1:]}." if figure.mismatch else
             f" Compared on its own boundary ({figure.boundary})." if figure.boundary else "")
    return (f"{figure.label}: {figure.describe()}, i.e. {numbers} {label} over the {row['window']}, "
            f"{verb} {where} of our {out.short}.{basis}{scope}")


def _coordinate_titles(dimension) -> list:
    """A dimension's coordinates as a reader names them: their titles where the file gives them, else
    their names with spaces for underscores."""
    return [str(t) for t in dimension.titles] if dimension.titles else [str(c).replace("_", " ") for c in dimension.coords]


def group_label(model, group: str) -> str:
    """A sensitivity group's readable name: its parameter's long name; correlated groups ("a + b")
    as their shared words then the parts ("shipped in 2024, 2025 and 2026")."""
    long = {p.name: p.long_name for p in model.all_parameters()}
    for p in model.parameters.values():   # a parameter over dimensions: as one, and each coordinate
        long[f"{p.name}[*]"] = f"{p.long_name} (every {', '.join(d.replace('_', ' ') for d in p.dims)})"
        coords = itertools.product(*(_coordinate_titles(model.dimensions[d]) for d in p.dims))
        long.update({c.name: f"{p.long_name} ({', '.join(labels)})" for c, labels in zip(p.cells, coords)})
    long.update({s.name: s.long_name for s in model.shares.values()})
    parts = [long.get(g.strip(), g.strip()) for g in group.split(" + ")]
    if len(parts) == 1:
        return parts[0]
    words = [p.split() for p in parts]
    common = 0
    while all(len(w) > common and w[common] == words[0][common] for w in words):
        common += 1
    head = " ".join(words[0][:common])
    tails = [" ".join(w[common:]) for w in words]
    return f"{head} {', '.join(tails[:-1])} and {tails[-1]} (moving together)".strip()


def drivers_sentence(report) -> str:
    """The inputs that drive the headline's spread, from the Sobol total indices ("" without them)."""
    sobol = report.sensitivity.get("sobol")
    if sobol is None:
        return ""
    order = np.argsort(-sobol["total_order"].values, kind="stable")
    names = [str(sobol["parameter"].values[i]) for i in order]
    totals = [float(sobol["total_order"].values[i]) for i in order]
    chosen = [(n, t) for n, t in zip(names, totals) if t >= MIN_DRIVER_INDEX][:3] or list(zip(names, totals))[:1]
    listed = "; ".join(f"{group_label(report.model, n)}, {t:.2f}" for n, t in chosen)
    if report.ds.sizes["date"] == 1:
        when = when_words(report)
    else:
        when = f"in {month_words(sobol.attrs['month'])}"
    return (f"What drives the spread {when} (each input's Sobol total index: the share of the variance it explains "
            f"with its interactions): {listed}.")


def cross_checks(report) -> list:
    """The other answers, as cross-checks: the other paths, and the posterior of a calibrated model."""
    checks = []
    for output in report.compared[1:]:
        out = report.model.outputs[output]
        checks.append(f"{out.short[:1].upper() + out.short[1:]}: {interval_text(window_values(report, output), out.unit)}")
    cal = report.calibration
    if cal is not None and not is_long(report.ds) and f"{report.headline}_monthly" in cal:
        da = cal[f"{report.headline}_monthly"].sel(stage="posterior")
        values = tuple(float(da.sel(quantile=q).values[0]) for q in (0.05, 0.5, 0.95))
        if all(np.isfinite(values)):
            what = "both paths reconciled (posterior)" if report.model.reconcile is not None else "calibrated (posterior)"
            checks.append(f"{report.model.outputs[report.headline].short}, {what}: "
                          f"{interval_text(values, report.model.outputs[report.headline].unit)}")
    return checks


def headline_block(report) -> tuple:
    """("headline", dict) for :mod:`.render`: answer, figure, drivers, why, cross-checks."""
    return ("headline", {"answer": answer(report), "figure": figure_sentence(report),
                         "drivers": drivers_sentence(report), "why": report.model.headline_why,
                         "checks": cross_checks(report)})
