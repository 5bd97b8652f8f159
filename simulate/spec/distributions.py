"""Distribution families a model file may use, parsed and checked once, with scipy.stats twins.

Ranges mean what Guesstimate and Squiggle users expect: ``p5``/``p95`` are the 5th and 95th
percentiles (a 90% interval); any two percentiles work too (``p10``/``p90``, ``p25``/``p75``).
``range = "5 to 10"`` is Squiggle's ``5 to 10``: a 90% interval, lognormal when both ends are
positive and normal otherwise (https://www.squiggle-language.com/docs/Api/Dist#to).
``loguniform`` is uniform in the logarithm; ``mixture`` draws from one of several ``components``
with the given ``weights``. :meth:`Distribution.to_scipy` gives the same law in scipy.stats,
which the tests use as the oracle and sensitivity analysis uses for inverse CDFs; the kernel's
encoding of each family lives with the compiler (:mod:`simulate.engine.encoding`).
"""
from __future__ import annotations

import functools
import math
import re
import statistics
from dataclasses import dataclass, field

import numpy as np

from ..errors import Location

Z95 = 1.6448536269514722   # scipy.stats.norm.ppf(0.95): the half-width of a 90% interval in sd units

# Family name -> the accepted sets of keys (each set is one way to write it). "pA/pB" stands for any
# two percentiles, e.g. p5 and p95 (the usual 90% interval), p10 and p90, or "p2.5" and "p97.5".
PAIR = frozenset({"pA/pB"})
FORMS = {
    "fixed": [{"value"}],
    "uniform": [{"min", "max"}, PAIR],
    "loguniform": [{"min", "max"}, PAIR],
    "triangular": [{"min", "mode", "max"}],
    "pert": [{"min", "mode", "max"}, {"min", "mode", "max", "lambda"}],
    "normal": [{"mean", "sd"}, PAIR],
    "lognormal": [{"median", "gsd"}, PAIR, {"mu", "sigma"}],
    "beta": [{"alpha", "beta"}, {"alpha", "beta", "min", "max"}],
    "discrete": [{"values", "weights"}],
    "mixture": [{"components", "weights"}],
}
TRUNCATION_KEYS = {"lower", "upper"}  # normal only
META_KEYS = {"dist", "unit", "source", "rationale", "long_name", "by_month"}
PERCENTILE = re.compile(r"p(\d+(?:\.\d+)?)")   # p5, p95, p2.5: a percentile key
RANGE = re.compile(r"^\s*(\S+)\s+to\s+(\S+)\s*$")   # "5 to 10", "-3 to 4", "1e6 to 2e6"
RANGE_FAMILIES = ("lognormal", "normal", "uniform", "loguniform")   # families a "range" may name
NOT_IN_MIXTURE = ("fixed", "discrete", "mixture")


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
        if self.family in ("uniform", "loguniform", "triangular", "pert", "beta"):
            return p["min"], p["max"]
        if self.family == "mixture":
            ends = [c.support() for c in p["components"]]
            return min(lo for lo, _ in ends), max(hi for _, hi in ends)
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
        if self.family == "loguniform":
            return stats.loguniform(p["min"], p["max"])
        if self.family == "mixture":
            return MixtureLaw(tuple(c.to_scipy() for c in p["components"]), p["weights"])
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
        if self.family == "mixture":
            parts = [f"{w:.3g} x {c.describe()}" for c, w in zip(self.params["components"], self.params["weights"])]
            return f"mixture({', '.join(parts)})"
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

    written_range = None
    if "range" in spec:
        spec = _range_spec(spec, fail)
        written_range = spec.pop("_range")
    family = spec.get("dist")
    if family is None:
        fail("no distribution family given", fix=f'add dist = one of {sorted(FORMS)}, or range = "5 to 10"')
    if family not in FORMS:
        fail("unknown distribution family", "dist", family, f"use one of {sorted(FORMS)}")
    given = {k for k in spec if k not in META_KEYS}
    allowed_extra = TRUNCATION_KEYS if family == "normal" else set()
    core = given - allowed_extra
    percentiles = {k for k in core if PERCENTILE.fullmatch(k)}
    shape = (core - percentiles) | ({"pA/pB"} if len(percentiles) == 2 else percentiles)
    if shape not in FORMS[family]:
        forms = " or ".join("{" + ", ".join(sorted(f)).replace("pA/pB", "two percentiles such as p5, p95") + "}"
                            for f in FORMS[family])
        fail(f"a {family} distribution takes {forms}; got {sorted(given) or 'nothing'}",
             fix="give exactly one of those sets of keys")
    if family == "mixture":
        return _mixture(spec, path, field, fail)

    values = {}
    for key in given:
        raw = spec[key]
        if family == "discrete":
            if not isinstance(raw, list) or not raw or not all(_is_number(v) and math.isfinite(v) for v in raw):
                fail("must be a non-empty list of finite numbers", key, raw, "write e.g. [1, 2, 1]")
            values[key] = [float(v) for v in raw]
            continue
        if not _is_number(raw) or not math.isfinite(float(raw)):
            fail("must be a finite number", key, raw, "write a plain number such as 1.2 or 3e6")
        values[key] = float(raw)

    if percentiles:
        values = _from_percentiles(family, values, sorted(percentiles, key=_level), fail)
    params = _canonical(family, values, fail)
    if not all(math.isfinite(v) for v in np.ravel(list(_numbers(params)))):
        fail("these numbers are too large to compute with (their spread overflows a 64-bit float)", value=spec.get(
             "dist"), fix="write them in a larger unit so that they stay below about 1e300")
    params["_as_written"] = {k: spec[k] for k in spec if k in given}
    if written_range is not None:
        params["_as_written"] = {"range": written_range}
    return Distribution(family, params)


