"""Save a results Dataset to netCDF: written under a temporary name, then renamed into place."""
from __future__ import annotations

from pathlib import Path

from .files import umask_mode, write_atomically

__all__ = ["save_netcdf", "umask_mode"]


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
        ``path``, with the permissions a new file gets under the user's umask (0644 under 022).

    Raises
    ------
    ModelError
        When ``path`` cannot take a file or the write fails (read-only folder, full disk...).
    """
    return write_atomically(path, lambda tmp: ds.to_netcdf(tmp, engine="netcdf4"), field)
