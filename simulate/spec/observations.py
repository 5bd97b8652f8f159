"""What was measured: ``[[observations]]`` and ``[reconcile]`` of a model file.

An observation says how likely a sampled world is given something measured: "ChatGPT served
about 3 billion queries in January 2023 (lognormal, sigma 0.2)". Reconciling two paths is the
same thing: "the per-query and fleet paths agree within a factor k" is a lognormal likelihood on
their monthly ratio (90% of it within [1/k, k]) or a hard interval. Calibration on them is in
:mod:`simulate.analysis.calibration`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import Location
from . import fields
from .distributions import Z95
from .fields import known_keys
from .schema import OBSERVATION, RECONCILE


@dataclass(frozen=True)
class Observation:
    quantity: str            # an output (its monthly value) or a sampled parameter
    month: str | None        # for outputs: which month (None: every month of the period)
    likelihood: str          # "normal" | "lognormal" | "interval"
    value: float = math.nan  # normal: mean; lognormal: median
    spread: float = math.nan  # normal: sd; lognormal: sigma of log
    low: float = math.nan    # interval bounds
    high: float = math.nan
    source: str = ""

    def log_likelihood(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            if self.likelihood == "normal":
                return -0.5 * ((x - self.value) / self.spread) ** 2
            if self.likelihood == "lognormal":
                return np.where(x > 0, -0.5 * ((np.log(x) - math.log(self.value)) / self.spread) ** 2, -np.inf)
            return np.where((x >= self.low) & (x <= self.high), 0.0, -np.inf)

    def describe(self) -> str:
        where = f"{self.quantity}" + (f" in {self.month}" if self.month else "")
        if self.likelihood == "interval":
            return f"{where} in [{self.low:.3g}, {self.high:.3g}]"
        return f"{where} ~ {self.likelihood}({self.value:.3g}, {self.spread:.3g})"


@dataclass(frozen=True)
class Reconcile:
    paths: tuple             # (output A, output B): compared by their monthly ratio A / B
    within_factor: float
    likelihood: str          # "lognormal" (90% within the factor) or "interval" (hard bound)
    source: str = ""

    def observation(self) -> Observation:
        if self.likelihood == "interval":
            return Observation("path_ratio", None, "interval", low=1 / self.within_factor,
                               high=self.within_factor, source=self.source)
        return Observation("path_ratio", None, "lognormal", value=1.0,
                           spread=math.log(self.within_factor) / Z95, source=self.source)


def parse_observation(entry, *, model, path=None, field="observations") -> Observation:
    """Check one observation table (from a model file or a script) against ``model``."""
    where = Location(path, field)
    fail = where.fail
    if not isinstance(entry, dict):
        fail("must be a table", value=entry, fix='write quantity = "...", likelihood = "lognormal", value, sigma')
    OBSERVATION.check(entry, where)   # types and sizes, for tables given from a script too
    known_keys(entry, {"quantity", "month", "likelihood", "value", "sd", "sigma", "low", "high", "source",
                       "rationale"}, where)
    quantity = entry.get("quantity")
    sampled = {p.name for p in model.all_parameters()}
    if quantity not in model.outputs and quantity not in sampled:
        fail("is not an output or a sampled parameter", "quantity", quantity,
             "observe a quantity listed under [outputs] (add it there) or a parameter")
    if quantity in sampled and any(p.varies_by_month for p in model.all_parameters() if p.name == quantity):
        fail("observing a month-varying parameter is not supported", "quantity", quantity,
             "observe an output that depends on it instead")
    month = entry.get("month")
    if month is not None and month not in model.period.months:
        fail("is not a month of the period", "month", month,
             f"use one of {model.period.months[0]} .. {model.period.months[-1]}")
    kind = entry.get("likelihood", "normal")
    source = entry.get("source")
    if not isinstance(source, str) or not source.strip():
        fail("the source is missing", "source", fix='add source = "..." saying where the observation comes from')

    def number(key, positive=False):
        return fields.number(entry, key, where, positive=positive)

    if kind == "normal":
        return Observation(quantity, month, kind, value=number("value"), spread=number("sd", True), source=source)
    if kind == "lognormal":
        return Observation(quantity, month, kind, value=number("value", True), spread=number("sigma", True),
                           source=source)
    if kind == "interval":
        low, high = number("low"), number("high")
        if low >= high:
            fail("low must be below high", "low", low, "swap them")
        return Observation(quantity, month, kind, low=low, high=high, source=source)
    fail("unknown likelihood", "likelihood", kind, "use normal (value, sd), lognormal (value, sigma) or interval (low, high)")


def parse_reconcile(table, *, model, path=None) -> Reconcile:
    RECONCILE.check(table, Location(path, "reconcile"))
    fail = Location(path, "reconcile").fail

    paths = table.get("paths")
    if not isinstance(paths, list) or len(paths) != 2 or not all(p in model.outputs for p in paths):
        fail("must name two outputs", "paths", paths, 'write paths = ["energy_kwh", "fleet_energy_kwh"]')
    factor = table.get("within_factor")
    if not isinstance(factor, (int, float)) or isinstance(factor, bool) or not factor > 1:
        fail("must be a number above 1", "within_factor", factor, "write within_factor = 2")
    kind = table.get("likelihood", "lognormal")
    if kind not in ("lognormal", "interval"):
        fail("must be lognormal or interval", "likelihood", kind, 'write likelihood = "lognormal"')
    source = table.get("source")
    if not isinstance(source, str) or not source.strip():
        fail("the source (or rationale) is missing", "source", fix='add source = "..."')
    return Reconcile(tuple(paths), float(factor), kind, source)
