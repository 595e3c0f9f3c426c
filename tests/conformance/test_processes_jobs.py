"""OGC API - Processes 1.0 Part 1 abstract test suite: execution, jobs, results, job list, dismiss, callback.

One test per abstract test id (core/abstract_tests at branch 1.0.0-maintenance) checkable over HTTP.
Every answer is validated against the official schemas (statusInfo, results, jobList, exception,
execute for the request bodies sent). A test-only process with two outputs covers the
multi-output cases (no built-in process has two outputs).
"""

from __future__ import annotations

import functools
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cubeserver.processes.base import Process
from cubeserver.processes.results import Output
from tests.conformance.official import validate
from tests.processes.conftest import BlockingProcess, FailingProcess, wait_job

EXC = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/"


class TwoOutputs(Process):
    """Test-only: the square of `n` (JSON number) and a sentence (text/plain)."""

    id = "test-two-outputs"
    title = "test: two outputs"
    inputs = {"n": {"title": "n", "required": True, "schema": {"type": "integer"}},
              "words": {"title": "words", "schema": {"type": "array", "items": {"type": "string"}}},
              "options": {"title": "options", "schema": {"type": "object", "properties": {"upper": {"type": "boolean"}}}}}
    outputs = {"square": {"title": "square", "schema": {"type": "integer"}},
               "text": {"title": "text", "schema": {"type": "string"}, "formats": ["text/plain"]}}

    def execute(self, params, job):
        text = " ".join(params.get("words") or ["n", "is", str(params["n"])])
        if (params.get("options") or {}).get("upper"):
            text = text.upper()
        return {"square": Output(value=params["n"] ** 2),
                "text": Output(value=text, media_type="text/plain")}


@pytest.fixture(scope="module")
def procs(app, client):
    jobs = app.state.ctx.services["jobs"]
    added = {p.id: p() for p in (TwoOutputs, BlockingProcess, FailingProcess)}
    jobs.processes.update(added)
    yield jobs
    for pid in added:
        jobs.processes.pop(pid, None)


@functools.lru_cache(maxsize=None)
def patched(name: str):
    """The official `name` (execute.yaml, results.yaml) with the ambiguous `oneOf`s of the values read as `anyOf`.

    Defects of the official schema: in inputValueNoObject.yaml every string also matches
    binaryInputValue (`format: byte` asserts nothing) and every integer matches both `number` and
    `integer`; in execute.yaml an array input matches both `inlineOrRefData` (which allows arrays)
    and the array of them. With `oneOf`, no string, integer or array input would ever be valid,
    which the requirement text (/req/core/process-execute-request) plainly does not intend.
    """
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    from tests.conformance import official

    def load(path: Path) -> dict:
        doc = official._load(path)
        if path.name in ("inputValueNoObject.yaml", "execute.yaml"):
            doc = _any_of(doc)
        return doc

    def retrieve(uri: str) -> Resource:
        return Resource.from_contents(load(Path(uri[len("file://"):].split("#", 1)[0])), default_specification=DRAFT7)

    schema = {**load(official.ROOT / "processes-1.0" / name), "$id": official.BASE + "processes-1.0/" + name}
    return jsonschema.Draft7Validator(schema, registry=Registry(retrieve=retrieve))


def check(doc, name: str) -> None:
    """Validate against the official Processes schema `name`, with `patched`'s reading of the value schemas."""
    found = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in patched(name).iter_errors(doc)]
    assert not found, found


def _any_of(node):
    if isinstance(node, dict):
        return {("anyOf" if k == "oneOf" else k): _any_of(v) for k, v in node.items()}
    return [_any_of(v) for v in node] if isinstance(node, list) else node


def execute(client, pid: str, body: dict, prefer: str | None = None):
    """POST an execute request whose body is first checked against the official execute.yaml (see patched)."""
    check(body, "execute.yaml")
    headers = {"Prefer": prefer} if prefer else {}
    return client.post(f"/processes/{pid}/execution", json=body, headers=headers)


def monitor(resp) -> str:
    """The job URL of a Link header with rel=monitor."""
    for part in resp.headers.get("link", "").split(","):
        if 'rel="monitor"' in part:
            return part.split(">")[0].strip().lstrip("<")
    raise AssertionError(f"no rel=monitor Link header in {resp.headers}")


