"""The AI-fleet model at monthly resolution in plain, vectorised numpy: what a careful user writes.

priors/ai-fleet-2023-2028.toml (as rebuilt in issue 13) as a cohort model over (samples, months)
arrays. Each month is evaluated once at its mid-month decimal year and weighted by its days, as the
engine does at ``resolution = "month"``:

- shipments ``shipped[class, cohort]`` (6 x 9 lognormals) and TDP ``power_w[class, cohort]`` (6 x 9
  PERTs); cohort Y comes online evenly over its year after the lag and retires one lifetime later,
  ``in_service[Y](t) = ramp(t - lag - Y) - ramp(t - lag - Y - lifetime)``, ``ramp(x) = min(max(x, 0), 1)``;
- the fleet's mean power over TDP: one PERT per ``util_year``, linear between mid-year values and
  flat before mid-2023 and after mid-2028 (the year weights depend on the month only, so they are a
  fixed ``(years, months)`` matrix and the month's value is one matrix product);
- IT energy (x server overhead), facility energy (x PUE); CO2 from the Dirichlet region shares
  (concentration x share) times each region's EcoLogits grid intensity (lognormals the dataset
  references resolve to), declining exponentially from mid-2024; water on site (WUE x IT energy)
  and off site (share-weighted generation water x facility energy); embodied carbon amortised over
  the lifetime.

Every prior is read from the model file through ``simulate.load`` (the flat cells of
``model.all_parameters()``, the region intensities and shares of ``model.regions``/``model.shares``,
the rank correlations of ``model.correlations``), so the twin follows the file's numbers; nothing of
the engine runs. Draws use numpy's Generator; correlated cells (shipments 2024-2028 within each
class at 0.7^k, utilisation over the six years at 0.8^k) go through a Gaussian copula, normal
correlation 2 sin(pi r / 6) (Pearson 1907) on normal scores: a lognormal takes the score directly,
a PERT its Beta quantile (scipy.special.betaincinv). A month's total is its daily value times its
days; yearly and whole-period totals are sums of months, the installed base a day-weighted mean.
Every monthly, yearly and whole-period cell of every output is histogrammed into 256 log2 bins per
octave as the engine does (numpy_baseline.LogHistogram, window from the first chunk), with sums for
the means, and quantiles are read from the counts. Single-threaded, in chunks of samples.

    python benchmarks/numpy_fleet.py            # the twin's rate at 10^5 samples by chunk size, and where its time goes
    python benchmarks/numpy_fleet.py --check    # the twin against Model.run: quantiles within Monte Carlo error
"""
from __future__ import annotations

import argparse
import calendar as stdlib_calendar
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy import special

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from numpy_baseline import QUANTILES, LogHistogram  # noqa: E402

import simulate  # noqa: E402  (the model file's priors only: no numba, no kernel)

FLEET = ROOT / "priors" / "ai-fleet-2023-2028.toml"
OUTPUTS = {"energy_kwh": "sum", "co2_kg": "sum", "water_l": "sum", "embodied_co2_kg": "sum",
           "it_energy_kwh": "sum", "accelerator_energy_kwh": "sum", "installed_accelerators": "mean"}
CHUNK = 2_048           # the fastest (CPU s) of 1,024 / 2,048 / 4,096 / 8,192 / 16,384 / 65,536 here: (2,048, 72) arrays stay in cache
STAGES = ("draws", "months", "cells", "histograms")
SCORES = np.linspace(-8.5, 8.5, 4_097)    # normal scores where a copula's Beta quantiles are tabulated


def pearson_of_rank(rank):
    """The normal correlation whose Spearman rank correlation is ``rank`` (Pearson 1907)."""
    return 2 * np.sin(np.pi * np.asarray(rank, float) / 6)


def month_calendar(period):
    """Each month's decimal year at its middle, its days in the period, and the index of its year."""
    mids, days, years = [], [], []
    y, m = period.start.year, period.start.month
    while (y, m) <= (period.end.year, period.end.month):
        first = max(period.start, period.start.replace(year=y, month=m, day=1))
        last = min(period.end, first.replace(day=stdlib_calendar.monthrange(y, m)[1]))
        n = (last - first).days + 1
        year_days = 366 if stdlib_calendar.isleap(y) else 365
        mids.append(y + (first.timetuple().tm_yday - 1 + n / 2) / year_days)
        days.append(n)
        years.append(y)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    years = np.array(years)
    return np.array(mids), np.array(days, dtype=float), np.searchsorted(np.unique(years), years)


