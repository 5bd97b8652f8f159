"""Grid carbon and off-site water intensity per zone, read from a cited dataset shipped with the package.

A parameter (or a ``[regions.X]`` intensity) can say "this is that dataset's zone, with this
relative spread" instead of typing numbers::

    intensity_g_per_kwh = { dataset = "ecologits-0.11.3", zone = "USA", relative_p5 = 1.0, relative_p95 = 1.6 }
    offsite_water_l_per_kwh = { dataset = "ecologits-0.11.3", zone = "SWE", gsd = 1.3 }

The zone's value (converted to the parameter's unit) becomes a lognormal: its median with ``gsd``,
or its 5th and 95th percentiles at ``relative_p5`` and ``relative_p95`` times the value; with no
spread the parameter is fixed at the value. The quantity read (``gwp`` or ``wue``) follows from the
unit (gCO2e/kWh or L/kWh) unless ``quantity`` names it.

The one dataset shipped: EcoLogits 0.11.3's ``ecologits/data/electricity_mixes.json`` (MPL-2.0, its
licence beside it in ``simulate/spec/data/ecologits-0.11.3/``), 215 zones (ISO 3166-1 alpha-3,
``WOR`` world, ``EEE`` Europe). Per EcoLogits' methodology (docs/methodology/llm_inference.md in
https://github.com/mlco2/ecologits; commit 0adc8ab "gwp data coming from Our World in Data"), ``gwp``
is Our World in Data's lifecycle carbon intensity of electricity generation (Ember): location-based,
the generation (production) mix, life-cycle factors (Ember's IPCC AR5 basis), in kgCO2e/kWh; ``wue``
is the water consumed to generate a kWh (World Resources Institute method), in L/kWh. The data year
is not written in the file: EcoLogits took OWID's latest year when it updated the mixes (2024 or 2025).
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import Location
from ..units import unit_factor
from .fields import is_number

DATA = Path(__file__).resolve().parent / "data"
KEYS = {"dataset", "zone", "quantity", "gsd", "relative_p5", "relative_p95", "source", "rationale", "long_name",
        "unit", "dims", "coordinates", "by_month"}


@dataclass(frozen=True)
class Quantity:
    key: str            # the field in the file
    unit: str           # its unit
    long_name: str


@dataclass(frozen=True)
class GridDataset:
    name: str           # how a model file names it, version included: "ecologits-0.11.3"
    title: str
    file: Path
    licence: str
    url: str
    quantities: dict    # key -> Quantity
    carbon_basis: str   # accounting, mix and factors of its carbon intensities
    vintage: str        # the data year, as far as it is known

    @functools.cached_property
    def zones(self) -> dict:
        """Zone code -> its record (a dict of the file's fields)."""
        records = json.loads(self.file.read_text(encoding="utf-8"))["electricity_mixes"]
        return {r["name"]: r for r in records}

    @functools.cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.file.read_bytes()).hexdigest()

    def value(self, zone: str, quantity: str) -> float:
        """The zone's ``quantity`` in the dataset's own unit (KeyError for an unknown zone)."""
        return float(self.zones[zone][self.quantities[quantity].key])

    def provenance(self) -> dict:
        """What a result records about the dataset it read."""
        return {"name": self.name, "title": self.title, "file": f"{self.file.parent.name}/{self.file.name}",
                "sha256": self.sha256, "licence": self.licence, "url": self.url, "carbon_basis": self.carbon_basis,
                "vintage": self.vintage}


DATASETS = {
    "ecologits-0.11.3": GridDataset(
        name="ecologits-0.11.3",
        title="EcoLogits 0.11.3 electricity mixes (ecologits/data/electricity_mixes.json)",
        file=DATA / "ecologits-0.11.3" / "electricity_mixes.json",
        licence="MPL-2.0",
        url="https://pypi.org/project/ecologits/0.11.3/",
        quantities={"gwp": Quantity("gwp", "kgCO2e/kWh", "lifecycle carbon intensity of electricity generation"),
                    "wue": Quantity("wue", "L/kWh", "water consumed to generate one kWh (off-site)")},
        carbon_basis="location-based; generation (production) mix; life-cycle factors (Ember via Our World in Data)",
        vintage="Our World in Data's latest year when EcoLogits updated its mixes (2024 or 2025; not stated in the "
                "file)",
    ),
}


def dataset(name: str, where: Location | None = None) -> GridDataset:
    """The shipped dataset called ``name``, or a ModelError at ``where`` listing the ones there are."""
    if name not in DATASETS:
        (where or Location(None, "dataset")).fail("is not a dataset shipped with simulate", "dataset", name,
                                                  f"use one of {sorted(DATASETS)}")
    return DATASETS[name]


