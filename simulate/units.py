"""The one table of quantity names and units: the unit a name implies, its bounds, and conversions.

Units live in names (``energy_kwh``, ``gpu_power_w``, ``grid_g_per_kwh``); dimensionless names stay
bare (``pue``, ``utilisation``). The validator, the Dataset attrs, the published-figure converter
and the display scaling (:mod:`simulate.plots.labels`) all read this module, so a name and a unit
mean the same thing everywhere. Display formatting itself lives with the plots.
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
    "region_grid_g_per_kwh": (0.0, math.inf, "a grid intensity cannot be negative"),   # [regions]
}
BOUNDS_BY_SUFFIX = {
    "utilisation": (0.0, 1.0, "a utilisation is a fraction in [0, 1]"),
    "_fraction": (0.0, 1.0, "a fraction lies in [0, 1]"),
    "_share": (0.0, 1.0, "a share lies in [0, 1]"),
}

# Unit symbol -> (dimension, factor to the dimension's base unit: Wh, g, L, W).
UNITS = {
    "J": ("energy", 1 / 3600), "kJ": ("energy", 1 / 3.6), "MJ": ("energy", 1e3 / 3.6), "GJ": ("energy", 1e6 / 3.6),
    "Wh": ("energy", 1.0), "kWh": ("energy", 1e3), "MWh": ("energy", 1e6), "GWh": ("energy", 1e9),
    "TWh": ("energy", 1e12),
    "g": ("mass", 1.0), "kg": ("mass", 1e3), "t": ("mass", 1e6), "kt": ("mass", 1e9), "Mt": ("mass", 1e12),
    "mL": ("volume", 1e-3), "L": ("volume", 1.0), "m³": ("volume", 1e3), "m3": ("volume", 1e3),
    "thousand m³": ("volume", 1e6), "million m³": ("volume", 1e9),
    "W": ("power", 1.0), "kW": ("power", 1e3), "MW": ("power", 1e6), "GW": ("power", 1e9),
}
# The symbols a quantity of each dimension is displayed in, smallest first.
DISPLAY_LADDERS = {
    "energy": ("Wh", "kWh", "MWh", "GWh", "TWh"),
    "mass": ("g", "kg", "t", "kt", "Mt"),
    "volume": ("L", "m³", "thousand m³", "million m³"),
    "power": ("W", "kW", "MW", "GW"),
}
# Units whose values are rescaled for display (a figure in TWh or J is shown as written).
SCALED_UNITS = ("Wh", "kWh", "MWh", "GWh", "g", "kg", "t", "L", "W", "kW")


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


def unit_factor(unit: str, to_unit: str) -> float | None:
    """The factor that turns a number in ``unit`` into ``to_unit`` (``TWh`` -> ``kWh``: 1e9), or None.

    A shared denominator is kept as it is (``Wh/query`` -> ``kWh/query``); ``CO2e`` after a mass is ignored.
    """
    if unit == to_unit:
        return 1.0
    (num, _, den), (to_num, _, to_den) = unit.partition("/"), to_unit.partition("/")
    if den != to_den:
        return None
    a, b = UNITS.get(num.removesuffix("CO2e")), UNITS.get(to_num.removesuffix("CO2e"))
    if a is None or b is None or a[0] != b[0]:
        return None
    return a[1] / b[1]


def quantity_kind(unit: str) -> str | None:
    """What a unit measures, from its numerator: "energy", "mass", "volume", "power", or None
    (``Wh/query`` -> "energy", ``gCO2e/kWh`` -> "mass")."""
    return UNITS.get(unit.partition("/")[0].removesuffix("CO2e"), (None,))[0]


def same_dimension(unit: str) -> list[str]:
    """The units a figure in ``unit`` could be written in (``kWh`` -> ``J``, ``kJ``, ..., ``TWh``)."""
    num, slash, den = unit.partition("/")
    dimension = UNITS.get(num.removesuffix("CO2e"), (None,))[0]
    return [u + slash + den for u, (d, _) in UNITS.items() if dimension and d == dimension
            and u not in ("thousand m³", "million m³")]
