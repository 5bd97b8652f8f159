"""Plot functions: labelled axes, legend entries, SI units, log axes; one day, several years, one region."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import simulate  # noqa: E402
from simulate import plots  # noqa: E402
from simulate.errors import ModelError  # noqa: E402
from simulate.plots import labels  # noqa: E402
from tests.helpers import ROOT  # noqa: E402

SMALL_MODEL = """
[model]
name = "small"
title = "Small test model"

[period]
start = {start}
end = {end}

[parameters.queries]
dist = "lognormal"
p5 = 1e6
p95 = 1e8
unit = "queries/month"
source = "test"
rationale = "spans two decades"

[parameters.energy_per_query_kwh]
dist = "uniform"
min = 0.001
max = 0.003
unit = "kWh/query"
source = "test"
rationale = "test"

[parameters.fleet_kw]
dist = "uniform"
min = 100
max = 300
unit = "kW"
source = "test"
rationale = "test"

[regions]
shares = "{mode}"
concentration = 20
source = "test"
{regions}

[derived]
energy_kwh = {{ expr = "queries * day_share * energy_per_query_kwh", long_name = "electricity, per-query path" }}
fleet_energy_kwh = {{ expr = "fleet_kw * 24", long_name = "electricity, fleet path" }}
co2_kg = {{ expr = "energy_kwh * grid_g_per_kwh / 1000", long_name = "CO2e" }}
{region_derived}

