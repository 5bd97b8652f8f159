"""Results: merged reductions as an ``xarray.Dataset`` with provenance, saved as netCDF."""
from .netcdf import save_netcdf

__all__ = ["save_netcdf"]
