"""Job store, job list, result states, dismissal of a running computation, restart durability."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cubeserver.processes.manager import owner_id
from cubeserver.processes.store import Job, SQLiteJobStore

from .conftest import wait_job

EXC = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/"


# ------------------------------------------------------------------ store

def test_store_crud_filters_and_paging(tmp_path):
    store = SQLiteJobStore(tmp_path / "jobs.sqlite")
    for i in range(25):
        store.create(Job(id=f"j{i:02d}", process_id="echo" if i % 2 else "buffer", created=f"2026-01-01T00:00:{i:02d}Z",
                         inputs={"i": i}))
    jobs, total = store.list(limit=10)
    assert total == 25 and [j.id for j in jobs] == [f"j{i:02d}" for i in range(24, 14, -1)]  # newest first
    jobs, total = store.list(process_ids=["echo"], limit=100, offset=5)
    assert total == 12 and len(jobs) == 7 and all(j.process_id == "echo" for j in jobs)
    assert store.update("j03", status="running", progress=40)
    assert not store.update("j03", only_if=("accepted",), status="successful")  # guarded transition refused
    got = store.get("j03")
    assert (got.status, got.progress, got.inputs) == ("running", 40, {"i": 3})
    assert store.list(status=["running"])[1] == 1
    assert store.delete("j03") and store.get("j03") is None and not store.delete("j03")
    store.close()
    reopened = SQLiteJobStore(tmp_path / "jobs.sqlite")
    assert reopened.list()[1] == 24
    reopened.close()


def test_store_concurrent_creates_from_threads(tmp_path):
    store = SQLiteJobStore(tmp_path / "jobs.sqlite")
    errors = []

    def create(n):
        try:
            for k in range(20):
                store.create(Job(id=f"t{n}-{k}", process_id="echo"))
                store.update(f"t{n}-{k}", status="running")
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert store.list(status=["running"])[1] == 200
    store.close()


def test_store_uses_wal_and_indexes(tmp_path):
    import sqlite3

    SQLiteJobStore(tmp_path / "jobs.sqlite").close()
    db = sqlite3.connect(tmp_path / "jobs.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    indexes = {r[1] for r in db.execute("PRAGMA index_list(jobs)")}
    assert {"jobs_created", "jobs_status"} <= indexes


# ------------------------------------------------------------------ job list and results states (in-process)

def _echo(client, message, async_=True):
    headers = {"Prefer": "respond-async"} if async_ else {}
    r = client.post("/processes/echo/execution", json={"inputs": {"message": message}}, headers=headers)
    assert r.status_code == (201 if async_ else 200), r.text
    return r


def test_job_list_paging_and_filters(client):
    ids = []
    for i in range(5):
        r = _echo(client, f"m{i}")
        ids.append(r.json()["jobID"])
        assert r.headers["location"].endswith(f"/jobs/{ids[-1]}")
        assert r.headers["preference-applied"] == "respond-async"
    for jid in ids:
        assert wait_job(client.get, f"/jobs/{jid}")["status"] == "successful"
    page = client.get("/jobs?processID=echo&status=successful&limit=2").json()
    assert page["numberReturned"] == 2 and page["numberMatched"] >= 5
    assert all(j["processID"] == "echo" and j["status"] == "successful" for j in page["jobs"])
    seen = [j["jobID"] for j in page["jobs"]]
    nxt = next(l["href"] for l in page["links"] if l["rel"] == "next")
    assert "processID=echo" in nxt and "offset=2" in nxt
    page2 = client.get(nxt.replace("http://testserver", "")).json()
    seen += [j["jobID"] for j in page2["jobs"]]
    assert len(set(seen)) == 4
    assert set(ids[-4:]) == set(seen)  # newest first
    assert client.get("/jobs?status=weird").status_code == 400
    assert client.get("/jobs?processID=buffer,echo&limit=1000").json()["numberMatched"] >= 5


def test_job_status_document(client):
    jid = _echo(client, "status").json()["jobID"]
    doc = wait_job(client.get, f"/jobs/{jid}")
    assert doc["type"] == "process" and doc["processID"] == "echo" and doc["progress"] == 100
    assert doc["created"] <= doc["started"] <= doc["finished"] <= doc["updated"]
    rels = {l["rel"] for l in doc["links"]}
    assert "http://www.opengis.net/def/rel/ogc/1.0/results" in rels
    assert client.get(f"/jobs/{jid}/results").json() == {"echo": "status"}
    assert client.get(f"/jobs/{jid}/results/echo").text == "status"
    assert client.get(f"/jobs/{jid}?f=html").status_code == 200
    assert client.get(f"/jobs/{jid}/results/nope").status_code == 404


def test_failed_job_reports_its_error(client, test_processes):
    r = client.post("/processes/test-fail/execution", json={"inputs": {}})
    assert r.status_code == 500 and "deliberate failure" in r.json()["detail"]
    r = client.post("/processes/test-fail/execution", json={"inputs": {}}, headers={"Prefer": "respond-async"})
    jid = r.json()["jobID"]
    doc = wait_job(client.get, f"/jobs/{jid}")
    assert doc["status"] == "failed" and "deliberate failure" in doc["message"]
    r = client.get(f"/jobs/{jid}/results")
    assert r.status_code == 500 and "deliberate failure" in r.json()["detail"]


def test_dismiss_running_job_cancels_dask_work(client, test_processes, tmp_path):
    """A job blocked in a dask task is dismissed: futures cancelled, files and record status updated."""
    release = tmp_path / "release"
    r = client.post("/processes/test-block/execution", json={"inputs": {"release": str(release)}},
                    headers={"Prefer": "respond-async"})
    jid = r.json()["jobID"]
    deadline = time.monotonic() + 60
    while not Path(str(release) + ".started").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    r = client.get(f"/jobs/{jid}/results")
    assert r.status_code == 404 and r.json()["type"] == EXC + "result-not-ready"
    while client.get(f"/jobs/{jid}").json()["progress"] <= 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    doc = client.get(f"/jobs/{jid}").json()
    # the quick tasks finished, the blocked one and the sum did not: task-level progress, neither 0 nor done
    assert doc["status"] == "running" and 5 < doc["progress"] < 95, doc
    keys = [f.key for f in test_processes._running[jid].futures]
    dask_client = test_processes.runner.client()

    def on_scheduler():
        return dask_client.run_on_scheduler(lambda keys, dask_scheduler=None: [k in dask_scheduler.tasks for k in keys],
                                            keys=keys)

    assert all(on_scheduler())
    r = client.delete(f"/jobs/{jid}")
    assert r.status_code == 200 and r.json()["status"] == "dismissed"
    while (jid in test_processes._running or any(on_scheduler())) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert jid not in test_processes._running  # the job thread gave up waiting
    assert not any(on_scheduler())  # the scheduler dropped the job's tasks
    release.touch()  # let the worker thread finish the blocked task
    doc = client.get(f"/jobs/{jid}").json()
    assert doc["status"] == "dismissed"
    assert not test_processes.job_dir(jid).exists()
    r = client.get(f"/jobs/{jid}/results")
    assert r.status_code == 404 and r.json()["type"] == EXC + "no-such-job"


def test_dismiss_finished_gridded_job_removes_collection_and_files(client):
    r = client.post("/processes/coarsen/execution", json={
        "inputs": {"collection": "coads", "variables": "SST", "factors": {"x": 2, "y": 2}}},
        headers={"Prefer": "respond-async"})
    jid = r.json()["jobID"]
    assert wait_job(client.get, f"/jobs/{jid}")["status"] == "successful"
    jobs = client.app.state.ctx.services["jobs"]
    files = sorted(p.name for p in jobs.job_dir(jid).iterdir())
    assert files == ["result.nc", "result.zarr"]
    got = client.get(f"/collections/job-{jid}")
    assert got.status_code == 200, got.text
    coll = got.json()
    assert coll["extent"]["spatial"]["bbox"][0] == pytest.approx([-180, -90, 180, 90])
    assert f"job-{jid}" in [c["id"] for c in client.get("/collections").json()["collections"]]
    assert client.delete(f"/jobs/{jid}").json()["status"] == "dismissed"
    assert client.get(f"/collections/job-{jid}").status_code == 404
    assert not jobs.job_dir(jid).exists()
    assert client.delete(f"/jobs/{jid}").json()["status"] == "dismissed"  # idempotent
    listed = client.get("/jobs?status=dismissed&limit=1000").json()["jobs"]
    assert jid in [j["jobID"] for j in listed]


# ------------------------------------------------------------------ restart durability

def _dead_owner() -> str:
    import socket

    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return f"{socket.gethostname()}:{p.pid}:0"


def test_restart_marks_orphaned_jobs_failed_and_keeps_results(tmp_path, config, client, app):
    """Jobs of a dead server fail with a message; live ones and finished results survive a reopen."""
    from fastapi.testclient import TestClient

    from tests.conftest import app_on_shared_collections

    state = tmp_path / "state"
    store = SQLiteJobStore(state / "jobs.sqlite")
    dead = _dead_owner()
    store.create(Job(id="orphan-running", process_id="echo", status="running", owner=dead, started="x"))
    store.create(Job(id="orphan-queued", process_id="echo", status="accepted", owner=dead))
    store.create(Job(id="alive", process_id="echo", status="running", owner=owner_id()))
    store.create(Job(id="done", process_id="echo", status="successful", owner=dead,
                     results={"echo": {"kind": "value", "value": "kept", "mediaType": "text/plain"}}))
    store.close()

    cfg = config.model_copy()
    cfg.state_dir = str(state)
    with TestClient(app_on_shared_collections(app, cfg)) as c:
        for jid in ("orphan-running", "orphan-queued"):
            doc = c.get(f"/jobs/{jid}").json()
            assert doc["status"] == "failed", doc
            assert "server stopped" in doc["message"]
            r = c.get(f"/jobs/{jid}/results")
            assert r.status_code == 500 and "server stopped" in r.json()["detail"]
        assert c.get("/jobs/alive").json()["status"] == "running"  # its server (this process) still runs it
        assert c.get("/jobs/done/results").json() == {"echo": "kept"}
        new = c.post("/processes/echo/execution", json={"inputs": {"message": "again"}}, headers={"Prefer": "respond-async"})
        assert wait_job(c.get, new.headers["location"])["status"] == "successful"
        assert c.get("/jobs?limit=100").json()["numberMatched"] == 5


def test_store_filters_by_creation_time_and_duration(tmp_path):
    store = SQLiteJobStore(tmp_path / "jobs.sqlite")
    store.create(Job(id="short", process_id="echo", status="successful", created="2026-01-01T00:00:00.000000Z",
                     started="2026-01-01T00:00:00.000000Z", finished="2026-01-01T00:00:02.000000Z"))
    store.create(Job(id="long", process_id="echo", status="successful", created="2026-01-02T00:00:00.000000Z",
                     started="2026-01-02T00:00:00.000000Z", finished="2026-01-02T00:10:00.000000Z"))
    store.create(Job(id="queued", process_id="echo", created="2026-01-03T00:00:00.000000Z"))
    ids = lambda **kw: sorted(j.id for j in store.list(limit=100, **kw)[0])  # noqa: E731
    assert ids(created=("2026-01-02T00:00:00.000000Z", None)) == ["long", "queued"]
    assert ids(created=(None, "2026-01-02T00:00:00.000000Z")) == ["short"]
    assert ids(min_duration=60) == ["long"]
    assert ids(max_duration=60) == ["short"]
    store.close()


def test_job_list_datetime_type_and_duration_parameters(client):
    jid = _echo(client, "filters").json()["jobID"]
    doc = wait_job(client.get, f"/jobs/{jid}")
    day = doc["created"][:10]

    def listed(**params):
        return [j["jobID"] for j in client.get("/jobs", params={"limit": 1000, **params}).json()["jobs"]]

    assert jid in listed(datetime=f"{day}T00:00:00Z/..")
    assert jid not in listed(datetime="2000-01-01T00:00:00Z/2000-01-02T00:00:00Z")
    assert jid in listed(type="process")
    assert client.get("/jobs", params={"type": "openeo"}).json()["parameter"] == "type"  # only `process` exists
    assert jid in listed(maxDuration=3600) and jid not in listed(minDuration=3600)
    assert client.get("/jobs", params={"datetime": "yesterday"}).json()["parameter"] == "datetime"


def test_identical_jobs_share_tasks_without_interfering(client):
    """Same inputs give the same dask keys: finishing or dismissing one job must not cancel the other."""
    body = {"inputs": {"collection": "coads", "variables": "UWND", "grouping": "season", "reducer": "max"}}
    for _ in range(2):  # sequential repeats reuse the keys of a released computation
        assert client.post("/processes/temporal-aggregate/execution", json=body).status_code == 204
    a, b = (client.post("/processes/temporal-aggregate/execution", json=body, headers={"Prefer": "respond-async"})
            for _ in range(2))
    assert client.delete(a.headers["location"]).json()["status"] == "dismissed"
    assert wait_job(client.get, b.headers["location"])["status"] == "successful"
    assert client.get(a.headers["location"]).json()["status"] == "dismissed"
