"""What a report shows, computed once: the main run, scenarios, corners, sensitivity, calibration."""
from __future__ import annotations

import dataclasses

import numpy as np

from ..analysis.groups import input_groups
from ..engine.compiler import compile_model
from ..engine.runner import evaluate_draws
from ..plots.labels import month_labels, percentile_of
from ..results.run import most_kept

SOBOL_SAMPLES = 1 << 13     # Sobol base samples for the report's sensitivity table (at most)
TORNADO_SAMPLES = 100_000
KEEP_MAX = 1_000_000        # per-sample draws kept for percentiles (memory: ~200 bytes per sample)
SCENARIO_SAMPLES = 4096     # samples per scenario or corner run (their pinned outputs are constants)
DISCLOSURE_SAMPLES = 100_000     # kept draws the disclosures are read from (at most)
SHAPLEY_EVALUATIONS = 1 << 20    # model evaluations of the Shapley design (at most)
LOW, HIGH = 0.05, 0.95      # the percentiles a range product multiplies together
NEGLIGIBLE = 0.005          # a Sobol total index below this at its upper 95% bound: the input is not drawn
TAG_MEANING = {"S": "read in the source", "S2": "read in a secondary source", "I": "inferred (arithmetic shown)",
               "U": "not known for certain", "": "no status given"}


@dataclasses.dataclass
class Report:
    """What a report shows, computed once and rendered both as markdown and as HTML."""
    model: object
    ds: object                  # the main run, with kept per-sample monthly draws
    headline: str               # the output to quote ([model] headline); its unit picks the outputs compared
    compared: list              # outputs sharing the headline's unit and boundary (e.g. both energy paths)
    scenario_rows: list         # dicts: scenario, status, description, output, month, value, percentile
    corner_rows: list           # dicts: output, month, low/high corners, real p5/p95, their percentiles
    figures: dict               # file stem -> (title, Figure)
    calibration: object = None  # prior/posterior Dataset when the model declares observations or [reconcile]
    sensitivity: dict = dataclasses.field(default_factory=dict)  # "sobol"/"tornado" -> Dataset, headline output
    boundaries: list = dataclasses.field(default_factory=list)   # outputs on a published figure's own boundary
    focus: int = 0              # the month the distribution figures and the sensitivity analysis show
    headline_values: tuple = ()  # (p5, median, p95) of the headline output over the headline window
    disclosure: dict = dataclasses.field(default_factory=dict)   # "disclosure"/"shapley" -> Dataset (report/disclosure.py)


def monthly_quantile(ds, name, q, m):
    """Quantile ``q`` of output ``name`` in month ``m``."""
    return float(ds[f"{name}_monthly"].sel(quantile=q).values[m])


