"""The ChatGPT January 2023 model in plain, vectorised numpy: what a careful user writes without `simulate`.

Same laws as priors/chatgpt-2023-01.toml (numbers copied from the file): lognormals from p5/p95,
PERT as a scaled Beta(1 + 4 (mode - min) / (max - min), ...), Beta(6, 4), Dirichlet region
shares with alpha = 10 x share; 31 days with the file's weekday shape and 2.3%/day trend; both
paths (per query and fleet), CO2 with the share-weighted grid intensity, and the two
equivalences. Samples go in chunks (memory bounded); each daily and monthly output is
histogrammed into 256 log2 bins per octave (the engine's resolution) over a window fixed by the
first chunk, and quantiles are read from the cumulative counts.
"""
from __future__ import annotations

import datetime as dt

import numpy as np

Z95 = 1.6448536269514722
QUANTILES = np.array([0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975])
BINS_PER_OCTAVE = 256
MARGIN_OCTAVES = 2
OUTPUTS = {"energy_kwh": "sum", "fleet_energy_kwh": "sum", "co2_kg": "sum", "fleet_co2_kg": "sum",
           "queries": "sum", "danish_people_equivalent": "mean", "us_households_equivalent": "mean"}
REGIONS = {  # share, PERT (min, mode, max) g/kWh
    "virginia": (0.30, (250, 350, 580)), "texas": (0.25, (330, 400, 510)), "iowa": (0.25, (290, 400, 470)),
    "arizona": (0.05, (300, 380, 450)), "washington": (0.05, (85, 180, 300)), "europe": (0.10, (250, 320, 420)),
}
CONCENTRATION = 10.0
OUTPUTS.update({f"co2_{region}_kg": "sum" for region in REGIONS})  # each region's part of co2_kg


def day_share(year=2023, month=1, weekday_weights=(1.0, 1.0, 1.0, 1.0, 0.95, 0.85, 0.85), trend_per_day=0.023):
    """Each day's share of the month: weekday weight times compound growth, normalised."""
    days = [dt.date(year, month, d) for d in range(1, 32)]
    weights = np.array([weekday_weights[d.weekday()] for d in days]) * (1 + trend_per_day) ** np.arange(31)
    return weights / weights.sum()


def lognormal_p5_p95(rng, p5, p95, n):
    mu = (np.log(p5) + np.log(p95)) / 2
    sigma = (np.log(p95) - np.log(p5)) / (2 * Z95)
    return rng.lognormal(mu, sigma, n)


def pert(rng, low, mode, high, n, lam=4.0):
    a = 1 + lam * (mode - low) / (high - low)
    b = 1 + lam * (high - mode) / (high - low)
    return low + (high - low) * rng.beta(a, b, n)


def sample_chunk(rng, n, share):
    """Daily values ``{output: (n, 31)}`` for ``n`` samples."""
    visits = lognormal_p5_p95(rng, 500e6, 700e6, n)
    queries_per_visit = lognormal_p5_p95(rng, 2, 12, n)
    scale = lognormal_p5_p95(rng, 0.12, 1.0, n)
    pue = pert(rng, 1.10, 1.18, 1.40, n)
    servers = pert(rng, 1000, 3617, 5000, n)
    utilisation = rng.beta(6, 4, n)
    intensity = np.stack([pert(rng, *r[1], n) for r in REGIONS.values()], axis=1)
    shares = rng.dirichlet(CONCENTRATION * np.array([r[0] for r in REGIONS.values()]), n)
    grid = (shares * intensity).sum(axis=1)

    queries = (visits * queries_per_visit)[:, None] * share[None, :]
    energy = queries * (914 / 230768 * scale * pue)[:, None]
    fleet = np.broadcast_to((servers * 6.5 * utilisation * 24 * pue)[:, None], (n, 31))
    by_region = {f"co2_{region}_kg": energy * (shares[:, r] * intensity[:, r] / 1000)[:, None]
                 for r, region in enumerate(REGIONS)}
    return {
        **by_region,
        "energy_kwh": energy,
        "fleet_energy_kwh": fleet,
        "co2_kg": energy * (grid / 1000)[:, None],
        "fleet_co2_kg": fleet * (grid / 1000)[:, None],
        "queries": queries,
        "danish_people_equivalent": energy * 31 / (1600 / 12),
        "us_households_equivalent": energy * 31 / (10791 / 12),
    }


