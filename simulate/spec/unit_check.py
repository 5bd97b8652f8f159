"""Dimensional analysis of a model's expressions, once, when the file is read (never in the kernel).

Every name has a unit (its declared ``unit``, or the one its suffix implies); pint
(https://pint.readthedocs.io) combines them through each expression:

* ``+``, ``-``, ``min`` and ``max`` need operands of the same dimension: kWh + visits is an error
  that names the expression and both units;
* ``*`` and ``/`` combine units; ``**`` takes a plain number; ``exp`` and ``log`` take dimensionless
  arguments; the result must have the dimension of the name's declared unit;
* plain numbers are scale factors (``/ 1000``, ``* 24``): only dimensions are checked, not scale,
  and a number added to a quantity takes that quantity's unit (``decimal_year - 2024.5``), as do the
  coordinates of a numeric dimension (``t_online - cohort``);
* counted things (visits, queries, accelerators, tokens...) are dimensionless, as in CF and
  UDUNITS: what is counted is said in the long name;
* time is not compared: each expression is evaluated for one day, so the day's amount and its
  rate over the day are the same number (a power in W or ``messages/day`` times the calendar
  names give the day's kWh or messages; an annual amount over 365.25 days is the day's). What is
  compared is energy (power), mass, volume, length and the plain numbers; ``day_share`` (the day's
  part of its month) and ``days_in_month`` are plain numbers, ``days_since_start`` and
  ``decimal_year`` are times;
* ``dimensionless(x)`` marks a factor whose units are dropped on purpose, e.g. a ramp in years
  used as a fraction: ``shipped * dimensionless(min(max(t - cohort, 0), 1))``. It counts as a
  plain number, and what is inside it is not checked.

A model whose units add up is remembered (:mod:`simulate.user_cache`, keyed by every expression
and unit the check reads, the code of ``simulate.spec`` and pint's version), so a warm start does
not import pint; a model that fails is checked, and refused, every time.
"""
from __future__ import annotations

import functools
import re

from .. import user_cache
from ..errors import ModelError
from .expressions import REDUCTIONS, parse_expression, to_text

BUILTIN_UNITS = {"day_share": "1", "days_in_month": "1", "days_since_start": "day", "decimal_year": "year"}
UNKNOWN = object()     # a unit that could not be read: nothing is checked against it


@functools.lru_cache(maxsize=1)
def registry():
    """The pint registry (built once per process, on the first model read)."""
    import pint

    return pint.UnitRegistry()


@functools.lru_cache(maxsize=1024)
def quantity(unit: str | None):
    """A display unit (``kWh``, ``gCO2e/kWh``, ``queries/visit``, ``m³``) as a pint quantity of magnitude 1;
    words pint does not know are counts (dimensionless); None or UNKNOWN when there is no unit."""
    if unit is None:
        return None
    ureg = registry()
    text = re.sub(r"CO2e(q)?", "", unit.strip()).replace("³", "**3").replace("²", "**2")
    text = text.replace("thousand ", "1000 * ").replace("million ", "1000000 * ")

    def known(match):
        word = match.group(0)
        try:
            ureg.parse_units(word)
            return word
        except Exception:  # pint raises several types for unknown or malformed words
            return "1"

    text = re.sub(r"[A-Za-zµ_][A-Za-z0-9_µ]*", known, text) or "1"
    try:
        return ureg.parse_expression(text) * 1.0
    except Exception:
        return UNKNOWN


def show(q) -> str:
    """A unit for a message: pint's short form, or 1."""
    if q is None:
        return "a plain number"
    if q is UNKNOWN:
        return "an unknown unit"
    text = f"{q.units:~P}"
    return text or "1"


def check_units(model):
    """Raise :class:`ModelError` at the first derived quantity whose units do not add up.

    Parameters
    ----------
    model : simulate.Model
        A model as read (dimensions not unrolled).
    """
    key = memo_key(model)
    if user_cache.read(MEMO, key) is not None:
        return
    checker = _Checker(model)
    for name in model.derived:
        checker.unit_of(name)
    user_cache.write(MEMO, key)


MEMO = "unit-check"


def memo_key(model) -> str:
    """What the verdict of :func:`check_units` depends on, hashed: each derived quantity's expression
    and declared unit, the unit of every other name the expressions use, the numeric dimensions, the
    code of ``simulate.spec`` (this checker, the expression parser) and pint's version."""
    used = set()
    for name, derived in model.derived.items():     # the names the checker below reads, parsed as it parses
        _names(parse_expression(derived.text, path=model.path, field=f"derived.{name}", keep_marks=True), used)
    units = sorted((name, str(model.unit_of(name))) for name in used - set(model.derived))
    numeric = sorted(d.name for d in model.dimensions.values() if d.numeric)
    parts = [(d.name, d.text, str(d.unit)) for d in model.derived.values()]
    return user_cache.digest(repr(parts), repr(units), repr(numeric), user_cache.source_digest("spec", "units.py"),
                             user_cache.version_of("pint"))


def _names(node, into: set) -> None:
    if node[0] == "name" and len(node) == 2 and isinstance(node[1], str):
        into.add(node[1])
        return
    for child in node[1:]:
        if isinstance(child, tuple) and child and isinstance(child[0], str):
            _names(child, into)


