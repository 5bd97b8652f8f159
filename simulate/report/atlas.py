"""The atlas: every published figure declared in every shipped model, beside our band on its boundary.

One offline page (``index.html``, plus the chart as PNG and SVG) that lists, for each
``[[references]]`` entry of each model file: the figure, its source and date, its boundary, scope
and carbon basis, its status tag (read from the source text: S, S2, I, U), our median and 90% band
for the same quantity on the same boundary, and the figure's percentile in our draws (all from
:func:`simulate.report.references.reference_rows` on the model's own run, so the atlas and a model's
report agree). Per-query and per-item energies share one log-axis chart. Below: the published
arithmetic redone (:mod:`simulate.report.arithmetic`), the seed figures and where each lives
(:mod:`simulate.report.seed_figures`), and links to each model's report when it sits in the folder.
"""
from __future__ import annotations

import html
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from ..errors import ModelError
from ..plots.atlas import per_query_atlas
from ..plots.labels import format_number, percentile_of, percentile_text, unit_for_series
from ..results.progress import task
from ..spec.reader import load
from ..units import unit_factor
from . import arithmetic
from .references import basis_text, reference_rows
from .render import CSS, _inline, _svg_with_title, figure_bytes
from .seed_figures import SEED_FIGURES

_LEADING = re.compile(r"^(S2|S|I|U)\b(?!['.-])")
_AFTER_COLON = re.compile(r":\s*(S2|S|I|U)\b(?!['.-])")
PER_QUERY_UNITS = ("Wh", "Wh/query", "Wh/prompt")     # energies per query or per item, drawn on one axis
CHART = "atlas_per_query"


@dataclass(frozen=True)
class AtlasRow:
    model: str              # the model file's stem
    title: str              # the model's title
    label: str              # the figure's label
    source: str
    when: str
    output: str             # the output it is compared with (on its own boundary)
    unit: str               # that output's unit
    boundary: str           # the figure's boundary, or the output's when the source gives none
    scope: str
    basis: str              # how the figure's boundary and carbon basis meet the output's
    status: str             # status tags found in the source text, e.g. "S" or "S, S2"
    published: str          # as written in the file
    numbers: tuple          # the figure in the output's unit over the compared window (empty if not compared)
    band: tuple             # our (p5, median, p95) there, or () when the figure is outside the model's period
    percentiles: tuple      # the figure's percentile(s) in our draws
    window: str


def status_of(source: str) -> str:
    """The status tags a source text carries: "(S2 via ...)", "(S; split S2)", "(0.24 Wh: S)" or a
    leading "I: ..." give S2, "S, S2", "S" and "I"."""
    tags = [m.group(1) for m in [_LEADING.match(source)] if m]
    for group in re.findall(r"\(([^()]*)\)", source):
        for part in re.split(r"[;,]", group):
            m = _LEADING.match(part.strip()) or _AFTER_COLON.search(part)
            if m:
                tags.append(m.group(1))
    return ", ".join(dict.fromkeys(tags)) or "not given"


def model_rows(path, samples: int, seed: int):
    """(model, Dataset, [AtlasRow]) for one model file: its run with every draw kept, and its figures."""
    model = load(path)
    ds = model.run(samples=samples, seed=seed, keep=samples)
    once = [r for r in model.references if model.outputs[r.output].aggregate == "once"]
    timed = SimpleNamespace(references=[r for r in model.references if r not in once], outputs=model.outputs,
                            period=model.period)
    found = {id(row["reference"]): row for row in reference_rows(SimpleNamespace(ds=ds, model=timed))}
    for r in once:
        found[id(r)] = one_off_row(ds, r)
    rows = []
    for r in model.references:
        row = found[id(r)]
        out = model.outputs[r.output]
        rows.append(AtlasRow(
            model=Path(path).stem, title=model.title, label=r.label, source=r.source, when=r.when, output=r.output,
            unit=out.unit, boundary=r.boundary or (f"{out.boundary} (ours; the source gives none)" if out.boundary
                                                   else "-"),
            scope=r.scope, basis=basis_text(model, r), status=status_of(r.source), published=r.describe(),
            numbers=tuple(row.get("numbers", ())), band=tuple(row["band"]) if row["band"] is not None else (),
            percentiles=tuple(row["percentiles"] or ()), window=row["window"] or "outside the model's period"))
    return model, ds, rows


def one_off_row(ds, r) -> dict:
    """A figure on a one-off total (``aggregate = "once"``): compared with the total's draws as published."""
    draws = ds[f"{r.output}_total_samples"].values
    draws = draws[np.isfinite(draws)]
    numbers = r.total()
    return {"reference": r, "band": tuple(np.quantile(draws, [0.05, 0.5, 0.95])), "numbers": numbers,
            "percentiles": tuple(percentile_of(draws, v) for v in numbers), "window": "one-off total"}


