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


def percentile_text(p: float) -> str:
    """A percentile as a reader reads it: "P45.1", "P<0.1", "below every draw", "above every draw"."""
    if p <= 0:
        return "below every draw"
    if p >= 100:
        return "above every draw"
    if p < 0.1:
        return "P<0.1"
    if p > 99.9:
        return "P>99.9"
    return f"P{p:.1f}"


def short_label(da, fallback: str = "") -> str:
    """A results variable's short name for legends and axes: its ``label`` attr, else its long name
    without the ", per day" or ", monthly total" the Dataset adds."""
    label = da.attrs.get("label")
    if label:
        return label
    name = da.attrs.get("long_name", fallback or str(da.name))
    for tail in (", per day", ", monthly total", ", monthly mean"):
        if name.endswith(tail):
            return name[: -len(tail)]
    return name


MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")


def month_words(month: str) -> str:
    """"2023-01" as "January 2023"."""
    year, m = month.split("-")[:2]
    return f"{MONTH_NAMES[int(m) - 1]} {year}"


def day_words(day) -> str:
    """A date as "2 June 2025"."""
    text = str(np.datetime64(day, "D"))
    year, m, d = text.split("-")
    return f"{int(d)} {MONTH_NAMES[int(m) - 1]} {year}"


def unit_for_series(values, unit: str) -> tuple[float, str]:
    """One divisor and label for a whole series (every month or year of an output, every row of a
    table column): :func:`scale_with_counts` of its largest value."""
    finite = [abs(float(v)) for v in values if math.isfinite(float(v))]
    return scale_with_counts([max(finite)] if finite else [0.0], unit)
