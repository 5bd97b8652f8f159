"""The published ChatGPT January 2023 corners, reproduced exactly from the shipped model file.

Arithmetic from shared/research/ludvigsen-jan-2023.md, 1.3 and 1.4:
top corner 0.00396 kWh x 10 queries/visit x 590 M visits = 23,364,000 kWh (reproduces "23.4 GWh");
"175,000 people" = that corner / (1,600 kWh / 12); hypothesised bottom corner (U)
0.00198 kWh x 1 x 590 M = 1,168,200 kWh; de Vries' fleet bound 3,617 x 6.5 kW x 744 h = 17,491,812 kWh.
"""
from pathlib import Path

import numpy as np
import pytest

import simulate
from simulate.errors import ModelError

ROOT = Path(__file__).resolve().parents[1]
CHATGPT = ROOT / "priors" / "chatgpt-2023-01.toml"


@pytest.fixture(scope="module")
def model():
    return simulate.load(CHATGPT)


def _monthly(ds, name):
    values = ds[f"{name}_monthly"].values[:, 0]
    return values


def test_top_corner_is_ludvigsens_arithmetic(model):
    ds = model.with_scenario("ludvigsen_high").run(samples=2000, seed=3)
    energy = _monthly(ds, "energy_kwh")
    assert energy == pytest.approx(np.full(energy.shape, 0.00396 * 10 * 590e6), rel=1e-12)
    assert 0.00396 * 10 * 590e6 == pytest.approx(23_364_000.0, rel=1e-15)
    people = _monthly(ds, "danish_people_equivalent")
    assert people == pytest.approx(np.full(people.shape, 23_364_000 / (1600 / 12)), rel=1e-12)
    assert round(people[3], -3) == 175_000
    assert ds.attrs["scenario"] == "ludvigsen_high"


def test_bottom_corner_is_the_hypothesised_arithmetic(model):
    ds = model.with_scenario("ludvigsen_low").run(samples=2000, seed=3)
    assert _monthly(ds, "energy_kwh") == pytest.approx(np.full(7, 0.00198 * 1 * 590e6), rel=1e-12)
    assert 0.00198 * 590e6 == pytest.approx(1_168_200.0, rel=1e-15)
    assert model.scenarios["ludvigsen_low"].status == "U"


def test_de_vries_fleet_bound(model):
    ds = model.with_scenario("de_vries_fleet").run(samples=2000, seed=3)
    assert _monthly(ds, "fleet_energy_kwh") == pytest.approx(np.full(7, 3617 * 6.5 * 744), rel=1e-12)


def test_scenarios_keep_the_other_draws(model):
    """Fixing per-query-only inputs leaves the fleet path's draws where they were (common random numbers)."""
    base = model.run(samples=3000, seed=5, keep=3000)
    high = model.with_fixed({"visits": 590e6, "queries_per_visit": 10}).run(samples=3000, seed=5, keep=3000)
    np.testing.assert_array_equal(base["fleet_energy_kwh_monthly_samples"].values,
                                  high["fleet_energy_kwh_monthly_samples"].values)


def test_every_parameter_and_scenario_has_a_source(model):
    for p in model.all_parameters():
        assert p.source.strip(), p.name
    for p in model.parameters.values():
        assert p.rationale.strip(), p.name
    for s in model.scenarios.values():
        assert s.source.strip() and s.description.strip() and s.status in ("S", "S2", "I", "U"), s.name


def test_per_query_energy_excludes_overhead_and_pue_applies_to_both_paths(model):
    text = CHATGPT.read_text()
    assert "excludes" in model.parameters["bloom_deployment_kwh"].rationale
    assert model.derived["energy_kwh"].text.replace(" ", "") == "it_energy_kwh*pue"
    assert model.derived["fleet_energy_kwh"].text.replace(" ", "") == "fleet_it_energy_kwh*pue"
    assert "PUE is therefore applied to both paths" in text


def test_region_contributions_sum_to_co2(model):
    ds = model.run(samples=2000, seed=2, keep=2000)
    parts = sum(ds[f"co2_{r}_kg_monthly_samples"].values for r in model.regions.names)
    np.testing.assert_allclose(parts, ds["co2_kg_monthly_samples"].values, rtol=1e-12)


def test_bad_scenario_status_names_the_field(tmp_path):
    text = CHATGPT.read_text().replace('status = "U"', 'status = "maybe"')
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ModelError, match=r"scenarios\.ludvigsen_low\.status = 'maybe'"):
        simulate.load(path)