class Law:
    """Cells of one family as arrays (any shape): what numpy needs to draw all of them at once."""

    def __init__(self, dists, shape):
        families = {d.family for d in dists}
        if len(families) != 1:
            raise NotImplementedError(f"cells of several families: {families}")
        self.family, self.shape = families.pop(), shape
        p = lambda key: np.array([d.params[key] for d in dists], float).reshape(shape)  # noqa: E731
        if self.family == "lognormal":
            self.mu, self.sigma = p("mu"), p("sigma")
        elif self.family in ("pert", "beta"):
            shapes = np.array([d.beta_shapes() for d in dists], float)
            self.a, self.b = shapes[:, 0].reshape(shape), shapes[:, 1].reshape(shape)
            self.low, self.span = p("min"), p("max") - p("min")
        elif self.family == "triangular":
            self.low, self.mode, self.high = p("min"), p("mode"), p("max")
        elif self.family == "fixed":
            self.value = p("value")
        else:
            raise NotImplementedError(self.family)

    def draw(self, rng, n: int) -> np.ndarray:
        """``(n, *shape)`` independent draws."""
        size = (n,) + self.shape
        if self.family == "lognormal":
            return np.exp(self.mu + self.sigma * rng.standard_normal(size))
        if self.family in ("pert", "beta"):
            return self.low + self.span * rng.beta(self.a, self.b, size)
        if self.family == "triangular":
            return rng.triangular(self.low, self.mode, self.high, size)
        return np.broadcast_to(self.value, size).copy()

    def from_scores(self, z: np.ndarray, where) -> np.ndarray:
        """The cells at ``where`` (an index into ``shape``) from their normal scores ``z`` (..., cells)."""
        if self.family == "lognormal":
            return np.exp(self.mu[where] + self.sigma[where] * z)
        if self.family in ("pert", "beta"):   # the Beta quantile of each cell, tabulated once over normal scores
            table = self.score_table()[where]                                  # (cells, SCORES)
            return np.stack([np.interp(z[..., k], SCORES, table[k]) for k in range(table.shape[0])], axis=-1)
        raise NotImplementedError(f"a copula on a {self.family}")

    def score_table(self) -> np.ndarray:
        """``(*shape, len(SCORES))``: each cell's value at each normal score of :data:`SCORES`.

        scipy.special.betaincinv costs about 2 us a value (half the twin's time when called per
        draw); interpolated in this table it is within 2e-7 of the range (checked against it at 1.2 million scores).
        """
        if not hasattr(self, "_table"):
            u = special.ndtr(SCORES)
            self._table = self.low[..., None] + self.span[..., None] * special.betaincinv(
                self.a[..., None], self.b[..., None], u)
        return self._table


class Grid:
    """A parameter over dimensions: its law, and the Cholesky factor of each correlated block of cells."""

    def __init__(self, names, dists, shape, correlations):
        self.names, self.law = np.array(names).reshape(shape), Law(dists, shape)
        position = {name: np.unravel_index(i, shape) for i, name in enumerate(names)}
        self.blocks = []                   # (index of the block's cells into shape, Cholesky factor)
        for block in _connected([c.between for c in correlations if c.between[0] in position]):
            normal = np.eye(len(block))
            for c in correlations:
                if c.between[0] in block:
                    i, j = block.index(c.between[0]), block.index(c.between[1])
                    normal[i, j] = normal[j, i] = pearson_of_rank(c.rank)
            where = tuple(np.array(ix) for ix in zip(*(position[name] for name in block)))
            self.blocks.append((where, np.linalg.cholesky(normal)))

    def draw(self, rng, n: int) -> np.ndarray:
        """``(n, *shape)`` draws, the correlated blocks through the Gaussian copula."""
        if self.law.family == "lognormal":     # the correlated cells' scores replace independent ones
            z = rng.standard_normal((n,) + self.law.shape)
            for where, cholesky in self.blocks:
                z[(slice(None),) + where] = z[(slice(None),) + where] @ cholesky.T
            return np.exp(self.law.mu + self.law.sigma * z)
        x = self.law.draw(rng, n)
        for where, cholesky in self.blocks:
            z = rng.standard_normal((n, cholesky.shape[0])) @ cholesky.T
            x[(slice(None),) + where] = self.law.from_scores(z, where)
        return x


def _connected(pairs):
    """The connected groups of names that ``pairs`` link, each in first-seen order."""
    groups = []
    for a, b in pairs:
        hit = [g for g in groups if a in g or b in g]
        merged = [x for g in hit for x in g]
        merged += [x for x in (a, b) if x not in merged]
        groups = [g for g in groups if g not in hit] + [merged]
    return groups


