"""Helpers for the Processes tests: job polling, result download, test-only processes."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest
import xarray as xr

from cubeserver.processes.base import Process
from cubeserver.processes.results import Output

FINAL = ("successful", "failed", "dismissed")


def wait_job(get, url: str, deadline_s: float = 120) -> dict:
    """Poll a job until it is final (a generous deadline guards against hangs; it asserts nothing about speed)."""
    end = time.monotonic() + deadline_s
    while True:
        doc = get(url).json()
        if doc["status"] in FINAL or time.monotonic() > end:
            return doc
        time.sleep(0.1)


def netcdf(content: bytes) -> xr.Dataset:
    """A downloaded NetCDF, read fully (from a temporary file: the netCDF4 engine wants a path)."""
    with tempfile.NamedTemporaryFile(suffix=".nc") as f:
        f.write(content)
        f.flush()
        with xr.open_dataset(f.name, engine="netcdf4") as ds:
            return ds.load()


def _wait_for_file(path: str, limit_s: float = 120.0) -> int:
    """A dask task that blocks until `path` exists: keeps a job deterministically 'running'."""
    end = time.monotonic() + limit_s
    while not Path(path).exists() and time.monotonic() < end:
        time.sleep(0.05)
    return 1


def _quick(i: int) -> int:
    return i


class BlockingProcess(Process):
    """Eight quick dask tasks and one that waits for a file, summed: the test decides when it ends."""

    id = "test-block"
    title = "test: block until released"
    uses_dask = True
    inputs = {"release": {"title": "file", "required": True, "schema": {"type": "string"}}}
    outputs = {"value": {"title": "value", "schema": {"type": "integer"}}}

    def check(self, values, ctx):
        values["started"] = Path(values["release"] + ".started")
        return values

    def execute(self, params, job):
        from dask import delayed

        params["started"].touch()
        parts = [delayed(_quick, pure=False)(i) for i in range(8)]
        parts.append(delayed(_wait_for_file, pure=False)(params["release"]))
        (v,) = job.compute([delayed(sum)(parts)])
        return {"value": Output(value=v)}


class FailingProcess(Process):
    id = "test-fail"
    title = "test: always fails"
    inputs = {}
    outputs = {"value": {"title": "value", "schema": {"type": "integer"}}}

    def execute(self, params, job):
        raise RuntimeError("deliberate failure")


@pytest.fixture
def test_processes(app):
    """Add the test-only processes to the shared app for one test."""
    jobs = app.state.ctx.services["jobs"]
    added = {p.id: p() for p in (BlockingProcess, FailingProcess)}
    jobs.processes.update(added)
    yield jobs
    for pid in added:
        jobs.processes.pop(pid, None)


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server (initdb + pg_ctl, as an unprivileged user when run as root) for the session."""
    from tests import pg

    why = pg.missing()
    if why:
        pytest.skip(why)
    with pg.PostgresServer() as server:
        yield server


@pytest.fixture
def postgres_url(postgres, request):
    """A fresh database on the session's PostgreSQL server, one per test."""
    import re

    name = "t_" + re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[:50] + "_" + str(abs(hash(request.node.nodeid)) % 10**6)
    return postgres.new_database(name)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """One real `dask scheduler` with two `dask worker` processes ("ext-0", "ext-1") for every scale-out test:
    (scheduler address, worker processes). Tests that stop a worker (SIGSTOP) resume it before they end."""
    from tests.dask_cluster import dask_cluster

    with dask_cluster(tmp_path_factory.mktemp("dask"), name="ext") as c:
        yield c
