"""An Impact Framework manifest (IMP file) of a results Dataset: one input row per day.

Impact Framework (Green Software Foundation, https://if.greensoftware.foundation/major-concepts/imp-file)
runs a YAML "manifest" of timestamped observations through a plugin pipeline. IF fields are
scalars, so each day carries each output's mean (which adds up over days and components:
``aggregation-method`` ``sum``, or ``avg`` for per-item outputs) and its 5th, 50th and 95th
percentiles as ``NAME-p5``, ``NAME-p50``, ``NAME-p95`` with aggregation ``none`` (quantiles are not
additive). Energy and carbon also appear under IF's own names: ``energy`` (kWh),
``carbon-operational`` and ``carbon-embodied`` (gCO2eq), summed into ``carbon`` by a ``Sum`` plugin;
with ``functional_unit`` a ``Sci`` plugin divides ``carbon`` by that output's daily mean
(a ratio of means; :func:`simulate.results.sci.sci_score` gives the SCI's own quantiles).
"""
from __future__ import annotations

import numpy as np
import yaml

from .files import write_text

QUANTILE_FIELDS = (0.05, 0.5, 0.95)
# Our output -> (IF field, factor from the output's unit, IF unit)
IF_FIELDS = {"energy_kwh": ("energy", 1.0, "kWh"), "co2_kg": ("carbon-operational", 1000.0, "gCO2eq"),
             "embodied_co2_kg": ("carbon-embodied", 1000.0, "gCO2eq")}


def manifest(ds, functional_unit: str | None = None) -> dict:
    """The manifest of a results Dataset as a dict (YAML-ready).

    Parameters
    ----------
    ds : xarray.Dataset
        A results Dataset (:meth:`simulate.Model.run`).
    functional_unit : str, optional
        An output counting the SCI functional unit (``queries``): adds a ``Sci`` plugin.

    Returns
    -------
    dict
        ``name``, ``description``, ``tags``, ``initialize.plugins`` and ``tree.children.<model>.inputs``.
    """
    names = [v[: -len("_daily")] for v in ds.data_vars
             if v.endswith("_daily") and f"{v}_mean" in ds and set(ds[v].dims) == {"quantile", "date"}]
    metadata, rows = {}, [{"timestamp": f"{str(d)[:10]}T00:00:00Z", "duration": 86400} for d in ds["date"].values]
    for name in names:
        da = ds[f"{name}_daily"]
        unit, how = da.attrs.get("units", ""), "sum" if da.attrs.get("aggregate", "sum") == "sum" else "avg"
        fields = [(name, ds[f"{name}_daily_mean"].values, unit, how, f"mean of {da.attrs.get('long_name', name)}")]
        fields += [(f"{name}-p{q * 100:g}", da.sel(quantile=q).values, unit, "none",
                    f"{q:.0%} quantile of {da.attrs.get('long_name', name)} (not additive)") for q in QUANTILE_FIELDS]
        if name in IF_FIELDS:
            field, factor, if_unit = IF_FIELDS[name]
            fields.append((field, ds[f"{name}_daily_mean"].values * factor, if_unit, "sum", f"mean of {name} in {if_unit}"))
        for field, values, unit, how, description in fields:
            metadata[field] = {"description": description, "unit": unit,
                               "aggregation-method": {"time": how, "component": how if how != "avg" else "avg"}}
            for row, value in zip(rows, values):
                row[field] = _number(value)
    plugins, compute = {}, []
    carbon = [IF_FIELDS[n][0] for n in ("co2_kg", "embodied_co2_kg") if n in names]
    if carbon:
        plugins["sum-carbon"] = {"method": "Sum", "path": "builtin",
                                 "config": {"input-parameters": carbon, "output-parameter": "carbon"},
                                 "parameter-metadata": {
                                     "inputs": {f: metadata[f] for f in carbon},
                                     "outputs": {"carbon": {"description": "location-based carbon, operational + embodied",
                                                            "unit": "gCO2eq",
                                                            "aggregation-method": {"time": "sum", "component": "sum"}}}}}
        compute.append("sum-carbon")
        if functional_unit:
            plugins["sci"] = {"method": "Sci", "path": "builtin", "config": {"functional-unit": functional_unit},
                              "parameter-metadata": {
                                  "inputs": {"carbon": plugins["sum-carbon"]["parameter-metadata"]["outputs"]["carbon"],
                                             functional_unit: metadata[functional_unit]},
                                  "outputs": {"sci": {"description": f"carbon per {functional_unit} (ratio of daily means)",
                                                      "unit": f"gCO2eq per {functional_unit}",
                                                      "aggregation-method": {"time": "avg", "component": "avg"}}}}}
            compute.append("sci")
    child = {"pipeline": {"compute": compute}} if compute else {}
    child["inputs"] = rows
    description = (f"{ds.attrs.get('title', '')}: modelled, not measured. Means and quantiles per day of a Monte "
                   f"Carlo run by simulate ({ds.attrs.get('samples')} samples, seed {ds.attrs.get('seed')}) of "
                   f"{ds.attrs.get('model_path') or ds.attrs.get('model_name')} (sha256 {ds.attrs.get('model_sha256', '')[:12]}); "
                   "carbon is location-based. Fields -p5/-p50/-p95 are quantiles: never sum them.")
    return {"name": ds.attrs.get("model_name") or "simulate", "description": description,
            "tags": {"kind": "monte-carlo estimate", "category": "AI energy and carbon"},
            "initialize": {"plugins": plugins},
            "x-simulate-parameter-metadata": metadata,
            "tree": {"children": {ds.attrs.get("model_name") or "model": child}}}


def write_manifest(ds, path, functional_unit: str | None = None):
    """Write :func:`manifest` of ``ds`` to ``path`` as YAML (atomically); return ``path``."""
    text = yaml.dump(manifest(ds, functional_unit), Dumper=_PlainDumper, sort_keys=False, allow_unicode=True,
                     width=120)
    return write_text(path, text)


class _PlainDumper(yaml.SafeDumper):
    """Writes a shared dict twice rather than as a YAML alias (``&id001``), which readers trip on."""

    def ignore_aliases(self, data):
        return True


def _number(value):
    value = float(value)
    return value if np.isfinite(value) else None
