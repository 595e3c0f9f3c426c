"""The OpenAPI document tells the truth: it is valid OpenAPI 3.0, and real answers (good and bad
requests on every operation, tests/conformance/sample_calls.py) have a documented status, a
documented media type, and a body that validates against the documented schema.

OGC requirements: API Common / Features /req/oas30/oas-definition-1 and -2 (an OpenAPI 3.0 document
at the service-desc link, as application/vnd.oai.openapi+json;version=3.0), /req/oas30/completeness
(every status code, media type and parameter an operation can give is in the document),
/req/oas30/exceptions-codes (every error status has its exception body documented).
"""

from __future__ import annotations

import time

import pytest
from openapi_spec_validator import validate as validate_spec

from cubeserver.edr.output import FORMATS as EDR_FORMATS
from cubeserver.coverages.render import FORMAT_KEYS
from cubeserver.negotiate import FORMATS
from tests.conformance.openapi_check import Checker, media
from tests.conformance.sample_calls import CALLS

METHODS = ("get", "post", "delete", "put", "patch")


@pytest.fixture(scope="module")
def doc(client):
    r = client.get("/openapi")
    assert r.status_code == 200
    return r.json()


@pytest.fixture(scope="module")
def job(client):
    """A finished job of the echo process (its status, results and output are sampled)."""
    r = client.post("/processes/echo/execution", json={"inputs": {"message": "hello"}},
                    headers={"Prefer": "respond-async"})
    assert r.status_code == 201, r.text
    job_id = r.json()["jobID"]
    for _ in range(200):
        if client.get(f"/jobs/{job_id}").json()["status"] in ("successful", "failed"):
            break
        time.sleep(0.05)
    return job_id


def operations(doc):
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def test_req_oas30_oas_definition_1(client):
    """/req/oas30/oas-definition-1: the service-desc link gives an OpenAPI 3.0 JSON document."""
    landing = client.get("/").json()
    desc = [lk for lk in landing["links"] if lk["rel"] == "service-desc"]
    assert desc and desc[0]["type"] == FORMATS["openapi"].media_type
    r = client.get("/openapi")
    assert r.headers["content-type"] == FORMATS["openapi"].media_type
    assert r.json()["openapi"].startswith("3.0.")
    assert "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/oas30" in client.get("/conformance").json()["conformsTo"]
    html = client.get("/openapi?f=html", follow_redirects=False)
    assert html.status_code == 307 and html.headers["location"].endswith("/docs")


def test_req_oas30_oas_definition_2(doc):
    """/req/oas30/oas-definition-2: the document is valid OpenAPI 3.0 (openapi-spec-validator)."""
    validate_spec(doc)


def test_no_invented_422_and_every_error_has_the_exception_schema(doc):
    """/req/oas30/exceptions-codes: the server never answers 422 (validation errors are 400s); every
    4xx/5xx documented carries the exception schema, which includes the EDR/Features `code`."""
    checker = Checker(doc)
    for path, method, op in operations(doc):
        assert "422" not in op["responses"], f"{method} {path}"
        for status in op["responses"]:
            if status[0] in "45" and not (path.endswith("/ready") and status == "503"):
                schema = checker.response(op, int(status))["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Exception"}, f"{method} {path} {status}"
    exc = doc["components"]["schemas"]["Exception"]
    assert {"type", "title", "status", "detail", "code"} <= set(exc["required"])


def test_every_route_has_its_answers_documented(app, doc):
    """Every route the app serves is in the document, each with a success status and 4xx statuses."""
    served = {(m.lower(), r.path.replace("{key:path}", "{key}")) for r in app.routes
              if getattr(r, "include_in_schema", False) for m in getattr(r, "methods", ()) if m != "HEAD"}
    documented = {(m, p) for p, m, _ in operations(doc)}
    assert served <= documented, served - documented
    for path, method, op in operations(doc):
        codes = set(op["responses"])
        assert codes & {"200", "201", "204"}, f"{method} {path}"
        assert {"400", "414", "500"} <= codes, f"{method} {path}: {sorted(codes)}"


def test_media_types_are_those_of_the_negotiation_tables(doc):
    """Each EDR query and the coverage document every format their tables can produce, and `f`
    lists those formats (EDR 1.1 /req/core/... output formats; the same tables choose the answer)."""
    for qtype in ("position", "area", "cube", "radius", "trajectory", "corridor"):
        op = doc["paths"][f"/collections/{{collectionId}}/{qtype}"]["get"]
        # plus the HTML page drawing the answer (cubeserver.viewer, issue 14)
        assert set(op["responses"]["200"]["content"]) == {FORMATS[k].media_type for k in [*EDR_FORMATS[qtype], "html"]}
        f_enum = next(p for p in op["parameters"] if p["name"] == "f")["schema"]["enum"]
        assert set(EDR_FORMATS[qtype]) <= set(f_enum)
    cov = doc["paths"]["/collections/{collectionId}/coverage"]["get"]
    assert set(cov["responses"]["200"]["content"]) == {FORMATS[k].media_type for k in FORMAT_KEYS}
    assert cov["responses"]["200"]["content"]["application/prs.coverage+json"]["schema"] == \
        {"$ref": "#/components/schemas/edr.covjson.coverageJSON"}


