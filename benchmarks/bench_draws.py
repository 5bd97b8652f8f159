"""Cost of the kernel's random draws, family by family, in ns per variate on one thread.

    python benchmarks/bench_draws.py [--samples 1e6] [--repeats 7]

Each family gets a one-day model with 12 parameters of that family (Dirichlet: 6 regions with
fixed intensities; correlated: 3 lognormals rank-correlated in a chain, the copula's cost alone).
The kernel runs draws only (the program and the outputs are emptied, as in bench_engine.py's
breakdown), single-threaded; a model whose parameters are all fixed gives the per-sample floor,
which is subtracted. Best of ``--repeats`` CPU times: the machine may be shared.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numba

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

import simulate  # noqa: E402
from simulate.engine import runner  # noqa: E402
from simulate.engine.compiler import compile_model  # noqa: E402
from simulate.engine.histogram import Windows  # noqa: E402

N_PARAMS = 12
FAMILIES = {  # label -> one parameter's distribution, as inline-table keys
    "fixed (floor)": 'dist = "fixed", value = {k}',
    "uniform": 'dist = "uniform", min = {k}, max = {k2}',
    "triangular": 'dist = "triangular", min = {k}, mode = {k1}, max = {k2}',
    "normal": 'dist = "normal", mean = {k}, sd = 1',
    "normal, truncated": 'dist = "normal", mean = {k}, sd = 1, lower = {k}',
    "lognormal": 'dist = "lognormal", p5 = {k1}, p95 = {k2}',
    "pert (tabulated)": 'dist = "pert", min = {k}, mode = {k1}, max = {k2}',
    "beta (tabulated)": 'dist = "beta", alpha = 2, beta = 5',
    "discrete (4 values)": 'dist = "discrete", values = [1, 2, 3, 4], weights = [1, 2, 3, {k}]',
}
HEADER = '[period]\nstart = 2023-01-01\nend = 2023-01-01\n'


def family_model(spec: str) -> str:
    params = "[parameters]\n" + "".join(
        f'p{k} = {{ {spec.format(k=k + 1, k1=k + 2, k2=k + 4)}, unit = "1", source = "b" }}\n' for k in range(N_PARAMS))
    total = " + ".join(f"p{k}" for k in range(N_PARAMS))
    return HEADER + params + f'[derived]\ny = {{ expr = "{total}", unit = "1" }}\n[outputs]\ny = "sum"\n'


def dirichlet_model() -> str:
    regions = "".join(f'[regions.r{k}]\nshare = {1 / 6}\nintensity_g_per_kwh = {{ dist = "fixed", value = 1, '
                      f'source = "b" }}\n' for k in range(6))
    return (HEADER + '[parameters]\nx = { dist = "fixed", value = 1, unit = "1", source = "b" }\n[regions]\nshares = "dirichlet"\nconcentration = 10\nsource = "b"\n' + regions
            + '[outputs]\ngrid_g_per_kwh = "mean"\n')


def correlated_model() -> str:
    params = "".join(f'[parameters.p{k}]\ndist = "fixed"\nvalue = 1\nunit = "1"\nsource = "b"\n' for k in range(3))
    params = params.replace('dist = "fixed"\nvalue = 1', 'dist = "uniform"\nmin = 0\nmax = 1')
    corr = "".join(f'[[correlations]]\nbetween = ["p{k}", "p{k + 1}"]\nrank = 0.5\nsource = "b"\n' for k in range(2))
    return (HEADER + params + '[derived]\ny = { expr = "p0 + p1 + p2", unit = "1" }\n[outputs]\ny = "sum"\n'
            + corr)


def cpu_ns_per_sample(text: str, samples: int, repeats: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.toml")
        Path(path).write_text(text)
        p = compile_model(simulate.load(path))
    e = p.evaluation
    draws_only = p.only_outputs([0]).with_evaluation(sample_len=0, month_len=e.month_len * 0, day_len=e.day_len * 0)
    sizes = runner.block_sizes(samples)
    windows = Windows.empty((1, p.n_times))   # days, months, years and the period total
    runner.reduce_range(draws_only, windows, 1, sizes[:1], 0)
    best = float("inf")
    for _ in range(repeats):
        t = time.process_time()
        runner.reduce_range(draws_only, windows, 1, sizes, 0)
        best = min(best, time.process_time() - t)
    return best / samples * 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=float, default=1e6)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    numba.set_num_threads(1)
    samples = int(args.samples)
    cases = [(label, family_model(spec), N_PARAMS) for label, spec in FAMILIES.items()]
    cases += [("dirichlet (6 shares)", dirichlet_model(), 6),
              ("rank correlation (3 params)", correlated_model(), 3)]
    print(f"{samples:,} samples, 1 thread, best of {args.repeats}, load average "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    floor = None
    uniform = None
    for label, text, variates in cases:
        ns = cpu_ns_per_sample(text, samples, args.repeats)
        if floor is None:
            floor = ns
            print(f"  {label:<30} {ns:6.1f} ns/sample (subtracted below)")
            continue
        per = (ns - floor) / variates
        if label == "uniform":
            uniform = per
        if label.startswith("rank"):  # on top of the three uniform draws
            per = (ns - floor) / variates - uniform
        print(f"  {label:<30} {per:6.2f} ns/variate")


if __name__ == "__main__":
    main()
