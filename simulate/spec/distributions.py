"""Distribution families a model file may use, parsed and checked once, with scipy.stats twins.

Ranges mean what Guesstimate and Squiggle users expect: ``p5``/``p95`` are the 5th and 95th
percentiles (a 90% interval). :meth:`Distribution.to_scipy` gives the same law in scipy.stats,
which the tests use as the oracle and sensitivity analysis uses for inverse CDFs; the kernel's
encoding of each family lives with the compiler (:mod:`simulate.engine.encoding`).
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

import numpy as np

from ..errors import Location

Z95 = 1.6448536269514722   # scipy.stats.norm.ppf(0.95): the half-width of a 90% interval in sd units

# Family name -> the accepted sets of keys (each set is one way to write it).
FORMS = {
    "fixed": [{"value"}],
    "uniform": [{"min", "max"}, {"p5", "p95"}],
    "triangular": [{"min", "mode", "max"}],
    "pert": [{"min", "mode", "max"}, {"min", "mode", "max", "lambda"}],
    "normal": [{"mean", "sd"}, {"p5", "p95"}],
    "lognormal": [{"median", "gsd"}, {"p5", "p95"}, {"mu", "sigma"}],
    "beta": [{"alpha", "beta"}, {"alpha", "beta", "min", "max"}],
    "discrete": [{"values", "weights"}],
}
TRUNCATION_KEYS = {"lower", "upper"}  # normal only
META_KEYS = {"dist", "unit", "source", "rationale", "long_name", "by_month"}


@dataclass(frozen=True)
class Distribution:
    """One validated distribution: ``family`` plus canonical numeric ``params``."""

    family: str
    params: dict = field(default_factory=dict)

    # -- what the rest of the package asks of a distribution ------------------------------------
    def support(self) -> tuple[float, float]:
        """The smallest interval that holds every possible draw."""
        p = self.params
        if self.family == "fixed":
            return p["value"], p["value"]
        if self.family in ("uniform", "triangular", "pert", "beta"):
            return p["min"], p["max"]
        if self.family == "normal":
            return p.get("lower", -math.inf), p.get("upper", math.inf)
        if self.family == "lognormal":
            return 0.0, math.inf
        if self.family == "discrete":
            return min(p["values"]), max(p["values"])
        raise AssertionError(self.family)

    def to_scipy(self):
        """The same law as a frozen ``scipy.stats`` distribution (discrete: ``rv_discrete`` on indices)."""
        from scipy import stats   # a second to import: only when asked (reading a model does not)

        p = self.params
        if self.family == "fixed":  # a point mass (scipy's uniform with scale 0 gives NaN everywhere)
            return stats.rv_discrete(values=([p["value"]], [1.0]))
        if self.family == "uniform":
            return stats.uniform(loc=p["min"], scale=p["max"] - p["min"])
        if self.family == "triangular":
            width = p["max"] - p["min"]
            return stats.triang((p["mode"] - p["min"]) / width, loc=p["min"], scale=width)
        if self.family in ("pert", "beta"):
            a, b = self.beta_shapes()
            return stats.beta(a, b, loc=p["min"], scale=p["max"] - p["min"])
        if self.family == "normal":
            lower, upper = p.get("lower", -math.inf), p.get("upper", math.inf)
            if math.isinf(lower) and math.isinf(upper):
                return stats.norm(p["mean"], p["sd"])
            return stats.truncnorm((lower - p["mean"]) / p["sd"], (upper - p["mean"]) / p["sd"],
                                   loc=p["mean"], scale=p["sd"])
        if self.family == "lognormal":
            return stats.lognorm(p["sigma"], scale=math.exp(p["mu"]))
        if self.family == "discrete":
            weights = np.asarray(p["weights"], float)
            return stats.rv_discrete(values=(np.arange(len(weights)), weights / weights.sum()))
        raise AssertionError(self.family)

    def ppf(self, u):
        """Inverse CDF at ``u`` in (0, 1), in the parameter's own units."""
        u = np.asarray(u, float)
        if self.family == "fixed":
            return np.full_like(u, self.params["value"])
        if self.family == "discrete":
            values = np.asarray(self.params["values"], float)
            return values[self.to_scipy().ppf(u).astype(int)]
        return self.to_scipy().ppf(u)

    def beta_shapes(self) -> tuple[float, float]:
        p = self.params
        if self.family == "beta":
            return p["alpha"], p["beta"]
        lam = p.get("lambda", 4.0)
        width = p["max"] - p["min"]
        return (1 + lam * (p["mode"] - p["min"]) / width, 1 + lam * (p["max"] - p["mode"]) / width)

    def describe(self) -> str:
        """A short human reading, e.g. ``lognormal(p5=5e+08, p95=7e+08)``."""
        shown = self.params.get("_as_written", self.params)
        inner = ", ".join(f"{k}={_short(v)}" for k, v in shown.items() if not k.startswith("_"))
        return f"{self.family}({inner})"


