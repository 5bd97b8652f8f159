"""The ChatGPT January 2023 model in plain, vectorised numpy: what a careful user writes without `simulate`.

Same laws as priors/chatgpt-2023-01.toml (numbers copied from the file): lognormals from p5/p95
(or a median and geometric standard deviation), PERT as a scaled Beta(1 + 4 (mode - min) /
(max - min), ...), Beta(7, 3), the file's three rank correlations as a Gaussian copula (normal
correlation 2 sin(pi r / 6)), Dirichlet region shares with alpha = 10 x share (two regions: a
Beta); 31 days with the file's weekday shape and 2.3%/day trend; the per-query path (busy
compute x host x idle x PUE) and the fleet path (an idle floor plus the load the day's queries
put on the fleet, so it is not a fixed profile), CO2 with the share-weighted grid intensity, and
the two equivalences. Samples go in chunks (memory bounded); each daily and monthly output is
histogrammed into 256 log2 bins per octave (the engine's resolution) over a window fixed by the
first chunk, and quantiles are read from the cumulative counts.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
from scipy import special

Z95 = 1.6448536269514722
QUANTILES = np.array([0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975])
BINS_PER_OCTAVE = 256
MARGIN_OCTAVES = 2
OUTPUTS = {"energy_kwh": "sum", "fleet_energy_kwh": "sum", "co2_kg": "sum", "fleet_co2_kg": "sum",
           "queries": "sum", "danish_people_equivalent": "mean", "us_households_equivalent": "mean"}
# share, then the EcoLogits 0.11.3 gwp of the zone (kgCO2e/kWh, electricity_mixes.json: USA 0.3844,
# NLD 0.25356) in g/kWh with the file's spread: US p5 = 1.0 x, p95 = 1.6 x; Netherlands gsd 1.2
REGIONS = {"united_states": (0.9, ("p5_p95", 384.4, 1.6 * 384.4)), "europe": (0.1, ("gsd", 253.56, 1.2))}
CONCENTRATION = 10.0
OUTPUTS.update({f"co2_{region}_kg": "sum" for region in REGIONS})  # each region's part of co2_kg
NOT_PROFILED = {"fleet_energy_kwh", "fleet_co2_kg"}   # idle floor + load: not a base times the day's share
# (first, second, Spearman rank correlation), as in the file's [[correlations]]
RANKS = [("queries_per_visit", "hgx_servers", 0.5), ("visits", "hgx_servers", 0.3),
         ("decode_flop_utilisation", "gpu_busy_power_fraction", 0.6)]
COPULA = ["visits", "queries_per_visit", "hgx_servers", "decode_flop_utilisation", "gpu_busy_power_fraction"]


def day_share(year=2023, month=1, weekday_weights=(1.0, 1.0, 1.0, 1.0, 0.95, 0.85, 0.85), trend_per_day=0.023):
    """Each day's share of the month: weekday weight times compound growth, normalised."""
    days = [dt.date(year, month, d) for d in range(1, 32)]
    weights = np.array([weekday_weights[d.weekday()] for d in days]) * (1 + trend_per_day) ** np.arange(31)
    return weights / weights.sum()


def lognormal_p5_p95(rng, p5, p95, n, u=None):
    mu = (np.log(p5) + np.log(p95)) / 2
    sigma = (np.log(p95) - np.log(p5)) / (2 * Z95)
    return rng.lognormal(mu, sigma, n) if u is None else np.exp(mu + sigma * special.ndtri(u))


def pert(rng, low, mode, high, n, lam=4.0, u=None):
    a = 1 + lam * (mode - low) / (high - low)
    b = 1 + lam * (high - mode) / (high - low)
    return low + (high - low) * (rng.beta(a, b, n) if u is None else special.betaincinv(a, b, u))


def copula_uniforms(rng, n):
    """Uniforms for the correlated inputs: a Gaussian copula with the file's rank correlations."""
    index = {name: i for i, name in enumerate(COPULA)}
    normal = np.eye(len(COPULA))
    for a, b, rank in RANKS:
        normal[index[a], index[b]] = normal[index[b], index[a]] = 2 * np.sin(np.pi * rank / 6)
    z = rng.standard_normal((n, len(COPULA))) @ np.linalg.cholesky(normal).T
    return {name: special.ndtr(z[:, i]) for name, i in index.items()}


