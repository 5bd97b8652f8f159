"""Sensitivity analysis against closed forms: Ishigami, log of a lognormal product, a grouped
monthly model, a Dirichlet split, a tornado done by hand, exact sweeps with common random numbers."""
from __future__ import annotations

import math
import textwrap

import matplotlib.figure
import numpy as np
import pytest
import xarray as xr
from scipy import stats

import simulate
from simulate.analysis.groups import Group
from simulate.analysis.sobol import grouped_sobol
from simulate.cli import main
from simulate.results.netcdf import open_results

SOURCE = 'source = "test"'


def write_model(tmp_path, parameters: str, derived: str, outputs: str, *, start="2023-01-01",
                end="2023-01-01", regions: str = "", name="m"):
    text = f"""
[model]
name = "{name}"
title = "test model"

[period]
start = {start}
end = {end}

{parameters}
{regions}
[derived]
{derived}

[outputs]
{outputs}
"""
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return simulate.load(path)


def param(name, spec, unit="1"):
    return f'[parameters.{name}]\n{spec}\nunit = "{unit}"\n{SOURCE}\n'


def bin_width(value):
    """Width of the results histogram's bin holding ``value`` (256 bins per octave)."""
    return 2.0 ** math.floor(math.log2(abs(value))) / 256


# -- Sobol ----------------------------------------------------------------------------------------
def ishigami(X, a=7.0, b=0.1):
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


def test_ishigami_indices_lie_in_their_intervals():
    # Ishigami & Homma 1990; variances from Saltelli et al. 2008, Global Sensitivity Analysis, p. 179
    a, b = 7.0, 0.1
    v1 = 0.5 * (1 + b * np.pi ** 4 / 5) ** 2
    v2 = a ** 2 / 8
    v13 = 8 * b ** 2 * np.pi ** 8 / 225
    var = a ** 2 / 8 + b * np.pi ** 4 / 5 + b ** 2 * np.pi ** 8 / 18 + 0.5
    first = np.array([v1, v2, 0.0]) / var
    total = np.array([v1 + v13, v2, v13]) / var
    law = stats.uniform(-np.pi, 2 * np.pi)
    groups = [Group.of_function(f"x{i}", (i,), lambda u: law.ppf(u)) for i in range(3)]
    res = grouped_sobol(ishigami, groups, 3, 2 ** 13, seed=3)
    for key, truth in (("first_order", first), ("total_order", total)):
        low, high = res[f"{key}_low"][0], res[f"{key}_high"][0]
        assert np.all(low <= truth) and np.all(truth <= high), (key, low, truth, high)
        assert np.all(high - low < 0.15)   # informative intervals, not [-1, 2]
    assert res["evaluations"] == 2 ** 13 * 5


def test_log_of_lognormal_product_first_order_is_variance_share(tmp_path):
    sigmas = {"a": 0.3, "b": 0.5, "c": 0.7}
    params = "".join(param(k, f'dist = "lognormal"\nmu = 0.5\nsigma = {s}') for k, s in sigmas.items())
    model = write_model(tmp_path, params, 'log_out = { expr = "log(a * b * c)", unit = "1" }',
                        'log_out = "mean"')
    ds = model.sensitivity("log_out", "sobol", samples=2 ** 12, seed=1)
    share = {k: s ** 2 / sum(v ** 2 for v in sigmas.values()) for k, s in sigmas.items()}
    assert list(ds["parameter"].values) == ["c", "b", "a"]     # sorted by first-order index
    for k, truth in share.items():
        one = ds.sel(parameter=k)
        for key in ("first_order", "total_order"):     # additive in log: total = first
            assert float(one[f"{key}_low"]) <= truth <= float(one[f"{key}_high"]), (k, key, truth)
    assert ds["output_variance"] == pytest.approx(sum(s ** 2 for s in sigmas.values()), rel=0.05)


