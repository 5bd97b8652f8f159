"""The report's "What would narrow the band" section: which disclosure would shrink the headline
output's 90% interval most, and to what, in sentences a reader can quote; Shapley effects beside.

:func:`narrowing` computes (from :mod:`simulate.analysis.disclosure` and
:mod:`simulate.analysis.shapley`), :func:`disclosure_figures` draws and :func:`disclosure_blocks`
writes. The month is the report's focus: the first month, or the last of a period long enough
to be summarised by year.
"""
from __future__ import annotations

import json

import numpy as np

from .. import plots
from ..analysis.disclosure import PAIR_SEPARATOR
from ..plots.disclosure import change_words
from ..plots.labels import month_words, si
from .headline import group_label

TOP = 3


def disclosure_figures(report) -> dict:
    """File stem -> (title, Figure) for the section's two charts (none without its analyses)."""
    found = getattr(report, "disclosure", None) or {}
    if not found:
        return {}
    names, what = _labels(report), _what(report)
    output = report.model.outputs[report.headline].short
    fig, _ = plots.disclosure_bands(found["disclosure"], labels=names, title=what, output_label=output)
    figures = {"disclosure": (f"{what}: today's 90% interval and the interval once each input is known", fig)}
    fig, _ = plots.shapley_bars(found["shapley"], labels=names, title=what)
    figures["shapley"] = (f"{what}: Shapley effects beside first-order and total indices", fig)
    return figures


def _labels(report) -> dict:
    """Every analysed input's readable name (pairs are named part by part)."""
    found = report.disclosure
    names = {str(n) for key in ("disclosure", "shapley") for n in found[key]["parameter"].values}
    parts = {part for n in names for part in n.split(PAIR_SEPARATOR)}
    return {p: group_label(report.model, p) for p in parts}


def _what(report) -> str:
    """"electricity, per-query path, January 2023": the analysed output and month in words."""
    out = report.model.outputs[report.headline].short
    return f"{out}, {month_words(report.disclosure['disclosure'].attrs['month'])}"


def disclosure_blocks(report) -> list:
    """The section as report blocks: today's band, the top disclosures in words, a table, the charts."""
    found = getattr(report, "disclosure", None) or {}
    if not found:
        return []
    ds, sh = found["disclosure"], found["shapley"]
    unit = report.model.outputs[report.headline].unit
    names, what = _labels(report), _what(report)
    unused = {n.strip() for n in ds.attrs.get("unused_parameters", "").split(",") if n.strip()}
    singles = [str(n) for n, k in zip(ds["parameter"].values, ds["disclosed"].values) if k == 1 and str(n) not in unused]
    pairs = [str(n) for n, k in zip(ds["parameter"].values, ds["disclosed"].values) if k == 2]
    narrower = [n for n in singles if float(ds.sel(parameter=n)["width_reduction_low"]) > 0]
    out = [("h", 2, "What would narrow the band"),
           ("p", f"Today the 90% interval of {what} runs from {si(float(ds['today_low']), unit)} to "
                 f"{si(float(ds['today_high']), unit)}: {si(float(ds['today_width']), unit)} wide"
                 f"{_factor(ds['today_ratio'], ' from its 5th to its 95th percentile')}. If one input were published "
                 f"exactly, the interval would be that of the output given the published value. Read from "
                 f"{int(ds.attrs['samples']):,} draws of the model ({ds.attrs['cells']} equal-probability cells of "
                 f"each input's values; 95% bootstrap intervals over {int(ds.attrs['n_resamples'])} resamples).")]
    if not narrower:
        out.append(("p", "No single disclosure narrows the interval by more than its Monte Carlo error."))
    for rank, name in enumerate(narrower[:TOP], 1):
        out.append(("p", f"{rank}. {_sentence(ds.sel(parameter=name), names[name], unit)}"))
    if 0 < len(narrower) < TOP:
        out.append(("p", "No other single disclosure narrows the interval by more than its Monte Carlo error."))
    best_pair = next((p for p in pairs if float(ds.sel(parameter=p)["width_reduction_low"]) > 0), None)
    if best_pair:
        one = ds.sel(parameter=best_pair)
        a, b = best_pair.split(" & ")
        out.append(("p", f"Published together, {names[a]} and {names[b]} would leave an interval {si(float(one['expected_width']), unit)} "
                         f"wide on average ({change_words(one)} than today){_factor(one['expected_ratio'])}."))
    rows = []
    for name in singles + pairs:
        one = ds.sel(parameter=name)
        rows.append([" & ".join(names[p] for p in name.split(PAIR_SEPARATOR)), si(float(one["expected_width"]), unit),
                     f"{si(float(one['expected_width_low']), unit)} to {si(float(one['expected_width_high']), unit)}",
                     f"{100 * float(one['width_reduction']):.1f}%", f"{float(one['expected_ratio']):.3g}",
                     f"{si(float(one['typical_low']), unit)} to {si(float(one['typical_high']), unit)}",
                     f"{si(float(one['width_p5']), unit)} to {si(float(one['width_p95']), unit)}",
                     f"{float(one['variance_fraction']):.3f}"])
    out.append(("table", ["disclosed", "expected width", "95% interval", "narrower by", "p95/p5",
                          "band for a middling value", "width, 5th to 95th pct of values", "Var E[Y|X] / Var Y"], rows))
    if unused:
        out.append(("p", f"{report.model.outputs[report.headline].short} does not read "
                         f"{', '.join(names.get(n, n) for n in sorted(unused))}: "
                         "publishing them would leave the interval exactly as it is."))
    out.append(("figure", "disclosure"))
    out.append(("p", f"Shapley effects share the variance of {what} among the inputs so that the shares "
                     f"sum to one even when inputs are correlated ({sh.attrs['design']}; "
                     f"{int(sh.attrs['evaluations']):,} model evaluations). {sh.attrs['validity'].capitalize()}."))
    rows = []
    for name in sh["parameter"].values:
        one = sh.sel(parameter=name)
        if float(one["shapley_low"]) == float(one["shapley_high"]) == 0.0:
            continue
        rows.append([names.get(str(name), str(name))] + [f"{float(one[k]):.3f} ({float(one[k + '_low']):.3f} to {float(one[k + '_high']):.3f})"
                                     for k in ("shapley", "first_order", "total_order")])
    out.append(("table", ["input", "Shapley effect (95%)", "first order (95%)", "total (95%)"], rows))
    out.append(("figure", "shapley"))
    return out


