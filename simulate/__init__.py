"""simulate: Monte Carlo uncertainty for the electricity use and CO2 of AI services at fleet scale.

    >>> import simulate
    >>> model = simulate.load("priors/chatgpt-2023-01.toml")
    >>> ds = model.run(samples=1_000_000, seed=1)
    >>> ds["energy_kwh_monthly"].sel(quantile=0.5)

The package runs one way, stage by stage: ``spec`` (model files) -> ``engine`` (compiler, kernel,
runner) -> ``results`` (Dataset, netCDF) -> ``analysis`` (sensitivity, calibration, convergence)
-> ``plots`` -> ``report`` -> ``cli``.
"""
from ._version import __version__  # noqa: E402
from .errors import ModelError  # noqa: E402
from .results.netcdf import save_netcdf  # noqa: E402
from .spec.model import Model  # noqa: E402
from .spec.reader import load  # noqa: E402

__all__ = ["load", "Model", "ModelError", "save_netcdf", "__version__"]
