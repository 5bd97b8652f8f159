"""What a model is, and reading it: the Model dataclasses, period and profile, distributions,
expressions, correlations, observations, published references and the TOML reader.

Nothing here imports numba or xarray: a model file can be read and checked on its own.
"""
