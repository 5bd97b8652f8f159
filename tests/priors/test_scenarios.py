"""The published ChatGPT January 2023 figures, reproduced by the engine from the shipped model file,
and the two paths' arithmetic on random draws.

Each scenario test redoes the source's arithmetic from the scenario's own values (never from literals)
and checks the engine gives exactly that, and that it rounds to the figure the source published:
Ludvigsen's top corner 23.4 GWh and "175,000 people" (Ludvigsen, Mar 2023, via resconda.it),
de Vries' fleet bound of 3,617 HGX servers at 6.5 kW (de Vries 2023, Joule).
"""

import numpy as np
import pytest
from scipy import stats

import simulate
from simulate.errors import ModelError
from tests.helpers import CHATGPT, point_value

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model():
    return simulate.load(CHATGPT)


def _monthly(ds, name):
    return ds[f"{name}_monthly"].values[:, 0]


def per_query_energy_kwh(model, scenario):
    """visits x queries per visit x Ludvigsen's energy per query x PUE, from the file's values."""
    def v(name):
        return point_value(model, name, scenario)
    return v("visits") * v("queries_per_visit") * v("it_energy_kwh_per_query") * v("pue")


def test_top_corner_is_ludvigsens_arithmetic(model):
    ds = model.with_scenario("ludvigsen_high").run(samples=2000, seed=3)
    expected = per_query_energy_kwh(model, "ludvigsen_high")
    energy = _monthly(ds, "energy_kwh")
    np.testing.assert_allclose(energy, expected, rtol=1e-12)
    np.testing.assert_allclose(_monthly(ds, "it_energy_kwh"), expected, rtol=1e-12)   # his boundary: no PUE
    assert round(energy[3] / 1e6, 1) == 23.4                       # the published "23.4 GWh"
    assert round(914 / 230768, 5) == point_value(model, "it_energy_kwh_per_query", "ludvigsen_high")  # BLOOM's, rounded
    people = _monthly(ds, "danish_people_equivalent")
    per_person_month = point_value(model, "danish_household_kwh_per_person_year") / 12
    np.testing.assert_allclose(people, expected / per_person_month, rtol=1e-12)
    assert round(people[3], -3) == 175_000                         # the published "175,000 people"
    assert ds.attrs["scenario"] == "ludvigsen_high"


def test_bottom_corner_is_the_hypothesised_arithmetic(model):
    ds = model.with_scenario("ludvigsen_low").run(samples=2000, seed=3)
    np.testing.assert_allclose(_monthly(ds, "energy_kwh"), per_query_energy_kwh(model, "ludvigsen_low"), rtol=1e-12)
    assert model.scenarios["ludvigsen_low"].status == "U"


def test_de_vries_fleet_bound(model):
    ds = model.with_scenario("de_vries_fleet").run(samples=2000, seed=3)

    def v(name):
        return point_value(model, name, "de_vries_fleet")
    hours = 24 * 31
    server_kw = v("gpus_per_server") * v("gpu_tdp_w") * v("gpu_busy_power_fraction") * v("host_power_factor") / 1000
    assert server_kw == pytest.approx(6.5, rel=1e-12)             # his DGX A100 nameplate
    # at full power whatever the load: floor + (1 - floor) x load with the floor at the whole busy power
    assert v("idle_power_fraction") == 1.0
    expected = v("hgx_servers") * server_kw * hours * v("pue")
    np.testing.assert_allclose(_monthly(ds, "fleet_it_energy_kwh"), expected, rtol=1e-12)
    np.testing.assert_allclose(_monthly(ds, "fleet_energy_kwh"), expected, rtol=1e-12)
    assert round(expected / 1e6, 2) == 17.49                       # 3,617 x 6.5 kW x 744 h


def test_scenarios_keep_the_other_draws(model):
    """Fixing an input of one path leaves the other path's draws where they were (common random numbers)."""
    base = model.run(samples=3000, seed=5, keep=3000)
    per_query = model.with_fixed({"idle_energy_factor": 1.5}).run(samples=3000, seed=5, keep=3000)
    np.testing.assert_array_equal(base["fleet_energy_kwh_monthly_samples"].values,
                                  per_query["fleet_energy_kwh_monthly_samples"].values)
    fleet = model.with_fixed({"hgx_servers": 3617, "idle_power_fraction": 0.3}).run(samples=3000, seed=5, keep=3000)
    np.testing.assert_array_equal(base["energy_kwh_monthly_samples"].values, fleet["energy_kwh_monthly_samples"].values)


def _inputs(ds):
    return {str(n): ds["inputs"].sel(input=n).values for n in ds["input"].values}


