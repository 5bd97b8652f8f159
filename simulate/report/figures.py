"""The figures of a report, made from what :mod:`.compute` computed."""
from __future__ import annotations

from .. import plots
from ..plots.axes import spans_decades
from ..plots.labels import day_words, month_labels, month_words
from .compute import SCENARIO_SAMPLES, Report
from .disclosure import disclosure_figures
from .headline import group_label
from .references import item_outputs, reference_figures
from .yearly import is_long

CORNER_COLOUR = "#b8443a"
SCENARIO_COLOURS = ("#222222", "#8e5ea2", "#3a8f5c", "#c2a32c", "#4fa3a5")


def make_figures(report: Report) -> dict:
    """File stem -> (title, Figure) for every figure the report shows."""
    ds, model = report.ds, report.model
    figures = {}
    one_day = ds.sizes["date"] == 1
    headline = model.outputs[report.headline]
    if is_long(ds) or model.references:
        figures.update(reference_figures(report, points_for=lambda output: _scenario_points(report, output)))
    else:
        fig, _ = plots.fan_chart(ds, report.headline, points=_scenario_points(report, report.headline))
        what = "the day" if one_day else "per day"
        figures[f"fan_{report.headline}"] = (f"{headline.short}, {what}: median, 50% and 90% intervals", fig)
    if item_outputs(model) and not is_long(ds):
        fig, _ = plots.per_item(ds, item_outputs(model), model.references)
        figures["per_item"] = ("Energy per item: median, 50% and 90% intervals, with published figures just above "
                               "their row", fig)
    if not one_day:
        figures.update(_distributions(report))
    if len(report.compared) >= 2:
        fig, _ = plots.paths(ds, tuple(report.compared[:2]))
        figures["paths"] = (f"{model.outputs[report.compared[0]].short} and {model.outputs[report.compared[1]].short} "
                            "side by side, and their ratio on the same draws", fig)
    if report.sensitivity:
        labels = {str(n): group_label(model, str(n)) for n in report.sensitivity["sobol"]["parameter"].values}
        labels.update({str(n): group_label(model, str(n)) for n in report.sensitivity["tornado"]["parameter"].values})
        when = (day_words(ds["date"].values[0]) if one_day
                else month_words(report.sensitivity["sobol"].attrs["month"]))
        title = f"{headline.short}, {when}"
        fig, _ = plots.tornado_chart(report.sensitivity["tornado"], labels=labels, title=title,
                                     output_label=headline.short)
        figures["tornado"] = (f"{headline.short}, {when}: median with each input alone at its p5 and p95", fig)
        fig, _ = plots.sobol_bars(report.sensitivity["sobol"], labels=labels, title=title)
        figures["sobol"] = (f"{headline.short}, {when}: Sobol indices with 95% intervals", fig)
    figures.update(disclosure_figures(report))
    if report.calibration is not None:
        shown = list(model.reconcile.paths) if model.reconcile is not None else [report.headline]
        fig, _ = plots.plot_prior_posterior(report.calibration, shown)
        figures["calibration_bands"] = ("Prior and posterior of " + " and of ".join(model.outputs[o].short for o in shown),
                                        fig)
        if model.reconcile is not None:
            fig, _ = plots.plot_path_agreement(report.calibration, model.reconcile.paths, model.reconcile.within_factor)
            figures["calibration_paths"] = ("The two paths on the same draws, coloured by posterior weight", fig)
    for output in model.outputs:   # only outputs named after the model's own regions (not image_50_steps_wh)
        regions = {r: n for r, n in plots.region_outputs(ds, output).items()
                   if model.regions is not None and r in model.regions.names}
        if regions:
            fig, _ = plots.co2_by_region(ds, output, regions)
            figures[f"{output}_by_region"] = (f"{model.outputs[output].short} by region", fig)
            break
    return figures


def _distributions(report: Report) -> dict:
    """A distribution figure per compared output and per published figure's own boundary, on one kind
    of axis (all log or all linear), each with the published values and corners that belong to it."""
    ds, model = report.ds, report.model
    month = month_labels(ds)[report.focus]
    shown = report.compared + report.boundaries
    marks = {}
    for output in shown:
        rows = [r for r in report.scenario_rows if r["output"] == output and r["month"] == month
                and (model.scenarios[r["scenario"]].output or output) == output]
        marks[output] = [(_scenario_label(report, r), r["value"], SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)], "--")
                         for i, r in enumerate(rows)]
        marks[output] += [(f"{k} corner", r[f"corner_{side}"], CORNER_COLOUR, style)
                          for r in report.corner_rows if r["output"] == output and r["month"] == month
                          for k, side, style in (("bottom", "low", ":"), ("top", "high", "-."))]
    quantiles = list(ds["quantile"].values)
    spans = []
    for output in shown:
        q = ds[f"{output}_monthly"].values[:, report.focus]
        values = [q[quantiles.index(0.025)], q[quantiles.index(0.975)]] + [m[1] for m in marks[output]]
        spans.append(spans_decades(min(values), max(values)))
    log = any(spans)
    figures = {}
    for output in shown:
        fig, _ = plots.distribution(ds, output, month=report.focus, marks=marks[output], log=log)
        figures[f"distribution_{output}"] = (f"{model.outputs[output].short}, {month_words(month)}: distribution, "
                                             "published values and corners", fig)
    return figures


def _scenario_points(report: Report, output: str) -> list:
    """(middle day, the scenario's daily median there, label) for each scenario pinning ``output`` in month
    one, on ``output``'s own boundary."""
    ds, model = report.ds, report.model
    first = [r for r in report.scenario_rows if r["output"] == output and r["month"] == month_labels(ds)[0]
             and not model.scenarios[r["scenario"]].output]
    mid = ds["date"].values[min(14, ds.sizes["date"] - 1)]
    points = []
    for row in first:   # the scenario's daily value on the middle day, read from its own run
        sds = model.with_scenario(row["scenario"]).run(samples=min(int(ds.attrs["samples"]), SCENARIO_SAMPLES),
                                                       seed=int(ds.attrs["seed"]))
        value = float(sds[f"{output}_daily"].sel(quantile=0.5, date=mid))
        points.append((mid, value, _scenario_label(report, row)))
    return points


def _scenario_label(report, row) -> str:
    scenario = report.model.scenarios[row["scenario"]]
    return f"{scenario.short} (hypothesis)" if scenario.status == "U" else scenario.short

