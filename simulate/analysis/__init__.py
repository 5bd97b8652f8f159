"""Analyses on top of runs: sensitivity (Sobol, tornado, rank, sweeps), calibration, convergence."""
