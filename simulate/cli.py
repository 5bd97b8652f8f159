# PYTHON_ARGCOMPLETE_OK   (shell completion: pip install argcomplete; eval "$(register-python-argcomplete simulate)")
"""The ``simulate`` command: parse arguments, call the Python API, print. Nothing more.

Every subcommand is declared here; each handler imports the stage it needs when it runs.
Exit status 0 on success, 2 for bad input (one clear message on stderr, nothing half-written),
130 on Ctrl-C; a closed pipe (``simulate check FILE | head``) ends quietly.
"""
from __future__ import annotations

import argparse
import math
import os
import re
import sys
import warnings

from ._version import __version__
from .errors import ModelError
from .spec.model import DEFAULT_SAMPLES

DESCRIPTION = """\
Monte Carlo uncertainty for the electricity use, CO2 and water of AI services.

A model file (TOML) gives each input (visits, energy per query, GPUs, PUE, grid intensity...) as a
distribution with its source; simulate samples them and reports medians and 90% intervals per day,
month and year, which inputs drive the spread, and how published figures compare.

  simulate new my-model                      write a model file to start from
  simulate check my-model.toml               validate it and list every parameter with its source
  simulate info my-model.toml                its outputs, scenarios, dimensions and published figures
  simulate run my-model.toml --out r.nc      sample it; --out .nc, .csv, .json, .parquet or .yaml
  simulate report my-model.toml --out DIR    a folder with an HTML report, figures and results.nc
"""
EPILOG = "Run `simulate COMMAND --help` for the options of each command. Docs: README.md."


def count(text: str) -> int:
    """A sample count as people write it: ``100000``, ``1e6``, ``1_000_000`` or ``1,000,000``."""
    cleaned = text.replace("_", "").replace(",", "").strip()
    try:
        value = float(cleaned)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; write e.g. 100000 or 1e6") from None
    if not math.isfinite(value) or value != int(value) or not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of samples; write e.g. 100000 or 1e6")
    return int(value)


def _common(parser, samples_help: str | None = "number of Monte Carlo samples"):
    """Options most commands share: the model file, samples, seed, quiet."""
    parser.add_argument("priors", metavar="MODEL.toml", help="model file (TOML)")
    if samples_help:
        parser.add_argument("--samples", type=count, default=DEFAULT_SAMPLES, metavar="N",
                            help=f"{samples_help} (default {DEFAULT_SAMPLES:.0e}; 1e6 and 1_000_000 work too)")
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no 'wrote' lines")


# -- run ---------------------------------------------------------------------------------------------
def _run_arguments(parser):
    _common(parser)
    parser.add_argument("--scenario", help="fix parameters at a named scenario of the model file")
    parser.add_argument("--out", metavar="FILE", help="write the results: .nc (netCDF, CF-1.11), .csv or .json "
                        "(tidy table), .parquet (with pyarrow), .yaml (Impact Framework manifest)")
    parser.add_argument("--per", metavar="OUTPUT", help="with --out FILE.yaml: the output counting the SCI "
                        "functional unit (e.g. queries), for the manifest's Sci plugin")
    parser.add_argument("--rtol", type=float, help="add samples until every 5/50/95%% quantile's 95%% interval "
                        "is within this relative error (e.g. 0.01); --samples is then the starting count")
    parser.add_argument("--max-samples", type=count, metavar="N",
                        help="with --rtol: stop here even if not converged (default 1e8)")
    parser.add_argument("--all-months", action="store_true", help="print every month of a period over 12 months")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="run blocks on this dask.distributed scheduler")
    where.add_argument("--workers", type=int, metavar="N", help="start a local dask cluster of N worker processes")


def _run(args):
    from .report.tables import summary_table
    from .results.export import FORMATS, export

    _check_target(args.out, "--out")
    _check_extension(args.out, FORMATS)
    model = _load(args)
    client, cluster = _dask_client(args)
    try:
        ds = model.run(samples=args.samples, seed=args.seed, rtol=args.rtol, max_samples=args.max_samples,
                       client=client)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    print(summary_table(ds, max_months=None if args.all_months else 12))
    if args.rtol is not None:
        state = "converged" if ds.attrs["converged"] else "NOT converged (max samples reached)"
        print(f"{state}: worst relative error {ds.attrs['max_relative_error']:.3g} "
              f"(rtol {args.rtol:g}) after {ds.attrs['samples']:,} samples")
    if args.out:
        _wrote(args, export(ds, args.out, field="--out", functional_unit=args.per))


def _load(args):
    from .spec.reader import load

    model = load(args.priors)
    return model.with_scenario(args.scenario) if getattr(args, "scenario", None) else model


