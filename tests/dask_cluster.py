"""A real `dask scheduler` with `dask worker` processes, shared by the scale-out tests."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, free_port

DASK = str(Path(sys.executable).with_name("dask"))


@contextlib.contextmanager
def dask_cluster(tmp: Path, workers: int = 2, name: str = "worker"):
    """Start a scheduler and `workers` single-thread workers (no nanny) on free ports; yields
    (scheduler address, worker processes) once every worker has joined, and stops them all after
    (workers first, resumed if a test stopped them, then the scheduler)."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = open(tmp / "dask.log", "w")
    scheduler = subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                                 stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT))
    procs = [subprocess.Popen([DASK, "worker", address, "--nthreads", "1", "--memory-limit", "1GiB", "--no-dashboard",
                               "--name", f"{name}-{i}", "--host", "127.0.0.1", "--no-nanny"],
                              stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT)) for i in range(workers)]
    try:
        from distributed import Client

        with Client(address, timeout="60s", set_as_default=False) as probe:
            probe.wait_for_workers(workers, timeout=90)
        yield address, procs
    finally:
        for group in (procs, [scheduler]):
            for p in group:
                if p.poll() is None:
                    p.send_signal(signal.SIGCONT)
                    p.terminate()
            for p in group:
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        log.close()
