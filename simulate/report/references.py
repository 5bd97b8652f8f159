"""Report sections for published figures (``[[references]]``) and for per-item outputs.

A reference's percentile is read in the draws of the window it covers: a year's total for
``year`` references, a month's total (or mean) for ``month`` and ``date`` references (a daily
figure is scaled to the month's days).
"""
from __future__ import annotations

import numpy as np

from .. import plots
from ..plots.fan import converted
from ..plots.labels import month_labels, percentile_of
from .yearly import days_in, is_long, yearly_draws, years


def _percentile_text(p: float) -> str:
    return "above every draw" if p == 100 else "below every draw" if p == 0 else f"P{p:.1f}"


def reference_rows(report) -> list:
    """One dict per reference: the figure as published, converted, our band there and its percentile."""
    ds, model = report.ds, report.model
    labels = month_labels(ds)
    rows = []
    for r in model.references:
        output = model.outputs[r.output]
        row = {"reference": r, "band": None, "percentiles": None, "window": None}
        year_months = years(ds).get(r.start.year, [])
        if r.when.isdigit() and len(year_months) == 12:
            draws = yearly_draws(ds, r.output, output.aggregate, year_months)
            days = sum(days_in(labels[i]) for i in year_months)
            numbers = (r.total() if output.aggregate == "mean" or r.per == "year"
                       else tuple(v * days for v in r.per_day()))
            row["window"] = f"year {r.start.year} ({'total' if output.aggregate == 'sum' else 'mean'})"
        elif r.when[:7] in labels and (len(r.when) > 4):
            m = labels.index(r.when[:7])
            draws = ds[f"{r.output}_monthly_samples"].values[:, m]
            numbers = (tuple(v * days_in(labels[m]) for v in r.per_day()) if output.aggregate == "sum"
                       else r.total())
            row["window"] = f"month {labels[m]} ({'total' if output.aggregate == 'sum' else 'mean'})"
        elif output.aggregate == "mean":   # a level (per query, per item): read in the nearest month of the period
            m = 0 if r.end < report.model.period.start else len(labels) - 1
            if r.start <= report.model.period.end and r.end >= report.model.period.start:
                m = 0
            draws = ds[f"{r.output}_monthly_samples"].values[:, m]
            numbers = r.total()
            row["window"] = f"nearest month {labels[m]} (mean; the figure is dated {r.when})"
        else:
            rows.append(row)
            continue
        finite = draws[np.isfinite(draws)]
        row["band"] = tuple(np.quantile(finite, [0.05, 0.5, 0.95]))
        row["numbers"] = numbers
        row["percentiles"] = tuple(percentile_of(finite, v) for v in numbers)
        rows.append(row)
    return rows


def reference_blocks(report, si) -> list:
    """A "Published figures" section: what each covers (scope), converted, and where it falls in our draws."""
    model = report.model
    if not model.references:
        return []
    per = "month" if is_long(report.ds) else "day"
    out = [("h", 2, "Published figures beside our bands"),
           ("p", "Each figure is drawn on the fan chart in the plotted unit: a total per year as its average "
                 f"per {per} ({'annual total / 12' if per == 'month' else 'annual total / days in that year'}), a total "
                 "per month or day likewise; per-query figures as published. Read each figure with its scope: one that "
                 "covers more than this model (all data centres rather than AI alone, or another service) is not a "
                 "figure for this model's outputs. The percentile is the share of our per-sample draws over the same "
                 "window (the year's total for a yearly figure, the month's total or mean otherwise) at or below it.")]
    rows = []
    for row in reference_rows(report):
        r = row["reference"]
        unit = model.outputs[r.output].unit
        conv = "-".join(si(v, unit) for v in converted(r, per))
        if row["band"] is None:
            where, ours = "outside the model period (drawn, not compared)", "-"
        else:
            lo, mid, hi = row["band"]
            ours = f"{si(mid, unit)} [{si(lo, unit)} to {si(hi, unit)}]"
            where = " to ".join(_percentile_text(p) for p in row["percentiles"])
        window = "-" if row["band"] is None else (
            f"{row['window']}: " + " to ".join(si(v, unit) for v in row["numbers"]))
        drawn = f"{conv} per {per}" if model.outputs[r.output].aggregate == "sum" else conv
        rows.append([r.label, r.when, r.output, r.describe(), drawn, r.scope or "-",
                     window, ours, where, r.source])
    out.append(("table", ["figure", "when", "output", "as published", "as drawn", "scope", "compared as",
                          "our median [90%]", "its percentile in our draws", "source"], rows))
    for stem in [f"fan_{o}" for o in _fan_outputs(report)]:
        out.append(("figure", stem))
    by_scope = {}
    for r in model.references:
        by_scope.setdefault(r.scope or "no scope given", []).append(f"{r.label} ({r.when})")
    out.append(("p", "What the published figures cover: " + "; ".join(
        f"{scope}: {', '.join(labels)}" for scope, labels in by_scope.items()) + "."))
    return out


def _fan_outputs(report) -> list:
    """Outputs other than the headline that get their own fan chart for their references
    (not those already drawn on the per-item chart of a short period)."""
    items = set(item_outputs(report.model)) if not is_long(report.ds) else set()
    return [o for o in dict.fromkeys(r.output for r in report.model.references) if o != report.headline and o not in items]


def reference_figures(report, points_for=None) -> dict:
    """A fan chart for the headline (always, when called) and for every other output with references."""
    ds, model = report.ds, report.model
    per = "month" if is_long(ds) else "day"
    figures = {}
    outputs = [report.headline] + _fan_outputs(report)
    for output in outputs:
        points = points_for(output) if points_for is not None and per == "day" else ()
        fig, _ = plots.fan_chart(ds, output, model.references, per=per, points=points)
        what = "monthly totals" if per == "month" else "per day"
        figures[f"fan_{output}"] = (f"{output}, {what}: median, 50% and 90% intervals, with published figures "
                                    "converted to the same unit", fig)
    return figures


def item_outputs(model) -> list:
    """Outputs aggregated as a mean that share one unit with at least one other: per-item figures."""
    by_unit = {}
    for name, out in model.outputs.items():
        if out.aggregate == "mean":
            by_unit.setdefault(out.unit, []).append(name)
    return max((names for names in by_unit.values() if len(names) >= 2), key=len, default=[])


def item_blocks(report) -> list:
    """A "Per item" section when the model has several per-item outputs in one unit (e.g. Wh per image)."""
    if "per_item" not in report.figures:
        return []
    return [("h", 2, "Per item, beside everyday uses"),
            ("p", "Each row is an output that is a mean per item or per query (one unit, so they share an axis), with "
                  "its median and 50% and 90% intervals, published per-item figures as markers, and the electricity of "
                  "everyday uses as vertical lines (one minute of a 1,000 W microwave, one km on an e-bike, an hour of a "
                  "10 W LED bulb). Totals per day and month, including any everyday equivalents the model declares as "
                  "outputs, are in the results table above."),
            ("figure", "per_item")]
