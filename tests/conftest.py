"""Fixtures shared by every test folder, and the markers that split the suite.

``slow``: end-to-end runs of shipped models and reports (seconds each); ``dask``: starts a
LocalCluster. ``python -m pytest -m "not slow and not dask"`` is the fast suite.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("MPLBACKEND", "Agg")   # figures render off screen; set before matplotlib loads
# memos (simulate.user_cache) go to a folder of this session, removed at exit: no test reads another's
os.environ["SIMULATE_CACHE_DIR"] = _CACHE = tempfile.mkdtemp(prefix="simulate-test-cache-")
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import simulate  # noqa: E402
from tests.helpers import CHATGPT, TWO_REGIONS  # noqa: E402


@pytest.fixture
def chatgpt_model():
    return simulate.load(CHATGPT)


@pytest.fixture
def two_regions_model():
    return simulate.load(TWO_REGIONS)


@pytest.fixture
def rng():
    return np.random.default_rng(20230101)
