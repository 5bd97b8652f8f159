"""Published figures to draw beside a model's bands: ``[[references]]`` in a model file.

A reference is one published number (or low-high range) for one output at one time::

    [[references]]
    output = "energy_kwh"          # an [outputs] name
    year = 2024                    # or month = "2024-06", or date = 2024-06-15
    value = 415                    # or low = 325, high = 580
    unit = "TWh"                   # convertible to the output's unit (TWh -> kWh)
    per = "year"                   # the window the total covers: year, month or day (sum outputs only)
    label = "IEA 2024"
    source = "IEA, Energy and AI (2025)"
    scope = "all data centres worldwide, not only AI"
    boundary = "facility"          # optional: accelerator, it or facility (energy and power figures)
    accounting = "location-based"  # optional: location-based or market-based (CO2 figures)

A total "per year" becomes the output's average per day (value / days in that year) or per month
(value / 12); "per month" becomes value / days in that month per day; "per day" is a daily value.
Outputs aggregated as a mean (per-query energy) take no ``per``: the value is compared as it is.

A figure is compared on its own boundary and carbon basis: when it declares a ``boundary`` (or
``accounting``) that its ``output`` does not have, it is compared with (and drawn on) the output on
that boundary on the same path (``Reference.output``; the file's choice is ``Reference.named``) (:func:`like_for_like`: one the named output is computed from or feeds, else one
that shares an intermediate quantity with it), and when the model has none, the report says so.
"""
from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from dataclasses import dataclass

from ..errors import Location, ModelError
from ..units import quantity_kind, same_dimension, unit_factor
from .expressions import names_in
from .fields import known_keys
from .quantities import ACCOUNTING, BOUNDARIES

PER = ("year", "month", "day")
KEYS = {"output", "year", "month", "date", "value", "low", "high", "unit", "per", "label", "source", "scope",
        "rationale", "boundary", "accounting"}
_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True)
class Reference:
    output: str
    when: str               # "2024", "2024-06" or "2024-06-15": what the figure covers, as written
    start: dt.date          # first and last day of that year, month or day
    end: dt.date
    value: float            # in ``unit`` per ``per``; NaN for a range
    low: float
    high: float
    unit: str
    per: str                # "year", "month", "day" or "" (mean outputs)
    label: str
    source: str
    scope: str = ""
    factor: float = 1.0     # ``unit`` -> the output's unit
    boundary: str = ""      # where the figure is measured (quantities.BOUNDARIES), "" when its source does not say
    accounting: str = ""    # a CO2 figure's Scope 2 method, "" when its source does not say
    named: str = ""         # the output the file names; ``output`` is the like-for-like one it is compared with
    mismatch: str = ""      # what differs when no output matches the figure's basis ("" when one does)

    @property
    def like_for_like(self) -> bool:
        """The compared output has the boundary and accounting the figure declares (True when it declares none)."""
        return not self.mismatch

    @property
    def is_range(self) -> bool:
        return math.isnan(self.value)

    @property
    def middle(self) -> dt.date:
        """The middle day of what the figure covers: where it is drawn."""
        return self.start + (self.end - self.start) // 2

    def numbers(self) -> tuple[float, ...]:
        """(value,) or (low, high), as written."""
        return (self.low, self.high) if self.is_range else (self.value,)

    def per_day(self) -> tuple[float, ...]:
        """The figure as the output's average per day, in the output's unit."""
        if self.per == "year":
            days = 366 if calendar.isleap(self.middle.year) else 365
        elif self.per == "month":
            days = calendar.monthrange(self.middle.year, self.middle.month)[1]
        else:
            days = 1
        return tuple(v * self.factor / days for v in self.numbers())

    def per_month(self) -> tuple[float, ...]:
        """The figure as the output's average per calendar month, in the output's unit."""
        if self.per == "year":
            months = 12
        elif self.per == "month":
            months = 1
        elif self.per == "day":
            months = 1 / calendar.monthrange(self.middle.year, self.middle.month)[1]
        else:
            months = 1
        return tuple(v * self.factor / months for v in self.numbers())

    def total(self) -> tuple[float, ...]:
        """The figure in the output's unit, over its own window (a year's total for per = "year")."""
        return tuple(v * self.factor for v in self.numbers())

    def describe(self) -> str:
        numbers = "-".join(f"{v:,.4g}" for v in self.numbers())
        return f"{numbers} {self.unit}" + (f" per {self.per}" if self.per else "")


def parse_references(entries, *, model, path=None) -> tuple:
    """Check the ``[[references]]`` list of a model file against ``model``."""
    if not isinstance(entries, list):
        raise ModelError("must be a list of tables", path=path, field="references", value=entries,
                         fix='write [[references]] with output, year, value, unit, per, label, source')
    return tuple(_reference(e, model=model, path=path, field=f"references[{i}]") for i, e in enumerate(entries))


