"""Year resolution: each calendar year evaluated once, at its middle, each month its year's value times
its days; on inputs constant within years the yearly and whole-period results are those of month
resolution, exactly where the output does not read the calendar inside a nonlinearity (or is
separable), within Monte Carlo error where it does.
"""
from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulate
from simulate.analysis.target import Target, evaluator
from simulate.engine.compiler import compile_model
from simulate.spec.calendar import Period, Profile, days_in_month, decimal_year, year_values
from tests.helpers import load_text

SAMPLES = 20_000

STEPS = """\
[period]
start = 2023-01-01
end = 2025-12-31
{resolution}

[parameters.base_kwh_per_day]
dist = "lognormal"
p5 = 100
p95 = 400
unit = "kWh"
source = "test"
rationale = "test"

[parameters.growth]
dist = "uniform"
min = 0.5
max = 1.5
unit = "1"
source = "test"
rationale = "test"

[parameters.cap_kwh_per_day]
dist = "lognormal"
p5 = 150
p95 = 600
unit = "kWh"
source = "test"
rationale = "test"

[parameters.queries_per_month]
dist = "lognormal"
p5 = 1e6
p95 = 1e7
unit = "queries"
source = "test"
rationale = "test"

[derived]
# growth applies at each new year: a step at 2024.0 and 2025.0 (steep ramps that no mid-month or mid-year reads inside)
step_2024 = {{ expr = "min(max((decimal_year - 2024) * 1e6, 0), 1)", unit = "1" }}
step_2025 = {{ expr = "min(max((decimal_year - 2025) * 1e6, 0), 1)", unit = "1" }}
level_kwh = {{ expr = "base_kwh_per_day * (1 + (growth - 1) * step_2024) * (1 + (growth - 1) * step_2025)", unit = "kWh" }}
capped_kwh = {{ expr = "min(level_kwh, cap_kwh_per_day)", unit = "kWh" }}
month_capped_kwh = {{ expr = "min(level_kwh * days_in_month / 30, cap_kwh_per_day)", unit = "kWh" }}
queries = {{ expr = "queries_per_month * day_share", unit = "queries" }}

[outputs]
level_kwh = "sum"
capped_kwh = "sum"
month_capped_kwh = "sum"
queries = "sum"
"""


def steps_model(tmp_path, resolution, name):
    return load_text(tmp_path, STEPS.format(resolution=f'resolution = "{resolution}"'), name)


@pytest.fixture(scope="module")
def month_and_year(tmp_path_factory):
    folder = tmp_path_factory.mktemp("year")
    month, year = steps_model(folder, "month", "month.toml"), steps_model(folder, "year", "year.toml")
    return (month, month.run(samples=SAMPLES, seed=5, keep=SAMPLES),
            year, year.run(samples=SAMPLES, seed=5, keep=SAMPLES))


def test_year_values_are_read_at_the_middle_of_each_year():
    period = Period(dt.date(2023, 7, 1), dt.date(2024, 12, 31), "year")
    values = year_values(period, Profile().day_share(period))
    assert len(values["decimal_year"]) == 18
    # 2023 in the period: July to December, 184 days from day 181 of 365; 2024: all 366 days
    np.testing.assert_allclose(values["decimal_year"][0], 2023 + (181 + 92) / 365, rtol=1e-15)
    np.testing.assert_allclose(values["decimal_year"][6:], 2024.5, rtol=1e-15)
    np.testing.assert_allclose(values["days_since_start"][[0, 6]], [92, 184 + 183], rtol=1e-15)
    np.testing.assert_allclose(values["days_in_month"][0], 184 / 6, rtol=1e-15)        # Jul..Dec: 184 days
    np.testing.assert_allclose(values["days_in_month"][6], 366 / 12, rtol=1e-15)
    np.testing.assert_allclose(values["day_share"][[0, 6]], [6 / 184, 12 / 366], rtol=1e-12)   # flat profile


