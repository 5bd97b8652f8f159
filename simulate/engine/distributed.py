"""Run blocks as tasks on a dask.distributed cluster and bring back only their reductions.

Each task calls :func:`simulate.engine.runner.reduce_range` on ``TASK_BLOCKS`` consecutive blocks. The
program and histogram windows travel as task arguments (a few kB), so a task depends on nothing
but its arguments: a worker that dies mid-run has its tasks rerun elsewhere with the same result.
At most ``IN_FLIGHT_PER_THREAD`` tasks per worker thread are submitted ahead of the merge, so
memory stays bounded however many samples are asked for; results are merged in block order, so
they are bit-identical to a local run with the same seed and samples.
"""
from __future__ import annotations

import collections
import uuid

from .runner import BLOCK_SIZE, local_reductions, reduce_range

TASK_BLOCKS = 8             # blocks per task: 524,288 samples, about a second of work
IN_FLIGHT_PER_THREAD = 3    # tasks submitted ahead of the merge, per worker thread
RETRIES = 3                 # reruns of a task that raised (a dead worker's tasks are rerun by the scheduler)


def kernel_threads() -> int:
    """Cap this thread's Numba kernel threads at NUMBA_NUM_THREADS from the environment; return the count.

    Worker processes may import Numba before the Nanny applies its ``env`` (too late for Numba's
    own reading of the variable), so each task applies it itself; a worker started with
    ``NUMBA_NUM_THREADS=1 dask worker ...`` already has it.
    """
    import os

    import numba

    wanted = os.environ.get("NUMBA_NUM_THREADS")
    if wanted:
        numba.set_num_threads(max(1, min(int(wanted), numba.config.NUMBA_NUM_THREADS)))
    return numba.get_num_threads()


def reduce_task(*args):
    """One task: :func:`simulate.engine.runner.reduce_range` on the worker's share of kernel threads."""
    kernel_threads()
    return reduce_range(*args)


def reductions_for(client):
    """The ``reductions`` function for :func:`simulate.engine.runner.sample_stages`: in this process
    when ``client`` is None, else on its dask cluster."""
    return local_reductions if client is None else cluster_reductions(client)


def cluster_reductions(client):
    """A ``reductions`` function for :func:`simulate.engine.runner.sample_stages` that runs blocks as
    tasks on ``client``'s cluster; blocks holding kept samples run in this process."""
    def reductions(program, windows, seed, sizes, first_block, kept):
        local_until = first_block
        while local_until < len(sizes) and local_until * BLOCK_SIZE < kept.rows:
            local_until += 1
        yield from local_reductions(program, windows, seed, sizes[:local_until], first_block, kept)
        if local_until < len(sizes):
            yield from ordered_reductions(client, program, windows, seed, sizes, local_until)
    return reductions


def ordered_reductions(client, program, windows, seed, sizes, first_block):
    """Yield ``(samples, (hist, stats, extremes))`` per task for blocks ``first_block..`` in block order."""
    starts = list(range(first_block, len(sizes), TASK_BLOCKS))
    threads = max(1, sum(client.nthreads().values()))
    limit = IN_FLIGHT_PER_THREAD * threads
    run_id = uuid.uuid4().hex[:12]
    pending = collections.deque()
    next_task = 0

    def submit(start):
        batch = sizes[start:start + TASK_BLOCKS]
        future = client.submit(reduce_task, program, windows, seed, batch, start, None,
                               key=f"simulate-reduce-{run_id}-{start}", retries=RETRIES, pure=False)
        pending.append((int(batch.sum()), future))

    while next_task < len(starts) and len(pending) < limit:
        submit(starts[next_task])
        next_task += 1
    while pending:
        n, future = pending.popleft()
        result = future.result()
        future.release()
        if next_task < len(starts):
            submit(starts[next_task])
            next_task += 1
        yield n, result


def local_cluster(n_workers: int):
    """A LocalCluster of ``n_workers`` single-threaded worker processes and a client on it."""
    from dask.distributed import Client, LocalCluster

    # one kernel thread per worker, applied by each task (see kernel_threads); dask's
    # pre-spawn-environ would also set it in this process, for good
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                           env={"NUMBA_NUM_THREADS": "1"})
    return Client(cluster), cluster
