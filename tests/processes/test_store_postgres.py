"""The PostgreSQL job store on a real PostgreSQL server, held to the same contract as the SQLite store.

Each contract test runs on both stores; then what only a shared store needs: atomic
status transitions across connections, concurrent schema creation, heartbeats read by
the database's clock, a server on PostgreSQL end to end, and no credentials in messages.
"""

from __future__ import annotations

import logging
import threading
from contextlib import closing
from concurrent.futures import ThreadPoolExecutor

import pytest

from cubeserver.processes.store import Job, JobStore, SQLiteJobStore, open_store, redact

from .conftest import wait_job


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = SQLiteJobStore(tmp_path / "jobs.sqlite")
    else:
        s = open_store(request.getfixturevalue("postgres_url"), tmp_path)
    yield s
    s.close()


def _job(jid, created, **kw):
    return Job(id=jid, process_id=kw.pop("process_id", "echo"), created=created, **kw)


def test_create_get_update_delete_roundtrip(store):
    job = _job("a", "2026-01-01T00:00:00.000000Z", inputs={"x": [1, 2.5, None]}, request={"response": "raw"},
               owner="h:1:2:t:m")
    store.create(job)
    got = store.get("a")
    assert got == Job(**{**job.__dict__, "updated": job.created})
    assert store.get("nope") is None and store.status("nope") is None
    assert store.status("a") == "accepted"
    assert store.update("a", only_if=("accepted",), status="running", progress=7, results={"r": {"kind": "value"}})
    assert not store.update("a", only_if=("accepted",), status="dismissed")  # no longer accepted
    got = store.get("a")
    assert (got.status, got.progress, got.results) == ("running", 7, {"r": {"kind": "value"}})
    assert got.updated > job.created
    with pytest.raises(ValueError):
        store.update("a", colour="red")
    assert store.delete("a") and not store.delete("a") and store.get("a") is None


def test_list_filters_paging_and_order(store):
    days = ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"]
    store.create(_job("short", f"{days[0]}T00:00:00.000000Z", status="successful",
                      started=f"{days[0]}T00:00:00.000000Z", finished=f"{days[0]}T00:00:02.000000Z"))
    store.create(_job("long", f"{days[1]}T00:00:00.000000Z", status="successful", process_id="coarsen",
                      started=f"{days[1]}T00:00:00.000000Z", finished=f"{days[1]}T00:10:00.000000Z",
                      collection="job-long"))
    store.create(_job("queued", f"{days[2]}T00:00:00.000000Z"))
    store.create(_job("failed", f"{days[3]}T00:00:00.000000Z", status="failed", error={"detail": "x"}))

    def ids(**kw):
        return [j.id for j in store.list(limit=100, **kw)[0]]

    assert ids() == ["failed", "queued", "long", "short"]  # newest first
    assert ids(created=(f"{days[1]}T00:00:00.000000Z", None)) == ["failed", "queued", "long"]
    assert ids(created=(None, f"{days[1]}T00:00:00.000000Z")) == ["short"]
    assert ids(min_duration=60) == ["long"] and ids(max_duration=60) == ["short"]
    assert ids(status=["successful", "failed"]) == ["failed", "long", "short"]
    assert ids(process_ids=["coarsen"]) == ["long"]
    assert ids(published=True) == ["long"] and "long" not in ids(published=False)
    page, total = store.list(limit=2, offset=1)
    assert [j.id for j in page] == ["queued", "long"] and total == 4
    assert store.list(limit=2, offset=10) == ([], 4)


def test_active_counts_in_one_query_as_listing_counts(store):
    """The capacity check of each submission, (this identity's, everyone's) queued or running jobs, counted in
    one query: the same numbers as listing them (the contract's generic version), '' being anonymous."""
    who = ["", "ana", "ana", "bo", "", "ana", "bo"]
    states = ["accepted", "running", "successful", "accepted", "failed", "accepted", "dismissed"]
    for k, (name, state) in enumerate(zip(who, states)):
        store.create(_job(f"j{k}", f"2026-01-01T00:00:0{k}.000000Z", submitter=name))
        if state != "accepted":
            store.update(f"j{k}", status=state)
    for name, expected in (("ana", (2, 4)), ("bo", (1, 4)), ("", (1, 4)), ("nobody", (0, 4))):
        assert store.active_counts(name) == expected
        assert JobStore.active_counts(store, name) == expected  # the base class's version, by listing
    assert type(store).active_counts is not JobStore.active_counts  # both SQL stores count in one query


