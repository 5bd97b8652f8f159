"""A report of one model: figures, tables and results, as one self-contained HTML page and markdown.

``simulate report PRIORS --out DIR [--samples N] [--seed S]`` writes into DIR:
``index.html`` (figures inline as SVG, no network requests), each figure as PNG and SVG,
``summary.md`` (monthly median and 90% interval per output; the scenario table with each published
value's percentile in our distribution; corner products against the real 5th/95th percentiles; the
parameters with distributions and sources) and ``results.nc`` (the summary Dataset).

Everything is written into a temporary folder beside DIR and renamed into place at the end, so a
failed run leaves DIR as it was. Outputs depend only on (model file, samples, seed) apart from the
``created`` timestamp and the run time: SVG ids are salted with a fixed string and figures carry no dates.
"""
from __future__ import annotations

import dataclasses
import html
import io
import json
import shutil
import tempfile
from pathlib import Path

import matplotlib
import numpy as np

from .cli import command
from .errors import ModelError
from .report_references import (is_long, reference_blocks, reference_figures, yearly_corner_rows,
                                yearly_results_rows, yearly_scenario_rows, item_blocks, item_outputs)
from .units import format_number, scale_for

SOBOL_SAMPLES = 1 << 13     # Sobol base samples for the report's sensitivity table (at most)
TORNADO_SAMPLES = 100_000
KEEP_MAX = 1_000_000        # per-sample draws kept for percentiles (memory: ~200 bytes per sample)
SCENARIO_SAMPLES = 4096     # samples per scenario or corner run (their pinned outputs are constants)
PNG_DPI = 110
RC = {"svg.hashsalt": "simulate-report", "svg.fonttype": "path", "figure.dpi": 100, "font.size": 10}
SVG_METADATA = {"Date": None, "Creator": None}
PNG_METADATA = {"Software": None}
CORNER_COLOUR = "#b8443a"
TAG_MEANING = {"S": "read in the source", "S2": "read in a secondary source", "I": "inferred (arithmetic shown)",
               "U": "not known for certain", "": "no status given"}


@dataclasses.dataclass
class Report:
    """What a report shows, computed once and rendered both as markdown and as HTML."""
    model: object
    ds: object                  # the main run, with kept per-sample monthly draws
    headline: str               # the first output; its unit picks the outputs compared with published values
    compared: list              # outputs sharing the headline's unit (e.g. both energy paths)
    scenario_rows: list         # dicts: scenario, status, description, output, month, value, percentile
    corner_rows: list           # dicts: output, month, low/high corners, real p5/p95, their percentiles
    figures: dict               # file stem -> (title, Figure)
    calibration: object = None  # prior/posterior Dataset when the model declares observations or [reconcile]
    sensitivity: dict = dataclasses.field(default_factory=dict)  # "sobol"/"tornado" -> Dataset, headline output


# -- numbers ------------------------------------------------------------------------------------------
def scale(values, unit) -> tuple[float, str]:
    """:func:`simulate.units.scale_for`, plus million/billion for counts (queries, people)."""
    factor, label = scale_for(values, unit)
    top = max(abs(float(v)) for v in values)
    if factor == 1.0 and label == unit and top >= 1e6:
        factor, word = (1e9, "billion") if top >= 1e9 else (1e6, "million")
        label = f"{word} {unit}"
    return factor, label


def si(value, unit) -> str:
    """``value`` in ``unit`` with an SI prefix and 3 significant figures: ``23.4 GWh``."""
    factor, label = scale([value], unit)
    return f"{format_number(value / factor)} {'' if label == '1' else label}".strip()


def percentile_of(draws, value) -> float:
    """Share of ``draws`` at or below ``value``, in percent."""
    draws = np.asarray(draws)
    draws = draws[np.isfinite(draws)]
    return 100.0 * np.count_nonzero(draws <= value) / draws.size


def _month_labels(ds):
    return [str(np.datetime64(m, "M")) for m in ds["month"].values]


def _quantile(ds, name, q, m):
    return float(ds[f"{name}_monthly"].sel(quantile=q).values[m])


def corner_model(model, u: float):
    """``model`` with every sampled input fixed at its own ``u`` quantile (the "corner" of a range product)."""
    values = {}
    for p in model.all_parameters():
        if p.varies_by_month:
            values[p.name] = {m: float(p.for_month(m).ppf(u)) for m in model.period.months}
        elif p.dist.family != "fixed":
            values[p.name] = float(p.dist.ppf(u))
    return model.with_fixed(values)


