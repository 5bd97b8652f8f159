"""Typed fields of a model file: each reader asks for a field here and gets a checked value or a
:class:`~simulate.errors.ModelError` at its location."""
from __future__ import annotations

import math
import re

from ..errors import Location

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def is_number(value) -> bool:
    """A TOML integer or float (not a boolean)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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
    if not isinstance(name, str) or not _IDENT.match(name):
        where.fail("is not a valid name", value=name, fix="use letters, digits and underscores, starting with a letter")


def known_keys(table: dict, allowed, where: Location, fix: str | None = None):
    """Refuse any key of ``table`` that is not in ``allowed``."""
    for key in table:
        if key not in allowed:
            where.fail("unknown key", key, fix=fix or f"use {sorted(allowed)}")
