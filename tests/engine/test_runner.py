"""The kernel and the runner: closed-form results, daily/monthly consistency, reproducibility,
quantile accuracy, exact means, and non-finite samples counted rather than hidden."""
from __future__ import annotations

import json
import math
import warnings

import numba
import numpy as np
import pytest

import simulate
from simulate.engine import histogram, runner
from simulate.engine.compiler import compile_model
from simulate.engine.histogram import QUANTILES
from simulate.spec.calendar import days_in_month
from simulate.spec.expressions import evaluate, names_in
from tests.helpers import CHATGPT, load_text, without_volatile

# -- closed forms ------------------------------------------------------------------------------------
DEGENERATE = """\
[period]
start = 2023-01-01
end = 2023-01-31

[parameters.visits]
dist = "fixed"
value = 590e6
unit = "visits/month"
source = "Ludvigsen 2023"

[parameters.queries_per_visit]
dist = "fixed"
value = 10
unit = "queries/visit"
source = "Ludvigsen 2023"

{energy}

[derived]
{energy_derived}
energy_kwh = "visits * day_share * queries_per_visit * energy_per_query_kwh"

[outputs]
energy_kwh = "sum"
"""
FIXED_ENERGY = """\
[parameters.energy_per_query_kwh]
dist = "fixed"
value = 0.00396
unit = "kWh/query"
source = "BLOOM 3.96 Wh per request"
"""


@pytest.mark.parametrize("energy_per_query,written", [
    (0.00396, "fixed"), (914 / 230768, "expression")])
def test_degenerate_model_gives_the_arithmetic_exactly(tmp_path, energy_per_query, written):
    text = DEGENERATE.format(
        energy=FIXED_ENERGY if written == "fixed" else "",
        energy_derived="" if written == "fixed" else 'energy_per_query_kwh = "914 / 230768"')
    ds = load_text(tmp_path, text).run(samples=5000, seed=1)
    # the same arithmetic in Python, day by day, in the kernel's order of operations
    daily = 590e6 * (1 / 31) * 10.0 * energy_per_query
    expected_month = math.fsum([daily] * 31)
    monthly = ds["energy_kwh_monthly"].values[:, 0]
    np.testing.assert_allclose(monthly, expected_month, rtol=1e-12)
    np.testing.assert_allclose(monthly, energy_per_query * 10 * 590e6, rtol=1e-9)
    assert ds["energy_kwh_monthly_mean"].item() == pytest.approx(energy_per_query * 10 * 590e6, rel=1e-9)
    assert ds["energy_kwh_monthly_std"].item() <= 1e-9 * expected_month
    np.testing.assert_allclose(ds["energy_kwh_daily"].values, daily, rtol=1e-12)
    np.testing.assert_allclose(ds["energy_kwh_daily_mean"].values, daily, rtol=1e-12)
    if written == "fixed":
        np.testing.assert_allclose(monthly, 23_364_000.0, rtol=1e-9)


def test_ludvigsen_high_scenario_reproduces_the_published_corner():
    model = simulate.load(CHATGPT).with_scenario("ludvigsen_high")
    ds = model.run(samples=20_000, seed=7)
    corner_kwh = 913.84128 / 230768 * 10 * 590e6        # 0.00396 kWh/query: 23.364 GWh
    np.testing.assert_allclose(ds["energy_kwh_monthly"].values[:, 0], corner_kwh, rtol=1e-9)
    assert ds["energy_kwh_monthly_mean"].item() == pytest.approx(corner_kwh, rel=1e-9)
    people = ds["danish_people_equivalent_monthly"].sel(quantile=0.5).item()
    assert people == pytest.approx(175_000, rel=0.005)
    assert people == pytest.approx(corner_kwh / (1600 / 12), rel=1e-9)
    assert ds.attrs["scenario"] == "ludvigsen_high"
    # CO2 stays uncertain (grid intensity and region split are not fixed by the scenario)
    co2 = ds["co2_kg_monthly"].sel(quantile=[0.05, 0.95]).values[:, 0]
    assert co2[1] > 1.2 * co2[0]