def _wrote(args, path):
    if not args.quiet:
        print(f"wrote {path}")


def _check_target(path, field):
    """Refuse an --out (or --figure) that cannot take a file, before any sampling is done."""
    from .results.files import check_target

    if path:
        check_target(path, field)


def _check_extension(path, formats, field="--out"):
    """Refuse an --out whose extension we cannot write before any sampling is done."""
    if path and os.path.splitext(path)[1].lower() not in formats:
        raise ModelError("has no extension a results file can be written as", field=field, value=path,
                         fix="end it in " + ", ".join(formats))


def _dask_client(args):
    """A dask client for --scheduler or --workers, else (None, None)."""
    if args.scheduler:
        from dask.distributed import Client

        try:
            return Client(args.scheduler), None   # waits distributed.comm.timeouts.connect
        except (OSError, TimeoutError, ValueError, TypeError) as exc:   # ValueError: not an address
            raise ModelError(f"cannot reach the dask scheduler ({exc})", path=None, field="--scheduler",
                             value=args.scheduler, fix="start one with `dask scheduler` and pass its tcp:// address")
    if args.workers is not None:
        most = 4 * (os.cpu_count() or 1)
        if not 1 <= args.workers <= most:
            raise ModelError(f"must be from 1 to {most} (four per core of this machine)", path=None,
                             field="--workers", value=args.workers, fix="pass --workers 2 for two worker processes")
        from .engine.distributed import local_cluster

        return local_cluster(args.workers)
    return None, None


# -- check and info ----------------------------------------------------------------------------------
def _check_arguments(parser):
    _common(parser, samples_help=None)


def _check(args):
    from .engine.compiler import compile_model
    from .report.tables import parameter_table

    model = _load(args)
    compile_model(model)          # what run would find before sampling, check finds too
    print(f"{model.path}: valid. {model.title}")
    print(f"period {model.period.start} to {model.period.end} ({model.period.n_days} days); "
          f"outputs: {', '.join(model.outputs)}; scenarios: {', '.join(model.scenarios) or 'none'}")
    print(parameter_table(model))


def _info_arguments(parser):
    _common(parser, samples_help=None)


def _info(args):
    from .spec.overview import model_overview

    print(model_overview(_load(args)))


def _list_arguments(parser):
    parser.add_argument("folder", nargs="?", default="priors", help="a folder of model files (default priors)")


def _list(args):
    from pathlib import Path

    from .spec.reader import load

    folder = Path(args.folder)
    files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    if not files:
        raise ModelError("holds no model files (*.toml)", field="folder", value=str(folder),
                         fix="give the folder of your model files, or write one with `simulate new NAME`")
    for path in files:
        try:
            model = load(path)
        except ModelError as exc:
            print(f"{path}  (invalid: {exc.problem})")
            continue
        print(f"{path}  {model.period.start} to {model.period.end}  {model.title}")


# -- new ---------------------------------------------------------------------------------------------
def _new_arguments(parser):
    parser.add_argument("name", help="the model's name; writes NAME.toml (or the path given, if it ends in .toml)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.add_argument("-q", "--quiet", action="store_true", help="no 'wrote' line")


def _new(args):
    from pathlib import Path

    from .results.files import write_text
    from .spec.template import model_template

    path = Path(args.name if args.name.endswith(".toml") else f"{args.name}.toml")
    name = path.stem
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise ModelError("is not a usable model name", field="name", value=args.name,
                         fix="use letters, digits, '-', '_' and '.', e.g. my-model")
    if path.exists() and not args.force:
        raise ModelError("exists already", field="name", value=str(path),
                         fix="choose another name, or pass --force to overwrite it")
    write_text(path, model_template(name))
    if not args.quiet:
        print(f"wrote {path}: a model that runs as it is. Next:\n"
              f"  simulate check {path}\n  simulate run {path}\n"
              f"  simulate report {path} --out {name}-report")


# -- report ------------------------------------------------------------------------------------------
def _report_arguments(parser):
    _common(parser)
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="folder to write; it must be new, empty or an earlier report (replaced as a whole)")
    parser.add_argument("--force", action="store_true",
                        help="replace --out even if it holds other files (they are deleted)")


def _report(args):
    from .report.write import write_report

    command = f"simulate report {args.priors} --out {args.out} --samples {args.samples} --seed {args.seed}"
    path = write_report(args.priors, args.out, samples=args.samples, seed=args.seed, command_line=command,
                        force=args.force)
    _wrote(args, f"{path}/index.html, summary.md, results.nc and figures")


