"""The issue-17 table in one run: the fleet against its numpy twin, start-up, cold compile, Sobol.

    python benchmarks/bench_fleet.py                      # every section
    python benchmarks/bench_fleet.py --sections fleet,bands --samples 1e6

Sections (each prints rows of a Markdown table, with the load average beside each figure; the
machine may be shared):

- ``fleet``: priors/ai-fleet-2023-2028.toml with ``Model.run`` (both cores, compilation excluded by
  a warm-up) against benchmarks/numpy_fleet.py (plain single-threaded numpy at monthly resolution)
  in the same process, the twin's yearly quantiles against the engine's in units of their Monte
  Carlo error (the same model?), and the fleet end to end in a fresh process (import, cached kernel, run).
- ``bands``: the fleet at day resolution (the same file without ``resolution = "month"``) against
  month resolution, same seed, same draws: how far the coarser time step moves each monthly,
  yearly and whole-period quantile, in units of its 95% Monte Carlo half-width.
- ``startup``: ``import simulate`` and ``simulate check``, a warm ``simulate run`` of 1,000 samples,
  and ``simulate run`` at 10^7 samples of the ChatGPT model against benchmarks/numpy_baseline.py.
- ``cold``: the first run in a fresh process with an empty Numba cache (NUMBA_CACHE_DIR in a
  temporary folder), and a second process on that cache.
- ``sobol``: Sobol indices at 4,096 base samples on one month of the fleet.

Works on any checkout of the package (the one this file sits in): run it from another tree to
measure that tree.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLEET = ROOT / "priors" / "ai-fleet-2023-2028.toml"
CHATGPT = ROOT / "priors" / "chatgpt-2023-01.toml"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def load_average() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def row(*cells) -> None:
    print("| " + " | ".join(str(c) for c in cells) + " |", flush=True)


LAST_CPU = [0.0]   # CPU seconds (user + system) of the last child: less inflated by other jobs than wall


def child(code: str, env=None) -> tuple[float, str]:
    """Wall seconds of a fresh ``python -c code`` in ROOT, and its stdout (its CPU time in LAST_CPU)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env or ENV, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU[0] = after.ru_utime - used.ru_utime + after.ru_stime - used.ru_stime
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return wall, done.stdout


def best_of(k: int, code: str) -> str:
    """``wall s / CPU s``, each the best of ``k`` fresh processes."""
    walls, cpus = [], []
    for _ in range(k):
        walls.append(child(code)[0])
        cpus.append(LAST_CPU[0])
    return f"{min(walls):.2f} / {min(cpus):.2f}"


def cli(*args) -> str:
    return f"import sys; from simulate.cli import main; sys.exit(main({list(args)!r}))"


def timed(work):
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def fleet(samples: int, numpy_samples: int) -> None:
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    import numpy_fleet
    import simulate

    model = simulate.load(FLEET)
    model.run(samples=1_000, seed=0)                                   # compiles (or reads the cache)
    wall, cpu, ds = timed(lambda: model.run(samples=samples, seed=1))
    row("fleet, `Model.run`, both cores", f"{samples:,}", f"{wall:.2f}", f"{cpu:.2f}", f"{samples / wall:,.0f}",
        load_average())
    np_wall, np_cpu, twin = timed(lambda: numpy_fleet.run(numpy_samples, seed=1))
    row("fleet, numpy twin at monthly resolution, one thread", f"{numpy_samples:,}", f"{np_wall:.2f}",
        f"{np_cpu:.2f}", f"{numpy_samples / np_wall:,.0f}", load_average())
    print(f"\nengine / numpy: {samples / wall / (numpy_samples / np_wall):.1f}x wall, "
          f"{samples / cpu / (numpy_samples / np_cpu):.1f}x CPU time")
    numpy_fleet.print_comparison(numpy_fleet.compare(ds, twin, samples, numpy_samples), samples, numpy_samples)
    print()
    code = (f"import time; t = time.perf_counter(); import simulate; "
            f"simulate.load({str(FLEET)!r}).run(samples={samples}, seed=1); print(time.perf_counter() - t)")
    wall, out = child(code)
    row(f"fleet end to end in a fresh process (import, cached kernel, {samples:,} samples)", f"{samples:,}",
        f"{wall:.2f}", "", f"{samples / wall:,.0f}", load_average())