def _numbers(params: dict):
    for value in params.values():
        yield from (value if isinstance(value, list) else [value])
def _level(key: str) -> float:
    """The percentile a key names: ``p2.5`` -> 2.5."""
    return float(PERCENTILE.fullmatch(key).group(1))


def _range_spec(spec: dict, fail) -> dict:
    """``range = "5 to 10"`` as the 5th and 95th percentiles of a lognormal (both ends positive) or a
    normal (Squiggle's ``to``), or of the family ``dist`` names."""
    text = spec["range"]
    match = RANGE.match(text) if isinstance(text, str) else None
    if match is None:
        fail('must read "LOW to HIGH"', "range", text, 'write e.g. range = "5 to 10" (a 90% interval)')
    try:
        low, high = (float(x.replace("_", "").replace(",", "")) for x in match.groups())
    except ValueError:
        fail("has an end that is not a number", "range", text, 'write numbers, e.g. range = "2e6 to 5e6"')
    if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
        fail("needs LOW below HIGH", "range", text, f'write range = "{min(low, high):g} to {max(low, high):g}"')
    family = spec.get("dist") or ("lognormal" if low > 0 else "normal")
    if family not in RANGE_FAMILIES:
        fail("a range is a 90% interval of a lognormal, normal, uniform or loguniform", "dist", family,
             "drop dist (lognormal for positive ranges, else normal) or name one of those")
    others = {k for k in spec if k not in META_KEYS and k != "range" and k not in TRUNCATION_KEYS}
    if others:
        fail(f"a range stands for the whole distribution; also got {sorted(others)}", "range", text,
             "give either range or the family's own keys")
    rest = {k: v for k, v in spec.items() if k not in ("range", "dist")}
    return {**rest, "dist": family, "p5": low, "p95": high, "_range": text}   # _range: as written, for describe


def _from_percentiles(family: str, v: dict, keys: list, fail) -> dict:
    """Two percentiles ``pA < pB`` as the family's own parameters (p5/p95 exactly as before: a 90% interval)."""
    (ka, kb), (a, b) = keys, (v[keys[0]], v[keys[1]])
    la, lb = _level(ka), _level(kb)
    if not 0 < la < lb < 100:
        bad = kb if lb >= 100 else ka
        fail("percentiles must lie strictly between 0 and 100", bad, v[bad], "use e.g. p5 and p95, or p10 and p90")
    if a >= b:
        fail(f"{ka} must be below {kb}", ka, a, f"swap them or widen the interval ({kb} = {b:g})")
    rest = {k: x for k, x in v.items() if k not in keys}
    if family in ("lognormal", "loguniform") and a <= 0:
        fail(f"a {family}'s {ka} must be positive", ka, a, "use a positive lower percentile")
    if family in ("uniform", "loguniform"):
        x, y = (math.log(a), math.log(b)) if family == "loguniform" else (a, b)
        width = (y - x) / ((lb - la) / 100)
        lo, hi = x - la / 100 * width, y + (100 - lb) / 100 * width
        lo, hi = (math.exp(lo), math.exp(hi)) if family == "loguniform" else (lo, hi)
        return {**rest, "min": lo, "max": hi}
    if la + lb == 100:       # symmetric: the centre is the midpoint (p5/p95 as ever)
        z = Z95 if lb == 95 else _ndtri(lb / 100)
        x, y = (math.log(a), math.log(b)) if family == "lognormal" else (a, b)
        centre, spread = (x + y) / 2, (y - x) / (2 * z)
    else:
        za, zb = _ndtri(la / 100), _ndtri(lb / 100)
        x, y = (math.log(a), math.log(b)) if family == "lognormal" else (a, b)
        spread = (y - x) / (zb - za)
        centre = x - za * spread
    if family == "lognormal":
        return {**rest, "mu": centre, "sigma": spread}
    return {**rest, "mean": centre, "sd": spread}


def _ndtri(p: float) -> float:
    """``scipy.stats.norm.ppf(p)`` (scipy.special is imported only for percentiles other than p5/p95)."""
    from scipy import special

    return float(special.ndtri(p))