def _reference(entry, *, model, path, field) -> Reference:
    where = Location(path, field)
    fail = where.fail
    if not isinstance(entry, dict):
        fail("must be a table", value=entry, fix='write output = "...", year = 2024, value = ..., unit = "..."')
    known_keys(entry, KEYS, where)
    output = entry.get("output")
    if output not in model.outputs:
        fail("is not an output of this model", "output", output, f"use one of {sorted(model.outputs)}")

    when_keys = [k for k in ("year", "month", "date") if k in entry]
    if len(when_keys) != 1:
        fail("give exactly one of year, month or date", None, when_keys or None,
             'write year = 2024, month = "2024-06" or date = 2024-06-15')
    key = when_keys[0]
    raw = entry[key]
    if key == "year":
        if not isinstance(raw, int) or isinstance(raw, bool) or not 1900 <= raw <= 2200:
            fail("is not a year", "year", raw, "write year = 2024")
        when, start, end = str(raw), dt.date(raw, 1, 1), dt.date(raw, 12, 31)
    elif key == "month":
        match = _MONTH.fullmatch(raw) if isinstance(raw, str) else None
        if not match or not 1 <= int(match.group(2)) <= 12:
            fail("is not a month", "month", raw, 'write month = "2024-06"')
        y, m = int(match.group(1)), int(match.group(2))
        when, start, end = raw, dt.date(y, m, 1), dt.date(y, m, calendar.monthrange(y, m)[1])
    else:
        if isinstance(raw, dt.datetime):
            raw = raw.date()
        if not isinstance(raw, dt.date):
            fail("is not a date", "date", raw, "write date = 2024-06-15 (a TOML date)")
        when, start, end = raw.isoformat(), raw, raw

    def number(k):
        v = entry.get(k)
        if v is None:
            fail("is missing", k, fix=f"add {k} = ... (a range needs both low and high)")
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
            fail("must be a finite number", k, v, f"write {k} = ...")
        return float(v)

    has_value, has_range = "value" in entry, "low" in entry or "high" in entry
    if has_value == has_range:
        fail("give either value or both low and high", "value" if has_value else None, entry.get("value"),
             "write value = 415, or low = 325 and high = 580")
    if has_value:
        value, low, high = number("value"), math.nan, math.nan
    else:
        value, low, high = math.nan, number("low"), number("high")
        if low >= high:
            fail("low must be below high", "low", low, "swap them, or write value = ... for one number")

    out = model.outputs[output]
    unit = entry.get("unit")
    if not isinstance(unit, str) or not unit.strip():
        fail("the unit is missing", "unit", unit, f'write unit = "{out.unit}" or a multiple of it')
    factor = unit_factor(unit.strip(), out.unit)
    if factor is None:
        fail(f"cannot be converted to the output's unit {out.unit}", "unit", unit,
             f'use {out.unit} or a multiple of it ({", ".join(same_dimension(out.unit)) or out.unit})')
    per = entry.get("per", "")
    if out.aggregate == "sum":
        if per not in PER:
            fail(f"says which window the total covers; {output} is a total per day and month", "per", per or None,
                 'write per = "year", "month" or "day"')
    elif per:
        fail(f"{output} is a mean (aggregate = \"mean\"), not a total, so its references take no per", "per", per,
             "drop per and give the value in the output's unit")
    text = {}
    for k in ("label", "source"):
        v = entry.get(k)
        if not isinstance(v, str) or not v.strip():
            fail(f"the {k} is missing", k, v, f'add {k} = "..."')
        text[k] = v.strip()
    scope = entry.get("scope", "")
    if not isinstance(scope, str):
        fail("must be a string", "scope", scope, 'write scope = "all data centres, not only AI"')
    basis = {}
    for key, allowed, kind in (("boundary", BOUNDARIES, ("energy", "power")), ("accounting", ACCOUNTING, ("mass",))):
        v = entry.get(key, "")
        if v and v not in allowed:
            fail(f"is not a {key}", key, v, f"use one of {list(allowed)}")
        if v and quantity_kind(out.unit) not in kind:
            fail(f"only a figure of {' or '.join(kind)} declares its {key}", key, v, f"drop {key}")
        basis[key] = v
    compared, mismatch = resolve_basis(model, output, **basis)
    if compared != output:      # the like-for-like output's own unit (same kind, maybe another multiple)
        factor = unit_factor(unit.strip(), model.outputs[compared].unit)
    return Reference(compared, when, start, end, value, low, high, unit.strip(), per, text["label"], text["source"],
                     scope.strip(), factor, basis["boundary"], basis["accounting"], output, mismatch)


def _ancestors(model, name) -> set:
    """Derived quantities and parameters that ``name`` is computed from."""
    seen, todo = set(), [name]
    while todo:
        item = model.derived.get(todo.pop())
        for used in names_in(item.node) if item is not None else ():
            if used not in seen:
                seen.add(used)
                todo.append(used)
    return seen


def like_for_like(model, output: str, boundary: str = "", accounting: str = "") -> str | None:
    """The output to compare a figure with that is on ``boundary`` with ``accounting`` (either may be
    ""): ``output`` itself when it matches, else a matching output (same aggregate, convertible unit)
    that ``output`` is computed from or that is computed from it, else one sharing an intermediate
    (derived) quantity with it; None when the model has no such output."""
    def matches(name):
        o = model.outputs[name]
        return (not boundary or o.boundary == boundary) and (not accounting or o.accounting == accounting)

    if matches(output):
        return output
    base = model.outputs[output]
    mine = _ancestors(model, output)
    candidates = [n for n, o in model.outputs.items() if n != output and matches(n) and o.aggregate == base.aggregate
                  and unit_factor(base.unit, o.unit) is not None]
    on_path = [n for n in candidates if n in mine or output in _ancestors(model, n)]
    shared = [n for n in candidates if mine & set(model.derived) & _ancestors(model, n)]
    return (on_path or shared or [None])[0]


def resolve_basis(model, output, boundary="", accounting="") -> tuple[str, str]:
    """(the output a figure is compared with, "" or what does not match when the model has no like-for-like output)."""
    found = like_for_like(model, output, boundary, accounting)
    if found is not None:
        return found, ""
    out = model.outputs[output]
    parts = []
    if boundary and out.boundary != boundary:
        parts.append(f"the figure is on the {boundary} boundary, {out.short} on the "
                     f"{out.boundary or 'undeclared'} boundary")
    if accounting and out.accounting != accounting:
        parts.append(f"the figure is {accounting}, {out.short} {out.accounting or 'of undeclared accounting'}")
    return output, "no like-for-like output in this model: " + "; ".join(parts)