def bands(samples: int) -> None:
    import numpy as np

    sys.path.insert(0, str(ROOT))
    import simulate

    text = FLEET.read_text()
    if 'resolution = "month"' not in text:
        print("(the fleet model has no resolution key on this tree: nothing to compare)")
        return
    with tempfile.TemporaryDirectory() as folder:
        day_path = Path(folder) / "ai-fleet-day.toml"
        day_path.write_text(text.replace('resolution = "month"', ""))
        day = simulate.load(day_path)
    month = simulate.load(FLEET)
    month.run(samples=1_000, seed=0)
    t_day, _, a = timed(lambda: day.run(samples=samples, seed=7))
    t_month, _, b = timed(lambda: month.run(samples=samples, seed=7))
    print(f"{samples:,} samples, same seed: day resolution {t_day:.1f} s, month resolution {t_month:.1f} s "
          f"(load {load_average()})\n")
    row("output", "scale", "cells", "largest |month - day| / MC half-width", "median of it",
        "largest relative shift", "where")
    row(*["---"] * 7)
    for name in month.outputs:
        for scale in ("monthly", "yearly", "total"):
            var = f"{name}_{scale}"
            x, y = a[var].values, b[var].values
            half = (a[f"{var}_ci_high"].values - a[f"{var}_ci_low"].values) / 2
            live = half > 0
            z = np.abs(y - x)[live] / half[live]
            rel = np.abs(y - x)[live] / np.abs(x[live])
            if not z.size:
                continue
            where = np.unravel_index(np.argmax(np.where(live, np.abs(y - x) / np.where(live, half, 1), -1)), x.shape)
            label = ", ".join(f"{d} {str(a[var][d].values[i])[:7]}" for d, i in zip(a[var].dims, where) if d != "quantile")
            quantile = float(a["quantile"].values[where[0]])
            row(name, scale, int(live.sum()), f"{z.max():.2f}", f"{np.median(z):.2f}", f"{rel.max():.2e}",
                f"q{quantile:g} {label}")


def startup(big_samples: int, with_baseline: bool = True) -> None:
    row("`python -c pass` (the interpreter alone)", best_of(3, "pass"), load_average())
    row("`import simulate`", best_of(3, "import simulate"), load_average())
    row("`import simulate; simulate.load(fleet)`",
        best_of(3, f"import simulate; simulate.load({str(FLEET)!r})"), load_average())
    _, modules = child(f"import sys, simulate; simulate.load({str(FLEET)!r}); "
                       "print(sorted(m for m in ('numba', 'scipy.stats', 'xarray', 'netCDF4', 'dask', 'matplotlib') "
                       "if m in sys.modules))")
    row("heavy modules after `simulate.load`", modules.strip(), "")
    row("`simulate check` (ChatGPT)", best_of(3, cli("check", str(CHATGPT))), load_average())
    child(cli("run", str(CHATGPT), "--samples", "1000", "--seed", "1"))        # the cache is warm
    row("warm `simulate run` ChatGPT, 1,000 samples", best_of(3, cli("run", str(CHATGPT), "--samples", "1000", "--seed", "1")),
        load_average())
    row("warm `simulate run` fleet, 1,000 samples", best_of(3, cli("run", str(FLEET), "--samples", "1000", "--seed", "1")),
        load_average())
    wall, _ = child(cli("run", str(CHATGPT), "--samples", str(big_samples), "--seed", "1"))
    row(f"`simulate run` ChatGPT, {big_samples:,} samples, end to end", f"{wall:.2f} / {LAST_CPU[0]:.2f}",
        load_average())
    if not with_baseline:
        return
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import numpy_baseline

    np_wall, _, _ = timed(lambda: numpy_baseline.run(big_samples, seed=1))
    row(f"numpy_baseline.py, {big_samples:,} samples, in-process", f"{np_wall:.2f}", load_average())
    print(f"\n`simulate run` / numpy_baseline: {np_wall / wall:.1f}x")


