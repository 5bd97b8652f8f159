"""Typed fields of a model file: each reader asks for a field here and gets a checked value or a
:class:`~simulate.errors.ModelError` at its location."""
from __future__ import annotations

import math
import re

from ..errors import Location
from ..units import bounds_for_name

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_number(value) -> bool:
    """A TOML integer or float (not a boolean)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_finite_number(value) -> bool:
    """A number that is finite as a 64-bit float (a 400-digit integer is not)."""
    try:
        return is_number(value) and math.isfinite(float(value))
    except OverflowError:
        return False


def fixed_value(name: str, value, months, where: Location, bounds=None):
    """The number (or ``{"YYYY-MM": number}``) that fixes parameter ``name``, checked as its prior
    would be: finite, and within ``bounds`` or the bounds its name implies (``pue`` at least 1...).

    Used by scenarios in model files and by :meth:`simulate.Model.with_fixed`.
    """
    if isinstance(value, dict):
        values = {}
        for month, number in value.items():
            if month not in months:
                where.fail("is not a month of the period", str(month), month,
                           f"use months from {months[0]} to {months[-1]}")
            if isinstance(number, dict):
                where.at(month).fail("must be one number for the month", value=number, fix="write e.g. 1.5")
            values[month] = fixed_value(name, number, months, where.at(month), bounds)
        return values
    if not is_finite_number(value):
        where.fail("a scenario fixes a parameter to a finite number", value=value, fix="write a number")
    low, high, why = bounds or bounds_for_name(name.split("[")[0]) or (-math.inf, math.inf, "")   # pue[tpu]: pue
    if not low <= value <= high:
        where.fail(f"{why}, but this value is outside [{low:g}, {high:g}]", value=value,
                   fix=f"use a value from {low:g} to {high:g}")
    return float(value)


def text(table: dict, key: str, where: Location, *, required: bool = True, default: str = "") -> str:
    """The string at ``table[key]``, stripped; ``default`` when absent and not ``required``."""
    value = table.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            where.fail(f"the {key} is missing", key, fix=f'add {key} = "..."')
        return default
    if not isinstance(value, str):
        where.fail("must be a string", key, value, f'write {key} = "..."')
    return value.strip()


def number(table: dict, key: str, where: Location, *, positive: bool = False) -> float:
    """The finite number at ``table[key]`` (above 0 when ``positive``)."""
    value = table.get(key)
    if not is_number(value) or not math.isfinite(value):
        where.fail("must be a finite number", key, value, f"write {key} = ...")
    if positive and value <= 0:
        where.fail("must be positive", key, value, f"use {key} > 0")
    return float(value)


def identifier(name: str, where: Location):
    """Refuse ``name`` unless it is a valid quantity name."""
    if not isinstance(name, str) or not _IDENT.fullmatch(name):
        where.fail("is not a valid name", value=name, fix="use letters, digits and underscores, starting with a letter")


def known_keys(table: dict, allowed, where: Location, fix: str | None = None):
    """Refuse any key of ``table`` that is not in ``allowed``."""
    for key in table:
        if key not in allowed:
            where.fail("unknown key", key, fix=fix or f"use {sorted(allowed)}")