def async_job(client, pid, body) -> dict:
    r = execute(client, pid, body, prefer="respond-async")
    assert r.status_code == 201, r.text
    return wait_job(client.get, r.headers["location"])


# ------------------------------------------------------------------ execute

def test_conf_core_process_execute_op(client, procs):
    """/conf/core/process-execute-op: POST /processes/{processID}/execution is supported."""
    assert execute(client, "echo", {"inputs": {"message": "hi"}}).status_code == 200


def test_conf_core_process_execute_request(client, procs):
    """/conf/core/process-execute-request: a body per execute.yaml (inputs, outputs with format) is accepted."""
    r = execute(client, "test-two-outputs", {"inputs": {"n": 3}, "outputs": {"square": {"format": {"mediaType": "application/json"}}}})
    assert r.status_code == 200 and r.json() == 9


def test_conf_core_process_execute_inputs(client, procs):
    """/conf/core/process-execute-inputs: inputs by value and by reference (to a job output of this server)."""
    first = execute(client, "echo", {"inputs": {"message": "chained"}})
    ref = {"href": f"{monitor(first)}/results/echo"}
    r = execute(client, "echo", {"inputs": {"message": ref}})
    assert r.status_code == 200 and r.text == "chained"


def test_conf_core_process_execute_input_inline(client, procs):
    """/conf/core/process-execute-input-inline: a plain value and a qualified value ({"value": ...}) are read alike."""
    a = execute(client, "echo", {"inputs": {"message": "v"}}).text
    b = execute(client, "echo", {"inputs": {"message": {"value": "v", "mediaType": "text/plain"}}}).text
    assert a == b == "v"


def test_conf_core_process_execute_input_ref(client, procs):
    """/conf/core/process-execute-input-ref: a reference is resolved; one the server will not fetch is a 400 naming the input."""
    first = execute(client, "test-two-outputs", {"inputs": {"n": 4}, "outputs": {"square": {}}})
    r = execute(client, "test-two-outputs", {"inputs": {"n": {"href": f"{monitor(first)}/results/square"}},
                                             "outputs": {"square": {}}})
    assert r.status_code == 200 and r.json() == 256
    r = execute(client, "echo", {"inputs": {"message": {"href": "http://example.com/message.txt"}}})
    assert r.status_code == 400 and r.json()["parameter"] == "message"


def test_conf_core_process_execute_input_array(client, procs):
    """/conf/core/process-execute-input-array: an array input arrives as the array."""
    r = execute(client, "test-two-outputs", {"inputs": {"n": 1, "words": ["a", "b", "c"]}, "outputs": {"text": {}}})
    assert r.text == "a b c"


def test_conf_core_process_execute_input_inline_object(client, procs):
    """/conf/core/process-execute-input-inline-object: an object input (qualified, with its schema) is accepted."""
    body = {"inputs": {"n": 1, "words": ["x"], "options": {"value": {"upper": True}, "mediaType": "application/json"}},
            "outputs": {"text": {}}}
    assert execute(client, "test-two-outputs", body).text == "X"


def test_conf_core_process_execute_input_inline_mixed(client, procs):
    """/conf/core/process-execute-input-inline-mixed: plain, qualified and array inputs in one request."""
    body = {"inputs": {"n": {"value": 5}, "words": ["p", "q"], "options": {"value": {"upper": False}}}}
    doc = execute(client, "test-two-outputs", {**body, "response": "document"}).json()
    assert doc["square"] == 25 and doc["text"] == "p q"


