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


@pytest.mark.parametrize("case", ["three years", "one region"])
def test_fan_chart(datasets, case):
    ds = datasets[case]
    date = ds["date"].values[0]
    fig, ax = plots.fan_chart(ds, "energy_kwh", points=[(date, 2e5, "published")])
    assert isinstance(fig, matplotlib.figure.Figure)
    name, unit = ax.get_ylabel().split("\n")
    assert name == "electricity, per-query path" and unit.endswith(" per day)")
    assert legend_texts(ax) == ["90% interval", "50% interval", "median", "published"]
    median_line = [line for line in ax.get_lines() if line.get_label() == "median"][0]
    factor, _ = labels.scale_for([ds["energy_kwh_daily"].sel(quantile=0.95).max(), 2e5], "kWh")
    expected = ds["energy_kwh_daily"].sel(quantile=0.5).values / factor
    np.testing.assert_allclose(np.unique(median_line.get_ydata()), np.unique(expected))
    assert ax.xaxis.get_major_formatter().format_ticks([0.0])[0] != ""   # tick labels, no offset text
    assert ax.xaxis.get_offset_text().get_text() == ""


def test_one_day_fan_chart_is_an_interval_chart(datasets):
    """A one-day model has no time to draw a band over: one interval row, the day named on the axis."""
    ds = datasets["one day"]
    fig, ax = plots.fan_chart(ds, "energy_kwh", points=[(ds["date"].values[0], 2e5, "published")])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["electricity, per-query path"]
    assert ax.get_xlabel().endswith("15 January 2023")
    q = ds["energy_kwh_monthly"].sel(quantile=[0.05, 0.5, 0.95]).values[:, 0]
    factor, unit = labels.scale_for([max(q[-1], 2e5)], "kWh")
    median = [line for line in ax.get_lines() if line.get_label() == "median"][0]
    assert median.get_xdata()[0] == pytest.approx(q[1] / factor, rel=1e-12)
    point = [line for line in ax.get_lines() if line.get_label().startswith("published: ")][0]
    assert point.get_xdata()[0] == pytest.approx(2e5 / factor) and point.get_ydata()[0] > 0   # above the row
    assert f"{labels.format_number(q[1] / factor)} {unit}" in [t.get_text().split("  ")[0] for t in ax.texts]


def test_fan_chart_as_an_annual_rate(datasets):
    """per="year": each month's total / its days x the days of its year, so February does not dip."""
    ds = datasets["three years"]
    fig, ax = plots.fan_chart(ds, "energy_kwh", per="year")
    median = [line for line in ax.get_lines() if line.get_label() == "median"][0].get_ydata()
    monthly = ds["energy_kwh_monthly"].sel(quantile=0.5).values
    months = [str(m)[:7] for m in ds["month"].values.astype("datetime64[M]")]
    feb = months.index("2024-02")                       # a leap February: 366 / 29
    assert median[feb] / median[0] == pytest.approx(monthly[feb] * 366 / 29 / (monthly[0] * 365 / 31), rel=1e-12)
    assert "per year, at each month's rate" in ax.get_ylabel()


def test_log_axis_ends_on_a_labelled_tick_above_the_band(datasets):
    """The top of the 90% band is never above the last labelled tick (co2 fan chart: 350 t, ticks to 500)."""
    ds = datasets["one region"]
    _, ax = plots.fan_chart(ds, "energy_kwh")
    assert ax.get_yscale() == "log"      # p5..p95 of queries span two decades
    top = ax.get_ylim()[1]
    band = ds["energy_kwh_daily"].sel(quantile=0.95).values.max()
    factor, _ = labels.scale_for([band], "kWh")
    assert top >= band / factor
    assert any(np.isclose(t, top) for t in ax.get_yticks())
    _, ax = plots.fan_chart(ds, "fleet_energy_kwh")
    assert ax.get_yscale() == "linear"   # 2.4..7.2 MWh a day


def _annotations(ax):
    return [t.get_text() for t in ax.texts]