class Corners:
    """The corners of a range product on the model itself: every sampled input at its own 5th or 95th
    percentile, each pushed the way that raises (top) or lowers (bottom) an output.

    The way is found numerically: the model is evaluated with all inputs at their medians and one
    input at its p5, then at its p95; the sign of the change in the output over the chosen months is
    the sign of that input's effect (a denominator, a lag or a lifetime in a retirement term pushes
    the other way). Load shares over a dimension stay at their mean shares (a split has no p5 or p95).
    """

    def __init__(self, model):
        self.model = model
        self.program = compile_model(model)
        self.outputs = list(model.flat.outputs)
        groups = input_groups(model, self.program, join_correlated=False, by_coordinate=True)
        self.base = np.empty(len(self.program.draw_names))
        self.moved = []                     # (columns, p5 values, p95 values) of each input that can move
        for g in groups:
            cols = list(g.columns)
            if g.is_shares:
                alphas = g.blocks[0].alphas
                self.base[cols] = alphas / alphas.sum()
                continue
            dists = [g.distribution_of(c) for c in cols]
            self.base[cols] = [float(d.ppf(np.array([0.5]))[0]) for d in dists]
            if not g.fixed:
                self.moved.append((cols, np.array([float(d.ppf(np.array([LOW]))[0]) for d in dists]),
                                   np.array([float(d.ppf(np.array([HIGH]))[0]) for d in dists])))
        rows = [self.base]
        for cols, low, high in self.moved:
            for end in (low, high):
                row = self.base.copy()
                row[cols] = end
                rows.append(row)
        self.one_at_a_time = self._monthly(np.array(rows))      # (1 + 2 x inputs, outputs, months)

    def _monthly(self, X) -> np.ndarray:
        monthly = np.empty((len(X), self.program.n_outputs, self.program.n_months))
        evaluate_draws(self.program, X, np.empty((0, self.program.n_outputs, self.program.n_days)), monthly)
        return monthly

    def directions(self, output: str, months) -> np.ndarray:
        """+1 for each moved input whose p95 gives more of ``output`` over ``months`` than its p5, else -1
        (+1 when it makes no difference)."""
        o = self.outputs.index(output)
        y = self.one_at_a_time[1:, o, :][:, list(months)].sum(axis=1).reshape(-1, 2)
        with np.errstate(invalid="ignore"):
            return np.where(y[:, 0] > y[:, 1], -1, 1)

    def row(self, output: str, months, top: bool) -> np.ndarray:
        """The input values of the top (or bottom) corner of ``output`` over ``months``."""
        row = self.base.copy()
        for (cols, low, high), d in zip(self.moved, self.directions(output, months)):
            row[cols] = high if (d > 0) == top else low
        return row

    def values(self, output: str, months) -> tuple[np.ndarray, np.ndarray]:
        """(bottom corner, top corner) of ``output`` in every month."""
        o = self.outputs.index(output)
        monthly = self._monthly(np.array([self.row(output, months, False), self.row(output, months, True)]))
        return monthly[0, o], monthly[1, o]

    def fixed_values(self, output: str, months, top: bool) -> dict:
        """The corner as :meth:`Model.with_fixed` values (parameter or coordinate -> number or months)."""
        row, values = self.row(output, months, top), {}
        for cols, _, _ in self.moved:
            for c in cols:
                name, month = self.program.draw_keys[c]
                if month:
                    values.setdefault(name, {})[month] = float(row[c])
                else:
                    values[name] = float(row[c])
        return values


def corner_model(model, output: str, top: bool = True, months=None):
    """``model`` with every sampled input at its p5 or p95, each pushed the way that raises ``output``
    (``top``) or lowers it, over ``months`` (indices; default every month): see :class:`Corners`."""
    months = range(len(model.period.months)) if months is None else months
    return model.with_fixed(Corners(model).fixed_values(output, months, top))


