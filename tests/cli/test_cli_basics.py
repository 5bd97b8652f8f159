"""The command line as a new user meets it: help, version, counts, closed pipes, Ctrl-C, new, info, files."""
from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

import simulate
from simulate.cli import COMMANDS, count, main
from simulate.spec.model import DEFAULT_SAMPLES
from tests.helpers import CHATGPT, ROOT, write_model


def simulate_command(*args, **kwargs):
    """``python -m simulate ARGS`` in a child process, from the repository root."""
    return subprocess.run([sys.executable, "-m", "simulate", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, **kwargs)


@pytest.mark.parametrize("argv", [["--help"], ["-h"]] + [[name, "--help"] for name in COMMANDS])
def test_help_at_every_level_exits_0_and_reads_for_users(argv, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: simulate")
    if argv[0].startswith("-"):
        assert "Monte Carlo uncertainty" in text and "simulate new my-model" in text
        assert all(name in text for name in COMMANDS)


def test_python_dash_m_and_version():
    done = simulate_command("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"simulate {simulate.__version__}"


@pytest.mark.parametrize("text, value", [("1e6", 10**6), ("1000000", 10**6), ("1_000_000", 10**6),
                                         ("1,000,000", 10**6), ("2.5e5", 250_000), ("65536", 65536)])
def test_counts_in_scientific_notation(text, value):
    assert count(text) == value


@pytest.mark.parametrize("text", ["1.5", "1e-3", "-5", "lots", "nan", "inf"])
def test_a_count_that_is_not_a_whole_number_exits_2(text, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["run", str(CHATGPT), "--samples", text])
    assert stop.value.code == 2
    assert "--samples" in capsys.readouterr().err


def test_one_default_sample_count_for_the_cli_and_the_api():
    import inspect

    from simulate.cli import build_parser

    assert inspect.signature(simulate.Model.run).parameters["samples"].default == DEFAULT_SAMPLES
    parser = build_parser()
    for argv in (["run", "m.toml"], ["report", "m.toml", "--out", "d"], ["sci", "m.toml", "--per", "queries"]):
        assert parser.parse_args(argv).samples == DEFAULT_SAMPLES


def test_a_closed_pipe_ends_quietly():
    """The reader closes the pipe before anything is written: no traceback, exit 141 (128 + SIGPIPE)."""
    read, write = os.pipe()
    os.close(read)
    child = subprocess.run([sys.executable, "-m", "simulate", "check", str(CHATGPT)], cwd=ROOT, stdout=write,
                           stderr=subprocess.PIPE, text=True, timeout=300)
    os.close(write)
    assert child.returncode == 141
    assert "Traceback" not in child.stderr and "Exception ignored" not in child.stderr


def test_head_takes_the_first_line_without_a_traceback():
    done = subprocess.run(f"{sys.executable} -m simulate run {CHATGPT} --samples 2000 | head -1", shell=True,
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.stdout.startswith("ChatGPT electricity and CO2, January 2023: 2,000 samples")
    assert "Traceback" not in done.stderr and "Error" not in done.stderr


def test_ctrl_c_exits_130_without_a_traceback(tmp_path):
    out = tmp_path / "never.nc"
    child = subprocess.Popen([sys.executable, "-m", "simulate", "run", str(CHATGPT), "--samples", "1e10",
                              "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(8)      # imports and compile done: the run is sampling (10^10 samples take minutes)
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=120)
    assert child.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "simulate: interrupted" and "Traceback" not in stderr
    assert all(line.startswith("warning: ") for line in stderr.strip().splitlines()[:-1])   # e.g. how long it would take
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_new_writes_a_model_that_runs_and_refuses_to_overwrite(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["new", "my-model"]) == 0
    assert "simulate check my-model.toml" in capsys.readouterr().out
    model = simulate.load(tmp_path / "my-model.toml")           # valid, and its units add up
    assert model.name == "my-model" and set(model.outputs) == {"energy_kwh", "co2_kg", "queries"}
    assert all(p.source for p in model.all_parameters())
    ds = model.run(samples=5000, seed=1)
    # queries: lognormal 80e6 to 120e6 per month, so the month's median is sqrt(80e6 * 120e6)
    median = float(ds["queries_monthly"].sel(quantile=0.5).isel(month=0))
    assert median == pytest.approx(np.sqrt(80e6 * 120e6), rel=0.02)
    before = (tmp_path / "my-model.toml").read_text()
    assert main(["new", "my-model"]) == 2
    assert "--force" in capsys.readouterr().err
    (tmp_path / "my-model.toml").write_text(before + "# mine\n")
    assert main(["new", "my-model.toml", "--force"]) == 0
    assert (tmp_path / "my-model.toml").read_text() == before


def test_info_shows_outputs_scenarios_dimensions_and_references(capsys):
    assert main(["info", str(ROOT / "priors" / "ai-fleet-2023-2028.toml")]) == 0
    text = capsys.readouterr().out
    model = simulate.load(ROOT / "priors" / "ai-fleet-2023-2028.toml")
    for name in list(model.outputs) + list(model.scenarios) + list(model.dimensions):
        assert f"  {name} " in text, name
    assert "de Vries 2023 high case" in text
    assert all(ref.label in text for ref in model.references)
    assert re.search(r"^  cohort +2020, 2021, 2022", text, re.M)


def test_list_shows_every_model_file(capsys):
    assert main(["list", str(ROOT / "priors")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(list((ROOT / "priors").glob("*.toml")))
    assert any("chatgpt-2023-01.toml  2023-01-01 to 2023-01-31  ChatGPT electricity and CO2" in line for line in lines)


def test_an_unknown_extension_is_refused_before_sampling(tmp_path, capsys):
    assert main(["run", str(CHATGPT), "--samples", "1e9", "--out", str(tmp_path / "x.csvv")]) == 2
    err = capsys.readouterr().err
    assert "x.csvv" in err and ".csv" in err and ".parquet" in err
    assert list(tmp_path.iterdir()) == []      # 10^9 samples were never drawn: it returns at once


def test_files_written_by_the_cli_have_umask_permissions(tmp_path, monkeypatch):
    old = os.umask(0o022)
    try:
        monkeypatch.chdir(tmp_path)
        assert main(["new", "m", "-q"]) == 0
        for suffix in (".nc", ".csv", ".json", ".parquet", ".yaml"):
            assert main(["run", "m.toml", "--samples", "2000", "-q", "--out", f"r{suffix}"]) == 0
        for path in tmp_path.iterdir():
            assert stat.S_IMODE(path.stat().st_mode) == 0o644, path.name
        assert sorted(p.name for p in tmp_path.iterdir()) == ["m.toml", "r.csv", "r.json", "r.nc", "r.parquet", "r.yaml"]
    finally:
        os.umask(old)


def test_quiet_prints_no_wrote_line_and_resets(tmp_path, capsys):
    from simulate.results import progress

    path = write_model(tmp_path, (ROOT / "tests" / "data" / "two_regions.toml").read_text())
    assert main(["run", str(path), "--samples", "2000", "--quiet", "--out", str(tmp_path / "r.csv")]) == 0
    assert "wrote" not in capsys.readouterr().out
    assert progress._default is None
    table = pd.read_csv(tmp_path / "r.csv")
    assert set(table["output"]) >= {"energy_kwh", "co2_kg"}


def test_sci_prints_the_score_per_query(capsys):
    assert main(["sci", str(CHATGPT), "--per", "queries", "--samples", "20000", "--seed", "1"]) == 0
    text = capsys.readouterr().out
    assert "location-based" in text and "gCO2e/query" in text
    row = next(line for line in text.splitlines() if line.startswith("whole period"))
    median = float(row.split()[2])
    assert 0.1 < median < 3      # Jan 2023: about 1-4 Wh per query at 250-580 g/kWh


def test_sci_of_an_output_that_does_not_exist_exits_2(capsys):
    assert main(["sci", str(CHATGPT), "--per", "tokens", "--samples", "2000"]) == 2
    assert "per = 'tokens'" in capsys.readouterr().err
