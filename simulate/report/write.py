"""Write a report folder: everything into a temporary folder beside it, then one swap into place."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ..errors import ModelError
from ..results.netcdf import save_netcdf, umask_mode
from ..spec.reader import load
from .compute import compute
from .figures import make_figures
from .headline import window_values
from .render import figure_bytes, to_html, to_markdown
from .sections import blocks


def prepare(model, samples: int, seed: int):
    """The :class:`~simulate.report.compute.Report` of ``model`` with its figures made."""
    report = compute(model, samples, seed)
    report.headline_values = window_values(report, report.headline)
    report.figures = make_figures(report)
    return report


def summary_dataset(ds):
    """``ds`` without the per-sample draws (which are large); the percentiles they gave are in summary.md."""
    dropped = [v for v in ds.data_vars if "sample" in ds[v].dims]
    small = ds.drop_vars(dropped).drop_dims([d for d in ("sample", "input") if d in ds.dims])
    small.attrs["per_sample_draws"] = (f"{ds.sizes.get('sample', 0)} kept for percentiles, not stored here; "
                                       "rerun the report command to recompute them")
    return small


# The file every report folder holds, so that a later report may replace the folder (and nothing else is).
MARKER = ".simulate-report"
# What a report writes: a folder holding only these (and index.html, summary.md, results.nc) is an
# earlier report written before the marker existed.
REPORT_FILES = ("index.html", "summary.md", "results.nc")
REPORT_SUFFIXES = (".png", ".svg")


def check_out_folder(out: Path, force: bool = False):
    """Refuse to replace ``out`` unless it is absent, empty, or a previous report (or ``force``).

    A previous report holds :data:`MARKER`, or (written before the marker) only the files a report
    writes. Anything else is a user's folder, and replacing it would delete their files.
    """
    if out.exists() and not out.is_dir():
        raise ModelError("exists and is not a folder", field="--out", value=str(out),
                         fix="give a folder path (it is created, or replaced as a whole)")
    if force or not out.exists():
        return
    names = {p.name for p in out.iterdir()}
    legacy = set(REPORT_FILES) <= names and all(n in REPORT_FILES or n.endswith(REPORT_SUFFIXES) for n in names)
    if not names or MARKER in names or legacy:
        return
    foreign = sorted(n for n in names if n not in REPORT_FILES and not n.endswith(REPORT_SUFFIXES)) or sorted(names)
    shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
    raise ModelError(f"is a folder that is not a simulate report (it holds {shown}); the report replaces its "
                     "folder as a whole, so these files would be deleted", field="--out", value=str(out),
                     fix="give a new or empty folder, or pass --force to replace this folder and everything in it")


def write_report(priors, out, *, samples: int = 1_000_000, seed: int = 0, command_line: str | None = None,
                 force: bool = False) -> Path:
    """Build the report of model file ``priors`` into folder ``out`` (replaced as a whole, atomically).

    Parameters
    ----------
    priors : str or Path
        A model file.
    out : str or Path
        The report folder: written beside itself under a temporary name, then swapped in.
    samples, seed : int
        The main run (at most 10^6 of its draws are kept for percentiles).
    command_line : str, optional
        The command shown in the report as the way to regenerate it.
    force : bool
        Replace ``out`` even when it is not empty and not a previous report (its files are deleted).

    Returns
    -------
    Path
        ``out``, holding index.html, summary.md, results.nc and every figure as PNG and SVG.
    """
    import matplotlib.pyplot as plt

    out = Path(out)
    check_out_folder(out, force)
    model = load(priors)
    command_line = command_line or f"simulate report {priors} --out {out} --samples {samples} --seed {seed}"
    report = prepare(model, samples, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        svgs, titles = {}, {}
        for stem, (title, fig) in report.figures.items():
            png, svg = figure_bytes(fig)
            plt.close(fig)
            (tmp / f"{stem}.png").write_bytes(png)
            (tmp / f"{stem}.svg").write_bytes(svg)
            svgs[stem], titles[stem] = svg, title
        doc = blocks(report, command_line)
        (tmp / "summary.md").write_text(to_markdown(doc, titles), encoding="utf-8")
        (tmp / "index.html").write_text(to_html(doc, svgs, titles), encoding="utf-8")
        save_netcdf(summary_dataset(report.ds), tmp / "results.nc")
        (tmp / MARKER).write_text(f"A report written by `{command_line}`. Another `simulate report --out` "
                                  "may replace this folder as a whole.\n", encoding="utf-8")
        tmp.chmod(umask_mode(0o777))  # mkdtemp makes it private; a report folder is for reading
        _replace_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for _, fig in report.figures.values():
            plt.close(fig)
        raise
    return out


def _replace_folder(new: Path, target: Path):
    """Put folder ``new`` at ``target``: one rename when target is absent, else swap then delete the old."""
    if not target.exists():
        new.rename(target)
        return
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)