class LogHistogram:
    """Counts of log2(x) in 256 bins per octave for ``n_series`` columns, window fixed by a pilot."""

    def __init__(self, pilot):  # pilot: (n, n_series), positive
        self.lo = np.floor(np.log2(pilot.min(axis=0)) * BINS_PER_OCTAVE) - MARGIN_OCTAVES * BINS_PER_OCTAVE
        hi = np.ceil(np.log2(pilot.max(axis=0)) * BINS_PER_OCTAVE) + MARGIN_OCTAVES * BINS_PER_OCTAVE
        self.width = int((hi - self.lo).max()) + 1
        self.counts = np.zeros((pilot.shape[1], self.width), dtype=np.int64)

    def add(self, values):  # (n, n_series)
        idx = np.floor(np.log2(values) * BINS_PER_OCTAVE - self.lo).astype(np.int64)
        np.clip(idx, 0, self.width - 1, out=idx)
        flat = idx + np.arange(values.shape[1]) * self.width
        self.counts += np.bincount(flat.ravel(), minlength=self.counts.size).reshape(self.counts.shape)

    def quantiles(self, q=QUANTILES):  # (len(q), n_series), linear inside a bin
        cum = np.cumsum(self.counts, axis=1)
        total = cum[:, -1]
        out = np.empty((len(q), self.counts.shape[0]))
        for s in range(self.counts.shape[0]):
            rank = q * (total[s] - 1) + 0.5
            b = np.searchsorted(cum[s], rank, side="right")
            before = cum[s, b] - self.counts[s, b]
            frac = (rank - before) / self.counts[s, b]
            out[:, s] = 2.0 ** ((self.lo[s] + b + frac) / BINS_PER_OCTAVE)
        return out


def run(samples: int, seed: int = 0, chunk: int = 65_536, profile: bool = False):
    """Quantiles ``{output: {"daily": (7, 31), "monthly": (7,)}}`` and means, from ``samples`` draws.

    ``profile=True`` is the shortcut a user who spots the structure takes (and the engine takes,
    see simulate/separable.py): every output here is a random base times a known daily factor, so
    only the monthly values are histogrammed and each day is its month scaled by that factor.
    """
    rng = np.random.default_rng(seed)
    share = day_share()
    day_of_month = monthly_to_daily(share)
    hists, sums = {}, {name: np.zeros(32) for name in OUTPUTS}
    done = 0
    while done < samples:
        n = min(chunk, samples - done)
        values = sample_chunk(rng, n, np.ones(1) if profile else share)
        for name, how in OUTPUTS.items():
            if profile:  # computed with a day share of 1: scale to the month, then days from it
                monthly = values[name][:, 0] * day_of_month[name][1]
                both = monthly[:, None]
            else:
                monthly = values[name].sum(axis=1) if how == "sum" else values[name].mean(axis=1)
                both = np.column_stack([values[name], monthly])
            if name not in hists:
                hists[name] = LogHistogram(both)
            hists[name].add(both)
            if profile:
                sums[name] += np.append(monthly.sum() * day_of_month[name][0], monthly.sum())
            else:
                sums[name] += both.sum(axis=0)
        done += n
    result = {}
    for name in OUTPUTS:
        q = hists[name].quantiles()
        if profile:
            q = np.column_stack([q[:, :1] * day_of_month[name][0][None, :], q[:, :1]])
        result[name] = {"daily": q[:, :31], "monthly": q[:, 31], "mean": sums[name] / samples}
    return result


def monthly_to_daily(share):
    """For each output: (each day over the month, the month over the value computed with share 1)."""
    factors = {}
    for name, how in OUTPUTS.items():
        day = np.ones(31) if name.startswith("fleet") else share   # the fleet path has no daily profile
        month = day.sum() if how == "sum" else day.mean()
        factors[name] = (day / month, month)
    return factors


if __name__ == "__main__":
    import sys
    import time

    n = int(float(sys.argv[1])) if len(sys.argv) > 1 else 1_000_000
    for profile in (False, True):
        t = time.perf_counter()
        res = run(n, seed=1, profile=profile)
        print(f"profile={profile}: {n:,} samples in {time.perf_counter() - t:.2f} s; energy_kwh monthly quantiles (GWh):",
              np.round(res["energy_kwh"]["monthly"] / 1e6, 3), "day 31 median (MWh):",
              round(res["energy_kwh"]["daily"][3, 30] / 1e3, 2), "danish monthly median", round(res["danish_people_equivalent"]["monthly"][3]))
