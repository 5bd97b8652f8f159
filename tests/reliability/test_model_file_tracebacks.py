"""Issue 18, "Tracebacks" found in model files: each a minimal reproduction that raised something
other than a ModelError (TypeError, OverflowError, ValueError, RecursionError, MemoryError...).

Each now gives one ModelError naming the file and the field, found by ``check`` as by ``run``,
or (500 regions) runs with the right number.
"""
from __future__ import annotations

import numpy as np
import pytest

import simulate
from simulate.cli import main
from tests.reliability.common import edited, refused, write


# unhashable values where a string is expected ------------------------------------------------------
@pytest.mark.parametrize("old,new,field", [
    ('dist = "lognormal"', 'dist = ["lognormal"]', "parameters.visits.dist = ['lognormal']"),
    ('quantity = "energy_kwh"', 'quantity = ["x"]', "observations[0].quantity = ['x']"),
    ('output = "energy_kwh"', 'output = ["energy_kwh"]', "references[0].output = ['energy_kwh']"),
    ('paths = ["energy_kwh", "fleet_energy_kwh"]', 'paths = [["a"], "b"]', "reconcile.paths[0] = ['a']"),
])
def test_a_list_where_a_string_belongs_is_refused(tmp_path, old, new, field):
    refused(write(tmp_path, edited(old, new)), field, "must be a string")


# huge numbers -------------------------------------------------------------------------------------------
def test_a_400_digit_integer_is_refused(tmp_path):
    refused(write(tmp_path, edited("min = 1\nmax = 3", "min = 1\nmax = " + "9" * 400)),
            "parameters.wh_per_visit.max", "is too large to compute with")


def test_a_5000_digit_integer_is_refused(tmp_path):
    refused(write(tmp_path, edited("min = 1\nmax = 3", "min = 1\nmax = " + "9" * 5000)),
            "a value cannot be read", "Exceeds the limit")


# deep or long input -------------------------------------------------------------------------------------
def test_arrays_nested_1000_deep_are_refused(tmp_path):
    refused(write(tmp_path, edited("values = [1, 2, 3]", "values = " + "[" * 1000 + "]" * 1000)),
            "nested too deeply")


def test_tables_nested_1000_deep_are_refused(tmp_path):
    refused(write(tmp_path, edited("trend_per_day = 0.0", "trend_per_day = " + "{ a = " * 1000 + "1" + " }" * 1000)),
            "nested too deeply")


def test_arrays_nested_200_deep_are_a_type_error_at_their_field(tmp_path):
    refused(write(tmp_path, edited("values = [1, 2, 3]", "values = " + "[" * 200 + "]" * 200)),
            "parameters.queries.values[0][0]", "= [[[", "nests values per coordinate more than 8 deep")


@pytest.mark.parametrize("text", ["+".join(["visits"] * 500), "-" * 3000 + "visits", "-" * 10_000 + "visits"],
                         ids=["500 operands", "3000 minus signs", "10000 minus signs"])
def test_huge_expressions_are_refused(tmp_path, text):
    path = write(tmp_path, edited('co2_kg = "energy_kwh * grid_g_per_kwh / 1000"', f'co2_kg = "{text}"'))
    refused(path, "derived.co2_kg")


def test_a_5_mb_expression_is_refused_before_it_is_read(tmp_path):
    text = "+".join(["visits"] * 750_000)
    path = write(tmp_path, edited('co2_kg = "energy_kwh * grid_g_per_kwh / 1000"', f'co2_kg = "{text}"'))
    refused(path, "more than the 4,194,304 a model file may have")


def test_a_long_chain_of_derived_quantities_is_refused(tmp_path):
    chain = "\n".join(f'step_{i} = "step_{i - 1} * 1.01"' for i in range(1, 400))
    path = write(tmp_path, edited("[derived]\n", '[derived]\nstep_0 = "visits"\n' + chain + "\n"))
    refused(path, "derived.step_", "the expression nests")


def test_500_regions_run_with_the_share_weighted_intensity(tmp_path):
    n = 500
    regions = "".join(f'\n[regions.r{i}]\nshare = {1 / n!r}\n'
                      f'intensity_g_per_kwh = {{ dist = "fixed", value = {i}, source = "test" }}\n' for i in range(n))
    text = f"""\
[period]
start = 2023-01-01
end = 2023-01-01

[parameters.energy_kwh]
dist = "fixed"
value = 1
unit = "kWh"
source = "test"

[regions]
shares = "fixed"
source = "test"
{regions}
[outputs]
grid_g_per_kwh = "mean"
"""
    path = write(tmp_path, text)
    assert main(["check", str(path)]) == 0
    ds = simulate.load(path).run(samples=1000, seed=1)
    expected = sum((1 / n) * i for i in range(n))            # the same additions the kernel makes
    np.testing.assert_allclose(ds["grid_g_per_kwh_monthly"].values, expected, rtol=1e-12)


# long names ---------------------------------------------------------------------------------------------
def test_an_output_name_netcdf_cannot_hold_is_refused_by_check(tmp_path, capsys):
    name = "e" * 256 + "_kwh"
    path = write(tmp_path, edited('[outputs]\n', f'[outputs]\n{name} = "sum"\n',
                                  edited("[derived]\n", f'[derived]\n{name} = "energy_kwh"\n')))
    assert main(["check", str(path)]) == 2
    assert "is not a valid name" not in capsys.readouterr().err
    refused(path, f"derived.{name[:100]}", "the name is 260 characters long, more than the 128 allowed")


def test_the_longest_name_allowed_is_written_to_netcdf(tmp_path):
    name = "e" * 124 + "_kwh"
    path = write(tmp_path, edited('[outputs]\n', f'[outputs]\n{name} = "sum"\n',
                                  edited("[derived]\n", f'[derived]\n{name} = "energy_kwh"\n')))
    assert main(["run", str(path), "--samples", "1000", "--out", str(tmp_path / "x.nc")]) == 0
    assert (tmp_path / "x.nc").stat().st_size > 0


# nested scenario values, a table as a unit -----------------------------------------------------------------
def test_nested_scenario_values_are_refused(tmp_path):
    path = write(tmp_path, edited("pue = 1.2\n", 'pue = { "2023-01" = { "2023-01" = 1.5 } }\n'))
    refused(path, "scenarios.low.pue.2023-01", "must be one number for the month")


def test_a_table_as_a_unit_is_found_by_check(tmp_path, capsys):
    path = write(tmp_path, edited('co2_kg = { aggregate = "sum", long_name = "CO2e" }',
                                  'co2_kg = { aggregate = "sum", long_name = "CO2e", unit = { a = 1 } }'))
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"simulate: error: {path}: outputs.co2_kg.unit = {{'a': 1}}: must be a string"), err
