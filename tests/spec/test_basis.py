"""Boundaries and carbon bases: what an output declares, what a published figure declares, how a
figure finds the output on its own boundary, and scenarios that pin a derived quantity."""
from __future__ import annotations

import numpy as np
import pytest

import simulate
from tests.helpers import load_text, model_error

PATHS = """
[period]
start = 2024-01-01
end = 2024-01-31
[parameters.gpu_kwh]
dist = "lognormal"
p5 = 100
p95 = 400
unit = "kWh"
source = "test"
[parameters.host_factor]
dist = "uniform"
min = 1.3
max = 1.8
unit = "1"
source = "test"
[parameters.pue]
dist = "uniform"
min = 1.1
max = 1.4
unit = "1"
source = "test"
[parameters.location_g_per_kwh]
dist = "lognormal"
p5 = 300
p95 = 600
unit = "gCO2e/kWh"
source = "test"
[parameters.market_g_per_kwh]
dist = "pert"
min = 0
mode = 30
max = 150
unit = "gCO2e/kWh"
source = "test"
[derived]
accelerator_energy_kwh = "gpu_kwh * day_share"
it_energy_kwh = "accelerator_energy_kwh * host_factor"
energy_kwh = "it_energy_kwh * pue"
co2_kg = "energy_kwh * location_g_per_kwh / 1000"
co2_market_kg = "energy_kwh * market_g_per_kwh / 1000"
[outputs]
energy_kwh = { aggregate = "sum", boundary = "facility" }
it_energy_kwh = { aggregate = "sum", boundary = "it" }
accelerator_energy_kwh = { aggregate = "sum", boundary = "accelerator" }
co2_kg = { aggregate = "sum", accounting = "location-based", grid_basis = "generation, life-cycle", grid_vintage = "test 2024" }
co2_market_kg = { aggregate = "sum", accounting = "market-based", grid_basis = "contractual", grid_vintage = "test contracts" }
"""

FIGURE = """
[[references]]
output = "{output}"
month = "2024-01"
value = {value}
unit = "{unit}"
per = "month"
label = "a published figure"
source = "test"
{extra}
"""


def with_figure(tmp_path, output="energy_kwh", value=300, unit="kWh", extra=""):
    return load_text(tmp_path, PATHS + FIGURE.format(output=output, value=value, unit=unit, extra=extra))


def test_boundaries_and_carbon_bases_are_recorded_in_the_dataset(tmp_path):
    ds = load_text(tmp_path, PATHS).run(samples=500, seed=1)
    assert ds["energy_kwh_monthly"].attrs["boundary"] == "facility"
    assert ds["it_energy_kwh_daily"].attrs["boundary"] == "it"
    assert ds["accelerator_energy_kwh_monthly_mean"].attrs["boundary"] == "accelerator"
    co2 = ds["co2_kg_monthly"].attrs
    assert (co2["accounting"], co2["grid_basis"], co2["grid_vintage"]) == ("location-based", "generation, life-cycle",
                                                                            "test 2024")
    assert ds["co2_market_kg_monthly"].attrs["accounting"] == "market-based"
    assert "accounting" not in ds["energy_kwh_monthly"].attrs and "boundary" not in ds["co2_kg_monthly"].attrs


def test_market_and_location_based_co2_differ_as_their_intensities_do(tmp_path):
    """Same electricity, two factors: per sample the two CO2 outputs stand exactly in the ratio of the
    factors, and each is the electricity times its own factor."""
    ds = load_text(tmp_path, PATHS).run(samples=4000, seed=2, keep=4000)
    x = {str(n): ds["inputs"].sel(input=n).values for n in ds["input"].values}
    energy = ds["energy_kwh_monthly_samples"].values[:, 0]
    location, market = ds["co2_kg_monthly_samples"].values[:, 0], ds["co2_market_kg_monthly_samples"].values[:, 0]
    np.testing.assert_allclose(energy, x["gpu_kwh"] * x["host_factor"] * x["pue"], rtol=1e-12)
    np.testing.assert_allclose(location, energy * x["location_g_per_kwh"] / 1000, rtol=1e-12)
    np.testing.assert_allclose(market, energy * x["market_g_per_kwh"] / 1000, rtol=1e-12)
    np.testing.assert_allclose(location / market, x["location_g_per_kwh"] / x["market_g_per_kwh"], rtol=1e-12)
    assert np.median(market) < np.median(location) / 5     # contracts put most of the load near zero


