"""Start-up: reading and checking a model file imports none of the heavy libraries (issue 17).

``import simulate`` and ``simulate check`` need the model format only; numba, scipy, xarray,
netCDF4, dask and matplotlib are imported by the stage that uses them. pint (which imports dask's
core) checks the units of a model's expressions the first time the model is read; the verdict and
the kernel's quantile tables (scipy.special) are remembered in the user cache folder, so a warm
start imports neither.
"""
from __future__ import annotations

import ast
import os
import subprocess
import sys

import pytest

from tests.helpers import PRIORS, ROOT

HEAVY = ("numba", "scipy.stats", "scipy.special", "xarray", "netCDF4", "dask", "distributed", "matplotlib", "pint")

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
    _seen(code)                               # the memos of this test session's cache folder are written...
    assert _seen(code) == []                  # ...and a warm start reads them


def test_a_cold_start_checks_the_units_with_pint(tmp_path):
    """The probe can see pint: with an empty cache folder the check runs (and is remembered)."""
    code = CODE.format(work=f"simulate.load({str(PRIORS / 'chatgpt-2023-01.toml')!r})", heavy=HEAVY)
    env = {**os.environ, "SIMULATE_CACHE_DIR": str(tmp_path)}
    assert "pint" in _seen(code, env)
    assert _seen(code, env) == []


def _seen(code, env=None) -> list:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True,
                          env=env)
    return ast.literal_eval(done.stdout.strip().splitlines()[-1])


def test_running_a_model_does_import_the_kernel():
    """The probe above can see an import: a run brings numba and xarray in."""
    code = CODE.format(work=f"simulate.load({str(PRIORS / 'chatgpt-2023-01.toml')!r}).run(samples=100)", heavy=HEAVY)
    seen = _seen(code)
    assert "numba" in seen and "xarray" in seen
