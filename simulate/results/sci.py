"""The Software Carbon Intensity (SCI, ISO/IEC 21031:2024) of a model, with its uncertainty.

``SCI = (E x I + M) per R``: operational carbon from location-based grid intensity (``E x I``,
an output such as ``co2_kg``), embodied carbon (``M``, e.g. ``embodied_co2_kg``, when the model
has it) and the functional unit ``R`` (an output that counts queries, messages, images...).
Market-based factors are not allowed in an SCI score (Green Software Foundation, SCI
specification, https://github.com/Green-Software-Foundation/sci), and every carbon output here
is location-based. The score is a ratio of two totals of the same draws, so its quantiles come
from the per-sample monthly totals (``run(..., keep=N)``), never from dividing two quantiles.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..engine.histogram import QUANTILES
from ..errors import ModelError


def sci_score(model, per: str, *, carbon: str | None = None, embodied: str | None = None,
              samples: int = 100_000, seed: int = 0, progress=None) -> xr.Dataset:
    """The SCI score per functional unit ``per`` for each month and the whole period, with quantiles.

    Parameters
    ----------
    model : simulate.Model
        A model with a location-based carbon output and an output counting the functional unit.
    per : str
        The functional-unit output (``queries``, ``messages``): an output aggregated by ``sum``.
    carbon : str, optional
        The operational (E x I) carbon output in kg; default ``co2_kg``.
    embodied : str, optional
        The embodied carbon output in kg (M); default ``embodied_co2_kg`` when the model has it.
        Pass ``""`` to leave embodied carbon out.
    samples, seed : int
        The run behind the score; every sample is kept (at most 2 x 10^6).
    progress : bool, optional
        A progress bar (default: on a terminal or in a notebook).

    Returns
    -------
    xarray.Dataset
        ``sci_monthly(quantile, month)``, ``sci_total(quantile)`` (the whole period's carbon over its
        functional units), their means, and ``carbon_total(quantile)`` in kg; units
        ``gCO2e/<unit>``; attrs name the formula, the basis and the outputs used.
    """
    carbon = carbon or "co2_kg"
    if embodied is None:
        embodied = "embodied_co2_kg" if "embodied_co2_kg" in model.outputs else ""
    for field, name, fix in (("per", per, "an output that counts the functional unit, e.g. queries"),
                             ("carbon", carbon, "the location-based CO2e output in kg, e.g. co2_kg"),
                             ("embodied", embodied, "the embodied CO2e output in kg, or '' for none")):
        if name and name not in model.outputs:
            raise ModelError("is not an output of this model", path=model.path, field=field, value=name,
                             fix=f"use {fix}; outputs: {', '.join(model.outputs)}")
        if name and model.outputs[name].aggregate != "sum":
            raise ModelError(f"is aggregated by {model.outputs[name].aggregate}, not summed", path=model.path,
                             field=field, value=name, fix="an SCI score divides totals: pick an output with aggregate = 'sum'")
    for field, name in (("carbon", carbon), ("embodied", embodied)):
        if name and model.outputs[name].unit not in ("kg", "kgCO2e"):
            raise ModelError(f"is in {model.outputs[name].unit}, not kg of CO2e", path=model.path, field=field,
                             value=name, fix="pick a carbon output in kg (co2_kg, embodied_co2_kg)")
    if not isinstance(samples, (int, np.integer)) or not 1000 <= samples <= 2_000_000:
        raise ModelError("must be an integer between 1000 and 2000000 (every sample is kept)", path=model.path,
                         field="samples", value=samples, fix="pass samples=100000")
    ds = model.run(samples=samples, seed=seed, keep=samples, progress=progress)
    grams = ds[f"{carbon}_monthly_samples"].values * 1000.0
    if embodied:
        grams = grams + ds[f"{embodied}_monthly_samples"].values * 1000.0
    units = ds[f"{per}_monthly_samples"].values
    with np.errstate(divide="ignore", invalid="ignore"):
        monthly = grams / units
        total = grams.sum(axis=1) / units.sum(axis=1)
    unit = f"gCO2e/{singular(model.outputs[per].unit)}"
    what = f"({carbon}{' + ' + embodied if embodied else ''}) per {per}"
    attrs = {"units": unit, "long_name": f"software carbon intensity, location-based: {what}",
             "basis": "location-based"}
    q = np.array(QUANTILES)
    out = xr.Dataset(
        {"sci_monthly": (("quantile", "month"), np.nanquantile(monthly, q, axis=0), {**attrs, "cell_methods": "month: sum"}),
         "sci_monthly_mean": (("month",), np.nanmean(monthly, axis=0), {**attrs, "long_name": "mean of " + attrs["long_name"]}),
         "sci_total": (("quantile",), np.nanquantile(total, q), {**attrs, "long_name": attrs["long_name"] + ", whole period"}),
         "sci_total_mean": ((), float(np.nanmean(total)), {**attrs, "long_name": "mean of " + attrs["long_name"] + ", whole period"}),
         "carbon_total": (("quantile",), np.nanquantile(grams.sum(axis=1) / 1000.0, q),
                          {"units": "kg", "long_name": f"total carbon {what.split(' per ')[0]}, whole period"})},
        coords={"quantile": ds["quantile"], "month": ds["month"]},
        attrs={**{k: v for k, v in ds.attrs.items() if k not in ("max_relative_error", "max_relative_error_quantiles")},
               "sci_formula": "SCI = (E x I + M) per R (ISO/IEC 21031:2024), I location-based",
               "sci_carbon": carbon, "sci_embodied": embodied or "none", "sci_functional_unit": per,
               "sci_quantile_method": f"sample quantiles of the ratio over {samples} per-sample totals"})
    return out


def singular(unit: str) -> str:
    """The functional unit in the singular: ``queries`` -> ``query``, ``messages`` -> ``message``."""
    if unit.endswith("ies"):
        return unit[:-3] + "y"
    if unit.endswith("s") and not unit.endswith("ss"):
        return unit[:-1]
    return unit
