"""The command line: a thin layer that parses, calls the Python API and prints."""
from __future__ import annotations

import re

import pytest
import xarray as xr

import simulate
from simulate.cli import main
from tests.helpers import CHATGPT


def test_run_prints_a_readable_table_and_writes_netcdf(tmp_path, capsys):
    out = tmp_path / "X.nc"
    assert main(["run", str(CHATGPT), "--samples", "20000", "--seed", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "20,000 samples, seed 3" in printed
    rows = {line.split()[1]: line for line in printed.splitlines() if line.startswith("2023-01   ") and line[10] != " "}
    assert set(rows) == set(simulate.load(CHATGPT).outputs)
    regions = [line.split()[1] for line in printed.splitlines() if line.startswith("2023-01     ")]
    assert regions == simulate.load(CHATGPT).regions.names      # co2_kg's regions, indented under it
    assert rows["energy_kwh"].endswith(" GWh")
    assert rows["fleet_energy_kwh"].endswith(" GWh")
    assert re.search(r" (t|kt)$", rows["co2_kg"])
    # the median sits inside its 90% interval
    median, lo, hi = map(float, re.findall(r"[\d.]+", rows["energy_kwh"].split("energy_kwh")[1])[:3])
    assert lo < median < hi
    assert f"wrote {out}" in printed
    with xr.open_dataset(out) as ds:
        assert ds.attrs["samples"] == 20000 and ds.attrs["seed"] == 3
        assert "energy_kwh_monthly" in ds and ds["energy_kwh_monthly"].attrs["units"] == "kW h"   # UDUNITS
        assert ds["energy_kwh_monthly"].attrs["display_units"] == "kWh"


def test_run_with_a_scenario(capsys):
    assert main(["run", str(CHATGPT), "--samples", "2000", "--scenario", "ludvigsen_high"]) == 0
    printed = capsys.readouterr().out
    assert "scenario ludvigsen_high" in printed
    energy = next(line for line in printed.splitlines() if line.split()[1:2] == ["energy_kwh"])
    assert "23.4" in energy and "[23.4, 23.4]" in energy


def test_unknown_scenario_exits_2(capsys):
    assert main(["run", str(CHATGPT), "--samples", "1000", "--scenario", "nope"]) == 2
    assert "no such scenario" in capsys.readouterr().err


def test_check_lists_every_parameter_with_its_source(capsys):
    assert main(["check", str(CHATGPT)]) == 0
    printed = capsys.readouterr().out
    assert "valid" in printed.splitlines()[0]
    model = simulate.load(CHATGPT)
    for p in model.all_parameters():
        block = printed.split(f"  {p.name} [{p.unit}]: ", 1)
        assert len(block) == 2, p.name
        assert block[1].splitlines()[1].strip() == f"source: {p.source}", p.name
    assert model.regions.source in printed


LONG = """\
[period]
start = 2023-01-01
end = 2025-12-31

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
"""


def test_run_of_a_long_period_shows_every_kth_month_unless_asked(tmp_path, capsys):
    path = tmp_path / "long.toml"
    path.write_text(LONG)
    assert main(["run", str(path), "--samples", "1000"]) == 0
    printed = capsys.readouterr().out
    months = [line.split()[0] for line in printed.splitlines() if re.match(r"20\d\d-\d\d ", line)]
    assert months == ["2023-01", "2023-04", "2023-07", "2023-10", "2024-01", "2024-04", "2024-07", "2024-10",
                      "2025-01", "2025-04", "2025-07", "2025-10", "2025-12"]
    assert "showing 13 of 36 months (one in 3, and the last)" in printed
    assert main(["run", str(path), "--samples", "1000", "--all-months"]) == 0
    printed = capsys.readouterr().out
    assert len([line for line in printed.splitlines() if re.match(r"20\d\d-\d\d ", line)]) == 36
    assert "showing" not in printed


def test_cli_rtol_says_whether_it_converged(capsys):
    with pytest.warns(RuntimeWarning, match="stopped at max_samples=70,000"):
        assert main(["run", str(CHATGPT), "--samples", "1000", "--rtol", "0.001", "--max-samples", "70000"]) == 0
    out = capsys.readouterr().out
    assert "NOT converged (max samples reached)" in out and "after 70,000 samples" in out
