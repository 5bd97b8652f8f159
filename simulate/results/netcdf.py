"""Save a results Dataset to netCDF: written under a temporary name, then renamed into place."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def umask_mode(mode: int = 0o666) -> int:
    """``mode`` as the user's umask would leave a newly created file (0o644 under umask 022)."""
    mask = os.umask(0)
    os.umask(mask)
    return mode & ~mask


def save_netcdf(ds, path) -> Path:
    """Write ``ds`` to ``path`` via a temporary file in the same folder, then rename: never half-written.

    Parameters
    ----------
    ds : xarray.Dataset
        A results (or sensitivity) Dataset.
    path : str or Path
        The netCDF file to write; its folder is created if needed.

    Returns
    -------
    Path
        ``path``, with the permissions a new file gets under the user's umask (0644 under 022).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        ds.to_netcdf(tmp, engine="netcdf4")
        os.chmod(tmp, umask_mode())   # mkstemp makes it private (0600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