def test_create_within_counts_and_inserts_in_one_statement(store):
    """A job is created only while its submitter has fewer than `per_identity` jobs queued or running and the
    server fewer than `total`; refused, nothing is written and the counts are returned (PostgreSQL's
    conditional insert gives the same answers as the base class's count-then-create, which SQLite uses)."""
    def job(k, who):
        return _job(f"w{k}", f"2026-01-02T00:00:0{k}.000000Z", submitter=who)

    assert store.create_within(job(0, "ana"), per_identity=2, total=3) is None
    assert store.create_within(job(1, "ana"), per_identity=2, total=3) is None
    assert store.create_within(job(2, "ana"), per_identity=2, total=3) == (2, 2)  # ana's limit
    assert store.get("w2") is None
    assert store.create_within(job(3, "bo"), per_identity=2, total=3) is None
    assert store.create_within(job(4, "bo"), per_identity=2, total=3) == (1, 3)  # the server's limit
    assert store.get("w4") is None
    store.update("w0", status="successful")  # finished jobs do not count
    assert store.create_within(job(5, "bo"), per_identity=2, total=3) is None
    got = store.get("w5")
    assert got is not None and (got.submitter, got.status, got.updated) == ("bo", "accepted", got.created)
    assert JobStore.create_within(store, job(6, "bo"), per_identity=2, total=3) == (2, 3)  # the generic version
    assert store.get("w6") is None


def test_concurrent_submissions_of_one_process_stay_within_the_limits(tmp_path):
    """Submissions run in worker threads: 30 at once for one identity create exactly `per_identity` jobs
    (the count and the insert of one submission are not interleaved with another's)."""
    store = SQLiteJobStore(tmp_path / "jobs.sqlite")
    try:
        with ThreadPoolExecutor(8) as pool:
            refused = list(pool.map(lambda k: store.create_within(
                _job(f"c{k}", f"2026-01-03T00:00:{k:02d}.000000Z", submitter="ana"), per_identity=2, total=5), range(30)))
        assert sum(r is None for r in refused) == 2 and store.active_counts("ana") == (2, 2)
    finally:
        store.close()


def test_heartbeats_by_the_database_clock(store):
    store.beat("alive")
    store.beat("stale")
    old = "2000-01-01T00:00:00.000000Z"
    with store._session() as db:  # the stale one last beat long ago
        if isinstance(store, SQLiteJobStore):
            db.execute("UPDATE servers SET beat = ? WHERE owner = 'stale'", (old,))
        else:
            db.execute("UPDATE servers SET beat = %s::timestamptz WHERE owner = 'stale'", (old,))
    assert store.fresh_owners(30) == {"alive"}
    store.beat("stale")  # beating again revives it
    assert store.fresh_owners(30) == {"alive", "stale"}
    store.forget("alive")
    assert store.fresh_owners(30) == {"stale"}


def test_only_if_is_atomic_across_connections(postgres_url, tmp_path):
    """Two servers racing to start (or dismiss) one queued job: exactly one transition wins."""
    stores = [open_store(postgres_url, tmp_path) for _ in range(4)]
    try:
        for i in range(20):
            stores[0].create(_job(f"j{i}", f"2026-01-01T00:00:{i:02d}.000000Z"))
        barrier = threading.Barrier(4)

        def race(s):
            barrier.wait()
            return [s.update(f"j{i}", only_if=("accepted",), status="running") for i in range(20)]

        with ThreadPoolExecutor(4) as pool:
            outcomes = list(pool.map(race, stores))
        assert [sum(col) for col in zip(*outcomes)] == [1] * 20
    finally:
        for s in stores:
            s.close()


def test_servers_starting_together_create_the_schema_once(postgres_url, tmp_path):
    with ThreadPoolExecutor(6) as pool:
        stores = list(pool.map(lambda _: open_store(postgres_url, tmp_path), range(6)))
    stores[0].create(_job("x", "2026-01-01T00:00:00.000000Z"))
    assert all(s.get("x").id == "x" for s in stores)
    for s in stores:
        s.close()


def test_unreachable_or_refused_store_is_named_without_credentials(postgres, tmp_path, caplog):
    from cubeserver.processes.store.postgres import JobStoreUnavailable

    wrong = postgres.url.replace(postgres.password, "not-the-password-0123")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(JobStoreUnavailable) as e:
        open_store(wrong, tmp_path)
    assert "postgresql://cubeserver@127.0.0.1" in str(e.value) and "not-the-password-0123" not in str(e.value)
    assert "password" in str(e.value).lower()  # says why: authentication failed
    assert "not-the-password-0123" not in caplog.text
    assert redact(postgres.url) == f"postgresql://cubeserver@127.0.0.1:{postgres.port}/postgres"


def test_config_rejects_unknown_store_kinds(tmp_path):
    from cubeserver.config import ConfigError, config_from_dict

    with pytest.raises(ConfigError) as e:
        config_from_dict({"jobs": {"store": "mysql://u:secret@h/db"}}, tmp_path)
    assert str(e.value).startswith("jobs.store: must be") and "secret" not in str(e.value)


def _app_on(url, app, tmp_path):
    from tests.conftest import app_on_shared_collections

    cfg = app.state.ctx.config.model_copy(deep=True)
    cfg.state_dir = str(tmp_path / "state")
    cfg.jobs.store = url
    return app_on_shared_collections(app, cfg)


