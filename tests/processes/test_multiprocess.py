"""Several server processes on one job state: real PostgreSQL, a real `dask scheduler` with two
`dask worker` processes, and real `cubeserver serve` processes (and `--workers 2` on SQLite).

What one server process does with a job (submit, run, publish, dismiss) every other one
sharing the store sees on its next request; a server killed with SIGKILL leaves its jobs
failed, not running for ever.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import requests
import yaml

from ..conftest import DATASETS, open_source, start_server
from .conftest import netcdf, wait_job

AGGREGATE = {"collection": "coads", "variables": ["SST", "AIRT"], "grouping": "month", "reducer": "min",
             "bbox": [0, -30, 90, 30]}


def _config(tmp: Path, scheduler: str) -> Path:
    """coads only (absolute path), the shared state dir, the external scheduler; the store comes from the env."""
    path = tmp / "server.yaml"
    path.write_text(yaml.safe_dump({
        "title": "multi-process test", "state_dir": str(tmp / "shared-state"),
        "collections": {"coads": {"path": str(DATASETS / "coads_sst.nc")}},
        "dask": {"scheduler_address": scheduler}}))
    return path


def _stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class _Pair:
    """Servers A and B of the module: separate processes, one PostgreSQL job store, one shared state dir
    (`tmp / "shared-state"`), one scheduler. Started once for the module (each start is a few seconds of
    CPU); a test that kills one (SIGKILL) leaves it to be started again, on the same store, for the next."""

    def __init__(self, config: Path, tmp: Path, env: dict):
        self.config, self.tmp, self.env = config, tmp, env
        self.procs: list = [None, None]
        self.bases: list = [None, None]

    def ensure(self):
        for i, proc in enumerate(self.procs):
            if proc is None or proc.poll() is not None:
                self.procs[i], self.bases[i] = start_server(self.config, self.tmp, self.env)
        return (self.procs[0], self.bases[0]), (self.procs[1], self.bases[1])

    def stop(self):
        for p in self.procs:
            if p is not None:
                _stop(p)


@pytest.fixture(scope="module")
def pair(cluster, postgres, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("two-servers")
    url = postgres.new_database(f"t_multiprocess_{abs(hash(str(tmp))) % 10**6}")
    servers = _Pair(_config(tmp, cluster[0]), tmp, {"CUBESERVER_JOBS_STORE": url})
    try:
        yield servers
    finally:
        servers.stop()
    password = url.split("//", 1)[1].split("@")[0].split(":")[1]
    logs = list(tmp.glob("server-*.log"))
    assert logs
    for log in logs:
        assert password not in log.read_text()  # credentials never logged


@pytest.fixture
def two_servers(pair):
    """((process A, base A), (process B, base B)), both running (started again if a test killed one)."""
    return pair.ensure()


def _check_result(out):
    src = open_source("coads_sst.nc").sel(COADSX=slice(0, 90), COADSY=slice(-30, 30))
    for v in ("SST", "AIRT"):  # one time step per month: the monthly minimum is the value itself
        np.testing.assert_allclose(out[v].values, src[v].values, equal_nan=True)


def test_job_submitted_on_a_is_polled_read_and_dismissed_on_b(two_servers, pair):
    (_, a), (_, b) = two_servers
    r = requests.post(f"{a}/processes/temporal-aggregate/execution", headers={"Prefer": "respond-async"},
                      json={"inputs": AGGREGATE})
    assert r.status_code == 201
    jid = r.json()["jobID"]
    doc = wait_job(requests.get, f"{b}/jobs/{jid}")  # polled on B
    assert doc["status"] == "successful", doc
    assert jid in [j["jobID"] for j in requests.get(f"{b}/jobs", params={"limit": 100}).json()["jobs"]]
    out = netcdf(requests.get(f"{b}/jobs/{jid}/results/result").content)
    _check_result(out)
    cid = f"job-{jid}"
    for base in (b, a):  # its collection on both, through EDR and Coverages
        assert cid in [c["id"] for c in requests.get(f"{base}/collections").json()["collections"]]
        coll = requests.get(f"{base}/collections/{cid}").json()
        assert len(coll["extent"]["temporal"]["values"]) == 12
        cov = requests.get(f"{base}/collections/{cid}/position",
                           params={"coords": "POINT(45 1)", "parameter-name": "AIRT"}).json()
        np.testing.assert_allclose(cov["ranges"]["AIRT"]["values"], out["AIRT"].sel(COADSX=45, COADSY=1).values,
                                   rtol=1e-6)
        sub = netcdf(requests.get(f"{base}/collections/{cid}/coverage", params={"f": "netcdf", "properties": "SST"}).content)
        np.testing.assert_allclose(sub["SST"].values, out["SST"].values, equal_nan=True)
    job_dir = pair.tmp / "shared-state" / "jobs" / jid
    assert (job_dir / "result.zarr").is_dir()
    gone = requests.delete(f"{b}/jobs/{jid}")
    assert gone.status_code == 200 and gone.json()["status"] == "dismissed"
    for base in (a, b):  # gone on both
        assert requests.get(f"{base}/jobs/{jid}").json()["status"] == "dismissed"
        assert requests.get(f"{base}/collections/{cid}").status_code == 404
        assert requests.get(f"{base}/collections/{cid}/position", params={"coords": "POINT(45 1)"}).status_code == 404
        assert requests.get(f"{base}/jobs/{jid}/results").status_code == 404
        assert cid not in [c["id"] for c in requests.get(f"{base}/collections").json()["collections"]]
    assert not job_dir.exists()


def test_kill_9_of_a_mid_job_leaves_the_job_failed_and_b_serving(two_servers, cluster):
    (proc_a, a), (_, b) = two_servers
    _, workers = cluster
    for w in workers:  # the dask workers stop taking tasks: the job stays running until A dies
        w.send_signal(signal.SIGSTOP)
    try:
        r = requests.post(f"{a}/processes/temporal-aggregate/execution", headers={"Prefer": "respond-async"},
                          json={"inputs": AGGREGATE})
        jid = r.json()["jobID"]
        deadline = time.monotonic() + 60
        while requests.get(f"{b}/jobs/{jid}").json()["status"] != "running" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert requests.get(f"{b}/jobs/{jid}").json()["status"] == "running"  # A is alive and running it
        os.kill(proc_a.pid, signal.SIGKILL)
        proc_a.wait(30)
        doc = requests.get(f"{b}/jobs/{jid}").json()  # B notices on the next read
    finally:
        for w in workers:
            w.send_signal(signal.SIGCONT)
    assert doc["status"] == "failed" and "server stopped" in doc["message"], doc
    assert requests.get(f"{b}/jobs/{jid}/results").status_code == 500
    assert jid in [j["jobID"] for j in requests.get(f"{b}/jobs", params={"status": "failed"}).json()["jobs"]]
    # B keeps serving: data, and a new job to the end
    assert requests.get(f"{b}/collections/coads/position", params={"coords": "POINT(45 1)"}).status_code == 200
    r = requests.post(f"{b}/processes/temporal-aggregate/execution", headers={"Prefer": "respond-async"},
                      json={"inputs": AGGREGATE})
    assert wait_job(requests.get, r.headers["location"])["status"] == "successful"
    _check_result(netcdf(requests.get(r.headers["location"] + "/results/result").content))


def test_workers_2_on_sqlite_serve_the_job_collection_from_either_worker(cluster, tmp_path):
    """uvicorn `--workers 2`: every request (a new connection each) may land in either process."""
    config = _config(tmp_path, cluster[0])
    proc, base = start_server(config, tmp_path, args=("--workers", "2"))
    try:
        r = requests.post(f"{base}/processes/temporal-aggregate/execution", headers={"Prefer": "respond-async"},
                          json={"inputs": AGGREGATE})
        jid = r.json()["jobID"]
        assert wait_job(requests.get, f"{base}/jobs/{jid}")["status"] == "successful"
        cid = f"job-{jid}"
        # old behaviour: the collection existed only in the worker that ran the job (~half the GETs were 404)
        codes = [requests.get(f"{base}/collections/{cid}").status_code for _ in range(60)]
        assert codes == [200] * 60
        listed = [cid in [c["id"] for c in requests.get(f"{base}/collections").json()["collections"]] for _ in range(20)]
        assert all(listed)
        assert requests.delete(f"{base}/jobs/{jid}").json()["status"] == "dismissed"
        codes = [requests.get(f"{base}/collections/{cid}").status_code for _ in range(60)]
        assert codes == [404] * 60  # no worker serves the dismissed result
    finally:
        _stop(proc)


def test_dismissing_on_b_a_job_running_on_a_cancels_its_dask_work(two_servers, cluster):
    """A notices the dismissal in the shared store (it is not told directly) and releases its tasks."""
    from distributed import Client

    (_, a), (_, b) = two_servers
    address, workers = cluster

    def scheduler_tasks(dask_scheduler=None):
        return len(dask_scheduler.tasks)

    with Client(address, timeout="30s", set_as_default=False) as probe:
        for w in workers:
            w.send_signal(signal.SIGSTOP)
        try:
            jid = requests.post(f"{a}/processes/temporal-aggregate/execution", headers={"Prefer": "respond-async"},
                                json={"inputs": AGGREGATE}).json()["jobID"]
            deadline = time.monotonic() + 60
            while (requests.get(f"{b}/jobs/{jid}").json()["status"] != "running" or probe.run_on_scheduler(scheduler_tasks) == 0) \
                    and time.monotonic() < deadline:
                time.sleep(0.05)
            assert probe.run_on_scheduler(scheduler_tasks) > 0  # A's job waits on the (stopped) workers
            assert requests.delete(f"{b}/jobs/{jid}").json()["status"] == "dismissed"
            deadline = time.monotonic() + 60  # a guard against hangs, not a speed requirement
            while probe.run_on_scheduler(scheduler_tasks) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert probe.run_on_scheduler(scheduler_tasks) == 0  # A released them: the scheduler forgot them
        finally:
            for w in workers:
                w.send_signal(signal.SIGCONT)
    assert requests.get(f"{a}/jobs/{jid}").json()["status"] == "dismissed"
    assert requests.get(f"{a}/jobs/{jid}/results").status_code == 404