def test_the_per_query_path_is_busy_compute_times_host_idle_and_pue(model):
    """FLOPs / utilisation x power while busy, x host power x idle share x PUE, on the kept draws."""
    ds = model.run(samples=4000, seed=7, keep=4000)
    x = _inputs(ds)

    def v(name):
        return x[name] if name in x else point_value(model, name)
    gpu_s = (v("flop_per_parameter_token") * v("active_parameters")
             * (v("input_tokens_per_query") / v("prefill_flop_utilisation")
                + v("output_tokens_per_query") / v("decode_flop_utilisation")) / v("peak_flop_per_s"))
    busy_kwh = gpu_s * v("gpu_tdp_w") * v("gpu_busy_power_fraction") / 3.6e6
    queries = v("visits") * v("queries_per_visit")
    np.testing.assert_allclose(ds["accelerator_energy_kwh_monthly_samples"].values[:, 0], queries * busy_kwh, rtol=1e-9)
    it = queries * busy_kwh * v("host_power_factor") * v("idle_energy_factor")
    np.testing.assert_allclose(ds["it_energy_kwh_monthly_samples"].values[:, 0], it, rtol=1e-9)
    np.testing.assert_allclose(ds["energy_kwh_monthly_samples"].values[:, 0], it * v("pue"), rtol=1e-9)
    np.testing.assert_allclose(ds["energy_wh_per_query_monthly_samples"].values[:, 0],
                               busy_kwh * v("host_power_factor") * v("idle_energy_factor") * v("pue") * 1000, rtol=1e-9)


def test_the_fleet_path_is_an_idle_floor_plus_the_load_demand_puts_on_it(model):
    """Each day: GPUs x power while busy x (floor + (1 - floor) x min(busy GPU-seconds / available, 1))."""
    ds = model.run(samples=2000, seed=8, keep=2000)
    x = _inputs(ds)

    def v(name):
        return x[name][:, None] if name in x else point_value(model, name)
    share = model.profile.day_share(model.period)[None, :]
    gpu_s = (v("flop_per_parameter_token") * v("active_parameters")
             * (v("input_tokens_per_query") / v("prefill_flop_utilisation")
                + v("output_tokens_per_query") / v("decode_flop_utilisation")) / v("peak_flop_per_s"))
    queries = v("visits") * share * v("queries_per_visit")
    gpus = v("hgx_servers") * v("gpus_per_server")
    load = np.minimum(queries * gpu_s / (gpus * 86400), 1)
    server_kw = v("gpu_tdp_w") * v("gpu_busy_power_fraction") * v("host_power_factor") / 1000
    it = gpus * server_kw * (v("idle_power_fraction") + (1 - v("idle_power_fraction")) * load) * 24
    np.testing.assert_allclose(ds["fleet_it_energy_kwh_monthly_samples"].values[:, 0], it.sum(axis=1), rtol=1e-9)
    days = model.period.n_days
    np.testing.assert_allclose(ds["fleet_load_monthly_samples"].values[:, 0], load.mean(axis=1), rtol=1e-9)
    tokens = (queries * v("output_tokens_per_query") / (gpus * 86400)).sum(axis=1) / days
    np.testing.assert_allclose(ds["implied_tokens_per_gpu_s_monthly_samples"].values[:, 0], tokens, rtol=1e-9)


def test_the_fleet_is_tied_to_demand(model):
    """The server count moves with queries per visit and visits (rank 0.5 and 0.3), as its source sized it."""
    n = 40_000
    x = _inputs(model.run(samples=n, seed=9, keep=n))
    sd = 1.03 / np.sqrt(n - 3)     # Fisher z standard error of a Spearman correlation (Fieller et al. 1957)
    for other, rank in (("queries_per_visit", 0.5), ("visits", 0.3)):
        rho = stats.spearmanr(x["hgx_servers"], x[other]).statistic
        assert abs(np.arctanh(rho) - np.arctanh(rank)) < 4 * sd, (other, rho)
    assert abs(np.arctanh(stats.spearmanr(x["visits"], x["queries_per_visit"]).statistic)) < 4 * sd


def test_every_scenario_says_what_it_is_and_how_sure(model):
    for s in model.scenarios.values():
        assert s.source.strip() and s.description.strip() and s.status in ("S", "S2", "I", "U"), s.name


def test_pue_applies_to_both_paths_once(model):
    """Doubling PUE doubles both facility energies on the same draws, and leaves IT energy alone."""
    one = model.with_fixed({"pue": 1.1}).run(samples=3000, seed=6, keep=3000)
    two = model.with_fixed({"pue": 2.2}).run(samples=3000, seed=6, keep=3000)
    for name in ("energy_kwh", "fleet_energy_kwh"):
        np.testing.assert_allclose(two[f"{name}_monthly_samples"].values, 2 * one[f"{name}_monthly_samples"].values,
                                   rtol=1e-12)


def test_region_contributions_sum_to_co2(model):
    ds = model.run(samples=2000, seed=2, keep=2000)
    x = {str(n): ds["inputs"].sel(input=n).values for n in ds["input"].values}
    energy = ds["energy_kwh_monthly_samples"].values[:, 0]
    parts = sum(energy * x[f"share_{r}"] * x[f"grid_{r}_g_per_kwh"] / 1000 for r in model.regions.names)
    np.testing.assert_allclose(parts, ds["co2_kg_monthly_samples"].values[:, 0], rtol=1e-12)
    # each region's own quantiles sit beside the total's, and their means add up to its mean
    by = ds["co2_kg_by_region_monthly_mean"]
    assert list(by["region"].values) == model.regions.names
    np.testing.assert_allclose(float(by.sum("region")[0]), float(ds["co2_kg_monthly_mean"][0]), rtol=1e-9)


def test_bad_scenario_status_names_the_field(tmp_path):
    text = CHATGPT.read_text().replace('status = "U"', 'status = "maybe"')
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ModelError, match=r"scenarios\.ludvigsen_low\.status = 'maybe'"):
        simulate.load(path)
