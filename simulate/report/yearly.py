"""Periods longer than two years, summarised per calendar year.

A period of more than :data:`MONTHS_FOR_YEARLY` months is summarised per year: each sample's monthly
draws are summed (outputs aggregated as a sum) or averaged over the days (as a mean) within each
calendar year, so the yearly median and 90% interval are quantiles of yearly totals, not sums of
monthly quantiles. ``results.nc`` keeps every month.
"""
from __future__ import annotations

import calendar

import numpy as np

from ..plots.labels import format_number, month_labels, percentile_of, unit_for_series

MONTHS_FOR_YEARLY = 24      # longer periods get yearly tables and a monthly fan chart


def is_long(ds) -> bool:
    return ds.sizes["month"] > MONTHS_FOR_YEARLY


def days_in(month: str) -> int:
    """Days in a "YYYY-MM" month."""
    y, m = (int(p) for p in month.split("-"))
    return calendar.monthrange(y, m)[1]


def years(ds) -> dict:
    """Year -> indices of its months in ``ds`` (only the months the period covers)."""
    out = {}
    for i, month in enumerate(month_labels(ds)):
        out.setdefault(int(month[:4]), []).append(i)
    return out


def headline_year(ds) -> int:
    """The year a long period's report headlines: its last full calendar year (else its last year)."""
    full = [year for year, months in years(ds).items() if len(months) == 12]
    return (full or list(years(ds)))[-1]


def yearly_draws(ds, output: str, aggregate: str, year_months) -> np.ndarray:
    """Per-sample yearly total (sum) or day-weighted mean (mean) of ``output`` over months ``year_months``."""
    draws = ds[f"{output}_monthly_samples"].values[:, year_months]
    if aggregate == "sum":
        return draws.sum(axis=1)
    labels = month_labels(ds)
    weights = np.array([days_in(labels[i]) for i in year_months], dtype=float)
    return draws @ (weights / weights.sum())


def year_label(ds, year, months) -> str:
    labels = month_labels(ds)
    if len(months) == 12:
        return str(year)
    return f"{year} ({labels[months[0]][5:]} to {labels[months[-1]][5:]})"


def yearly_results_rows(report) -> list:
    """Rows [year, quantity, median, 90% interval, unit] from the kept per-sample draws, in one unit per
    output across its years."""
    ds, model = report.ds, report.model
    rows = []
    for name, output in model.outputs.items():
        bands = []
        for year, months in years(ds).items():
            draws = yearly_draws(ds, name, output.aggregate, months)
            bands.append((year, months, np.quantile(draws[np.isfinite(draws)], [0.05, 0.5, 0.95])))
        factor, unit = unit_for_series([b[2][2] for b in bands], output.unit)
        what = output.long_name + (" (total over the year)" if output.aggregate == "sum" else " (mean over the year)")
        for year, months, (lo, mid, hi) in bands:
            rows.append([year_label(ds, year, months), what, format_number(mid / factor),
                         f"{format_number(lo / factor)} to {format_number(hi / factor)}", unit])
    return rows


def yearly_scenario_rows(report) -> list:
    """The monthly scenario rows summed per year, with the value's percentile among yearly totals."""
    ds = report.ds
    out = []
    for key in dict.fromkeys((r["scenario"], r["output"]) for r in report.scenario_rows):
        by_month = {r["month"]: r for r in report.scenario_rows if (r["scenario"], r["output"]) == key}
        for year, months in years(ds).items():
            labels = [month_labels(ds)[i] for i in months]
            if not all(m in by_month for m in labels):
                continue
            first = by_month[labels[0]]
            value = sum(by_month[m]["value"] for m in labels)
            if value == 0:      # the scenario pins the output to nothing that year (e.g. before its cohort ships)
                continue
            draws = yearly_draws(ds, first["output"], "sum", months)
            out.append({**first, "month": year_label(ds, year, months), "value": value,
                        "percentile": percentile_of(draws, value)})
    return out


def yearly_corner_rows(report) -> list:
    ds = report.ds
    out = []
    for output in dict.fromkeys(r["output"] for r in report.corner_rows):
        by_month = {r["month"]: r for r in report.corner_rows if r["output"] == output}
        for year, months in years(ds).items():
            labels = [month_labels(ds)[i] for i in months]
            if not all(m in by_month for m in labels):
                continue
            draws = yearly_draws(ds, output, "sum", months)
            low = sum(by_month[m]["corner_low"] for m in labels)
            high = sum(by_month[m]["corner_high"] for m in labels)
            p5, p95 = np.quantile(draws[np.isfinite(draws)], [0.05, 0.95])
            out.append({**by_month[labels[0]], "month": year_label(ds, year, months), "corner_low": low,
                        "corner_high": high, "p5": p5, "p95": p95, "corner_low_percentile": percentile_of(draws, low),
                        "corner_high_percentile": percentile_of(draws, high)})
    return out
