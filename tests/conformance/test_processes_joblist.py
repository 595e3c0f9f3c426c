"""OGC API - Processes 1.0 Part 1 abstract test suite, job-list class (core/abstract_tests/job-list).

The answers are checked against the jobs this module creates and against the job records
themselves (created/started/finished), computed here with the standard library.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.conformance.official import validate
from tests.processes.conftest import FailingProcess, wait_job


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _param(oas, name):
    (p,) = [p for p in oas["paths"]["/jobs"]["get"]["parameters"] if p["name"] == name]
    return p


def _string_array(schema: dict) -> bool:
    """An array of strings, possibly as a branch of anyOf/oneOf (FastAPI writes optional lists so)."""
    options = schema.get("anyOf") or schema.get("oneOf") or [schema]
    return any(o.get("type") == "array" and o.get("items", {}).get("type") == "string" for o in options)


@pytest.fixture(scope="module")
def oas(client):
    href = [lk for lk in client.get("/").json()["links"] if lk["rel"] == "service-desc"][0]["href"]
    return client.get(href).json()


@pytest.fixture(scope="module")
def made(app, client):
    """Four finished echo jobs and one failed job, created by this module."""
    jobs = app.state.ctx.services["jobs"]
    jobs.processes["test-fail"] = FailingProcess()
    ids = []
    for i in range(4):
        r = client.post("/processes/echo/execution", json={"inputs": {"message": f"m{i}"}}, headers={"Prefer": "respond-async"})
        ids.append(r.json()["jobID"])
    r = client.post("/processes/test-fail/execution", json={"inputs": {}}, headers={"Prefer": "respond-async"})
    failed = r.json()["jobID"]
    docs = [wait_job(client.get, f"/jobs/{j}") for j in [*ids, failed]]
    yield {"echo": ids, "failed": failed, "docs": docs}
    jobs.processes.pop("test-fail", None)


def listed(client, **params) -> list[dict]:
    """Every job of a filtered list, following `next` links; each page validated against jobList.yaml."""
    out, r = [], client.get("/jobs", params={"limit": 3, **params})
    while True:
        assert r.status_code == 200, r.text
        page = r.json()
        validate(page, "processes-1.0/jobList.yaml")
        out += page["jobs"]
        nxt = [lk["href"] for lk in page["links"] if lk["rel"] == "next"]
        if not nxt:
            return out
        assert len(out) < 10_000
        r = client.get(nxt[0])


def test_conf_job_list_job_list_op(client, made):
    """/conf/job-list/job-list-op: GET /jobs is supported."""
    assert client.get("/jobs").status_code == 200


def test_conf_job_list_job_list_success(client, made):
    """/conf/job-list/job-list-success: 200 and jobList.yaml; every job of this module is listed."""
    doc = client.get("/jobs", params={"limit": 10000}).json()
    validate(doc, "processes-1.0/jobList.yaml")
    ids = {j["jobID"] for j in doc["jobs"]}
    assert {*made["echo"], made["failed"]} <= ids


def test_conf_job_list_limit_definition(oas):
    """/conf/job-list/limit-definition: optional integer `limit`, minimum 1, with a default and a maximum."""
    p = _param(oas, "limit")
    assert p["in"] == "query" and not p.get("required", False)
    assert p["schema"]["type"] == "integer" and p["schema"]["minimum"] == 1
    assert 1 <= p["schema"]["default"] <= p["schema"]["maximum"]


def test_conf_job_list_limit_response(client, made, oas):
    """/conf/job-list/limit-response: never more jobs than `limit`; above the documented maximum is a 400."""
    for limit in (1, 2, 3):
        assert len(client.get("/jobs", params={"limit": limit}).json()["jobs"]) == limit
    maximum = _param(oas, "limit")["schema"]["maximum"]
    assert client.get("/jobs", params={"limit": maximum}).status_code == 200
    r = client.get("/jobs", params={"limit": maximum + 1})
    assert r.status_code == 400 and r.json()["parameter"] == "limit"
    assert client.get("/jobs", params={"limit": 0}).status_code == 400


def test_conf_job_list_links(client, made):
    """/conf/job-list/links: self and alternate (HTML); next pages cover numberMatched jobs exactly once."""
    first = client.get("/jobs", params={"limit": 2, "processID": "echo"}).json()
    rels = {lk["rel"]: lk for lk in first["links"]}
    assert "self" in rels and rels["alternate"]["type"] == "text/html" and "next" in rels
    assert client.get(rels["alternate"]["href"]).headers["content-type"].startswith("text/html")
    every = listed(client, processID="echo")
    assert len(every) == len({j["jobID"] for j in every}) == first["numberMatched"]


def test_conf_job_list_processid_definition(oas):
    """/conf/job-list/processID-definition: optional array-of-strings query parameter `processID`."""
    p = _param(oas, "processID")
    assert p["in"] == "query" and not p.get("required", False) and _string_array(p["schema"])


def test_conf_job_list_processid_mandatory(client, made):
    """/conf/job-list/processID-mandatory: every statusInfo carries processID."""
    for job in client.get("/jobs", params={"limit": 10000}).json()["jobs"]:
        assert job.get("processID")


def test_conf_job_list_processid_response(client, made):
    """/conf/job-list/processID-response: only jobs of the named processes, all of them."""
    echo = listed(client, processID="echo")
    assert echo and all(j["processID"] == "echo" for j in echo)
    assert set(made["echo"]) <= {j["jobID"] for j in echo}
    both = listed(client, processID=["echo", "test-fail"])
    assert {j["processID"] for j in both} == {"echo", "test-fail"}


def test_conf_job_list_status_definition(oas):
    """/conf/job-list/status-definition: optional array-of-strings query parameter `status`."""
    p = _param(oas, "status")
    assert p["in"] == "query" and not p.get("required", False) and _string_array(p["schema"])


def test_conf_job_list_status_response(client, made):
    """/conf/job-list/status-response: only jobs in the named statuses; an unknown status is a 400."""
    failed = listed(client, status="failed")
    assert made["failed"] in {j["jobID"] for j in failed} and all(j["status"] == "failed" for j in failed)
    ok = listed(client, status="successful")
    assert set(made["echo"]) <= {j["jobID"] for j in ok} and all(j["status"] == "successful" for j in ok)
    r = client.get("/jobs", params={"status": "finished-ish"})
    assert r.status_code == 400 and r.json()["parameter"] == "status"


def test_conf_job_list_type_definition(oas):
    """/conf/job-list/type-definition: optional array-of-strings query parameter `type`."""
    p = _param(oas, "type")
    assert p["in"] == "query" and not p.get("required", False) and _string_array(p["schema"])


def test_conf_job_list_type_response(client, made):
    """/conf/job-list/type-response: type=process lists the Processes jobs. Another type is a 400 naming `type`:
    the official parameter (core/openapi/parameters/type.yaml) allows only `process`."""
    assert {j["jobID"] for j in listed(client, type="process")} >= set(made["echo"])
    for other in ("openeo", "null", ""):
        r = client.get("/jobs", params={"type": other})
        if other == "":  # an empty value filters nothing
            assert r.status_code == 200
            continue
        assert r.status_code == 400 and r.json()["parameter"] == "type" and "process" in r.json()["detail"]


def test_conf_job_list_datetime_definition(client, made):
    """/conf/job-list/datetime-definition: instants, closed and open intervals (`..` or empty) are accepted;
    anything else is a 400."""
    for v in ("2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z/2030-01-01T00:00:00Z", "../2030-01-01T00:00:00Z",
              "2020-01-01T00:00:00Z/..", "/2030-01-01T00:00:00Z", "2020-01-01T00:00:00Z/"):
        assert client.get("/jobs", params={"datetime": v}).status_code == 200, v
    r = client.get("/jobs", params={"datetime": "last tuesday"})
    assert r.status_code == 400 and r.json()["parameter"] == "datetime"


def test_conf_job_list_datetime_response(client, made):
    """/conf/job-list/datetime-response: only jobs whose `created` lies in the interval."""
    created = sorted(_t(d["created"]) for d in made["docs"])
    lo, hi = created[0] - timedelta(seconds=1), created[-1] + timedelta(seconds=1)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    inside = listed(client, datetime=f"{lo.strftime(fmt)}/{hi.strftime(fmt)}")
    assert {*made["echo"], made["failed"]} <= {j["jobID"] for j in inside}
    assert all(lo <= _t(j["created"]) <= hi for j in inside)
    before = lo - timedelta(days=3650)
    assert listed(client, datetime=f"../{before.strftime(fmt)}") == []
    future = datetime.now(timezone.utc) + timedelta(days=1)
    assert listed(client, datetime=f"{future.strftime(fmt)}/..") == []


def test_conf_job_list_duration_definition(oas):
    """/conf/job-list/duration-definition: minDuration and maxDuration are optional numeric query parameters."""
    for name in ("minDuration", "maxDuration"):
        assert _param(oas, name)["in"] == "query"


def test_conf_job_list_duration_response(client, made):
    """/conf/job-list/duration-response: durations (finished - started, seconds) within the bounds; none of these quick
    jobs lasts a day."""
    within = listed(client, minDuration=0, maxDuration=3600, processID="echo")
    assert set(made["echo"]) <= {j["jobID"] for j in within}
    for j in within:
        end = _t(j["finished"]) if "finished" in j else datetime.now(timezone.utc)
        assert 0 <= (end - _t(j["started"])).total_seconds() <= 3600
    assert listed(client, minDuration=86400, processID="echo") == []
