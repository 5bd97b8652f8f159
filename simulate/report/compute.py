"""What a report shows, computed once: the main run, scenarios, corners, sensitivity, calibration."""
from __future__ import annotations

import dataclasses

import numpy as np

from ..plots.labels import month_labels, percentile_of
from .disclosure import narrowing

SOBOL_SAMPLES = 1 << 13     # Sobol base samples for the report's sensitivity table (at most)
TORNADO_SAMPLES = 100_000
KEEP_MAX = 1_000_000        # per-sample draws kept for percentiles (memory: ~200 bytes per sample)
SCENARIO_SAMPLES = 4096     # samples per scenario or corner run (their pinned outputs are constants)
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
    disclosure: dict = dataclasses.field(default_factory=dict)   # "disclosure"/"shapley" -> Dataset (report/disclosure.py)


def monthly_quantile(ds, name, q, m):
    """Quantile ``q`` of output ``name`` in month ``m``."""
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
    """Run the model (keeping per-sample draws), its scenarios and its two corners (figures are
    added by :func:`simulate.report.figures.make_figures`)."""
    keep = min(samples, KEEP_MAX)
    ds = model.run(samples=samples, seed=seed, keep=keep)
    headline = next(iter(model.outputs))
    unit = model.outputs[headline].unit
    compared = [name for name, out in model.outputs.items() if out.unit == unit and out.aggregate == "sum"] or [headline]
    months = month_labels(ds)
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
                                "p5": monthly_quantile(ds, output, 0.05, m), "p95": monthly_quantile(ds, output, 0.95, m),
                                "corner_low_percentile": percentile_of(draws, low),
                                "corner_high_percentile": percentile_of(draws, high)})
    calibration = None
    if model.observations or model.reconcile is not None:
        calibration = model.calibrate(samples=min(samples, KEEP_MAX), seed=seed, keep=5_000)
    return Report(model, ds, headline, compared, scenario_rows, corner_rows, {}, calibration,
                  _sensitivity(model, headline, samples, seed), narrowing(model, headline, samples, seed))


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