# -- monthly figures are sums (or means) of the same daily draws ----------------------------------------
def design(model, program, n, rng):
    """``n`` rows of input values, one column per ``program.draw_names`` entry (shares sum to 1)."""
    X = np.empty((n, len(program.draw_names)))
    params = {p.name: p for p in model.all_parameters()}
    for j, name in enumerate(program.draw_names):
        if name.startswith("share_"):
            continue
        base, _, month = name.partition("[")
        dist = params[base].for_month(month[:-1]) if month else params[base].dist
        X[:, j] = dist.ppf(rng.uniform(0.001, 0.999, n))
    share_cols = [j for j, name in enumerate(program.draw_names) if name.startswith("share_")]
    if share_cols:
        alpha = [model.regions.concentration * r.share for r in model.regions.regions]
        X[:, share_cols] = rng.dirichlet(alpha, n)
    return X


def evaluate_on(program, X, with_daily=True):
    n_out = program.n_outputs
    daily = np.full((len(X), n_out, program.n_days) if with_daily else (0, n_out, 1), np.nan)
    monthly = np.full((len(X), n_out, program.n_months), np.nan)
    runner.evaluate_draws(program, X, daily, monthly)
    return daily, monthly


def numpy_daily(model, program, X):
    """The model evaluated day by day with numpy: the oracle for the kernel's interpreter."""
    period, flat = model.period, model.flat
    share, month_days = model.profile.day_share(period), days_in_month(period)
    column = {name: X[:, j] for j, name in enumerate(program.draw_names)}
    out = np.empty((len(X), len(model.outputs), period.n_days))
    for d in range(period.n_days):
        month = period.months[period.month_of_day[d]]
        values = {"day_share": share[d], "days_in_month": month_days[d]}
        for p in flat.all_parameters():
            values[p.name] = column[f"{p.name}[{month}]" if p.varies_by_month else p.name]
        for shares in flat.shares.values():
            values.update({name: column[name] for name in shares.names})
        pending = dict(flat.derived)
        while pending:
            for name, item in list(pending.items()):
                if names_in(item.node) <= values.keys():
                    values[name] = evaluate(item.node, values)
                    del pending[name]
        for o, name in enumerate(model.outputs):
            out[:, o, d] = values[name]
    return out


def test_kernel_interpreter_matches_numpy_oracle(two_regions_model, rng):
    program = compile_model(two_regions_model)
    X = design(two_regions_model, program, 2000, rng)   # not a multiple of the 512-sample tile
    daily, _ = evaluate_on(program, X)
    np.testing.assert_allclose(daily, numpy_daily(two_regions_model, program, X), rtol=1e-12)


def test_monthly_values_are_sums_or_means_of_the_daily_values(two_regions_model, rng):
    model = two_regions_model
    program = compile_model(model)
    X = design(model, program, 3000, rng)
    daily, monthly = evaluate_on(program, X)
    assert np.isfinite(daily).all() and np.isfinite(monthly).all()
    month_of_day = model.period.month_of_day
    for o, output in enumerate(model.outputs.values()):
        for m in range(program.n_months):
            days = daily[:, o, month_of_day == m]
            expected = days.sum(axis=1) if output.aggregate == "sum" else days.mean(axis=1)
            np.testing.assert_allclose(monthly[:, o, m], expected, rtol=1e-12, err_msg=f"{output.name} {m}")
    # without a daily array the kernel writes the same monthly values
    _, monthly_only = evaluate_on(program, X, with_daily=False)
    np.testing.assert_array_equal(monthly_only, monthly)


def test_run_means_agree_between_daily_and_monthly(two_regions_model):
    ds = two_regions_model.run(samples=50_000, seed=11)
    month_of_day = two_regions_model.period.month_of_day
    for name, output in two_regions_model.outputs.items():
        daily_mean = ds[f"{name}_daily_mean"].values
        per_month = np.array([daily_mean[month_of_day == m].sum() for m in range(3)])
        if output.aggregate == "mean":
            per_month /= np.bincount(month_of_day)
        np.testing.assert_allclose(ds[f"{name}_monthly_mean"].values, per_month, rtol=1e-10, err_msg=name)