def test_collection_paths_declare_their_dimensions_and_variables(doc, client):
    """Per-collection entries: eraint's extra dimension `month` is a documented parameter;
    parameter-name lists the collection's variables; no `z` where there is no vertical axis."""
    era = {p["name"]: p for p in doc["paths"]["/collections/eraint/position"]["get"]["parameters"]}
    assert "month" in era and "collectionId" not in era
    names = client.get("/collections/eraint").json()["parameter_names"]
    assert set(era["parameter-name"]["schema"]["items"]["enum"]) == set(names)
    coads = {p["name"] for p in doc["paths"]["/collections/coads/cube"]["get"]["parameters"]}
    assert "z" not in coads and "month" not in coads and "datetime" in coads
    assert "z" in {p["name"] for p in doc["paths"]["/collections/eraint/cube"]["get"]["parameters"]}


def test_parameters_have_their_real_types(doc):
    """`f` is an enum per operation, bbox has the shape of 4 or 6 numbers, limits are bounded integers,
    no query parameter is `nullable` (a parameter is sent or absent)."""
    items = {p["name"]: p["schema"] for p in doc["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]}
    assert items["limit"]["type"] == "integer" and items["limit"]["minimum"] == 1
    assert set(items["f"]["enum"]) >= {"geojson", "html", "json"}
    import re
    bbox = re.compile(items["bbox"]["pattern"])
    assert bbox.match("-10,35,30,60") and bbox.match("1,2,3,4,5,6.5") and not bbox.match("1,2,3")
    for path, method, op in operations(doc):
        for p in op.get("parameters", []):
            assert not p.get("schema", {}).get("nullable"), f"{method} {path} {p['name']}"


def test_sample_calls_answer_as_documented(client, doc, job):
    """/req/oas30/completeness: every sampled answer (good and bad requests on every operation) has
    a documented status and media type, and its JSON body validates against the documented schema."""
    from cubeserver.openapi import template_of

    checker = Checker(doc)
    ids = {c["id"] for c in client.get("/collections").json()["collections"]}
    problems, covered = [], set()
    calls = [(m, p.replace("{job}", job), h, b) for m, p, h, b in CALLS]
    for method, path, headers, body in calls:
        r = client.request(method, path, headers=headers, json=body)
        found = checker.operation(method, path.split("?")[0])
        covered.add((method.lower(), template_of(found[0], ids)) if found else None)
        problems += checker.problems(method, path.split("?")[0], r.status_code, r.headers.get("content-type"), r.content)
    etag = client.get("/collections/coads").headers["etag"]
    r = client.get("/collections/coads", headers={"If-None-Match": etag})
    assert r.status_code == 304
    problems += checker.problems("GET", "/collections/coads", 304, None, r.content)
    assert not problems, f"{len(problems)} answer(s) not as documented:\n" + "\n".join(problems)
    generic = {(m, p) for p, m, _ in operations(doc) if template_of(p, ids) == p}
    missing = generic - covered - {("get", "/health"), ("get", "/ready"), ("get", "/metrics")}
    assert not missing, f"operations without a sampled call: {sorted(missing)}"


def test_status_and_media_of_bad_requests(client, doc):
    """Bad inputs answer with documented 4xx statuses and the exception media type."""
    checker = Checker(doc)
    for path, status in [("/collections/coads/position?coords=POINT(-30 10)&f=xml", 400),
                         ("/collections/nope/cube?bbox=1,2,3,4", 404), ("/jobs/nope", 404)]:
        r = client.get(path)
        assert r.status_code == status
        assert media(r.headers["content-type"]) == "application/json"
        assert not checker.problems("GET", path.split("?")[0], r.status_code, r.headers["content-type"], r.content)


def test_bundled_official_schemas_are_those_vendored():
    """cubeserver/openapi/official_schemas.json is what tools/bundle_openapi_schemas.py makes from
    tests/conformance/schemas (re-run the tool after updating the vendored schemas)."""
    import json
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("bundle", root / "tools" / "bundle_openapi_schemas.py")
    bundle = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bundle)
    stored = json.loads((root / "cubeserver" / "openapi" / "official_schemas.json").read_text())
    assert stored == json.loads(json.dumps(bundle.bundle()))
    assert stored["x-licences"] and all("OGC" in text or "Open Geospatial" in text for text in stored["x-licences"].values())
