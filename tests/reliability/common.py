"""Shared pieces of the reliability tests: a small model touching every table, edits of it, and the
real ``simulate`` executable run as a user would run it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import simulate

# A small model with every table of the format: [model], [period], [profile], parameters (one by
# month), Dirichlet [regions], [derived], [outputs], a scenario, a correlation, an observation,
# [reconcile] and a published reference.
BASE = """\
[model]
name = "probe"
title = "reliability probe"

[period]
start = 2023-01-01
end = 2023-01-03

[profile]
weekday_weights = [1, 1, 1, 1, 1, 0.8, 0.8]
trend_per_day = 0.0
source = "test"

[parameters.visits]
dist = "lognormal"
p5 = 1e6
p95 = 3e6
unit = "visits/month"
source = "test"

[parameters.wh_per_visit]
dist = "uniform"
min = 1
max = 3
unit = "Wh/visit"
source = "test"

[parameters.pue]
dist = "pert"
min = 1.1
mode = 1.2
max = 1.5
unit = "1"
source = "test"

[parameters.gpu_utilisation]
dist = "uniform"
min = 0.3
max = 0.6
unit = "1"
source = "test"

[parameters.queries]
dist = "discrete"
values = [1, 2, 3]
weights = [1, 1, 1]
unit = "queries/visit"
source = "test"

[regions]
shares = "dirichlet"
concentration = 10
source = "test"

[regions.east]
share = 0.6
intensity_g_per_kwh = { dist = "uniform", min = 300, max = 400, source = "test" }

[regions.west]
share = 0.4
intensity_g_per_kwh = { dist = "uniform", min = 100, max = 200, source = "test" }

[derived]
energy_kwh = "visits * day_share * wh_per_visit * queries / 1000 * pue"
fleet_energy_kwh = { expr = "energy_kwh * (1 + gpu_utilisation)", unit = "kWh", long_name = "fleet path" }
co2_kg = "energy_kwh * grid_g_per_kwh / 1000"

[outputs]
energy_kwh = "sum"
fleet_energy_kwh = "sum"
co2_kg = { aggregate = "sum", long_name = "CO2e" }

[scenarios.low]
description = "test"
source = "test"
pue = 1.2

[[correlations]]
between = ["visits", "wh_per_visit"]
rank = 0.3
source = "test"

[[observations]]
quantity = "energy_kwh"
likelihood = "lognormal"
value = 800
sigma = 0.5
source = "test"

[reconcile]
paths = ["energy_kwh", "fleet_energy_kwh"]
within_factor = 2
likelihood = "lognormal"
source = "test"

[[references]]
output = "energy_kwh"
year = 2023
value = 1
unit = "GWh"
per = "year"
label = "test"
source = "test"
"""

CORRELATION = """[[correlations]]
between = ["visits", "wh_per_visit"]
rank = 0.3
source = "test"

"""
UNCORRELATED = BASE.replace(CORRELATION, "")
EXECUTABLE = str(Path(sys.executable).with_name("simulate"))


def edited(old: str, new: str, text: str = BASE) -> str:
    """``text`` with its one occurrence of ``old`` replaced by ``new``."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def write(tmp_path, text: str, name: str = "probe.toml") -> Path:
    path = Path(tmp_path) / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(path, *fragments) -> str:
    """Load ``path``, expect one ModelError naming the file and every fragment; return its message."""
    with pytest.raises(simulate.ModelError) as info:
        simulate.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert len(message) < 3000 and "\n" not in message, message
    return message


def run_cli(*args, timeout: float = 600, **kwargs) -> subprocess.CompletedProcess:
    """The real ``simulate`` executable with ``args``; text output captured."""
    return subprocess.run([EXECUTABLE, *map(str, args)], capture_output=True, text=True, timeout=timeout, **kwargs)


def assert_bad_input(proc: subprocess.CompletedProcess, *fragments):
    """Exit status 2 and one line on stderr naming every fragment, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    errors = [line for line in proc.stderr.splitlines() if not line.startswith("warning: ")]
    assert len(errors) == 1 and errors[0].startswith("simulate: error: "), proc.stderr[-2000:]
    for fragment in fragments:
        assert fragment in errors[0], f"{fragment!r} not in {errors[0]!r}"


def unprivileged():
    """A command prefix that runs as the unprivileged user ``nobody`` (root ignores file modes), or
    an empty prefix when this process is not root; skip when neither can be had."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: a read-only folder cannot be made")
    prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
    if subprocess.run(prefix + [EXECUTABLE, "--help"], capture_output=True, timeout=600).returncode != 0:
        pytest.skip("the unprivileged user cannot run this checkout's simulate (its folders are private)")
    return prefix