def test_each_year_is_evaluated_once(month_and_year):
    _, _, year, ds = month_and_year
    program = compile_model(year)
    firsts = [0, 12, 24]
    assert [m for m, n in enumerate(program.year_len) if n] == firsts
    others = [m for m in range(36) if m not in firsts]
    assert np.all(program.evaluation.month_len[others] == 0)     # nothing left to do in a year's other months
    assert "level_kwh_daily" not in ds and ds.sizes["month"] == 36 and ds.sizes["year"] == 3


def test_monthly_cells_are_the_years_value_spread_by_days(month_and_year):
    _, _, _, ds = month_and_year
    months = ds["level_kwh_monthly_samples"].values
    days = ds["month"].dt.days_in_month.values
    per_day = months / days
    for first in (0, 12, 24):    # the same per-day value through each year
        np.testing.assert_allclose(per_day[:, first:first + 12], np.repeat(per_day[:, [first]], 12, 1), rtol=1e-14)
    inputs = ds["inputs"]
    base, growth = (inputs.sel(input=n).values for n in ("base_kwh_per_day", "growth"))
    np.testing.assert_allclose(per_day[:, [0, 12, 24]], np.stack([base, base * growth, base * growth ** 2], 1),
                               rtol=1e-14)


@pytest.mark.parametrize("name", ["level_kwh", "capped_kwh", "queries"])
def test_yearly_and_whole_period_quantiles_are_those_of_month_resolution(month_and_year, name):
    """Nothing inside reads the calendar in a nonlinearity (capped_kwh: a min of inputs constant within
    years) or the output is separable (queries = a monthly count times day_share): the same numbers."""
    _, ds_month, _, ds_year = month_and_year
    np.testing.assert_array_equal(ds_month["inputs"].values, ds_year["inputs"].values)   # the same draws
    for scale in ("yearly", "total"):
        np.testing.assert_allclose(ds_year[f"{name}_{scale}"].values, ds_month[f"{name}_{scale}"].values,
                                   rtol=1e-12)
    np.testing.assert_allclose(ds_year[f"{name}_yearly_mean"].values, ds_month[f"{name}_yearly_mean"].values,
                               rtol=1e-12)


def test_a_separable_output_keeps_its_exact_months(month_and_year):
    _, ds_month, _, ds_year = month_and_year
    np.testing.assert_array_equal(ds_year["queries_monthly_samples"].values, ds_month["queries_monthly_samples"].values)
    q = ds_year["inputs"].sel(input="queries_per_month").values[:, None]
    np.testing.assert_allclose(ds_year["queries_monthly_samples"].values, np.broadcast_to(q, (SAMPLES, 36)), rtol=1e-12)


def test_a_calendar_read_inside_a_nonlinearity_agrees_within_monte_carlo_error(month_and_year):
    _, ds_month, _, ds_year = month_and_year
    moved = False
    for scale in ("yearly", "total"):
        name = f"month_capped_kwh_{scale}"
        m, y = ds_month[name].values, ds_year[name].values
        half_width = (ds_month[f"{name}_ci_high"].values - ds_month[f"{name}_ci_low"].values) / 2
        assert np.all(half_width > 0)
        assert np.all(np.abs(y - m) <= half_width), name
        moved = moved or not np.allclose(y, m, rtol=1e-12, atol=0)
    assert moved     # the year's mean month length does change this output (the test can fail)


def test_an_analysis_of_a_month_inside_a_year_evaluates_the_year_first(month_and_year):
    """A Sobol or tornado evaluator runs only the analysed month's days; the year's once-per-year
    instructions, which live in January's program, move to it."""
    year, ds = month_and_year[2:]
    program = compile_model(year)
    X = ds["inputs"].values[:500]
    for m in (5, 17, 30):
        target = Target("capped_kwh", list(year.flat.outputs).index("capped_kwh"), m, False)
        np.testing.assert_allclose(evaluator(program, target)(X), ds["capped_kwh_monthly_samples"].values[:500, m],
                                   rtol=1e-14)