def is_reference(spec) -> bool:
    """A distribution table that reads its value from a dataset."""
    return isinstance(spec, dict) and "dataset" in spec


def resolve(spec: dict, unit: str, where: Location) -> tuple[dict, str]:
    """``(distribution table, dataset name)`` for a table with ``dataset`` and ``zone``.

    The table keeps its ``source`` and ``rationale``, with the dataset, zone and value put in front
    of the source, so a reader sees where the number came from.
    """
    for key in spec:
        if key not in KEYS:
            where.fail("unknown key beside dataset", key, fix="use dataset, zone, quantity, gsd or relative_p5 and "
                                                              "relative_p95, source, rationale")
    data = dataset(spec.get("dataset"), where)
    quantity = spec.get("quantity") or _quantity_for(data, unit)
    if quantity not in data.quantities:
        where.fail(f"{data.name} has no quantity for a parameter in {unit}", "quantity", quantity,
                   f"use a unit of {[q.unit for q in data.quantities.values()]} or quantity = one of "
                   f"{sorted(data.quantities)}")
    q = data.quantities[quantity]
    factor = unit_factor(q.unit, unit)
    if factor is None:
        where.fail(f"the dataset's {quantity} is in {q.unit}, which cannot be converted to the parameter's unit",
                   "unit", unit, f"declare the parameter in {q.unit} or a multiple of it")
    zone = spec.get("zone")
    if not isinstance(zone, str) or zone not in data.zones:
        close = sorted(z for z in data.zones if isinstance(zone, str) and z[:1] == zone[:1].upper())[:8]
        where.fail(f"is not a zone of {data.name}", "zone", zone,
                   f"use an ISO 3166-1 alpha-3 code, WOR (world) or EEE (Europe){'; e.g. ' + ', '.join(close) if close else ''}")
    value = data.value(zone, quantity) * factor
    note = (f"{data.title}, zone {zone}: {quantity} {data.value(zone, quantity):g} {q.unit}"
            + (f" = {value:g} {unit}" if factor != 1 else "") + f" ({data.carbon_basis if quantity == 'gwp' else q.long_name})")
    warnings = data.zones[zone].get("warnings") or []
    if any(w.endswith(f"{quantity}-world") for w in warnings):
        note += "; EcoLogits flags it: no country value, the world default is used"
    source = spec.get("source")
    out = {k: v for k, v in spec.items() if k in ("rationale", "long_name", "unit", "dims", "coordinates", "by_month")}
    out["source"] = f"{note}; {source.strip()}" if isinstance(source, str) and source.strip() else note
    out.update(_spread(spec, value, where))
    return out, data.name


def _quantity_for(data, unit) -> str | None:
    """The dataset quantity whose unit converts to ``unit``."""
    for key, q in data.quantities.items():
        if unit_factor(q.unit, unit) is not None:
            return key
    return None


def _spread(spec, value, where) -> dict:
    """The lognormal (or fixed value) a dataset value and a relative spread give."""
    has_gsd, has_rel = "gsd" in spec, "relative_p5" in spec or "relative_p95" in spec
    if has_gsd and has_rel:
        where.fail("give either gsd or relative_p5 and relative_p95", "gsd", spec["gsd"],
                   "write gsd = 1.3 (around the value), or relative_p5 = 0.9 and relative_p95 = 1.5")
    if value <= 0 and (has_gsd or has_rel):
        where.fail("the dataset's value is zero, so it cannot carry a relative spread", "zone", spec.get("zone"),
                   "drop the spread (the parameter is then fixed at 0) or choose another zone")
    if has_gsd:
        gsd = spec["gsd"]
        if not is_number(gsd) or not math.isfinite(gsd) or gsd <= 1:
            where.fail("a geometric standard deviation is a number above 1", "gsd", gsd, "write e.g. gsd = 1.3")
        return {"dist": "lognormal", "median": value, "gsd": float(gsd)}
    if has_rel:
        low, high = spec.get("relative_p5"), spec.get("relative_p95")
        for key, v in (("relative_p5", low), ("relative_p95", high)):
            if not is_number(v) or not math.isfinite(v) or v <= 0:
                where.fail("must be a positive multiple of the dataset's value", key, v,
                           "write relative_p5 = 0.9, relative_p95 = 1.5")
        if low >= high:
            where.fail("relative_p5 must be below relative_p95", "relative_p5", low, "swap them")
        return {"dist": "lognormal", "p5": value * low, "p95": value * high}
    return {"dist": "fixed", "value": value}