def test_energy_is_profile_weighted_within_a_month(tmp_path):
    """A partial month reports its profile share of the monthly total."""
    text = """\
    [period]
    start = 2023-01-15
    end = 2023-02-03

    [parameters.monthly_kwh]
    dist = "fixed"
    value = 3100
    unit = "kWh"
    source = "test"

    [derived]
    energy_kwh = "monthly_kwh * day_share"

    [outputs]
    energy_kwh = "sum"
    """
    ds = load_text(tmp_path, text).run(samples=1000, seed=0)
    np.testing.assert_allclose(ds["energy_kwh_monthly"].sel(quantile=0.5).values,
                               [3100 * 17 / 31, 3100 * 3 / 28], rtol=1e-12)
    np.testing.assert_allclose(ds["energy_kwh_daily"].sel(quantile=0.5).values[0], 100.0, rtol=1e-12)


# -- reproducibility ---------------------------------------------------------------------------------
@pytest.fixture
def restore_threads():
    threads = numba.get_num_threads()
    yield
    numba.set_num_threads(threads)


def test_same_seed_same_dataset_for_any_threads_and_batching(two_regions_model, monkeypatch, restore_threads):
    samples = 200_000                                   # four blocks, the last one partial
    assert len(runner.block_sizes(samples)) == 4
    runs = []
    for threads, batch in [(1, 32), (2, 32), (2, 1), (1, 3)]:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        monkeypatch.setattr(runner, "BATCH_BLOCKS", batch)
        runs.append(without_volatile(two_regions_model.run(samples=samples, seed=2024, keep=700)))
    for other in runs[1:]:
        assert runs[0].identical(other)
    assert runs[0].sizes["sample"] == 700


def test_reduce_range_split_like_dask_tasks_merges_to_the_same_totals(two_regions_model):
    program = compile_model(two_regions_model)
    sizes = runner.block_sizes(3 * runner.BLOCK_SIZE + 1000)
    shape = (program.n_outputs, program.n_times)
    with pytest.raises(ValueError, match="windows of shape"):     # cells missing: refused, not read past
        runner.reduce_range(program, histogram.Windows.empty((program.n_outputs, program.n_times - 2)), 5,
                            sizes[:1], 0)
    _, stats0, ext0 = runner.reduce_range(program, histogram.Windows.empty(shape), 5, sizes[:1], 0)
    windows = histogram.Windows.from_pilot(stats0[0], ext0[0])
    whole = runner.reduce_range(program, windows, 5, sizes, 0)
    parts = [runner.reduce_range(program, windows, 5, sizes[i:i + 1], i) for i in range(len(sizes))]
    np.testing.assert_array_equal(whole[0], sum(p[0] for p in parts))
    np.testing.assert_array_equal(whole[1], np.concatenate([p[1] for p in parts]))
    np.testing.assert_array_equal(whole[2], np.concatenate([p[2] for p in parts]))


def test_reduce_range_refuses_windows_that_miss_time_cells(two_regions_model):
    """Windows for days and months only (no years, no period total) would send the kernel past the end
    of its layout: refused before the kernel runs."""
    program = compile_model(two_regions_model)
    short = histogram.Windows.empty((program.n_outputs, program.n_days + program.n_months))
    with pytest.raises(ValueError, match=r"build them with shape \(n_outputs, n_times\)"):
        runner.reduce_range(program, short, 5, runner.block_sizes(1000), 0)


def test_a_different_seed_gives_different_numbers(two_regions_model):
    a = two_regions_model.run(samples=3000, seed=1, keep=10)
    b = two_regions_model.run(samples=3000, seed=2, keep=10)
    assert not np.array_equal(a["inputs"].values, b["inputs"].values)
    assert not np.array_equal(a["energy_kwh_monthly"].values, b["energy_kwh_monthly"].values)
    assert a.attrs["seed"] == 1 and b.attrs["seed"] == 2


def test_fixing_a_parameter_keeps_every_other_draw(two_regions_model):
    base = two_regions_model.run(samples=2000, seed=3, keep=2000)
    fixed = two_regions_model.with_fixed({"pue": 1.25}).run(samples=2000, seed=3, keep=2000)
    others = [n for n in base["input"].values if n != "pue"]
    np.testing.assert_array_equal(base["inputs"].sel(input=others).values,
                                  fixed["inputs"].sel(input=others).values)
    assert (fixed["inputs"].sel(input="pue").values == 1.25).all()
    assert json.loads(fixed.attrs["fixed_parameters"]) == {"pue": 1.25}


