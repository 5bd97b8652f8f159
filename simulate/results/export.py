"""Write a results Dataset by file extension: netCDF, or a tidy table as CSV, JSON or Parquet.

The table has one row per output, scale, time and coordinate (``energy_kwh``, ``monthly``,
``2023-01``), with the display unit, mean, standard deviation, every quantile (``p2.5`` ...
``p97.5``) and the 95% confidence interval of each (``p50_ci_low``, ``p50_ci_high``), and the
count of non-finite samples. JSON adds the Dataset's provenance beside the rows. ``.yaml`` and
``.yml`` write an Impact Framework manifest (:mod:`simulate.results.manifest`).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..errors import ModelError
from .files import write_atomically, write_text
from .netcdf import save_netcdf

FORMATS = {".nc": "netCDF (CF-1.11)", ".csv": "CSV table", ".json": "JSON table with provenance",
           ".parquet": "Parquet table (needs pyarrow)", ".yaml": "Impact Framework manifest",
           ".yml": "Impact Framework manifest"}
SCALES = ("daily", "monthly", "yearly", "total")
TIME_OF_SCALE = {"daily": "date", "monthly": "month", "yearly": "year", "total": None}


def export(ds, path, *, field: str = "out", functional_unit: str | None = None) -> Path:
    """Write ``ds`` to ``path`` in the format its extension names (atomically, umask permissions).

    Parameters
    ----------
    ds : xarray.Dataset
        A results Dataset (:meth:`simulate.Model.run`); other Datasets (sensitivity) go to netCDF,
        CSV or JSON as their plain table.
    path : str or Path
        ``.nc``, ``.csv``, ``.json``, ``.parquet``, ``.yaml`` or ``.yml``.
    field : str
        The argument named in the error for an unknown extension (``--out`` from the CLI).
    functional_unit : str, optional
        For a manifest: the output counting the SCI functional unit (adds IF's ``Sci`` plugin).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ModelError("has no extension a results file can be written as", field=field, value=str(path),
                         fix="end it in " + ", ".join(f"{s} ({what})" for s, what in FORMATS.items()))
    if suffix == ".nc":
        return save_netcdf(ds, path)
    if suffix in (".yaml", ".yml"):
        from .manifest import write_manifest

        return write_manifest(ds, path, functional_unit)
    table = tidy_table(ds) if is_results(ds) else ds.to_dataframe().reset_index()
    if suffix == ".csv":
        return write_text(path, table.to_csv(index=False), field)
    if suffix == ".json":
        document = {"attributes": {k: _plain(v) for k, v in ds.attrs.items()},
                    "columns": list(table.columns),
                    "rows": [{k: _plain(v) for k, v in row.items()} for row in table.to_dict("records")]}
        return write_text(path, json.dumps(document, indent=1, allow_nan=False) + "\n", field)
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ModelError("needs the pyarrow package", field=field, value=str(path),
                         fix="pip install pyarrow, or write .csv or .nc instead") from None
    return write_atomically(path, lambda tmp: table.to_parquet(tmp, index=False), field)


def is_results(ds) -> bool:
    """Whether ``ds`` is a results Dataset (it has the ``NAME_total`` of at least one output)."""
    return any(name.endswith("_total") for name in ds.data_vars)


def output_variables(ds) -> list[tuple[str, str]]:
    """``(variable base, scale)`` of every quantile variable: ``("energy_kwh", "monthly")``,
    ``("co2_kg_by_region", "daily")``..., in the Dataset's order."""
    found = []
    for name in ds.data_vars:
        for scale in SCALES:
            if name.endswith(f"_{scale}") and f"{name}_mean" in ds and "quantile" in ds[name].dims:
                found.append((name[: -len(scale) - 1], scale))
    return found


def tidy_table(ds):
    """The results as a tidy ``pandas.DataFrame``: one row per output, scale, time and coordinate.

    Parameters
    ----------
    ds : xarray.Dataset
        A results Dataset.

    Returns
    -------
    pandas.DataFrame
        Columns ``output``, ``scale``, ``time`` (ISO date of the cell's first day, empty for the
        whole period), one column per kept dimension (``region``...), ``unit``, ``mean``, ``sd``,
        ``p2.5`` ... ``p97.5``, ``pQ_ci_low`` and ``pQ_ci_high`` for each quantile, and ``nonfinite``.
    """
    import pandas as pd

    quantiles = [float(q) for q in ds["quantile"].values]
    labels = [quantile_label(q) for q in quantiles]
    frames = []
    for base, scale in output_variables(ds):
        var = f"{base}_{scale}"
        da = ds[var]
        time = TIME_OF_SCALE[scale]
        extra = [d for d in da.dims if d not in ("quantile", time)]
        order = ([time] if time else []) + extra
        columns = {}
        q = da.transpose(*order, "quantile").values.reshape(-1, len(quantiles))
        low = ds[f"{var}_ci_low"].transpose(*order, "quantile").values.reshape(-1, len(quantiles))
        high = ds[f"{var}_ci_high"].transpose(*order, "quantile").values.reshape(-1, len(quantiles))
        index = np.indices([da.sizes[d] for d in order]).reshape(len(order), -1) if order else np.zeros((0, 1), int)
        n = q.shape[0]
        columns["output"] = [base] * n
        columns["scale"] = [scale] * n
        columns["time"] = ([str(v)[:10] for v in ds[time].values[index[0]]] if time else [""] * n)
        for k, dim in enumerate(extra):
            columns[dim] = ds[dim].values[index[k + (1 if time else 0)]]
        columns["unit"] = [da.attrs.get("units", "")] * n
        columns["mean"] = ds[f"{var}_mean"].transpose(*order).values.reshape(-1)
        columns["sd"] = ds[f"{var}_std"].transpose(*order).values.reshape(-1)
        for j, label in enumerate(labels):
            columns[label] = q[:, j]
        for j, label in enumerate(labels):
            columns[f"{label}_ci_low"], columns[f"{label}_ci_high"] = low[:, j], high[:, j]
        columns["nonfinite"] = ds[f"{var}_nonfinite"].transpose(*order).values.reshape(-1)
        frames.append(pd.DataFrame(columns))
    table = pd.concat(frames, ignore_index=True)
    dims = [c for c in table.columns if c not in ("output", "scale", "time", "unit", "mean", "sd", "nonfinite")
            and not c.startswith("p")]
    front = ["output", "scale", "time"] + dims
    return table[front + [c for c in table.columns if c not in front]]


def quantile_label(q: float) -> str:
    """``0.025`` -> ``p2.5``, ``0.5`` -> ``p50``."""
    return f"p{q * 100:g}"


def _plain(value):
    """A JSON-ready value: numpy scalars as Python numbers, NaN and infinities as None."""
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    return value