def test_an_output_may_ask_for_year_resolution_on_a_monthly_model(tmp_path):
    text = STEPS.format(resolution='resolution = "month"').replace('level_kwh = "sum"',
                                                                  'level_kwh = { aggregate = "sum", resolution = "year" }')
    model = load_text(tmp_path, text)
    assert model.resolution_of("level_kwh") == "year" and model.resolution_of("capped_kwh") == "month"
    ds = model.run(samples=2000, seed=1, keep=2000)
    per_day = ds["level_kwh_monthly_samples"].values / ds["month"].dt.days_in_month.values
    np.testing.assert_allclose(per_day[:, :12], np.repeat(per_day[:, [0]], 12, 1), rtol=1e-14)


def test_sensitivity_at_year_resolution_runs_on_a_mid_year_month(month_and_year):
    year = month_and_year[2]
    ds = year.sensitivity("level_kwh", "sobol", samples=256, seed=1, month="2024-07")
    top = str(ds["parameter"].values[0])
    assert top == "base_kwh_per_day" and float(ds["first_order"].sel(parameter="growth")) > 0.05


@pytest.mark.parametrize("value", ["week", "years", "Year", ""])
def test_a_bad_resolution_is_one_clear_error(tmp_path, value):
    with pytest.raises(simulate.ModelError) as info:
        load_text(tmp_path, STEPS.format(resolution=f'resolution = "{value}"'))
    err = info.value
    assert err.field == "period.resolution" and err.value == value and err.path.endswith("model.toml")
    assert "day, month, year" in str(err) and '"year"' in err.fix


def test_year_resolution_refuses_an_input_drawn_month_by_month(tmp_path):
    text = STEPS.format(resolution='resolution = "year"') + """
[parameters.growth.by_month]
"2024-03" = { dist = "uniform", min = 1.0, max = 2.0 }
"""
    with pytest.raises(simulate.ModelError) as info:
        load_text(tmp_path, text)
    err = info.value
    assert err.field == "period.resolution" and err.value == "year"
    assert "growth" in str(err) and "month by month" in str(err) and 'resolution = "month"' in err.fix


@settings(max_examples=60, deadline=None)
@given(start=st.dates(dt.date(2019, 1, 1), dt.date(2027, 12, 31)), length_days=st.integers(1, 1500),
       weekday=st.lists(st.floats(0.2, 5.0), min_size=7, max_size=7), trend=st.floats(-0.002, 0.002))
def test_year_values_keep_each_years_share_and_read_its_middle(start, length_days, weekday, trend):
    """For any period and daily profile: a year's day_share times its days is the sum of its days'
    shares; its decimal_year is the mean of its days' (read at their start) plus half a day; its
    days_in_month times its months is the length of its calendar months."""
    period = Period(start, start + dt.timedelta(days=length_days - 1), "year")
    shares = Profile(tuple(weekday), trend).day_share(period)
    values = year_values(period, shares)
    years = np.array([int(m[:4]) for m in period.months])
    year_of_day = years[period.month_of_day]
    daily_decimal = decimal_year(period)
    lengths = days_in_month(period)
    for year in np.unique(years):
        days, months = year_of_day == year, years == year
        n = days.sum()
        year_days = 366 if calendar.isleap(int(year)) else 365
        np.testing.assert_allclose(values["day_share"][months] * n, shares[days].sum(), rtol=1e-12)
        np.testing.assert_allclose(values["decimal_year"][months], daily_decimal[days].mean() + 0.5 / year_days,
                                   rtol=1e-13)
        firsts = np.searchsorted(period.month_of_day, np.flatnonzero(months))
        np.testing.assert_allclose(values["days_in_month"][months] * months.sum(), lengths[firsts].sum(), rtol=1e-13)
        assert np.all((values["decimal_year"][months] >= year) & (values["decimal_year"][months] < year + 1))