def _factor(ratio, where=" from bottom to top") -> str:
    """", a factor of 6.2 from bottom to top", or nothing when the band reaches 0 or below."""
    return "" if not np.isfinite(float(ratio)) else f", a factor of {float(ratio):.3g}{where}"


def _sentence(one, name, unit) -> str:
    """One disclosure in words: the band it would leave, on average and for a middling value."""
    return (f"Publishing {name} would leave an interval {si(float(one['expected_width']), unit)} wide on average "
            f"(95% interval {si(float(one['expected_width_low']), unit)} to {si(float(one['expected_width_high']), unit)}), "
            f"{change_words(one)} than today{_factor(one['expected_ratio'])}. For a "
            f"middling published value it would read {si(float(one['typical_low']), unit)} to "
            f"{si(float(one['typical_high']), unit)}; depending on the value, its width would lie between "
            f"{si(float(one['width_p5']), unit)} and {si(float(one['width_p95']), unit)} (5th to 95th percentile). "
            f"It would remove {100 * float(one['variance_fraction']):.0f}% of the variance.")


def console_table(ds) -> str:
    """A disclosure or Shapley result as plain text, most influential first (``simulate sensitivity``)."""
    method = ds.attrs["method"]
    samples = "evaluations" if method == "shapley" else "samples"
    lines = [f"{ds.attrs['target']}: {method}, {ds.attrs['samples']:,} {samples}, seed {ds.attrs['seed']}"]
    if method == "shapley":
        daily = "date" in ds.dims
        head = f"{'parameter':<34} {'Shapley':>8} {'95% interval':>17} {'first':>7} {'total':>7}"
        lines += [head + ("   (max over dates)" if daily else ""), "-" * len(head)]
        for name in ds["parameter"].values:
            one = ds.sel(parameter=name)
            one = one.max("date") if daily else one
            lines.append(f"{name:<34} {float(one['shapley']):>8.3f} [{float(one['shapley_low']):>6.3f}, "
                         f"{float(one['shapley_high']):>6.3f}] {float(one['first_order']):>7.3f} {float(one['total_order']):>7.3f}")
        lines.append(ds.attrs["design"])
    else:
        unit = ds["expected_width"].attrs["units"]
        lines.append(f"today: {si(float(ds['today_low']), unit)} to {si(float(ds['today_high']), unit)}, "
                     f"width {si(float(ds['today_width']), unit)}, p95/p5 {float(ds['today_ratio']):.3g}")
        head = f"{'disclosed':<44} {'expected width':>14} {'narrower':>9} {'95% interval':>16} {'p95/p5':>7} {'Var share':>9}"
        lines += [head, "-" * len(head)]
        for name in ds["parameter"].values:
            one = ds.sel(parameter=name)
            lines.append(f"{name:<44} {si(float(one['expected_width']), unit):>14} {100 * float(one['width_reduction']):>8.1f}% "
                         f"[{100 * float(one['width_reduction_low']):>5.1f}, {100 * float(one['width_reduction_high']):>5.1f}]% "
                         f"{float(one['expected_ratio']):>7.3g} {float(one['variance_fraction']):>9.3f}")
    fixed = json.loads(ds.attrs.get("fixed_parameters", "[]"))
    if fixed:
        lines.append(f"fixed (no spread, not ranked): {', '.join(fixed)}")
    return "\n".join(lines)
