"""The report as a list of blocks, in reading order: ("h", level, text), ("p", text),
("table", header, rows), ("figure", stem), ("headline", dict). :mod:`.render` turns them into
Markdown and HTML; the page opens with the headline box.

Readers meet the model's long names, labels and scenario labels; internal names (``energy_kwh``,
``ludvigsen_high``) appear only in the last section, the variables table for scripts.
"""
from __future__ import annotations

import json

import numpy as np

from ..plots.labels import day_words, format_number, month_labels, month_words, percentile_text, unit_for_series
from .compute import KEEP_MAX, Report, monthly_quantile
from .disclosure import disclosure_blocks
from .headline import group_label, headline_block
from .references import item_blocks, reference_blocks
from .yearly import is_long, yearly_corner_rows, yearly_results_rows, yearly_scenario_rows


def blocks(report: Report, command_line: str) -> list:
    """The report as a list of blocks: ("h", level, text), ("p", text), ("table", header, rows),
    ("figure", stem), ("headline", dict)."""
    ds, model = report.ds, report.model
    out = [("h", 1, model.title or model.name), headline_block(report),
           ("p", model.description),
           ("p", f"Model file `{model.path}` (SHA-256 {model.sha256[:16]}...), {int(ds.attrs['samples']):,} samples, "
                 f"seed {int(ds.attrs['seed'])}, created {ds.attrs['created']}. Regenerate with `{command_line}`.")]
    out += _results_blocks(report)
    out.append(("figure", f"fan_{report.headline}"))
    out += reference_blocks(report, None)
    out += item_blocks(report)
    out += _published_blocks(report)
    out += _corner_blocks(report)
    if "paths" in report.figures:
        out.append(("h", 2, "Two paths on the same draws"))
        out.append(("figure", "paths"))
    if report.sensitivity:
        out += _sensitivity_blocks(report)
    out += disclosure_blocks(report)
    if report.calibration is not None:
        out += _calibration_blocks(report, month_labels(ds))
    region_figures = [stem for stem in report.figures if stem.endswith("_by_region")]
    if region_figures:
        out.append(("h", 2, "CO2 by region"))
        out.append(("figure", region_figures[0]))
    out += _parameter_blocks(report)
    out += variables_blocks(model)
    return out


def _period_words(ds) -> str:
    months = month_labels(ds)
    if ds.sizes["date"] == 1:
        return day_words(ds["date"].values[0])
    return month_words(months[0]) if len(months) == 1 else f"{month_words(months[0])} to {month_words(months[-1])}"


def _results_blocks(report) -> list:
    """Median and 90% interval of every output: per year for a long period, else per month (or for the
    day); one unit per output across its rows, and one per kind of unit across outputs."""
    ds, model = report.ds, report.model
    months = month_labels(ds)
    if is_long(ds):
        rows = yearly_results_rows(report)
        return [("h", 2, "Yearly results: median and 90% interval"),
                ("p", f"{len(months)} months are summarised per calendar year: each sample's months are summed "
                      "(totals) or averaged over the days (means) within the year, then the quantiles are taken. "
                      "Every month's quantiles are in results.nc."),
                ("table", ["year", "quantity", "median", "90% interval", "unit"], rows)]
    title = (f"Results for {_period_words(ds)}: median and 90% interval" if len(months) == 1
             else "Monthly results: median and 90% interval")
    units = series_units(model, {name: [monthly_quantile(ds, name, 0.5, m) for m in range(len(months))]
                                 for name in model.outputs})
    rows = []
    for name, output in model.outputs.items():
        factor, unit = units[name]
        for m, month in enumerate(months):
            lo, mid, hi = (monthly_quantile(ds, name, q, m) for q in (0.05, 0.5, 0.95))
            row = [output.long_name, format_number(mid / factor),
                   f"{format_number(lo / factor)} to {format_number(hi / factor)}", unit]
            rows.append(row if len(months) == 1 else [month] + row)
    header = ["quantity", "median", "90% interval", "unit"]
    return [("h", 2, title), ("table", header if len(months) == 1 else ["month"] + header, rows)]