class _Checker:
    def __init__(self, model):
        self.model = model
        self.done = {}
        self.numeric_dims = {d.name for d in model.dimensions.values() if d.numeric}

    def unit_of(self, name):
        if name in self.done:
            return self.done[name]
        if name in BUILTIN_UNITS:
            return quantity(BUILTIN_UNITS[name])
        if name in self.numeric_dims:
            return None
        derived = self.model.derived.get(name)
        if derived is None:
            unit = self.model.unit_of(name)
            self.done[name] = quantity(unit) if unit is not None else UNKNOWN
            return self.done[name]
        self.done[name] = UNKNOWN          # a cycle reads as unknown (the reader refuses cycles anyway)
        field = f"derived.{name}"
        node = parse_expression(derived.text, path=self.model.path, field=field, keep_marks=True)
        result = self.unit(node, derived, field)
        declared = quantity(derived.unit) if derived.unit else None
        if declared is not None and declared is not UNKNOWN and result is not None and result is not UNKNOWN:
            if not _same(result, declared):
                raise ModelError(
                    f"the expression gives {show(result)} ({_dimension(result)}) but {name} is declared in "
                    f"{derived.unit} ({_dimension(declared)})", path=self.model.path, field=field, value=derived.text,
                    fix="multiply or divide by what is missing (e.g. a per-query energy times queries), declare the "
                        "unit the expression gives with unit = \"...\", or wrap a factor whose units are dropped on "
                        "purpose in dimensionless(...)")
        self.done[name] = declared if declared is not None else result
        return self.done[name]

    def unit(self, node, derived, field):
        kind = node[0]
        if kind == "num":
            return None
        if kind == "name":
            return self.unit_of(node[1])
        if kind == "dimensionless":
            return None     # a plain number, as a literal is: its inside is the author's to vouch for
        if kind in REDUCTIONS or kind == "sel":
            return self.unit(node[1], derived, field)
        args = [self.unit(child, derived, field) for child in node[1:]]
        if any(a is UNKNOWN for a in args):
            return UNKNOWN
        if kind in ("add", "sub", "addn", "min", "max"):
            known = [(child, a) for child, a in zip(node[1:], args) if a is not None]
            for child, a in known[1:]:
                if not _same(a, known[0][1]):
                    verb = {"add": "adds", "addn": "adds", "sub": "subtracts", "min": "compares",
                            "max": "compares"}[kind]
                    raise ModelError(
                        f"{verb} {to_text(known[0][0])} in {show(known[0][1])} ({_dimension(known[0][1])}) and "
                        f"{to_text(child)} in {show(a)} ({_dimension(a)}): quantities of different dimensions",
                        path=self.model.path, field=field, value=derived.text,
                        fix="add only like with like: convert one side (multiply by a rate, a per-unit "
                            "quantity or a duration) so both have the same unit")
            return known[0][1] if known else None
        if kind in ("mul", "div"):
            a, b = args
            if a is None and b is None:
                return None
            a, b = (a if a is not None else quantity("1")), (b if b is not None else quantity("1"))
            return a * b if kind == "mul" else a / b
        if kind == "neg":
            return args[0]
        if kind == "pow":
            base, exponent = args
            if exponent is not None and not _dimensionless(exponent):
                self._fail(f"raises to a power in {show(exponent)}", node, derived, field)
            if base is None:
                return None
            if node[2][0] != "num":
                if not _dimensionless(base):
                    self._fail(f"raises {to_text(node[1])} in {show(base)} to a power that is not a number",
                               node, derived, field)
                return base
            return base ** node[2][1]
        if kind in ("exp", "log"):
            if args[0] is not None and not _dimensionless(args[0]):
                self._fail(f"takes {kind}() of {to_text(node[1])} in {show(args[0])}: "
                           f"{kind} needs a dimensionless argument", node, derived, field)
            return quantity("1")
        if kind == "sqrt":
            return None if args[0] is None else args[0] ** 0.5
        raise AssertionError(kind)

    def _fail(self, problem, node, derived, field):
        raise ModelError(problem, path=self.model.path, field=field, value=derived.text,
                         fix="divide by a quantity of the same unit first, or wrap a factor whose units are "
                             "dropped on purpose in dimensionless(...)")


def _key(q) -> tuple:
    """What is compared: the dimensions of ``q`` other than time."""
    return tuple(sorted((d, e) for d, e in q.dimensionality.items() if d != "[time]"))


def _same(a, b) -> bool:
    return _key(a) == _key(b)


def _dimensionless(q) -> bool:
    return not _key(q)


NAMED = {(("[length]", 2), ("[mass]", 1)): "energy or power", (("[mass]", 1),): "mass", (("[length]", 3),): "volume",
         (("[length]", 1),): "length", (): "a plain number or count", (("[length]", -2),): "energy per mass",
         (("[length]", -2), ("[mass]", -1)): "per unit of energy"}


def _dimension(q) -> str:
    """What a unit measures (time aside): ``energy or power``, ``mass``, ``a plain number or count``..."""
    key = _key(q)
    if key in NAMED:
        return NAMED[key]
    names = {"[length]": "length", "[mass]": "mass", "[current]": "current", "[temperature]": "temperature",
             "[substance]": "amount"}
    return " x ".join(f"{names.get(d, d)}^{e:g}" if e != 1 else names.get(d, d) for d, e in key)