def test_monthly_parameter_is_one_group_with_daily_indices(tmp_path):
    params = ('[parameters.x]\nunit = "1"\nsource = "t"\n[parameters.x.by_month]\n'
              '"2023-01" = { dist = "uniform", min = 0, max = 1 }\n'
              '"2023-02" = { dist = "uniform", min = 0, max = 3 }\n'
              + param("y", 'dist = "uniform"\nmin = 0\nmax = 1'))
    model = write_model(tmp_path, params, 'out = { expr = "x + y", unit = "1" }', 'out = "mean"',
                        end="2023-02-28")
    ds = model.sensitivity("out", "sobol", samples=2 ** 11, seed=2, daily=True)
    assert dict(zip(ds["parameter"].values, ds["members"].values))["x"] == "x[2023-01], x[2023-02]"
    assert ds.sizes["date"] == 59
    x = ds.sel(parameter="x")
    january = ds["date"].dt.month == 1
    truth = xr.where(january, 0.5, 0.9)     # var x / (var x + var y): 1/12 against 1/12, then 9/12
    assert bool(((x["first_order_low"] <= truth) & (truth <= x["first_order_high"])).all())
    assert bool(((x["total_order_low"] <= truth) & (truth <= x["total_order_high"])).all())


def test_dirichlet_shares_are_one_group_sampled_jointly(tmp_path):
    g, m, c = np.array([100.0, 400.0, 800.0]), np.array([0.5, 0.3, 0.2]), 10.0
    regions = '[regions]\nshares = "dirichlet"\nconcentration = 10\nsource = "t"\n' + "".join(
        f'[regions.r{i}]\nshare = {m[i]}\nintensity_g_per_kwh = {{ dist = "fixed", value = {g[i]}, source = "t" }}\n'
        for i in range(3))
    model = write_model(tmp_path, param("e_kwh", 'dist = "uniform"\nmin = 1\nmax = 3', "kWh"),
                        'co2_kg = { expr = "e_kwh * grid_g_per_kwh / 1000" }', 'co2_kg = "sum"',
                        regions=regions)
    # grid = sum share_r g_r with Dirichlet shares: var = (sum m g^2 - (sum m g)^2) / (c + 1)
    mean_g = m @ g
    var_g = (m @ g ** 2 - mean_g ** 2) / (c + 1)
    mean_e, var_e = 2.0, 1 / 3
    var = var_e * var_g + mean_e ** 2 * var_g + mean_g ** 2 * var_e
    truth = {"region shares": (mean_e ** 2 * var_g / var, (var_e + mean_e ** 2) * var_g / var),
             "e_kwh": (mean_g ** 2 * var_e / var, (var_g + mean_g ** 2) * var_e / var)}
    ds = model.sensitivity("co2_kg", "sobol", samples=2 ** 12, seed=4)
    assert set(ds["parameter"].values) == set(truth)
    assert "grid_r0_g_per_kwh" in ds.attrs["fixed_parameters"]
    shares = ds.sel(parameter="region shares")
    assert str(shares["members"].values) == "share_r0, share_r1, share_r2"
    for name, (s1, st) in truth.items():
        one = ds.sel(parameter=name)
        assert float(one["first_order_low"]) <= s1 <= float(one["first_order_high"]), (name, s1)
        assert float(one["total_order_low"]) <= st <= float(one["total_order_high"]), (name, st)


