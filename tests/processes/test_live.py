"""Full job lifecycles against the real CLI server: OWSLib, sync and async, results, dismiss, concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import requests
from owslib.ogcapi.processes import Processes

from ..conftest import open_source
from .conftest import netcdf, wait_job


def test_owslib_sync_and_async_echo(live_server):
    api = Processes(live_server)
    ids = [p["id"] for p in api.processes()]
    assert "echo" in ids and "temporal-aggregate" in ids
    assert api.process("echo")["inputs"]["message"]["schema"]["type"] == "string"
    assert api.execute("echo", inputs={"message": "from owslib"}) == {"echo": "from owslib"}
    status = api.execute("echo", inputs={"message": "later"}, async_=True)
    assert status["status"] in ("accepted", "running", "successful")
    assert api.response_headers["Location"].endswith(f"/jobs/{status['jobID']}")
    done = wait_job(requests.get, f"{live_server}/jobs/{status['jobID']}")
    assert done["status"] == "successful"
    assert api._request(path=f"jobs/{status['jobID']}/results") == {"echo": "later"}


def test_async_gridded_lifecycle(live_server):
    """Submit, poll, download NetCDF, query the job collection, list, dismiss."""
    r = requests.post(f"{live_server}/processes/temporal-aggregate/execution", headers={"Prefer": "respond-async"},
                      json={"inputs": {"collection": "coads", "variables": ["SST", "AIRT"], "grouping": "month",
                                       "reducer": "min", "bbox": [0, -30, 90, 30]}})
    assert r.status_code == 201 and r.headers["Preference-Applied"] == "respond-async"
    job_url = r.headers["Location"]
    doc = wait_job(requests.get, job_url)
    assert doc["status"] == "successful" and doc["progress"] == 100, doc
    results = requests.get(f"{job_url}/results").json()
    nc = requests.get(results["result"]["href"])
    assert nc.status_code == 200 and nc.headers["content-type"] == "application/x-netcdf"
    out = netcdf(nc.content)
    src = open_source("coads_sst.nc").sel(COADSX=slice(0, 90), COADSY=slice(-30, 30))
    for v in ("SST", "AIRT"):  # one time step per month: the monthly minimum is the value itself
        np.testing.assert_allclose(out[v].values, src[v].values, equal_nan=True)
        assert out[v].attrs["units"] == src[v].attrs["units"]
    cid = f"job-{doc['jobID']}"
    coll = requests.get(f"{live_server}/collections/{cid}").json()
    assert coll["extent"]["spatial"]["bbox"][0] == pytest.approx([0, -30, 90, 30], abs=1.01)
    assert len(coll["extent"]["temporal"]["values"]) == 12
    # EDR and Coverages serve the job's collection like any other
    cov = requests.get(f"{live_server}/collections/{cid}/position", params={"coords": "POINT(45 1)", "parameter-name": "AIRT"}).json()
    np.testing.assert_allclose(cov["ranges"]["AIRT"]["values"], out["AIRT"].sel(COADSX=45, COADSY=1).values, rtol=1e-6)
    sub = netcdf(requests.get(f"{live_server}/collections/{cid}/coverage", params={"f": "netcdf", "properties": "SST"}).content)
    np.testing.assert_allclose(sub["SST"].values, out["SST"].values, equal_nan=True)
    listed = requests.get(f"{live_server}/jobs", params={"processID": "temporal-aggregate", "limit": 100}).json()
    assert doc["jobID"] in [j["jobID"] for j in listed["jobs"]]
    gone = requests.delete(job_url)
    assert gone.status_code == 200 and gone.json()["status"] == "dismissed"
    assert requests.get(f"{live_server}/collections/{cid}").status_code == 404
    assert requests.get(results["result"]["href"]).status_code == 404
    assert requests.get(job_url).json()["status"] == "dismissed"


def test_sync_raw_gridded_value_and_reference(live_server):
    url = f"{live_server}/processes/threshold-exceedance/execution"
    inputs = {"collection": "coads", "variable": "SST", "threshold": 25}
    r = requests.post(url, json={"inputs": inputs})  # raw + default (reference) transmission
    assert r.status_code == 204
    href = r.headers["Link"].split(">")[0].lstrip("<")
    by_ref = netcdf(requests.get(href).content)
    r = requests.post(url, json={"inputs": inputs, "outputs": {"result": {"transmissionMode": "value"}}})
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-netcdf"
    by_value = netcdf(r.content)
    sst = open_source("coads_sst.nc")["SST"].values
    expected = np.where(np.isfinite(sst).any(0), ((sst > 25) & np.isfinite(sst)).sum(0), np.nan)
    np.testing.assert_array_equal(by_value["SST_exceedance_count"].values, expected)
    np.testing.assert_array_equal(by_ref["SST_exceedance_count"].values, expected)


def test_hundred_concurrent_async_submissions(live_server):
    def submit(i):
        r = requests.post(f"{live_server}/processes/echo/execution", headers={"Prefer": "respond-async"},
                          json={"inputs": {"message": f"message {i}"}}, timeout=60)
        return r.status_code, r.json()["jobID"], i

    with ThreadPoolExecutor(25) as pool:
        answers = list(pool.map(submit, range(100)))
    assert [a[0] for a in answers] == [201] * 100
    ids = {a[1] for a in answers}
    assert len(ids) == 100
    listed = requests.get(f"{live_server}/jobs", params={"processID": "echo", "limit": 1000}).json()
    assert ids <= {j["jobID"] for j in listed["jobs"]}
    for _, jid, i in answers:
        assert wait_job(requests.get, f"{live_server}/jobs/{jid}")["status"] == "successful"
        assert requests.get(f"{live_server}/jobs/{jid}/results/echo").text == f"message {i}"