COLD = ("import json, time; t0 = time.perf_counter(); import simulate; t1 = time.perf_counter(); "
        "m = simulate.load({path!r}); t2, c2 = time.perf_counter(), time.process_time(); m.run(samples=1000, seed=0); "
        "t3, c3 = time.perf_counter(), time.process_time(); m.run(samples=1000, seed=0); "
        "t4, c4 = time.perf_counter(), time.process_time(); "
        "print(json.dumps(dict(imp=t1 - t0, first=t3 - t2, second=t4 - t3, cpu=(c3 - c2) - (c4 - c3))))")


def cold() -> None:
    for path in (CHATGPT, FLEET):
        with tempfile.TemporaryDirectory() as cache:
            env = {**ENV, "NUMBA_CACHE_DIR": cache}
            for which in ("empty cache", "second process"):
                _, out = child(COLD.format(path=str(path)), env=env)
                r = json.loads(out.strip().splitlines()[-1])
                row(f"{path.stem}, {which}", f"{r['imp']:.2f}", f"{r['first']:.2f}", f"{r['second']:.2f}",
                    f"{r['first'] - r['second']:.2f}", f"{r['cpu']:.2f}", load_average())


def sobol(base_samples: int) -> None:
    sys.path.insert(0, str(ROOT))
    import simulate

    model = simulate.load(FLEET)
    model.sensitivity("energy_kwh", "sobol", samples=1024, month="2028-06")          # compiles
    wall, cpu, ds = timed(lambda: model.sensitivity("energy_kwh", "sobol", samples=base_samples, month="2028-06"))
    top = [str(p) for p in ds["parameter"].values[:3]]
    row(f"Sobol, {base_samples:,} base samples, fleet, 2028-06", f"{wall:.2f}", f"{cpu:.2f}", ", ".join(top),
        load_average())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default="fleet,bands,startup,cold,sobol")
    parser.add_argument("--samples", type=float, default=1e6, help="engine samples for the fleet")
    parser.add_argument("--numpy-samples", type=float, default=1e5, help="numpy twin samples (its rate is flat)")
    parser.add_argument("--band-samples", type=float, default=2**17)
    parser.add_argument("--cli-samples", type=float, default=1e7)
    parser.add_argument("--sobol-samples", type=int, default=4096)
    parser.add_argument("--no-baseline", action="store_true", help="skip numpy_baseline.py in the startup section")
    args = parser.parse_args(argv)
    sections = args.sections.split(",")
    print(f"tree: {ROOT}; load average at start {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    if "fleet" in sections:
        row("what", "samples", "wall s", "CPU s", "samples/s", "load")
        row(*["---"] * 6)
        fleet(int(args.samples), int(args.numpy_samples))
        print()
    if "bands" in sections:
        bands(int(args.band_samples))
        print()
    if "startup" in sections:
        row("what", "wall s / CPU s (best of 3)", "load")
        row(*["---"] * 3)
        startup(int(args.cli_samples), not args.no_baseline)
        print()
    if "cold" in sections:
        row("model, Numba cache", "import s", "first run of 1,000 s", "second run s", "compile s",
            "compile CPU s", "load")
        row(*["---"] * 7)
        cold()
        print()
    if "sobol" in sections:
        row("what", "wall s", "CPU s", "top three", "load")
        row(*["---"] * 5)
        sobol(args.sobol_samples)


if __name__ == "__main__":
    main()
