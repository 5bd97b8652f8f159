"""Save a results Dataset to netCDF (CF-1.11), and read one back with its display units."""
from __future__ import annotations

from pathlib import Path

from .cf import from_file, to_file
from .files import umask_mode, write_atomically

__all__ = ["open_results", "save_netcdf", "umask_mode"]


def save_netcdf(ds, path, field: str = "--out") -> Path:
    """Write ``ds`` to ``path`` via a temporary file in the same folder, then rename: never half-written.

    Parameters
    ----------
    ds : xarray.Dataset
        A results (or sensitivity) Dataset.
    path : str or Path
        The netCDF file to write; its folder is created if needed. An existing folder, device or
        FIFO there is refused, never replaced.
    field : str
        What errors call the path (the CLI's ``--out``).

    Returns
    -------
    Path
        ``path``, CF-1.11 (UDUNITS units, the display units in ``display_units``), with the
        permissions a new file gets under the user's umask (0644 under 022).

    Raises
    ------
    ModelError
        When ``path`` cannot take a file or the write fails (read-only folder, full disk...).
    """
    return write_atomically(path, lambda tmp: to_file(ds).to_netcdf(tmp, engine="netcdf4"), field)


def open_results(path):
    """Read a results file written by :func:`save_netcdf`, with the display units back in ``units``.

    Parameters
    ----------
    path : str or Path
        A netCDF file.

    Returns
    -------
    xarray.Dataset
        Loaded into memory (the file is closed), ready for :mod:`simulate.plots` and the tables.
    """
    import xarray as xr

    with xr.open_dataset(path) as ds:
        return from_file(ds.load())