def series_units(model, values: dict) -> dict:
    """Output -> (divisor, unit label): one unit for every output with the same base unit (all CO2
    outputs in t, say), read from the smallest of their typical values and stepped up only if the
    largest would need six digits."""
    by_unit = {}
    for name, vals in values.items():
        by_unit.setdefault(model.outputs[name].unit, []).extend(abs(float(v)) for v in vals if np.isfinite(v))
    shared = {}
    for unit, vals in by_unit.items():
        positive = [v for v in vals if v > 0] or [0.0]
        factor, label = unit_for_series([min(positive)], unit)
        if max(positive) / factor >= 1e5:
            factor, label = unit_for_series([max(positive) / 1e3], unit)
        shared[unit] = (factor, label)
    return {name: shared[model.outputs[name].unit] for name in values}


def _published_blocks(report) -> list:
    """Published values (scenarios) in our distribution; hypotheses (status U) in their own table."""
    ds, model = report.ds, report.model
    long = is_long(ds)
    rows_all = yearly_scenario_rows(report) if long else report.scenario_rows
    rows_all = [r for r in rows_all if (model.scenarios[r["scenario"]].output or r["output"]) == r["output"]]
    when = "year" if long else ("day" if ds.sizes["date"] == 1 else "month")
    units = series_units(model, {o: [r["value"] for r in rows_all if r["output"] == o]
                                 for o in dict.fromkeys(r["output"] for r in rows_all)})

    def table(rows):
        cells = []
        for r in rows:
            factor, unit = units[r["output"]]
            cells.append([r["label"], r["status"] or "-", model.outputs[r["output"]].short, r["month"],
                          f"{format_number(r['value'] / factor)} {unit}", percentile_text(r["percentile"]),
                          f"{100 - r['percentile']:.1f}%", r["description"]])
        return ("table", ["figure", "status", "compared with our", when, "value", "percentile", "our draws above",
                          "what it is"], cells)

    published = [r for r in rows_all if r["status"] != "U"]
    uncertain = [r for r in rows_all if r["status"] == "U"]
    out = [("h", 2, "Published values in our distribution"),
           ("p", "Each scenario fixes a published estimate's inputs on top of the priors; the number it gives is "
                 "compared with our output on the figure's own boundary (IT electricity for a figure without "
                 "data-centre overhead, say). Its percentile is the share of our per-sample draws of the same "
                 f"{when} ({min(int(ds.attrs['samples']), KEEP_MAX):,} kept) at or below it. Status tags: S read in the "
                 "source, S2 read in a secondary source, I inferred with the arithmetic shown, U not known for certain.")]
    if published:
        out.append(table(published))
    for stem in [f"distribution_{o}" for o in report.compared + report.boundaries]:
        if stem in report.figures:
            out.append(("figure", stem))
    hypotheses = [s for s in model.scenarios.values() if s.status == "U"]
    if hypotheses:
        out.append(("h", 2, "Hypotheses, not published values"))
        for s in hypotheses:
            out.append(("p", f"{s.short} is tagged U: its inputs were not found in retrievable text, so it is a "
                             f"hypothesis, not a figure the author is known to have published. {s.description}. "
                             f"Basis: {s.source}"))
        if uncertain:
            out.append(table(uncertain))
    return out


