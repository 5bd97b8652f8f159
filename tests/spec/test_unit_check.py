"""Units across expressions: checked with pint when the file is read; every shipped model passes."""
from __future__ import annotations

import pytest

import simulate
from simulate import user_cache
from simulate.spec import unit_check
from simulate.spec.unit_check import quantity
from tests.helpers import PRIORS, load_text

BASE = """
[period]
start = 2023-01-01
end = 2023-01-31
[parameters.visits]
dist = "lognormal"
p5 = 500e6
p95 = 700e6
unit = "visits/month"
source = "test"
[parameters.per_query_kwh]
dist = "uniform"
min = 0.001
max = 0.003
unit = "kWh/query"
source = "test"
[parameters.power_w]
dist = "uniform"
min = 100
max = 200
unit = "W"
source = "test"
[parameters.grid_g_per_kwh]
dist = "uniform"
min = 200
max = 400
unit = "gCO2e/kWh"
source = "test"
[parameters.pue]
dist = "uniform"
min = 1.1
max = 1.3
unit = "1"
source = "test"
[derived]
{derived}
[outputs]
{outputs}
"""


def model(tmp_path, derived: str, outputs: str = 'energy_kwh = "sum"'):
    return load_text(tmp_path, BASE.format(derived=derived, outputs=outputs))


def test_adding_kwh_to_visits_is_an_error_naming_the_expression_and_both_units(tmp_path):
    text = "visits * day_share * per_query_kwh + visits"
    with pytest.raises(simulate.ModelError) as error:
        model(tmp_path, f'energy_kwh = "{text}"')
    message = str(error.value)
    assert f"derived.energy_kwh = '{text}'" in message
    assert "adds" in message and "kWh" in message and "1/month" in message
    assert "energy or power" in message and "a plain number or count" in message


def test_a_product_must_have_the_declared_unit(tmp_path):
    with pytest.raises(simulate.ModelError, match=r"gives kWh \(energy or power\) but co2_kg is declared in kg \(mass\)"):
        model(tmp_path, 'energy_kwh = "visits * day_share * per_query_kwh"\nco2_kg = "energy_kwh * pue"',
              'energy_kwh = "sum"\nco2_kg = "sum"')
    with pytest.raises(simulate.ModelError, match=r"water_l.*declared in L \(volume\)"):
        model(tmp_path, 'energy_kwh = "visits * day_share * per_query_kwh"\nwater_l = "energy_kwh * grid_g_per_kwh"',
              'energy_kwh = "sum"\nwater_l = "sum"')


def test_units_combine_through_products_and_quotients(tmp_path):
    m = model(tmp_path, '\n'.join([
        'energy_kwh = "visits * day_share * per_query_kwh * pue"',
        'co2_kg = "energy_kwh * grid_g_per_kwh / 1000"',                    # kWh x g/kWh = mass
        'fleet_kwh = "power_w * 24 / 1000"',                               # a power over the day: energy
        'per_visit_wh = { expr = "energy_kwh * 1000 / (visits * day_share)", unit = "Wh/visit" }',
        'growth = { expr = "exp(0.1 * (decimal_year - 2023))", unit = "1" }',   # a number added to a year
        'root_w = { expr = "sqrt(power_w * power_w)", unit = "W" }',
        'ratio = { expr = "(energy_kwh / fleet_kwh) ** 2", unit = "1" }']),
        'energy_kwh = "sum"\nco2_kg = "sum"\nfleet_kwh = "sum"')
    assert set(m.outputs) == {"energy_kwh", "co2_kg", "fleet_kwh"}


@pytest.mark.parametrize("expr, problem", [
    ("exp(energy_kwh)", r"exp\(\) of energy_kwh in kWh"),
    ("log(power_w) * 1", r"log\(\) of power_w in W"),
    ("energy_kwh ** pue * 1", None),                         # a dimensionless exponent: fine...
    ("pue ** energy_kwh", "raises to a power in kWh"),
    ("max(energy_kwh, grid_g_per_kwh) * 1", "compares"),
])
def test_functions_and_powers_need_dimensionless_arguments(tmp_path, expr, problem):
    derived = f'energy_kwh = "visits * day_share * per_query_kwh"\nx = {{ expr = "{expr}", unit = "1" }}'
    if problem is None:
        with pytest.raises(simulate.ModelError, match="raises energy_kwh in kWh to a power that is not a number"):
            model(tmp_path, derived)
        return
    with pytest.raises(simulate.ModelError, match=problem):
        model(tmp_path, derived)