# -- atlas -------------------------------------------------------------------------------------------
def _atlas_arguments(parser):
    parser.add_argument("--out", required=True, help="folder to write index.html and the chart into (model "
                        "reports already in it are linked, not touched)")
    parser.add_argument("--priors", nargs="+", default=["priors"], help="model files or folders (default: priors)")
    parser.add_argument("--samples", type=int, default=20_000, help="Monte Carlo samples per model (default 20000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def _atlas(args):
    from .report.atlas import write_atlas

    path = write_atlas(args.out, args.priors, samples=args.samples, seed=args.seed,
                       command_line=f"simulate atlas --out {args.out} --priors {' '.join(args.priors)} "
                                    f"--samples {args.samples} --seed {args.seed}")
    print(f"wrote {path} and the per-query chart")


# -- sensitivity -------------------------------------------------------------------------------------
SENSITIVITY_METHODS = ("sobol", "tornado", "rank", "shapley", "disclosure")


def _sensitivity_arguments(parser):
    _common(parser, samples_help=None)
    parser.add_argument("--output", required=True, help="the output to analyse, e.g. energy_kwh")
    parser.add_argument("--method", choices=SENSITIVITY_METHODS, default="sobol", help="sobol (default), tornado, rank, shapley or disclosure")
    parser.add_argument("--month", help="month YYYY-MM of the monthly total (default: the first month)")
    parser.add_argument("--daily", action="store_true", help="indices for every day instead of one month")
    parser.add_argument("--samples", type=count, metavar="N", help="Sobol base samples (power of 2, default 4096), "
                        "Monte Carlo samples per run (tornado, rank, disclosure; default 100000) or "
                        "model evaluations (shapley; default 2^20)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--scenario", help="fix parameters at a named scenario of the model file first")
    parser.add_argument("--out", metavar="FILE", help="write the result Dataset (.nc, .csv or .json)")
    parser.add_argument("--figure", help="save the chart (tornado, Sobol bars, indices over time) to this file")


def _sensitivity(args):
    from .report.tables import ranked_table
    from .results.export import export

    _check_target(args.out, "--out")
    _check_extension(args.out, (".nc", ".csv", ".json"))
    if args.figure:
        _check_figure(args.figure)
    model = _load(args)
    ds = model.sensitivity(args.output, args.method, samples=args.samples, seed=args.seed,
                           month=args.month, daily=args.daily)
    print(ranked_table(ds))
    if args.out:
        _wrote(args, export(ds, args.out, field="--out"))
    if args.figure:
        from .plots.sensitivity import figure_for
        from .results.files import write_atomically

        fig, _ = figure_for(ds)
        suffix = os.path.splitext(args.figure)[1][1:].lower()
        write_atomically(args.figure, lambda tmp: fig.savefig(tmp, format=suffix, dpi=150, bbox_inches="tight"),
                         "--figure")
        _wrote(args, args.figure)


def _check_figure(path):
    """Refuse a --figure path matplotlib cannot write, before the analysis runs."""
    from matplotlib.figure import Figure

    formats = Figure().canvas.get_supported_filetypes()
    suffix = os.path.splitext(path)[1][1:].lower()
    if suffix not in formats:
        raise ModelError("has no image format matplotlib can write", field="--figure", value=path,
                         fix=f"end the name with one of .{', .'.join(sorted(formats))} (e.g. s.png)")
    _check_target(path, "--figure")


# -- sci ---------------------------------------------------------------------------------------------
def _sci_arguments(parser):
    _common(parser)
    parser.add_argument("--per", required=True, metavar="OUTPUT",
                        help="the output that counts the functional unit, e.g. queries or messages")
    parser.add_argument("--carbon", help="the location-based CO2e output in kg (default co2_kg)")
    parser.add_argument("--embodied", help="the embodied CO2e output in kg (default embodied_co2_kg when the "
                        "model has it; '' for none)")
    parser.add_argument("--scenario", help="fix parameters at a named scenario of the model file first")
    parser.add_argument("--out", metavar="FILE", help="write the score (.nc, .csv or .json)")


def _sci(args):
    from .plots.labels import format_number
    from .results.export import export
    from .results.sci import sci_score

    _check_extension(args.out, (".nc", ".csv", ".json"))
    if args.samples > 2_000_000:
        raise ModelError("keeps every sample, so at most 2e6", field="--samples", value=args.samples,
                         fix="pass --samples 1e6 or fewer")
    ds = sci_score(_load(args), args.per, carbon=args.carbon, embodied=args.embodied, samples=args.samples,
                   seed=args.seed)
    unit = ds["sci_total"].attrs["units"]
    print(f"SCI (ISO/IEC 21031), location-based: {ds['sci_total'].attrs['long_name']}; "
          f"{ds.attrs['samples']:,} samples, seed {ds.attrs['seed']}")
    print(f"{'when':<12} {'median':>10} {'90% interval':>25} {'mean':>10}  unit")

    def row(label, da, mean):
        lo, mid, hi = (format_number(float(da.sel(quantile=q))) for q in (0.05, 0.5, 0.95))
        print(f"{label:<12} {mid:>10} {'[' + lo + ', ' + hi + ']':>25} {format_number(float(mean)):>10}  {unit}")

    for m, month in enumerate(ds["month"].values):
        row(str(month)[:7], ds["sci_monthly"].isel(month=m), ds["sci_monthly_mean"].isel(month=m))
    row("whole period", ds["sci_total"], ds["sci_total_mean"])
    if args.out:
        _wrote(args, export(ds, args.out, field="--out"))


COMMANDS = {
    "new": ("write a model file to start from: it runs as it is and explains each section", _new_arguments, _new),
    "check": ("validate a model file and list its parameters with units and sources", _check_arguments, _check),
    "info": ("show a model's outputs, scenarios, dimensions and published figures", _info_arguments, _info),
    "list": ("list the model files in a folder with their periods and titles", _list_arguments, _list),
    "run": ("sample a model and print each output's median and 90%% interval per month", _run_arguments, _run),
    "report": ("write a report folder: HTML and markdown with figures, tables and results.nc",
               _report_arguments, _report),
    "atlas": ("write one page of every shipped model's published figures beside our bands", _atlas_arguments,
              _atlas),
    "sensitivity": ("rank a model's inputs by their effect on one output (Sobol, tornado, rank, Shapley, "
                    "or the band left once each is disclosed)",
                    _sensitivity_arguments, _sensitivity),
    "sci": ("the Software Carbon Intensity (ISO/IEC 21031) per functional unit, with its 90%% interval",
            _sci_arguments, _sci),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="simulate", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-V", "--version", action="version", version=f"simulate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_arguments, handler) in COMMANDS.items():
        # help strings are %-formatted by argparse (90%% reads 90%); descriptions are not
        sub_parser = sub.add_parser(name, help=help_text, description=help_text.replace("%%", "%").capitalize() + ".")
        add_arguments(sub_parser)
        sub_parser.set_defaults(handler=handler)
    return parser


def _format_warning(message, *args, **kwargs) -> str:
    return f"warning: {message}\n"


MAX_SEED = 2**63 - 1   # seeds are stored as a netCDF int64 attribute


def _check_seed(args):
    seed = getattr(args, "seed", 0)
    if not 0 <= seed <= MAX_SEED:
        raise ModelError(f"must be an integer from 0 to {MAX_SEED:,}", field="--seed", value=seed,
                         fix="pass e.g. --seed 1")


def _interrupted(exc: BaseException) -> bool:
    """Whether a KeyboardInterrupt is behind ``exc`` (C callbacks wrap it in a SystemError)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def main(argv=None) -> int:
    """Run the command line; return the exit status.

    0 on success; 2 for bad input or too little memory (one line on stderr, no traceback); 130 when
    interrupted (Ctrl-C); 141 (128 + SIGPIPE, as shell tools) when the reader closed the pipe.
    Nothing is half-written in any case.
    """
    parser = build_parser()
    try:
        import argcomplete
    except ImportError:
        pass
    else:
        argcomplete.autocomplete(parser)
    shown, args = warnings.formatwarning, None
    try:
        args = parser.parse_args(argv)
        if getattr(args, "quiet", False):
            from .results.progress import set_default

            set_default(False)   # every run of the command, however deep (reports, sensitivity)
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.formatwarning = _format_warning
            _check_seed(args)
            args.handler(args)
            sys.stdout.flush()   # a closed pipe shows here, inside the handler below
    except ModelError as exc:
        print(f"simulate: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("simulate: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`| head`): send what is left to /dev/null so the exit flush is quiet
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except MemoryError:
        print("simulate: error: out of memory. Fix: ask for fewer samples kept, fewer outputs or a shorter period",
              file=sys.stderr)
        return 2
    except Exception as exc:
        if not _interrupted(exc):
            raise
        print("simulate: interrupted", file=sys.stderr)   # Ctrl-C inside a C callback (numba loading its cache)
        return 130
    finally:
        warnings.formatwarning = shown
        if getattr(args, "quiet", False):
            from .results.progress import set_default

            set_default(None)
    return 0