def sample_chunk(rng, n, share, profile=False):
    """Daily values ``{output: (n, 31)}`` for ``n`` samples (``share``: each day's share of the month);
    with ``profile`` the profiled outputs are computed once with a day share of 1, ``(n, 1)``."""
    u = copula_uniforms(rng, n)
    visits = lognormal_p5_p95(rng, 500e6, 700e6, n, u["visits"])
    queries_per_visit = lognormal_p5_p95(rng, 2, 12, n, u["queries_per_visit"])
    output_tokens = lognormal_p5_p95(rng, 150, 600, n)
    input_tokens = lognormal_p5_p95(rng, 200, 4000, n)
    active_parameters = lognormal_p5_p95(rng, 20e9, 175e9, n)
    decode_mfu = pert(rng, 0.03, 0.10, 0.30, n, u=u["decode_flop_utilisation"])
    prefill_mfu = pert(rng, 0.2, 0.4, 0.6, n)
    busy_power = special.betaincinv(7, 3, u["gpu_busy_power_fraction"])
    host = pert(rng, 1.25, 1.5, 2.05, n)
    idle_factor = lognormal_p5_p95(rng, 1.1, 2.5, n)
    pue = pert(rng, 1.10, 1.18, 1.40, n)
    servers = lognormal_p5_p95(rng, 1000, 5000, n, u["hgx_servers"])
    idle_floor = pert(rng, 0.2, 0.35, 0.55, n)
    intensity = np.stack([lognormal_p5_p95(rng, a, b, n) if kind == "p5_p95" else rng.lognormal(np.log(a), np.log(b), n)
                          for _, (kind, a, b) in REGIONS.values()], axis=1)
    shares = rng.dirichlet(CONCENTRATION * np.array([r[0] for r in REGIONS.values()]), n)
    grid = (shares * intensity).sum(axis=1)

    gpu_s = 2 * active_parameters * (input_tokens / prefill_mfu + output_tokens / decode_mfu) / 312e12
    kwh_per_query = gpu_s * 400 * busy_power / 3.6e6 * host * idle_factor * pue
    daily_queries = (visits * queries_per_visit)[:, None] * share[None, :]
    queries = (visits * queries_per_visit)[:, None] if profile else daily_queries
    energy = queries * kwh_per_query[:, None]
    gpus = servers * 8
    load = np.minimum(daily_queries * gpu_s[:, None] / (gpus * 86400)[:, None], 1)
    fleet = (gpus * 400 * busy_power * host / 1000)[:, None] * (idle_floor[:, None] + (1 - idle_floor)[:, None] * load) \
        * 24 * pue[:, None]
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
    see simulate/engine/separable.py): every output of the per-query path is a random base times a known
    daily factor, so only its monthly values are histogrammed and each day is its month scaled by that
    factor; the fleet path (an idle floor plus the day's load) is histogrammed day by day either way.
    """
    rng = np.random.default_rng(seed)
    share = day_share()
    day_of_month = monthly_to_daily(share)
    hists, sums = {}, {name: np.zeros(32) for name in OUTPUTS}
    done = 0
    while done < samples:
        n = min(chunk, samples - done)
        values = sample_chunk(rng, n, share, profile)
        for name, how in OUTPUTS.items():
            if profile and name not in NOT_PROFILED:  # computed with a day share of 1: scale to the month, then days from it
                monthly = values[name][:, 0] * day_of_month[name][1]
                both = monthly[:, None]
            else:
                monthly = values[name].sum(axis=1) if how == "sum" else values[name].mean(axis=1)
                both = np.column_stack([values[name], monthly])
            if name not in hists:
                hists[name] = LogHistogram(both)
            hists[name].add(both)
            if profile and name not in NOT_PROFILED:
                sums[name] += np.append(monthly.sum() * day_of_month[name][0], monthly.sum())
            else:
                sums[name] += both.sum(axis=0)
        done += n
    result = {}
    for name in OUTPUTS:
        q = hists[name].quantiles()
        if profile and name not in NOT_PROFILED:
            q = np.column_stack([q[:, :1] * day_of_month[name][0][None, :], q[:, :1]])
        result[name] = {"daily": q[:, :31], "monthly": q[:, 31], "mean": sums[name] / samples}
    return result


def monthly_to_daily(share):
    """For each output: (each day over the month, the month over the value computed with share 1)."""
    factors = {}
    for name, how in OUTPUTS.items():
        day = share
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
