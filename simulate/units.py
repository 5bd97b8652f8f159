"""The one table of quantity names: the unit a name implies, its bounds, and readable magnitudes.

Units live in names (``energy_kwh``, ``gpu_power_w``, ``grid_g_per_kwh``); dimensionless names stay
bare (``pue``, ``utilisation``). The validator, the Dataset attrs and the CLI table all read this
module, so a name means the same thing everywhere.
"""
from __future__ import annotations

import math

# Name suffix -> unit implied by it. Longest suffix wins ("_g_per_kwh" before "_kwh").
UNIT_BY_SUFFIX = {
    "_g_per_kwh": "gCO2e/kWh",
    "_kg_per_kwh": "kgCO2e/kWh",
    "_l_per_kwh": "L/kWh",
    "_kwh_per_query": "kWh/query",
    "_wh_per_query": "Wh/query",
    "_kwh_per_year": "kWh/year",
    "_kwh": "kWh",
    "_wh": "Wh",
    "_mwh": "MWh",
    "_gwh": "GWh",
    "_twh": "TWh",
    "_kw": "kW",
    "_w": "W",
    "_mw": "MW",
    "_kg": "kg",
    "_t": "t",
    "_g": "g",
    "_l": "L",
    "_h": "h",
    "_years": "year",
    "_days": "day",
    "_people": "people",
}

# Names (or suffixes) whose values are bounded by physics or definition: (low, high, why).
BOUNDS_BY_NAME = {
    "pue": (1.0, math.inf, "PUE is facility energy over IT energy, so it is at least 1"),
}
BOUNDS_BY_SUFFIX = {
    "utilisation": (0.0, 1.0, "a utilisation is a fraction in [0, 1]"),
    "_fraction": (0.0, 1.0, "a fraction lies in [0, 1]"),
    "_share": (0.0, 1.0, "a share lies in [0, 1]"),
}

# Units whose magnitudes are printed with SI prefixes: base unit -> (factor to base, ladder).
_LADDERS = {
    "Wh": (1.0, [(1.0, "Wh"), (1e3, "kWh"), (1e6, "MWh"), (1e9, "GWh"), (1e12, "TWh")]),
    "kWh": (1e3, [(1.0, "Wh"), (1e3, "kWh"), (1e6, "MWh"), (1e9, "GWh"), (1e12, "TWh")]),
    "MWh": (1e6, [(1.0, "Wh"), (1e3, "kWh"), (1e6, "MWh"), (1e9, "GWh"), (1e12, "TWh")]),
    "GWh": (1e9, [(1.0, "Wh"), (1e3, "kWh"), (1e6, "MWh"), (1e9, "GWh"), (1e12, "TWh")]),
    "g": (1.0, [(1.0, "g"), (1e3, "kg"), (1e6, "t"), (1e9, "kt"), (1e12, "Mt")]),
    "kg": (1e3, [(1.0, "g"), (1e3, "kg"), (1e6, "t"), (1e9, "kt"), (1e12, "Mt")]),
    "t": (1e6, [(1.0, "g"), (1e3, "kg"), (1e6, "t"), (1e9, "kt"), (1e12, "Mt")]),
    "L": (1.0, [(1.0, "L"), (1e3, "m³"), (1e6, "thousand m³"), (1e9, "million m³")]),
    "W": (1.0, [(1.0, "W"), (1e3, "kW"), (1e6, "MW"), (1e9, "GW")]),
    "kW": (1e3, [(1.0, "W"), (1e3, "kW"), (1e6, "MW"), (1e9, "GW")]),
}


def unit_for_name(name: str) -> str | None:
    """The unit a quantity name implies, or None when the name carries no unit suffix."""
    for suffix in sorted(UNIT_BY_SUFFIX, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            return UNIT_BY_SUFFIX[suffix]
    return None


def bounds_for_name(name: str) -> tuple[float, float, str] | None:
    """The (low, high, reason) bounds a name implies, or None when it implies none."""
    if name in BOUNDS_BY_NAME:
        return BOUNDS_BY_NAME[name]
    for suffix, bounds in BOUNDS_BY_SUFFIX.items():
        if name == suffix or name.endswith(suffix):
            return bounds
    return None


def scale_for(values, unit: str) -> tuple[float, str]:
    """The divisor and unit label that print ``values`` (in ``unit``) with 1-3 integer digits.

    ``scale_for([2.3e7], "kWh")`` is ``(1e6, "GWh")``. Units without a ladder are returned as is.
    """
    if unit not in _LADDERS:
        return 1.0, unit
    to_base, ladder = _LADDERS[unit]
    finite = [abs(float(v)) for v in values if math.isfinite(float(v)) and float(v) != 0.0]
    if not finite:
        return 1.0, unit
    reference = max(finite) * to_base
    factor, label = ladder[0]
    for step_factor, step_label in ladder:
        if reference >= step_factor:
            factor, label = step_factor, step_label
    return factor / to_base, label


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
