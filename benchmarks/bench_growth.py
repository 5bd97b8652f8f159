"""How the engine's cost grows with the work: samples, period, outputs and coordinates of a dimension.

    python benchmarks/bench_growth.py                 # every axis
    python benchmarks/bench_growth.py --axes samples,period --max-samples 1e7

One synthetic cohort model (a fleet in miniature: ``D`` cohorts ramping in and out on
``decimal_year`` with a random lag and lifetime, summed into an installed base, and ``K`` outputs,
each that base times its own lognormal scale), varied along one axis at a time from a base case
(8 cohorts, 1 output, one year at month resolution, 10^6 samples). Each row runs in a fresh process
(compilation excluded: a 1,000-sample warm-up first) and reports CPU seconds over all threads,
nanoseconds of CPU per sample per time step (a day at day resolution, a month at month resolution),
and the peak resident memory after the warm-up and after the run: memory is flat when the run adds
nothing that grows with the samples. The machine may be shared: the load average is printed.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PERIODS = {"1 day": "2023-01-01", "1 month": "2023-01-31", "1 year": "2023-12-31", "6 years": "2028-12-31"}
BASE = {"cohorts": 8, "outputs": 1, "period": "1 year", "resolution": "month", "samples": 1_000_000}


def model_text(cohorts: int, outputs: int, period: str, resolution: str) -> str:
    """The synthetic model file."""
    coords = ", ".join(f"{2020 + 0.25 * i:g}" for i in range(cohorts))
    scales = "".join(f"""
[parameters.scale_{k}]
dist = "lognormal"
p5 = {0.5 + 0.1 * k:g}
p95 = {2.0 + 0.1 * k:g}
unit = "kWh/accelerator"
source = "benchmark"
rationale = "benchmark"
""" for k in range(outputs))
    derived = "".join(f'out_{k}_kwh = {{ expr = "installed * scale_{k}", unit = "kWh" }}\n' for k in range(outputs))
    outs = "".join(f'out_{k}_kwh = "sum"\n' for k in range(outputs))
    return f"""
[period]
start = 2023-01-01
end = {PERIODS[period]}
resolution = "{resolution}"

[dimensions]
cohort = [{coords}]

[parameters.shipped]
dims = ["cohort"]
dist = "lognormal"
p5 = 1e6
p95 = 4e6
unit = "accelerators"
source = "benchmark"
rationale = "benchmark"

[parameters.lag_years]
dist = "pert"
min = 0
mode = 0.25
max = 0.5
unit = "years"
source = "benchmark"
rationale = "benchmark"

[parameters.life_years]
dist = "triangular"
min = 3
mode = 4
max = 6
unit = "years"
source = "benchmark"
rationale = "benchmark"
{scales}
[derived]
active = {{ expr = "shipped * (min(max(decimal_year - lag_years - cohort, 0), 1) - min(max(decimal_year - lag_years - cohort - life_years, 0), 1))", unit = "accelerators" }}
installed = {{ expr = 'sum(active, "cohort")', unit = "accelerators" }}
{derived}
[outputs]
{outs}"""


CHILD = """
import json, resource, time, simulate
model = simulate.load({path!r})
model.run(samples=1000, seed=0)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
wall, cpu = time.perf_counter(), time.process_time()
model.run(samples={samples}, seed=1)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
steps = model.period.n_days if model.period.resolution == "day" else len(model.period.months)
print(json.dumps({{"wall": wall, "cpu": cpu, "steps": steps, "before_kb": before,
                   "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""


def measure(case: dict) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "growth.toml"
        path.write_text(model_text(case["cohorts"], case["outputs"], case["period"], case["resolution"]))
        out = subprocess.run([sys.executable, "-c", CHILD.format(path=str(path), samples=case["samples"])],
                             capture_output=True, text=True, check=True, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    r = json.loads(out.stdout.strip().splitlines()[-1])
    r["ns_per_sample_step"] = r["cpu"] / (case["samples"] * r["steps"]) * 1e9
    return r


def cases(axes, max_samples: float):
    """(axis, label, case) for every row, each a change of one axis from BASE."""
    rows = []
    if "samples" in axes:
        rows += [("samples", f"{n:.0e}", {**BASE, "samples": int(n)}) for n in (1e5, 1e6, 1e7, 1e8) if n <= max_samples]
    if "period" in axes:
        for period in PERIODS:
            for resolution in ("day", "month"):
                days = {"1 day": 1, "1 month": 31, "1 year": 365, "6 years": 2192}[period]
                samples = BASE["samples"] if resolution == "month" or days <= 31 else max(1 << 16, int(2e7 // days))
                rows.append(("period", f"{period}, {resolution} resolution",
                             {**BASE, "period": period, "resolution": resolution, "samples": samples}))
    if "outputs" in axes:
        rows += [("outputs", str(k), {**BASE, "outputs": k}) for k in (1, 2, 5, 10, 20)]
    if "coordinates" in axes:
        rows += [("coordinates", str(d), {**BASE, "cohorts": d}) for d in (1, 2, 5, 10, 20, 50)]
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--axes", default="samples,period,outputs,coordinates")
    parser.add_argument("--max-samples", type=float, default=1e8)
    args = parser.parse_args(argv)
    print(f"base: {BASE}; load average at start {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("\n| axis | value | samples | time steps | CPU s | wall s | CPU ns / sample / step | peak RSS after warm-up -> after run (MB) | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    for axis, label, case in cases(args.axes.split(","), args.max_samples):
        r = measure(case)
        load = f"{os.getloadavg()[0]:.1f}"
        print(f"| {axis} | {label} | {case['samples']:,} | {r['steps']} | {r['cpu']:.2f} | {r['wall']:.2f} | "
              f"{r['ns_per_sample_step']:.1f} | {r['before_kb'] / 1024:.0f} -> {r['peak_kb'] / 1024:.0f} | {load} |", flush=True)


if __name__ == "__main__":
    main()
