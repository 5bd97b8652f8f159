"""Console tables a person can read: results per month with readable magnitudes, parameters, and
sensitivity rankings."""
from __future__ import annotations

import json

import numpy as np

from ..plots.labels import format_number, month_label, scale_for


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
        label = month_label(ds, m)
        for name in names:
            da = ds[f"{name}_monthly"].isel(month=m)
            extra = [d for d in da.dims if d != "quantile"]       # dimensions an output keeps
            cells = [({}, name)] if not extra else [
                (dict(zip(extra, coords)), f"  {','.join(str(c) for c in coords)}")
                for coords in np.ndindex(*(da.sizes[d] for d in extra))]
            for at, row in cells:
                one = da.isel({d: i for d, i in at.items()}) if at else da
                row = f"  {','.join(str(one[d].values) for d in extra)}" if at else row
                values = one.sel(quantile=[0.05, 0.5, 0.95]).values
                factor, unit = scale_for(values, da.attrs.get("units", ""))
                lo, mid, hi = (format_number(v / factor) for v in values)
                lines.append(f"{label:<9} {row:<28} {mid:>12} {'[' + lo + ', ' + hi + ']':>27}  {unit}")
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
    for shares in model.shares.values():
        if not (shares.name == "region_share" and model.regions is not None):
            rows.append(f"  {shares.name} over {shares.dims[0]} [1]: {shares.describe()}\n      source: {shares.source}")
    if model.dimensions:
        rows.append("dimensions:")
        rows += [f"  {d.name} = {list(d.labels)}" for d in model.dimensions.values()]
    if model.derived:
        rows.append("derived:")
        rows += [f"  {d.name} = {d.text}" for d in model.derived.values()]
    return "parameters:\n" + "\n".join(rows)


def ranked_table(ds) -> str:
    """The result as a plain-text table, most influential first."""
    method = ds.attrs["method"]
    if method in ("shapley", "disclosure"):      # their tables live with their report section
        from .disclosure import console_table
        return console_table(ds)
    lines = [f"{ds.attrs['target']}: {method}, {ds.attrs['samples']:,} samples, seed {ds.attrs['seed']}"]
    daily = "date" in ds.dims

    def v(name):   # daily: the largest value over dates
        da = ds[name]
        return da.max("date").values if daily else da.values

    if method == "sobol":
        cols = ["first_order", "first_order_low", "first_order_high", "total_order", "total_order_low",
                "total_order_high"]
        vals = [v(c) for c in cols]
        head = f"{'parameter':<28} {'first order':>11} {'95% interval':>17} {'total':>8} {'95% interval':>17}"
        lines += [head + ("   (max over dates)" if daily else ""), "-" * len(head)]
        for i, name in enumerate(ds["parameter"].values):
            lines.append(f"{name:<28} {vals[0][i]:>11.3f} [{vals[1][i]:>6.3f}, {vals[2][i]:>6.3f}] "
                         f"{vals[3][i]:>8.3f} [{vals[4][i]:>6.3f}, {vals[5][i]:>6.3f}]")
    elif method == "tornado":
        unit = ds["swing"].attrs["units"]
        factor, label = scale_for([float(np.max(ds["baseline"].values))], unit)
        lines.append(f"median with nothing fixed: {format_number(float(np.max(ds['baseline'].values)) / factor)} {label}"
                     + (" (max over dates)" if daily else ""))
        head = f"{'parameter':<28} {'at p5':>10} {'at p95':>10} {'swing':>10}  unit"
        lines += [head, "-" * len(head)]
        lo, hi, sw = v("output_low"), v("output_high"), v("swing")
        for i, name in enumerate(ds["parameter"].values):
            lines.append(f"{name:<28} {format_number(lo[i] / factor):>10} {format_number(hi[i] / factor):>10} "
                         f"{format_number(sw[i] / factor):>10}  {label}")
    else:
        head = f"{'parameter':<28} {'rho':>7}  draw"
        lines += [head + ("   (largest |rho| over dates)" if daily else ""), "-" * len(head)]
        rho = ds["rho"].values
        if daily:
            rho = np.take_along_axis(rho, np.nanargmax(np.abs(rho), axis=1)[:, None], axis=1)[:, 0]
        for i, name in enumerate(ds["parameter"].values):
            lines.append(f"{name:<28} {rho[i]:>7.3f}  {ds['member_used'].values[i]}")
    fixed = json.loads(ds.attrs.get("fixed_parameters", "[]"))
    if fixed:
        lines.append(f"fixed (no spread, not ranked): {', '.join(fixed)}")
    return "\n".join(lines)
