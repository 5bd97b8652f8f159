"""Issue 18, "CLI arguments and paths", "Device nodes", Ctrl-C, a closed pipe, ``sensitivity --method
rank`` with correlations: each a minimal reproduction that gave a traceback (or replaced a device).

Each is now exit status 2 with one line naming the option and the path (130 for Ctrl-C), nothing
written, and the target left as it was.
"""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

import simulate
from simulate.cli import main
from tests.helpers import PRIORS
from tests.reliability.common import (
    BASE,
    EXECUTABLE,
    UNCORRELATED,
    assert_bad_input,
    edited,
    run_cli,
    unprivileged,
    write,
)

FLEET = PRIORS / "ai-fleet-2023-2028.toml"


def one_error_line(capsys, *fragments) -> str:
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if not line.startswith("warning: ")]
    assert len(errors) == 1 and errors[0].startswith("simulate: error: "), captured.err
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])
    return captured.out


# --seed, --out ----------------------------------------------------------------------------------------
def test_a_seed_too_large_for_netcdf_is_refused_before_anything_is_printed(tmp_path, capsys):
    model, out = write(tmp_path, BASE), tmp_path / "x.nc"
    assert main(["run", str(model), "--samples", "1000", "--seed", str(2**64), "--out", str(out)]) == 2
    printed = one_error_line(capsys, "--seed = 18446744073709551616", "must be an integer from 0 to")
    assert printed == "" and not out.exists()


@pytest.mark.parametrize("target", ["folder", "under a file", "fifo", "character device"])
def test_out_onto_something_that_is_not_a_file_is_refused_and_left_alone(tmp_path, capsys, target):
    model = write(tmp_path, BASE)
    if target == "folder":
        out = tmp_path / "results"
        out.mkdir()
    elif target == "under a file":
        (tmp_path / "plain").write_text("keep me")
        out = tmp_path / "plain" / "x.nc"
    elif target == "fifo":
        out = tmp_path / "pipe"
        os.mkfifo(out)
    else:
        out = tmp_path / "null"
        try:
            os.mknod(out, stat.S_IFCHR | 0o666, os.makedev(1, 3))     # a second /dev/null
        except PermissionError:
            pytest.skip("only root can make a device node")
    before = {p.name: p.lstat().st_mode for p in tmp_path.iterdir()}
    assert main(["run", str(model), "--samples", "1000", "--out", str(out)]) == 2
    one_error_line(capsys, f"--out = '{out}'")
    assert {p.name: p.lstat().st_mode for p in tmp_path.iterdir()} == before
    if target == "under a file":
        assert (tmp_path / "plain").read_text() == "keep me"


@pytest.fixture
def shared_folder():
    """A folder the unprivileged user can read, with a model and a read-only sub-folder."""
    folder = Path(tempfile.mkdtemp(prefix="simulate-ro-"))
    folder.chmod(0o755)
    write(folder, BASE)
    (folder / "ro").mkdir(mode=0o555)
    (folder / "ro").chmod(0o555)
    (folder / "mpl").mkdir(mode=0o777)
    (folder / "mpl").chmod(0o777)
    yield folder
    subprocess.run(["rm", "-rf", str(folder)], check=False)


@pytest.mark.parametrize("command", [["run", "--samples", "1000", "--out", "ro/x.nc"],
                                     ["report", "--samples", "1000", "--out", "ro/report"]])
def test_writing_into_a_read_only_folder_is_refused(shared_folder, command):
    args = [command[0], str(shared_folder / "probe.toml"), *command[1:-1], str(shared_folder / command[-1])]
    proc = subprocess.run(unprivileged() + [EXECUTABLE, *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "MPLCONFIGDIR": str(shared_folder / "mpl")})
    assert_bad_input(proc, f"--out = '{shared_folder / command[-1]}'", "read-only")
    assert list((shared_folder / "ro").iterdir()) == []


def test_a_scheduler_that_is_not_an_address_is_refused(tmp_path, capsys):
    assert main(["run", str(write(tmp_path, BASE)), "--samples", "1000", "--scheduler", "notaurl"]) == 2
    one_error_line(capsys, "--scheduler = 'notaurl'", "cannot reach the dask scheduler")