[outputs]
energy_kwh = "sum"
fleet_energy_kwh = "sum"
co2_kg = "sum"
{region_outputs}
"""

TWO_REGIONS = {"east": 0.6, "west": 0.4}


def small_model(tmp_path, start, end, regions=TWO_REGIONS):
    mode = "dirichlet" if len(regions) > 1 else "fixed"
    text = SMALL_MODEL.format(
        start=start, end=end, mode=mode,
        regions="\n".join(f'[regions.{r}]\nshare = {s}\nintensity_g_per_kwh = {{ dist = "uniform", min = 200, max = 400, source = "test" }}'
                          for r, s in regions.items()),
        region_derived="\n".join(f'co2_{r}_kg = {{ expr = "energy_kwh * share_{r} * grid_{r}_g_per_kwh / 1000", long_name = "CO2e from {r}" }}'
                                 for r in regions),
        region_outputs="\n".join(f'co2_{r}_kg = "sum"' for r in regions))
    path = tmp_path / f"small-{start}-{end}-{len(regions)}.toml"
    path.write_text(text)
    return simulate.load(path)


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("models")
    return {
        "one day": small_model(tmp, "2023-01-15", "2023-01-15").run(samples=3000, seed=1, keep=3000),
        "three years": small_model(tmp, "2022-01-01", "2024-12-31").run(samples=2000, seed=1, keep=2000),
        "one region": small_model(tmp, "2023-01-01", "2023-01-31", {"only": 1.0}).run(samples=3000, seed=1, keep=3000),
    }


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def legend_texts(ax):
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


@pytest.mark.parametrize("case", ["one day", "three years", "one region"])
def test_fan_chart(datasets, case):
    ds = datasets[case]
    date = ds["date"].values[0]
    fig, ax = plots.fan_chart(ds, "energy_kwh", points=[(date, 2e5, "published")])
    assert isinstance(fig, matplotlib.figure.Figure)
    assert ax.get_ylabel().split("\n")[0] == "electricity, per-query path, per day"
    assert legend_texts(ax) == ["90% interval", "50% interval", "median", "published"]
    median_line = [line for line in ax.get_lines() if line.get_label() == "median"][0]
    factor, _ = labels.scale_for([ds["energy_kwh_daily"].sel(quantile=0.95).max()], "kWh")
    expected = ds["energy_kwh_daily"].sel(quantile=0.5).values / factor
    np.testing.assert_allclose(np.unique(median_line.get_ydata()), np.unique(expected))


def test_fan_chart_uses_log_axis_when_values_span_decades(datasets):
    _, ax = plots.fan_chart(datasets["one region"], "energy_kwh")
    assert ax.get_yscale() == "log"      # p5..p95 of queries span two decades
    _, ax = plots.fan_chart(datasets["one region"], "fleet_energy_kwh")
    assert ax.get_yscale() == "linear"   # 2.4..7.2 MWh a day


@pytest.mark.parametrize("case", ["one day", "three years", "one region"])
def test_distribution(datasets, case):
    ds = datasets[case]
    draws = ds["energy_kwh_monthly_samples"].values[:, 0]
    value = float(np.median(draws))
    fig, (ax_pdf, ax_cdf) = plots.distribution(ds, "energy_kwh", marks={"published": value})
    assert ax_cdf.get_ylabel() == "cumulative probability"
    assert "(MWh)" in ax_cdf.get_xlabel() or "(GWh)" in ax_cdf.get_xlabel() or "(kWh)" in ax_cdf.get_xlabel()
    texts = legend_texts(ax_cdf)
    assert any(t.startswith("published: ") and t.endswith(f"(P{labels.percentile_of(draws, value):.1f})") for t in texts)
    assert abs(labels.percentile_of(draws, value) - 50) < 0.1


def test_distribution_from_quantiles_only(datasets):
    ds = datasets["three years"].drop_vars([v for v in datasets["three years"].data_vars if v.endswith("_samples")])
    fig, (ax_pdf, ax_cdf) = plots.distribution(ds, "energy_kwh", month="2024-06", marks=[("corner", 1e5)])
    line = ax_cdf.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), ds["quantile"].values)
    assert "corner: " in " ".join(legend_texts(ax_cdf))
    assert "quantiles only" in ax_pdf.get_title()


def test_percentile_of_matches_scipy():
    from scipy import stats

    draws = np.random.default_rng(0).normal(size=1001)
    for value in (-1.0, 0.0, 0.7):
        assert labels.percentile_of(draws, value) == pytest.approx(stats.percentileofscore(draws, value, kind="weak"))


@pytest.mark.parametrize("case", ["one day", "three years", "one region"])
def test_paths_and_ratio(datasets, case):
    ds = datasets[case]
    fig, (ax_box, ax_ratio) = plots.paths(ds, ("energy_kwh", "fleet_energy_kwh"))
    assert [t.get_text() for t in ax_box.get_xticklabels()] == ["per-query path", "fleet path"]
    assert legend_texts(ax_box) == ["90% interval", "50% interval", "median"]
    ratio = ds["fleet_energy_kwh_monthly_samples"].values[:, 0] / ds["energy_kwh_monthly_samples"].values[:, 0]
    texts = legend_texts(ax_ratio)
    assert f"median {labels.format_number(float(np.quantile(ratio, 0.5)), 2)}" in texts
    assert ax_ratio.get_xlabel() == "fleet path / per-query path (same draws)"


def test_paths_needs_kept_draws(datasets):
    ds = datasets["one region"].drop_vars([v for v in datasets["one region"].data_vars if v.endswith("_samples")])
    with pytest.raises(ModelError, match="keep=N"):
        plots.paths(ds)


@pytest.mark.parametrize("case", ["one day", "three years", "one region"])
def test_co2_by_region(datasets, case):
    ds = datasets[case]
    regions = plots.region_outputs(ds, "co2_kg")
    expected = {"only": "co2_only_kg"} if case == "one region" else {"east": "co2_east_kg", "west": "co2_west_kg"}
    assert regions == expected
    fig, ax = plots.co2_by_region(ds)
    assert "CO2e" in ax.get_title()
    if ds.sizes["month"] == 1:
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert labels[-1] == "total" and sorted(labels[:-1]) == sorted(regions)
        assert legend_texts(ax) == ["90% interval", "50% interval", "median"]
    else:
        assert sorted(legend_texts(ax)) == sorted(f"{r} (median, 90% band)" for r in regions)


def test_unknown_output_is_a_model_error(datasets):
    with pytest.raises(ModelError, match="use one of"):
        plots.fan_chart(datasets["one day"], "water_l")


def test_shipped_model_co2_regions_match_its_regions():
    model = simulate.load(ROOT / "priors" / "chatgpt-2023-01.toml")
    ds = model.run(samples=500, seed=0)
    assert sorted(plots.region_outputs(ds)) == sorted(model.regions.names)
