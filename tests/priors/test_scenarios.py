"""The published ChatGPT January 2023 corners, reproduced by the engine from the shipped model file.

Each test redoes the source's arithmetic from the scenario's own values (never from literals) and
checks the engine gives exactly that, and that it rounds to the figure the source published:
Ludvigsen's top corner 23.4 GWh and "175,000 people" (Ludvigsen, Mar 2023, via resconda.it),
de Vries' fleet bound of 3,617 HGX servers at 6.5 kW (de Vries 2023, Joule).
"""

import numpy as np
import pytest

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
    """visits x queries per visit x BLOOM's energy per request x scale x PUE, from the file's values."""
    def v(name):
        return point_value(model, name, scenario)
    return (v("visits") * v("queries_per_visit") * v("bloom_deployment_kwh") / v("bloom_requests")
            * v("energy_per_query_scale") * v("pue"))


def test_top_corner_is_ludvigsens_arithmetic(model):
    ds = model.with_scenario("ludvigsen_high").run(samples=2000, seed=3)
    expected = per_query_energy_kwh(model, "ludvigsen_high")
    energy = _monthly(ds, "energy_kwh")
    np.testing.assert_allclose(energy, expected, rtol=1e-12)
    assert round(energy[3] / 1e6, 1) == 23.4                       # the published "23.4 GWh"
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
    expected = v("hgx_servers") * v("server_max_power_kw") * v("power_utilisation") * hours * v("pue")
    np.testing.assert_allclose(_monthly(ds, "fleet_energy_kwh"), expected, rtol=1e-12)


def test_scenarios_keep_the_other_draws(model):
    """Fixing per-query-only inputs leaves the fleet path's draws where they were (common random numbers)."""
    base = model.run(samples=3000, seed=5, keep=3000)
    high = model.with_fixed({"visits": 590e6, "queries_per_visit": 10}).run(samples=3000, seed=5, keep=3000)
    np.testing.assert_array_equal(base["fleet_energy_kwh_monthly_samples"].values,
                                  high["fleet_energy_kwh_monthly_samples"].values)


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