def _short(value) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def parse_distribution(spec: dict, *, path=None, field: str) -> Distribution:
    """Check one distribution table from a model file and return it in canonical form.

    ``field`` is the dotted location used in error messages, e.g. ``parameters.pue``.
    """
    fail = Location(path, field).fail

    family = spec.get("dist")
    if family is None:
        fail("no distribution family given", fix=f"add dist = one of {sorted(FORMS)}")
    if family not in FORMS:
        fail("unknown distribution family", "dist", family, f"use one of {sorted(FORMS)}")
    given = {k for k in spec if k not in META_KEYS}
    allowed_extra = TRUNCATION_KEYS if family == "normal" else set()
    core = given - allowed_extra
    if core not in FORMS[family]:
        forms = " or ".join("{" + ", ".join(sorted(f)) + "}" for f in FORMS[family])
        fail(f"a {family} distribution takes {forms}; got {sorted(given) or 'nothing'}",
             fix="give exactly one of those sets of keys")

    values = {}
    for key in given:
        raw = spec[key]
        if family == "discrete":
            if not isinstance(raw, list) or not raw or not all(_is_number(v) for v in raw):
                fail("must be a non-empty list of numbers", key, raw)
            values[key] = [float(v) for v in raw]
            continue
        if not _is_number(raw) or not math.isfinite(float(raw)):
            fail("must be a finite number", key, raw, "write a plain number such as 1.2 or 3e6")
        values[key] = float(raw)

    params = _canonical(family, values, fail)
    params["_as_written"] = {k: spec[k] for k in spec if k in given}
    return Distribution(family, params)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _canonical(family: str, v: dict, fail) -> dict:
    """Turn the keys as written into the parameters each family is sampled from, checking them."""
    if "p5" in v and v["p5"] >= v["p95"]:
        fail("p5 must be below p95", "p5", v["p5"], f"swap them or widen the interval (p95 = {v['p95']:g})")
    if family == "fixed":
        return {"value": v["value"]}
    if family == "uniform":
        if "p5" in v:
            width = (v["p95"] - v["p5"]) / 0.9
            v = {"min": v["p5"] - 0.05 * width, "max": v["p95"] + 0.05 * width}
        if v["min"] >= v["max"]:
            fail("min must be below max", "min", v["min"], "swap min and max")
        return {"min": v["min"], "max": v["max"]}
    if family in ("triangular", "pert"):
        if not v["min"] <= v["mode"] <= v["max"] or v["min"] == v["max"]:
            fail("needs min <= mode <= max with min < max", "mode", v["mode"],
                 f"put mode between min ({v['min']:g}) and max ({v['max']:g})")
        out = {"min": v["min"], "mode": v["mode"], "max": v["max"]}
        if "lambda" in v:
            if v["lambda"] <= 0:
                fail("a PERT lambda must be positive", "lambda", v["lambda"], "use 4, the usual value")
            out["lambda"] = v["lambda"]
        return out
    if family == "beta":
        for key in ("alpha", "beta"):
            if v[key] <= 0:
                fail("beta shape parameters must be positive", key, v[key], "use a value above 0")
        lo, hi = v.get("min", 0.0), v.get("max", 1.0)
        if lo >= hi:
            fail("min must be below max", "min", lo, "swap min and max")
        return {"alpha": v["alpha"], "beta": v["beta"], "min": lo, "max": hi}
    if family == "normal":
        if "p5" in v:
            v = {**v, "mean": (v["p5"] + v["p95"]) / 2, "sd": (v["p95"] - v["p5"]) / (2 * Z95)}
        if v["sd"] <= 0:
            fail("a standard deviation must be positive", "sd", v["sd"], "use a spread above 0")
        out = {"mean": v["mean"], "sd": v["sd"]}
        lower, upper = v.get("lower", -math.inf), v.get("upper", math.inf)
        if lower >= upper:
            fail("lower must be below upper", "lower", lower, "swap the truncation bounds")
        unit = statistics.NormalDist()
        mass = unit.cdf((upper - out["mean"]) / out["sd"]) - unit.cdf((lower - out["mean"]) / out["sd"])
        if mass < 1e-6:
            fail("the truncation bounds keep almost none of the normal's mass", "lower", lower,
                 "move the bounds towards the mean")
        if "lower" in v:
            out["lower"] = lower
        if "upper" in v:
            out["upper"] = upper
        return out
    if family == "lognormal":
        if "p5" in v:
            if v["p5"] <= 0:
                fail("a lognormal's p5 must be positive", "p5", v["p5"], "use a positive lower percentile")
            mu = (math.log(v["p5"]) + math.log(v["p95"])) / 2
            sigma = (math.log(v["p95"]) - math.log(v["p5"])) / (2 * Z95)
        elif "median" in v:
            if v["median"] <= 0:
                fail("a lognormal's median must be positive", "median", v["median"], "use a positive median")
            if v["gsd"] <= 1:
                fail("a geometric standard deviation must be above 1", "gsd", v["gsd"],
                     "use e.g. 1.5 for a spread of x/÷1.5 at one sigma")
            mu, sigma = math.log(v["median"]), math.log(v["gsd"])
        else:
            if v["sigma"] <= 0:
                fail("sigma must be positive", "sigma", v["sigma"], "use a spread above 0")
            mu, sigma = v["mu"], v["sigma"]
        return {"mu": mu, "sigma": sigma}
    if family == "discrete":
        if len(v["values"]) != len(v["weights"]):
            fail("values and weights must have the same length", "weights", v["weights"],
                 f"give one weight per value ({len(v['values'])})")
        if any(w < 0 for w in v["weights"]) or sum(v["weights"]) <= 0:
            fail("weights must be non-negative with a positive sum", "weights", v["weights"],
                 "use weights like [1, 2, 1]")
        return {"values": v["values"], "weights": v["weights"]}
    raise AssertionError(family)
