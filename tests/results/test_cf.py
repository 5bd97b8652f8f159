"""CF-1.11 results files: compliance-checker finds no errors, cf_xarray finds the time axis, units are UDUNITS."""
from __future__ import annotations

import json

import cf_units
import cf_xarray  # noqa: F401  (registers the .cf accessor)
import numpy as np
import pytest
import xarray as xr
from compliance_checker.runner import CheckSuite, ComplianceChecker

import simulate
from simulate.results.cf import udunits
from simulate.results.netcdf import open_results
from tests.helpers import CHATGPT, PRIORS, ROOT, TWO_REGIONS

# compliance-checker's cf:1.11 suite takes minutes per file of hundreds of variables (about 10 minutes
# for chatgpt-2025's 587): the committed file checked here is the fleet's (140 variables: dimensions,
# yearly cells, month resolution). The others were checked by hand when regenerated: 0 errors.
REPORTS = [ROOT / "reports" / "ai-fleet-2023-2028" / "results.nc"]


def cf_findings(path, tmp_path) -> tuple[list[str], list[str]]:
    """compliance-checker's cf:1.11 errors (high priority) and warnings (medium) for a file."""
    CheckSuite.load_all_available_checkers()
    out = tmp_path / f"{path.stem}-cf.json"
    ComplianceChecker.run_checker(str(path), ["cf:1.11"], 0, "normal", output_filename=str(out), output_format="json")
    result = json.loads(out.read_text())["cf:1.11"]
    errors = [m for check in result["high_priorities"] for m in check["msgs"]]
    warnings = [m for check in result["medium_priorities"] for m in check["msgs"]]
    assert result["high_count"] == len([c for c in result["high_priorities"] if c["msgs"]])
    return errors, warnings


@pytest.fixture(scope="module")
def chatgpt_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cf") / "results.nc"
    simulate.save_netcdf(simulate.load(CHATGPT).run(samples=20_000, seed=1), path)
    return path


def test_a_fresh_results_file_has_no_cf_errors(chatgpt_file, tmp_path):
    errors, warnings = cf_findings(chatgpt_file, tmp_path)
    assert errors == []
    # what is left are recommendations: dimension order (quantile before time) and the scalar period's bounds
    assert all("recommended order" in w or "period_bounds" in w for w in warnings), warnings


def test_a_file_with_kept_draws_and_dimensions_has_no_cf_errors(tmp_path):
    path = simulate.save_netcdf(simulate.load(TWO_REGIONS).run(samples=3000, seed=2, keep=200), tmp_path / "r.nc")
    assert cf_findings(path, tmp_path)[0] == []


@pytest.mark.parametrize("path", REPORTS, ids=[p.parent.name for p in REPORTS])
def test_every_committed_report_file_has_no_cf_errors(path, tmp_path):
    assert cf_findings(path, tmp_path)[0] == []


def test_cf_xarray_finds_time_axes_bounds_and_cell_methods(chatgpt_file):
    with xr.open_dataset(chatgpt_file) as ds:
        assert ds["energy_kwh_daily"].cf["T"].name == "date"
        assert ds["energy_kwh_monthly"].cf["T"].name == "month"
        assert ds["energy_kwh_yearly"].cf["T"].name == "year"
        assert ds["energy_kwh_total"].cf["T"].name == "period"     # the whole period: a scalar time
        assert ds.cf.bounds["month"] == ["month_bounds"]
        january = ds["month_bounds"].values[0]
        assert [str(v)[:10] for v in january] == ["2023-01-01", "2023-02-01"]
        assert ds["energy_kwh_daily"].attrs["cell_methods"] == "date: sum"
        assert ds["danish_people_equivalent_monthly"].attrs["cell_methods"] == "month: mean"
        assert ds["energy_kwh_total"].attrs["cell_methods"] == "period: sum"
        assert ds.attrs["Conventions"] == "CF-1.11" and "simulate" in ds.attrs["history"]
        assert "_FillValue" not in ds["quantile"].encoding or np.isnan(ds["quantile"].encoding.get("_FillValue", 0))


def test_bounds_cover_each_cell_and_clip_partial_months(tmp_path):
    from tests.helpers import load_text

    model = load_text(tmp_path, """
        [period]
        start = 2023-01-15
        end = 2024-02-10
        [parameters.x_kwh]
        dist = "uniform"
        min = 1
        max = 2
        unit = "kWh"
        source = "test"
        [derived]
        energy_kwh = "x_kwh * day_share"
        [outputs]
        energy_kwh = "sum"
        """)
    ds = model.run(samples=1000, seed=1)
    month = ds["month_bounds"].values.astype("datetime64[D]")
    assert str(month[0, 0]) == "2023-01-15" and str(month[0, 1]) == "2023-02-01"   # the period's part of January
    assert str(month[-1, 0]) == "2024-02-01" and str(month[-1, 1]) == "2024-02-11"
    days = ds["date_bounds"].values.astype("datetime64[D]")
    assert ((days[:, 1] - days[:, 0]) == np.timedelta64(1, "D")).all()
    year = ds["year_bounds"].values.astype("datetime64[D]")
    assert [str(v) for v in year[1]] == ["2024-01-01", "2024-02-11"]


def test_units_in_files_are_udunits_and_display_units_come_back(chatgpt_file):
    with xr.open_dataset(chatgpt_file) as raw:
        assert raw["energy_kwh_monthly"].attrs["units"] == "kW h"
        assert raw["energy_kwh_monthly"].attrs["display_units"] == "kWh"
        assert raw["queries_monthly"].attrs["units"] == "1"          # a count; its long name says of what
        assert "queries" in raw["queries_monthly"].attrs["long_name"].lower()
        assert raw["energy_kwh_monthly_nonfinite"].attrs["units"] == "1"
    back = open_results(chatgpt_file)
    assert back["energy_kwh_monthly"].attrs["units"] == "kWh" and "display_units" not in back["energy_kwh_monthly"].attrs


@pytest.mark.parametrize("unit, joules_or_base", [("kWh", ("J", 3.6e6)), ("GWh", ("J", 3.6e12)), ("Wh/query", ("J", 3600.0)),
                                                  ("gCO2e/kWh", ("kg/J", 1e-3 / 3.6e6)), ("L/kWh", ("m3/J", 1e-3 / 3.6e6)),
                                                  ("kgCO2e", ("kg", 1.0)), ("mL/query", ("m3", 1e-6)),
                                                  ("visits/month", ("s-1", 1 / (365.242198781 * 86400 / 12))),
                                                  ("1/year", ("s-1", 1 / (365.242198781 * 86400))), ("min", ("s", 60.0)),
                                                  ("FLOP/(parameter*token)", ("1", 1.0)), ("m³", ("m3", 1.0)),
                                                  ("thousand m³", ("m3", 1000.0)), ("MJ", ("J", 1e6))])
def test_udunits_spelling_means_the_same_quantity(unit, joules_or_base):
    target, factor = joules_or_base
    assert cf_units.Unit(udunits(unit)).convert(1.0, target) == pytest.approx(factor, rel=1e-9)


def test_every_unit_of_the_shipped_models_is_readable_by_udunits():
    for path in sorted(PRIORS.glob("*.toml")):
        model = simulate.load(path)
        units = {p.unit for p in model.all_parameters()} | {o.unit for o in model.outputs.values()}
        for unit in units:
            cf_units.Unit(udunits(unit))      # raises ValueError if UDUNITS-2 cannot parse it
