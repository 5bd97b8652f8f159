"""Report sections for published figures (``[[references]]``) and for per-item outputs.

A reference's percentile is read in the draws of the window it covers: a year's total for
``year`` references, a month's total (or mean) for ``month`` and ``date`` references. A figure per
day or per month is scaled to the days the model covers in that month, so on a one-day model a
daily figure is compared with that day's value.
"""
from __future__ import annotations

import numpy as np

from .. import plots
from ..plots.labels import format_number, month_labels, percentile_of, percentile_text, unit_for_series
from .yearly import days_in, is_long, yearly_draws, years


def days_covered(ds, m: int) -> int:
    """The days of month ``m`` that the model's period covers (all of them, except at its ends)."""
    month = ds["month"].values[m].astype("datetime64[M]")
    return int(np.count_nonzero(ds["date"].values.astype("datetime64[M]") == month))


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
            days = days_covered(ds, m)
            numbers = (tuple(v * days for v in r.per_day()) if output.aggregate == "sum" else r.total())
            what = "total" if output.aggregate == "sum" else "mean"
            row["window"] = (f"day {str(ds['date'].values[0])[:10]} ({what})" if ds.sizes["date"] == 1
                             else f"{'month ' + labels[m] if days == days_in(labels[m]) else f'{days} days of ' + labels[m]}"
                                  f" ({what})")
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
    per = fan_per(report.ds)
    how = {"year": "a total per year as it is, and our monthly totals as annual rates (the month's total / its "
                   "days x the days of its year)",
           "day": "a total per year as its average per day (annual total / days in that year), a total per month "
                  "likewise"}[per]
    out = [("h", 2, "Published figures beside our bands"),
           ("p", f"Each figure is drawn on the chart in the plotted unit: {how}; per-item figures as published. "
                 "Read each figure with its scope: one that covers more than this model (all data centres rather "
                 "than AI alone, or another service) is not a figure for this model's outputs. The percentile is the "
                 "share of our per-sample draws over the same window (the year's total for a yearly figure, the "
                 "month's or day's total or mean otherwise) at or below it.")]
    rows = []
    for row in reference_rows(report):
        r = row["reference"]
        out_spec = model.outputs[r.output]
        unit = out_spec.unit
        if row["band"] is None:
            where, ours, window = "outside the model period (not drawn, not compared)", "-", "-"
        else:
            factor, label = unit_for_series(list(row["band"]) + list(row["numbers"]), unit)
            lo, mid, hi = (format_number(v / factor) for v in row["band"])
            ours = f"{mid} {label} [{lo} to {hi}]"
            where = " to ".join(percentile_text(p) for p in row["percentiles"])
            window = f"{row['window']}: " + " to ".join(format_number(v / factor) for v in row["numbers"]) + f" {label}"
        rows.append([r.label, r.when, out_spec.short, basis_text(model, r), r.describe(), r.scope or "-", window, ours,
                     where, r.source])
    out.append(("table", ["figure", "when", "our output", "boundary and basis", "as published", "scope", "compared as",
                          "our median [90%]", "its percentile in our draws", "source"], rows))
    for stem in [f"fan_{o}" for o in _fan_outputs(report)]:
        out.append(("figure", stem))
    by_scope = {}
    for r in model.references:
        by_scope.setdefault(r.scope or "no scope given", []).append(f"{r.label} ({r.when})")
    out.append(("p", "What the published figures cover: " + "; ".join(
        f"{scope}: {', '.join(labels)}" for scope, labels in by_scope.items()) + "."))
    return out


def boundary_words(boundary: str) -> str:
    """"IT boundary", "facility boundary", "accelerator boundary", or "" when none is declared."""
    return f"{'IT' if boundary == 'it' else boundary} boundary" if boundary else ""


def basis_text(model, r) -> str:
    """How a figure's boundary and carbon basis meet our output's: like for like, not stated, or no match."""
    out = model.outputs[r.output]
    if r.mismatch:
        return r.mismatch[:1].upper() + r.mismatch[1:]
    said = [boundary_words(r.boundary), r.accounting]
    said = ", ".join(w for w in said if w)
    if said:
        moved = f" (the file names {model.outputs[r.named].short})" if r.named and r.named != r.output else ""
        return f"{said}: like for like{moved}"
    ours = ", ".join(w for w in (boundary_words(out.boundary), out.accounting) if w)
    return f"not stated by the source; ours: {ours}" if ours else "not stated by the source"


def _fan_outputs(report) -> list:
    """Outputs other than the headline that get their own fan chart for their references
    (not those already drawn on the per-item chart of a short period)."""
    items = set(item_outputs(report.model)) if not is_long(report.ds) else set()
    return [o for o in dict.fromkeys(r.output for r in report.model.references) if o != report.headline and o not in items]


def reference_figures(report, points_for=None) -> dict:
    """A fan chart for the headline (always, when called) and for every other output with references."""
    ds, model = report.ds, report.model
    per = fan_per(ds)
    figures = {}
    outputs = [report.headline] + _fan_outputs(report)
    for output in outputs:
        points = points_for(output) if points_for is not None and per == "day" else ()
        fig, _ = plots.fan_chart(ds, output, model.references, per=per, points=points)
        what = ("as an annual rate, month by month" if per == "year" else
                "for the day" if ds.sizes["date"] == 1 else "per day")
        figures[f"fan_{output}"] = (f"{model.outputs[output].short}, {what}: median, 50% and 90% intervals, with "
                                    "published figures converted to the same unit", fig)
    return figures


def fan_per(ds) -> str:
    """How a report's fan chart reads time: annual rates for a long period, else per day."""
    return "year" if is_long(ds) else "day"


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
                  "its median and 50% and 90% intervals, and published per-item figures as markers just above its row, "
                  "converted to the axis unit. Totals, including any everyday equivalents the model declares as "
                  "outputs, are in the results table above."),
            ("figure", "per_item")]
