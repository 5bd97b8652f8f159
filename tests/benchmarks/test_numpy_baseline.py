"""The numpy baseline in benchmarks/ computes the same model as the engine (else its speed means nothing)."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import simulate
from tests.helpers import CHATGPT, ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import numpy_baseline  # noqa: E402

pytestmark = pytest.mark.slow

BIN = 2 ** (1 / 256) - 1   # one histogram bin, relative


@pytest.fixture(scope="module")
def baseline():
    return numpy_baseline.run(200_000, seed=4), numpy_baseline.run(200_000, seed=4, profile=True)


def test_days_scaled_from_the_month_equal_the_daily_histograms(baseline):
    """Same draws both ways: the profile shortcut changes nothing beyond two bins."""
    daily, profile = baseline
    for name in numpy_baseline.OUTPUTS:
        for scale in ("daily", "monthly", "mean"):
            np.testing.assert_allclose(profile[name][scale], daily[name][scale], rtol=2 * BIN, err_msg=f"{name} {scale}")


def engine_monthly(ds, name, suffix=""):
    """The engine's monthly variable for a baseline output: ``co2_virginia_kg`` is ``co2_kg`` by region."""
    region = next((r for r in numpy_baseline.REGIONS if name == f"co2_{r}_kg"), None)
    if region is None:
        return ds[f"{name}_monthly{suffix}"]
    return ds[f"co2_kg_by_region_monthly{suffix}"].sel(region=region)


def test_baseline_and_engine_agree_within_monte_carlo_error(baseline):
    daily, _ = baseline
    ds = simulate.load(CHATGPT).run(samples=200_000, seed=4)
    for name in numpy_baseline.OUTPUTS:
        sd, mean = engine_monthly(ds, name, "_std").item(), engine_monthly(ds, name, "_mean").item()
        se = sd / np.sqrt(200_000)
        assert abs(daily[name]["mean"][31] - mean) < 5 * np.sqrt(2) * se, name  # two independent runs
        q = engine_monthly(ds, name).values[:, 0]
        # medians: sd of a sample median is about 1.25 sd / sqrt(n) for these near-lognormal laws; 5 of them
        assert abs(daily[name]["monthly"][3] - q[3]) < 5 * 1.25 * np.sqrt(2) * se + 2 * BIN * abs(q[3]), name
