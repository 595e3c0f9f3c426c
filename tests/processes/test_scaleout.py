"""Scale-out: a real `dask scheduler` and two `dask worker` processes; the server sends jobs to them."""

from __future__ import annotations

import time

import numpy as np

from ..conftest import open_source
from .conftest import netcdf



def test_jobs_run_on_an_external_cluster(cluster, tmp_path, app):
    from distributed import get_task_stream
    from fastapi.testclient import TestClient

    from tests.conftest import app_on_shared_collections

    cfg = app.state.ctx.config.model_copy(deep=True)
    cfg.state_dir = str(tmp_path / "state")
    cfg.dask.scheduler_address = cluster[0]
    own = app_on_shared_collections(app, cfg)
    with TestClient(own) as c:
        runner = own.state.ctx.services["jobs"].runner
        client = runner.client()
        workers = client.scheduler_info()["workers"]
        assert sorted(w["name"] for w in workers.values()) == ["ext-0", "ext-1"]
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
        after = scrape(c)
        local = scrape(c)[("cubeserver_dask_computations_total", "local")]
        assert c.get("/collections/coads/position", params={"coords": "POINT(-30 10)", "parameter-name": "SST"}).is_success
        data = scrape(c)
    # /metrics (issue 13 point 6, dask tasks): the cluster as its scheduler has it, and this process's counts
    assert after["cubeserver_dask_workers"] == len(workers) == 2
    assert after["cubeserver_dask_worker_threads"] == sum(w["nthreads"] for w in workers.values())
    assert after[("cubeserver_dask_computations_total", "distributed")] >= 1
    assert after[("cubeserver_dask_tasks_total", "distributed")] >= 1
    assert after["cubeserver_jobs_running_here"] == 0 and after[("cubeserver_jobs", "successful")] >= 1
    assert data[("cubeserver_dask_computations_total", "local")] > local  # a data request computes locally
    assert ts.data and {t["worker"] for t in ts.data} <= set(workers)
    with np.errstate(all="ignore"), np.testing.suppress_warnings() as sup:
        sup.filter(RuntimeWarning)
        expected = np.nanmax(open_source("coads_sst.nc")["SST"].values, axis=0)
    np.testing.assert_allclose(out["SST"].values, expected, equal_nan=True)


def scrape(client) -> dict:
    """{name or (name, first label value): value} from a real /metrics scrape (prometheus-client's parser)."""
    from prometheus_client.parser import text_string_to_metric_families

    out = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            out[(sample.name, *sample.labels.values()) if sample.labels else sample.name] = sample.value
    return out