def _pinned(ds, name, m) -> float | None:
    """The scenario's value of output ``name`` in month ``m`` when the scenario fixes it, else None."""
    q = ds[f"{name}_monthly"].values[:, m]
    return float(q[len(q) // 2]) if np.isclose(q.min(), q.max(), rtol=1e-9, atol=0) else None


def compute(model, samples: int, seed: int) -> Report:
    """Run the model (keeping per-sample draws), its scenarios and its two corners (figures are
    added by :func:`simulate.report.figures.make_figures`)."""
    keep = min(samples, KEEP_MAX, most_kept(compile_model(model)))   # the fleet's draws fill memory sooner
    ds = model.run(samples=samples, seed=seed, keep=keep)
    headline = model.headline_output
    unit = model.outputs[headline].unit
    boundaries = list(dict.fromkeys(s.output for s in model.scenarios.values() if s.output and s.output != headline))
    boundary = model.outputs[headline].boundary
    compared = [headline] + [name for name, out in model.outputs.items()
                             if name != headline and out.unit == unit and out.aggregate == out_aggregate(model, headline)
                             and name not in boundaries and out.boundary == boundary]
    months = month_labels(ds)
    small = min(samples, SCENARIO_SAMPLES)

    scenario_rows = []
    for name, scenario in model.scenarios.items():
        sds = model.with_scenario(name).run(samples=small, seed=seed)
        for output in dict.fromkeys(compared + ([scenario.output] if scenario.output else [])):
            for m, month in enumerate(months):
                value = _pinned(sds, output, m)
                if value is None:
                    continue
                draws = ds[f"{output}_monthly_samples"].values[:, m]
                scenario_rows.append({"scenario": name, "status": scenario.status, "description": scenario.description,
                                      "source": scenario.source, "output": output, "month": month, "value": value,
                                      "percentile": percentile_of(draws, value), "unit": model.outputs[output].unit,
                                      "label": scenario.short})

    corner_rows = []
    corners = Corners(model)
    window = headline_months(ds)
    for output in compared:
        lows, highs = corners.values(output, window)
        for m, month in enumerate(months):
            draws = ds[f"{output}_monthly_samples"].values[:, m]
            low, high = float(lows[m]), float(highs[m])
            if not (np.isfinite(low) and np.isfinite(high)):
                continue
            corner_rows.append({"output": output, "month": month, "unit": unit,
                                "corner_low": low, "corner_high": high,
                                "p5": monthly_quantile(ds, output, 0.05, m), "p95": monthly_quantile(ds, output, 0.95, m),
                                "corner_low_percentile": percentile_of(draws, low),
                                "corner_high_percentile": percentile_of(draws, high)})
    calibration = None
    if model.observations or model.reconcile is not None:
        calibration = model.calibrate(samples=min(samples, KEEP_MAX), seed=seed, keep=5_000)
    focus = focus_month(ds)
    report = Report(model, ds, headline, compared, scenario_rows, corner_rows, {}, calibration,
                    _sensitivity(model, headline, samples, seed, months[focus]), boundaries, focus)
    report.disclosure = narrowing(model, headline, samples, seed, months[focus])
    return report


def out_aggregate(model, name) -> str:
    return model.outputs[name].aggregate


def headline_months(ds) -> list:
    """The months of the window a report headlines: the headline (last full) year of a long period,
    else the first month."""
    from .yearly import headline_year, is_long, years

    return years(ds)[headline_year(ds)] if is_long(ds) else [0]


def focus_month(ds) -> int:
    """The month a report's distributions and sensitivity analysis show: the first of a short period,
    the last month of the headline (last full) year of a long one."""
    from .yearly import headline_year, is_long, years

    return years(ds)[headline_year(ds)][-1] if is_long(ds) else 0


def _sensitivity(model, output, samples, seed, month) -> dict:
    """Sobol indices and tornado swings of the headline output in ``month`` (none if all inputs are fixed)."""
    if all(p.dist is not None and p.dist.family == "fixed" and not p.by_month for p in model.all_parameters()):
        return {}
    base = min(SOBOL_SAMPLES, 1 << max(8, int(np.log2(max(samples, 1) // 16 or 1))))  # small runs, small designs
    sobol = model.sensitivity(output, "sobol", samples=base, seed=seed, month=month)
    tornado = model.sensitivity(output, "tornado", samples=min(samples, TORNADO_SAMPLES), seed=seed, month=month)
    # inputs whose total index is below NEGLIGIBLE even at its upper bound are named once, not drawn as empty bars
    inert = [str(n) for n in sobol["parameter"].values
             if float(sobol.sel(parameter=n)["total_order_high"]) < NEGLIGIBLE]
    return {"sobol": sobol.drop_sel(parameter=inert),
            "tornado": tornado.drop_sel(parameter=[n for n in inert if n in tornado["parameter"].values]),
            "inert": inert}


def narrowing(model, output: str, samples: int, seed: int, month: str | None = None) -> dict:
    """``{"disclosure": Dataset, "shapley": Dataset}`` for ``output`` in the report's ``month``
    (default the first; empty when every input is fixed)."""
    if all(p.dist is not None and p.dist.family == "fixed" and not p.by_month for p in model.all_parameters()):
        return {}
    month = month or model.period.months[0]
    return {"disclosure": model.sensitivity(output, "disclosure", samples=min(samples, DISCLOSURE_SAMPLES),
                                            seed=seed, month=month),
            "shapley": model.sensitivity(output, "shapley", samples=min(max(samples, 1 << 14), SHAPLEY_EVALUATIONS),
                                         seed=seed, month=month)}