class Fleet:
    """The model file's priors and calendar, ready to draw and evaluate month by month."""

    def __init__(self, path=FLEET):
        model = simulate.load(path)
        self.model = model
        dims = model.dimensions
        self.classes, self.cohorts = dims["accelerator"].coords, np.array(dims["cohort"].coords, float)
        self.util_years = np.array(dims["util_year"].coords, float)
        flat = {p.name: p.dist for p in model.all_parameters()}
        correlations = model.correlations

        def grid(name):
            p = model.parameters[name]
            names = [c.name for c in p.cells]
            return Grid(names, [flat[x] for x in names], tuple(len(dims[d].coords) for d in p.dims), correlations)

        self.shipped, self.power_w = grid("shipped"), grid("power_w")
        self.utilisation, self.offsite_water = grid("power_utilisation"), grid("offsite_water_l_per_kwh")
        regions = model.regions.regions
        self.grid_intensity = Grid([r.intensity.name for r in regions], [r.intensity.dist for r in regions],
                                   (len(regions),), correlations)
        shares = model.shares["region_share"]
        if [f"share_{r.name}" for r in regions] != list(shares.names) or shares.mode != "dirichlet":
            raise NotImplementedError("the twin expects Dirichlet region shares in the order of [regions]")
        self.alpha = shares.concentration * np.array(shares.shares)
        self.scalars = {name: Law([flat[name]], ()) for name in (
            "install_lag_years", "lifetime_years", "server_overhead_factor", "pue", "grid_decline_per_year",
            "wue_onsite_l_per_kwh", "accelerator_embodied_kg")}

        self.t, self.days, self.year_of_month = month_calendar(model.period)
        self.n_years = int(self.year_of_month.max()) + 1
        self.days_per_year = np.bincount(self.year_of_month, weights=self.days)
        self.year_starts = np.searchsorted(self.year_of_month, np.arange(self.n_years))
        ramp = lambda x: np.clip(x, 0, 1)  # noqa: E731
        # year_weight[y](t) and the flat ends before mid-2023 and after mid-2028: fixed by the month
        weights = ramp(self.t[None, :] - self.util_years[:, None] + 0.5) - ramp(self.t[None, :] - self.util_years[:, None] - 0.5)
        weights[0] += 1 - ramp(self.t - (self.util_years[0] - 0.5))
        weights[-1] += ramp(self.t - (self.util_years[-1] + 0.5))
        self.year_weights = weights                         # (util years, months)
        self.trend_years = self.t - 2024.5                  # grid_trend's time since mid-2024

    def draw(self, rng, n: int) -> dict:
        """Every input for ``n`` samples: grids as ``(n, *dims)``, scalars as ``(n,)``."""
        x = {name: law.draw(rng, n) for name, law in self.scalars.items()}
        x["shipped"], x["power_w"] = self.shipped.draw(rng, n), self.power_w.draw(rng, n)
        x["power_utilisation"] = self.utilisation.draw(rng, n)
        x["grid_g_per_kwh"] = self.grid_intensity.draw(rng, n)
        x["offsite_water_l_per_kwh"] = self.offsite_water.draw(rng, n)
        x["region_share"] = rng.dirichlet(self.alpha, n)
        return x

    def monthly(self, x: dict) -> dict:
        """Monthly totals (the installed base: monthly means) ``{output: (n, months)}`` from the inputs."""
        lag, life = x["install_lag_years"][:, None], x["lifetime_years"][:, None]
        cohort_shipped = x["shipped"].sum(axis=1)                         # (n, cohorts)
        cohort_tdp_w = (x["shipped"] * x["power_w"]).sum(axis=1)
        t_online = self.t[None, :] - lag
        installed, watts = np.zeros_like(t_online), np.zeros_like(t_online)
        in_service, retired, term = np.empty_like(t_online), np.empty_like(t_online), np.empty_like(t_online)
        for c, cohort in enumerate(self.cohorts):     # in place: the loop's temporaries cost more than its sums
            np.subtract(t_online, cohort, out=in_service)
            np.subtract(in_service, life, out=retired)
            np.clip(in_service, 0, 1, out=in_service)
            in_service -= np.clip(retired, 0, 1, out=retired)
            installed += np.multiply(in_service, cohort_shipped[:, c, None], out=term)
            watts += np.multiply(in_service, cohort_tdp_w[:, c, None], out=term)
        accelerator_day = watts * (x["power_utilisation"] @ self.year_weights) * (24 / 1000)
        it_day = accelerator_day * x["server_overhead_factor"][:, None]
        energy_day = it_day * x["pue"][:, None]
        share = x["region_share"]
        grid = (share * x["grid_g_per_kwh"]).sum(axis=1)[:, None] * np.exp(
            -x["grid_decline_per_year"][:, None] * self.trend_years[None, :])
        offsite = (share * x["offsite_water_l_per_kwh"]).sum(axis=1)[:, None]
        days = self.days[None, :]
        return {"energy_kwh": energy_day * days, "co2_kg": energy_day * grid * (days / 1000),
                "water_l": (it_day * x["wue_onsite_l_per_kwh"][:, None] + energy_day * offsite) * days,
                "embodied_co2_kg": installed * (x["accelerator_embodied_kg"] / (life[:, 0] * 365.25))[:, None] * days,
                "it_energy_kwh": it_day * days, "accelerator_energy_kwh": accelerator_day * days,
                "installed_accelerators": installed}

    def cells(self, name: str, monthly: np.ndarray) -> np.ndarray:
        """Months, then years, then the whole period: ``(n, months + years + 1)``."""
        mean = OUTPUTS[name] == "mean"
        by_year = np.add.reduceat(monthly * self.days if mean else monthly, self.year_starts, axis=1)
        total = by_year.sum(axis=1, keepdims=True)
        if mean:
            by_year, total = by_year / self.days_per_year, total / self.days.sum()
        return np.concatenate([monthly, by_year, total], axis=1)


