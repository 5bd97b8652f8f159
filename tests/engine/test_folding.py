"""Month-rate folding and fused instructions: fewer instructions, the same bits."""
import math

import numpy as np
import pytest

import simulate
from simulate.engine import compiler
from simulate.engine.folding import scalar_value
from simulate.engine.runner import evaluate_draws
from simulate.spec.expressions import evaluate, parse_expression

from tests.helpers import ROOT

MODELS = ["ai-fleet-2023-2028", "data-centres-regions-2024-2030", "chatgpt-2023-01"]


def _compile_plain(monkeypatch, model):
    """The model compiled with neither folding nor fused instructions."""
    with monkeypatch.context() as patch:
        patch.setattr(compiler._Compiler, "_folded", lambda self, node, level: None)
        patch.setattr(compiler._Compiler, "_fusable", lambda self, node, kind, level: False)
        return compiler.compile_model(model)


@pytest.mark.parametrize("name", MODELS)
def test_folding_and_fusing_keep_every_number_bit_for_bit(monkeypatch, name):
    model = simulate.load(ROOT / "priors" / f"{name}.toml")
    program = compiler.compile_model(model)
    plain = _compile_plain(monkeypatch, model)
    assert program.evaluation.month_len.sum() <= plain.evaluation.month_len.sum()
    draws = np.random.default_rng(3).uniform(0.2, 3.0, (700, len(program.draw_names)))
    shape = (len(draws), program.n_outputs)
    got = (np.empty(shape + (program.n_days,)), np.empty(shape + (program.n_months,)))
    want = (np.empty_like(got[0]), np.empty_like(got[1]))
    evaluate_draws(program, draws, *got)
    evaluate_draws(plain, draws, *want)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_the_fleet_runs_fewer_instructions_per_month(monkeypatch):
    """Year weights and utilisation edges fold; ramps and sums of products fuse."""
    model = simulate.load(ROOT / "priors" / "ai-fleet-2023-2028.toml")
    folded = compiler.compile_model(model).evaluation
    plain = _compile_plain(monkeypatch, model).evaluation
    assert folded.month_len.sum() < 0.6 * plain.month_len.sum()
    # the folded values are loaded each month like the built-ins: one row per folded sub-expression
    assert folded.month_builtin_reg.shape[0] > plain.month_builtin_reg.shape[0]


@pytest.mark.parametrize("text, values", [
    ("min(max(t - 2024 + 0.5, 0), 1) - min(max(t - 2024 - 0.5, 0), 1)", {"t": 2024.2}),
    ("exp(-0.03 * (t - 2024.5)) * sqrt(t) / log(t)", {"t": 2026.7}),
    ("t ** 0.5 + -t", {"t": 3.3}),
])
def test_a_folded_value_is_the_numpy_value(text, values):
    node = parse_expression(text, field="x")
    assert scalar_value(node, values) == pytest.approx(float(evaluate(node, values)), rel=1e-15)


@pytest.mark.parametrize("text", ["1 / (t - 2024)", "log(t - 2024)", "(t - 2025) ** 0.5"])
def test_what_would_be_infinite_or_nan_is_left_to_the_kernel(text):
    node = parse_expression(text, field="x")
    assert scalar_value(node, {"t": 2024.0}) is None
    with np.errstate(all="ignore"):
        assert not math.isfinite(float(evaluate(node, {"t": 2024.0})))
