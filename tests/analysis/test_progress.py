"""One progress bar over each multi-run analysis (Sobol, tornado, rank, calibration, sweep,
convergence, a report, the atlas): drawn to the stream when asked, never with progress=False or
``-q``, and its final count is the work done (samples run plus draws evaluated again)."""
from __future__ import annotations

import numpy as np
import pytest

import simulate
from simulate.analysis import calibration as calibration_module
from simulate.analysis import target as target_module
from simulate.analysis.convergence import history
from simulate.cli import main
from simulate.results import progress
from simulate.results import run as run_module
from tests.helpers import CHATGPT


class Captured:
    """What was written to the captured stderr so far (pytest's capsys)."""

    def __init__(self, capsys):
        self.capsys, self.text = capsys, ""

    def getvalue(self) -> str:
        self.text += self.capsys.readouterr().err
        return self.text

    def clear(self):
        self.getvalue()
        self.text = ""


@pytest.fixture
def bars(monkeypatch, capsys):
    """Every bar drawn at once to the captured stderr; each closed bar's (desc, count, total) recorded."""
    monkeypatch.setattr(progress, "DELAY_S", 0.0)
    stream = Captured(capsys)
    closed = []
    original = progress.Bar.close

    def close(self):
        closed.append((self._bar.desc, self.n, self.total))
        original(self)

    monkeypatch.setattr(progress.Bar, "close", close)
    return closed, stream


@pytest.fixture
def work(monkeypatch):
    """The work done, counted where it happens: samples of every finished run, rows evaluated again."""
    done = {"samples": 0, "rows": 0}
    run_model, evaluate = run_module.run_model, target_module.evaluate_draws

    def counted_run(model, **kwargs):
        ds = run_model(model, **kwargs)
        done["samples"] += int(ds.attrs["samples"])
        return ds

    def counted_evaluate(program, values, daily, monthly):
        done["rows"] += len(values)
        return evaluate(program, values, daily, monthly)

    monkeypatch.setattr(run_module, "run_model", counted_run)
    monkeypatch.setattr(target_module, "evaluate_draws", counted_evaluate)
    monkeypatch.setattr(calibration_module, "evaluate_draws", counted_evaluate)
    return done


def only_bar(closed):
    assert len(closed) == 1, f"one bar over the whole analysis, not {closed}"
    return closed[0]


@pytest.mark.parametrize("method, samples", [("sobol", 64), ("tornado", 2000), ("rank", 2000)])
def test_one_bar_over_a_sensitivity_analysis_counts_its_work(bars, work, method, samples):
    closed, stream = bars
    ds = simulate.load(CHATGPT).sensitivity("energy_kwh", method, samples=samples, seed=3, progress=True)
    desc, n, total = only_bar(closed)
    assert desc == f"{method} energy_kwh" and f"{method} energy_kwh" in stream.getvalue()
    assert n == total == work["samples"] + work["rows"]
    k = ds.sizes["parameter"]
    expected = {"sobol": samples * (k + 2), "tornado": samples * (2 + 2 * k), "rank": samples}[method]
    assert n == expected
    if method == "sobol":
        assert n == ds.attrs["evaluations"]


def test_calibration_counts_its_run_and_both_passes(bars, work):
    closed, _ = bars
    simulate.load(CHATGPT).calibrate(samples=3000, seed=1, progress=True)
    desc, n, total = only_bar(closed)
    assert desc == "calibration" and n == total == work["samples"] + work["rows"] == 3 * 3000


def test_a_sweep_is_one_bar_over_its_runs(bars, work):
    closed, stream = bars
    ds = simulate.load(CHATGPT).sweep("pue", [1.1, 1.2, 1.3], samples=1500, seed=2, progress=True)
    desc, n, total = only_bar(closed)
    assert desc == "sweep pue" and n == total == work["samples"] == 3 * 1500 == 3 * int(ds.attrs["samples"])
    assert "sweep pue" in stream.getvalue()


def test_convergence_counts_the_samples_of_its_last_stage(bars):
    closed, _ = bars
    ds = history(simulate.load(CHATGPT), "energy_kwh", start=65_536, max_samples=131_072, progress=True)
    desc, n, total = only_bar(closed)
    assert n == total == int(ds["samples"].values[-1]) == 131_072


def test_a_report_grows_one_bar_over_every_run_and_evaluation(bars, work, tmp_path):
    from simulate.report.write import write_report

    closed, stream = bars
    write_report(CHATGPT, tmp_path / "r", samples=4000, seed=1, progress=True)
    desc, n, total = only_bar(closed)
    assert desc == "report chatgpt-2023-01" and "report chatgpt-2023-01" in stream.getvalue()
    assert n == total == work["samples"] + work["rows"] and work["rows"] > 0 and work["samples"] > 4000


def test_nothing_is_drawn_with_progress_false(bars):
    closed, stream = bars
    model = simulate.load(CHATGPT)
    model.sensitivity("energy_kwh", "tornado", samples=500, progress=False)
    model.sweep("pue", [1.1, 1.2], samples=500, progress=False)
    model.calibrate(samples=3000, progress=False)
    assert closed == [] and stream.getvalue() == ""


def test_quiet_cli_draws_no_bar_where_a_terminal_would_show_one(bars, monkeypatch):
    closed, stream = bars
    monkeypatch.setattr(progress, "_isatty", lambda s: True)     # as on a terminal
    args = ["sensitivity", str(CHATGPT), "--output", "energy_kwh", "--method", "tornado", "--samples", "500"]
    assert main(args) == 0
    assert len(closed) == 1 and closed[0][1] == closed[0][2] > 0 and "tornado" in stream.getvalue()
    closed.clear()
    stream.clear()
    assert main(args + ["-q"]) == 0
    assert closed == [] and stream.getvalue() == ""


def test_the_bar_changes_no_number(monkeypatch):
    monkeypatch.setattr(progress, "DELAY_S", 1e9)     # never drawn
    model = simulate.load(CHATGPT)
    shown = model.sensitivity("energy_kwh", "tornado", samples=800, seed=5, progress=True)
    hidden = model.sensitivity("energy_kwh", "tornado", samples=800, seed=5, progress=False)
    np.testing.assert_array_equal(shown["swing"].values, hidden["swing"].values)


def test_the_atlas_is_one_bar_over_its_models(bars, work, tmp_path):
    from simulate.report.atlas import write_atlas

    closed, stream = bars
    write_atlas(tmp_path / "atlas", [CHATGPT], samples=2000, seed=1, progress=True)
    desc, n, total = only_bar(closed)
    assert desc == "atlas" and "atlas" in stream.getvalue() and n == total == work["samples"] == 2000