def run(samples: int, seed: int = 0, chunk: int = CHUNK, path=FLEET, timers: dict | None = None) -> dict:
    """Quantiles ``{output: {"monthly": (7, months), "yearly": (7, years), "total": (7,), "mean": cells}}``.

    ``timers`` (optional): CPU seconds of each stage (:data:`STAGES`) are added to it.
    """
    fleet = Fleet(path)
    rng = np.random.default_rng(seed)
    hists, sums, done = {}, {}, 0
    spent = dict.fromkeys(STAGES, 0.0)
    while done < samples:
        n = min(chunk, samples - done)
        clock = time.process_time()
        inputs = fleet.draw(rng, n)
        spent["draws"] += time.process_time() - clock
        clock = time.process_time()
        monthly = fleet.monthly(inputs)
        spent["months"] += time.process_time() - clock
        for name, values in monthly.items():
            clock = time.process_time()
            cells = fleet.cells(name, values)
            if name not in hists:
                hists[name], sums[name] = LogHistogram(cells), np.zeros(cells.shape[1])
            sums[name] += cells.sum(axis=0)
            middle = time.process_time()
            hists[name].add(cells)
            spent["cells"] += middle - clock
            spent["histograms"] += time.process_time() - middle
        done += n
    if timers is not None:
        for stage, seconds in spent.items():
            timers[stage] = timers.get(stage, 0.0) + seconds
    months, years = len(fleet.t), fleet.n_years
    out = {}
    for name, hist in hists.items():
        q = hist.quantiles()
        out[name] = {"monthly": q[:, :months], "yearly": q[:, months:months + years], "total": q[:, -1],
                     "mean": sums[name] / samples}
    return out


CHECKED = ("energy_kwh", "co2_kg", "water_l", "installed_accelerators")
CHECKED_YEARS = (2023, 2025, 2028)
CHECKED_QUANTILES = (0.05, 0.5, 0.95)
Z_95 = 1.959963984540054


def compare(ds, twin: dict, engine_samples: int, twin_samples: int, outputs=CHECKED, years=CHECKED_YEARS,
            quantiles=CHECKED_QUANTILES) -> list[dict]:
    """The twin's yearly quantiles against the engine's Dataset ``ds``, in units of their Monte Carlo error.

    The engine's 95% order-statistic interval of a quantile gives its standard error (half-width /
    1.96); the twin's is that times sqrt(engine samples / twin samples) (sqrt(p (1 - p) / n) / density,
    the same density), so the difference has standard error ``se_engine sqrt(1 + n_engine / n_twin)``.
    The yearly mean is compared too, its error from the engine's standard deviation. Returns one row
    per (output, year, quantile or "mean"): both values, the difference over its error ``z``.
    """
    rows = []
    ds_years = ds["year"].values.astype("datetime64[Y]").astype(int) + 1970     # the engine labels years by 1 January
    year_index = {int(y): i for i, y in enumerate(ds_years)}
    for name in outputs:
        var = f"{name}_yearly"
        for year in years:
            for p in quantiles:
                k = int(np.argmin(np.abs(ds["quantile"].values - p)))
                q_index = int(np.argmin(np.abs(QUANTILES - p)))
                engine = float(ds[var].values[k, year_index[year]])
                half = (float(ds[f"{var}_ci_high"].values[k, year_index[year]])
                        - float(ds[f"{var}_ci_low"].values[k, year_index[year]])) / 2
                se = half / Z_95 * np.sqrt(1 + engine_samples / twin_samples)
                value = float(twin[name]["yearly"][q_index, year_index[year]])
                rows.append({"output": name, "year": year, "quantile": p, "engine": engine, "twin": value,
                             "relative": value / engine - 1, "z": (value - engine) / se})
            engine = float(ds[f"{var}_mean"].values[year_index[year]])       # and the mean: its error from the sd
            se = float(ds[f"{var}_std"].values[year_index[year]]) * np.sqrt(1 / engine_samples + 1 / twin_samples)
            value = float(twin[name]["mean"][twin[name]["monthly"].shape[1] + year_index[year]])
            rows.append({"output": name, "year": year, "quantile": "mean", "engine": engine, "twin": value,
                         "relative": value / engine - 1, "z": (value - engine) / se})
    return rows


