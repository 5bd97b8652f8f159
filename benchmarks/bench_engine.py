"""Engine against the plain numpy baseline on the ChatGPT January 2023 model, in one process run.

    python benchmarks/bench_engine.py                       # 10^7 samples, every section
    python benchmarks/bench_engine.py --samples 1e6 --rss 1e6,1e7 --sections speed,rss

Sections:
  speed      engine and numpy baseline on the same model and sample count: samples/s and ratio
             (wall clock, and CPU seconds over all threads); compilation excluded and reported apart
  compile    a fresh process with an empty Numba cache (cold), then a second one reusing it (cached)
  rss        peak resident memory of one run per sample count, each in its own process
  breakdown  where the engine's time goes: kernel variants (draws only; draws + evaluation without
             histograms; everything) and evaluate_draws on given inputs, against Model.run
  cluster    dask LocalCluster with 1 and 2 single-threaded worker processes
BENCH_MODEL=path.toml runs another model file (the numpy baseline exists for the ChatGPT model only).
The machine may be shared: the load average is printed beside the numbers.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
PRIORS = os.environ.get("BENCH_MODEL", str(ROOT / "priors" / "chatgpt-2023-01.toml"))

import numpy_baseline  # noqa: E402

import simulate  # noqa: E402


def timed(f):
    wall, cpu = time.perf_counter(), time.process_time()
    value = f()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def speed(samples: int, rows: list):
    model = simulate.load(PRIORS)
    _, compile_s, _ = timed(lambda: model.run(samples=1000, seed=0))
    ds, e_wall, e_cpu = timed(lambda: model.run(samples=samples, seed=1))
    if "BENCH_MODEL" in os.environ:  # the numpy twin implements the ChatGPT model only
        print(f"[speed] {PRIORS}: {samples / e_wall:,.0f} samples/s ({e_wall:.2f} s wall, {e_cpu:.2f} s CPU); "
              "no numpy baseline for this model")
        rows.append(("engine samples/s (wall)", f"{samples / e_wall:,.0f}"))
        return
    base, b_wall, b_cpu = timed(lambda: numpy_baseline.run(samples, seed=1))
    _, p_wall, p_cpu = timed(lambda: numpy_baseline.run(samples, seed=1, profile=True))
    e_rate, b_rate, p_rate = samples / e_wall, samples / b_wall, samples / p_wall
    print(f"[speed] {samples:,} samples, load average {load_average()}")
    print(f"  engine : {e_rate:12,.0f} samples/s  ({e_wall:.2f} s wall, {e_cpu:.2f} s CPU; first call in this process {compile_s:.2f} s)")
    print(f"  numpy  : {b_rate:12,.0f} samples/s  ({b_wall:.2f} s wall, {b_cpu:.2f} s CPU), 31 daily histograms per output")
    print(f"  ratio  : {e_rate / b_rate:.1f}x wall, {b_cpu / e_cpu:.1f}x CPU time")
    print(f"  numpy, days scaled from the month (profile=True): {p_rate:,.0f} samples/s ({p_wall:.2f} s wall, "
          f"{p_cpu:.2f} s CPU); engine / it {e_rate / p_rate:.1f}x wall, {p_cpu / e_cpu:.1f}x CPU time")
    med_e = float(ds["energy_kwh_monthly"].sel(quantile=0.5)[0])
    med_b = float(base["energy_kwh"]["monthly"][3])
    print(f"  check  : energy_kwh monthly median engine {med_e / 1e6:.4f} GWh, numpy {med_b / 1e6:.4f} GWh")
    rows += [("engine samples/s (wall)", f"{e_rate:,.0f}"), ("numpy samples/s (wall)", f"{b_rate:,.0f}"),
             ("engine / numpy (wall)", f"{e_rate / b_rate:.1f}x"), ("engine / numpy (CPU time)", f"{b_cpu / e_cpu:.1f}x"),
             ("numpy with days scaled from the month, samples/s (wall)", f"{p_rate:,.0f}"),
             ("engine / that numpy (wall, CPU time)", f"{e_rate / p_rate:.1f}x, {p_cpu / e_cpu:.1f}x")]


CHILD_COMPILE = """
import json, time, simulate
t = time.perf_counter(); model = simulate.load({priors!r}); model.run(samples=1000, seed=0); first = time.perf_counter() - t
t = time.perf_counter(); model.run(samples=1000, seed=0); second = time.perf_counter() - t
print(json.dumps({{"first": first, "second": second}}))
"""

CHILD_RSS = """
import json, resource, time, simulate
model = simulate.load({priors!r}); model.run(samples=1000, seed=0)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter(); model.run(samples={samples}, seed=1); wall = time.perf_counter() - t
print(json.dumps({{"before_kb": before, "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "wall": wall}}))
"""


def child(code: str, env=None) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    return json.loads(out.stdout.strip().splitlines()[-1])


def compile_times(rows: list):
    with tempfile.TemporaryDirectory() as cache:
        env = {"NUMBA_CACHE_DIR": cache}
        cold = child(CHILD_COMPILE.format(priors=PRIORS), env)
        cached = child(CHILD_COMPILE.format(priors=PRIORS), env)
    # first call minus a second identical call: what compilation (or loading the cache) costs
    cold_s, cached_s = cold["first"] - cold["second"], cached["first"] - cached["second"]
    print(f"[compile] load average {load_average()}")
    print(f"  cold   : {cold_s:.1f} s (first 1000-sample run {cold['first']:.1f} s)")
    print(f"  cached : {cached_s:.2f} s (first 1000-sample run {cached['first']:.2f} s)")
    rows += [("compile, cold (empty cache)", f"{cold_s:.1f} s"), ("compile, cached (second process)", f"{cached_s:.2f} s")]


def peak_rss(counts, rows: list):
    print(f"[rss] load average {load_average()}")
    for n in counts:
        r = child(CHILD_RSS.format(priors=PRIORS, samples=n))
        print(f"  {n:>13,} samples: peak RSS {r['peak_kb'] / 1024:.0f} MB (after import and warm-up "
              f"{r['before_kb'] / 1024:.0f} MB), run {r['wall']:.1f} s, {n / r['wall']:,.0f} samples/s")
        rows.append((f"peak RSS at {n:.0e} samples", f"{r['peak_kb'] / 1024:.0f} MB ({n / r['wall']:,.0f} samples/s)"))


def breakdown(rows: list, samples: int = 1 << 21):
    from simulate.engine import runner
    from simulate.engine.compiler import compile_model
    from simulate.engine.histogram import Windows

    model = simulate.load(PRIORS)
    p = compile_model(model)
    e = p.evaluation
    shape = (p.n_outputs, p.n_times)   # days, months, years and the period total
    sizes = runner.block_sizes(samples)
    _, st, ex = runner.reduce_range(p, Windows.empty(shape), 1, sizes[:1], 0)
    windows = Windows.from_pilot(st[0], ex[0])
    draws_only = p.only_outputs([0]).with_evaluation(sample_len=0, month_len=e.month_len * 0, day_len=e.day_len * 0)
    x = model.run(samples=len(sizes) * 512, seed=1, keep=len(sizes) * 512)["inputs"].values
    x = np.tile(x, (samples // len(x), 1))
    monthly = np.empty((len(x), shape[0], p.n_months))
    variants = [
        ("draws only (RNG)", lambda: runner.reduce_range(draws_only, Windows.empty((1, shape[1])), 1, sizes, 0)),
        ("draws + evaluation + sums", lambda: runner.reduce_range(p, Windows.empty(shape), 1, sizes, 0)),
        ("draws + evaluation + sums + histograms", lambda: runner.reduce_range(p, windows, 1, sizes, 0)),
        ("evaluate_draws on given inputs", lambda: runner.evaluate_draws(p, x, np.empty((0, shape[0], 1)), monthly)),
        ("Model.run (pilot, merge, Dataset)", lambda: model.run(samples=samples, seed=1)),
    ]
    print(f"[breakdown] {samples:,} samples, best of 3, load average {load_average()}")
    results = {}
    for label, f in variants:
        f()
        best = min((timed(f) for _ in range(3)), key=lambda r: r[1])
        results[label] = best
        print(f"  {label:<40} {best[1] / samples * 1e9:7.0f} ns/sample wall  {best[2] / samples * 1e9:7.0f} CPU-ns/sample")
    # parts from CPU time summed over threads: less disturbed by other processes than wall time
    cpu = {k: v[2] / samples * 1e9 for k, v in results.items()}
    parts = {"RNG draws": cpu["draws only (RNG)"],
             "expression evaluation, sums and min/max": cpu["draws + evaluation + sums"] - cpu["draws only (RNG)"],
             "histogram reduction": cpu["draws + evaluation + sums + histograms"] - cpu["draws + evaluation + sums"],
             "Python (pilot, merge, Dataset)": cpu["Model.run (pilot, merge, Dataset)"]
             - cpu["draws + evaluation + sums + histograms"]}
    # evaluate_draws (sensitivity's path) also copies the inputs in and every monthly output out
    for k, v in parts.items():
        print(f"  -> {k:<36} {v:7.0f} CPU-ns/sample")
        rows.append((f"CPU time in {k}", f"{v:.0f} ns/sample"))


CLUSTER_CHILD = """
import json, time, simulate
from simulate.engine.distributed import local_cluster
if __name__ == "__main__":
    model = simulate.load({priors!r})
    client, cluster = local_cluster({workers})
    client.wait_for_workers({workers})
    client.run(lambda: simulate.load({priors!r}).run(samples=1000))
    model.run(samples=600_000, seed=0, client=client)
    t = time.perf_counter(); model.run(samples={samples}, seed=1, client=client); wall = time.perf_counter() - t
    client.close(); cluster.close()
    print(json.dumps({{"wall": wall}}))
"""


def cluster(samples: int, rows: list):
    print(f"[cluster] {samples:,} samples, load average {load_average()}")
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "cluster_run.py"
        for workers in (1, 2):
            script.write_text(CLUSTER_CHILD.format(priors=PRIORS, workers=workers, samples=samples))
            out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True, cwd=ROOT,
                                 env={**os.environ, "PYTHONPATH": str(ROOT)})
            wall = json.loads(out.stdout.strip().splitlines()[-1])["wall"]
            print(f"  {workers} worker(s): {samples / wall:,.0f} samples/s ({wall:.1f} s)")
            rows.append((f"LocalCluster, {workers} worker process(es)", f"{samples / wall:,.0f} samples/s"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=float, default=1e7)
    parser.add_argument("--rss", default="1e6,1e7,1e8", help="sample counts for peak RSS, comma-separated")
    parser.add_argument("--cluster-samples", type=float, default=4e6)
    parser.add_argument("--sections", default="speed,compile,rss,breakdown,cluster")
    args = parser.parse_args(argv)
    sections = args.sections.split(",")
    rows = [("measured", dt.datetime.now().isoformat(timespec="minutes")),
            ("machine", f"{os.cpu_count()} cores, load average at start {load_average()}")]
    if "speed" in sections:
        speed(int(args.samples), rows)
    if "compile" in sections:
        compile_times(rows)
    if "rss" in sections:
        peak_rss([int(float(n)) for n in args.rss.split(",")], rows)
    if "breakdown" in sections:
        breakdown(rows)
    if "cluster" in sections:
        cluster(int(args.cluster_samples), rows)
    print("\n| measure | value |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
