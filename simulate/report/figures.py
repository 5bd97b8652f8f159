"""The figures of a report, made from what :mod:`.compute` computed."""
from __future__ import annotations

from .. import plots
from ..plots.labels import month_labels
from .compute import SCENARIO_SAMPLES, TAG_MEANING, Report
from .disclosure import disclosure_figures
from .references import item_outputs, reference_figures
from .yearly import is_long

CORNER_COLOUR = "#b8443a"


def make_figures(report: Report) -> dict:
    """File stem -> (title, Figure) for every figure the report shows."""
    ds, model = report.ds, report.model
    figures = {}
    if is_long(ds) or model.references:
        figures.update(reference_figures(report, points_for=lambda output: _scenario_points(report, output)))
    else:
        fig, _ = plots.fan_chart(ds, report.headline, points=_scenario_points(report, report.headline))
        figures[f"fan_{report.headline}"] = (f"Daily {report.headline}: median, 50% and 90% intervals", fig)
    focus = -1 if is_long(ds) else 0   # the month the distribution figures show: the last of a long period
    if item_outputs(model) and not is_long(ds):
        fig, _ = plots.per_item(ds, item_outputs(model), model.references)
        figures["per_item"] = ("Energy per item: median, 50% and 90% intervals, with published figures", fig)
    for output in report.compared:
        marks = [(_scenario_label(r), r["value"]) for r in report.scenario_rows
                 if r["output"] == output and r["month"] == month_labels(ds)[focus]]
        marks += [(f"every input at its {k}", r[f"corner_{side}"], CORNER_COLOUR) for r in report.corner_rows
                  if r["output"] == output and r["month"] == month_labels(ds)[focus]
                  for k, side in (("p5", "low"), ("p95", "high"))]
        fig, _ = plots.distribution(ds, output, month=focus, marks=marks)
        figures[f"distribution_{output}"] = (f"Monthly {output}: distribution, published values and corners", fig)
    if len(report.compared) >= 2:
        fig, _ = plots.paths(ds, tuple(report.compared[:2]))
        figures["paths"] = (f"{report.compared[0]} and {report.compared[1]} side by side, and their ratio", fig)
    if report.sensitivity:
        fig, _ = plots.tornado_chart(report.sensitivity["tornado"])
        figures["tornado"] = (f"{report.headline}: median with each input alone at its p5 and p95", fig)
        fig, _ = plots.sobol_bars(report.sensitivity["sobol"])
        figures["sobol"] = (f"{report.headline}: Sobol indices with 95% intervals", fig)
    figures.update(disclosure_figures(report))
    if report.calibration is not None:
        fig, _ = plots.plot_prior_posterior(report.calibration, report.headline)
        figures["calibration_bands"] = (f"{report.headline}: prior and posterior", fig)
        if model.reconcile is not None:
            fig, _ = plots.plot_path_agreement(report.calibration, model.reconcile.paths, model.reconcile.within_factor)
            figures["calibration_paths"] = ("The two paths on the same draws, coloured by posterior weight", fig)
    for output in model.outputs:   # only outputs named after the model's own regions (not image_50_steps_wh)
        regions = {r: n for r, n in plots.region_outputs(ds, output).items()
                   if model.regions is not None and r in model.regions.names}
        if regions:
            fig, _ = plots.co2_by_region(ds, output, regions)
            figures[f"{output}_by_region"] = (f"{output} by region", fig)
            break
    return figures


def _scenario_points(report: Report, output: str) -> list:
    """(middle day, the scenario's daily median there, label) for each scenario pinning ``output`` in month one."""
    ds, model = report.ds, report.model
    first = [r for r in report.scenario_rows if r["output"] == output and r["month"] == month_labels(ds)[0]]
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
