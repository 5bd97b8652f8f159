"""Write a report folder: everything into a temporary folder beside it, then one swap into place."""
from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..results.files import check_target, remove_stale, temporary_sibling, umask_mode
from ..results.netcdf import save_netcdf
from ..results.progress import task
from ..spec.reader import load
from .compute import compute
from .figures import make_figures
from .headline import window_values
from .render import figure_bytes, to_html, to_markdown
from .sections import blocks

def prepare(model, samples: int, seed: int):
    """The :class:`~simulate.report.compute.Report` of ``model`` with its figures made."""
    try:
        report = compute(model, samples, seed)
    except ModelError as exc:
        raise exc.located(model.path) from None
    _refuse_empty_outputs(report.ds, model)
    report.headline_values = window_values(report, report.headline)
    report.figures = make_figures(report)
    return report


def _refuse_empty_outputs(ds, model):
    """A report draws every output: refuse one whose samples are all NaN or infinite in a month."""
    for name in model.outputs:
        empty = ds[f"{name}_monthly_nonfinite"].values >= ds.attrs["samples"]
        if empty.any():
            month = model.period.months[int(np.argmax(empty))]
            raise ModelError(f"every sample is NaN or infinite in {month}, so a report cannot draw it",
                             path=model.path, field=f"outputs.{name}", value=name,
                             fix="check its expression (a log or a division of values that reach 0?) "
                                 "or drop it from [outputs]")


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
                 force: bool = False, progress: bool | None = None) -> Path:
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
    progress : bool, optional
        One bar over every run of the report (default: on a terminal or in a notebook).

    Returns
    -------
    Path
        ``out``, holding index.html, summary.md, results.nc and every figure as PNG and SVG.
    """
    import matplotlib.pyplot as plt

    given = Path(out)
    out = check_target(out, "--out", folder=True).absolute()   # "." has no name to put a folder beside
    check_out_folder(out, force)
    with _unwritable_is_bad_input(out):
        recover_folder(out)
    model = load(priors)
    command_line = command_line or f"simulate report {priors} --out {out} --samples {samples} --seed {seed}"
    with task(progress, None, unit="samples", desc=f"report {model.name}"):   # grows as each run starts
        report = prepare(model, samples, seed)
    with _unwritable_is_bad_input(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_sibling(out, folder=True)
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
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        for _, fig in report.figures.values():
            plt.close(fig)
        if isinstance(exc, OSError):   # a full disk, say
            raise _unwritable(out, exc) from None
        raise
    return given


@contextlib.contextmanager
def _unwritable_is_bad_input(out: Path):
    """An OSError writing the report folder becomes a ModelError about --out."""
    try:
        yield
    except OSError as exc:
        raise _unwritable(out, exc) from None


def _unwritable(out: Path, exc: OSError) -> ModelError:
    return ModelError(f"cannot be written ({exc.strerror or exc})", field="--out", value=str(out),
                      fix="give a folder path on a disk you can write to, with room for the report")


def _replace_folder(new: Path, target: Path):
    """Put folder ``new`` at ``target``: one rename when target is absent, else swap then delete the old.

    A process killed between the swap's two renames leaves ``.TARGET.old`` and no ``TARGET``;
    :func:`recover_folder` (run before every write) puts the old folder back.
    """
    if not target.exists():
        new.rename(target)
        return
    old = _old(target)
    shutil.rmtree(old, ignore_errors=True)
    target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def recover_folder(target: Path):
    """Mend what a killed write left beside ``target``: the previous folder is put back if the
    swap stopped half-way, a stale old copy is removed, and dead writers' temporary folders go."""
    old = _old(target)
    if old.is_dir() and not target.exists():
        old.rename(target)
    elif old.exists():
        shutil.rmtree(old, ignore_errors=True)
    remove_stale(target)


def _old(target: Path) -> Path:
    return target.with_name(f".{target.name}.old")