def test_dimensionless_marks_a_factor_whose_units_are_dropped_on_purpose(tmp_path):
    with pytest.raises(simulate.ModelError, match="adds"):
        model(tmp_path, 'energy_kwh = "visits * day_share * per_query_kwh + sqrt(visits)"')
    m = model(tmp_path, 'energy_kwh = "visits * day_share * per_query_kwh + dimensionless(sqrt(visits))"')
    # the mark changes nothing in what is computed: the same expression tree as without it
    assert m.derived["energy_kwh"].node == ("add", ("mul", ("mul", ("name", "visits"), ("name", "day_share")),
                                                    ("name", "per_query_kwh")), ("sqrt", ("name", "visits")))


@pytest.mark.parametrize("path", sorted(PRIORS.glob("*.toml")), ids=lambda p: p.stem)
def test_every_shipped_model_passes(path):
    simulate.load(path)


def test_display_units_as_pint_reads_them():
    assert quantity("gCO2e/kWh").dimensionality == quantity("g/kWh").dimensionality
    assert quantity("queries/visit").dimensionless
    assert quantity("FLOP/(parameter*token)").dimensionless
    assert quantity("thousand m³").to("m**3").magnitude == pytest.approx(1000)
    assert quantity("Wh/query").to("J").magnitude == pytest.approx(3600)


# -- the memo of a passed check (simulate.user_cache): a warm start does not import pint -----------------
GOOD = 'energy_kwh = "visits * day_share * per_query_kwh"'
BAD = 'energy_kwh = "visits * day_share * per_query_kwh + visits"'


@pytest.fixture
def memo_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("SIMULATE_CACHE_DIR", str(folder))
    return folder / unit_check.MEMO


def test_a_passed_check_is_remembered_under_the_key_of_what_it_read(tmp_path, memo_dir):
    m = model(tmp_path, GOOD)
    assert [p.name for p in memo_dir.iterdir()] == [unit_check.memo_key(m)]


def test_a_remembered_verdict_is_used_instead_of_checking_again(tmp_path, memo_dir, monkeypatch):
    model(tmp_path, GOOD)

    def no_check(*args):
        raise AssertionError("checked again")

    monkeypatch.setattr(unit_check._Checker, "unit_of", no_check)
    model(tmp_path, GOOD)                               # the memo answers
    with pytest.raises(AssertionError, match="checked again"):
        model(tmp_path, GOOD.replace("visits *", "2 * visits *"))   # another expression: another key


def test_a_changed_file_is_checked_again_and_refused_with_the_same_error(tmp_path, memo_dir):
    with pytest.raises(simulate.ModelError) as fresh:
        model(tmp_path, BAD)
    assert not memo_dir.exists()                         # a refused model is never remembered
    model(tmp_path, GOOD)                                # remembered...
    with pytest.raises(simulate.ModelError) as after:    # ...and the file edited back to the bad expression
        model(tmp_path, BAD)
    assert str(after.value) == str(fresh.value)
    assert len(list(memo_dir.iterdir())) == 1


def test_a_changed_unit_of_a_used_parameter_is_checked_again(tmp_path, memo_dir):
    model(tmp_path, GOOD)
    text = BASE.format(derived=GOOD, outputs='energy_kwh = "sum"').replace('unit = "visits/month"', 'unit = "L"')
    with pytest.raises(simulate.ModelError, match=r"gives kWh·l \(length\^5 x mass\) but energy_kwh is declared in kWh"):
        load_text(tmp_path, text)


def test_a_change_to_the_checker_or_pint_is_a_new_key(tmp_path, memo_dir, monkeypatch):
    m = model(tmp_path, GOOD)
    key = unit_check.memo_key(m)
    monkeypatch.setattr(user_cache, "version_of", lambda name: "0.0-another")
    assert unit_check.memo_key(m) != key
    monkeypatch.undo()
    monkeypatch.setattr(user_cache, "source_digest", lambda *paths: "another checker")
    assert unit_check.memo_key(m) != key


def test_memos_off_or_an_unwritable_cache_still_check_every_time(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMULATE_CACHE_DIR", "")
    model(tmp_path, GOOD)
    with pytest.raises(simulate.ModelError, match="adds"):
        model(tmp_path, BAD)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("SIMULATE_CACHE_DIR", str(blocker))
    model(tmp_path, GOOD)
    model(tmp_path, GOOD)
    with pytest.raises(simulate.ModelError, match="adds"):
        model(tmp_path, BAD)
    assert blocker.read_text() == "a file where the cache folder would go"


def test_the_memo_folder_keeps_at_most_max_entries(tmp_path, memo_dir, monkeypatch):
    monkeypatch.setattr(user_cache, "MAX_ENTRIES", 4)
    for k in range(7):
        model(tmp_path, GOOD.replace("visits *", f"{k + 1} * visits *"))
        assert len(list(memo_dir.iterdir())) <= 4
    assert unit_check.memo_key(model(tmp_path, GOOD.replace("visits *", "7 * visits *"))) in {
        p.name for p in memo_dir.iterdir()}
