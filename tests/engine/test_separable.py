"""Profile outputs: days read from their month, scaled by a deterministic factor (simulate/engine/separable.py)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulate
from simulate.engine import compiler as program_module
from simulate.engine.compiler import compile_model
from simulate.engine.histogram import QUANTILES
from simulate.engine.separable import profile_splits
from simulate.spec.expressions import evaluate
from simulate.spec.model import BUILTIN_NAMES, Derived
from tests.engine.test_runner import evaluate_on
from tests.helpers import CHATGPT, load_text

MIXED = """\
[period]
start = 2023-01-01
end = 2023-02-28

[profile]
weekday_weights = [1, 1, 1, 1, 0.9, 0.6, 0.7]
trend_per_day = 0.02
source = "test"

[parameters.x_kwh]
dist = "lognormal"
p5 = 100
p95 = 900
unit = "kWh"
source = "test"

[parameters.y]
dist = "pert"
min = 0.5
mode = 1
max = 3
unit = "1"
source = "test"

[parameters.y.by_month]
"2023-02" = { dist = "uniform", min = 2, max = 4 }

[derived]
energy_kwh = "x_kwh * day_share * y"
shifted_kwh = "x_kwh * day_share + dimensionless(y)"
swing_kwh = "x_kwh * (days_since_start - 10.5) / y"
calendar_kwh = "exp(day_share) * -x_kwh"
flat_kwh = "x_kwh + dimensionless(y)"

