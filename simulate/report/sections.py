"""The report as a list of blocks, in reading order: ("h", level, text), ("p", text),
("table", header, rows), ("figure", stem). :mod:`.render` turns them into Markdown and HTML."""
from __future__ import annotations

import json

from ..plots.labels import format_number, month_labels, scale_with_counts, si
from .compute import KEEP_MAX, Report, monthly_quantile
from .disclosure import disclosure_blocks
from .references import item_blocks, reference_blocks
from .yearly import (
    is_long,
    yearly_corner_rows,
    yearly_results_rows,
    yearly_scenario_rows,
)


def blocks(report: Report, command_line: str) -> list:
    """The report as a list of blocks: ("h", level, text), ("p", text), ("table", header, rows), ("figure", stem)."""
    ds, model = report.ds, report.model
    months = month_labels(ds)
    out = [("h", 1, model.title or model.name),
           ("p", f"Model file `{model.path}` (SHA-256 {model.sha256[:16]}...), {int(ds.attrs['samples']):,} samples, "
                 f"seed {int(ds.attrs['seed'])}, created {ds.attrs['created']}. Regenerate with `{command_line}`."),
           ("p", model.description)]

    long = is_long(ds)
    if long:
        out.append(("h", 2, "Yearly results: median and 90% interval"))
        out.append(("p", f"{len(months)} months are summarised per calendar year: each sample's months are summed "
                         "(totals) or averaged over the days (means) within the year, then the quantiles are taken. "
                         "Every month's quantiles are in results.nc."))
        out.append(("table", ["year", "output", "median", "90% interval", "unit", "what"],
                    yearly_results_rows(report)))
    else:
        out.append(("h", 2, "Monthly results: median and 90% interval"))
        rows = []
        for name, output in model.outputs.items():
            for m, month in enumerate(months):
                lo, mid, hi = (monthly_quantile(ds, name, q, m) for q in (0.05, 0.5, 0.95))
                factor, unit = scale_with_counts([hi], output.unit)
                rows.append([month, name, format_number(mid / factor), f"{format_number(lo / factor)} to {format_number(hi / factor)}",
                             unit, output.long_name])
        out.append(("table", ["month", "output", "median", "90% interval", "unit", "what"], rows))
    out.append(("figure", f"fan_{report.headline}"))
    out += reference_blocks(report, si)
    out += item_blocks(report)
    when = "year" if long else "month"
    scenario_rows = yearly_scenario_rows(report) if long else report.scenario_rows
    corner_rows = yearly_corner_rows(report) if long else report.corner_rows

    out.append(("h", 2, "Published values in our distribution"))
    out.append(("p", "Each scenario fixes the published inputs on top of the priors; where it pins an output to one "
                     "number, that number's percentile is the share of our per-sample draws of the same month (or year) "
                     f"({min(int(ds.attrs['samples']), KEEP_MAX):,} kept) at or below it. Status tags: S read in the source, "
                     "S2 read in a secondary source, I inferred with the arithmetic shown, U not known for certain."))
    rows = [[r["scenario"], r["status"] or "-", r["output"], r["month"], si(r["value"], r["unit"]),
             f"{r['percentile']:.1f}", f"{100 - r['percentile']:.1f}%", r["description"]] for r in scenario_rows]
    out.append(("table", ["scenario", "status", "output", when, "value", "percentile", "our mass above", "what it is"], rows))
    for output in report.compared:
        out.append(("figure", f"distribution_{output}"))
    uncertain = [s for s in model.scenarios.values() if s.status == "U"]
    if uncertain:
        out.append(("h", 3, "Not known for certain"))
        for s in uncertain:
            out.append(("p", f"`{s.name}` is tagged U: its inputs were not found in retrievable text, so it is a "
                             f"hypothesis, not a figure the author is known to have published. {s.description}. "
                             f"Basis: {s.source}"))

    out.append(("h", 2, "Why corner products are not a 90% interval"))
    out.append(("p", "Multiplying every input's low value together (and every high value together) gives the corners of "
                     "a range product. Independent inputs are rarely all high at once, so the corners land far out in the "
                     "tails: for k independent lognormal inputs each given as a 5th-95th percentile range, the top corner "
                     "sits at z = 1.645 x sqrt(k), about the 99th percentile for k = 2 and the 99.8th for k = 3. "
                     "Here, with every sampled input at its own 5th or 95th percentile:"))
    rows = []
    for r in corner_rows:
        rows.append([r["output"], r["month"], si(r["corner_low"], r["unit"]), f"{r['corner_low_percentile']:.2f}",
                     si(r["p5"], r["unit"]), si(r["p95"], r["unit"]), si(r["corner_high"], r["unit"]),
                     f"{r['corner_high_percentile']:.2f}", f"{100 - r['corner_high_percentile']:.2f}%"])
    out.append(("table", ["output", when, "all inputs at p5", "its percentile", "actual p5", "actual p95",
                          "all inputs at p95", "its percentile", "mass above it"], rows))
    for r in [r for r in scenario_rows if r["output"] == report.headline][:1] + \
             [r for r in scenario_rows if r["output"] == report.headline][1:]:
        out.append(("p", f"`{r['scenario']}` ({si(r['value'], r['unit'])}, {r['month']}): {100 - r['percentile']:.1f}% of our "
                         f"{r['output']} distribution lies above it and {r['percentile']:.1f}% below."))
    if "paths" in report.figures:
        out.append(("h", 2, "Two paths on the same draws"))
        out.append(("figure", "paths"))
    if report.sensitivity:
        out += _sensitivity_blocks(report)
    out += disclosure_blocks(report)
    if report.calibration is not None:
        out += _calibration_blocks(report, months)
    region_figures = [stem for stem in report.figures if stem.endswith("_by_region")]
    if region_figures:
        out.append(("h", 2, "CO2 by region"))
        out.append(("figure", region_figures[0]))

    out.append(("h", 2, "Parameters"))
    rows = [[p.name, p.unit, p.describe(), p.source, p.rationale] for p in model.all_parameters()]
    if model.regions is not None:
        r = model.regions
        how = f"Dirichlet, concentration {r.concentration:g}" if r.mode == "dirichlet" else "fixed"
        rows.append(["region shares", "1", f"{how}: " + ", ".join(f"{x.name} {x.share:g}" for x in r.regions), r.source, ""])
    out.append(("table", ["parameter", "unit", "distribution", "source", "why"], rows))
    out.append(("h", 2, "Derived quantities"))
    out.append(("table", ["name", "expression"], [[d.name, d.text] for d in model.derived.values()]))
    return out


