"""Local dask computations are counted for /metrics (cubeserver/dask_local.py), also when several run at once.

dask's local scheduler swaps the process-global callback set out and back around each computation, so a
registered `dask.callbacks.Callback` stopped counting for good once two requests computed at the same time
(seen in CI: `cubeserver_dask_computations_total{scheduler="local"}` frozen). The counted schedulers must
book every computation, from any number of threads, and still compute the right values.
"""

from __future__ import annotations

import subprocess
import sys
import threading

import dask.array as da
import numpy as np

from cubeserver import dask_local


def _computations() -> int:
    return dask_local.counts().get(("computations", "local"), 0)


def test_every_concurrent_computation_is_counted():
    x = da.arange(10_000, chunks=500)
    expected = int(np.arange(10_000).sum())
    errors: list = []
    before = _computations()

    def work():
        for _ in range(25):
            if int(x.sum().compute(scheduler=dask_local.threads)) != expected:
                errors.append("threads")
            if int(x[:1000].sum().compute(scheduler=dask_local.local(2))) != int(np.arange(1000).sum()):
                errors.append("sync")

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _computations() - before == 6 * 25 * 2


def test_installed_default_is_counted():
    """In a new process (the suite's other tests may set dask's global scheduler): after install(), a
    computation that names no scheduler is counted, also after concurrent ones."""
    code = (
        "import threading, dask.array as da\n"
        "from cubeserver import dask_local\n"
        "dask_local.install()\n"
        "x = da.arange(1000, chunks=100)\n"
        "ts = [threading.Thread(target=lambda: [x.sum().compute() for _ in range(20)]) for _ in range(4)]\n"
        "[t.start() for t in ts]; [t.join() for t in ts]\n"
        "x.sum().compute()\n"
        "print(dask_local.counts()[('computations', 'local')])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == str(4 * 20 + 1), out.stderr


def test_small_and_large_choose_their_scheduler():
    assert dask_local.local(1) is dask_local.sync and dask_local.local(4) is dask_local.sync
    assert dask_local.local(5) is dask_local.threads and dask_local.local(None) is dask_local.threads
