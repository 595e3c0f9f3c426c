"""OGC API - Processes 1.0 Part 1 abstract test suite (branch 1.0.0-maintenance, core/abstract_tests):
landing page, conformance, API definition, process list and description, OGC process description,
JSON, HTML and OpenAPI 3.0 classes. One test per abstract test id checkable over HTTP; every JSON
answer is validated against the official schemas in schemas/processes-1.0.

Execution, jobs, results, job list and dismiss are in test_processes_jobs.py.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conformance.official import validate

CONF = "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/"
EXC = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/"
DECLARED = ["core", "ogc-process-description", "json", "html", "oas30", "job-list", "dismiss"]


def _links(doc, rel):
    return [lk for lk in doc["links"] if lk["rel"] == rel]


@pytest.fixture(scope="module")
def oas(client):
    href = _links(client.get("/").json(), "service-desc")[0]["href"]
    r = client.get(href)
    assert r.status_code == 200
    return r.json()


@pytest.fixture(scope="module")
def process_ids(client):
    return [p["id"] for p in client.get("/processes", params={"limit": 10000}).json()["processes"]]


@pytest.fixture(scope="module")
def described_ids(process_ids):
    """The processes whose descriptions the tests below fetch and validate: every hand-written one and a
    spread of the ~340 generated xclim ones (the first of each group and every 20th). Validating a
    description against process.yaml costs ~1.4 s here; tests/processes/test_xclim_describe.py validates
    every generated description, part by part."""
    xclim = [p for p in process_ids if p.startswith("xclim.")]
    firsts = {p.split(".")[1]: p for p in reversed(xclim)}.values()
    return [p for p in process_ids if not p.startswith("xclim.")] + sorted(set(firsts) | set(xclim[::20]))


# ------------------------------------------------------------------ core: landing, conformance, API

def test_conf_core_landingpage_op(client):
    """/conf/core/landingpage-op: GET / is supported."""
    assert client.get("/").status_code == 200


def test_conf_core_landingpage_success(client):
    """/conf/core/landingpage-success: 200, landingPage.yaml, links to the API definition, conformance, processes, jobs."""
    r = client.get("/")
    doc = r.json()
    validate(doc, "processes-1.0/landingPage.yaml")
    rels = {lk["rel"] for lk in doc["links"]}
    assert {"self", "service-desc", "conformance", "http://www.opengis.net/def/rel/ogc/1.0/processes",
            "http://www.opengis.net/def/rel/ogc/1.0/job-list"} <= rels


def test_conf_core_api_definition_op(client):
    """/conf/core/api-definition-op: the service-desc link of the landing page can be fetched."""
    href = _links(client.get("/").json(), "service-desc")[0]["href"]
    assert client.get(href).status_code == 200


def test_conf_core_api_definition_success(client, oas):
    """/conf/core/api-definition-success: the API definition is an OpenAPI 3.0 document."""
    assert str(oas["openapi"]).startswith("3.0")
    assert "/processes" in oas["paths"]


def test_conf_core_conformance_op(client):
    """/conf/core/conformance-op: GET /conformance is supported."""
    assert client.get("/conformance").status_code == 200


def test_conf_core_conformance_success(client):
    """/conf/core/conformance-success: confClasses.yaml; every class this server implements is listed, callback is not."""
    doc = client.get("/conformance").json()
    validate(doc, "processes-1.0/confClasses.yaml")
    for c in DECLARED:
        assert CONF + c in doc["conformsTo"]
    assert CONF + "callback" not in doc["conformsTo"]


def test_conf_core_http(client):
    """/conf/core/http: HTTP 1.1 semantics: HEAD answers like GET without a body, unknown paths are 404."""
    get, head = client.get("/processes"), client.head("/processes")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert client.get("/processes/echo/nope").status_code == 404


# ------------------------------------------------------------------ process list

def test_conf_core_process_list(client):
    """/conf/core/process-list: GET /processes is supported."""
    assert client.get("/processes").status_code == 200


def test_conf_core_process_list_success(client):
    """/conf/core/process-list-success: 200 and processList.yaml, each summary processSummary.yaml."""
    r = client.get("/processes")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    doc = r.json()
    validate(doc, "processes-1.0/processList.yaml")
    for summary in doc["processes"]:
        validate(summary, "processes-1.0/processSummary.yaml")


def test_conf_core_pl_limit_definition(oas):
    """/conf/core/pl-limit-definition: `limit` is an optional integer query parameter, minimum 1, with a default."""
    (p,) = [p for p in oas["paths"]["/processes"]["get"]["parameters"] if p["name"] == "limit"]
    assert p["in"] == "query" and not p.get("required", False)
    assert p["schema"]["type"] == "integer" and p["schema"]["minimum"] == 1
    assert 1 <= p["schema"]["default"] <= p["schema"]["maximum"]


def test_conf_core_pl_limit_response(client, oas, process_ids):
    """/conf/core/pl-limit-response: never more summaries than `limit` (or the declared maximum); bad limits are 400."""
    assert len(process_ids) >= 3
    for limit in (1, 2, len(process_ids) - 1):
        assert len(client.get("/processes", params={"limit": limit}).json()["processes"]) == limit
    (p,) = [p for p in oas["paths"]["/processes"]["get"]["parameters"] if p["name"] == "limit"]
    assert client.get("/processes", params={"limit": p["schema"]["maximum"]}).status_code == 200
    big = client.get("/processes", params={"limit": p["schema"]["maximum"] + 1})  # over the declared maximum
    assert big.status_code == 400 and big.json()["parameter"] == "limit"
    for bad in ("0", "-1", "ten", "1.5"):
        r = client.get("/processes", params={"limit": bad})
        assert r.status_code == 400 and r.json()["parameter"] == "limit", bad


def test_conf_core_pl_links(client, process_ids):
    """/conf/core/pl-links: self and an alternate per other media type (HTML); next/prev pages cover the list once."""
    doc = client.get("/processes", params={"limit": 2}).json()
    assert _links(doc, "self") and _links(doc, "alternate")[0]["type"] == "text/html"
    assert client.get(_links(doc, "alternate")[0]["href"]).headers["content-type"].startswith("text/html")
    seen, page = [], doc
    while True:
        seen += [p["id"] for p in page["processes"]]
        nxt = _links(page, "next")
        if not nxt:
            break
        page = client.get(nxt[0]["href"]).json()
        assert _links(page, "prev")
        assert len(seen) <= len(process_ids)
    assert seen == process_ids
    back = parse_qs(urlsplit(_links(page, "prev")[0]["href"]).query)
    assert int(back["limit"][0]) == 2


# ------------------------------------------------------------------ process description

def test_conf_core_process_description(client, process_ids):
    """/conf/core/process-description: GET /processes/{processID} for every listed process."""
    for pid in process_ids:
        assert client.get(f"/processes/{pid}").status_code == 200, pid


def test_conf_core_process_description_success(client, described_ids):
    """/conf/core/process-description-success: 200 and a process description (process.yaml)."""
    for pid in described_ids:
        validate(client.get(f"/processes/{pid}").json(), "processes-1.0/process.yaml")


def test_conf_core_process_exception_no_such_process(client):
    """/conf/core/process-exception-no-such-process: 404, exception.yaml, type no-such-process."""
    r = client.get("/processes/no-such-process-here")
    assert r.status_code == 404
    validate(r.json(), "processes-1.0/exception.yaml")
    assert r.json()["type"] == EXC + "no-such-process"
    r = client.post("/processes/no-such-process-here/execution", json={"inputs": {}})
    assert r.status_code == 404 and r.json()["type"] == EXC + "no-such-process"


# ------------------------------------------------------------------ OGC process description

def test_conf_ogc_process_description_json_encoding(client, described_ids):
    """/conf/ogc-process-description/json-encoding: descriptions are JSON per process.yaml."""
    for pid in described_ids:
        r = client.get(f"/processes/{pid}")
        assert r.headers["content-type"].startswith("application/json")
        validate(r.json(), "processes-1.0/process.yaml")


def _descriptions(client, described_ids, member: str):
    """(process id, its `inputs` or `outputs` member) of every process description."""
    return [(pid, client.get(f"/processes/{pid}").json()[member]) for pid in described_ids]


def _schemas(client, described_ids, member: str):
    """(process id, input/output id, its description) of every input or output of every process."""
    return [(pid, key, spec) for pid, specs in _descriptions(client, described_ids, member) for key, spec in specs.items()]


def _check_keyed_by_id(client, described_ids, member: str) -> None:
    for pid, specs in _descriptions(client, described_ids, member):
        assert isinstance(specs, dict) and specs, pid


def test_conf_ogc_process_description_inputs_def(client, described_ids):
    """/conf/ogc-process-description/inputs-def: `inputs` is an object keyed by input id."""
    _check_keyed_by_id(client, described_ids, "inputs")


def test_conf_ogc_process_description_input_def(client, described_ids):
    """/conf/ogc-process-description/input-def: each input has a JSON Schema and min/maxOccurs that make sense."""
    from jsonschema import Draft7Validator

    for pid, iid, spec in _schemas(client, described_ids, "inputs"):
        Draft7Validator.check_schema(spec["schema"])
        assert 0 <= spec.get("minOccurs", 1) <= (spec.get("maxOccurs", 1) if spec.get("maxOccurs") != "unbounded"
                                                   else 10**9), (pid, iid)


def test_conf_ogc_process_description_input_mixed_type(client, described_ids):
    """/conf/ogc-process-description/input-mixed-type: inputs offering several forms use oneOf with valid branches."""
    from jsonschema import Draft7Validator

    mixed = [spec for _, _, spec in _schemas(client, described_ids, "inputs") if "oneOf" in spec["schema"]]
    for spec in mixed:
        for branch in spec["schema"]["oneOf"]:
            Draft7Validator.check_schema(branch)
    assert mixed


def test_conf_ogc_process_description_outputs_def(client, described_ids):
    """/conf/ogc-process-description/outputs-def: `outputs` is an object keyed by output id."""
    _check_keyed_by_id(client, described_ids, "outputs")


def test_conf_ogc_process_description_output_def(client, described_ids):
    """/conf/ogc-process-description/output-def: each output has a JSON Schema."""
    from jsonschema import Draft7Validator

    for _, _, spec in _schemas(client, described_ids, "outputs"):
        Draft7Validator.check_schema(spec["schema"])


def test_conf_ogc_process_description_output_mixed_type(client, described_ids):
    """/conf/ogc-process-description/output-mixed-type: several formats of one output are listed, the default first,
    and executing without a format returns the first one."""
    doc = client.get("/processes/echo").json()
    assert doc["outputs"]["echo"]["formats"][0] == "text/plain"
    r = client.post("/processes/echo/execution", json={"inputs": {"message": "x"}})
    assert r.headers["content-type"].startswith("text/plain")
    r = client.post("/processes/echo/execution",
                    json={"inputs": {"message": "x"}, "outputs": {"echo": {"format": {"mediaType": "application/json"}}}})
    assert r.headers["content-type"].startswith("application/json") and r.json() == "x"


# ------------------------------------------------------------------ JSON, HTML

def test_conf_json_definition(client):
    """/conf/json/definition: every Processes resource is available as application/json."""
    for path in ("/processes", "/processes/echo", "/jobs", "/conformance", "/"):
        r = client.get(path, headers={"Accept": "application/json"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json"), path


def test_conf_html_definition(client):
    """/conf/html/definition: every Processes resource is available as text/html."""
    for path in ("/processes", "/processes/echo", "/jobs", "/conformance", "/"):
        r = client.get(path, headers={"Accept": "text/html"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path


def test_conf_html_content(client, described_ids):
    """/conf/html/content: the HTML page holds the content of the JSON one (every process id and title)."""
    page = client.get("/processes", params={"f": "html", "limit": 10000}).text
    for p in client.get("/processes", params={"limit": 10000}).json()["processes"]:
        assert p["id"] in page and p["title"] in page


# ------------------------------------------------------------------ OpenAPI 3.0

PATHS = {"/processes": "get", "/processes/{processId}": "get", "/processes/{processId}/execution": "post",
         "/jobs": "get", "/jobs/{jobId}": "get", "/jobs/{jobId}/results": "get"}


def test_conf_oas30_completeness(oas):
    """/conf/oas30/completeness: every Processes resource and method is in the OpenAPI document."""
    for path, method in {**PATHS, "/jobs/{jobId}": "delete"}.items():
        assert method in oas["paths"][path], (path, method)


def test_conf_oas30_oas_definition_1(client):
    """/conf/oas30/oas-definition-1: the API definition is served as OpenAPI 3.0 JSON."""
    link = _links(client.get("/").json(), "service-desc")[0]
    assert link["type"].startswith("application/vnd.oai.openapi+json")
    assert client.get(link["href"]).json()["openapi"].startswith("3.0")


def test_conf_oas30_oas_definition_2(client):
    """/conf/oas30/oas-definition-2: the HTML API documentation (service-doc) is served."""
    link = _links(client.get("/").json(), "service-doc")[0]
    assert client.get(link["href"]).headers["content-type"].startswith("text/html")


def test_conf_oas30_oas_impl(client, oas):
    """/conf/oas30/oas-impl: the documented operations answer (sample GETs, one execution)."""
    for path in ("/processes", "/processes/echo", "/jobs"):
        assert client.get(path).status_code == 200
    assert client.post("/processes/echo/execution", json={"inputs": {"message": "m"}}).status_code == 200


def test_conf_oas30_exceptions_codes(oas):
    """/conf/oas30/exceptions-codes: the execution operation documents the statuses it sends (200/201/204/400/404)."""
    documented = set(oas["paths"]["/processes/{processId}/execution"]["post"]["responses"])
    assert {"200", "201", "204", "400", "404"} <= documented


def test_conf_oas30_security(oas):
    """/conf/oas30/security: no security scheme is required (the server is open); none is declared, none enforced."""
    assert not oas.get("security")
