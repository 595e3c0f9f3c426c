"""OGC API Common over HTTP: landing, conformance, collections, OpenAPI, negotiation, errors."""

import pytest
import requests

from cubeserver.axes import CRS84_URI

GRIDDED = ["coads", "eraint", "mur-sst", "cmip5-pr", "basin-mask", "landsat-rgb", "cogeo", "shade"]


def test_landing_page_links(client):
    r = client.get("/", headers={"accept": "application/json"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    rels = {link["rel"]: link for link in r.json()["links"]}
    for rel in ("self", "alternate", "service-desc", "service-doc", "conformance", "data"):
        assert rel in rels, rel
    assert client.get(rels["service-desc"]["href"]).json()["openapi"].startswith("3.")
    assert client.get(rels["conformance"]["href"]).status_code == 200
    assert client.get(rels["service-doc"]["href"]).status_code == 200


def test_conformance_lists_common_classes(client):
    classes = client.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core" in classes
    assert len(classes) == len(set(classes))


def test_collections_list_every_bundled_dataset_with_extents(client, config):
    doc = client.get("/collections?f=json").json()
    ids = [c["id"] for c in doc["collections"]]
    # configured collections first, in config order (job outputs may follow as temporary collections)
    assert ids[: len(config.collections)] == list(config.collections)
    by_id = {c["id"]: c for c in doc["collections"]}
    assert by_id["coads"]["extent"]["spatial"]["bbox"] == [[-180.0, -90.0, 180.0, 90.0]]
    assert by_id["coads"]["extent"]["spatial"]["crs"] == CRS84_URI
    assert by_id["coads"]["extent"]["temporal"]["interval"] == [["2000-01-16T06:00:00Z", "2000-12-16T01:20:05Z"]]
    assert by_id["cmip5-pr"]["extent"]["temporal"]["calendar"] == "noleap"
    assert by_id["eraint"]["extent"]["vertical"]["values"] == ["200", "500", "850"]
    assert by_id["basin-mask"]["extent"]["spatial"]["bbox"] == [[-180.0, -90.0, 180.0, 90.0]]
    utm = by_id["landsat-rgb"]
    assert utm["extent"]["spatial"]["native"]["crs"].endswith("/EPSG/0/32618")
    lon0, lat0, lon1, lat1 = utm["extent"]["spatial"]["bbox"][0]
    assert -79 < lon0 < lon1 < -76 and 23 < lat0 < lat1 < 26
    assert "http://www.opengis.net/def/crs/EPSG/0/32618" in utm["crs"]


@pytest.mark.parametrize("cid", GRIDDED + ["places"])
def test_collection_json_and_html(client, cid):
    doc = client.get(f"/collections/{cid}?f=json").json()
    assert doc["id"] == cid and any(link["rel"] == "self" for link in doc["links"])
    page = client.get(f"/collections/{cid}", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert doc["title"] in page.text and "/collections?f=html" in page.text


@pytest.mark.parametrize("path", ["/", "/conformance", "/collections"])
def test_html_pages_link_back(client, path):
    page = client.get(path + "?f=HTML")
    assert page.status_code == 200 and "<html" in page.text and 'href="http://testserver/collections?f=html"' in page.text


def test_accept_negotiation(client):
    assert client.get("/collections", headers={"accept": "*/*"}).headers["content-type"].startswith("application/json")
    r = client.get("/collections", headers={"accept": "image/png"})
    assert r.status_code == 406 and r.json()["status"] == 406


@pytest.mark.parametrize(
    "path, status, words",
    [
        ("/collections/nope", 404, ["nope"]),
        ("/collections?f=xml", 400, ["f=", "json", "html"]),
        ("/no/such/path", 404, ["/no/such/path"]),
    ],
)
def test_errors_are_ogc_exceptions(client, path, status, words):
    r = client.get(path)
    body = r.json()
    assert r.status_code == status and body["status"] == status
    assert set(body) >= {"type", "title", "status", "detail"}
    assert all(w in body["detail"] for w in words)


def test_openapi_is_valid(client):
    from openapi_spec_validator import OpenAPIV30SpecValidator

    spec = client.get("/openapi").json()
    assert spec["openapi"].startswith("3.0.")  # the conformance classes say oas30
    OpenAPIV30SpecValidator(spec).validate()
    assert client.get("/openapi.json").json() == spec  # what /docs shows is the same document
    assert "/collections/{collectionId}" in spec["paths"]
    params = {p["name"] for p in spec["paths"]["/collections"]["get"]["parameters"]}
    assert "f" in params


def test_oas30_translates_json_schema_2020_12():
    from cubeserver.common.oas30 import downgrade

    spec = {"openapi": "3.1.0", "info": {"title": "t", "version": "1", "summary": "s"}, "paths": {},
            "components": {"schemas": {"M": {"type": "object", "properties": {
                "a": {"anyOf": [{"type": "integer", "exclusiveMinimum": 0}, {"type": "null"}], "title": "A"},
                "b": {"const": "x"}, "c": {"type": ["string", "null"], "examples": ["e1", "e2"]},
                "d": {"type": "string", "contentMediaType": "application/octet-stream"},
                "e": {"oneOf": [{"type": "string"}, {"type": "number"}, {"type": "null"}]}}}}}}
    props = downgrade(spec)["components"]["schemas"]["M"]["properties"]
    assert props["a"] == {"type": "integer", "minimum": 0, "exclusiveMinimum": True, "nullable": True, "title": "A"}
    assert props["b"] == {"enum": ["x"]}
    assert props["c"] == {"type": "string", "nullable": True, "example": "e1"}
    assert props["d"] == {"type": "string", "format": "binary"}
    assert props["e"] == {"oneOf": [{"type": "string"}, {"type": "number"}], "nullable": True}
    assert spec["openapi"] == "3.1.0" and "summary" in spec["info"]  # the input is not modified


def test_internal_errors_hide_tracebacks(app):
    from fastapi.testclient import TestClient

    client = TestClient(app, raise_server_exceptions=False)

    @app.get("/_boom", include_in_schema=False)
    def boom():
        raise RuntimeError("/secret/server/path exploded")

    try:
        r = client.get("/_boom")
        assert r.status_code == 500
        assert "secret" not in r.text and "Traceback" not in r.text
        assert r.json()["title"] == "Internal Server Error"
    finally:
        app.router.routes[:] = [rt for rt in app.router.routes if getattr(rt, "path", "") != "/_boom"]


def test_real_cli_server_over_http(live_server):
    r = requests.get(f"{live_server}/collections?f=json", timeout=30)
    assert r.status_code == 200
    ids = {c["id"] for c in r.json()["collections"]}
    assert set(GRIDDED) <= ids
    assert requests.get(f"{live_server}/", headers={"accept": "text/html"}, timeout=30).text.startswith("<!doctype html>")


def test_errors_carry_the_edr_and_features_exception_members(client):
    """EDR 1.1 / Features 1.0 exception.yaml require `code` (string); `description` is the text."""
    for url in ("/collections/coads/position?coords=POINT(500%2038.6)", "/collections/nope", "/collections/places/items/nope"):
        body = client.get(url).json()
        assert isinstance(body["code"], str) and body["code"], body
        assert body["description"] == body["detail"]
        assert body["type"].endswith("/" + body["code"])