def build(paths, samples: int = 20_000, seed: int = 0) -> list:
    """Every :class:`AtlasRow` of every model file in ``paths``, in file order."""
    rows = []
    for path in paths:
        rows += model_rows(path, samples, seed)[2]
    return rows


def per_query_rows(rows) -> list:
    """The chart's rows: compared figures whose output is an energy per query or per item, in Wh."""
    out = []
    for r in rows:
        if not r.band or r.unit not in PER_QUERY_UNITS:
            continue
        to_wh = unit_factor(r.unit.partition("/")[0], "Wh")
        out.append((f"{r.label} [{r.model}]", tuple(v * to_wh for v in r.band), tuple(v * to_wh for v in r.numbers)))
    return sorted(out, key=lambda row: row[1][1])


def _ours(r: AtlasRow) -> tuple[str, str, str]:
    """(our median [90%], the figure as compared, its percentile) as table text."""
    if not r.band:
        return "-", "not compared: " + r.window, "-"
    factor, label = unit_for_series(list(r.band) + list(r.numbers), r.unit)
    lo, mid, hi = (format_number(v / factor) for v in r.band)
    compared = " to ".join(format_number(v / factor) for v in r.numbers) + f" {label}"
    return (f"{mid} {label} [{lo} to {hi}]", f"{compared} ({r.window})",
            " to ".join(percentile_text(p) for p in r.percentiles))


def _cell(text) -> str:
    return f"<td>{_inline(text)}</td>"


def _table(head, rows_html) -> str:
    return ('<div class="table-scroll"><table><thead><tr>' + "".join(f"<th>{html.escape(h)}</th>" for h in head)
            + "</tr></thead><tbody>" + "".join(rows_html) + "</tbody></table></div>")


def _report_link(out: Path, model: str) -> str:
    if (out / model / "index.html").exists():
        return f'<a href="{html.escape(model)}/index.html">{html.escape(model)}</a>'
    return f"{html.escape(model)}: no report in this folder"


def render(rows, out: Path, command_line: str, svg: bytes | None, chart_title: str) -> str:
    """The atlas page as one self-contained HTML document."""
    models = list(dict.fromkeys((r.model, r.title) for r in rows))
    compared = [r for r in rows if r.band]
    outside = [r for r in compared if any(p < 5 or p > 95 for p in r.percentiles)]
    body = [f"<p>Every published figure declared in the {len(models)} shipped models ({len(rows)} figures, "
            f"{len(compared)} compared), each beside our median and 90% band for the same quantity on the same "
            "boundary and carbon basis, and its percentile in our draws. A figure outside our band is not wrong by "
            "that alone: read its scope and basis. Status tags: S read in the source, S2 read in a secondary source, "
            f"I inferred (arithmetic shown), U not known for certain. {len(outside)} of the compared figures fall "
            "outside our 90% band.</p>",
            "<h2>Per-query and per-item figures on one axis</h2>"]
    if svg is not None:
        body.append(f'<figure>{_svg_with_title(svg.decode("utf-8"), chart_title)}<figcaption>'
                    f'{html.escape(chart_title)} (also <a href="{CHART}.png">{CHART}.png</a>, '
                    f'<a href="{CHART}.svg">{CHART}.svg</a>)</figcaption></figure>')
    body.append("<h2>Every published figure beside our band</h2>")
    for model, title in models:
        body.append(f"<h3>{_inline(title)} ({_report_link(out, model)})</h3>")
        table_rows = []
        for r in (r for r in rows if r.model == model):
            ours, as_compared, where = _ours(r)
            covers = f"boundary: {r.boundary}; basis: {r.basis}" + (f"; scope: {r.scope}" if r.scope else "")
            table_rows.append("<tr>" + _cell(r.label) + _cell(f"{r.source} ({r.when}; status {r.status})")
                              + _cell(covers) + _cell(r.published)
                              + f'<td>{_inline(ours)}<br><span class="sources">{_inline(as_compared)}</span></td>'
                              + _cell(where) + "</tr>")
        body.append(_table(["figure", "source (date; status)", "what it covers", "as published",
                            "our median [90%] on its boundary", "its percentile in our draws"], table_rows))
    body.append("<h2>Where a source's own arithmetic does not add up</h2>")
    body.append("<p>Each check redoes the source's arithmetic from its published inputs; the verdict is computed "
                f"(within {arithmetic.AGREES:.0%} counts as adding up, for rounding).</p>")
    for note in arithmetic.notes():
        cls = "adds-up" if note.adds_up else "does-not-add-up"
        body.append(f'<section class="{cls}"><h3>{_inline(note.title)}</h3><p>Published: {_inline(note.claim)}.</p>'
                    "<ul>" + "".join(f"<li><code>{html.escape(line)}</code></li>" for line in note.lines) + "</ul>"
                    f"<p><strong>{_inline(note.verdict[:1].upper() + note.verdict[1:])}.</strong></p>"
                    f"<p class=\"sources\">Sources: {_inline('; '.join(note.sources))}</p></section>")
    body.append("<h2>The seed figures</h2><p>The figures of the articles this project grew out of: where each is "
                "held, or why no model reproduces it.</p>")
    seed_rows = []
    for f in SEED_FIGURES:
        where = f"{f.model}: {f.kind} <code>{html.escape(f.name)}</code>" if f.model else "no model"
        seed_rows.append("<tr>" + _cell(f.figure) + _cell(f.source) + f"<td>{where}</td>" + _cell(f.why_not or "-")
                         + "</tr>")
    body.append(_table(["figure", "as quoted from", "held by", "why not reproduced (or what differs)"], seed_rows))
    body.append("<h2>Models</h2><p>A model without a report here gets one with <code>simulate report "
                "priors/NAME.toml --out NAME</code> run in this folder.</p><ul>"
                + "".join(f"<li>{_report_link(out, m)}: {_inline(t)}</li>" for m, t in models) + "</ul>")
    body.append(f"<p>Regenerate: <code>{html.escape(command_line)}</code></p>")
    title = "Atlas of published AI energy figures, each with our error bar"
    extra = ".adds-up{border-left:4px solid #3a8f5c;padding-left:0.8em}" \
            ".does-not-add-up{border-left:4px solid #b8443a;padding-left:0.8em}.sources{font-size:0.85em;color:#555}"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><style>{CSS}\n{extra}</style></head><body>\n<header><h1>"
            f"{html.escape(title)}</h1></header>\n<main>\n" + "\n".join(body) + "\n</main>\n</body></html>\n")


