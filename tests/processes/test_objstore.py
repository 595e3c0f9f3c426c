"""Job results on object storage (`jobs.results: s3://...`, issue 13 point 5) against a REAL
S3-compatible server: moto's server on a free 127.0.0.1 port, spoken to over HTTP by s3fs (the
server) and boto3 (the test's independent look at the bucket). Two app instances with separate
state dirs share one SQLite job store and the bucket: no shared folder for results.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from tests.conftest import DATASETS, client_for, free_port, open_source
from tests.processes.conftest import netcdf, wait_job

pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")

BUCKET = "cube-results"
COADS = {"coads": {"path": str(DATASETS / "coads_sst.nc")}}
AGGREGATE = {"collection": "coads", "variables": ["SST", "AIRT"], "grouping": "month", "reducer": "min",
             "bbox": [0, -30, 90, 30]}
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def s3():
    """A moto S3 server on a free port with one bucket; credentials come from the environment (AWS_*)."""
    saved = {k: os.environ.get(k) for k in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket=BUCKET)
    try:
        yield endpoint, client
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def keys(client, prefix: str) -> list[str]:
    """The object keys under `prefix`, listed with boto3 (independently of the server's s3fs)."""
    found, token = [], None
    while True:
        kw = {"Bucket": BUCKET, "Prefix": prefix, **({"ContinuationToken": token} if token else {})}
        page = client.list_objects_v2(**kw)
        found += [o["Key"] for o in page.get("Contents", [])]
        if not page.get("IsTruncated"):
            return found
        token = page["NextContinuationToken"]


def jobs_cfg(endpoint: str, tmp_path, prefix: str, **more) -> dict:
    return {"store": f"sqlite:{tmp_path / 'shared-jobs.sqlite'}", "results": f"s3://{BUCKET}/{prefix}",
            "results_options": {"endpoint_url": endpoint}, **more}


def test_a_job_result_lives_in_the_bucket_and_both_instances_serve_it(s3, tmp_path):
    endpoint, client = s3
    jobs = jobs_cfg(endpoint, tmp_path, "run1")
    with client_for(COADS, tmp_path / "a", jobs=jobs) as a, client_for(COADS, tmp_path / "b", jobs=jobs) as b:
        r = a.post("/processes/temporal-aggregate/execution", headers={"Prefer": "respond-async"},
                   json={"inputs": AGGREGATE})
        assert r.status_code == 201, r.text
        jid = r.json()["jobID"]
        doc = wait_job(b.get, f"/jobs/{jid}")  # polled on B
        assert doc["status"] == "successful", doc

        stored = keys(client, f"run1/{jid}/")
        assert f"run1/{jid}/result.nc" in stored
        assert f"run1/{jid}/result.zarr/.zmetadata" in stored
        assert any(k.startswith(f"run1/{jid}/result.zarr/SST/") for k in stored)
        for side in ("a", "b"):  # nothing left in either state dir: the bucket is the only copy
            assert not (tmp_path / side / "state" / "jobs" / jid).exists()

        # the raw output, streamed from the bucket by B, equals the source (monthly minimum of one value per month)
        raw = b.get(f"/jobs/{jid}/results/result")
        assert raw.status_code == 200 and raw.headers["content-type"].startswith("application/x-netcdf")
        body = client.get_object(Bucket=BUCKET, Key=f"run1/{jid}/result.nc")["Body"].read()
        assert raw.content == body and int(raw.headers["content-length"]) == len(body)
        out = netcdf(raw.content)
        src = open_source("coads_sst.nc").sel(COADSX=slice(0, 90), COADSY=slice(-30, 30))
        for v in ("SST", "AIRT"):
            np.testing.assert_allclose(out[v].values, src[v].values, equal_nan=True)

        results = a.get(f"/jobs/{jid}/results").json()
        assert results["result"]["href"].endswith(f"/jobs/{jid}/results/result")

        cid = f"job-{jid}"
        for c in (a, b):  # the job-{id} collection opened from S3 on both instances: EDR and Coverages
            assert cid in [x["id"] for x in c.get("/collections").json()["collections"]]
            cov = c.get(f"/collections/{cid}/position", params={"coords": "POINT(45 1)", "parameter-name": "AIRT"})
            assert cov.status_code == 200, cov.text
            np.testing.assert_allclose(cov.json()["ranges"]["AIRT"]["values"],
                                       src["AIRT"].sel(COADSX=45, COADSY=1, method="nearest").values, rtol=1e-6)
            sub = netcdf(c.get(f"/collections/{cid}/coverage", params={"f": "netcdf", "properties": "SST"}).content)
            np.testing.assert_allclose(sub["SST"].values, src["SST"].values, equal_nan=True)

        gone = b.delete(f"/jobs/{jid}")  # dismissed on B: the objects are deleted, A serves nothing of it
        assert gone.status_code == 200 and gone.json()["status"] == "dismissed"
        assert keys(client, f"run1/{jid}/") == []
        for c in (a, b):
            assert c.get(f"/collections/{cid}").status_code == 404
            assert c.get(f"/jobs/{jid}/results/result").status_code == 404
            assert cid not in [x["id"] for x in c.get("/collections").json()["collections"]]


def test_a_large_json_output_is_a_file_in_the_bucket(s3, tmp_path):
    """A JSON value over the inline limit becomes an object; document and raw output give it back."""
    from cubeserver.processes.results import INLINE_LIMIT

    endpoint, client = s3
    message = "cube " * (INLINE_LIMIT // 5 + 1000)
    jobs = jobs_cfg(endpoint, tmp_path, "run2")
    with client_for(COADS, tmp_path / "a", jobs=jobs) as a, client_for(COADS, tmp_path / "b", jobs=jobs) as b:
        r = a.post("/processes/echo/execution", headers={"Prefer": "respond-async"},
                   json={"inputs": {"message": message}, "response": "document",
                         "outputs": {"echo": {"format": {"mediaType": "application/json"}}}})
        jid = r.json()["jobID"]
        assert wait_job(a.get, f"/jobs/{jid}")["status"] == "successful"
        assert keys(client, f"run2/{jid}/") == [f"run2/{jid}/echo.json"]
        assert b.get(f"/jobs/{jid}/results").json()["echo"] == message
        raw = b.get(f"/jobs/{jid}/results/echo")
        assert raw.status_code == 200 and raw.json() == message


def test_retention_deletes_the_objects(s3, tmp_path):
    endpoint, client = s3
    with client_for(COADS, tmp_path, jobs=jobs_cfg(endpoint, tmp_path, "run3", retention="1s")) as c:
        manager = c.app.state.ctx.services["jobs"]
        r = c.post("/processes/coarsen/execution", headers={"Prefer": "respond-async"},
                   json={"inputs": {"collection": "coads", "variables": "SST", "factors": {"x": 2}}})
        href = r.headers["location"]
        assert wait_job(c.get, href)["status"] == "successful"
        jid = href.rsplit("/", 1)[1]
        assert keys(client, f"run3/{jid}/")
        assert c.get(f"/collections/job-{jid}").status_code == 200
        time.sleep(1.2)
        manager._last_expiry = float("-inf")  # the sweep looks for expired jobs once a minute; do it now
        manager.sweep()
        assert c.get(href).status_code == 404
        assert keys(client, f"run3/{jid}/") == []
        assert c.get(f"/collections/job-{jid}").status_code == 404


def test_ready_checks_the_bucket(s3, tmp_path):
    endpoint, _ = s3
    with client_for(COADS, tmp_path / "ok", jobs=jobs_cfg(endpoint, tmp_path, "run4")) as c:
        r = c.get("/ready")
        assert r.status_code == 200 and r.json()["checks"]["jobs:results"]["status"] == "pass"
    missing = {**jobs_cfg(endpoint, tmp_path, "x"), "results": "s3://no-such-bucket/x"}
    with client_for(COADS, tmp_path / "bad", jobs=missing) as c:
        r = c.get("/ready")
        assert r.status_code == 503 and r.json()["checks"]["jobs:results"]["status"] == "fail"
        assert "no-such-bucket" not in r.text and endpoint not in r.text


def test_the_local_default_is_unchanged(tmp_path):
    """Without `jobs.results` the files stay in state_dir/jobs/{id}, as before."""
    with client_for(COADS, tmp_path) as c:
        r = c.post("/processes/coarsen/execution", headers={"Prefer": "respond-async"},
                   json={"inputs": {"collection": "coads", "variables": "SST", "factors": {"x": 2}}})
        jid = r.headers["location"].rsplit("/", 1)[1]
        assert wait_job(c.get, f"/jobs/{jid}")["status"] == "successful"
        assert (tmp_path / "state" / "jobs" / jid / "result.zarr" / ".zmetadata").is_file()


@pytest.mark.parametrize("jobs, message", [
    ({"results": "nosuch://bucket/x"}, "nosuch:// is not a storage fsspec knows"),
    ({"results": "s3://"}, "names no bucket"),
    ({"results_options": {"endpoint_url": "http://x"}}, "need an object-store URL"),
])
def test_bad_results_settings_are_rejected(tmp_path, jobs, message):
    from cubeserver.config import ConfigError, config_from_dict

    with pytest.raises(ConfigError, match="jobs") as e:
        config_from_dict({"collections": {}, "jobs": jobs}, tmp_path)
    assert message in str(e.value)


def test_a_store_whose_library_is_missing_is_named(tmp_path):
    from importlib.util import find_spec

    from cubeserver.config import ConfigError, config_from_dict

    if find_spec("ocifs") is not None:  # Oracle Cloud's fsspec filesystem: known to fsspec, not a dependency here
        pytest.skip("ocifs is installed here")
    with pytest.raises(ConfigError, match="oci:// needs a library that is not installed"):
        config_from_dict({"collections": {}, "jobs": {"results": "oci://bucket/x"}}, tmp_path)


def test_check_config_names_a_bad_results_url(tmp_path, capsys):
    from cubeserver.cli import main

    cfg = tmp_path / "c.yaml"
    cfg.write_text("collections: {}\njobs:\n  results: nosuch://bucket/x\n")
    with pytest.raises(SystemExit) as e:
        main(["check-config", str(cfg)])
    assert e.value.code != 0
    printed = capsys.readouterr()
    assert "jobs.results" in printed.out + printed.err and "nosuch://" in printed.out + printed.err


def test_check_config_reaches_the_bucket(s3, tmp_path, capsys):
    from cubeserver.cli import main

    endpoint, _ = s3
    for bucket, code, said in ((BUCKET, 0, "job results: s3://"), ("no-such-bucket", 2, "does not exist")):
        cfg = tmp_path / f"{bucket}.yaml"
        cfg.write_text(f"collections: {{}}\njobs:\n  results: s3://{bucket}/p\n"
                       f"  results_options: {{endpoint_url: '{endpoint}'}}\n")
        assert main(["check-config", str(cfg)]) == code
        assert said in capsys.readouterr().err


def test_two_server_processes_configured_from_the_environment(s3, tmp_path):
    """Real `cubeserver serve` processes, separate state dirs; store, bucket, endpoint and keys only from
    the environment (CUBESERVER_JOBS_STORE, CUBESERVER_JOBS_RESULTS, AWS_ENDPOINT_URL, AWS_*)."""
    import requests
    import yaml

    from tests.conftest import start_server

    endpoint, client = s3
    env = {**CREDENTIALS, "AWS_SECRET_ACCESS_KEY": "s3cr3t-not-logged", "AWS_ENDPOINT_URL": endpoint,
           "CUBESERVER_JOBS_STORE": f"sqlite:{tmp_path / 'shared.sqlite'}",
           "CUBESERVER_JOBS_RESULTS": f"s3://{BUCKET}/run5"}
    procs, bases = [], []
    try:
        for side in ("a", "b"):
            cfg = tmp_path / f"{side}.yaml"
            cfg.write_text(yaml.safe_dump({"state_dir": str(tmp_path / side), "collections": COADS}))
            proc, base = start_server(cfg, tmp_path, env)
            procs.append(proc)
            bases.append(base)
        a, b = bases
        r = requests.post(f"{a}/processes/temporal-aggregate/execution", headers={"Prefer": "respond-async"},
                          json={"inputs": AGGREGATE})
        jid = r.json()["jobID"]
        assert wait_job(requests.get, f"{b}/jobs/{jid}")["status"] == "successful"
        assert f"run5/{jid}/result.nc" in keys(client, f"run5/{jid}/")
        out = netcdf(requests.get(f"{b}/jobs/{jid}/results/result").content)
        src = open_source("coads_sst.nc").sel(COADSX=slice(0, 90), COADSY=slice(-30, 30))
        np.testing.assert_allclose(out["SST"].values, src["SST"].values, equal_nan=True)
        cov = requests.get(f"{b}/collections/job-{jid}/position",
                           params={"coords": "POINT(45 1)", "parameter-name": "SST"}).json()
        np.testing.assert_allclose(cov["ranges"]["SST"]["values"],
                                   src["SST"].sel(COADSX=45, COADSY=1, method="nearest").values, rtol=1e-6)
        assert requests.delete(f"{a}/jobs/{jid}").status_code == 200
        assert keys(client, f"run5/{jid}/") == []
        assert requests.get(f"{b}/collections/job-{jid}").status_code == 404
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)
    for log in tmp_path.glob("server-*.log"):
        text = log.read_text()
        assert "s3cr3t-not-logged" not in text and f"job files: s3://{BUCKET}/run5" in text