def test_keep_returns_the_first_draws_of_a_longer_run(two_regions_model):
    short = two_regions_model.run(samples=1500, seed=9, keep=1500)
    long = two_regions_model.run(samples=70_000, seed=9, keep=1500)
    np.testing.assert_array_equal(short["inputs"].values, long["inputs"].values)
    np.testing.assert_array_equal(short["energy_kwh_monthly_samples"].values,
                                  long["energy_kwh_monthly_samples"].values)


# -- quantiles, means and standard deviations against the exact per-sample values -------------------------
LOGNORMAL = """\
[period]
start = 2023-01-01
end = 2023-01-31

[parameters.monthly_kwh]
dist = "lognormal"
p5 = 1e6
p95 = 3e7
unit = "kWh"
source = "test"

[derived]
energy_kwh = "monthly_kwh * day_share"

[outputs]
energy_kwh = "sum"
"""
SUM_OF_THINGS = """\
[period]
start = 2023-01-01
end = 2023-01-31

[parameters.a_kwh]
dist = "pert"
min = 100
mode = 150
max = 400
unit = "kWh"
source = "test"

[parameters.b_kwh]
dist = "lognormal"
median = 80
gsd = 2
unit = "kWh"
source = "test"

[parameters.c_kwh]
dist = "discrete"
values = [0, 50, 500]
weights = [5, 3, 1]
unit = "kWh"
source = "test"

[parameters.d_kwh]
dist = "normal"
mean = 60
sd = 30
lower = 0
unit = "kWh"
source = "test"

[derived]
energy_kwh = "a_kwh + b_kwh + c_kwh + d_kwh * (1 + 0.3 * day_share)"

[outputs]
energy_kwh = "sum"
"""


@pytest.fixture(scope="module", params=["lognormal", "sum_of_things"])
def kept_run(request, tmp_path_factory):
    text = LOGNORMAL if request.param == "lognormal" else SUM_OF_THINGS
    model = load_text(tmp_path_factory.mktemp(request.param), text)
    samples = 100_000
    ds = model.run(samples=samples, seed=31, keep=samples)
    return ds, ds["energy_kwh_monthly_samples"].values[:, 0]


def test_quantiles_within_half_a_percent_of_the_exact_sample_quantiles(kept_run):
    ds, exact = kept_run
    assert len(exact) == ds.attrs["samples"] and np.isfinite(exact).all()
    reported = ds["energy_kwh_monthly"].values[:, 0]
    np.testing.assert_allclose(reported, np.quantile(exact, QUANTILES), rtol=0.005)
    assert np.all(np.diff(reported) > 0)


CROSSES_ZERO = """\
[period]
start = 2023-01-01
end = 2023-01-03

[parameters.saving_kwh]
dist = "uniform"
min = -2000
max = 5000
unit = "kWh"
source = "test"

[parameters.extra_kwh]
dist = "discrete"
values = [0, 0, 300]
weights = [4, 1, 1]
unit = "kWh"
source = "test"

[derived]
net_kwh = "saving_kwh * day_share - extra_kwh"
extra_only_kwh = "extra_kwh * day_share"

[outputs]
net_kwh = "sum"
extra_only_kwh = "sum"
"""


def test_quantiles_of_outputs_that_cross_or_touch_zero(tmp_path):
    """Values of both signs, and exact zeros, fit one histogram window: no clamping to min/max."""
    samples = 50_000
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)     # no "outside the histogram window"
        ds = load_text(tmp_path, CROSSES_ZERO).run(samples=samples, seed=17, keep=samples)
    assert "quantiles_outside_window" not in ds.attrs
    for name in ("net_kwh", "extra_only_kwh"):
        exact = ds[f"{name}_monthly_samples"].values[:, 0]
        assert (exact < 0).any() or (exact == 0).any()
        np.testing.assert_allclose(ds[f"{name}_monthly"].values[:, 0], np.quantile(exact, QUANTILES),
                                   rtol=0.005, atol=1e-9 * np.abs(exact).max(), err_msg=name)
        assert ds[f"{name}_monthly_mean"].item() == pytest.approx(exact.mean(), rel=1e-11)


def test_mean_and_std_are_the_exact_sample_moments(kept_run):
    ds, exact = kept_run
    assert ds["energy_kwh_monthly_mean"].item() == pytest.approx(exact.mean(), rel=1e-11)
    assert ds["energy_kwh_monthly_std"].item() == pytest.approx(exact.std(ddof=1), rel=1e-9)
    assert ds["energy_kwh_monthly_nonfinite"].item() == 0


