"""How numbers, units and months read on figures, tables and the console: no matplotlib here.

Magnitudes get SI prefixes from the one unit table (:mod:`simulate.units`): 23,400,000 kWh reads
"23.4 GWh", 317,000 kg reads "317 t"; counts read "4.1 billion queries".
"""
from __future__ import annotations

import math

import numpy as np

from ..units import DISPLAY_LADDERS, SCALED_UNITS, UNITS


def scale_for(values, unit: str) -> tuple[float, str]:
    """The divisor and unit label that print ``values`` (in ``unit``) with 1-3 integer digits.

    ``scale_for([2.3e7], "kWh")`` is ``(1e6, "GWh")``. Units without a ladder are returned as is.
    """
    if unit not in SCALED_UNITS:
        return 1.0, unit
    dimension, to_base = UNITS[unit]
    finite = [abs(float(v)) for v in values if math.isfinite(float(v)) and float(v) != 0.0]
    if not finite:
        return 1.0, unit
    reference = max(finite) * to_base
    ladder = [(UNITS[symbol][1], symbol) for symbol in DISPLAY_LADDERS[dimension]]
    factor, label = ladder[0]
    for step_factor, step_label in ladder:
        if reference >= step_factor:
            factor, label = step_factor, step_label
    return factor / to_base, label


def scale_with_counts(values, unit: str) -> tuple[float, str]:
    """:func:`scale_for`, plus million/billion for counts (queries, people)."""
    factor, label = scale_for(values, unit)
    top = max(abs(float(v)) for v in values)
    if factor == 1.0 and label == unit and top >= 1e6:
        factor, word = (1e9, "billion") if top >= 1e9 else (1e6, "million")
        label = f"{word} {unit}"
    return factor, label


def format_number(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` significant figures, without scientific notation for 1e-3..1e6."""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    if -3 <= magnitude < 6:
        decimals = max(digits - 1 - magnitude, 0)
        return f"{value:,.{decimals}f}"
    return f"{value:.{digits - 1}e}"


def si(value, unit: str) -> str:
    """``value`` in ``unit`` with its own SI prefix (or million/billion) and 3 significant figures."""
    factor, label = scale_with_counts([value], unit)
    return f"{format_number(value / factor)} {'' if label == '1' else label}".strip()


def si_unit(value, unit: str) -> str:
    """``value`` in ``unit`` with its own SI prefix: 317 kg, 40.2 t, 1.77 kt."""
    factor, label = scale_for([value], unit)
    return f"{format_number(value / factor)} {label}"


def month_labels(ds) -> list[str]:
    """The Dataset's months as ``YYYY-MM`` strings."""
    return [str(np.datetime64(m, "M")) for m in ds["month"].values]


def month_label(ds, m: int) -> str:
    return month_labels(ds)[m]


def percentile_of(draws, value) -> float:
    """The percentile (0-100) of ``value`` among the finite ``draws``: the share at or below it."""
    draws = np.asarray(draws)
    draws = draws[np.isfinite(draws)]
    return 100.0 * np.count_nonzero(draws <= value) / draws.size


def axis_label(da, unit: str) -> str:
    """A variable's long name with its display unit, e.g. "electricity, monthly total (GWh)"."""
    name = da.attrs.get("long_name", da.name)
    return f"{name} ({unit})" if unit not in ("", "1") else name
