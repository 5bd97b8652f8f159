"""Fixtures shared by every test folder, and the markers that split the suite.

``slow``: end-to-end runs of shipped models and reports (seconds each); ``dask``: starts a
LocalCluster. ``python -m pytest -m "not slow and not dask"`` is the fast suite.
"""
from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")   # figures render off screen; set before matplotlib loads

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
