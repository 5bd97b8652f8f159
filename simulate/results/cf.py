"""CF-1.11 metadata: cell methods, time bounds and UDUNITS units for the results files.

The Dataset in memory keeps the units people read (``kWh``, ``gCO2e/kWh``, ``queries``): reports,
tables and plots scale them to GWh or t. A file gets UDUNITS-2 units (``kW h``, ``g/(kW h)``,
``1`` for counts, whose counted thing is in the ``long_name``) with the display unit kept as
``display_units``, so compliance-checker (``cf:1.11``) and cf_xarray read it, and
:func:`from_file` gives the display units back. CF conventions: https://cfconventions.org/cf-conventions/cf-conventions.html
(section 3.1 units, 4.4 time, 7.1 cell boundaries, 7.3 cell methods).
"""
from __future__ import annotations

import re

import numpy as np

from ..units import UNITS

CONVENTIONS = "CF-1.11"
TIME_DIMS = {"daily": "date", "monthly": "month", "yearly": "year", "total": "period"}
# Units UDUNITS-2 reads as they are written here (besides the energy, mass, volume and power table).
_UDUNITS_TIME_LENGTH = {"s": "s", "min": "min", "h": "h", "day": "day", "days": "day", "d": "day",
                        "week": "week", "month": "month", "months": "month", "year": "year", "years": "year",
                        "m": "m", "km": "km"}


def cell_methods(scale: str, aggregate: str) -> str:
    """The CF ``cell_methods`` of an output at one scale: ``date: sum`` (the day's total), ``month: mean``...

    A one-off total (``aggregate = "once"``) is a sum over the whole period.
    """
    method = "mean" if aggregate == "mean" else "sum"
    return f"{TIME_DIMS[scale]}: {method}"


def time_bounds(name: str, starts: np.ndarray, period) -> np.ndarray:
    """CF bounds ``(n, 2)`` of each cell of time coordinate ``name`` (``date``, ``month``, ``year``, ``period``):
    its first day and the day after its last, clipped to the period (a partial month covers its part)."""
    first = np.datetime64(period.start, "ns")
    after = np.datetime64(period.end, "ns") + np.timedelta64(1, "D")
    starts = np.atleast_1d(np.asarray(starts, dtype="datetime64[ns]"))
    unit = {"date": "D", "month": "M", "year": "Y", "period": None}[name]
    if unit is None:
        return np.array([first, after])
    ends = (starts.astype(f"datetime64[{unit}]") + 1).astype("datetime64[ns]")
    return np.stack([np.maximum(starts, first), np.minimum(ends, after)], axis=1)


def udunits(unit: str) -> str:
    """The UDUNITS-2 spelling of a display unit: ``kWh`` -> ``kW h``, ``gCO2e/kWh`` -> ``g/(kW h)``,
    ``visits/month`` -> ``1/month``, ``queries`` -> ``1`` (a count; what is counted is in the long name).

    Parameters
    ----------
    unit : str
        A unit as model files write it (``kWh``, ``Wh/query``, ``FLOP/(parameter*token)``, ``m³``).

    Returns
    -------
    str
        A unit UDUNITS-2 parses to the same quantity, with counted things as 1.
    """
    unit = unit.strip()
    if unit in ("", "1"):
        return "1"
    numerator, _, denominator = unit.partition("/")
    top, bottom = _atoms(numerator), _atoms(denominator.strip("()"))
    top_text = " ".join(top) or "1"
    if not bottom:
        return top_text
    bottom_text = " ".join(bottom)
    return f"{top_text}/({bottom_text})" if len(bottom) > 1 else f"{top_text}/{bottom_text}"


def _atoms(text: str) -> list[str]:
    """The UDUNITS factors of a product such as ``kWh``, ``parameter*token`` or ``thousand m³`` (counts dropped)."""
    text = text.replace("thousand ", "1000 ").replace("million ", "1000000 ")
    atoms = []
    for word in re.split(r"[*·\s]+", text.strip()):
        if not word or word == "1":
            continue
        word = word.removesuffix("CO2e").replace("³", "3")
        energy = re.fullmatch(r"([kMGT]?)Wh", word)
        if energy:
            atoms += [f"{energy.group(1)}W", "h"]
        elif word in UNITS or word in ("m3",) or re.fullmatch(r"\d+", word):
            atoms.append(word)
        elif word in _UDUNITS_TIME_LENGTH:
            atoms.append(_UDUNITS_TIME_LENGTH[word])
        # anything else is a count (visits, queries, accelerators, tokens, FLOP): dimensionless
    return atoms


