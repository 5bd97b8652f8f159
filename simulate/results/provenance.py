"""What a result records about how it was made: model hash, seed, samples, versions, time."""
from __future__ import annotations

import datetime as dt
import json
import platform

import numpy as np

from .._version import __version__
from ..engine.runner import BLOCK_SIZE


def versions() -> dict:
    """Versions of this package, Python and the libraries the numbers depend on."""
    import numba
    import scipy
    import xarray as xr

    return {"simulate": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "numba": numba.__version__, "scipy": scipy.__version__, "xarray": xr.__version__}


def provenance(model, *, samples, seed, elapsed_s) -> dict:
    """The Dataset attributes that say which model, seed and sample count gave the numbers.

    With the CF-1.11 global attributes (``Conventions``, ``history``, ``source``): the history line
    is the run itself, timestamped as ``created``.
    """
    created = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    what = f"{model.path or model.name}" + (f", scenario {model.scenario}" if model.scenario else "")
    return {
        "Conventions": "CF-1.11",
        "history": f"{created}: simulate {__version__} Monte Carlo run of {what}: {int(samples)} samples, seed {int(seed)}",
        "source": f"simulate {__version__}: Monte Carlo simulation of the model file's priors (modelled, not measured)",
        "title": model.title, "model_name": model.name, "model_path": model.path or "",
        "model_sha256": model.sha256, "scenario": model.scenario or "",
        "fixed_parameters": json.dumps(model.fixed, sort_keys=True),
        "seed": int(seed), "samples": int(samples), "block_size": BLOCK_SIZE,
        "versions": json.dumps(versions(), sort_keys=True),
        "quantile_method": "histogram of IEEE-754 keys, 256 bins per octave, linear between order statistics",
        "elapsed_s": round(float(elapsed_s), 3),
        "created": created,
    }
