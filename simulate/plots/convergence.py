"""Convergence plot: a quantile estimate and its confidence band against the sample count."""
from __future__ import annotations


def plot_convergence(history, quantiles=(0.5,), ax=None):
    """Plot :func:`simulate.analysis.convergence.history` output; return ``(Figure, Axes)``.

    One line per quantile with its confidence interval as a shaded band; the x axis (samples) is
    logarithmic, so a band narrowing as 1/sqrt(n) shows as a steady funnel.

    Parameters
    ----------
    history : xarray.Dataset
        A result of :func:`simulate.analysis.convergence.history`.
    quantiles : sequence of float
        Which quantiles to draw.
    ax : matplotlib Axes, optional
        Draw here instead of on a new figure.

    Returns
    -------
    (Figure, Axes)
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.0))
    n = history["samples"].values
    for q in quantiles:
        row = history.sel(quantile=q)
        line, = ax.plot(n, row["estimate"].values, marker="o", ms=3, label=f"{q:.0%} quantile")
        ax.fill_between(n, row["ci_low"].values, row["ci_high"].values, color=line.get_color(), alpha=0.25,
                        linewidth=0)
    ax.set_xscale("log")
    ax.set_xlabel("samples")
    units = history["estimate"].attrs.get("units", "")
    ax.set_ylabel(f"{history.attrs['output']} [{units}]")
    ax.set_title(f"{history['estimate'].attrs.get('long_name', '')}\n"
                 f"estimates with {history.attrs['ci_level']:.0%} order-statistic intervals", fontsize=9)
    ax.set_xlim(n.min() / 1.3, n.max() * 1.3)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    return ax.figure, ax
