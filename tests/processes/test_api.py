"""Process list/description, conformance, HTML, OpenAPI, input validation and error types (in-process)."""

from __future__ import annotations

import pytest

from cubeserver.processes import CONFORMANCE

PROCESSES = ["temporal-aggregate", "anomaly", "threshold-exceedance", "zonal-statistics", "coarsen", "buffer", "echo"]
EXC = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/"


def test_conformance_and_landing(client):
    conf = client.get("/conformance").json()["conformsTo"]
    assert set(CONFORMANCE) <= set(conf)
    rels = {l["rel"] for l in client.get("/").json()["links"]}
    assert "http://www.opengis.net/def/rel/ogc/1.0/processes" in rels
    assert "http://www.opengis.net/def/rel/ogc/1.0/job-list" in rels


def test_process_list(client):
    doc = client.get("/processes").json()
    ids = [p["id"] for p in doc["processes"]]
    assert ids[: len(PROCESSES)] == PROCESSES
    for p in doc["processes"]:
        assert set(p["jobControlOptions"]) == {"sync-execute", "async-execute", "dismiss"}
        assert set(p["outputTransmission"]) == {"value", "reference"}
        assert "inputs" not in p
        assert any(l["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/execute" for l in p["links"])


@pytest.mark.parametrize("pid", PROCESSES)
def test_process_description(client, pid):
    doc = client.get(f"/processes/{pid}").json()
    assert doc["id"] == pid and doc["version"]
    assert doc["inputs"] and doc["outputs"]
    for spec in doc["inputs"].values():
        assert "schema" in spec and spec["minOccurs"] in (0, 1) and spec["maxOccurs"] == 1
    for spec in doc["outputs"].values():
        assert "schema" in spec


def test_echo_description_required_message(client):
    doc = client.get("/processes/echo").json()
    assert doc["inputs"]["message"]["minOccurs"] == 1
    assert doc["inputs"]["message"]["schema"] == {"type": "string"}
    assert doc["outputs"]["echo"]["schema"] == {"type": "string"}


def test_html_pages(client):
    r = client.get("/processes", headers={"Accept": "text/html"})
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "zonal-statistics" in r.text
    r = client.get("/processes/coarsen?f=html")
    assert r.status_code == 200 and "factors" in r.text
    r = client.get("/jobs?f=html")
    assert r.status_code == 200 and "<table>" in r.text


def test_openapi_documents_the_endpoints(client):
    paths = client.get("/openapi?f=json").json()["paths"]
    for p in ("/processes", "/processes/{processId}", "/processes/{processId}/execution", "/jobs",
              "/jobs/{jobId}", "/jobs/{jobId}/results"):
        assert p in paths, p
    post = paths["/processes/{processId}/execution"]["post"]
    assert "inputs" in post["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert "delete" in paths["/jobs/{jobId}"]


def test_unknown_process_and_job(client):
    r = client.get("/processes/nope")
    assert r.status_code == 404 and r.json()["type"] == EXC + "no-such-process"
    r = client.post("/processes/nope/execution", json={"inputs": {}})
    assert r.status_code == 404 and r.json()["type"] == EXC + "no-such-process"
    for method, url in (("get", "/jobs/0123abc"), ("get", "/jobs/0123abc/results"), ("delete", "/jobs/0123abc")):
        r = getattr(client, method)(url)
        assert r.status_code == 404 and r.json()["type"] == EXC + "no-such-job", url


def post(client, pid, inputs, **extra):
    return client.post(f"/processes/{pid}/execution", json={"inputs": inputs, **extra})


@pytest.mark.parametrize("pid,inputs,param", [
    ("echo", {}, "message"),                                               # missing
    ("echo", {"message": 3}, "message"),                                   # wrong type
    ("echo", {"message": "a", "other": 1}, "other"),                       # unknown input
    ("echo", {"message": {"href": "file:///etc/passwd"}}, "message"),      # by reference
    ("temporal-aggregate", {"collection": "nope"}, "collection"),
    ("temporal-aggregate", {"collection": "datasets/coads_sst.nc"}, "collection"),  # not a path
    ("temporal-aggregate", {"collection": "places"}, "collection"),        # a features collection
    ("temporal-aggregate", {"collection": "eraint"}, "collection"),        # no time axis
    ("temporal-aggregate", {"collection": "coads", "variables": ["SST", "nope"]}, "variables"),
    ("temporal-aggregate", {"collection": "coads", "reducer": "median"}, "reducer"),
    ("temporal-aggregate", {"collection": "coads", "bbox": [0, 10, 10, 0]}, "bbox"),
    ("temporal-aggregate", {"collection": "coads", "bbox": [1, 2, 3]}, "bbox"),
    ("temporal-aggregate", {"collection": "coads", "datetime": "1990-01-01/1990-02-01"}, "datetime"),
    ("temporal-aggregate", {"collection": "coads", "datetime": "not a date"}, "datetime"),
    ("anomaly", {"collection": "coads", "variable": "nope", "baseline": "2000-01-01/2000-12-31"}, "variable"),
    ("anomaly", {"collection": "coads", "variable": "SST", "baseline": "2000-01-01/2000-06-30"}, "baseline"),
    ("anomaly", {"collection": "coads", "variable": "SST"}, "baseline"),
    ("threshold-exceedance", {"collection": "coads", "variable": "SST", "threshold": "20"}, "threshold"),
    ("threshold-exceedance", {"collection": "coads", "variable": "SST", "threshold": 1, "operator": "eq"}, "operator"),
    ("coarsen", {"collection": "coads", "factors": {"x": 0}}, "factors"),
    ("coarsen", {"collection": "coads", "factors": {"q": 2}}, "factors"),
    ("coarsen", {"collection": "coads", "factors": {"z": 2}}, "factors"),
    ("coarsen", {"collection": "coads", "factors": {"x": 1000}}, "factors"),
    ("zonal-statistics", {"features": "places", "collection": "coads", "variable": "SST"}, "features"),
    ("zonal-statistics", {"features": "nope", "collection": "coads", "variable": "SST"}, "features"),
    ("zonal-statistics", {"features": {"type": "Point", "coordinates": [0, 0]}, "collection": "coads",
                          "variable": "SST"}, "features"),
    ("buffer", {"geometry": {"type": "Point", "coordinates": [0, 0]}}, "distance"),
    ("buffer", {"geometry": {"type": "Blob"}, "distance": 1}, "geometry"),
    ("buffer", {"geometry": {"type": "Point", "coordinates": [500, 0]}, "distance": 1}, "geometry"),
    # an empty answer is a 400, not a 200 with an empty polygon: nothing to shrink on points and lines
    ("buffer", {"geometry": {"type": "Point", "coordinates": [10, 45]}, "distance": -100}, "distance"),
    ("buffer", {"geometry": {"type": "Point", "coordinates": [10, 45]}, "distance": 0}, "distance"),
    ("buffer", {"geometry": {"type": "LineString", "coordinates": [[10, 45], [11, 45]]}, "distance": -5}, "distance"),
    ("buffer", {"geometry": {"type": "MultiPoint", "coordinates": [[10, 45], [11, 45]]}, "distance": -5}, "distance"),
    # a 0.01° square (~1.1 km by ~0.8 km at 45°N) shrunk by 1 km is gone
    ("buffer", {"geometry": {"type": "Polygon", "coordinates": [[[10, 45], [10.01, 45], [10.01, 45.01], [10, 45.01],
                                                                 [10, 45]]]}, "distance": -1000}, "distance"),
])
def test_invalid_inputs_are_400_naming_the_input(client, pid, inputs, param):
    before = client.get("/jobs").json()["numberMatched"]
    r = post(client, pid, inputs)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["parameter"] == param, body
    assert param in body["detail"]
    assert client.get("/jobs").json()["numberMatched"] == before  # nothing was queued


@pytest.mark.parametrize("body,param", [
    ({"inputs": {"message": "a"}, "response": "stream"}, "response"),
    ({"inputs": {"message": "a"}, "outputs": {"nope": {}}}, "outputs"),
    ({"inputs": {"message": "a"}, "outputs": {"echo": {"transmissionMode": "carrier-pigeon"}}}, "outputs"),
    ({"inputs": {"message": "a"}, "outputs": {"echo": {"format": {"mediaType": "image/png"}}}}, "outputs"),
    ({"inputs": ["a"]}, "inputs"),
])
def test_invalid_execute_requests(client, body, param):
    r = client.post("/processes/echo/execution", json=body)
    assert r.status_code == 400 and r.json()["parameter"] == param, r.text


def test_invalid_json_body(client):
    r = client.post("/processes/echo/execution", content=b"{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["parameter"] == "body"


def test_echo_sync_raw_and_document(client):
    r = post(client, "echo", {"message": "héllo wörld"})
    assert r.status_code == 200 and r.text == "héllo wörld"
    assert r.headers["content-type"].startswith("text/plain")
    r = post(client, "echo", {"message": "hi"}, response="document")
    assert r.status_code == 200 and r.json() == {"echo": "hi"}
    r = post(client, "echo", {"message": {"value": "qualified"}}, response="document")
    assert r.json() == {"echo": "qualified"}


def test_echo_honours_the_requested_format(client):
    r = client.post("/processes/echo/execution", json={
        "inputs": {"message": "fmt"}, "outputs": {"echo": {"format": {"mediaType": "application/json"}}}})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json") and r.json() == "fmt"
    r = client.post("/processes/echo/execution", json={
        "inputs": {"message": "fmt"}, "outputs": {"echo": {"format": {"mediaType": "text/plain"}}}})
    assert r.headers["content-type"].startswith("text/plain") and r.text == "fmt"


def test_echo_reference_output(client):
    r = post(client, "echo", {"message": "by ref"}, response="raw", outputs={"echo": {"transmissionMode": "reference"}})
    assert r.status_code == 204
    href = r.headers["link"].split(">")[0].lstrip("<")
    assert "/results/echo" in href
    assert client.get(href.replace("http://testserver", "")).text == "by ref"
