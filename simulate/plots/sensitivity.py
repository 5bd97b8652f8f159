"""Charts of sensitivity results: tornado, Sobol bars with intervals, indices over time, sweep bands.

Each function takes the Dataset that :mod:`simulate.analysis.sensitivity` (or
:func:`simulate.analysis.sweep.sweep`) returns and gives back ``(Figure, Axes)``, drawing on the
Axes passed in if any. Nothing is shown or saved here.
"""
from __future__ import annotations

import textwrap

import numpy as np

from .axes import new_axes as _axes
from .labels import month_label, scale_for


def _names(ds, labels) -> list:
    """Row names: ``labels`` (parameter -> readable name, wrapped) where given, else the parameter."""
    labels = labels or {}
    return ["\n".join(textwrap.wrap(labels.get(str(n), str(n)), 38)) for n in ds["parameter"].values]


def tornado_chart(ds, ax=None, labels=None, title=None, output_label=None):
    """Horizontal bars from the median at each input's p5 to its p95, widest on top.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :meth:`simulate.Model.sensitivity` with ``method="tornado"``.
    ax : matplotlib Axes, optional
        Draw here instead of on a new figure.
    labels : dict, optional
        Parameter -> the name to show (e.g. its long name); default the parameter names.
    title, output_label : str, optional
        The title (default the analysis target) and the output's name on the axis.

    Returns
    -------
    (Figure, Axes)
    """
    if "date" in ds.dims:
        ds = ds.isel(date=int(ds["swing"].max("parameter").argmax()))
    names = _names(ds, labels)
    fig, ax = _axes(ax, (8, 0.5 * len(names) + 1.6))
    unit = ds["swing"].attrs.get("units", "")
    base = float(ds["baseline"])
    factor, label = scale_for([base], unit)
    y = np.arange(len(names))[::-1]
    low, high = ds["output_low"].values / factor, ds["output_high"].values / factor
    ax.barh(y, low - base / factor, left=base / factor, color="tab:blue", label="input at p5")
    ax.barh(y, high - base / factor, left=base / factor, color="tab:orange", label="input at p95")
    ax.axvline(base / factor, color="black", lw=0.8)
    ax.set_yticks(y, names)
    ax.set_xlabel(f"median of {output_label or ds.attrs.get('output', '')} ({label})")
    ax.set_title(title or ds.attrs.get("target", ""), fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    return fig, ax


def sobol_bars(ds, ax=None, labels=None, title=None):
    """First-order and total indices per input, with their confidence intervals as error bars.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :meth:`simulate.Model.sensitivity` with ``method="sobol"`` (daily results show each input's largest index over dates).
    ax : matplotlib Axes, optional
        Draw here instead of on a new figure.
    labels : dict, optional
        Parameter -> the name to show; default the parameter names.
    title : str, optional
        The title (default the analysis target).

    Returns
    -------
    (Figure, Axes)
    """
    if "date" in ds.dims:
        ds = ds.max("date", keep_attrs=True)
    names = _names(ds, labels)
    fig, ax = _axes(ax, (8, 0.5 * len(names) + 1.6))
    y = np.arange(len(names))[::-1]
    for offset, key, colour, label in ((0.2, "first_order", "tab:blue", "first order"),
                                       (-0.2, "total_order", "tab:red", "total")):
        value = ds[key].values
        err = np.vstack([value - ds[f"{key}_low"].values, ds[f"{key}_high"].values - value]).clip(min=0)
        ax.barh(y + offset, value, height=0.38, xerr=err, color=colour, alpha=0.8, label=label,
                error_kw={"elinewidth": 0.8, "capsize": 2})
    ax.set_yticks(y, names)
    ax.set_xlim(left=min(0.0, float(ds["first_order_low"].min())))
    level = ds.attrs.get("confidence_level", 0.95)
    ax.set_xlabel(f"share of the variance (Sobol index; error bars: {level:.0%} interval)")
    ax.set_title(title or ds.attrs.get("target", ""), fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    return fig, ax


def indices_over_time(ds, key="first_order", top: int = 5, ax=None):
    """Each input's index over the dates of a daily analysis (``top`` largest), with interval bands.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :meth:`simulate.Model.sensitivity` with ``daily=True``.
    key : str
        The index to draw: ``"first_order"``, ``"total_order"`` or ``"rho"``.
    top : int
        How many inputs, most influential first.
    ax : matplotlib Axes, optional
        Draw here instead of on a new figure.

    Returns
    -------
    (Figure, Axes)
    """
    if "date" not in ds.dims:
        raise ValueError("indices over time need a daily analysis (sensitivity(..., daily=True))")
    fig, ax = _axes(ax, (8, 4))
    has_band = f"{key}_low" in ds
    for name in list(ds["parameter"].values)[:top]:
        one = ds.sel(parameter=name)
        line, = ax.plot(ds["date"].values, one[key].values, label=name)
        if has_band:
            ax.fill_between(ds["date"].values, one[f"{key}_low"].values, one[f"{key}_high"].values,
                            color=line.get_color(), alpha=0.2, lw=0)
    ax.set_ylabel(key.replace("_", " "))
    ax.set_title(ds.attrs.get("target", ""), fontsize=10)
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    return fig, ax


def sweep_bands(ds, output: str, month: int = 0, ax=None):
    """Median and 50%/90%/95% bands of a monthly output along the swept parameter.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :meth:`simulate.Model.sweep`.
    output : str
        An output name.
    month : int
        The month's index.
    ax : matplotlib Axes, optional
        Draw here instead of on a new figure.

    Returns
    -------
    (Figure, Axes)
    """
    parameter = ds.attrs["sweep_parameter"]
    da = ds[f"{output}_monthly"].isel(month=month)
    fig, ax = _axes(ax, (7, 4))
    factor, label = scale_for(da.values.ravel(), da.attrs.get("units", ""))
    x = ds[parameter].values
    for lo, hi, alpha in ((0.025, 0.975, 0.15), (0.05, 0.95, 0.25), (0.25, 0.75, 0.4)):
        ax.fill_between(x, da.sel(quantile=lo).values / factor, da.sel(quantile=hi).values / factor,
                        color="tab:blue", alpha=alpha, lw=0, label=f"{hi - lo:.0%} interval")
    ax.plot(x, da.sel(quantile=0.5).values / factor, color="tab:blue", label="median")
    unit = ds[parameter].attrs.get("units", "")
    ax.set_xlabel(f"{parameter}" + (f" [{unit}]" if unit and unit != "1" else ""))
    ax.set_ylabel(f"{output} [{label}]")
    ax.set_title(f"{da.attrs.get('long_name', output)}, {month_label(ds, month)}", fontsize=10)
    ax.legend(fontsize=8)
    return fig, ax


def figure_for(ds):
    """The natural chart for a sensitivity result: a tornado, Sobol bars, indices over time, the
    bands after each disclosure, or Shapley bars.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :meth:`simulate.Model.sensitivity`.

    Returns
    -------
    (Figure, Axes)
    """
    method = ds.attrs.get("method")
    if method in ("disclosure", "shapley"):   # their charts live in plots/disclosure.py
        from .disclosure import disclosure_bands, shapley_bars
        return disclosure_bands(ds) if method == "disclosure" else shapley_bars(ds)
    if method == "tornado":
        return tornado_chart(ds)
    if method == "sobol":
        return indices_over_time(ds) if "date" in ds.dims else sobol_bars(ds)
    if "date" in ds.dims:
        return indices_over_time(ds, key="rho")
    fig, ax = _axes(None, (7, 0.4 * ds.sizes["parameter"] + 1.5))
    names = list(ds["parameter"].values)
    y = np.arange(len(names))[::-1]
    ax.barh(y, ds["rho"].values, color=np.where(ds["rho"].values >= 0, "tab:orange", "tab:blue"))
    ax.set_yticks(y, names)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("Spearman rank correlation with the output")
    ax.set_title(ds.attrs.get("target", ""), fontsize=10)
    return fig, ax
