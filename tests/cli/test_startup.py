"""Start-up: reading and checking a model file imports none of the heavy libraries (issue 17).

``import simulate`` and ``simulate check`` need the model format only; numba, scipy.stats, xarray,
netCDF4, dask.distributed and matplotlib are imported by the stage that uses them. (dask's core is
imported by pint, which checks the units of expressions at load time, for its dask-array support.)
"""
from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.helpers import PRIORS, ROOT

HEAVY = ("numba", "scipy.stats", "xarray", "netCDF4", "distributed", "matplotlib")

CODE = """
import contextlib, io, sys
import simulate
{work}
print(sorted(m for m in {heavy!r} if m in sys.modules))
"""


@pytest.mark.parametrize("work", [
    "simulate.load({path!r})",
    "from simulate.cli import main\nwith contextlib.redirect_stdout(io.StringIO()):\n    assert main(['check', {path!r}]) == 0",
])
@pytest.mark.parametrize("model", ["chatgpt-2023-01.toml", "ai-fleet-2023-2028.toml"])
def test_reading_and_checking_a_model_imports_no_heavy_library(work, model):
    code = CODE.format(work=work.format(path=str(PRIORS / model)), heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_running_a_model_does_import_the_kernel():
    """The probe above can see an import: a run brings numba and xarray in."""
    code = CODE.format(work=f"simulate.load({str(PRIORS / 'chatgpt-2023-01.toml')!r}).run(samples=100)", heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    seen = ast.literal_eval(done.stdout.strip().splitlines()[-1])
    assert "numba" in seen and "xarray" in seen
