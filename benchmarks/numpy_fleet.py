"""The AI-fleet model at monthly resolution in plain, vectorised numpy: what a careful user writes.

priors/ai-fleet-2023-2028.toml as a cohort model over an (samples, months) array: each month's
decimal year at its middle, the accelerators of cohort Y in service as shipped_Y x [ramp(t - lag - Y)
- ramp(t - lag - Y - lifetime)], power by generation (two cohorts each), server overhead, power
over nameplate and PUE; a grid intensity declining exponentially from mid-2024; water and amortised
embodied carbon. A month's total is its daily value times its days; yearly and whole-period totals
are sums of months (the installed base: means weighted by days). The priors are read from the model
file (so the twin follows its numbers) and drawn with numpy's Generator; shipments 2024-2028 are
rank-correlated 0.7^|i-j| through a Gaussian copula (Pearson 2 sin(pi rho / 6) on normal scores).
Every monthly, yearly and whole-period output is histogrammed into 256 log2 bins per octave, as the
engine does (window from the first chunk), and quantiles are read from the counts.
Single-threaded, chunks of samples (memory bounded).
"""
from __future__ import annotations

import calendar as stdlib_calendar
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from numpy_baseline import LogHistogram  # noqa: E402

import simulate  # noqa: E402  (the model file's priors only: no numba, no kernel)

FLEET = ROOT / "priors" / "ai-fleet-2023-2028.toml"
OUTPUTS = {"energy_kwh": "sum", "co2_kg": "sum", "water_l": "sum", "embodied_co2_kg": "sum",
           "it_energy_kwh": "sum", "installed_accelerators": "mean"}
GENERATION_OF_COHORT = {2021: 2021, 2022: 2021, 2023: 2023, 2024: 2023, 2025: 2025, 2026: 2025, 2027: 2027, 2028: 2027}
CHUNK = 4_096           # the fastest of 4,096 / 16,384 / 65,536 on the development machine


def draw(rng, dist, n: int, z=None) -> np.ndarray:
    """``n`` draws of a model-file distribution with numpy (``z``: normal scores, for a lognormal)."""
    p = dist.params
    if dist.family == "fixed":
        return np.full(n, p["value"])
    if dist.family == "lognormal":
        return np.exp(p["mu"] + p["sigma"] * (rng.standard_normal(n) if z is None else z))
    if dist.family in ("pert", "beta"):
        a, b = dist.beta_shapes()
        return p["min"] + (p["max"] - p["min"]) * rng.beta(a, b, n)
    if dist.family == "triangular":
        return rng.triangular(p["min"], p["mode"], p["max"], n)
    if dist.family == "uniform":
        return rng.uniform(p["min"], p["max"], n)
    raise NotImplementedError(dist.family)


def month_calendar(period):
    """Each month's decimal year at its middle, its days, and the index of its year."""
    mids, days, years = [], [], []
    y, m = period.start.year, period.start.month
    while (y, m) <= (period.end.year, period.end.month):
        n = stdlib_calendar.monthrange(y, m)[1]
        year_days = 366 if stdlib_calendar.isleap(y) else 365
        day_of_year = sum(stdlib_calendar.monthrange(y, k)[1] for k in range(1, m))
        mids.append(y + (day_of_year + n / 2) / year_days)
        days.append(n)
        years.append(y)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    years = np.array(years)
    return np.array(mids), np.array(days, dtype=float), np.searchsorted(np.unique(years), years)


