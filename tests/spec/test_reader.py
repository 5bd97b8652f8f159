"""Model files: what a valid file becomes, and one test per class of bad input.

Every bad file must give one :class:`simulate.ModelError` naming the file, the field, the bad
value and the fix, and the CLI must print it on one line and exit with status 2 without writing.
"""
from __future__ import annotations

import datetime as dt

import pytest

import simulate
from simulate.cli import main
from tests.helpers import load_text, write_model

BASE = """\
[period]
start = 2023-01-01
end = 2023-01-31

[parameters.visits]
dist = "lognormal"
p5 = 500e6
p95 = 700e6
unit = "visits/month"
source = "Similarweb"

[parameters.wh_per_visit]
dist = "normal"
mean = 30
sd = 5
lower = 0
unit = "Wh/visit"
source = "test"

[derived]
energy_kwh = "visits * day_share * wh_per_visit / 1000"

[outputs]
energy_kwh = "sum"
"""

REGIONS = """
[regions]
shares = "fixed"
source = "test split"

[regions.east]
share = {east}
intensity_g_per_kwh = {{ dist = "uniform", min = 300, max = 400, source = "test" }}

[regions.west]
share = {west}
intensity_g_per_kwh = {{ dist = "uniform", min = 100, max = 200, source = "test" }}
"""


def replaced(old, new):
    assert old in BASE, old
    return BASE.replace(old, new)


def added(extra):
    return BASE + "\n" + extra


def with_energy(expr):
    return replaced('energy_kwh = "visits * day_share * wh_per_visit / 1000"', f'energy_kwh = "{expr}"')


# (id, file text, fragments the message must contain: field, value, problem and fix words)
BAD_INPUTS = [
    ("unknown_family", replaced('dist = "lognormal"', 'dist = "gamma"'),
     ["parameters.visits.dist = 'gamma'", "unknown distribution family", "Fix: use one of", "lognormal"]),
    ("missing_unit", replaced('unit = "visits/month"\n', ""),
     ["parameters.visits.unit", "the unit is missing", 'Fix: add unit = "..."']),
    ("missing_source", replaced('source = "Similarweb"\n', ""),
     ["parameters.visits.source", "the source is missing", 'Fix: add source = "..."']),
    ("p5_not_below_p95", replaced("p95 = 700e6", "p95 = 400e6"),
     ["parameters.visits.p5 = 500000000.0", "p5 must be below p95", "Fix: swap them", "p95 = 4e+08"]),
    ("p5_equal_p95", replaced("p95 = 700e6", "p95 = 500e6"),
     ["parameters.visits.p5 = 500000000.0", "p5 must be below p95"]),
    ("negative_sd", replaced("sd = 5", "sd = -5"),
     ["parameters.wh_per_visit.sd = -5.0", "standard deviation must be positive", "Fix: use a spread above 0"]),
    ("gsd_not_above_1", added('[parameters.scale]\ndist = "lognormal"\nmedian = 1\ngsd = 0.9\n'
                              'unit = "1"\nsource = "test"\n'),
     ["parameters.scale.gsd = 0.9", "geometric standard deviation must be above 1", "Fix: use e.g. 1.5"]),
    ("utilisation_above_1", added('[parameters.gpu_utilisation]\ndist = "uniform"\nmin = 0.5\nmax = 1.5\n'
                                  'unit = "1"\nsource = "test"\n'),
     ["parameters.gpu_utilisation = 'uniform(min=0.5, max=1.5)'", "a utilisation is a fraction in [0, 1]",
      "reaches [0.5, 1.5]", "Fix: use a family bounded to [0, 1]"]),
    ("fraction_below_0", added('[parameters.idle_fraction]\ndist = "normal"\nmean = 0.2\nsd = 0.1\n'
                               'unit = "1"\nsource = "test"\n'),
     ["parameters.idle_fraction", "a fraction lies in [0, 1]", "truncated normal"]),
    ("region_share_above_1", added(REGIONS.format(east=1.5, west=0.0)),
     ["regions.east.share = 1.5", "a share is a fraction in [0, 1]", "Fix: write the region's mean share"]),
    ("pue_below_1", added('[parameters.pue]\ndist = "uniform"\nmin = 0.9\nmax = 1.2\nunit = "1"\nsource = "test"\n'),
     ["parameters.pue = 'uniform(min=0.9, max=1.2)'", "PUE is facility energy over IT energy, so it is at least 1",
      "Fix: use a family bounded to [1, inf]"]),
    ("region_shares_do_not_sum_to_1", added(REGIONS.format(east=0.5, west=0.3)),
     ["regions.*.share = 0.8", "the region shares must sum to 1", "Fix: rescale the shares"]),
    ("unknown_name", with_energy("visits * day_share * wh_per_visits / 1000"),
     ["derived.energy_kwh = 'wh_per_visits'", "uses an unknown name", "Fix: did you mean wh_per_visit"]),
    ("cycle", replaced("[derived]\n", '[derived]\nloop_a = "loop_b * 2"\nloop_b = "loop_a + visits"\n'),
     ["derived.loop_a = 'loop_a -> loop_b -> loop_a'", "the derived quantities form a cycle",
      "Fix: break the cycle"]),
    ("attribute_access", with_energy("visits.real * wh_per_visit"),
     ["derived.energy_kwh = 'visits.real * wh_per_visit'", "attribute access is not allowed in an expression",
      "Fix: use numbers, names"]),
    ("import_call", with_energy("__import__('os')"),
     ["derived.energy_kwh", "the call __import__() is not allowed", "Fix: call only min, max, exp, log, sqrt"]),
    ("open_call", with_energy("open('/etc/passwd')"),
     ["derived.energy_kwh", "the call open() is not allowed", "Fix: call only"]),
    ("string_constant", with_energy("'x'"),
     ["derived.energy_kwh = \"'x'\"", "the constant 'x' is not allowed", "Fix: write numbers only"]),
    ("end_before_start", replaced("end = 2023-01-31", "end = 2022-12-31"),
     ["period.end = '2022-12-31'", "the period ends before it starts", "Fix: use an end on or after 2023-01-01"]),
    ("impossible_date_string", replaced("start = 2023-01-01", 'start = "2023-02-30"'),
     ["period.start = '2023-02-30'", "is not a date", "Fix: write a date as 2023-01-31"]),
    ("impossible_date_literal", replaced("start = 2023-01-01", "start = 2023-02-30"),
     ["TOML syntax error", "line 2", "Fix: correct the TOML syntax"]),
    ("by_month_outside_period", added('[parameters.visits.by_month]\n'
                                      '"2023-03" = { dist = "uniform", min = 1e8, max = 2e8 }\n'),
     ["parameters.visits.by_month.2023-03 = '2023-03'", "is outside the model period",
      "Fix: use months from 2023-01 to 2023-01 or widen [period]"]),
    ("toml_syntax", replaced('dist = "lognormal"', 'dist = "lognormal'),
     ["TOML syntax error", "line 6", "Fix: correct the TOML syntax at that line"]),
    ("unit_contradicts_name", added('[parameters.server_power_w]\ndist = "fixed"\nvalue = 6500\nunit = "kW"\n'
                                    'source = "test"\n'),
     ["parameters.server_power_w.unit = 'kW'", "the name says the unit is W", 'Fix: write unit = "W"']),
    ("unknown_output", replaced('energy_kwh = "sum"', 'energy_kwh = "sum"\nco2_kg = "sum"'),
     ["outputs.co2_kg = 'co2_kg'", "is not a parameter or derived quantity", "Fix: define it under [derived]"]),
    ("bad_aggregate", replaced('energy_kwh = "sum"', 'energy_kwh = "median"'),
     ["outputs.energy_kwh.aggregate = 'median'", "must be sum, mean or once", 'Fix: write aggregate = "sum"']),
    ("wrong_keys_for_family", replaced("p5 = 500e6\np95 = 700e6", "mean = 500e6\nsd = 1e6"),
     ["parameters.visits", "a lognormal distribution takes", "got ['mean', 'sd']", "Fix: give exactly one"]),
]


