"""Per-item energies (outputs aggregated as a mean in one unit: Wh per image, per video, per query)
as interval rows on one axis, with each published per-item figure as a marker just above its row."""
from __future__ import annotations

import math

from .axes import COLOURS, MARKERS, REFERENCE_COLOURS, new_axes
from .intervals import MARKER_LIFT, interval_rows, quantiles_of
from .labels import format_number, scale_for, short_label


def per_item(ds, outputs, references=(), colour=COLOURS[0]):
    """Median, 50% and 90% intervals of several per-item outputs (aggregate "mean", one unit), one row
    each, on a log axis when they span decades, with each output's ``references`` above its row.

    Every number on the figure is in the axis unit: a published "114 J" reads "114 J = 0.0317 Wh".

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :meth:`simulate.Model.run`.
    outputs : list of str
        Outputs aggregated as a mean, in one unit (Wh per image, per video...).
    references : iterable of Reference, optional
        Published per-item figures (``model.references``).

    Returns
    -------
    (Figure, Axes)
    """
    das = {name: ds[f"{name}_monthly"] for name in outputs}
    unit = next(iter(das.values())).attrs.get("units", "")
    rows = [(short_label(da, name), quantiles_of(da), colour) for name, da in das.items()]
    refs = [r for r in references if r.output in das]
    values = [v for r in rows for v in r[1]] + [v for r in refs for v in r.total()]
    factor, label = scale_for([math.sqrt(min(values) * max(values))], unit)   # the middle of a log axis
    fig, ax = new_axes(None, (9, 1.9 + 0.7 * len(rows)))
    interval_rows(ax, rows, factor, label)
    names = list(das)
    for i, r in enumerate(refs):
        y = len(names) - 1 - names.index(r.output) + MARKER_LIFT
        shown = [v / factor for v in r.total()]
        converted = "-".join(format_number(v) for v in shown)
        ax.plot(shown, [y] * len(shown), ls="none", marker=MARKERS[i % len(MARKERS)], ms=8, zorder=6,
                color=REFERENCE_COLOURS[i % len(REFERENCE_COLOURS)],
                label=f"{r.label}: {converted} {label}" + ("" if r.unit == label else f" (published as {r.describe()})"))
    lo, hi = ax.get_xlim()
    ax.set_xlim(min(lo, min(values) / factor / 1.3) if ax.get_xscale() == "log" else lo, hi)
    ax.set_xlabel(f"energy per item ({label})")
    ax.set_title(f"Per item: median, 50% and 90% intervals ({int(ds.attrs.get('samples', 0)):,} samples)",
                 fontsize="medium")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False, fontsize="small",
              ncols=2 if len(refs) > 2 else 1)
    return fig, ax
