"""Job time limit and retention (issue 13, point 2), on the real job manager, store and dask."""

from __future__ import annotations

import time

from tests.conftest import DATASETS, client_for
from tests.processes.conftest import BlockingProcess, wait_job

COADS = {"coads": {"path": str(DATASETS / "coads_sst.nc")}}


def test_a_job_over_the_time_limit_is_stopped_and_failed(tmp_path):
    with client_for(COADS, tmp_path, limits={"job_time_limit_s": 1}) as c:
        jobs = c.app.state.ctx.services["jobs"]
        jobs.processes["test-block"] = BlockingProcess()
        release = tmp_path / "never-released"
        r = c.post("/processes/test-block/execution", json={"inputs": {"release": str(release)}},
                   headers={"Prefer": "respond-async"})
        assert r.status_code == 201
        doc = wait_job(c.get, r.headers["location"], deadline_s=60)
        assert doc["status"] == "failed", doc
        assert "limits.job_time_limit_s" in doc["message"]
        for _ in range(100):  # the job's thread notices the cancel and lets go of its dask work
            if not jobs._running:
                break
            time.sleep(0.1)
        assert not jobs._running
        results = c.get(r.headers["location"] + "/results")
        assert results.status_code == 413 and "job_time_limit_s" in results.json()["detail"], results.text
        release.touch()  # let the blocked dask task end, so the cluster shuts down cleanly


def test_finished_jobs_past_their_retention_are_removed(tmp_path):
    with client_for(COADS, tmp_path, jobs={"retention": "1s"}) as c:
        jobs = c.app.state.ctx.services["jobs"]
        r = c.post("/processes/coarsen/execution", headers={"Prefer": "respond-async"},
                   json={"inputs": {"collection": "coads", "variables": "SST", "factors": {"x": 2}}})
        href = r.headers["location"]
        assert wait_job(c.get, href)["status"] == "successful"
        job_id = href.rsplit("/", 1)[1]
        job_dir = jobs.job_dir(job_id)
        assert job_dir.exists() and c.get(f"/collections/job-{job_id}").status_code == 200
        time.sleep(1.2)
        jobs._last_expiry = float("-inf")  # the sweep looks for expired jobs once a minute; do it now
        jobs.sweep()
        assert c.get(href).status_code == 404
        assert c.get(f"/collections/job-{job_id}").status_code == 404
        assert not job_dir.exists()


def test_retention_and_time_limit_are_validated(tmp_path):
    import pytest

    from cubeserver.config import ConfigError, config_from_dict

    with pytest.raises(ConfigError, match="jobs.retention"):
        config_from_dict({"collections": {}, "jobs": {"retention": "soon"}}, tmp_path)
    with pytest.raises(ConfigError, match="job_time_limit_s"):
        config_from_dict({"collections": {}, "limits": {"job_time_limit_s": 0}}, tmp_path)
    ok = config_from_dict({"collections": {}, "jobs": {"retention": "12h"}}, tmp_path)
    assert ok.jobs.retention_seconds() == 12 * 3600