@pytest.mark.parametrize("case", ["three years", "one region"])
def test_distribution(datasets, case):
    ds = datasets[case]
    draws = ds["energy_kwh_monthly_samples"].values[:, 0]
    value = float(np.median(draws))
    fig, (ax_pdf, ax_cdf) = plots.distribution(ds, "energy_kwh", marks={"published": value, "far below": 1e-3})
    assert ax_cdf.get_ylabel() == "share of draws at or below"
    assert "(MWh)" in ax_cdf.get_xlabel() or "(GWh)" in ax_cdf.get_xlabel() or "(kWh)" in ax_cdf.get_xlabel()
    texts = _annotations(ax_pdf)
    expected = labels.percentile_text(labels.percentile_of(draws, value))
    assert any(t.startswith("published: ") and t.endswith(f"({expected})") for t in texts)
    assert any(t.startswith("far below: ") and t.endswith("(below every draw)") for t in texts)   # never "P0.0"
    assert abs(labels.percentile_of(draws, value) - 50) < 0.1
    styles = [line.get_linestyle() for line in ax_cdf.get_lines()[-2:]]
    assert styles[0] != styles[1]          # two marks never share one style


def test_distribution_log_scale_can_be_forced(datasets):
    ds = datasets["one region"]
    _, (_, ax) = plots.distribution(ds, "fleet_energy_kwh", log=True)
    assert ax.get_xscale() == "log"
    _, (_, ax) = plots.distribution(ds, "fleet_energy_kwh")
    assert ax.get_xscale() == "linear"


def test_distribution_from_quantiles_only(datasets):
    ds = datasets["three years"].drop_vars([v for v in datasets["three years"].data_vars if v.endswith("_samples")])
    fig, (ax_pdf, ax_cdf) = plots.distribution(ds, "energy_kwh", month="2024-06", marks=[("corner", 1e5)])
    line = ax_cdf.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), ds["quantile"].values)
    assert any(t.startswith("corner: ") for t in _annotations(ax_pdf))
    assert "quantiles only" in ax_pdf.get_title()


@pytest.mark.parametrize("value,text", [(0, "below every draw"), (100, "above every draw"), (0.05, "P<0.1"),
                                        (99.95, "P>99.9"), (45.1, "P45.1")])
def test_percentile_text(value, text):
    assert labels.percentile_text(value) == text


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
    assert ax_box.get_yscale() == "log"       # always: the two paths and their ratio read alike in every report
    # the calibration's path_ratio is paths[0] / paths[1]: the figure uses the same direction
    ratio = ds["energy_kwh_monthly_samples"].values[:, 0] / ds["fleet_energy_kwh_monthly_samples"].values[:, 0]
    texts = legend_texts(ax_ratio)
    assert f"median {labels.format_number(float(np.quantile(ratio, 0.5)), 2)}" in texts
    assert ax_ratio.get_xlabel() == "per-query path / fleet path (same draws)"


def test_paths_needs_kept_draws(datasets):
    ds = datasets["one region"].drop_vars([v for v in datasets["one region"].data_vars if v.endswith("_samples")])
    with pytest.raises(ModelError, match="keep=N"):
        plots.paths(ds)


@pytest.mark.parametrize("case", ["one day", "three years", "one region"])
def test_co2_by_region(datasets, case):
    ds = datasets[case]
    regions = plots.region_outputs(ds, "co2_kg")
    expected = {"only": "co2_only_kg"} if case == "one region" else {"east": "co2_east_kg", "west": "co2_west_kg"}
    assert {r: da.name[:-len("_monthly")] for r, da in regions.items()} == expected
    fig, ax = plots.co2_by_region(ds)
    assert "CO2e" in ax.get_title()
    names = {r: da.attrs["label"] for r, da in regions.items()}   # "CO2e from east"
    if ds.sizes["month"] == 1:
        rows = [t.get_text() for t in ax.get_yticklabels()]
        medians = {r: float(da.sel(quantile=0.5).values[0]) for r, da in regions.items()}
        assert rows == ["total"] + [names[r] for r in sorted(medians, key=lambda r: -medians[r])]
        assert legend_texts(ax) == ["90% interval", "50% interval", "median"]
        unit = ax.get_xlabel().rsplit("(", 1)[1].rstrip(")")
        assert all(t.get_text().split("  ")[0].endswith(f" {unit}") for t in ax.texts)   # numbers in the axis unit
        assert all("e-0" not in t.get_text() for t in ax.get_xticklabels())   # plain tick numbers
    else:
        assert sorted(legend_texts(ax)) == sorted(f"{names[r]} (median, 90% band)" for r in regions)


def test_unknown_output_is_a_model_error(datasets):
    with pytest.raises(ModelError, match="use one of"):
        plots.fan_chart(datasets["one day"], "water_l")


def test_shipped_model_co2_regions_match_its_regions():
    model = simulate.load(ROOT / "priors" / "chatgpt-2023-01.toml")
    ds = model.run(samples=500, seed=0)
    assert sorted(plots.region_outputs(ds)) == sorted(model.regions.names)