# -- tornado ------------------------------------------------------------------------------------------
def test_tornado_matches_the_arithmetic(tmp_path):
    uniform = 'dist = "uniform"\nmin = 0\nmax = 1'
    model = write_model(tmp_path, param("a", uniform) + param("b", uniform),
                        'out = { expr = "a + 2 * b", unit = "1" }', 'out = "mean"')
    n = 20_000
    ds = model.sensitivity("out", "tornado", samples=n, seed=5)
    assert list(ds["parameter"].values) == ["b", "a"]
    assert ds["input_low"].values == pytest.approx([0.05, 0.05], abs=1e-12)
    assert ds["input_high"].values == pytest.approx([0.95, 0.95], abs=1e-12)
    # Common random numbers: fixing a shifts every sample of a + 2b by the same amount, so the
    # swing is exact up to the two medians' histogram bins: 0.9 for a, 2 x 0.9 for b.
    for name, swing in (("a", 0.9), ("b", 1.8)):
        one = ds.sel(parameter=name)
        tol = bin_width(float(one["output_low"])) + bin_width(float(one["output_high"]))
        assert abs(float(one["swing"]) - swing) <= tol
    # The medians themselves: median(2b) + a's end, and median(a) + 2 x b's end. The sample median
    # of U(0, 1) has sd 1 / (2 sqrt(n)) (f = 1 at the median); 2b doubles it.
    sd = 1 / (2 * math.sqrt(n))
    b = ds.sel(parameter="b")
    assert abs(float(b["output_low"]) - (0.5 + 0.1)) <= 4 * sd + bin_width(0.6)
    assert abs(float(b["output_high"]) - (0.5 + 1.9)) <= 4 * sd + bin_width(2.4)
    a = ds.sel(parameter="a")
    assert abs(float(a["output_low"]) - (1.0 + 0.05)) <= 8 * sd + bin_width(1.05)


def test_daily_tornado_in_day_chunks_matches_the_arithmetic(tmp_path, monkeypatch):
    """out = (a + 2 b) x day_share, a and b uniform: fixing a shifts every kept draw of day d by
    share(d) x a's value, so each day's swing is share(d) x 0.9 exactly, chunked or not."""
    from simulate.analysis import tornado as sensitivity_module

    uniform = 'dist = "uniform"\nmin = 0\nmax = 1'
    model = write_model(tmp_path, param("a", uniform) + param("b", uniform),
                        'out = { expr = "(a + 2 * b) * day_share", unit = "1" }', 'out = "sum"',
                        end="2023-01-10")
    share = model.profile.day_share(model.period)
    whole = model.sensitivity("out", "tornado", samples=3000, seed=4, daily=True)
    monkeypatch.setattr(sensitivity_module, "TORNADO_CELLS", 3000 * 3)   # days in chunks of 3
    chunked = model.sensitivity("out", "tornado", samples=3000, seed=4, daily=True)
    np.testing.assert_allclose(whole.sel(parameter="a")["swing"].values, 0.9 * share, rtol=1e-9)
    np.testing.assert_allclose(whole.sel(parameter="b")["swing"].values, 1.8 * share, rtol=1e-9)
    for var in ("output_low", "output_high", "swing", "baseline"):
        np.testing.assert_array_equal(chunked[var].values, whole[var].values)


# -- rank correlation ----------------------------------------------------------------------------
def test_rank_uses_the_month_of_each_monthly_draw(tmp_path):
    params = ('[parameters.a]\nunit = "1"\nsource = "t"\ndist = "uniform"\nmin = 0\nmax = 1\n'
              '[parameters.a.by_month]\n"2023-02" = { dist = "uniform", min = 0, max = 2 }\n'
              + param("b", 'dist = "normal"\nmean = 0\nsd = 1'))
    model = write_model(tmp_path, params, 'out = { expr = "a ** 3", unit = "1" }', 'out = "mean"',
                        end="2023-02-28")
    n = 5_000
    ds = model.sensitivity("out", "rank", samples=n, seed=6, month="2023-02")
    a, b = ds.sel(parameter="a"), ds.sel(parameter="b")
    assert float(a["rho"]) == pytest.approx(1.0, abs=1e-12)    # monotone in February's draw
    assert str(a["members"].values) == "a[2023-01], a[2023-02]"
    assert abs(float(b["rho"])) < 4 / math.sqrt(n - 1)        # unused: rho ~ N(0, 1/(n-1))
    assert list(ds["parameter"].values) == ["a", "b"]