def _sensitivity_blocks(report: Report) -> list:
    """Which inputs drive the spread of the headline output: Sobol table and tornado chart."""
    sobol, tornado = report.sensitivity["sobol"], report.sensitivity["tornado"]
    out = [("h", 2, "Which assumptions drive the spread"),
           ("p", f"Sobol indices of {sobol.attrs['target']} ({sobol.attrs['samples']:,} base samples; "
                 f"95% bootstrap intervals). First order: the share of the variance an input explains alone; total: "
                 f"with all its interactions. Groups: {sobol.attrs['grouping']}. {sobol.attrs['validity'].capitalize()}.")]
    rows = []
    for name in sobol["parameter"].values:
        r = sobol.sel(parameter=name)
        rows.append([str(name), f"{float(r['first_order']):.3f}",
                     f"{float(r['first_order_low']):.3f} to {float(r['first_order_high']):.3f}",
                     f"{float(r['total_order']):.3f}",
                     f"{float(r['total_order_low']):.3f} to {float(r['total_order_high']):.3f}"])
    out.append(("table", ["input", "first order", "95% interval", "total", "95% interval"], rows))
    out.append(("figure", "sobol"))
    unit = report.model.outputs[report.headline].unit
    rows = [[str(name), si(float(tornado.sel(parameter=name)["output_low"]), unit),
             si(float(tornado.sel(parameter=name)["output_high"]), unit),
             si(float(tornado.sel(parameter=name)["swing"]), unit)] for name in tornado["parameter"].values]
    out.append(("p", f"Tornado: the median of {tornado.attrs['target']} with one input alone at its 5th and 95th "
                     f"percentile and the others random on the same draws ({tornado.attrs['samples']:,} samples)."))
    out.append(("table", ["input", "median at input p5", "median at input p95", "swing"], rows))
    out.append(("figure", "tornado"))
    if report.sensitivity["inert"]:
        out.append(("p", f"{report.headline} does not depend on: {', '.join(report.sensitivity['inert'])}."))
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
        text += (f" The constraint says the {rec.paths[0]} and {rec.paths[1]} paths agree within a factor "
                 f"{rec.within_factor:g} ({rec.likelihood} likelihood on their ratio). {rec.source}.")
    if "low_ess" in cal.attrs:
        text += " " + cal.attrs["low_ess"]
    out.append(("p", text))
    rows = []
    names = list(report.compared) + (["path_ratio"] if "path_ratio_monthly" in cal else [])
    for name in names:
        da = cal[f"{name}_monthly"]
        unit = da.attrs.get("units", "1")
        for m, month in enumerate(months):
            cells = []
            for stage in ("prior", "posterior"):
                lo, mid, hi = (float(da.sel(stage=stage, quantile=q).values[m]) for q in (0.05, 0.5, 0.95))
                cells += [si(mid, unit), f"{si(lo, unit)} to {si(hi, unit)}"]
            rows.append([name, month] + cells)
    out.append(("table", ["quantity", "month", "prior median", "prior 90%", "posterior median", "posterior 90%"], rows))
    out.append(("figure", "calibration_bands"))
    if "calibration_paths" in report.figures:
        out.append(("figure", "calibration_paths"))
    return out
