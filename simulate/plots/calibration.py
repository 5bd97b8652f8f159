"""Figures for calibration: prior against posterior bands, and the two paths with their agreement region."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .axes import new_axes
from .intervals import interval_rows, quantiles_of
from .labels import month_labels, month_words, scale_for, short_label

COLOURS = {"prior": "#8c8c8c", "posterior": "#1f6fb4"}


def plot_prior_posterior(ds, output="energy_kwh", scale: str = "monthly", ax=None):
    """Median, 50% and 90% intervals of ``output`` (one name or several in one unit), prior against
    posterior.

    One month: interval rows, prior above posterior for each output, numbers beside them. Several
    months: interval bars per month. Daily data: bands over dates.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :meth:`simulate.Model.calibrate`.
    output : str or list of str
        Output names (several must share a unit).
    scale : {"monthly", "daily"}
    ax : matplotlib Axes, optional
        Draw here instead of on a new figure (several months or days only).

    Returns
    -------
    (Figure, Axes)
    """
    outputs = [output] if isinstance(output, str) else list(output)
    da = ds[f"{outputs[0]}_{scale}"]
    if scale == "monthly" and ds.sizes["month"] == 1 and ax is None:
        rows = []
        for name in outputs:
            one = ds[f"{name}_monthly"]
            label = short_label(one, name)
            for stage, word in (("prior", "prior"), ("posterior", "posterior")):
                rows.append((f"{label}: {word}", quantiles_of(one.sel(stage=stage)), COLOURS[stage]))
        factor, unit = scale_for([max(r[1][-1] for r in rows)], da.attrs.get("units", ""))
        fig, ax = new_axes(None, (9, 1.6 + 0.6 * len(rows)))
        interval_rows(ax, rows, factor, unit, log=True)
        ax.set_xlabel(f"{short_label(da, outputs[0]).split(',')[0]}, {month_words(month_labels(ds)[0])} ({unit})")
        ax.set_title("Prior (the model alone) and posterior (given the calibration), on the same draws",
                     fontsize="medium")
        ax.legend(loc="lower right", fontsize="small", framealpha=0.9)
        return fig, ax
    dim = "date" if scale == "daily" else "month"
    factor, unit = scale_for(da.sel(stage="prior").values.ravel(), da.attrs.get("units", ""))
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    x = ds[dim].values
    for i, stage in enumerate(["prior", "posterior"]):
        band = da.sel(stage=stage) / factor
        colour = COLOURS[stage]
        if scale == "daily" and len(x) > 1:
            ax.fill_between(x, band.sel(quantile=0.05), band.sel(quantile=0.95), color=colour, alpha=0.18, lw=0,
                            label=f"{stage} 90%")
            ax.fill_between(x, band.sel(quantile=0.25), band.sel(quantile=0.75), color=colour, alpha=0.35, lw=0,
                            label=f"{stage} 50%")
            ax.plot(x, band.sel(quantile=0.5), color=colour, lw=2, label=f"{stage} median")
        else:
            positions = np.arange(len(x)) + (i - 0.5) * 0.3
            ax.vlines(positions, band.sel(quantile=0.05), band.sel(quantile=0.95), color=colour, lw=3, alpha=0.5,
                      label=f"{stage} 90%")
            ax.vlines(positions, band.sel(quantile=0.25), band.sel(quantile=0.75), color=colour, lw=8,
                      label=f"{stage} 50%")
            ax.plot(positions, band.sel(quantile=0.5), "o", color="white", mec=colour, mew=2, label=f"{stage} median")
            ax.set_xticks(np.arange(len(x)), month_labels(ds))
            ax.set_xlim(-0.75, len(x) - 0.25)
    ax.set_ylabel(f"{short_label(da, outputs[0])} ({unit})")
    ax.set_title("Prior and posterior on the same draws", fontsize=9)
    ax.legend(loc="best", fontsize=8, ncols=2)
    ax.grid(alpha=0.3)
    return fig, ax


def plot_path_agreement(ds, paths=("energy_kwh", "fleet_energy_kwh"), within_factor: float = 2.0,
                        month: int = 0, ax=None):
    """Per-sample monthly values of two paths (log-log), coloured by posterior weight, with the
    region where they agree within ``within_factor`` shaded.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :meth:`simulate.Model.calibrate` (its kept draws and weights).
    paths : (str, str)
        The two outputs that were reconciled.
    within_factor : float
        The agreement factor of ``[reconcile]``.
    month : int
        The month's index.
    ax : matplotlib Axes, optional
        Draw here instead of on a new figure.

    Returns
    -------
    (Figure, Axes)
    """
    a = ds[f"{paths[0]}_monthly_samples"].isel(month=month).values
    b = ds[f"{paths[1]}_monthly_samples"].isel(month=month).values
    weights = ds["weight"].values if "weight" in ds else np.ones_like(a)
    unit = ds[f"{paths[0]}_monthly_samples"].attrs.get("units", "")
    factor, label = scale_for(np.concatenate([a, b]), unit)
    a, b = a / factor, b / factor
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6, 5.5), constrained_layout=True)
    lo = np.nanmin(np.concatenate([a, b])) / 1.5
    hi = np.nanmax(np.concatenate([a, b])) * 1.5
    line = np.geomspace(lo, hi, 50)
    ax.fill_between(line, line / within_factor, line * within_factor, color="#2ca02c", alpha=0.15, lw=0,
                    label=f"agree within a factor {within_factor:g}")
    ax.plot(line, line, color="#2ca02c", lw=1, label="equal")
    order = np.argsort(weights)
    points = ax.scatter(b[order], a[order], c=weights[order], s=4, cmap="viridis", alpha=0.6,
                        label="samples (colour: posterior weight)", rasterized=True)  # small SVGs
    fig.colorbar(points, ax=ax, label="importance weight")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel(f"{short_label(ds[f'{paths[1]}_monthly_samples'], paths[1])} ({label})")
    ax.set_ylabel(f"{short_label(ds[f'{paths[0]}_monthly_samples'], paths[0])} ({label})")
    ax.set_title("The two paths on the same draws", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return fig, ax
