"""Every figure, from a results Dataset (or a sensitivity, calibration or convergence Dataset).

Every function returns ``(Figure, Axes)`` (``Axes`` is an array when the figure has panels), so a
script can restyle and save it; nothing is shown or saved here. Labels and units come from the
Dataset's attrs; magnitudes get SI prefixes (MWh, GWh; t, kt); value axes turn logarithmic when
values span more than 1.5 decades.

    >>> from simulate import plots
    >>> fig, ax = plots.fan_chart(ds, "energy_kwh", references=model.references)

The functions are imported on first use, so ``simulate.plots.labels`` (number formatting, used by
console tables) does not load matplotlib.
"""
import importlib

_HOMES = {
    "fan_chart": "fan", "distribution": "density", "paths": "ratio",
    "co2_by_region": "regions", "region_outputs": "regions", "per_item": "items", "interval_chart": "intervals",
    "tornado_chart": "sensitivity", "sobol_bars": "sensitivity", "indices_over_time": "sensitivity",
    "sweep_bands": "sensitivity", "figure_for": "sensitivity",
    "plot_prior_posterior": "calibration", "plot_path_agreement": "calibration",
    "plot_convergence": "convergence",
    "disclosure_bands": "disclosure", "shapley_bars": "disclosure",
}
__all__ = sorted(_HOMES)


def __getattr__(name):
    if name in _HOMES:
        return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
