"""Property tests over every class of input issue 18 lists (see :mod:`tests.reliability.generators`).

For every generated input: either one clear refusal (a ModelError / exit status 2, one line naming
the file and the field), or a run whose numbers are right (quantiles against numpy's exact ones
on the same draws, within the stated error); never a traceback, another exit status, a silent
wrong result or a partial file. The fast suite tries a few inputs per class; the issue's counts
come from ``RELIABILITY_EXAMPLES=200 RELIABILITY_TALLY=tally.json pytest tests/reliability -m slow``
and the fast run together (see conftest.py).
"""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.common import UNCORRELATED
from tests.reliability.conftest import record
from tests.reliability.generators import FILE_CLASSES, judge_cli, judge_file

EXAMPLES = int(os.environ.get("RELIABILITY_EXAMPLES", "8"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])


@pytest.mark.parametrize("cls", sorted(FILE_CLASSES))
@SETTINGS
@given(data=st.data())
def test_every_model_file_is_refused_clearly_or_runs_right(cls, data):
    case = data.draw(FILE_CLASSES[cls], label=cls)
    with tempfile.TemporaryDirectory() as folder:
        outcome, detail = judge_file(case, Path(folder))
    record(cls, outcome, detail)


# -- through the real executable -----------------------------------------------------------------------------
@pytest.mark.slow
@SETTINGS
@given(data=st.data())
def test_model_files_through_the_executable(data):
    """The same classes through ``simulate run --out``: exit 2 and nothing written, or exit 0 and the file."""
    cls = data.draw(st.sampled_from(sorted(FILE_CLASSES)), label="class")
    case = data.draw(FILE_CLASSES[cls], label=cls)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "case.toml"
        path.write_text(case.text(), encoding="utf-8")
        outcome, detail = judge_cli(["run", path.name, "--samples", "2000", "--out", "out.nc"], folder,
                                    refuse=case.refuse, field=case.field if not case.also else None,
                                    expect_files=("out.nc",))
        if outcome == "refused" and not detail.startswith(f"simulate: error: {path.name}: "):
            outcome = "unclear message"
        if outcome == "ran right" and not (Path(folder) / "out.nc").stat().st_size:
            outcome = "partial file"
    record(f"{cls} (executable)", outcome, detail)


OUT_TARGETS = {  # name given to --out -> (what is made there first, refused?, files a run leaves)
    "x.nc": (None, False, ("x.nc",)), "sub/deeper/x.nc": (None, False, ("sub",)),
    ".": (None, True, ()), "probe.toml/x.nc": (None, True, ()), "pipe": ("fifo", True, ()),
    "taken": ("folder", True, ()), "null": ("device", True, ()),
}


@st.composite
def cli_arguments(draw):
    """One command with one option varied: (args, refused?, field, setup, files a run leaves)."""
    command = draw(st.sampled_from(["run", "run", "check", "sensitivity", "report"]))
    base = {"run": ["run", "probe.toml", "--samples", "1000"], "check": ["check", "probe.toml"],
            "sensitivity": ["sensitivity", "probe.toml", "--output", "energy_kwh", "--method", "rank",
                            "--samples", "1000"],
            "report": ["report", "probe.toml", "--samples", "1000"]}[command]
    if command == "check":
        name = draw(st.sampled_from(["probe.toml", "missing.toml", ".", "pipe"]))
        return ["check", name], name != "probe.toml", name, "fifo" if name == "pipe" else None, ()
    if command == "report":      # a report run takes long: only the refusals
        out = draw(st.sampled_from([".", "probe.toml", "probe.toml/r"]))
        return base + ["--out", out], True, "--out", None, ()
    option = draw(st.sampled_from(["--seed", "--samples", "--out", "--scheduler", "--figure"]
                                  if command == "sensitivity" else ["--seed", "--samples", "--out", "--scheduler"]))
    if option == "--seed":
        seed = draw(st.sampled_from([-1, 0, 7, 2**63 - 1, 2**63, 2**64, 10**30]))
        return base + ["--seed", str(seed)], not 0 <= seed < 2**63, "--seed", None, ()
    if option == "--samples":
        text = draw(st.sampled_from(["0", "-5", "1000", "1e3", "2.5e3", "1.5", "abc", "1e400", ""]))
        ok = text in ("1000", "1e3", "2.5e3")
        return base[:-2] + ["--samples", text], not ok, "samples", None, ()
    if option == "--scheduler":
        address = draw(st.sampled_from(["notaurl", "no-port-here", "tcp//x", "inproc://x"]))
        return base + ["--scheduler", address], True, "--scheduler", None, ()
    if option == "--figure":
        figure = draw(st.sampled_from(["s.png", "s.xyz", "new/s.svg", ".", "probe.toml/s.png"]))
        ok = figure in ("s.png", "new/s.svg")
        return base + ["--figure", figure], not ok, "--figure", None, (figure.split("/")[0],) if ok else ()
    out = draw(st.sampled_from(sorted(OUT_TARGETS)))
    setup, refused, files = OUT_TARGETS[out]
    return base + ["--out", out], refused, "--out", setup, files


def make(folder: Path, name: str, kind: str | None):
    if kind == "fifo":
        os.mkfifo(folder / name)
    elif kind == "folder":
        (folder / name).mkdir()
    elif kind == "device":
        try:
            os.mknod(folder / name, stat.S_IFCHR | 0o666, os.makedev(1, 3))   # a /dev/null of our own
        except PermissionError:
            os.mkfifo(folder / name)


@pytest.mark.slow
@SETTINGS
@given(arguments=cli_arguments())
def test_command_line_arguments_through_the_executable(arguments):
    args, refused, field, setup, files = arguments
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "probe.toml").write_text(UNCORRELATED, encoding="utf-8")
        target = next((a for a in args if a in OUT_TARGETS or a in ("pipe",)), "pipe")
        make(folder, target, setup)
        outcome, detail = judge_cli(args, folder, refuse=refused, field=field, expect_files=files)
    record("command-line arguments and paths", outcome, detail)