[outputs]
energy_kwh = "sum"
shifted_kwh = "sum"
swing_kwh = "mean"
calendar_kwh = "sum"
flat_kwh = "mean"
"""


def test_the_chatgpt_per_query_outputs_are_profile_outputs_and_the_fleet_load_is_not():
    """Per-query outputs are products with day_share; the fleet path's load is min(demand / capacity, 1),
    a cap that changes shape from day to day, so its outputs are reduced day by day."""
    model = simulate.load(CHATGPT)
    program = compile_model(model)
    profile = dict(zip(model.flat.outputs, program.evaluation.out_profile))
    fleet = {name for name in profile if name.startswith("fleet_")}
    assert fleet == {"fleet_energy_kwh", "fleet_it_energy_kwh", "fleet_co2_kg", "fleet_load"}
    assert not any(profile[name] for name in fleet)
    assert all(flag for name, flag in profile.items() if name not in fleet)
    source, scale = program.cell_sources()
    o = list(model.flat.outputs).index("energy_kwh")
    assert (source[o, :program.n_days] == program.n_days).all()
    share = model.profile.day_share(model.period)
    np.testing.assert_allclose(scale[o, :program.n_days], share, rtol=1e-12)  # energy_kwh: sum of shares = 1


def test_only_products_and_shared_profiles_are_split(tmp_path):
    model = load_text(tmp_path, MIXED)
    program = compile_model(model)
    profile = dict(zip(model.outputs, program.evaluation.out_profile))
    assert profile == {"energy_kwh": True, "shifted_kwh": False, "swing_kwh": True, "calendar_kwh": True,
                       "flat_kwh": True}
    # the swing factor changes sign within January: its early days are negative multiples of the month
    _, scale = program.cell_sources()
    assert (scale[2, :10] < 0).all() and (scale[2, 11:31] > 0).all()


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    model = load_text(tmp_path_factory.mktemp("mixed"), MIXED)
    samples = 40_000
    ds = model.run(samples=samples, seed=5, keep=samples)
    program = compile_model(model)
    daily, monthly = evaluate_on(program, np.ascontiguousarray(ds["inputs"].values))
    return model, ds, daily, monthly


def test_daily_quantiles_match_the_exact_sample_quantiles_of_every_day(mixed_run):
    """The scaled month agrees with numpy's quantiles of the day's own values (one bin: 0.39%)."""
    model, ds, daily, monthly = mixed_run
    for o, name in enumerate(model.outputs):
        exact = np.quantile(daily[:, o, :], QUANTILES, axis=0)
        scale = np.abs(daily[:, o, :]).max(axis=0)
        np.testing.assert_allclose(ds[f"{name}_daily"].values, exact, rtol=0.005, atol=1e-9 * scale.max(),
                                   err_msg=name)
        np.testing.assert_allclose(ds[f"{name}_daily_mean"].values, daily[:, o, :].mean(axis=0), rtol=1e-10,
                                   atol=1e-12 * scale.max(), err_msg=name)
        np.testing.assert_allclose(ds[f"{name}_daily_std"].values, daily[:, o, :].std(axis=0, ddof=1), rtol=1e-8,
                                   err_msg=name)
        np.testing.assert_allclose(ds[f"{name}_monthly"].values, np.quantile(monthly[:, o, :], QUANTILES, axis=0),
                                   rtol=0.005, err_msg=name)


def test_intervals_of_a_negative_day_keep_low_below_high(mixed_run):
    _, ds, _, _ = mixed_run
    for var in ("swing_kwh_daily", "calendar_kwh_daily"):
        low, high, q = ds[f"{var}_ci_low"].values, ds[f"{var}_ci_high"].values, ds[var].values
        assert (low <= q).all() and (q <= high).all() and (high > low).any()
        assert (np.diff(q, axis=0) >= 0).all()      # quantiles stay increasing after the flip


def test_splitting_changes_no_number_beyond_the_histogram_resolution(tmp_path, monkeypatch):
    model = simulate.load(CHATGPT)
    split = model.run(samples=70_000, seed=9)
    monkeypatch.setattr(program_module, "profile_splits", lambda outputs, derived, day_values: ({}, {}))
    assert not compile_model(model).evaluation.out_profile.any()
    whole = model.run(samples=70_000, seed=9)
    for name in model.outputs:
        for scale in ("daily", "monthly"):
            var = f"{name}_{scale}"
            np.testing.assert_allclose(split[var].values, whole[var].values, rtol=2 * 2 ** (1 / 256) - 2, err_msg=var)
            np.testing.assert_allclose(split[f"{var}_mean"].values, whole[f"{var}_mean"].values, rtol=1e-12)
            np.testing.assert_allclose(split[f"{var}_std"].values, whole[f"{var}_std"].values, rtol=1e-9)


# -- property: whenever an expression is split, base x factor is the expression ---------------------
LEAVES = st.sampled_from([("name", "a"), ("name", "b"), ("name", "day_share"), ("name", "days_since_start"),
                          ("name", "days_in_month"), ("num", 2.0), ("num", -0.5)])


def _trees(leaf):
    binary = st.tuples(st.sampled_from(["mul", "div", "add", "sub"]), leaf, leaf)
    unary = st.tuples(st.sampled_from(["neg", "exp", "sqrt"]), leaf)
    return binary | unary


EXPRESSIONS = st.recursive(LEAVES, _trees, max_leaves=8)


def _resolve(name, derived, env):
    if name not in env:
        env[name] = evaluate(derived[name].node, _Env(derived, env))
    return env[name]


class _Env(dict):
    def __init__(self, derived, env):
        super().__init__()
        self.derived, self.env = derived, env

    def __getitem__(self, name):
        return _resolve(name, self.derived, self.env)


@settings(max_examples=300, deadline=None)
@given(node=EXPRESSIONS)
def test_a_split_expression_equals_its_base_times_its_factor(node):
    n_days, rng = 40, np.random.default_rng(0)
    days = {"day_share": rng.uniform(0.01, 0.05, n_days), "days_since_start": np.arange(n_days) + 1.0,
            "days_in_month": np.where(np.arange(n_days) < 31, 31.0, 28.0), "decimal_year": 2023 + np.arange(n_days) / 365}
    assert set(days) == set(BUILTIN_NAMES)
    derived = {"out": Derived("out", node, "", None, "out")}
    splits, synthetic = profile_splits(["out"], derived, days)
    kinds = _kinds(node)
    if kinds <= {"mul", "div", "neg", "name", "num"} and "out" not in splits:
        factor = evaluate(node, {**days, "a": 1.0, "b": 1.0})   # only a zero or non-finite profile may refuse
        assert not np.all(np.isfinite(factor) & (factor != 0))
    if "out" not in splits:
        return
    samples = {"a": rng.uniform(0.5, 2.0, (64, 1)), "b": rng.uniform(-2.0, -0.5, (64, 1))}
    env = {**samples, **{k: v[None, :] for k, v in days.items()}}
    direct = evaluate(node, env) * np.ones((64, n_days))
    all_derived = {**derived, **synthetic}
    base = _resolve(splits["out"].base, all_derived, dict(env)) if splits["out"].base in all_derived \
        else env[splits["out"].base]
    rebuilt = base * splits["out"].day_factor[None, :] * np.ones((64, n_days))
    both = np.isfinite(direct) & np.isfinite(rebuilt)
    assert (np.isfinite(direct) == np.isfinite(rebuilt)).mean() > 0.99
    np.testing.assert_allclose(rebuilt[both], direct[both], rtol=1e-9, atol=1e-12)


def _kinds(node) -> set:
    if node[0] in ("num", "name"):
        return {node[0]}
    return {node[0]}.union(*(_kinds(child) for child in node[1:]))
