"""The progress bar: same numbers with or without it, kernel calls sized to the clock, redrawn while a
call runs, shown on a terminal or in a notebook and nowhere else."""
from __future__ import annotations

import io
import time

import numba
import pytest

import simulate
from simulate.results import progress
from tests.helpers import CHATGPT, VOLATILE_ATTRS


def strip(ds):
    ds = ds.copy()
    for key in VOLATILE_ATTRS:
        ds.attrs.pop(key, None)
    return ds


def test_the_bar_changes_no_number_and_starts_with_one_block_per_thread(monkeypatch):
    model = simulate.load(CHATGPT)
    calls = []
    original = progress.reduce_range

    def spy(program, windows, seed, sizes, first_block, kept=None):
        calls.append((first_block, len(sizes)))
        return original(program, windows, seed, sizes, first_block, kept)

    monkeypatch.setattr(progress, "reduce_range", spy)
    monkeypatch.setattr(progress, "DELAY_S", 1e9)     # never drawn: pytest's stderr is not for bars
    samples = 5 * 65_536 + 123                       # six blocks, the last one partial
    with_bar = model.run(samples=samples, seed=11, progress=True)
    without = model.run(samples=samples, seed=11, progress=False)
    assert strip(with_bar).identical(strip(without))
    assert calls[0] == (0, min(6, numba.get_num_threads()))
    assert sum(n for _, n in calls) == 6 and [first for first, _ in calls] == sorted({f for f, _ in calls})


def test_the_bar_is_redrawn_while_nothing_is_done(monkeypatch):
    """A long kernel call updates nothing; the redraw thread still refreshes the bar (its clock and rate)."""
    monkeypatch.setattr(progress, "DELAY_S", 0.0)
    monkeypatch.setattr(progress, "REDRAW_S", 0.01)
    monkeypatch.setattr(progress.sys, "stderr", io.StringIO())
    bar = progress.Bar(total=1000)
    try:
        deadline = time.monotonic() + 60
        while bar.redraws < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert bar.redraws >= 3 and bar.n == 0
    finally:
        bar.close()
    assert "samples" in progress.sys.stderr.getvalue()


def test_where_a_bar_is_shown(monkeypatch):
    assert progress.wanted(None) is False           # pytest's stderr is not a terminal
    assert progress.wanted(True) is True and progress.wanted(False) is False
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    assert progress.wanted(None) is True            # a notebook: stderr is no terminal, but a widget shows
    progress.set_default(False)                     # --quiet
    try:
        assert progress.wanted(None) is False and progress.wanted(True) is True
    finally:
        progress.set_default(None)


def test_the_bar_comes_from_tqdm_auto(monkeypatch):
    import tqdm.auto

    monkeypatch.setattr(progress.sys, "stderr", io.StringIO())
    bar = progress.Bar(total=10)
    try:
        assert isinstance(bar._bar, tqdm.auto.tqdm)
    finally:
        bar.close()


def test_not_in_a_notebook_here():
    assert progress.in_notebook() is False
