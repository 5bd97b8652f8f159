"""The ``simulate`` command: parse arguments, call the Python API, print. Nothing more.

Exit status 0 on success, 2 for bad input (one clear message on stderr, nothing half-written).
"""
from __future__ import annotations

import argparse
import sys
import warnings

from .errors import ModelError

COMMANDS = {}  # name -> (add_arguments, handler); other modules register subcommands here


def command(name, help_text):
    """Register a subcommand: decorate ``handler(args)``; its arguments come from ``add_arguments``."""
    def wrap(add_arguments):
        def register(handler):
            COMMANDS[name] = (help_text, add_arguments, handler)
            return handler
        return register
    return wrap


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


@command("run", "sample a model and print median and 90% interval per month")(_run_arguments)
def _run(args):
    from .modelfile import load
    from .report_table import summary_table
    from .results import save_netcdf

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
        from .distributed import local_cluster

        return local_cluster(args.workers)
    return None, None


def _check_arguments(parser):
    parser.add_argument("priors", help="model file (TOML)")


@command("check", "validate a model file and list its parameters with units and sources")(_check_arguments)
def _check(args):
    from .modelfile import load
    from .report_table import parameter_table

    model = load(args.priors)
    print(f"{model.path}: valid. {model.title}")
    print(f"period {model.period.start} to {model.period.end} ({model.period.n_days} days); "
          f"outputs: {', '.join(model.outputs)}; scenarios: {', '.join(model.scenarios) or 'none'}")
    print(parameter_table(model))


def build_parser() -> argparse.ArgumentParser:
    _load_plugins()
    parser = argparse.ArgumentParser(prog="simulate", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add_arguments, handler) in COMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        add_arguments(sub_parser)
        sub_parser.set_defaults(handler=handler)
    return parser


# Modules that register further subcommands with @command when imported (reports, sensitivity, ...).
SUBCOMMAND_MODULES: tuple[str, ...] = ("simulate.report", "simulate.sensitivity")


def _load_plugins():
    import importlib

    for module in SUBCOMMAND_MODULES:
        importlib.import_module(module)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.formatwarning = lambda message, *a, **k: f"warning: {message}\n"
            args.handler(args)
    except ModelError as exc:
        print(f"simulate: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    # Run the package's module, not this __main__ copy: subcommand modules register with simulate.cli.
    from simulate.cli import main as package_main

    sys.exit(package_main())