@pytest.mark.parametrize("text,fragments", [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_one_clear_model_error(tmp_path, text, fragments):
    path = write_model(tmp_path, text, name="bad-model.toml")
    with pytest.raises(simulate.ModelError) as info:
        simulate.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert info.value.path == str(path)


@pytest.mark.parametrize("command", ["run", "check"])
@pytest.mark.parametrize("text", [c[1] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS])
def test_cli_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, text, command):
    path = write_model(tmp_path, text, name="bad-model.toml")
    out = tmp_path / "results" / "out.nc"
    argv = [command, str(path)] + (["--samples", "1000", "--out", str(out)] if command == "run" else [])
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err
    assert err.startswith(f"simulate: error: {path}: ")
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err and captured.out == ""
    assert not out.exists() and not out.parent.exists()


def test_the_base_file_is_valid(tmp_path):
    model = load_text(tmp_path, BASE)
    assert list(model.parameters) == ["visits", "wh_per_visit"]
    assert model.outputs["energy_kwh"].unit == "kWh" and model.outputs["energy_kwh"].aggregate == "sum"
    assert model.period.start == dt.date(2023, 1, 1) and model.period.n_days == 31


def test_missing_file_is_a_model_error(tmp_path, capsys):
    missing = tmp_path / "nope.toml"
    with pytest.raises(simulate.ModelError, match="cannot read the model file"):
        simulate.load(missing)
    assert main(["check", str(missing)]) == 2
    assert str(missing) in capsys.readouterr().err


def test_by_month_and_scenarios(tmp_path):
    text = BASE.replace("end = 2023-01-31", "end = 2023-02-28") + """
[parameters.visits.by_month]
"2023-02" = { dist = "uniform", min = 1e9, max = 1.1e9 }

[scenarios.low]
description = "few visits"
visits = { "2023-02" = 2e8 }
"""
    model = load_text(tmp_path, text)
    visits = model.parameters["visits"]
    assert visits.for_month("2023-02").family == "uniform" and visits.for_month("2023-01").family == "lognormal"
    low = model.with_scenario("low")
    assert low.parameters["visits"].for_month("2023-02").params["value"] == 2e8
    assert low.parameters["visits"].for_month("2023-01").family == "lognormal"
    with pytest.raises(simulate.ModelError, match="no such scenario"):
        model.with_scenario("high")
    with pytest.raises(simulate.ModelError, match="is not a parameter of this model"):
        model.with_fixed({"nothing": 1.0})