def _pinned(ds, name, m) -> float | None:
    """The scenario's value of output ``name`` in month ``m`` when the scenario fixes it, else None."""
    q = ds[f"{name}_monthly"].values[:, m]
    return float(q[len(q) // 2]) if np.isclose(q.min(), q.max(), rtol=1e-9, atol=0) else None


def compute(model, samples: int, seed: int) -> Report:
    """Run the model (keeping per-sample draws), its scenarios and its two corners."""
    keep = min(samples, KEEP_MAX)
    ds = model.run(samples=samples, seed=seed, keep=keep)
    headline = next(iter(model.outputs))
    unit = model.outputs[headline].unit
    compared = [name for name, out in model.outputs.items() if out.unit == unit and out.aggregate == "sum"] or [headline]
    months = _month_labels(ds)
    small = min(samples, SCENARIO_SAMPLES)

    scenario_rows = []
    for name, scenario in model.scenarios.items():
        sds = model.with_scenario(name).run(samples=small, seed=seed)
        for output in compared:
            for m, month in enumerate(months):
                value = _pinned(sds, output, m)
                if value is None:
                    continue
                draws = ds[f"{output}_monthly_samples"].values[:, m]
                scenario_rows.append({"scenario": name, "status": scenario.status, "description": scenario.description,
                                      "source": scenario.source, "output": output, "month": month, "value": value,
                                      "percentile": percentile_of(draws, value), "unit": unit})

    corner_rows = []
    low_ds = corner_model(model, 0.05).run(samples=small, seed=seed)
    high_ds = corner_model(model, 0.95).run(samples=small, seed=seed)
    for output in compared:
        for m, month in enumerate(months):
            draws = ds[f"{output}_monthly_samples"].values[:, m]
            low, high = _pinned(low_ds, output, m), _pinned(high_ds, output, m)
            if low is None or high is None:
                continue
            corner_rows.append({"output": output, "month": month, "unit": unit,
                                "corner_low": low, "corner_high": high,
                                "p5": _quantile(ds, output, 0.05, m), "p95": _quantile(ds, output, 0.95, m),
                                "corner_low_percentile": percentile_of(draws, low),
                                "corner_high_percentile": percentile_of(draws, high)})
    calibration = None
    if model.observations or model.reconcile is not None:
        calibration = model.calibrate(samples=min(samples, KEEP_MAX), seed=seed, keep=5_000)
    report = Report(model, ds, headline, compared, scenario_rows, corner_rows, {}, calibration,
                    _sensitivity(model, headline, samples, seed))
    report.figures = make_figures(report)
    return report


def _sensitivity(model, output, samples, seed) -> dict:
    """Sobol indices and tornado swings of the headline output's first month (none if all inputs are fixed)."""
    if all(p.dist is not None and p.dist.family == "fixed" and not p.by_month for p in model.all_parameters()):
        return {}
    base = min(SOBOL_SAMPLES, 1 << max(8, int(np.log2(max(samples, 1) // 16 or 1))))  # small runs, small designs
    sobol = model.sensitivity(output, "sobol", samples=base, seed=seed)
    tornado = model.sensitivity(output, "tornado", samples=min(samples, TORNADO_SAMPLES), seed=seed)
    # inputs the output does not depend on at all are named once, not drawn as empty bars
    inert = [str(n) for n in sobol["parameter"].values if float(sobol.sel(parameter=n)["total_order_high"]) == 0.0]
    return {"sobol": sobol.drop_sel(parameter=inert),
            "tornado": tornado.drop_sel(parameter=[n for n in inert if n in tornado["parameter"].values]),
            "inert": inert}


# -- figures ------------------------------------------------------------------------------------------
def make_figures(report: Report) -> dict:
    from . import plots

    ds, model = report.ds, report.model
    figures = {}
    if is_long(ds) or model.references:
        figures.update(reference_figures(report, points_for=lambda output: _scenario_points(report, output)))
    else:
        fig, _ = plots.fan_chart(ds, report.headline, published=_scenario_points(report, report.headline))
        figures[f"fan_{report.headline}"] = (f"Daily {report.headline}: median, 50% and 90% intervals", fig)
    focus = -1 if is_long(ds) else 0   # the month the distribution figures show: the last of a long period
    if item_outputs(model) and not is_long(ds):
        from .reference_plots import per_item

        fig, _ = per_item(ds, item_outputs(model), model.references)
        figures["per_item"] = ("Energy per item: median, 50% and 90% intervals, with published figures", fig)
    for output in report.compared:
        marks = [(_scenario_label(r), r["value"]) for r in report.scenario_rows
                 if r["output"] == output and r["month"] == _month_labels(ds)[focus]]
        marks += [(f"every input at its {k}", r[f"corner_{side}"], CORNER_COLOUR) for r in report.corner_rows
                  if r["output"] == output and r["month"] == _month_labels(ds)[focus]
                  for k, side in (("p5", "low"), ("p95", "high"))]
        fig, _ = plots.distribution(ds, output, month=focus, marks=marks)
        figures[f"distribution_{output}"] = (f"Monthly {output}: distribution, published values and corners", fig)
    if len(report.compared) >= 2:
        fig, _ = plots.paths(ds, tuple(report.compared[:2]))
        figures["paths"] = (f"{report.compared[0]} and {report.compared[1]} side by side, and their ratio", fig)
    if report.sensitivity:
        from .sensitivity_plots import sobol_bars, tornado_chart

        fig = tornado_chart(report.sensitivity["tornado"])
        figures["tornado"] = (f"{report.headline}: median with each input alone at its p5 and p95", _figure(fig))
        fig = sobol_bars(report.sensitivity["sobol"])
        figures["sobol"] = (f"{report.headline}: Sobol indices with 95% intervals", _figure(fig))
    if report.calibration is not None:
        from .calibration_plots import plot_path_agreement, plot_prior_posterior

        fig, _ = plot_prior_posterior(report.calibration, report.headline)
        figures["calibration_bands"] = (f"{report.headline}: prior and posterior", fig)
        if model.reconcile is not None:
            fig, _ = plot_path_agreement(report.calibration, model.reconcile.paths, model.reconcile.within_factor)
            figures["calibration_paths"] = ("The two paths on the same draws, coloured by posterior weight", fig)
    for output in model.outputs:   # only outputs named after the model's own regions (not image_50_steps_wh)
        regions = {r: n for r, n in plots.region_outputs(ds, output).items()
                   if model.regions is not None and r in model.regions.names}
        if regions:
            fig, _ = plots.co2_by_region(ds, output, regions)
            figures[f"{output}_by_region"] = (f"{output} by region", fig)
            break
    return figures


def _figure(result):
    """The Figure of a plot function's result, whether it returns a Figure or (Figure, Axes)."""
    return result[0] if isinstance(result, tuple) else result


def _scenario_points(report: Report, output: str) -> list:
    """(middle day, the scenario's daily median there, label) for each scenario pinning ``output`` in month one."""
    ds, model = report.ds, report.model
    first = [r for r in report.scenario_rows if r["output"] == output and r["month"] == _month_labels(ds)[0]]
    mid = ds["date"].values[min(14, ds.sizes["date"] - 1)]
    points = []
    for row in first:   # the scenario's daily value on the middle day, read from its own run
        sds = model.with_scenario(row["scenario"]).run(samples=min(int(ds.attrs["samples"]), SCENARIO_SAMPLES),
                                                       seed=int(ds.attrs["seed"]))
        value = float(sds[f"{output}_daily"].sel(quantile=0.5, date=mid))
        points.append((mid, value, f"{row['scenario']} ({TAG_MEANING[row['status']]})" if row["status"] == "U"
                       else row["scenario"]))
    return points


def _scenario_label(row) -> str:
    return f"{row['scenario']} [{row['status']}]" if row["status"] else row["scenario"]


def figure_bytes(fig) -> tuple[bytes, bytes]:
    """(PNG, SVG) bytes of ``fig``, free of dates and with fixed SVG ids."""
    with matplotlib.rc_context(RC):
        png, svg = io.BytesIO(), io.BytesIO()
        fig.savefig(png, format="png", dpi=PNG_DPI, metadata=PNG_METADATA)
        fig.savefig(svg, format="svg", metadata=SVG_METADATA)
    return png.getvalue(), svg.getvalue()


# -- document -----------------------------------------------------------------------------------------
def blocks(report: Report, command_line: str) -> list:
    """The report as a list of blocks: ("h", level, text), ("p", text), ("table", header, rows), ("figure", stem)."""
    ds, model = report.ds, report.model
    months = _month_labels(ds)
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
                    yearly_results_rows(report, scale)))
    else:
        out.append(("h", 2, "Monthly results: median and 90% interval"))
        rows = []
        for name, output in model.outputs.items():
            for m, month in enumerate(months):
                lo, mid, hi = (_quantile(ds, name, q, m) for q in (0.05, 0.5, 0.95))
                factor, unit = scale([hi], output.unit)
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


def _md_cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(doc) -> str:
    lines = []
    for block in doc:
        if block[0] == "h":
            lines += ["#" * block[1] + " " + block[2], ""]
        elif block[0] == "p":
            lines += [block[1], ""] if block[1] else []
        elif block[0] == "table":
            header, rows = block[1], block[2]
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "|".join("---" for _ in header) + "|")
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            lines.append("")
        elif block[0] == "figure":
            lines += [f"![{block[1]}]({block[1]}.png)", ""]
    return "\n".join(lines)


def _inline(text) -> str:
    """Escape ``text`` for HTML and turn `code` spans into <code>."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:1em 0;font-size:0.88em}th,td{border:1px solid #ccc;padding:3px 7px;vertical-align:top}
th{background:#f2f2f2}td{overflow-wrap:anywhere}figure{margin:1.5em 0}figure svg{max-width:100%;height:auto}
figcaption{font-size:0.9em;color:#555}code{background:#f4f4f4;padding:0 3px}"""


def to_html(doc, svgs: dict, titles: dict) -> str:
    body = []
    for block in doc:
        if block[0] == "h":
            body.append(f"<h{block[1]}>{_inline(block[2])}</h{block[1]}>")
        elif block[0] == "p":
            if block[1]:
                body.append(f"<p>{_inline(block[1])}</p>")
        elif block[0] == "table":
            head = "".join(f"<th>{html.escape(h)}</th>" for h in block[1])
            rows = "".join("<tr>" + "".join(f"<td>{_inline(str(c))}</td>" for c in row) + "</tr>" for row in block[2])
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif block[0] == "figure":
            svg = svgs[block[1]].decode("utf-8")
            svg = svg[svg.index("<svg"):]   # drop the XML prolog and DOCTYPE
            body.append(f"<figure>{svg}<figcaption>{html.escape(titles[block[1]])} "
                        f"(also {block[1]}.png, {block[1]}.svg)</figcaption></figure>")
    title = next((b[2] for b in doc if b[0] == "h"), "simulate report")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def summary_dataset(ds):
    """``ds`` without the per-sample draws (which are large); the percentiles they gave are in summary.md."""
    dropped = [v for v in ds.data_vars if "sample" in ds[v].dims]
    small = ds.drop_vars(dropped).drop_dims([d for d in ("sample", "input") if d in ds.dims])
    small.attrs["per_sample_draws"] = (f"{ds.sizes.get('sample', 0)} kept for percentiles, not stored here; "
                                       "rerun the report command to recompute them")
    return small


# -- writing ------------------------------------------------------------------------------------------
def write_report(priors, out, *, samples: int = 1_000_000, seed: int = 0, command_line: str | None = None) -> Path:
    """Build the report of model file ``priors`` into folder ``out`` (replaced as a whole, atomically)."""
    import matplotlib.pyplot as plt

    from .modelfile import load
    from .results import save_netcdf

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ModelError("exists and is not a folder", field="--out", value=str(out),
                         fix="give a folder path (it is created, or replaced as a whole)")
    model = load(priors)
    command_line = command_line or f"simulate report {priors} --out {out} --samples {samples} --seed {seed}"
    report = compute(model, samples, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        svgs, titles = {}, {}
        for stem, (title, fig) in report.figures.items():
            png, svg = figure_bytes(fig)
            plt.close(fig)
            (tmp / f"{stem}.png").write_bytes(png)
            (tmp / f"{stem}.svg").write_bytes(svg)
            svgs[stem], titles[stem] = svg, title
        doc = blocks(report, command_line)
        (tmp / "summary.md").write_text(to_markdown(doc), encoding="utf-8")
        (tmp / "index.html").write_text(to_html(doc, svgs, titles), encoding="utf-8")
        save_netcdf(summary_dataset(report.ds), tmp / "results.nc")
        tmp.chmod(0o755)  # mkdtemp makes it private; a report folder is for reading
        _replace_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for _, fig in report.figures.values():
            plt.close(fig)
        raise
    return out


def _replace_folder(new: Path, target: Path):
    """Put folder ``new`` at ``target``: one rename when target is absent, else swap then delete the old."""
    if not target.exists():
        new.rename(target)
        return
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _report_arguments(parser):
    parser.add_argument("priors", help="model file (TOML)")
    parser.add_argument("--out", required=True, help="folder to write (replaced as a whole)")
    parser.add_argument("--samples", type=int, default=1_000_000, help="Monte Carlo samples (default 1e6)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


@command("report", "write an HTML/markdown report with figures, tables and results.nc")(_report_arguments)
def _report(args):
    path = write_report(args.priors, args.out, samples=args.samples, seed=args.seed,
                        command_line=f"simulate report {args.priors} --out {args.out} --samples {args.samples} --seed {args.seed}")
    print(f"wrote {path}/index.html, summary.md, results.nc and figures")
