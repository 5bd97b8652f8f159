"""What dimensions cost: a model written over a dimension against the same model written out by hand,
and both against plain numpy, in one process run.

    python benchmarks/bench_dimensions.py                     # 10^6 samples, both sections
    python benchmarks/bench_dimensions.py --samples 1e5 --sections sum

Sections:
  fleet  priors/ai-fleet-2023-2028.toml (class x generation x cohort) against
         tests/data/ai-fleet-handwritten.toml (the same model, one parameter per cell): load and
         first-run time (the process's first run compiles the kernel), samples/s, and whether the numbers are identical
  sum    a sum of K independent lognormals over one 31-day month, K = 4, 16, 64: over a dimension
         (`sum(x, "k")`), written out (`x_0 + x_1 + ...`) and in numpy (draw (n, K), sum, exact
         np.quantile); samples/s and the median of each
The machine may be shared: the load average is printed beside the numbers.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import simulate  # noqa: E402

DAYS = 31
GSD = 2.0


def timed(f):
    start = time.perf_counter()
    value = f()
    return value, time.perf_counter() - start


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def fleet(samples: int):
    runs = {}
    for label, path in (("dimensions", ROOT / "priors" / "ai-fleet-2023-2028.toml"),
                        ("hand-written", ROOT / "tests" / "data" / "ai-fleet-handwritten.toml")):
        model, load_s = timed(lambda: simulate.load(path))
        _, first_s = timed(lambda: model.run(samples=1000, seed=0))
        ds, run_s = timed(lambda: model.run(samples=samples, seed=1))
        lines = len(path.read_text().splitlines())
        runs[label] = ds
        print(f"  {label:12s}: {lines:4d} lines, {len(model.parameters):2d} parameters ({len(model.all_parameters())} scalar); load {load_s:.2f} s, "
              f"first run {first_s:.1f} s, {samples / run_s:11,.0f} samples/s ({run_s:.2f} s)")
    a, b = runs["dimensions"], runs["hand-written"]
    shared = [v for v in a.data_vars if v in b.data_vars and v.endswith(("_monthly", "_yearly", "_total"))]
    same = [v for v in shared if np.array_equal(a[v].values, b[v].values, equal_nan=True)]
    print(f"  identical in both files: {len(same)} of {len(shared)} monthly, yearly and total variables "
          f"({', '.join(sorted(set(shared) - set(same))) or 'none differ'})")


def sum_models(k: int) -> tuple[str, str]:
    medians = np.geomspace(1.0, 100.0, k)
    head = f"[period]\nstart = 2023-01-01\nend = 2023-01-31\n"
    by_dim = (head + f"[dimensions]\nk = {list(range(k))}\n[parameters.x_kwh]\ndims = [\"k\"]\ndist = \"lognormal\"\n"
              f"median = {[float(m) for m in medians]}\ngsd = {GSD}\nunit = \"kWh\"\nsource = \"benchmark\"\n"
              "[derived]\nenergy_kwh = 'sum(x_kwh, \"k\")'\n[outputs]\nenergy_kwh = \"sum\"\n")
    by_hand = head + "".join(f"[parameters.x_{i}_kwh]\ndist = \"lognormal\"\nmedian = {float(m)}\ngsd = {GSD}\n"
                             f"unit = \"kWh\"\nsource = \"benchmark\"\n" for i, m in enumerate(medians))
    by_hand += "[derived]\nenergy_kwh = '" + " + ".join(f"x_{i}_kwh" for i in range(k)) + "'\n"
    by_hand += "[outputs]\nenergy_kwh = \"sum\"\n"
    return by_dim, by_hand


def numpy_sum(k: int, samples: int, seed: int = 1, chunk: int = 1_000_000) -> float:
    """Monthly median of the same model: K lognormals per sample, constant over the month's 31 days."""
    rng = np.random.default_rng(seed)
    mu, sigma = np.log(np.geomspace(1.0, 100.0, k)), np.log(GSD)
    monthly = np.concatenate([rng.lognormal(mu, sigma, (min(chunk, samples - i), k)).sum(axis=1) * DAYS
                              for i in range(0, samples, chunk)])
    return float(np.quantile(monthly, 0.5))


def sums(samples: int):
    with tempfile.TemporaryDirectory() as folder:
        for k in (4, 16, 64):
            rates, medians = {}, {}
            for label, text in zip(("dimension", "written out"), sum_models(k)):
                path = Path(folder) / f"sum_{k}_{label.replace(' ', '_')}.toml"
                path.write_text(text)
                model = simulate.load(path)
                model.run(samples=1000, seed=0)
                ds, run_s = timed(lambda: model.run(samples=samples, seed=1))
                rates[label] = samples / run_s
                medians[label] = float(ds["energy_kwh_monthly"].sel(quantile=0.5)[0])
            median_np, np_s = timed(lambda: numpy_sum(k, samples))
            print(f"  K = {k:2d}: dimension {rates['dimension']:11,.0f}/s, written out {rates['written out']:11,.0f}/s, "
                  f"numpy {samples / np_s:11,.0f}/s; medians {medians['dimension']:.1f}, "
                  f"{medians['written out']:.1f}, {median_np:.1f} kWh")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=float, default=1e6)
    parser.add_argument("--sections", default="fleet,sum")
    args = parser.parse_args()
    samples, sections = int(args.samples), args.sections.split(",")
    print(f"simulate {simulate.__version__}, {samples:,} samples, {os.cpu_count()} cores, load average {load_average()}")
    if "fleet" in sections:
        print("[fleet] the dimensioned fleet against the same fleet written out by hand")
        fleet(samples)
    if "sum" in sections:
        print("[sum] a sum of K lognormals over a dimension, written out, and in numpy")
        sums(samples)


if __name__ == "__main__":
    main()
