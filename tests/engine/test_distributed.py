"""Blocks as dask.distributed tasks: identical to local runs, for any thread count, through a worker's death."""
import os
import threading
import time

import dask
import numba
import pytest

import simulate
from simulate.engine import distributed

pytestmark = pytest.mark.dask

PRIORS = "priors/chatgpt-2023-01.toml"
VOLATILE = ("created", "history", "elapsed_s")


def strip(ds):
    ds = ds.copy()
    for key in VOLATILE:
        ds.attrs.pop(key, None)
    return ds


@pytest.fixture(scope="module")
def model():
    return simulate.load(PRIORS)


@pytest.fixture(scope="module")
def client():
    """One 2-worker LocalCluster (processes, one thread each) shared by the module."""
    client, cluster = distributed.local_cluster(2)
    client.wait_for_workers(2, timeout=120)
    client.run(lambda: __import__("simulate").load(os.path.abspath(PRIORS)).run(samples=1000))  # warm kernels
    yield client
    client.close()
    cluster.close()


def test_workers_run_this_package(client):
    files = client.run(lambda: __import__("simulate").__file__)
    assert set(files.values()) == {simulate.__file__}


def test_local_cluster_workers_run_one_kernel_thread_each(client):
    """Two single-threaded workers on two cores: a task's kernel must not start a thread per core,
    and this process keeps its own thread count and environment."""
    futures = [client.submit(distributed.kernel_threads, pure=False, workers=[w]) for w in client.nthreads()]
    assert [f.result() for f in futures] == [1, 1]
    assert "NUMBA_NUM_THREADS" not in os.environ or os.environ["NUMBA_NUM_THREADS"] == str(numba.config.NUMBA_NUM_THREADS)


def test_local_cluster_matches_local_run(model, client, monkeypatch):
    monkeypatch.setattr(distributed, "TASK_BLOCKS", 2)   # several tasks, out-of-order completion
    samples = 9 * 65_536 + 1234                          # a partial last block too
    remote = model.run(samples=samples, seed=11, client=client, keep=50)
    local = model.run(samples=samples, seed=11, keep=50)
    assert strip(remote).identical(strip(local))


def test_rtol_on_cluster_matches_local(model, client):
    remote = model.run(samples=1000, seed=4, rtol=0.015, max_samples=600_000, client=client)
    local = model.run(samples=1000, seed=4, rtol=0.015, max_samples=600_000)
    assert strip(remote).identical(strip(local))


def test_numba_thread_count_does_not_change_results(model):
    before = numba.get_num_threads()
    try:
        runs = []
        for threads in (1, 2):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            runs.append(strip(model.run(samples=5 * 65_536 + 99, seed=8)))
    finally:
        numba.set_num_threads(before)
    assert numba.config.NUMBA_NUM_THREADS >= 2, "needs 2 Numba threads to compare"
    assert runs[0].identical(runs[1])


def test_killed_worker_gives_identical_results(model, client, monkeypatch):
    """Kill one worker process while it runs a task: dask reruns it elsewhere and nothing changes."""
    monkeypatch.setattr(distributed, "TASK_BLOCKS", 1)
    samples = 16 * 65_536
    killed = []

    def kill_when_busy():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            busy = {w: keys for w, keys in client.processing().items()
                    if any(str(k).startswith("simulate-reduce-") for k in keys)}
            if busy:
                victim = sorted(busy)[0]
                try:
                    client.run(os._exit, 1, workers=[victim], wait=False)
                except Exception:  # the worker may die before replying
                    pass
                killed.append(victim)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_when_busy, daemon=True)
    killer.start()
    remote = model.run(samples=samples, seed=21, client=client)
    killer.join(timeout=5)
    assert killed, "no worker was killed mid-run"
    local = model.run(samples=samples, seed=21)
    assert strip(remote).identical(strip(local))
    client.wait_for_workers(2, timeout=120)   # the nanny restarts it for later tests


def test_cli_workers(capsys):
    from simulate.cli import main

    assert main(["run", PRIORS, "--samples", "140000", "--seed", "3", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "140,000 samples, seed 3" in out


def test_cli_bad_scheduler_exits_2(capsys):
    from simulate.cli import main

    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        assert main(["run", PRIORS, "--samples", "1000", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "--scheduler" in capsys.readouterr().err