@pytest.mark.parametrize("change, fragments", [
    (('energy_kwh = { aggregate = "sum", boundary = "facility" }', 'energy_kwh = { aggregate = "sum", boundary = "server" }'),
     ["outputs.energy_kwh.boundary = 'server'", "is not a boundary", "accelerator"]),
    (('co2_kg = { aggregate = "sum", accounting = "location-based"', 'co2_kg = { aggregate = "sum", boundary = "it", accounting = "location-based"'),
     ["outputs.co2_kg.boundary", "only an energy or power output has a boundary"]),
    (('accounting = "location-based"', 'accounting = "average"'),
     ["outputs.co2_kg.accounting = 'average'", "GHG Protocol Scope 2"]),
    (('grid_basis = "generation, life-cycle"', 'grid_basis = "annual"'),
     ["outputs.co2_kg.grid_basis = 'annual'", "generation, direct"]),
    (('grid_basis = "contractual"', 'grid_basis = "generation, direct"'),
     ["outputs.co2_market_kg.grid_basis", "market-based CO2 uses contractual factors"]),
    (('energy_kwh = { aggregate = "sum", boundary = "facility" }', 'energy_kwh = { aggregate = "sum", accounting = "market-based" }'),
     ["outputs.energy_kwh.accounting", "only a mass of CO2"]),
])
def test_a_bad_basis_gets_one_clear_error(tmp_path, change, fragments):
    text = PATHS.replace(*change)
    assert text != PATHS
    message = model_error(load_text, tmp_path, text)
    for fragment in fragments:
        assert fragment in message, message


def test_a_figure_on_the_it_boundary_is_compared_with_the_it_output(tmp_path):
    model = with_figure(tmp_path, extra='boundary = "it"')
    (ref,) = model.references
    assert (ref.output, ref.named, ref.boundary, ref.mismatch) == ("it_energy_kwh", "energy_kwh", "it", "")
    accelerator = with_figure(tmp_path, output="it_energy_kwh", extra='boundary = "accelerator"').references[0]
    assert accelerator.output == "accelerator_energy_kwh"           # found upstream of the output named too
    assert with_figure(tmp_path).references[0].output == "energy_kwh"   # no boundary declared: as named


def test_a_market_based_figure_is_compared_with_the_market_based_output(tmp_path):
    model = with_figure(tmp_path, output="co2_kg", value=20, unit="kg", extra='accounting = "market-based"')
    assert model.references[0].output == "co2_market_kg" and model.references[0].like_for_like


def test_a_figure_with_no_like_for_like_output_says_so(tmp_path):
    text = PATHS.replace('accelerator_energy_kwh = { aggregate = "sum", boundary = "accelerator" }\n', "")
    model = load_text(tmp_path, text + FIGURE.format(output="energy_kwh", value=100, unit="kWh",
                                                     extra='boundary = "accelerator"'))
    (ref,) = model.references
    assert ref.output == "energy_kwh" and not ref.like_for_like
    assert ref.mismatch.startswith("no like-for-like output in this model")
    assert "accelerator boundary" in ref.mismatch and "facility boundary" in ref.mismatch


@pytest.mark.parametrize("extra, fragments", [
    ('boundary = "wall"', ["references[0].boundary = 'wall'", "is not a boundary"]),
    ('accounting = "market-based"', ["references[0].accounting", "only a figure of mass declares its accounting"]),
])
def test_a_bad_figure_basis_gets_one_clear_error(tmp_path, extra, fragments):
    message = model_error(lambda: with_figure(tmp_path, extra=extra))
    for fragment in fragments:
        assert fragment in message, message


def test_a_scenario_pins_a_derived_quantity_and_keeps_every_draw(tmp_path):
    """A published figure that gives an intermediate quantity directly (IT energy per query, say) pins
    it; what it was computed from is still drawn on its own streams, so the other outputs do not move."""
    text = PATHS + """
[scenarios.published]
description = "a source that states the month's IT electricity"
it_energy_kwh = 250
pue = 1.0
"""
    model = load_text(tmp_path, text)
    assert model.scenarios["published"].values["it_energy_kwh"] == 250.0
    base = model.run(samples=3000, seed=3, keep=3000)
    pinned = model.with_scenario("published").run(samples=3000, seed=3, keep=3000)
    # the day's IT energy is the pinned number (a derived quantity has no profile of its own once pinned)
    assert float(pinned["it_energy_kwh_daily"].sel(quantile=0.5)[0]) == pytest.approx(250, rel=1e-12)
    np.testing.assert_allclose(pinned["energy_kwh_monthly_samples"].values, 250 * 31, rtol=1e-12)
    np.testing.assert_array_equal(base["accelerator_energy_kwh_monthly_samples"].values,
                                  pinned["accelerator_energy_kwh_monthly_samples"].values)
    np.testing.assert_array_equal(base["inputs"].sel(input="gpu_kwh").values, pinned["inputs"].sel(input="gpu_kwh").values)


def test_only_a_derived_quantity_without_dimensions_can_be_pinned(tmp_path):
    text = PATHS + """
[scenarios.published]
description = "d"
it_energy_kwh = { "2024-01" = 3 }
"""
    with pytest.raises(simulate.ModelError, match=r"scenarios\.published\.it_energy_kwh.*pinned to one number"):
        load_text(tmp_path, text)
    with pytest.raises(simulate.ModelError, match=r"fixed\.it_energy_kwh.*pinned to one number"):
        load_text(tmp_path, PATHS).with_fixed({"it_energy_kwh": {"2024-01": 3.0}})
