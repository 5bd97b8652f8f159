"""Time resolution: month and day agree, and the kernel compiles once and is cached for later processes.

At ``resolution = "month"`` an expression is evaluated once per month with the built-ins at the
middle of the month, and the month's total is that value times its days. On a model whose daily
values are constant within a month (separable in time) that is the daily sum exactly, up to
rounding. On a smooth trend ``f(decimal_year)`` it is the midpoint rule, whose error on a month of
width ``h`` years is at most ``h**2 / 24 * max|f''| * h`` (e.g. Burden & Faires, Numerical
Analysis, 9th ed., section 4.3): the test asserts that bound sample by sample, and the quantiles
within their Monte Carlo confidence intervals.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import simulate
from simulate.engine import _kernel
from tests.helpers import ROOT, load_text

SAMPLES = 4_000

TREND = """\
[period]
start = 2023-01-01
end = 2024-12-31
{period_resolution}

[parameters.base_kwh]
dist = "lognormal"
p5 = 100
p95 = 400
unit = "kWh"
source = "test"
rationale = "test"

[parameters.growth_per_year]
dist = "uniform"
min = 0.0
max = 0.5
unit = "1/year"
source = "test"
rationale = "test"

[derived]
flat_kwh = {{ expr = "base_kwh * days_in_month / 31", unit = "kWh" }}
trend_kwh = {{ expr = "base_kwh * exp(growth_per_year * (decimal_year - 2023))", unit = "kWh" }}

