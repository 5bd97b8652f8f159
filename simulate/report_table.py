"""Plain-text tables a person can read: results per month with readable magnitudes, and parameters."""
from __future__ import annotations

import numpy as np

from .units import format_number, scale_for


def summary_table(ds, max_months: int | None = 12) -> str:
    """Median and 90% interval of each output per month, with SI-prefixed units (GWh, t, ...).

    A period longer than ``max_months`` shows every k-th month and the last (None: all months).
    """
    lines = [f"{ds.attrs.get('title', '')}: {ds.attrs['samples']:,} samples, seed {ds.attrs['seed']}"
             + (f", scenario {ds.attrs['scenario']}" if ds.attrs.get("scenario") else "")]
    header = f"{'month':<9} {'output':<28} {'median':>12} {'90% interval':>27}  unit"
    lines += [header, "-" * len(header)]
    names = [v[: -len("_monthly")] for v in ds.data_vars if v.endswith("_monthly")]
    n_months = ds.sizes["month"]
    shown = list(range(n_months))
    if max_months is not None and n_months > max_months:
        step = -(-n_months // max_months)
        shown = sorted(set(range(0, n_months, step)) | {n_months - 1})
    for m, month in enumerate(ds["month"].values):
        if m not in shown:
            continue
        label = str(np.datetime64(month, "M"))
        for name in names:
            da = ds[f"{name}_monthly"]
            values = da.sel(quantile=[0.05, 0.5, 0.95]).values[:, m]
            factor, unit = scale_for(values, da.attrs.get("units", ""))
            lo, mid, hi = (format_number(v / factor) for v in values)
            lines.append(f"{label:<9} {name:<28} {mid:>12} {'[' + lo + ', ' + hi + ']':>27}  {unit}")
    if len(shown) < n_months:
        lines.append(f"showing {len(shown)} of {n_months} months (one in {step}, and the last); "
                     "--all-months prints every month, --out FILE.nc keeps them all")
    bad = ds.attrs.get("nonfinite_samples")
    if bad:
        lines.append(f"non-finite samples left out (per output, worst month): {bad}")
    return "\n".join(lines)


def parameter_table(model) -> str:
    """Every sampled parameter with its distribution, unit and source."""
    rows = []
    for p in model.all_parameters():
        rows.append(f"  {p.name} [{p.unit}]: {p.describe()}\n      source: {p.source}"
                    + (f"\n      why: {p.rationale}" if p.rationale else ""))
    if model.regions is not None:
        r = model.regions
        split = ", ".join(f"{x.name} {x.share:g}" for x in r.regions)
        how = f"Dirichlet, concentration {r.concentration:g}" if r.mode == "dirichlet" else "fixed"
        rows.append(f"  region shares ({how}): {split}\n      source: {r.source}")
    if model.derived:
        rows.append("derived:")
        rows += [f"  {d.name} = {d.text}" for d in model.derived.values()]
    return "parameters:\n" + "\n".join(rows)
