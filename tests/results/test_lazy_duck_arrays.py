"""xarray asks for dask.array's and pint's array types without importing them (issue 17): exact
while they are not imported, xarray's own answer once they are."""
from __future__ import annotations

import subprocess
import sys

from tests.helpers import CHATGPT, ROOT

BUILD_AND_PRINT = f"""
import sys
import simulate
from simulate.report.tables import summary_table
ds = simulate.load({str(CHATGPT)!r}).run(samples=1000, seed=1, progress=False)
text = summary_table(ds)
ds["energy_kwh_monthly"].sel(quantile=0.5).values, ds.isel(month=0)
print(sorted(m for m in ("dask.array", "pint", "scipy.special", "xarray") if m in sys.modules))
"""

AFTER_IMPORT = """
import numpy as np
import simulate.results.dataset   # installs the lazy modules
from xarray.namedarray import pycompat
import xarray as xr
assert pycompat.array_type("dask") == () and pycompat.array_type("pint") == ()
import dask.array as da
import pint
assert pycompat.array_type("dask") == (da.Array,) and pycompat.array_type("pint") == (pint.Quantity,)
masked = da.from_array(np.ma.masked_array([1.0, 2.0, 3.0], mask=[False, True, False]), chunks=2)
v = xr.Variable("x", masked)          # a masked dask array: xarray fills the mask with NaN, lazily
assert v.chunks == ((2, 1),), v.chunks
assert np.array_equal(v.values, [1.0, np.nan, 3.0], equal_nan=True), v.values
q = pint.UnitRegistry().Quantity(np.arange(3.0), "m")
assert xr.DataArray(q).to_numpy().tolist() == [0.0, 1.0, 2.0]
print("ok")
"""


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return done.stdout.strip().splitlines()[-1]


def test_a_warm_run_and_its_summary_import_neither_dask_array_nor_pint_nor_scipy_special():
    _python(BUILD_AND_PRINT)   # remembers the unit check (pint), quantile tables and ranks (scipy.special)
    assert _python(BUILD_AND_PRINT) == "['xarray']"


def test_once_dask_array_and_pint_are_imported_xarray_sees_their_arrays():
    assert _python(AFTER_IMPORT) == "ok"