class Fleet:
    """The model file's priors, ready to draw."""

    def __init__(self, path=FLEET):
        model = simulate.load(path)
        self.model = model
        self.params = {p.name: p.dist for p in model.all_parameters()}
        self.t, self.days, self.year_of_month = month_calendar(model.period)
        self.n_years = int(self.year_of_month.max()) + 1
        self.days_per_year = np.bincount(self.year_of_month, weights=self.days)
        self.correlated = [f"shipped[{y}]" for y in (2024, 2025, 2026, 2027, 2028)]
        k = np.arange(len(self.correlated))
        spearman = 0.7 ** np.abs(k[:, None] - k[None, :])
        self.cholesky = np.linalg.cholesky(2 * np.sin(np.pi * spearman / 6))

    def monthly(self, rng, n: int) -> dict:
        """Monthly totals (means for the installed base) ``{output: (n, months)}`` for ``n`` samples."""
        P = self.params
        z = rng.standard_normal((n, len(self.correlated))) @ self.cholesky.T
        shipped = {y: draw(rng, P[f"shipped[{y}]"], n, z[:, self.correlated.index(f"shipped[{y}]")]
                           if f"shipped[{y}]" in self.correlated else None) for y in GENERATION_OF_COHORT}
        lag, life = draw(rng, P["install_lag_years"], n), draw(rng, P["lifetime_years"], n)
        power = {g: draw(rng, P[f"power_w[{g}]"], n) for g in sorted(set(GENERATION_OF_COHORT.values()))}
        overhead, utilisation, pue = (draw(rng, P[k], n) for k in ("server_overhead_factor", "power_utilisation", "pue"))
        grid_2024, decline = draw(rng, P["grid_2024_g_per_kwh"], n), draw(rng, P["grid_decline_per_year"], n)
        wue, offsite = draw(rng, P["wue_onsite_l_per_kwh"], n), draw(rng, P["offsite_water_l_per_kwh"], n)
        embodied = draw(rng, P["accelerator_embodied_kg"], n)

        t_online = self.t[None, :] - lag[:, None]
        installed = np.zeros((n, len(self.t)))
        watts = np.zeros((n, len(self.t)))
        for cohort, generation in GENERATION_OF_COHORT.items():
            since = t_online - cohort
            active = shipped[cohort][:, None] * (np.clip(since, 0, 1) - np.clip(since - life[:, None], 0, 1))
            installed += active
            watts += active * power[generation][:, None]
        it_day = watts * (overhead * utilisation * 24 / 1000)[:, None]
        energy_day = it_day * pue[:, None]
        grid = grid_2024[:, None] * np.exp(-decline[:, None] * (self.t[None, :] - 2024.5))
        days = self.days[None, :]
        return {"energy_kwh": energy_day * days, "it_energy_kwh": it_day * days,
                "co2_kg": energy_day * grid / 1000 * days,
                "water_l": (it_day * wue[:, None] + energy_day * offsite[:, None]) * days,
                "embodied_co2_kg": installed * (embodied / (life * 365.25))[:, None] * days,
                "installed_accelerators": installed}

    def cells(self, name: str, monthly: np.ndarray) -> np.ndarray:
        """Months, then years, then the whole period: ``(n, months + years + 1)``."""
        weights = self.days if OUTPUTS[name] == "mean" else np.ones_like(self.days)
        by_year = np.stack([(monthly[:, self.year_of_month == y] * weights[self.year_of_month == y]).sum(axis=1)
                            for y in range(self.n_years)], axis=1)
        total = by_year.sum(axis=1, keepdims=True)
        if OUTPUTS[name] == "mean":
            by_year, total = by_year / self.days_per_year, total / self.days.sum()
        return np.concatenate([monthly, by_year, total], axis=1)


def run(samples: int, seed: int = 0, chunk: int = CHUNK, path=FLEET) -> dict:
    """Quantiles ``{output: {"monthly": (7, months), "yearly": (7, years), "total": (7,), "mean": cells}}``."""
    fleet = Fleet(path)
    rng = np.random.default_rng(seed)
    hists, sums, done = {}, {}, 0
    while done < samples:
        n = min(chunk, samples - done)
        for name, monthly in fleet.monthly(rng, n).items():
            cells = fleet.cells(name, monthly)
            if name not in hists:
                hists[name], sums[name] = LogHistogram(cells), np.zeros(cells.shape[1])
            hists[name].add(cells)
            sums[name] += cells.sum(axis=0)
        done += n
    months, years = len(fleet.t), fleet.n_years
    out = {}
    for name, hist in hists.items():
        q = hist.quantiles()
        out[name] = {"monthly": q[:, :months], "yearly": q[:, months:months + years], "total": q[:, -1],
                     "mean": sums[name] / samples}
    return out


if __name__ == "__main__":
    import time

    n = int(float(sys.argv[1])) if len(sys.argv) > 1 else 100_000
    for size in (4_096, 16_384, 65_536):
        wall, cpu = time.perf_counter(), time.process_time()
        res = run(n, seed=1, chunk=size)
        print(f"chunk {size:>6,}: {n:,} samples in {time.perf_counter() - wall:.2f} s ({time.process_time() - cpu:.2f} s CPU), "
              f"{n / (time.perf_counter() - wall):,.0f} samples/s; energy 2028 median "
              f"{res['energy_kwh']['yearly'][3, -1] / 1e9:.1f} TWh")
