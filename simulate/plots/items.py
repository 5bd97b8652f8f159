"""Per-item energies (outputs aggregated as a mean in one unit: Wh per image, per video) on one
axis, with published per-item figures and everyday electricity uses beside them."""
from __future__ import annotations

import math

from ..units import unit_factor
from .axes import COLOURS, new_axes, readable_log_axis, spans_decades
from .fan import MARKERS, REFERENCE_COLOURS
from .labels import format_number, scale_for

# Everyday electricity uses drawn beside per-item energies (Wh): the generation-media model's own priors.
EVERYDAY_WH = (("one minute of a 1,000 W microwave", 1000 / 60),
               ("one km on an e-bike at 15.5 Wh/km (MIT Technology Review, May 2025)", 15.5),
               ("an hour of a 10 W LED bulb", 10.0))


def per_item(ds, outputs, references=(), colour=COLOURS[0]):
    """Median, 50% and 90% intervals of several per-item outputs (aggregate "mean", one unit), one row each,
    on a log axis when they span decades, with each output's ``references`` as markers on its row.

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
    quantiles = list(ds["quantile"].values)
    rows = {name: ds[f"{name}_monthly"].values[[quantiles.index(k) for k in (0.05, 0.25, 0.5, 0.75, 0.95)], 0]
            for name in outputs}
    units = {ds[f"{name}_monthly"].attrs.get("units", "") for name in outputs}
    unit = units.pop()
    refs = [r for r in references if r.output in rows]
    values = [v for q in rows.values() for v in q] + [v for r in refs for v in r.total()]
    low, high = min(values), max(values)
    log = spans_decades(low, high)
    factor, label = (1.0, unit) if log else scale_for([high], unit)
    fig, ax = new_axes(None, (9, 1.6 + 0.55 * len(rows)))
    for y, (name, q) in enumerate(rows.items()):
        q5, q25, q50, q75, q95 = q / factor
        ax.hlines(y, q5, q95, color=colour, lw=2, alpha=0.45, label="90% interval" if y == 0 else None)
        ax.hlines(y, q25, q75, color=colour, lw=8, alpha=0.7, label="50% interval" if y == 0 else None)
        ax.plot([q50], [y], "o", color="white", mec=colour, mew=2, ms=7, label="median" if y == 0 else None)
        ax.annotate(f"{format_number(q50)} {label}", (q95, y), xytext=(6, 0), textcoords="offset points",
                    va="center", fontsize="small")
    names = list(rows)
    for i, r in enumerate(refs):
        c = REFERENCE_COLOURS[i % len(REFERENCE_COLOURS)]
        y = names.index(r.output)
        vals = [v / factor for v in r.total()]
        ax.plot(vals, [y] * len(vals), ls="none", marker=MARKERS[i % len(MARKERS)], ms=8, color=c, zorder=4,
                label=f"{r.label}: {r.describe()}")
    to_wh = unit_factor(label, "Wh") if label.endswith("Wh") else None
    if to_wh is not None:    # everyday uses, in the plotted unit
        for i, (text, wh) in enumerate(EVERYDAY_WH):
            ax.axvline(wh / to_wh, color="#777777", lw=1,
                       ls=(":", "--", "-.")[i % 3], label=f"everyday: {text} = {format_number(wh)} Wh")
    ax.set_yticks(range(len(names)), [ds[f"{n}_monthly"].attrs.get("long_name", n).rsplit(", ", 1)[0] for n in names])
    ax.set_ylim(-0.6, len(names) - 0.4)
    if log:
        ax.set_xscale("log")
        readable_log_axis(ax.xaxis, math.log10(high / low))
        ax.set_xlim(low / 2, high * 8)
    else:
        ax.set_xlim(0, high / factor * 1.3)
    ax.set_xlabel(f"energy per item ({label})" if label.endswith("Wh") else label)
    ax.set_title(f"Per item: median, 50% and 90% intervals ({ds.attrs.get('samples', 0):,} samples)",
                 fontsize="medium")
    ax.grid(True, axis="x", which="major", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), frameon=False, fontsize="small")
    return fig, ax