# -- sweeps --------------------------------------------------------------------------------------
def test_sweep_over_a_multiplier_scales_every_quantile(tmp_path):
    params = param("x_kwh", 'dist = "lognormal"\np5 = 10\np95 = 100', "kWh") + \
        param("k", 'dist = "uniform"\nmin = 1\nmax = 2')
    model = write_model(tmp_path, params, 'energy_kwh = { expr = "x_kwh * k * day_share" }',
                        'energy_kwh = "sum"', end="2023-01-10")
    ds = model.sweep("k", [1.0, 2.0, 4.0, 1.5], samples=20_000, seed=7, keep=1000)
    assert ds["k"].values.tolist() == [1.0, 2.0, 4.0, 1.5]
    one = ds.sel(k=1.0)
    for factor in (2.0, 4.0):      # powers of 2 move every IEEE-754 histogram key by whole octaves
        other = ds.sel(k=factor)
        for var in ("energy_kwh_monthly", "energy_kwh_daily", "energy_kwh_monthly_mean", "energy_kwh_monthly_std"):
            np.testing.assert_array_equal(other[var].values, factor * one[var].values)
    # Any factor: the kept per-sample values scale exactly (to rounding); the quantiles to within
    # a bin of the histogram on each side.
    np.testing.assert_allclose(ds.sel(k=1.5)["energy_kwh_monthly_samples"].values,
                               1.5 * one["energy_kwh_monthly_samples"].values, rtol=1e-12)
    np.testing.assert_allclose(ds.sel(k=1.5)["energy_kwh_monthly"].values, 1.5 * one["energy_kwh_monthly"].values,
                               rtol=2 / 256)
    x = ds["inputs"].sel(input="x_kwh").values    # common random numbers: x takes the same draws
    assert (x == x[0]).all()


# -- bad input -------------------------------------------------------------------------------------
@pytest.fixture
def small(tmp_path):
    uniform = 'dist = "uniform"\nmin = 0\nmax = 1'
    return write_model(tmp_path, param("a", uniform) + param("b", uniform) + param("c", 'dist = "fixed"\nvalue = 2'),
                       'out = { expr = "a + 2 * b * c", unit = "1" }', 'out = "mean"')


@pytest.mark.parametrize("call, field, words", [
    (lambda m: m.sensitivity("nope", "rank"), "output", "use one of ['out']"),
    (lambda m: m.sensitivity("out", "sobol", samples=1000), "samples", "such as 512 or 1024"),
    (lambda m: m.sensitivity("out", "sobol", samples=32), "samples", "power of 2"),
    (lambda m: m.sensitivity("out", "anova"), "method", "sobol"),
    (lambda m: m.sensitivity("out", "rank", month="2024-05"), "month", "YYYY-MM"),
    (lambda m: m.sensitivity("out", "tornado", parameters=["zz"]), "parameters", "use one of"),
    (lambda m: m.sensitivity("out", "tornado", parameters=["c"]), "parameters", "is fixed"),
    (lambda m: m.sweep("zz", [1, 2], samples=1000), "parameter", "use one of"),
    (lambda m: m.sweep("a", [], samples=1000), "values", "non-empty"),
])
def test_bad_input_names_field_and_fix(small, call, field, words):
    with pytest.raises(simulate.ModelError) as err:
        call(small)
    assert err.value.field == field
    assert err.value.path == small.path
    assert words in str(err.value) and "Fix:" in str(err.value)


