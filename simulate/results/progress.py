"""The progress bar of long runs: on a terminal or in a notebook, redrawn at least once a second.

A kernel call samples whole blocks of 65,536 samples, and on a model with thousands of days one
block takes seconds. So the bar is fed by kernel calls sized to about half a second each (at
least one block per thread; the numbers do not depend on the batching) and a small thread
redraws it twice a second, so its clock and rate move even while a long call runs (the kernel
releases the GIL). ``tqdm.auto`` gives a widget in Jupyter and text elsewhere; nothing is shown
when stderr is not a terminal (a log file, a pipe) or after :func:`set_default` (``--quiet``).

An analysis made of many runs and evaluations (Sobol, tornado, calibration, a sweep, a report)
shows one bar over all of them: :func:`task` makes a bar current for the code inside it, and every
run (:func:`simulate.results.run.run_model`) and every evaluation of kept draws
(:func:`advance`) inside counts into that bar instead of showing its own. A task given its total
knows its work in advance; a task with ``total=None`` grows its total as each piece of work starts.
"""
from __future__ import annotations

import contextvars
import sys
import threading
import time
from contextlib import contextmanager

import numba

from ..engine.runner import BATCH_BLOCKS, BLOCK_SIZE, reduce_range

TARGET_CALL_S = 0.5      # aim for kernel calls this long while a bar is shown
REDRAW_S = 0.5           # the bar is redrawn at least this often
DELAY_S = 2.0            # runs shorter than this show no bar

_default = None          # None: decide by terminal or notebook; True/False: set by set_default


def set_default(enabled: bool | None):
    """Show bars by default (True), never (False, the CLI's ``--quiet``), or where one can be seen (None)."""
    global _default
    _default = enabled


def wanted(progress: bool | None) -> bool:
    """Whether to show a bar: ``progress`` if given, else the default, else on a terminal or in a notebook."""
    if progress is None:
        progress = _default
    if progress is None:
        return in_notebook() or _isatty(sys.stderr)
    return bool(progress)


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (where stderr is not a terminal but a bar can be seen)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython()
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Bar:
    """A ``tqdm.auto`` bar over samples (or model evaluations, ``unit``) with a thread that redraws
    it every :data:`REDRAW_S` seconds; ``desc`` names the work (an analysis)."""

    def __init__(self, total: int, unit: str = "samples", desc: str | None = None):
        from tqdm.auto import tqdm

        self.started = time.monotonic()
        self._bar = tqdm(total=total, unit=unit, unit_scale=True, delay=DELAY_S, file=sys.stderr,
                         leave=False, mininterval=REDRAW_S, desc=desc)
        if unit == "samples":
            self._bar.set_postfix_str("first block: fixing the histogram windows", refresh=False)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._redraw, name="simulate-progress", daemon=True)
        self._thread.start()
        self.redraws = 0

    def _redraw(self):
        while not self._stop.wait(REDRAW_S):
            if time.monotonic() - self.started >= DELAY_S:
                self._bar.refresh()
                self.redraws += 1

    def update(self, n: int):
        self._bar.update(n)

    def set_postfix_str(self, text: str):
        self._bar.set_postfix_str(text)

    @property
    def n(self) -> int:
        return self._bar.n

    @property
    def total(self) -> int:
        return self._bar.total

    @total.setter
    def total(self, value: int):   # a second pass (refining windows) adds samples
        self._bar.total = value

    def refresh(self):
        self._bar.refresh()

    def close(self):
        self._stop.set()
        self._thread.join()
        self._bar.close()


def progress_bar(progress: bool | None, total: int) -> Bar | None:
    """A :class:`Bar` over ``total`` samples when one is :func:`wanted`, else None."""
    return Bar(total) if wanted(progress) else None


class Task:
    """The work of one analysis: its :class:`Bar` (None when no bar is shown) and whether its
    total grows as each piece of work starts (``total=None`` given to :func:`task`)."""

    def __init__(self, bar: Bar | None, grows: bool):
        self.bar, self.grows = bar, grows

    def expect(self, n: int):
        """A piece of ``n`` units starts: a growing task adds it to its total."""
        if self.grows and self.bar is not None:
            self.bar.total += int(n)
            self.bar.refresh()

    def extend(self, n: int):
        """Work beyond what was declared (a second pass over the draws): always added to the total."""
        if self.bar is not None:
            self.bar.total += int(n)

    def update(self, n: int):
        if self.bar is not None:
            self.bar.update(int(n))


_current: contextvars.ContextVar[Task | None] = contextvars.ContextVar("simulate_progress_task", default=None)


def current() -> Task | None:
    """The :class:`Task` the calling code runs inside, if any."""
    return _current.get()


@contextmanager
def task(progress: bool | None, total: int | None, unit: str = "evaluations", desc: str | None = None):
    """Make one bar current for the work inside: runs and :func:`advance` calls count into it.

    Inside another task this is that task (one bar over the whole analysis; its work is already in
    the outer total, or added as it starts when the outer total grows).

    Parameters
    ----------
    progress : bool, optional
        As for :meth:`simulate.Model.run`: None shows a bar on a terminal or in a notebook.
    total : int, optional
        The units of work (samples of runs plus rows of evaluated draws); None: grown as work starts.
    unit, desc : str
        What is counted, and the bar's label.

    Yields
    ------
    Task
    """
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    bar = Bar(total or 0, unit=unit, desc=desc) if wanted(progress) else None
    work = Task(bar, grows=total is None)
    token = _current.set(work)
    try:
        yield work
    finally:
        _current.reset(token)
        if bar is not None:
            bar.close()


def expect(n: int):
    """``n`` model evaluations start in the current task, if any (added to a growing total)."""
    work = _current.get()
    if work is not None:
        work.expect(n)


def advance(n: int):
    """Count ``n`` model evaluations (rows of draws evaluated again) into the current task, if any."""
    work = _current.get()
    if work is not None:
        work.update(n)


def timed_reductions(bar: Bar):
    """A ``reductions`` function for :func:`simulate.engine.runner.sample_stages` (as
    :func:`~simulate.engine.runner.local_reductions`) whose kernel calls last about
    :data:`TARGET_CALL_S`: one block per thread first, then as many as the measured rate allows.
    Results are the same as with any batching: block ``k`` is drawn from its own seed, and sums
    are merged block by block in block order."""
    def reductions(program, windows, seed, sizes, first_block, kept):
        bar.set_postfix_str("")
        threads = max(1, numba.get_num_threads())
        batch = threads
        first = first_block
        while first < len(sizes):
            part = sizes[first:min(first + batch, len(sizes))]
            keep = kept if first * BLOCK_SIZE < kept.rows else None   # as local_reductions
            started = time.monotonic()
            result = reduce_range(program, windows, seed, part, first, keep)
            elapsed = max(time.monotonic() - started, 1e-6)
            yield int(part.sum()), result
            first += len(part)
            scaled = int(len(part) * TARGET_CALL_S / elapsed)
            batch = max(threads, min(BATCH_BLOCKS, scaled - scaled % threads))
    return reductions

