"""Hypothesis strategies for every class of input issue 18 lists, and how to judge what came back.

A strategy draws a :class:`Case`: a model document (the probe model of :mod:`common` with one thing
changed, or a small model built for the class), whether it must be refused (and at which field)
or run, and for runs how to check the numbers. :func:`judge_file` loads and runs a case through
the Python API, :func:`judge_cli` through the real executable; both return an outcome:

* ``"refused"``: one ModelError / exit status 2, one line naming the file and the field;
* ``"ran right"``: a run whose numbers are checked (quantiles against numpy's on the same draws);
* ``"said imprecise"``: a run that said plainly its quantiles are not within the stated error;
* the failures the issue counts: ``"traceback"``, ``"wrong exit code"``, ``"unclear message"``,
  ``"silent wrong result"``, ``"partial file"``.
"""
from __future__ import annotations

import copy
import datetime as dt
import math
import os
import re
import subprocess
import tomllib
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

import simulate
from tests.reliability.common import BASE, EXECUTABLE

STATED_ERROR = 0.0039       # the README: quantiles within 0.39% of the exact sample quantile
TINY = 1e-300               # below this, values sit in the bins next to zero: compared absolutely
GOOD = ("refused", "ran right", "said imprecise")
PROBE = tomllib.loads(BASE)
FIRST, LAST = dt.date(1678, 1, 1), dt.date(2261, 12, 31)   # what the results' datetime64[ns] can hold


@dataclass(frozen=True)
class Raw:
    """A value written into the TOML text as it is (deeply nested literals)."""
    text: str


@dataclass
class Case:
    cls: str                       # the class of input, as the issue names them
    doc: dict                      # the model document
    refuse: bool | None            # must it be refused? (None: either, judged on its own terms)
    field: str | None = None       # the field a refusal must name (None: the file is enough)
    also: tuple = ()               # other fragments, any of which may stand for the field
    check: object = None           # for runs: check(model, dataset) -> True when the numbers are right
    samples: int = 2000
    keep: bool = False
    note: str = ""

    def text(self) -> str:
        return to_toml(self.doc)


# -- TOML writing ------------------------------------------------------------------------------------
_BARE = re.compile(r"[A-Za-z0-9_-]+")


def key(k) -> str:
    return k if _BARE.fullmatch(k) else string(k)