[outputs]
flat_kwh = {{ aggregate = "sum"{flat_resolution} }}
trend_kwh = "sum"
"""


def trend_model(tmp_path, period_resolution="", flat_resolution="", name="m.toml"):
    text = TREND.format(period_resolution=period_resolution, flat_resolution=flat_resolution)
    return load_text(tmp_path, text, name)


@pytest.fixture(scope="module")
def day_and_month(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resolution")
    day = trend_model(folder, name="day.toml")
    month = trend_model(folder, 'resolution = "month"', name="month.toml")
    return (day, day.run(samples=SAMPLES, seed=3, keep=SAMPLES),
            month, month.run(samples=SAMPLES, seed=3, keep=SAMPLES))


def test_month_resolution_evaluates_once_per_month_and_keeps_no_daily_cells(day_and_month):
    day, ds_day, month, ds_month = day_and_month
    assert day.period.resolution == "day" and month.period.resolution == "month"
    assert "trend_kwh_daily" in ds_day and "trend_kwh_daily" not in ds_month
    assert ds_month.sizes["month"] == ds_day.sizes["month"] == 24
    np.testing.assert_array_equal(ds_day["inputs"].values, ds_month["inputs"].values)   # same draws


def test_a_model_constant_within_months_gives_the_same_monthly_totals_at_both_resolutions(day_and_month):
    _, ds_day, _, ds_month = day_and_month
    a, b = ds_day["flat_kwh_monthly_samples"].values, ds_month["flat_kwh_monthly_samples"].values
    np.testing.assert_allclose(b, a, rtol=1e-12)
    days = ds_month["month"].dt.days_in_month.values
    base = ds_month["inputs"].sel(input="base_kwh").values[:, None]
    np.testing.assert_allclose(b, base * days * days / 31, rtol=1e-12)   # the closed form


def test_a_smooth_trend_moves_by_at_most_the_midpoint_rule_error(day_and_month):
    _, ds_day, _, ds_month = day_and_month
    a, b = ds_day["trend_kwh_monthly_samples"].values, ds_month["trend_kwh_monthly_samples"].values
    g = ds_month["inputs"].sel(input="growth_per_year").values[:, None]
    h = 31 / 365                           # the longest month, in years
    # A day's decimal_year is read at its start, so the days' mean time is half a day before the month's
    # middle: a relative shift of at most exp(g / 730) - 1. Against the month's middle, the mean of f over
    # the month differs by the midpoint rule's error, at most g^2 h^2 / 24 relative (times exp(g h / 2)).
    bound = (np.exp(g / 730) - 1) + g ** 2 * h ** 2 / 24 * np.exp(g * h)
    relative = np.abs(b - a) / a
    assert np.all(relative <= bound + 1e-12)
    assert relative.max() > 1e-6           # the two resolutions do differ (the test can fail)


def test_month_and_day_quantiles_agree_within_monte_carlo_error(day_and_month):
    _, ds_day, _, ds_month = day_and_month
    for name in ("trend_kwh_monthly", "trend_kwh_yearly", "trend_kwh_total"):
        a, b = ds_day[name].values, ds_month[name].values
        half_width = (ds_day[f"{name}_ci_high"].values - ds_day[f"{name}_ci_low"].values) / 2
        assert np.all(half_width > 0), name
        assert np.all(np.abs(b - a) <= half_width), name


def test_an_output_can_ask_for_month_resolution_on_a_daily_model(tmp_path):
    model = trend_model(tmp_path, flat_resolution=', resolution = "month"')
    assert model.resolution_of("flat_kwh") == "month" and model.resolution_of("trend_kwh") == "day"
    ds = model.run(samples=500, seed=1)
    assert "flat_kwh_daily" not in ds and "trend_kwh_daily" in ds
    assert "flat_kwh_monthly" in ds


@pytest.mark.parametrize("where,text", [
    ("period.resolution", 'resolution = "week"'),
    ("outputs.flat_kwh.resolution", None),
])
def test_an_unknown_resolution_is_one_model_error(tmp_path, where, text):
    with pytest.raises(simulate.ModelError) as info:
        if text:
            trend_model(tmp_path, text)
        else:
            trend_model(tmp_path, flat_resolution=', resolution = "hour"')
    err = info.value
    assert err.field == where and err.value in ("week", "hour")
    assert err.path.endswith("m.toml") and 'resolution = "month"' in err.fix


# ---- compilation: once per process, then from the on-disk cache -------------------------------------

def test_the_kernel_is_compiled_once_whatever_the_sample_count_or_model(day_and_month, tmp_path):
    day, _, month, _ = day_and_month
    month.run(samples=100, seed=0)
    before = list(_kernel.run_chunk.signatures)
    assert len(before) == 1
    month.run(samples=70_000, seed=0)
    day.run(samples=3, seed=0)
    simulate.load(ROOT / "priors" / "chatgpt-2023-01.toml").run(samples=2_000, seed=0)
    assert list(_kernel.run_chunk.signatures) == before


CHILD = """
import json, simulate
from simulate.engine import _kernel
simulate.load({path!r}).run(samples={samples}, seed=0)
stats = _kernel.run_chunk.stats
print(json.dumps({{"hits": sum(stats.cache_hits.values()), "misses": sum(stats.cache_misses.values())}}))
"""


@pytest.mark.slow
def test_a_second_process_reuses_the_cached_kernel(tmp_path):
    """A fresh cache directory: the first process compiles and writes it; the next ones only read it."""
    cache = tmp_path / "numba-cache"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    path = str(ROOT / "priors" / "chatgpt-2023-01.toml")

    def child(samples):
        done = subprocess.run([sys.executable, "-c", CHILD.format(path=path, samples=samples)], env=env,
                              cwd=ROOT, capture_output=True, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])

    first = child(1_000)
    assert first == {"hits": 0, "misses": 1}
    written = sorted(p.name for p in cache.rglob("*run_chunk*"))
    assert any(name.endswith(".nbi") for name in written) and any(name.endswith(".nbc") for name in written)
    assert child(1_000) == {"hits": 1, "misses": 0}
    assert child(200_000) == {"hits": 1, "misses": 0}    # a larger run compiles nothing new
    assert sorted(p.name for p in cache.rglob("*run_chunk*")) == written