def _mixture(spec: dict, path, field: str, fail) -> Distribution:
    """``dist = "mixture"``: ``components`` (distribution tables) drawn with probabilities ``weights``."""
    components, weights = spec["components"], spec["weights"]
    if not isinstance(components, list) or len(components) < 2 or not all(isinstance(c, dict) for c in components):
        fail("must be a list of at least two distribution tables", "components", components,
             'write components = [{ dist = "lognormal", p5 = 1, p95 = 3 }, { dist = "uniform", min = 2, max = 8 }]')
    if (not isinstance(weights, list) or len(weights) != len(components) or not all(_is_number(w) for w in weights)
            or any(w < 0 for w in weights) or sum(weights) <= 0):
        fail(f"must be {len(components)} non-negative numbers with a positive sum (one per component)", "weights",
             weights, "write e.g. weights = [0.7, 0.3]")
    parsed = []
    for i, component in enumerate(components):
        where = f"{field}.components[{i}]"
        if component.get("dist") in NOT_IN_MIXTURE:
            Location(path, where).fail("a mixture's components are continuous distributions", "dist",
                                       component.get("dist"), "use lognormal, normal, uniform, loguniform, "
                                       "triangular, pert or beta; a point mass belongs in a discrete distribution")
        extra = set(component) & (META_KEYS - {"dist"})
        if extra:
            Location(path, where).fail(f"a component takes only its distribution's keys; got {sorted(extra)}",
                                       fix="give unit and source once, on the parameter")
        parsed.append(parse_distribution(component, path=path, field=where))
    total = float(sum(weights))
    return Distribution("mixture", {"components": tuple(parsed), "weights": tuple(float(w) / total for w in weights),
                                    "_as_written": {"weights": weights}})


class MixtureLaw:
    """A finite mixture of frozen scipy.stats laws: ``cdf = sum(w_i cdf_i)``; quantiles by bisection
    between the components' own quantiles (the mixture's u-quantile lies between their smallest
    and largest), with the survival function for upper quantiles so that tails keep full precision."""

    def __init__(self, components: tuple, weights: tuple):
        self.components, self.weights = components, np.asarray(weights, float)

    def cdf(self, x):
        return sum(w * c.cdf(x) for c, w in zip(self.components, self.weights))

    def sf(self, x):
        return sum(w * c.sf(x) for c, w in zip(self.components, self.weights))

    def pdf(self, x):
        return sum(w * c.pdf(x) for c, w in zip(self.components, self.weights))

    def mean(self):
        return float(sum(w * c.mean() for c, w in zip(self.components, self.weights)))

    def ppf(self, u):
        return self._invert(np.asarray(u, float), self.cdf, lambda c, q: c.ppf(q), increasing=True)

    def isf(self, q):
        return self._invert(np.asarray(q, float), self.sf, lambda c, p: c.isf(p), increasing=False)

    def rvs(self, size, random_state=None):
        rng = np.random.default_rng(random_state)
        which = rng.choice(len(self.components), size=size, p=self.weights)
        draws = np.empty(size)
        for k, component in enumerate(self.components):
            chosen = which == k
            draws[chosen] = component.rvs(size=int(chosen.sum()), random_state=rng)
        return draws

    def _invert(self, target, function, component_quantile, increasing):
        ends = np.array([component_quantile(c, target) for c in self.components])
        lo, hi = ends.min(axis=0), ends.max(axis=0)
        for _ in range(2100):   # bisection on floats: stops when lo and hi are neighbours
            mid = lo + (hi - lo) / 2
            if np.all((mid == lo) | (mid == hi)):
                break
            below = function(mid) < target if increasing else function(mid) > target
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return hi if increasing else lo

    @functools.cached_property
    def key(self) -> tuple:
        """What identifies this law (for caching its quantile table)."""
        return tuple((c.dist.name, tuple(c.args), tuple(sorted(c.kwds.items()))) for c in self.components) + (
            tuple(self.weights.tolist()),)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _canonical(family: str, v: dict, fail) -> dict:
    """Turn the keys as written into the parameters each family is sampled from, checking them."""
    if family == "fixed":
        return {"value": v["value"]}
    if family in ("uniform", "loguniform"):
        if v["min"] >= v["max"]:
            fail("min must be below max", "min", v["min"], "swap min and max")
        if family == "loguniform" and v["min"] <= 0:
            fail("a loguniform's min must be positive", "min", v["min"], "use a positive lower end")
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
        if "median" in v:
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
        if any(w < 0 for w in v["weights"]) or not 0 < sum(v["weights"]) < math.inf:
            fail("weights must be non-negative with a positive sum", "weights", v["weights"],
                 "use weights like [1, 2, 1]")
        return {"values": v["values"], "weights": v["weights"]}
    raise AssertionError(family)