def to_file(ds):
    """A copy of a results Dataset as it is written to netCDF: UDUNITS units (display units kept as
    ``display_units``), no ``_FillValue`` on coordinates, whole-period totals on a scalar ``period``
    time coordinate with bounds, and each variable's ``coordinates`` said explicitly."""
    out = ds.copy()
    for name in list(out.variables):
        var = out[name]
        units = var.attrs.get("units")
        if units is not None and not np.issubdtype(var.dtype, np.datetime64):
            if units.startswith("see "):          # per-sample inputs of mixed units: named in input_units
                out[name].attrs["display_units"] = out[name].attrs.pop("units")
            else:
                out[name].attrs["units"] = udunits(units)
                if out[name].attrs["units"] != units:
                    out[name].attrs["display_units"] = units
    has_time = "date" in out.coords and "period" not in out.coords and _period(ds) is not None
    if has_time:
        start, after = _period(ds)
        out = out.assign_coords(period=((), start, {"long_name": "the whole period (its first day)",
                                                    "standard_name": "time", "axis": "T", "bounds": "period_bounds"}),
                                period_bounds=(("bounds",), np.array([start, after]),
                                               {"long_name": "the whole period (its first day)"}))
    bounds = [out[c].attrs["bounds"] for c in out.coords if "bounds" in out[c].attrs]
    for name in list(out.coords):
        out[name].encoding["_FillValue"] = None
        if out[name].attrs.get("standard_name") == "time":
            out[name].attrs["units_metadata"] = "leap_seconds: none"   # dates, not instants to the second
            for var in (name, out[name].attrs["bounds"]):
                out[var].encoding.update(units=f"days since {ds['date'].values[0]!s:.10}",
                                         calendar="proleptic_gregorian")
    out = out.reset_coords(bounds)   # bounds are data variables in the file, named by their coordinate
    # CF coordinate variables are numeric: a dimension of names (regions) becomes a label variable
    labels = {d: f"{d}_name" for d in out.dims if d in out.coords and out[d].dtype.kind in "US"}
    out = out.rename_vars(labels)
    for name, var in out.data_vars.items():
        if name in bounds:
            var.encoding["coordinates"] = " "
            continue
        linked = [c for c in out.coords if c not in var.dims and out[c].dims and set(out[c].dims) <= set(var.dims)]
        if has_time and var.attrs.get("cell_methods", "").startswith("period:"):
            linked.append("period")
        var.encoding["coordinates"] = " ".join(linked) or " "   # " ": none (xarray would add scalar ones)
    return out


def _period(ds):
    """(first day, day after the last) of the period a results Dataset covers, or None."""
    if "date_bounds" not in ds.coords:
        return None
    bounds = ds["date_bounds"].values
    return bounds[0, 0], bounds[-1, 1]


def from_file(ds):
    """A results Dataset read from a file with its display units back in ``units`` (the inverse of :func:`to_file`)."""
    out = ds.copy()
    for name in out.variables:
        display = out[name].attrs.pop("display_units", None)
        if display is not None:
            out[name].attrs["units"] = display
        out[name].attrs.pop("units_metadata", None)
    out = out.set_coords([v for v in out.data_vars if v.endswith("_bounds")])
    for name in list(out.coords):   # the file's bounds carry no attributes: they agree with their coordinate
        bounds = out[name].attrs.get("bounds")
        if bounds in out.coords and "long_name" in out[name].attrs:
            out[bounds].attrs.setdefault("long_name", out[name].attrs["long_name"])
    names = {f"{d}_name": d for d in out.dims if f"{d}_name" in out.coords and d not in out.coords}
    out = out.rename_vars(names)
    for dim in names.values():
        out = out.set_xindex(dim)
    return out.drop_vars([v for v in ("period", "period_bounds") if v in out.variables])