def test_contract_quantiles_and_attrs(kept_run):
    ds, _ = kept_run
    assert {0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975} <= set(ds["quantile"].values.tolist())
    for name, var in ds.data_vars.items():
        assert var.attrs.get("units") and var.attrs.get("long_name"), name
    for name, coord in ds.coords.items():   # datetime coordinates carry their units in the encoding
        assert coord.attrs.get("long_name"), name
    for key in ("seed", "samples", "versions", "model_sha256", "block_size"):
        assert key in ds.attrs
    assert json.loads(ds.attrs["versions"])["simulate"] == simulate.__version__


# -- non-finite samples --------------------------------------------------------------------------------
def test_log_of_a_negative_draw_is_counted_and_reported(tmp_path):
    text = """\
    [period]
    start = 2023-01-01
    end = 2023-01-01

    [parameters.x]
    dist = "normal"
    mean = 1
    sd = 1
    unit = "1"
    source = "test"

    [derived]
    y = { expr = "log(x)", unit = "1" }

    [outputs]
    y = "sum"
    """
    samples = 20_000
    with pytest.warns(RuntimeWarning, match="NaN or infinite"):
        ds = load_text(tmp_path, text).run(samples=samples, seed=5, keep=samples)
    kept = ds["y_monthly_samples"].values[:, 0]
    draws = ds["inputs"].sel(input="x").values
    bad = int((~np.isfinite(kept)).sum())
    assert bad == int((draws <= 0).sum())
    assert abs(bad / samples - 0.158655) < 4 * math.sqrt(0.16 * 0.84 / samples)   # P(N(1,1) <= 0)
    assert ds["y_monthly_nonfinite"].item() == bad
    assert ds["y_daily_nonfinite"].item() == bad
    assert json.loads(ds.attrs["nonfinite_samples"]) == {"y": bad}
    finite = kept[np.isfinite(kept)]
    assert ds["y_monthly_mean"].item() == pytest.approx(finite.mean(), rel=1e-11)
    np.testing.assert_allclose(ds["y_monthly"].values[:, 0], np.quantile(finite, QUANTILES), rtol=0.005)


def test_division_by_a_discrete_zero_is_counted_every_day(tmp_path):
    text = """\
    [period]
    start = 2023-01-30
    end = 2023-02-02

    [parameters.servers]
    dist = "discrete"
    values = [0, 2, 4]
    weights = [1, 2, 2]
    unit = "servers"
    source = "test"

    [derived]
    per_server_kwh = "dimensionless(100 * day_share / servers)"

    [outputs]
    per_server_kwh = "sum"
    """
    samples = 10_000
    with pytest.warns(RuntimeWarning, match="NaN or infinite"):
        ds = load_text(tmp_path, text).run(samples=samples, seed=8, keep=samples)
    zeros = int((ds["inputs"].sel(input="servers").values == 0).sum())
    kept = ds["per_server_kwh_monthly_samples"].values
    np.testing.assert_array_equal((~np.isfinite(kept)).sum(axis=0), [zeros, zeros])
    np.testing.assert_array_equal(ds["per_server_kwh_monthly_nonfinite"].values, [zeros, zeros])
    np.testing.assert_array_equal(ds["per_server_kwh_daily_nonfinite"].values, [zeros] * 4)
    assert abs(zeros / samples - 0.2) < 4 * math.sqrt(0.2 * 0.8 / samples)
    assert json.loads(ds.attrs["nonfinite_samples"]) == {"per_server_kwh": zeros}


def test_a_clean_run_has_no_nonfinite_attr(two_regions_model):
    ds = two_regions_model.run(samples=2000, seed=1)
    assert "nonfinite_samples" not in ds.attrs
    assert int(ds["energy_kwh_daily_nonfinite"].sum()) == 0


@pytest.mark.parametrize("bad", [{"samples": 0}, {"samples": 1.5}, {"seed": -1}, {"keep": -2}, {"samples": True}])
def test_bad_run_arguments_are_model_errors(two_regions_model, bad):
    kwargs = {"samples": 100, "seed": 0, **bad}
    field = next(iter(bad))
    with pytest.raises(simulate.ModelError, match=f"{field} = "):
        two_regions_model.run(**kwargs)