# -- CLI and charts --------------------------------------------------------------------------------
def test_cli_prints_ranked_table_and_writes_dataset_and_figure(small, tmp_path, capsys):
    nc, png = tmp_path / "t.nc", tmp_path / "t.png"
    code = main(["sensitivity", str(small.path), "--output", "out", "--method", "tornado", "--samples", "2000",
                 "--out", str(nc), "--figure", str(png)])
    text = capsys.readouterr().out
    assert code == 0
    lines = text.splitlines()
    assert lines.index(next(l for l in lines if l.startswith("b "))) < lines.index(next(l for l in lines if l.startswith("a ")))
    assert "fixed (no spread, not ranked): c" in text
    back = open_results(nc)     # CF: the names of a dimension are stored as a label variable
    assert list(back["parameter"].values) == ["b", "a"] and back.attrs["method"] == "tornado"
    back.close()
    assert png.stat().st_size > 1000
    assert main(["sensitivity", str(small.path), "--output", "nope"]) == 2
    assert "use one of ['out']" in capsys.readouterr().err


def test_charts_draw_what_they_are_given(small):
    from simulate import plots

    tornado = small.sensitivity("out", "tornado", samples=2000)
    fig, ax = plots.tornado_chart(tornado)
    assert isinstance(fig, matplotlib.figure.Figure) and len(ax.patches) == 2 * 2
    sobol = small.sensitivity("out", "sobol", samples=256, daily=True)
    fig, ax = plots.indices_over_time(sobol)
    assert len(ax.lines) == 2
    fig, ax = plots.sobol_bars(sobol)
    assert len(ax.patches) == 2 * 2
    swept = small.sweep("a", [0.2, 0.5, 0.8], samples=2000)
    fig, ax = plots.sweep_bands(swept, "out")
    np.testing.assert_allclose(ax.lines[0].get_ydata(), swept["out_monthly"].sel(quantile=0.5)[:, 0])


CORRELATED = textwrap.dedent("""
        [period]
        start = 2023-01-01
        end = 2023-01-01
        [parameters.a]
        dist = "normal"
        mean = 0
        sd = 1
        unit = "1"
        source = "test"
        [parameters.b]
        dist = "normal"
        mean = 0
        sd = 1
        unit = "1"
        source = "test"
        [parameters.c]
        dist = "normal"
        mean = 0
        sd = 1
        unit = "1"
        source = "test"
        [[correlations]]
        between = ["a", "b"]
        rank = 0.6
        source = "test"
        [derived]
        y = { expr = "a + b + c", unit = "1" }
        [outputs]
        y = "sum"
""")


def test_correlated_inputs_are_one_sobol_group(tmp_path):
    """y = a + b + c with a, b rank-correlated: the group {a, b} carries Var(a + b) / Var(y)."""
    from simulate.spec.correlation import spearman_to_normal

    text = CORRELATED
    path = tmp_path / "corr.toml"
    path.write_text(text)
    ds = simulate.load(path).sensitivity("y", "sobol", samples=4096, seed=1)
    r = float(spearman_to_normal(0.6))            # normal inputs: the copula correlation is Pearson's
    group = (2 + 2 * r) / (3 + 2 * r)
    assert list(ds["parameter"].values) == ["a + b", "c"]
    row = ds.sel(parameter="a + b")
    assert float(row["first_order_low"]) <= group <= float(row["first_order_high"])
    assert float(ds.sel(parameter="c")["first_order_low"]) <= 1 / (3 + 2 * r) <= float(
        ds.sel(parameter="c")["first_order_high"])
    assert "valid" in ds.attrs["validity"]


def test_tornado_moves_each_correlated_input_alone(tmp_path):
    """y = a + b + c, a and b rank-correlated: one bar each; fixing a shifts every kept draw by the
    same amount (b keeps its draws), so the swing is a's p95 - p5 exactly."""
    path = tmp_path / "corr.toml"
    path.write_text(CORRELATED)
    ds = simulate.load(path).sensitivity("y", "tornado", samples=5000, seed=2)
    assert sorted(ds["parameter"].values) == ["a", "b", "c"]
    width = stats.norm.ppf(0.95) - stats.norm.ppf(0.05)
    np.testing.assert_allclose(ds["swing"].values, width, rtol=1e-9)