# sensitivity --figure / --out ----------------------------------------------------------------------------
def test_sensitivity_figure_into_a_missing_folder_is_written(tmp_path):
    figure = tmp_path / "new" / "folder" / "s.png"
    assert main(["sensitivity", str(write(tmp_path, UNCORRELATED)), "--output", "energy_kwh", "--method", "rank",
                 "--samples", "2000", "--figure", str(figure)]) == 0
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in figure.parent.iterdir()] == ["s.png"]


@pytest.mark.parametrize("option,value,fragment", [("--figure", "s.xyz", "has no image format matplotlib can write"),
                                                   ("--out", ".", "is a folder")])
def test_sensitivity_to_an_unusable_path_is_refused_before_it_runs(tmp_path, capsys, option, value, fragment):
    target = tmp_path / value
    assert main(["sensitivity", str(write(tmp_path, BASE)), "--output", "energy_kwh", "--method", "rank",
                 "--samples", "2000", option, str(target)]) == 2
    printed = one_error_line(capsys, f"{option} = '{target}'", fragment)
    assert printed == ""


# report on a model with a NaN output ----------------------------------------------------------------------
def test_report_on_an_output_that_is_always_nan_is_one_clear_error(tmp_path, capsys):
    text = BASE.replace('co2_kg = { aggregate = "sum", long_name = "CO2e" }',
                        'co2_kg = { aggregate = "sum", long_name = "CO2e" }\nimage_wh = "mean"')
    text = edited("[derived]\n", '[derived]\nimage_wh = "dimensionless(log(-pue))"\n', text)   # after the headline output
    out = tmp_path / "report"
    assert main(["report", str(write(tmp_path, text)), "--out", str(out), "--samples", "2000"]) == 2
    one_error_line(capsys, "outputs.image_wh", "every sample is NaN or infinite in 2023-01")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["probe.toml"]


# Ctrl-C, a closed pipe, an absurd sample count -------------------------------------------------------------
def test_ctrl_c_stops_a_run_with_status_130_no_traceback_and_no_file(tmp_path):
    """An absurd count says how long it would take; Ctrl-C then stops it cleanly."""
    out = tmp_path / "x.nc"
    proc = subprocess.Popen([EXECUTABLE, "run", str(write(tmp_path, BASE)), "--samples", "1e13", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stderr.readline()         # the estimate, after two kernel calls
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=600)
    assert "10,000,000,000,000 samples will take about" in first, first + rest
    assert proc.returncode == 130, rest
    assert rest.strip() == "simulate: interrupted" and "Traceback" not in rest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["probe.toml"]


def test_a_closed_pipe_ends_quietly_not_in_a_traceback(tmp_path):
    proc = subprocess.Popen([EXECUTABLE, "check", str(FLEET)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()                    # as `| head` does once it has its lines
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 141 and err.decode() == ""   # 128 + SIGPIPE, as shell tools end


def test_a_sample_count_of_1e14_is_never_a_list_in_memory():
    import tracemalloc

    from simulate.engine.runner import BLOCK_SIZE, block_sizes

    tracemalloc.start()
    sizes = block_sizes(10**14)
    n = len(sizes)
    last = sizes[n - 3:]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert n == -(-10**14 // BLOCK_SIZE) and list(last) == [BLOCK_SIZE, BLOCK_SIZE, 10**14 % BLOCK_SIZE]
    assert peak < 1 << 20


# sensitivity --method rank with correlations -----------------------------------------------------------------
def test_rank_sensitivity_of_the_shipped_fleet_model_with_correlations():
    model = simulate.load(FLEET)
    ds = model.sensitivity("energy_kwh", "rank", samples=4000, seed=1)
    # the AR(1)-correlated shipments of every cohort are one group, read through its strongest member
    used = str(ds.sel(parameter="shipped[*]")["member_used"].values)
    member, _, count = used.partition(" (strongest of ")
    assert member in [c.name for c in model.parameters["shipped"].cells]
    assert count == f"{len(model.parameters['shipped'].cells)})"
    assert np.all(np.abs(ds["rho"].values) <= 1)


def test_cli_runs_through_the_real_executable(tmp_path):
    proc = run_cli("run", write(tmp_path, BASE), "--samples", "1000", "--seed", str(2**63))
    assert_bad_input(proc, "--seed = 9223372036854775808")