def string(s: str) -> str:
    out = []
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def scalar(v) -> str:
    if isinstance(v, Raw):
        return v.text
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return string(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(scalar(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{key(k)} = {scalar(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


def _is_table(v) -> bool:
    return isinstance(v, dict)


def _is_table_array(v) -> bool:
    return isinstance(v, list) and v and all(isinstance(x, dict) for x in v)


def to_toml(doc: dict) -> str:
    """``doc`` as TOML: tables of tables as [headers], lists of tables as [[headers]], the rest inline."""
    lines = []

    def table(path, t):
        plain = {k: v for k, v in t.items() if not _is_table(v) and not _is_table_array(v)}
        subs = {k: v for k, v in t.items() if _is_table(v) and (not path or any(_is_table(x) for x in v.values()))}
        inline = {k: v for k, v in t.items() if _is_table(v) and k not in subs}
        if path and (plain or inline or not subs):
            lines.append("[" + ".".join(key(p) for p in path) + "]")
        for k, v in {**plain, **inline}.items():
            lines.append(f"{key(k)} = {scalar(v)}")
        if plain or inline:
            lines.append("")
        for k, v in subs.items():
            table(path + [k], v)
        for k, v in t.items():
            if _is_table_array(v):
                for item in v:
                    lines.append("[[" + ".".join(key(p) for p in path + [k]) + "]]")
                    lines.extend(f"{key(a)} = {scalar(b)}" for a, b in item.items())
                    lines.append("")

    table([], doc)
    return "\n".join(lines) + "\n"


def dotted(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (("." if out else "") + str(p))
    return out


def with_value(path, value, doc=None) -> dict:
    doc = copy.deepcopy(PROBE if doc is None else doc)
    target = doc
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = value
    return doc


# -- fields of the probe model ---------------------------------------------------------------------------
STRING_FIELDS = [("model", "title"), ("parameters", "visits", "unit"), ("parameters", "visits", "source"),
                 ("parameters", "pue", "dist"), ("derived", "energy_kwh"), ("derived", "fleet_energy_kwh", "unit"),
                 ("derived", "fleet_energy_kwh", "long_name"), ("outputs", "co2_kg", "aggregate"),
                 ("outputs", "co2_kg", "long_name"), ("outputs", "energy_kwh"), ("regions", "shares"),
                 ("regions", "source"), ("regions", "east", "intensity_g_per_kwh", "source"),
                 ("regions", "east", "intensity_g_per_kwh", "dist"), ("scenarios", "low", "description"),
                 ("scenarios", "low", "status"), ("profile", "source"), ("correlations", 0, "between", 1),
                 ("correlations", 0, "source"), ("observations", 0, "quantity"), ("observations", 0, "likelihood"),
                 ("reconcile", "paths", 0), ("reconcile", "likelihood"), ("references", 0, "output"),
                 ("references", 0, "unit"), ("references", 0, "label"), ("references", 0, "per")]
NUMBER_FIELDS = [("parameters", "visits", "p5"), ("parameters", "visits", "p95"), ("parameters", "wh_per_visit", "max"),
                 ("parameters", "pue", "mode"), ("parameters", "queries", "values", 1),
                 ("parameters", "queries", "weights", 0), ("regions", "concentration"), ("regions", "east", "share"),
                 ("regions", "west", "intensity_g_per_kwh", "min"), ("profile", "trend_per_day"),
                 ("profile", "weekday_weights", 3), ("scenarios", "low", "pue"), ("correlations", 0, "rank"),
                 ("observations", 0, "value"), ("observations", 0, "sigma"), ("reconcile", "within_factor"),
                 ("references", 0, "value"), ("references", 0, "year")]
DATE_FIELDS = [("period", "start"), ("period", "end")]
TABLES = [(), ("model",), ("period",), ("profile",), ("parameters", "visits"), ("parameters", "queries"),
          ("regions",), ("regions", "east"), ("regions", "east", "intensity_g_per_kwh"),
          ("derived", "fleet_energy_kwh"), ("outputs", "co2_kg"), ("correlations", 0), ("observations", 0),
          ("reconcile",), ("references", 0)]
NAMED = {"parameters": "gpu_utilisation", "derived": "fleet_energy_kwh", "regions": "west", "scenarios": "low"}


# -- the classes -----------------------------------------------------------------------------------------
wrong_for_string = st.one_of(st.integers(-5, 5), st.floats(allow_nan=False), st.booleans(),
                             st.lists(st.text(max_size=3), min_size=1, max_size=2),
                             st.fixed_dictionaries({"a": st.integers(0, 3)}), st.just(dt.date(2023, 1, 1)))
wrong_for_number = st.one_of(st.text(max_size=4), st.booleans(), st.lists(st.integers(0, 3), min_size=1, max_size=2),
                             st.fixed_dictionaries({"a": st.integers(0, 3)}), st.just(dt.date(2023, 1, 1)))


@st.composite
def wrong_types(draw):
    if draw(st.booleans()):
        path = draw(st.sampled_from(STRING_FIELDS))
        value = draw(wrong_for_string)
    elif draw(st.integers(0, 4)):
        path = draw(st.sampled_from(NUMBER_FIELDS))
        value = draw(wrong_for_number)
    else:
        path = draw(st.sampled_from(DATE_FIELDS))
        value = draw(st.one_of(st.integers(0, 3000), st.lists(st.integers(), min_size=1, max_size=2), st.booleans()))
    return Case("wrong types", with_value(path, value), True, dotted(path))


@st.composite
def huge_numbers(draw):
    path = draw(st.sampled_from(NUMBER_FIELDS))
    digits = draw(st.one_of(st.integers(310, 4300), st.integers(4301, 20_000)))
    value = Raw(draw(st.sampled_from(["", "-"])) + "9" * digits)     # str(int) itself refuses > 4300 digits
    too_long = digits > 4300   # the TOML reader itself refuses it, naming the line rather than the field
    return Case("huge numbers", with_value(path, value), True, None if too_long else dotted(path),
                also=("a value cannot be read",) if too_long else ())


@st.composite
def non_finite_numbers(draw):
    path = draw(st.sampled_from(NUMBER_FIELDS))
    return Case("non-finite numbers", with_value(path, draw(st.sampled_from([math.nan, math.inf, -math.inf]))), True,
                dotted(path))


OUT_OF_BOUNDS = [
    (("regions", "east", "share"), [1.5, -0.1], "regions.east.share"),
    (("regions", "concentration"), [0, -3.0], "regions.concentration"),
    (("profile", "trend_per_day"), [0.5, -0.7, 3], "profile.trend_per_day"),
    (("profile", "weekday_weights", 2), [0, -1.0], "profile.weekday_weights[2]"),
    (("correlations", 0, "rank"), [1, -1, 2.5], "correlations[0].rank"),
    (("reconcile", "within_factor"), [1, 0.5, -2], "reconcile.within_factor"),
    (("references", 0, "year"), [1600, 3000, 2023.5], "references[0].year"),
    (("parameters", "pue", "min"), [0.5, 0.99], "parameters.pue"),
    (("parameters", "gpu_utilisation", "max"), [1.5, 7], "parameters.gpu_utilisation"),
    (("parameters", "visits", "p5"), [5e6, 3e6], "parameters.visits.p5"),
    (("parameters", "wh_per_visit", "min"), [5, 3], "parameters.wh_per_visit.min"),
    (("parameters", "queries", "weights", 0), [-1], "parameters.queries.weights[0]"),
    (("observations", 0, "sigma"), [-1, 0], "observations[0].sigma"),
    (("regions", "west", "intensity_g_per_kwh", "min"), [-50], "regions.west.intensity_g_per_kwh"),
]


@st.composite
def out_of_bounds(draw):
    path, values, where = draw(st.sampled_from(OUT_OF_BOUNDS))
    return Case("numbers out of bounds", with_value(path, draw(st.sampled_from(values))), True, where)


@st.composite
def deep_nesting(draw):
    path = draw(st.sampled_from(STRING_FIELDS + NUMBER_FIELDS))
    depth = draw(st.one_of(st.integers(2, 60), st.integers(200, 3000)))
    if draw(st.booleans()):
        value = Raw("[" * depth + "1" + "]" * depth)
    else:
        value = Raw("{ a = " * depth + "1" + " }" * depth)
    return Case("deep nesting", with_value(path, value), True, dotted(path), also=("nested too deeply",))


def renamed(section: str, old: str, new: str, doc=None) -> dict:
    """The probe with ``section.old`` renamed to ``new`` everywhere it is named."""
    text = to_toml(doc or PROBE)
    pattern = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(old)}(?![A-Za-z0-9_])")
    swapped = new if _BARE.fullmatch(new) else None
    if swapped is None:          # only the table key can hold a non-identifier: rename just the key
        d = copy.deepcopy(doc or PROBE)
        d[section] = {new if k == old else k: v for k, v in d[section].items()}
        return d
    return tomllib.loads(pattern.sub(new, text))


@st.composite
def long_names(draw):
    section = draw(st.sampled_from(sorted(NAMED)))
    length = draw(st.one_of(st.integers(129, 2000), st.integers(20, 128)))
    old = NAMED[section]
    keep = {"parameters": "_utilisation", "derived": "_kwh", "regions": "", "scenarios": ""}[section]
    new = "n" * (length - len(keep)) + keep
    doc = renamed(section, old, new)
    if length <= 128:
        return Case("long names", doc, False, check=written_to_netcdf, note=f"{section} name of {length}")
    # refused wherever the name first appears (its table, an output, a path to reconcile...)
    return Case("long names", doc, True, new[:60], note=f"{section} name of {length}")


def written_to_netcdf(model, ds) -> bool:
    """The Dataset goes to a netCDF file and back unchanged (names within NC_MAX_NAME)."""
    import tempfile

    from simulate.results.netcdf import open_results

    with tempfile.TemporaryDirectory() as folder:
        back = open_results(simulate.save_netcdf(ds, Path(folder) / "run.nc"))
        return set(back.data_vars) == set(ds.data_vars)


BAD_NAMES = ["west\n", "west\r", "we st", "west-1", "1west", "wést", "", "west\x1b[0m", "\u2028west", "west\t"]


@st.composite
def bad_names(draw):
    section = draw(st.sampled_from(sorted(NAMED)))
    new = draw(st.sampled_from(BAD_NAMES))
    doc = copy.deepcopy(PROBE)
    doc[section] = {new if k == NAMED[section] else k: v for k, v in doc[section].items()}
    return Case("bad names", doc, True, f"{section}.", also=("is not a valid name",))


@st.composite
def unknown_keys(draw):
    path = draw(st.sampled_from(TABLES))
    name = "zz_" + draw(st.text("abcxyz_", min_size=1, max_size=8))
    doc = copy.deepcopy(PROBE)
    target = doc
    for p in path:
        target = target[p]
    target[name] = draw(st.one_of(st.integers(0, 9), st.text(max_size=3)))
    return Case("unknown keys", doc, True, dotted(list(path) + [name]))


SHADOWS = [("parameters", "day_share"), ("parameters", "days_in_month"), ("parameters", "decimal_year"),
           ("parameters", "grid_g_per_kwh"), ("parameters", "share_east"), ("parameters", "grid_east_g_per_kwh"),
           ("derived", "days_since_start"), ("derived", "grid_g_per_kwh"), ("derived", "share_west"),
           ("derived", "visits"), ("derived", "grid_west_g_per_kwh")]


@st.composite
def shadowed_builtins(draw):
    section, name = draw(st.sampled_from(SHADOWS))
    doc = copy.deepcopy(PROBE)
    if section == "parameters":
        doc["parameters"][name] = {"dist": "fixed", "value": 1.0, "unit": "gCO2e/kWh" if "g_per" in name else "1",
                                   "source": "test"}
        # share_east and grid_east_g_per_kwh clash with the region east: the message names the region
        field_ = f"parameters.{name}" if name.startswith(("day", "decimal", "grid_g")) else "regions.east"
        return Case("shadowed built-ins", doc, True, field_)
    doc["derived"][name] = "pue * 2"
    return Case("shadowed built-ins", doc, True, f"derived.{name}")


@st.composite
def scenario_values(draw):
    name, bad = draw(st.sampled_from([
        ("pue", [0.5, 0.999, -1.0, math.nan, math.inf]), ("gpu_utilisation", [1.5, -0.01, math.inf]),
        ("grid_east_g_per_kwh", [-5.0, -math.inf, math.nan]), ("visits", [math.nan, -math.inf]),
        ("wh_per_visit", [{"2023-01": math.nan}, {"2023-01": {"2023-01": 1.5}}, {"2024-05": 1.0}, [1, 2], "2", True,
                          {"2023-01": "x"}])]))
    value = draw(st.sampled_from(bad))
    doc = with_value(("scenarios", "low", name), value)
    if draw(st.integers(0, 3)) == 0:          # a valid value is used as it is
        value = {"pue": 1.3, "gpu_utilisation": 0.5, "grid_east_g_per_kwh": 0.0, "visits": 2e6,
                 "wh_per_visit": {"2023-01": 2.5}}[name]
        doc = with_value(("scenarios", "low", name), value)

        def check(model, ds, name=name, value=value):
            fixed = model.with_scenario("low").run(samples=1000, seed=1, keep=1000)
            column = f"{name}[2023-01]" if isinstance(value, dict) else name   # fixed by month
            want = value if not isinstance(value, dict) else value["2023-01"]
            return bool(np.all(fixed["inputs"].sel(input=column).values == want))
        return Case("scenario values", doc, False, check=check, note=f"{name} = {value!r}")
    return Case("scenario values", doc, True, f"scenarios.low.{name}", note=f"{name} = {value!r}")


def one_parameter(spec: dict, start=dt.date(2023, 1, 1), end=dt.date(2023, 1, 1), extra=None) -> dict:
    doc = {"period": {"start": start, "end": end},
           "parameters": {"x": {**spec, "unit": "1", "source": "test"}},
           "outputs": {"x": "mean"}}
    doc.update(extra or {})
    return doc


@st.composite
def calendar_ends(draw):
    near = draw(st.sampled_from([FIRST, LAST, dt.date(1677, 9, 21), dt.date(2262, 4, 11), dt.date(1000, 1, 1),
                                 dt.date(9999, 12, 1)]))
    ordinal = near.toordinal() + draw(st.integers(-400, 400))
    start = dt.date.fromordinal(max(dt.date(1, 1, 1).toordinal(), min(dt.date(9999, 11, 1).toordinal(), ordinal)))
    end = start + dt.timedelta(days=draw(st.integers(0, 40)))
    doc = one_parameter({"dist": "uniform", "min": 1, "max": 2}, start, end)
    if start < FIRST or end > LAST:
        return Case("dates at the calendar's ends", doc, True, "period.", also=("is outside the calendar",),
                    note=f"{start}..{end}")

    def check(model, ds, start=start, end=end):
        want = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
        months = sorted({str(d)[:7] for d in want})
        return (np.array_equal(ds["date"].values.astype("datetime64[D]"), want)
                and [str(m)[:7] for m in ds["month"].values] == months)
    return Case("dates at the calendar's ends", doc, False, check=check, note=f"{start}..{end}")


@st.composite
def expressions(draw):
    kind = draw(st.sampled_from(["sum", "minus", "parens", "long"]))
    n = draw(st.one_of(st.integers(1, 120), st.integers(120, 6000)))
    if kind == "sum":
        text, value, ok = " + ".join(["x"] * n), 1.5 * n, n <= 100
    elif kind == "minus":
        text, value, ok = "-" * n + "x", 1.5 * (-1) ** n, n <= 99
    elif kind == "parens":
        n = min(n, 300)
        text, value, ok = "(" * n + "x" + ")" * n, 1.5, n <= 200     # Python's parser allows 200 levels
    else:
        text, value, ok = "x" + " " * (n * 5) + "+ 0", 1.5, n * 5 + 5 <= 2000
    doc = {"period": {"start": dt.date(2023, 1, 1), "end": dt.date(2023, 1, 1)},
           "parameters": {"x": {"dist": "fixed", "value": 1.5, "unit": "1", "source": "test"}},
           "derived": {"y": {"expr": text, "unit": "1"}}, "outputs": {"y": "mean"}}
    if not ok:
        return Case("long and deep expressions", doc, True, "derived.y", note=f"{kind} {n}")

    def check(model, ds, value=value):
        return bool(np.all(ds["y_daily"].values == value))
    return Case("long and deep expressions", doc, False, check=check, note=f"{kind} {n}")


@st.composite
def many_regions(draw):
    n = draw(st.one_of(st.integers(1, 20), st.integers(20, 600)))
    regions = {"shares": "fixed", "source": "test"}
    for i in range(n):
        regions[f"r{i}"] = {"share": 1 / n, "intensity_g_per_kwh": {"dist": "fixed", "value": float(i % 97),
                                                                      "source": "test"}}
    doc = {"period": {"start": dt.date(2023, 1, 1), "end": dt.date(2023, 1, 1)},
           "parameters": {"energy_kwh": {"dist": "fixed", "value": 2.0, "unit": "kWh", "source": "test"}},
           "regions": regions, "derived": {"co2_kg": "energy_kwh * grid_g_per_kwh / 1000"},
           "outputs": {"co2_kg": "mean"}}

    def check(model, ds, n=n):
        want = 2.0 * math.fsum((1 / n) * (i % 97) for i in range(n)) / 1000
        return bool(np.allclose(ds["co2_kg_daily"].values, want, rtol=1e-12))
    return Case("many regions", doc, False, check=check, note=f"{n} regions")


@st.composite
def wide_distributions(draw):
    family = draw(st.sampled_from(["lognormal", "normal", "discrete", "uniform", "fixed"]))
    if family == "lognormal":
        centre = draw(st.floats(-150, 150))
        spread = draw(st.floats(0.01, 140))
        spec = {"dist": "lognormal", "p5": 10.0 ** (centre - spread), "p95": 10.0 ** (centre + spread)}
    elif family == "normal":
        sd = 10.0 ** draw(st.floats(-300, 300))
        spec = {"dist": "normal", "mean": draw(st.sampled_from([0.0, sd * 1e-9, -sd * 3, sd])), "sd": sd}
    elif family == "uniform":
        width = 10.0 ** draw(st.floats(-300, 300))
        spec = {"dist": "uniform", "min": -width * draw(st.floats(0, 1)), "max": width}
    elif family == "fixed":
        spec = {"dist": "fixed", "value": draw(st.sampled_from([0.0, -0.0, 5e-324, -1e300, 1e300, 7.0]))}
    else:
        values = draw(st.lists(st.one_of(st.just(0.0), st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False),
                                         st.floats(-1e-300, 1e-300)), min_size=1, max_size=6))
        spec = {"dist": "discrete", "values": values,
                "weights": draw(st.lists(st.integers(1, 5), min_size=len(values), max_size=len(values)))}
    samples = draw(st.sampled_from([1, 2, 3, 511, 2000, 2000, 65_537, 70_000]))   # one block, a tile, two blocks
    form = draw(st.sampled_from(["parameter", "profile", "arithmetic"]))
    if form == "arithmetic":     # an output computed from two wide inputs (overflow, NaN, signs)
        expr = draw(st.sampled_from(["x * z", "x - z", "x / z", "min(x, z)", "max(x, -z)", "exp(x)", "log(x)",
                                     "sqrt(x)", "x ** 2", "-x"]))
        other = draw(st.sampled_from([{"dist": "uniform", "min": -1, "max": 3}, {"dist": "lognormal", "p5": 1e-200,
                                      "p95": 1e200}, {"dist": "fixed", "value": 0.0}]))
        doc = one_parameter(spec, extra={"derived": {"y": {"expr": expr, "unit": "1"}}, "outputs": {"y": "mean"}})
        doc["parameters"]["z"] = {**other, "unit": "1", "source": "test"}
        return Case("wide and extreme distributions", doc, False, check=exact_output_quantiles,
                    samples=samples, keep=True, note=f"{expr}, x ~ {spec!r}, z ~ {other!r}")
    if form == "profile":        # the month's histogram, days scaled from it by their profile share
        doc = one_parameter(spec, end=dt.date(2023, 1, 3),
                            extra={"derived": {"y": {"expr": "x * day_share", "unit": "1"}}, "outputs": {"y": "sum"}})
        return Case("wide and extreme distributions", doc, False, check=exact_profile_quantiles,
                    samples=samples, keep=True, note="x * day_share, " + repr(spec))
    return Case("wide and extreme distributions", one_parameter(spec), False, check=exact_quantiles,
                samples=samples, keep=True, note=repr(spec))


def exact_profile_quantiles(model, ds) -> bool:
    """The monthly total's quantiles against numpy's on the kept totals; each day's are the month's
    times the day's part of the month's total (1/3 each: three days of a flat profile)."""
    monthly = ds["y_monthly_samples"].values[:, 0]
    ok = _close(monthly, ds["quantile"].values, ds["y_monthly"].values[:, 0], ds["y_monthly_ci_low"].values[:, 0],
                ds["y_monthly_ci_high"].values[:, 0])
    share = model.profile.day_share(model.period)
    share = share / share.sum()
    daily = ds["y_daily"].values
    return ok and bool(np.allclose(daily, ds["y_monthly"].values[:, :1] * share[None, :], rtol=1e-12, atol=TINY))


def exact_output_quantiles(model, ds) -> bool:
    """A one-day output's quantiles against numpy's on its kept per-sample values."""
    return _close(ds["y_monthly_samples"].values[:, 0], ds["quantile"].values, ds["y_daily"].values[:, 0],
                  ds["y_daily_ci_low"].values[:, 0], ds["y_daily_ci_high"].values[:, 0])


def exact_quantiles(model, ds) -> bool:
    """Every reported quantile within the stated error of numpy's on the same draws, inside its interval.

    numpy's quantile is ``(1 - f) X(j) + f X(j+1)``; each order statistic is read within
    STATED_ERROR of itself, so the quantile is within STATED_ERROR x ``((1 - f)|X(j)| + f|X(j+1)|)``.
    """
    return _close(ds["inputs"].sel(input="x").values, ds["quantile"].values, ds["x_daily"].values[:, 0],
                  ds["x_daily_ci_low"].values[:, 0], ds["x_daily_ci_high"].values[:, 0])


def _close(draws, q, got, low, high) -> bool:
    draws = np.sort(draws)
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        return bool(np.isnan(got).all())
    exact = np.quantile(draws, q)
    rank = q * (len(draws) - 1)
    j = np.floor(rank).astype(int)
    f = rank - j
    scale = (1 - f) * np.abs(draws[j]) + f * np.abs(draws[np.minimum(j + 1, len(draws) - 1)])
    close = np.abs(got - exact) <= STATED_ERROR * scale + TINY
    return bool(close.all() and np.all(low <= got) and np.all(got <= high))


SHIPPED = {p.name: tomllib.loads(p.read_text(encoding="utf-8"))
           for p in sorted((Path(__file__).resolve().parents[2] / "priors").glob("*.toml"))}


def leaves(doc, path=()):
    """Every (path, value) of a document that is not a table."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from leaves(v, path + (k,))
    elif isinstance(doc, list) and doc and all(isinstance(x, dict) for x in doc):
        for i, v in enumerate(doc):
            yield from leaves(v, path + (i,))
    else:
        yield path, doc


any_value = st.one_of(
    st.floats(), st.integers(-10**6, 10**6), st.sampled_from([0, -1, 1e308, -1e308, 5e-324, 1e-300]),
    st.text(max_size=6), st.booleans(), st.lists(st.floats(-10, 10), max_size=3),
    st.fixed_dictionaries({"dist": st.sampled_from(["fixed", "uniform"]), "value": st.floats(0, 3)}),
    st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)),
    st.integers(20, 2000).map(lambda d: Raw("[" * d + "]" * d)))


@st.composite
def shipped_mutations(draw):
    """One leaf of a shipped model file replaced by any value (often valid, often not)."""
    name = draw(st.sampled_from(sorted(SHIPPED)))
    paths = list(leaves(SHIPPED[name]))
    path, old = draw(st.sampled_from(paths))
    value = draw(st.one_of(any_value, st.just(old)))
    return Case("mutations of the shipped models", with_value(path, value, SHIPPED[name]), None, None,
                check=sane_quantiles, note=f"{name}: {dotted(path)} = {value!r}"[:300])


def sane_quantiles(model, ds) -> bool:
    """Quantiles in order and inside their confidence intervals, for every output and time."""
    for name in model.outputs:
        for scale in ("daily", "monthly"):
            if f"{name}_{scale}" not in ds:     # month resolution: no daily cells
                continue
            q = ds[f"{name}_{scale}"].values
            low, high = ds[f"{name}_{scale}_ci_low"].values, ds[f"{name}_{scale}_ci_high"].values
            finite = np.isfinite(q).all(axis=0)
            if not (np.all(np.diff(q[:, finite], axis=0) >= 0) and np.all(low[:, finite] <= q[:, finite])
                    and np.all(q[:, finite] <= high[:, finite])):
                return False
    return True


ESCAPES = ["__import__('os').system('touch {sentinel}')", "open('{sentinel}', 'w')", "(lambda: 1)()",
           "x.__class__", "x[0]", "[x for x in (1,)]", "x if x else 1", "(y := 1)", "f'{{x}}'", "x < 1",
           "x and 1", "not x", "x // 1", "x % 2", "x @ x", "x << 1", "~x", "globals()", "eval('1')",
           "exec('import os')", "min(x, key=abs)", "exp(x)(1)", "'a' * 3", "b'x'", "x.real", "...",
           "{{1: 2}}", "(1, 2)", "{{1}}", "x ** -x ** x if 1 else 0", "exp", "log(x, 2)", "sqrt()",
           "max(x)", "__builtins__", "1j", "True", "None", "x; 1", "x\n1", "import os", "yield x",
           "await x", "*x", "x.__globals__", "getattr(x, 'real')", "type(x)", "compile('1', '', 'eval')"]


@st.composite
def expression_escapes(draw):
    """Attempts to leave the expression language: always refused, never executed."""
    import tempfile

    sentinel = Path(tempfile.gettempdir()) / "simulate-escape-sentinel"
    text = draw(st.sampled_from(ESCAPES)).format(sentinel=sentinel)
    doc = {"period": {"start": dt.date(2023, 1, 1), "end": dt.date(2023, 1, 1)},
           "parameters": {"x": {"dist": "fixed", "value": 1.5, "unit": "1", "source": "test"}},
           "derived": {"y": {"expr": text, "unit": "1"}}, "outputs": {"y": "mean"}}
    return Case("expression escapes", doc, True, "derived.y", note=text)


FILE_CLASSES = {
    "wrong types": wrong_types(), "huge numbers": huge_numbers(), "non-finite numbers": non_finite_numbers(),
    "numbers out of bounds": out_of_bounds(), "deep nesting": deep_nesting(), "long names": long_names(),
    "bad names": bad_names(), "unknown keys": unknown_keys(), "shadowed built-ins": shadowed_builtins(),
    "scenario values": scenario_values(), "dates at the calendar's ends": calendar_ends(),
    "long and deep expressions": expressions(), "many regions": many_regions(),
    "wide and extreme distributions": wide_distributions(), "expression escapes": expression_escapes(),
    "mutations of the shipped models": shipped_mutations(),
}


# -- judging ---------------------------------------------------------------------------------------------
def judge_file(case: Case, folder: Path) -> tuple[str, str]:
    """Load and run ``case`` through the Python API; ``(outcome, detail)``."""
    outcome = _judge_file(case, folder)
    if _SENTINEL.exists():                     # an expression escape ran something
        _SENTINEL.unlink()
        return "silent wrong result", "an expression was executed: " + case.note
    return outcome


_SENTINEL = Path(__import__("tempfile").gettempdir()) / "simulate-escape-sentinel"


def _judge_file(case: Case, folder: Path) -> tuple[str, str]:
    path = Path(folder) / "case.toml"
    path.write_text(case.text(), encoding="utf-8")
    try:
        model = simulate.load(path)
    except simulate.ModelError as exc:
        return _refusal(case, str(exc), str(path))
    except Exception as exc:  # noqa: BLE001 - what the issue counts
        return "traceback", f"{type(exc).__name__}: {exc}"[:500]
    if case.refuse:
        return "silent wrong result", "accepted: " + case.note
    return _run(case, model, path)


def _run(case, model, path):
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds = model.run(samples=case.samples, seed=1, keep=case.samples if case.keep else 0)
    except simulate.ModelError as exc:
        return "wrong exit code", f"check passed but run refused: {exc}"[:500]
    except Exception as exc:  # noqa: BLE001
        return "traceback", f"{type(exc).__name__}: {exc}"[:500]
    bare = [str(w.message) for w in caught if not str(w.message).startswith(str(path))]
    if bare:
        return "unclear message", f"a warning that names no file: {bare[0][:200]} ({case.note[:200]})"
    if "quantiles_imprecise" in ds.attrs:
        return "said imprecise", case.note
    try:
        right = case.check(model, ds)
    except Exception as exc:  # noqa: BLE001
        return "traceback", f"while checking: {type(exc).__name__}: {exc}"[:500]
    return ("ran right", case.note) if right else ("silent wrong result", case.note)


def _refusal(case, message, path) -> tuple[str, str]:
    if case.refuse is False:
        return "wrong exit code", "a valid file refused: " + message[:300]
    if case.field is None and not case.also:      # any field will do, but one must be named
        named = message.count(": ") >= 2
    else:
        named = case.field is None or any(f in message for f in _field_forms(case.field)) or \
            any(a in message for a in case.also)
    if message.startswith(f"{path}: ") and named and "\n" not in message and len(message) < 3000:
        return "refused", message[:200]
    return "unclear message", f"expected {case.field!r}: {message[:300]}"


def _field_forms(field: str) -> list:
    """The field, the list holding it (``weights[0]`` -> ``weights = [``), and for a key its table
    with the key named (``parameters.visits.zz_a`` -> ``parameters.visits`` ... ``zz_a``)."""
    forms = [field]
    bare = re.sub(r"(\[\d+\])+$", "", field)
    if bare != field:
        forms.append(bare + " = ")
    return forms


def judge_cli(args: list, folder: Path, *, refuse: bool | None, field: str | None, expect_files=(), timeout=300):
    """Run the real executable with ``args`` in ``folder``; ``(outcome, detail)``.

    A refusal must be exit status 2 with one error line naming ``field``; a run must exit 0. Either
    way ``folder`` must then hold only what was there before plus ``expect_files``.
    """
    folder = Path(folder)
    before = set(os.listdir(folder))
    try:
        proc = subprocess.run([EXECUTABLE, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                              cwd=folder)
    except subprocess.TimeoutExpired:
        return "wrong exit code", f"no answer after {timeout} s: " + " ".join(map(str, args))
    after = set(os.listdir(folder))
    created = after - before - set(expect_files if proc.returncode == 0 else ())
    errors = [line for line in proc.stderr.splitlines() if line and not line.startswith(("warning: ", "usage: ", " "))]
    if "Traceback" in proc.stderr:
        return "traceback", proc.stderr[-500:]
    if created:
        return "partial file", f"left {sorted(created)}"
    if refuse or (refuse is None and proc.returncode == 2):    # None: either outcome may be right
        if proc.returncode == 0:
            return "silent wrong result", "accepted " + " ".join(map(str, args))
        if proc.returncode != 2:
            return "wrong exit code", f"{proc.returncode}: {proc.stderr[-300:]}"
        if len(errors) != 1 or "error: " not in errors[0] or (field and field not in errors[0]):
            return "unclear message", proc.stderr[-300:]
        return "refused", errors[0][:200]
    if proc.returncode != 0:
        return "wrong exit code", f"{proc.returncode}: {proc.stderr[-300:]}"
    return "ran right", " ".join(map(str, args))[:200]