def test_conf_core_process_execute_input_inline_bbox(client, procs):
    """/conf/core/process-execute-input-inline-bbox: a bbox.yaml input ({"bbox": [...], "crs": ...}) selects the same cells
    as the same box as a plain array."""
    base = {"collection": "coads", "variables": ["SST"], "datetime": "2000-01-01/2000-03-31", "reducer": "mean"}
    box = [-40, 20, -10, 50]
    body = {"inputs": {**base, "bbox": {"bbox": box, "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
            "outputs": {"result": {"transmissionMode": "reference"}}, "response": "document"}
    validate(body["inputs"]["bbox"], "processes-1.0/bbox.yaml")
    a = execute(client, "temporal-aggregate", body)
    b = execute(client, "temporal-aggregate", {**body, "inputs": {**base, "bbox": box}})
    assert a.status_code == b.status_code == 200
    da, db = (client.get(r.json()["result"]["href"]).content for r in (a, b))
    assert da == db and len(da) > 0


def test_conf_core_process_execute_input_inline_binary(client, procs):
    """/conf/core/process-execute-input-inline-binary: applies only to processes with binary inputs; none here has one."""
    for p in client.get("/processes", params={"limit": 10000}).json()["processes"]:
        for spec in client.get(f"/processes/{p['id']}").json()["inputs"].values():
            assert spec["schema"].get("contentEncoding") != "base64"
            assert spec["schema"].get("format") != "binary"


def test_conf_core_process_execute_input_validation(client, procs):
    """/conf/core/process-execute-input-validation: a value breaking the input's schema is a 400 naming the input."""
    for inputs, name in (({"n": "three"}, "n"), ({"n": 1, "words": "not-a-list"}, "words"), ({}, "n")):
        r = execute(client, "test-two-outputs", {"inputs": inputs})
        assert r.status_code == 400 and r.json()["parameter"] == name, r.text
        validate(r.json(), "processes-1.0/exception.yaml")


def test_conf_core_process_execute_default_execution_mode(client, procs):
    """/conf/core/process-execute-default-execution-mode: without Prefer, a sync-or-async process runs synchronously."""
    assert "sync-execute" in client.get("/processes/echo").json()["jobControlOptions"]
    r = execute(client, "echo", {"inputs": {"message": "m"}})
    assert r.status_code == 200 and r.text == "m"


def test_conf_core_process_execute_auto_execution_mode(client, procs):
    """/conf/core/process-execute-auto-execution-mode: Prefer: respond-async is honoured (201) and says so."""
    r = execute(client, "echo", {"inputs": {"message": "m"}}, prefer="respond-async")
    assert r.status_code == 201 and r.headers["preference-applied"] == "respond-async"


def test_conf_core_process_execute_default_outputs(client, procs):
    """/conf/core/process-execute-default-outputs: without `outputs`, every output of the description is returned."""
    doc = execute(client, "test-two-outputs", {"inputs": {"n": 6}, "response": "document"}).json()
    check(doc, "results.yaml")
    assert set(doc) == set(client.get("/processes/test-two-outputs").json()["outputs"])
    assert doc["square"] == 36


def test_conf_core_process_execute_success_async(client, procs):
    """/conf/core/process-execute-success-async: 201, Location of the new job, statusInfo.yaml."""
    r = execute(client, "echo", {"inputs": {"message": "a"}}, prefer="respond-async")
    assert r.status_code == 201
    validate(r.json(), "processes-1.0/statusInfo.yaml")
    assert r.headers["location"].endswith(f"/jobs/{r.json()['jobID']}")
    assert client.get(r.headers["location"]).json()["jobID"] == r.json()["jobID"]


def test_conf_core_process_execute_sync_document(client, procs):
    """/conf/core/process-execute-sync-document: response=document is 200 application/json per results.yaml."""
    r = execute(client, "echo", {"inputs": {"message": "d"}, "response": "document"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    check(r.json(), "results.yaml")
    assert r.json() == {"echo": "d"}


def test_conf_core_process_execute_sync_raw_value_one(client, procs):
    """/conf/core/process-execute-sync-raw-value-one: one output, raw, by value: 200 with the value in its media type."""
    r = execute(client, "test-two-outputs", {"inputs": {"n": 7}, "outputs": {"square": {"transmissionMode": "value"}},
                                             "response": "raw"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json") and r.json() == 49


def test_conf_core_process_execute_sync_raw_ref(client, procs):
    """/conf/core/process-execute-sync-raw-ref: one output, raw, by reference: 204 and a Link header to the output
    (Processes 1.0.0 table 10); the link resolves to the value."""
    r = execute(client, "test-two-outputs", {"inputs": {"n": 8}, "outputs": {"square": {"transmissionMode": "reference"}},
                                             "response": "raw"})
    assert r.status_code == 204 and r.content == b""
    href = [p.split(">")[0].strip().lstrip("<") for p in r.headers["link"].split(",") if 'rel="square"' in p][0]
    assert client.get(href).json() == 64


def test_conf_core_process_execute_sync_raw_value_multi(client, procs):
    """/conf/core/process-execute-sync-raw-value-multi: two outputs, sync: 200 application/json per results.yaml
    (/req/core/process-execute-sync-many-json)."""
    r = execute(client, "test-two-outputs", {"inputs": {"n": 9}, "response": "raw",
                                             "outputs": {"square": {"transmissionMode": "value"}, "text": {"transmissionMode": "value"}}})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    check(r.json(), "results.yaml")
    assert r.json() == {"square": 81, "text": "n is 9"}


def test_conf_core_process_execute_sync_raw_mixed_multi(client, procs):
    """/conf/core/process-execute-sync-raw-mixed-multi: one output by value, one by reference, in one results document."""
    r = execute(client, "test-two-outputs", {"inputs": {"n": 2}, "response": "raw",
                                             "outputs": {"square": {"transmissionMode": "reference"}, "text": {"transmissionMode": "value"}}})
    doc = r.json()
    check(doc, "results.yaml")
    validate(doc["square"], "processes-1.0/link.yaml")
    assert doc["text"] == "n is 2" and client.get(doc["square"]["href"]).json() == 4


# ------------------------------------------------------------------ jobs and results

def test_conf_core_job_results_sync(client, procs):
    """/conf/core/job-results-sync: a sync execution names its job in Link rel=monitor; that job is JSON statusInfo."""
    r = execute(client, "echo", {"inputs": {"message": "s"}})
    job = client.get(monitor(r))
    assert job.headers["content-type"].startswith("application/json")
    validate(job.json(), "processes-1.0/statusInfo.yaml")
    assert job.json()["status"] == "successful"


def test_conf_core_job_op(client, procs):
    """/conf/core/job-op: GET /jobs/{jobID} is supported."""
    r = execute(client, "echo", {"inputs": {"message": "j"}}, prefer="respond-async")
    assert client.get(f"/jobs/{r.json()['jobID']}").status_code == 200


def test_conf_core_job_success(client, procs):
    """/conf/core/job-success: 200 and statusInfo.yaml, through the job's life."""
    doc = async_job(client, "echo", {"inputs": {"message": "life"}})
    validate(doc, "processes-1.0/statusInfo.yaml")
    assert doc["status"] == "successful" and doc["progress"] == 100
    assert doc["created"] <= doc["started"] <= doc["finished"]


def test_conf_core_job_exception_no_such_job(client, procs):
    """/conf/core/job-exception-no-such-job: 404, exception.yaml, type no-such-job."""
    for path in ("/jobs/0123456789abcdef", "/jobs/0123456789abcdef/results"):
        r = client.get(path)
        assert r.status_code == 404 and r.json()["type"] == EXC + "no-such-job", path
        validate(r.json(), "processes-1.0/exception.yaml")


def test_conf_core_job_results(client, procs):
    """/conf/core/job-results: GET /jobs/{jobID}/results of a finished job is 200 per results.yaml."""
    doc = async_job(client, "test-two-outputs", {"inputs": {"n": 11}})
    r = client.get(f"/jobs/{doc['jobID']}/results")
    assert r.status_code == 200
    check(r.json(), "results.yaml")


def test_conf_core_job_results_async_document(client, procs):
    """/conf/core/job-results-async-document: async, response=document: the results document holds every output."""
    doc = async_job(client, "test-two-outputs", {"inputs": {"n": 12}, "response": "document"})
    res = client.get(f"/jobs/{doc['jobID']}/results").json()
    check(res, "results.yaml")
    assert res == {"square": 144, "text": "n is 12"}


def test_conf_core_job_results_async_raw_value_one(client, procs):
    """/conf/core/job-results-async-raw-value-one: the one output from /jobs/{jobID}/results/{outputID}, as itself."""
    doc = async_job(client, "echo", {"inputs": {"message": "raw one"}, "response": "raw"})
    r = client.get(f"/jobs/{doc['jobID']}/results/echo")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain") and r.text == "raw one"


def test_conf_core_job_results_async_raw_value_multi(client, procs):
    """/conf/core/job-results-async-raw-value-multi: two outputs by value: /results is JSON per results.yaml."""
    doc = async_job(client, "test-two-outputs", {"inputs": {"n": 13}, "response": "raw",
                                                 "outputs": {"square": {"transmissionMode": "value"}, "text": {"transmissionMode": "value"}}})
    res = client.get(f"/jobs/{doc['jobID']}/results")
    assert res.headers["content-type"].startswith("application/json")
    check(res.json(), "results.yaml")
    assert res.json() == {"square": 169, "text": "n is 13"}


def test_conf_core_job_results_async_raw_mixed_multi(client, procs):
    """/conf/core/job-results-async-raw-mixed-multi: a value and a reference; the reference resolves to the value."""
    doc = async_job(client, "test-two-outputs", {"inputs": {"n": 14}, "response": "raw",
                                                 "outputs": {"square": {"transmissionMode": "value"}, "text": {"transmissionMode": "reference"}}})
    res = client.get(f"/jobs/{doc['jobID']}/results").json()
    check(res, "results.yaml")
    assert res["square"] == 196 and client.get(res["text"]["href"]).text == "n is 14"


def test_conf_core_job_results_async_raw_ref(client, procs):
    """/conf/core/job-results-async-raw-ref: by reference: a link per output that resolves to the output."""
    doc = async_job(client, "test-two-outputs", {"inputs": {"n": 15}, "response": "raw",
                                                 "outputs": {"square": {"transmissionMode": "reference"}}})
    res = client.get(f"/jobs/{doc['jobID']}/results").json()
    validate(res["square"], "processes-1.0/link.yaml")
    assert client.get(res["square"]["href"]).json() == 225


def test_conf_core_job_results_failed(client, procs):
    """/conf/core/job-results-failed: a failed job's results answer its failure (here a server error) per exception.yaml;
    a failure caused by a bad input replays that input's 400."""
    doc = async_job(client, "test-fail", {"inputs": {}})
    assert doc["status"] == "failed"
    r = client.get(f"/jobs/{doc['jobID']}/results")
    assert r.status_code == 500
    validate(r.json(), "processes-1.0/exception.yaml")
    assert "Traceback" not in r.text and "/" not in r.json()["detail"].replace("N/A", "")


def test_conf_core_job_results_exception_results_not_ready(client, procs, tmp_path):
    """/conf/core/job-results-exception-results-not-ready: 404 of type result-not-ready while the job runs."""
    release = tmp_path / "release"
    r = execute(client, "test-block", {"inputs": {"release": str(release)}}, prefer="respond-async")
    job = r.json()["jobID"]
    try:
        end = time.monotonic() + 60
        while not Path(str(release) + ".started").exists() and time.monotonic() < end:
            time.sleep(0.05)
        r = client.get(f"/jobs/{job}/results")
        assert r.status_code == 404 and r.json()["type"] == EXC + "result-not-ready"
        validate(r.json(), "processes-1.0/exception.yaml")
    finally:
        release.touch()
    assert wait_job(client.get, f"/jobs/{job}")["status"] == "successful"


# ------------------------------------------------------------------ dismiss

def test_conf_dismiss_job_dismiss_op(client, procs):
    """/conf/dismiss/job-dismiss-op: DELETE /jobs/{jobID} is supported."""
    doc = async_job(client, "echo", {"inputs": {"message": "bye"}})
    assert client.delete(f"/jobs/{doc['jobID']}").status_code == 200


def test_conf_dismiss_job_dismiss_success(client, procs, tmp_path):
    """/conf/dismiss/job-dismiss-success: 200, statusInfo.yaml, status dismissed; a running job stops, its results go."""
    release = tmp_path / "never"
    r = execute(client, "test-block", {"inputs": {"release": str(release)}}, prefer="respond-async")
    job = r.json()["jobID"]
    d = client.delete(f"/jobs/{job}")
    assert d.status_code == 200
    validate(d.json(), "processes-1.0/statusInfo.yaml")
    assert d.json()["status"] == "dismissed"
    assert client.get(f"/jobs/{job}").json()["status"] == "dismissed"
    assert client.get(f"/jobs/{job}/results").status_code == 404
    release.touch()


# ------------------------------------------------------------------ callback (not offered)

def test_conf_callback_job_callback(client, procs):
    """/conf/callback/job-callback: not declared (the server would have to call client-chosen URLs); a request asking
    for callbacks is refused with a 400 naming `subscriber` rather than silently never called back."""
    assert "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/callback" not in client.get("/conformance").json()["conformsTo"]
    r = execute(client, "echo", {"inputs": {"message": "cb"}, "subscriber": {"successUrl": "http://example.com/done"}})
    assert r.status_code == 400 and r.json()["parameter"] == "subscriber"