def _write(path: Path, data: bytes):
    """Write ``data`` to ``path`` through a temporary file beside it and one rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def model_files(priors) -> list:
    """The model files named by ``priors``: files as given, folders as their ``*.toml`` files."""
    paths = []
    for p in map(Path, priors):
        if p.is_dir():
            paths += sorted(p.glob("*.toml"))
        elif p.is_file():
            paths.append(p)
        else:
            raise ModelError("is neither a model file nor a folder", field="priors", value=str(p),
                             fix="give model files or a folder of them (default: priors)")
    if not paths:
        raise ModelError("names no model file", field="priors", value=[str(p) for p in priors],
                         fix="give a folder that holds *.toml model files")
    return paths


def write_atlas(out, priors=("priors",), *, samples: int = 20_000, seed: int = 0, command_line: str | None = None,
                progress: bool | None = None) -> Path:
    """Build the atlas of the model files ``priors`` into folder ``out``.

    Parameters
    ----------
    out : str or Path
        The folder: ``index.html``, ``atlas_per_query.png`` and ``.svg`` are written into it (each
        through a temporary file and one rename); other files in it (model reports) are left alone.
    priors : sequence of str or Path
        Model files, or folders of them.
    samples, seed : int
        Each model's run (every draw kept for percentiles).
    command_line : str, optional
        The command shown on the page as the way to regenerate it.
    progress : bool, optional
        One bar over every model's run (default: on a terminal or in a notebook).

    Returns
    -------
    Path
        ``out / "index.html"``.
    """
    import matplotlib.pyplot as plt

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ModelError("exists and is not a folder", field="--out", value=str(out),
                         fix="give a folder path (it is created if missing)")
    paths = model_files(priors)
    command_line = command_line or f"simulate atlas --out {out} --samples {samples} --seed {seed}"
    with task(progress, samples * len(paths), unit="samples", desc="atlas"):   # one run per model file
        rows = build(paths, samples, seed)
    chart = per_query_rows(rows)
    png = svg = None
    title = ("Published energy per query or item (markers) in front of our 90% band and median for the same quantity "
             "on the same boundary, log scale")
    if chart:
        fig, _ = per_query_atlas(chart)
        try:
            png, svg = figure_bytes(fig)
        finally:
            plt.close(fig)
    page = render(rows, out, command_line, svg, title)
    out.mkdir(parents=True, exist_ok=True)
    if png is not None:
        _write(out / f"{CHART}.png", png)
        _write(out / f"{CHART}.svg", svg)
    _write(out / "index.html", page.encode("utf-8"))
    return out / "index.html"
