"""Scale-out: a real `dask scheduler` and two `dask worker` processes; the server sends jobs to them."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cubeserver.config import load_config

from ..conftest import ROOT, free_port, open_source
from .conftest import netcdf

DASK = str(Path(sys.executable).with_name("dask"))


@pytest.fixture
def cluster(tmp_path):
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = open(tmp_path / "dask.log", "w")
    procs = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT))]
    for i in range(2):
        procs.append(subprocess.Popen(
            [DASK, "worker", address, "--nthreads", "1", "--memory-limit", "1GiB", "--no-dashboard",
             "--name", f"external-{i}", "--host", "127.0.0.1", "--no-nanny"],
            stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT)))
    try:
        from distributed import Client

        with Client(address, timeout="60s", set_as_default=False) as probe:
            probe.wait_for_workers(2, timeout=90)
        yield address
    finally:
        for group in (procs[1:], procs[:1]):  # workers first, then the scheduler they report to
            for p in group:
                p.terminate()
            for p in group:
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        log.close()


def test_jobs_run_on_an_external_cluster(cluster, tmp_path):
    from distributed import get_task_stream
    from fastapi.testclient import TestClient

    from cubeserver.app import create_app

    cfg = load_config(None).model_copy(deep=True)
    cfg.state_dir = str(tmp_path / "state")
    cfg.dask.scheduler_address = cluster
    app = create_app(cfg)
    with TestClient(app) as c:
        runner = app.state.ctx.services["jobs"].runner
        client = runner.client()
        workers = client.scheduler_info()["workers"]
        assert sorted(w["name"] for w in workers.values()) == ["external-0", "external-1"]
        assert runner._cluster is None  # no LocalCluster was started
        with get_task_stream(client=client) as ts:
            r = c.post("/processes/temporal-aggregate/execution", headers={"Prefer": "respond-async"},
                       json={"inputs": {"collection": "coads", "variables": "SST", "reducer": "max"}})
            url = r.headers["location"].replace("http://testserver", "")
            deadline = time.monotonic() + 120
            while c.get(url).json()["status"] not in ("successful", "failed") and time.monotonic() < deadline:
                time.sleep(0.1)
        assert c.get(url).json()["status"] == "successful"
        out = netcdf(c.get(url + "/results/result").content)
    assert ts.data and {t["worker"] for t in ts.data} <= set(workers)
    with np.errstate(all="ignore"), np.testing.suppress_warnings() as sup:
        sup.filter(RuntimeWarning)
        expected = np.nanmax(open_source("coads_sst.nc")["SST"].values, axis=0)
    np.testing.assert_allclose(out["SST"].values, expected, equal_nan=True)