def print_comparison(rows, engine_samples: int, twin_samples: int) -> None:
    """The comparison as a Markdown table, with how many cells fall outside 2 and 3 standard errors."""
    print(f"\nyearly quantiles, numpy twin ({twin_samples:,} samples) against `Model.run` ({engine_samples:,}); "
          "z = difference / its Monte Carlo standard error\n")
    print("| output | year | quantile or mean | engine | twin | twin / engine - 1 | z |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['output']} | {r['year']} | {r['quantile']} | {r['engine']:.5g} | {r['twin']:.5g} | "
              f"{r['relative']:+.2%} | {r['z']:+.2f} |")
    z = np.abs([r["z"] for r in rows])
    print(f"\n{len(z)} cells: largest |z| {z.max():.2f}, {int((z > 2).sum())} above 2 (about {0.0455 * len(z):.1f} "
          f"expected by chance), {int((z > 3).sum())} above 3: "
          + ("the twin is the same model within Monte Carlo error" if (z > 3).sum() == 0 and (z > 2).sum() <= max(3, 0.15 * len(z))
             else "more than Monte Carlo error usually gives (the cells share samples, so they move together): "
                  "rerun with other seeds, and compare two engine seeds the same way, before concluding"))


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def _rates(samples: int, chunks) -> None:
    print("| chunk | samples | wall s | CPU s | samples/s (wall) | samples/s (CPU) | load |\n|---|---|---|---|---|---|---|")
    for size in chunks:
        wall, cpu = time.perf_counter(), time.process_time()
        run(samples, seed=1, chunk=size)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"| {size:,} | {samples:,} | {wall:.2f} | {cpu:.2f} | {samples / wall:,.0f} | {samples / cpu:,.0f} | {_load()} |",
              flush=True)
    timers = {}
    run(samples, seed=1, timers=timers)
    total = sum(timers.values())
    print(f"\nwhere the time goes at chunk {CHUNK:,} (CPU s of {samples:,} samples): "
          + ", ".join(f"{stage} {timers[stage]:.2f} ({timers[stage] / total:.0%})" for stage in STAGES))


def _check(engine_samples: int, twin_samples: int) -> None:
    model = simulate.load(FLEET)
    model.run(samples=1_000, seed=0)                     # compiles (or reads the cache)
    wall, cpu = time.perf_counter(), time.process_time()
    ds = model.run(samples=engine_samples, seed=2)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"`Model.run`, {engine_samples:,} samples: {wall:.2f} s wall, {cpu:.2f} s CPU (both cores), "
          f"{engine_samples / wall:,.0f} samples/s, load {_load()}")
    t_wall, t_cpu = time.perf_counter(), time.process_time()
    twin = run(twin_samples, seed=3)
    t_wall, t_cpu = time.perf_counter() - t_wall, time.process_time() - t_cpu
    print(f"numpy twin, {twin_samples:,} samples: {t_wall:.2f} s wall, {t_cpu:.2f} s CPU (one thread), "
          f"{twin_samples / t_wall:,.0f} samples/s, load {_load()}")
    print_comparison(compare(ds, twin, engine_samples, twin_samples), engine_samples, twin_samples)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=float, default=1e5, help="twin samples")
    parser.add_argument("--chunks", default="2048,4096,8192,16384,65536", help="chunk sizes to time")
    parser.add_argument("--check", action="store_true", help="compare with Model.run instead of timing chunks")
    parser.add_argument("--engine-samples", type=float, default=1e6, help="Model.run samples for --check")
    args = parser.parse_args(argv)
    print(f"load average at start {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    if args.check:
        _check(int(args.engine_samples), int(args.samples))
    else:
        _rates(int(args.samples), [int(c) for c in args.chunks.split(",")])


if __name__ == "__main__":
    main()