def _corner_blocks(report) -> list:
    ds, model = report.ds, report.model
    long = is_long(ds)
    rows_in = yearly_corner_rows(report) if long else report.corner_rows
    if not rows_in:
        return []
    when = "year" if long else ("day" if ds.sizes["date"] == 1 else "month")
    out = [("h", 2, "Why corner products are not a 90% interval"),
           ("p", "Setting every input at the end of its range that raises the output (and then every input at the end "
                 "that lowers it) gives the corners of a range product. Independent inputs are rarely all at one end "
                 "at once, so the corners land far out in the tails. For a product of k independent lognormal inputs, "
                 "each given as a 5th-95th percentile range with log-spread sigma_i, the log of the product has "
                 "standard deviation sqrt(sum(sigma_i^2)) while the top corner lies sum(1.645 x sigma_i) above the "
                 "median, so it sits at z = 1.645 x sum(sigma_i) / sqrt(sum(sigma_i^2)) standard deviations: "
                 "1.645 x sqrt(k) only when the spreads are equal (the 99th percentile for k = 2, the 99.8th for "
                 "k = 3), less when one input dominates the spread. Here each input's direction is found on the "
                 "model (its effect on the output with the others at their medians), so a denominator such as a "
                 "utilisation or a lifetime is at its 5th percentile in the top corner; load shares stay at their "
                 "means:")]
    units = series_units(model, {o: [r["corner_high"] for r in rows_in if r["output"] == o]
                                 for o in dict.fromkeys(r["output"] for r in rows_in)})
    rows = []
    for r in rows_in:
        factor, unit = units[r["output"]]
        f = lambda v: f"{format_number(v / factor)} {unit}"  # noqa: E731
        rows.append([model.outputs[r["output"]].short, r["month"], f(r["corner_low"]),
                     percentile_text(r["corner_low_percentile"]), f(r["p5"]), f(r["p95"]), f(r["corner_high"]),
                     percentile_text(r["corner_high_percentile"]), f"{100 - r['corner_high_percentile']:.2f}%"])
    out.append(("table", ["quantity", when, "bottom corner", "its percentile", "actual p5", "actual p95",
                          "top corner", "its percentile", "our draws above it"], rows))
    return out


def _sensitivity_blocks(report: Report) -> list:
    """Which inputs drive the spread of the headline output: Sobol table and tornado chart."""
    model = report.model
    sobol, tornado = report.sensitivity["sobol"], report.sensitivity["tornado"]
    headline = model.outputs[report.headline]
    when = (day_words(report.ds["date"].values[0]) if report.ds.sizes["date"] == 1
            else month_words(sobol.attrs["month"]))
    why = (f" {when} is the last month of the year the report headlines." if is_long(report.ds) else "")
    out = [("h", 2, "Which assumptions drive the spread"),
           ("p", f"Sobol indices of {headline.short}, {when} ({sobol.attrs['samples']:,} base samples; 95% bootstrap "
                 "intervals).{why} First order: the share of the variance an input explains alone; total: with all "
                 "its interactions. Inputs that move together (rank-correlated) or vary by month form one group. "
                 f"{sobol.attrs['validity'].capitalize()}.".replace("{why}", why))]
    rows = []
    for name in sobol["parameter"].values:
        r = sobol.sel(parameter=name)
        rows.append([group_label(model, str(name)), f"{float(r['first_order']):.3f}",
                     f"{float(r['first_order_low']):.3f} to {float(r['first_order_high']):.3f}",
                     f"{float(r['total_order']):.3f}",
                     f"{float(r['total_order_low']):.3f} to {float(r['total_order_high']):.3f}"])
    out.append(("table", ["input", "first order", "95% interval", "total", "95% interval"], rows))
    out.append(("figure", "sobol"))
    swings = [float(tornado.sel(parameter=n)["output_high"]) for n in tornado["parameter"].values]
    factor, unit = unit_for_series(swings + [float(tornado["baseline"])], headline.unit)
    rows = [[group_label(model, str(name)), format_number(float(tornado.sel(parameter=name)["output_low"]) / factor),
             format_number(float(tornado.sel(parameter=name)["output_high"]) / factor),
             format_number(float(tornado.sel(parameter=name)["swing"]) / factor)] for name in tornado["parameter"].values]
    out.append(("p", f"Tornado: the median of {headline.short}, {when}, with one input alone at its 5th and 95th "
                     f"percentile and the others random on the same draws ({tornado.attrs['samples']:,} samples)."))
    out.append(("table", ["input", f"median at input p5 ({unit})", f"median at input p95 ({unit})", f"swing ({unit})"],
                rows))
    out.append(("figure", "tornado"))
    if report.sensitivity["inert"]:
        names = ", ".join(group_label(model, n) for n in report.sensitivity["inert"])
        out.append(("p", f"Not drawn: inputs whose total index is below 0.005 even at its upper 95% bound in {when} "
                         f"({names})."))
    return out


