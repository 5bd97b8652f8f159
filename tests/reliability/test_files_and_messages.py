"""Issue 18, "Folder swap window" and "Unescaped and unbounded messages": a report folder swap killed
half-way, leftovers of killed writes, control characters and megabyte values in messages."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import xarray as xr

import simulate
from simulate.cli import main
from simulate.report.write import write_report
from tests.reliability.common import BASE, edited, refused, write

KILLED_BETWEEN_RENAMES = textwrap.dedent("""\
    import os, signal, sys
    from pathlib import Path
    from simulate.report.write import write_report

    rename = Path.rename

    def rename_then_die(self, target):      # SIGKILL right after the old folder is moved aside
        result = rename(self, target)
        if Path(target).name.endswith(".old"):
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    Path.rename = rename_then_die
    write_report(sys.argv[1], sys.argv[2], samples=1000, seed=2)
""")

KILLED_WHILE_WRITING_NETCDF = textwrap.dedent("""\
    import os, signal, sys
    import xarray as xr
    from simulate.cli import main

    def write_half_then_die(self, path, *args, **kwargs):
        with open(path, "wb") as handle:
            handle.write(b"CDF\\x01 half")
        os.kill(os.getpid(), signal.SIGKILL)

    xr.Dataset.to_netcdf = write_half_then_die
    main(["run", sys.argv[1], "--samples", "1000", "--out", sys.argv[2]])
""")


SMALL = """\
[period]
start = 2023-01-01
end = 2023-01-01

[parameters.visits]
dist = "uniform"
min = 1
max = 2
unit = "visits/day"
source = "test"

[parameters.wh_per_visit]
dist = "uniform"
min = 1
max = 2
unit = "Wh/visit"
source = "test"

[derived]
energy_kwh = "visits * wh_per_visit / 1000"

[outputs]
energy_kwh = "sum"
"""


def seed_of(report) -> int:
    with xr.open_dataset(report / "results.nc") as ds:
        return int(ds.attrs["seed"])


@pytest.mark.slow
def test_a_report_swap_killed_between_its_renames_is_mended_by_the_next_write(tmp_path):
    model, out = write(tmp_path, SMALL), tmp_path / "report"
    write_report(model, out, samples=1000, seed=1)
    killed = subprocess.run([sys.executable, "-c", KILLED_BETWEEN_RENAMES, str(model), str(out)], timeout=600)
    assert killed.returncode == -9
    left = sorted(p.name for p in tmp_path.iterdir())
    assert "report" not in left and ".report.old" in left and any(n.endswith(".tmp") for n in left), left

    bad = write(tmp_path, "[period]\n", "bad.toml")
    with pytest.raises(simulate.ModelError):              # the next write fails, yet puts the old folder back
        write_report(bad, out, samples=1000, seed=3)
    assert seed_of(out) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "probe.toml", "report"]

    write_report(model, out, samples=1000, seed=3)
    assert seed_of(out) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "probe.toml", "report"]


def test_the_leftover_of_a_netcdf_write_killed_half_way_is_removed_by_the_next_one(tmp_path):
    model, out = write(tmp_path, BASE), tmp_path / "x.nc"
    killed = subprocess.run([sys.executable, "-c", KILLED_WHILE_WRITING_NETCDF, str(model), str(out)], timeout=600)
    assert killed.returncode == -9
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1 and not out.exists()
    assert main(["run", str(model), "--samples", "1000", "--out", str(out)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["probe.toml", "x.nc"]


def test_control_characters_in_keys_are_escaped_in_messages(tmp_path):
    path = write(tmp_path, edited("[parameters.pue]", '[parameters."pue\\u001b[31m\\r"]'))
    message = refused(path, "parameters.pue\\x1b[31m\\r", "is not a valid name")
    assert "\x1b" not in message and "\r" not in message


def test_a_megabyte_value_gives_a_short_message(tmp_path):
    path = write(tmp_path, edited('unit = "Wh/visit"', 'unit = "' + "W" * 1_000_000 + '"'))
    message = refused(path, "parameters.wh_per_visit.unit", "(1,000,000 characters)",
                      "is 1,000,000 characters long, more than the 100 allowed")
    assert len(message) < 1000


def test_a_folder_that_is_not_a_report_is_never_replaced(tmp_path, capsys):
    """(Found by the property tests: ``report --out .`` raised ValueError after the whole run; a
    folder of the user's own would have been replaced, its files deleted.)"""
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    model = write(tmp_path, BASE)
    for out in (mine, "."):
        assert main(["report", str(model), "--out", str(out), "--samples", "1000"]) == 2
        assert "is a folder that is not a simulate report" in capsys.readouterr().err
    assert (mine / "thesis.tex").read_text() == "years of work"
