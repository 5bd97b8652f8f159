"""The ``simulate`` command: parse arguments, call the Python API, print. Nothing more.

Every subcommand is declared here; each handler imports the stage it needs when it runs.
Exit status 0 on success, 2 for bad input (one clear message on stderr, nothing half-written).
"""
from __future__ import annotations

import argparse
import sys
import warnings

from .errors import ModelError

DESCRIPTION = ("Monte Carlo uncertainty for the electricity use and CO2 of AI services: sample a model "
               "file's sourced priors and report medians and 90% intervals, sensitivity and reports.")


# -- run ---------------------------------------------------------------------------------------------
def _run_arguments(parser):
    parser.add_argument("priors", help="model file (TOML)")
    parser.add_argument("--samples", type=int, default=1_000_000, help="number of Monte Carlo samples (default 1e6)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--scenario", help="fix parameters at a named scenario of the model file")
    parser.add_argument("--out", help="write the results Dataset to this netCDF file")
    parser.add_argument("--rtol", type=float, help="add samples until every 5/50/95%% quantile's 95%% interval "
                        "is within this relative error (e.g. 0.01); --samples is then the starting count")
    parser.add_argument("--max-samples", type=int, help="with --rtol: stop here even if not converged (default 1e8)")
    parser.add_argument("--all-months", action="store_true", help="print every month of a period over 12 months")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="run blocks on this dask.distributed scheduler")
    where.add_argument("--workers", type=int, metavar="N", help="start a local dask cluster of N worker processes")


def _run(args):
    from .report.tables import summary_table
    from .results.netcdf import save_netcdf
    from .spec.reader import load

    model = load(args.priors)
    if args.scenario:
        model = model.with_scenario(args.scenario)
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
        path = save_netcdf(ds, args.out)
        print(f"wrote {path}")


def _dask_client(args):
    """A dask client for --scheduler or --workers, else (None, None)."""
    if args.scheduler:
        from dask.distributed import Client

        try:
            return Client(args.scheduler), None   # waits distributed.comm.timeouts.connect
        except (OSError, TimeoutError) as exc:
            raise ModelError(f"cannot reach the dask scheduler ({exc})", path=None, field="--scheduler",
                             value=args.scheduler, fix="start one with `dask scheduler` and pass its tcp:// address")
    if args.workers is not None:
        if args.workers < 1:
            raise ModelError("must be at least 1", path=None, field="--workers", value=args.workers,
                             fix="pass --workers 2 for two worker processes")
        from .engine.distributed import local_cluster

        return local_cluster(args.workers)
    return None, None


# -- check -------------------------------------------------------------------------------------------
def _check_arguments(parser):
    parser.add_argument("priors", help="model file (TOML)")


def _check(args):
    from .report.tables import parameter_table
    from .spec.reader import load

    model = load(args.priors)
    print(f"{model.path}: valid. {model.title}")
    print(f"period {model.period.start} to {model.period.end} ({model.period.n_days} days); "
          f"outputs: {', '.join(model.outputs)}; scenarios: {', '.join(model.scenarios) or 'none'}")
    print(parameter_table(model))


# -- report ------------------------------------------------------------------------------------------
def _report_arguments(parser):
    parser.add_argument("priors", help="model file (TOML)")
    parser.add_argument("--out", required=True, help="folder to write (replaced as a whole)")
    parser.add_argument("--samples", type=int, default=1_000_000, help="Monte Carlo samples (default 1e6)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def _report(args):
    from .report.write import write_report

    path = write_report(args.priors, args.out, samples=args.samples, seed=args.seed,
                        command_line=f"simulate report {args.priors} --out {args.out} --samples {args.samples} --seed {args.seed}")
    print(f"wrote {path}/index.html, summary.md, results.nc and figures")


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
SENSITIVITY_METHODS = ("sobol", "tornado", "rank")


def _sensitivity_arguments(parser):
    parser.add_argument("priors", help="model file (TOML)")
    parser.add_argument("--output", required=True, help="the output to analyse, e.g. energy_kwh")
    parser.add_argument("--method", choices=SENSITIVITY_METHODS, default="sobol", help="sobol (default), tornado or rank")
    parser.add_argument("--month", help="month YYYY-MM of the monthly total (default: the first month)")
    parser.add_argument("--daily", action="store_true", help="indices for every day instead of one month")
    parser.add_argument("--samples", type=int, help="Sobol base samples (power of 2, default 4096) or "
                        "Monte Carlo samples per run (tornado, rank; default 100000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--scenario", help="fix parameters at a named scenario of the model file first")
    parser.add_argument("--out", help="write the result Dataset to this netCDF file")
    parser.add_argument("--figure", help="save the chart (tornado, Sobol bars, indices over time) to this file")


def _sensitivity(args):
    from .report.tables import ranked_table
    from .results.netcdf import save_netcdf
    from .spec.reader import load

    model = load(args.priors)
    if args.scenario:
        model = model.with_scenario(args.scenario)
    ds = model.sensitivity(args.output, args.method, samples=args.samples, seed=args.seed,
                           month=args.month, daily=args.daily)
    print(ranked_table(ds))
    if args.out:
        print(f"wrote {save_netcdf(ds, args.out)}")
    if args.figure:
        from .plots.sensitivity import figure_for

        fig, _ = figure_for(ds)
        fig.savefig(args.figure, dpi=150, bbox_inches="tight")
        print(f"wrote {args.figure}")


COMMANDS = {
    "run": ("sample a model and print median and 90%% interval per month", _run_arguments, _run),
    "check": ("validate a model file and list its parameters with units and sources", _check_arguments, _check),
    "report": ("write an HTML/markdown report with figures, tables and results.nc", _report_arguments, _report),
    "atlas": ("write one page of every shipped model's published figures beside our bands", _atlas_arguments,
              _atlas),
    "sensitivity": ("rank a model's inputs by their effect on one output (Sobol, tornado, rank)",
                    _sensitivity_arguments, _sensitivity),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="simulate", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add_arguments, handler) in COMMANDS.items():
        # help strings are %-formatted by argparse (90%% reads 90%); descriptions are not
        sub_parser = sub.add_parser(name, help=help_text, description=help_text.replace("%%", "%"))
        add_arguments(sub_parser)
        sub_parser.set_defaults(handler=handler)
    return parser


def _format_warning(message, *args, **kwargs) -> str:
    return f"warning: {message}\n"


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    shown = warnings.formatwarning
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.formatwarning = _format_warning
            args.handler(args)
    except ModelError as exc:
        print(f"simulate: error: {exc}", file=sys.stderr)
        return 2
    finally:
        warnings.formatwarning = shown
    return 0