def _calibration_blocks(report: Report, months) -> list:
    """Prior against posterior for each compared output, and the paths' ratio when reconciled."""
    cal, model = report.calibration, report.model
    rec = model.reconcile
    out = [("h", 2, "Reconciling the two paths" if rec is not None else "Calibration on observations")]
    given = "; ".join(json.loads(cal.attrs["observations"]))
    text = (f"Importance weights on {int(cal.attrs['samples']):,} prior draws given: {given}. "
            f"Effective sample size {cal.attrs['ess']:,.0f} ({100 * cal.attrs['ess_fraction']:.1f}% of the draws).")
    if rec is not None:
        a, b = (model.outputs[p].short for p in rec.paths)
        text += (f" The constraint says the two paths ({a}; {b}) agree within a factor {rec.within_factor:g} "
                 f"({rec.likelihood} likelihood on their ratio, {a} / {b}). {rec.source}. The headline stays the "
                 "prior: this posterior is a sensitivity case, shown beside it.")
    if "low_ess" in cal.attrs:
        text += " " + cal.attrs["low_ess"]
    out.append(("p", text))
    rows = []
    names = list(report.compared) + (["path_ratio"] if "path_ratio_monthly" in cal else [])
    for name in names:
        da = cal[f"{name}_monthly"]
        unit = da.attrs.get("units", "1")
        label = (f"ratio {model.outputs[rec.paths[0]].short} / {model.outputs[rec.paths[1]].short}"
                 if name == "path_ratio" else model.outputs[name].short)
        factor, shown = unit_for_series(da.sel(quantile=0.95).values.ravel(), unit)
        for m, month in enumerate(months):
            cells = []
            for stage in ("prior", "posterior"):
                lo, mid, hi = (float(da.sel(stage=stage, quantile=q).values[m]) / factor for q in (0.05, 0.5, 0.95))
                cells += [format_number(mid), f"{format_number(lo)} to {format_number(hi)}"]
            rows.append([label, month] + cells + ["" if shown == "1" else shown])
    out.append(("table", ["quantity", "month", "prior median", "prior 90%", "posterior median", "posterior 90%", "unit"],
                rows))
    out.append(("figure", "calibration_bands"))
    if "calibration_paths" in report.figures:
        out.append(("figure", "calibration_paths"))
    return out


def _parameter_blocks(report) -> list:
    model = report.model
    rows = [[p.long_name, p.unit, p.describe(), p.source, p.rationale] for p in model.all_parameters()]
    if model.regions is not None:
        r = model.regions
        how = f"Dirichlet, concentration {r.concentration:g}" if r.mode == "dirichlet" else "fixed"
        rows.append(["share of the load in each region", "1",
                     f"{how}: " + ", ".join(f"{x.name} {x.share:g}" for x in r.regions), r.source, ""])
    rows += [[s.long_name, "1", s.describe(), s.source, s.rationale] for s in model.shares.values()
             if not (s.name == "region_share" and model.regions is not None)]
    return [("h", 2, "Assumptions: every input, its distribution and its source"),
            ("table", ["input", "unit", "distribution", "source", "why"], rows)]


def variables_blocks(model) -> list:
    """The one place with internal names: every output, parameter, derived quantity and scenario, for scripts."""
    rows = [[f"`{name}`", "output", out.long_name, out.unit, f"{out.aggregate} over the days of a month"]
            for name, out in model.outputs.items()]
    rows += [[f"`{p.name}`", "parameter", p.long_name, p.unit, ""] for p in model.all_parameters()]
    rows += [[f"`{d.name}`", "derived", d.long_name, d.unit or "", f"`{d.text}`"] for d in model.derived.values()
             if d.name not in model.outputs] + [[f"`{d.name}`", "output (derived)", d.long_name, d.unit or "",
                                                 f"`{d.text}`"] for d in model.derived.values() if d.name in model.outputs]
    rows += [[f"`{s.name}`", "scenario", s.short, "", f"status {s.status or '-'}"] for s in model.scenarios.values()]
    return [("h", 2, "Variables, for scripts"),
            ("p", "The names to use with `simulate.load(...)`, `Model.run` (`NAME_monthly`, `NAME_daily`), "
                  "`Model.with_scenario` and `simulate sensitivity --output NAME`."),
            ("table", ["name", "kind", "what", "unit", "aggregate or expression"], rows)]