def test_server_on_postgresql_runs_publishes_and_dismisses_jobs(postgres_url, app, tmp_path, caplog):
    """A gridded job on the PostgreSQL store: its record, results, job-{id} collection, dismissal."""
    from fastapi.testclient import TestClient

    caplog.set_level(logging.DEBUG)
    own = _app_on(postgres_url, app, tmp_path)
    with TestClient(own) as c:
        r = c.post("/processes/coarsen/execution", headers={"Prefer": "respond-async"}, json={
            "inputs": {"collection": "coads", "variables": "SST", "factors": {"x": 2, "y": 2}, "reducer": "mean"}})
        assert r.status_code == 201
        jid = r.json()["jobID"]
        assert wait_job(c.get, f"/jobs/{jid}")["status"] == "successful"
        assert jid in [j["jobID"] for j in c.get("/jobs?limit=100").json()["jobs"]]
        coll = c.get(f"/collections/job-{jid}")
        assert coll.status_code == 200 and f"job-{jid}" in [x["id"] for x in c.get("/collections").json()["collections"]]
        assert c.delete(f"/jobs/{jid}").json()["status"] == "dismissed"
        assert c.get(f"/collections/job-{jid}").status_code == 404
    with closing(open_store(postgres_url, tmp_path)) as s:
        rec = s.get(jid)
        assert rec.status == "dismissed" and rec.collection == f"job-{jid}"
        assert s.fresh_owners(3600) == set()  # the stopped server dropped its heartbeat
    password = postgres_url.split(":")[2].split("@")[0]
    assert password not in caplog.text


def test_jobs_of_a_server_on_another_machine_fail_only_when_its_heartbeat_is_stale(postgres_url, app, tmp_path):
    """A pid cannot be checked across machines: an owner elsewhere is alive while it beats (owners.STALE_S)."""
    from fastapi.testclient import TestClient

    with closing(open_store(postgres_url, tmp_path)) as s:
        beating, silent = "elsewhere:4242:1:aaaa:ffffffff", "elsewhere:4343:1:bbbb:ffffffff"
        s.beat(beating)
        s.beat(silent)
        with s._session() as db:
            db.execute("UPDATE servers SET beat = now() - interval '10 minutes' WHERE owner = %s", (silent,))
        s.create(Job(id="remote-live", process_id="echo", status="running", owner=beating, started="x"))
        s.create(Job(id="remote-dead", process_id="echo", status="accepted", owner=silent))
        with TestClient(_app_on(postgres_url, app, tmp_path)) as c:
            dead = c.get("/jobs/remote-dead").json()
            assert dead["status"] == "failed" and "server stopped" in dead["message"]
            assert c.get("/jobs/remote-live").json()["status"] == "running"


def test_sqlite_store_of_an_older_version_is_migrated_and_its_results_served(app, tmp_path):
    """Stores written before the `collection` column: gridded results stay served as job-{id} after an upgrade."""
    import sqlite3

    import numpy as np
    from fastapi.testclient import TestClient

    from cubeserver.processes import results
    from cubeserver.processes.store.base import COLUMNS
    from cubeserver.processes.store.sql import encode

    from ..conftest import open_source

    state = tmp_path / "state"
    src = open_source("coads_sst.nc")[["SST"]].isel(TIME=slice(0, 2)).load()
    manifest = results.save({"result": results.Output.grid(src)}, state / "jobs" / "old-grid")
    old = [c for c in COLUMNS if c != "collection"]
    db = sqlite3.connect(state / "jobs.sqlite")
    db.execute(f"CREATE TABLE jobs (id TEXT PRIMARY KEY, {', '.join(c + ' TEXT' for c in old[1:])})")
    for jid, res in (("old-grid", manifest), ("old-value", {"echo": {"kind": "value", "value": "m",
                                                                        "mediaType": "text/plain"}})):
        job = Job(id=jid, process_id="coarsen", status="successful", results=res)  # created now: within the retention
        db.execute(f"INSERT INTO jobs ({', '.join(old)}) VALUES ({', '.join('?' * len(old))})",
                   [encode(c, getattr(job, c)) for c in old])
    db.commit()
    db.close()
    with TestClient(_app_on(None, app, tmp_path)) as c:
        assert c.get("/collections/job-old-value").status_code == 404  # a value output is no collection
        cov = c.get("/collections/job-old-grid/position", params={"coords": "POINT(45 1)", "parameter-name": "SST"})
        assert cov.status_code == 200, cov.text
        np.testing.assert_allclose(cov.json()["ranges"]["SST"]["values"],
                                   src["SST"].sel(COADSX=45, COADSY=1, method="nearest").values, rtol=1e-6)
    with closing(SQLiteJobStore(state / "jobs.sqlite")) as s:
        assert s.get("old-grid").collection == "job-old-grid" and s.get("old-value").collection is None
