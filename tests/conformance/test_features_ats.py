"""OGC API - Features 1.0.1 Part 1 abstract test suite (core/standard/abstract_tests at tag 1.0.1):
core, GeoJSON, HTML and OpenAPI 3.0, one test per abstract test id checkable over HTTP.

Answers are validated against the official schemas (schemas/features-1.0.1) and compared with the
bundled GeoJSON files read with shapely (tests/features/conftest.py), never with our own code.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import shapely

from tests.conftest import client_for
from tests.conformance.official import errors, validate
from tests.features.conftest import lakes_truth, places_truth  # noqa: F401 - fixtures

CONF = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
GEOJSON = "application/geo+json"


@pytest.fixture(scope="module")
def feature_collections(client):
    return [c for c in client.get("/collections").json()["collections"] if c.get("itemType") == "feature"]


def _rels(doc):
    return {lk["rel"]: lk for lk in doc["links"]}


# ------------------------------------------------------------------ landing, API, conformance

def test_conf_core_root_op(client):
    """/conf/core/root-op: GET / is supported."""
    assert client.get("/").status_code == 200


def test_conf_core_root_success(client):
    """/conf/core/root-success: landingPage.yaml with self, service-desc, conformance and data links."""
    doc = client.get("/").json()
    validate(doc, "features-1.0.1/landingPage.yaml")
    assert {"self", "service-desc", "conformance", "data"} <= set(_rels(doc))


def test_conf_core_api_definition_op(client):
    """/conf/core/api-definition-op: the service-desc link resolves."""
    assert client.get(_rels(client.get("/").json())["service-desc"]["href"]).status_code == 200


def test_conf_core_api_definition_success(client):
    """/conf/core/api-definition-success: an OpenAPI 3.0 document listing the items and item paths."""
    oas = client.get(_rels(client.get("/").json())["service-desc"]["href"]).json()
    assert oas["openapi"].startswith("3.0")
    assert any(p.endswith("/items") for p in oas["paths"]) and any(p.endswith("/items/{featureId}") for p in oas["paths"])


def test_conf_core_conformance_op(client):
    """/conf/core/conformance-op: GET /conformance is supported."""
    assert client.get("/conformance").status_code == 200


def test_conf_core_conformance_success(client):
    """/conf/core/conformance-success: confClasses.yaml listing core, geojson, html, oas30."""
    doc = client.get("/conformance").json()
    validate(doc, "features-1.0.1/confClasses.yaml")
    assert {CONF + c for c in ("core", "geojson", "html", "oas30")} <= set(doc["conformsTo"])


def test_conf_core_http(client):
    """/conf/core/http: HEAD mirrors GET without a body; 404 for unknown resources."""
    head = client.head("/collections/places/items")
    assert head.status_code == 200 and head.content == b""
    assert client.get("/collections/no-such-collection/items").status_code == 404


# ------------------------------------------------------------------ collections

def test_conf_core_fc_md_op(client):
    """/conf/core/fc-md-op: GET /collections is supported."""
    assert client.get("/collections").status_code == 200


def test_conf_core_fc_md_success(client):
    """/conf/core/fc-md-success: /collections follows collections.yaml (every collection in the list)."""
    validate(client.get("/collections").json(), "features-1.0.1/collections.yaml")


def test_conf_core_fc_md_success_feature_collections(client, feature_collections):
    """/conf/core/fc-md-success (feature collections): each feature collection entry follows collection.yaml."""
    assert feature_collections
    for c in feature_collections:
        validate(c, "features-1.0.1/collection.yaml")
    assert not errors(client.get("/collections").json(), "features-1.0.1/collections.yaml")


def test_conf_core_fc_md_links(client):
    """/conf/core/fc-md-links: self and alternate (HTML) links on /collections, each with rel and type."""
    doc = client.get("/collections").json()
    assert "self" in _rels(doc) and _rels(doc)["alternate"]["type"] == "text/html"
    assert all("rel" in lk and "type" in lk for lk in doc["links"])


def test_conf_core_fc_md_items(client, feature_collections):
    """/conf/core/fc-md-items: each feature collection has an id and an items link, and is listed once."""
    ids = [c["id"] for c in feature_collections]
    assert len(ids) == len(set(ids)) and {"places", "lakes"} <= set(ids)


def test_conf_core_fc_md_items_links(client, feature_collections):
    """/conf/core/fc-md-items-links: an `items` link per encoding (GeoJSON, HTML), all with rel and type."""
    for c in feature_collections:
        kinds = {lk["type"] for lk in c["links"] if lk["rel"] == "items"}
        assert {GEOJSON, "text/html"} <= kinds, c["id"]
        assert all("rel" in lk and "type" in lk for lk in c["links"])


def test_conf_core_fc_md_extent(client, places_truth):
    """/conf/core/fc-md-extent: the bbox contains every feature (computed with shapely from the file)."""
    bbox = client.get("/collections/places").json()["extent"]["spatial"]["bbox"][0]
    b = shapely.total_bounds([f["geom"] for f in places_truth])
    assert bbox == pytest.approx(list(b))


def test_conf_core_sfc_md_op(client, feature_collections):
    """/conf/core/sfc-md-op: GET /collections/{collectionId} for each feature collection."""
    for c in feature_collections:
        assert client.get(f"/collections/{c['id']}").status_code == 200


def test_conf_core_sfc_md_success(client, feature_collections):
    """/conf/core/sfc-md-success: the single collection equals its entry in /collections, per collection.yaml."""
    for c in feature_collections:
        doc = client.get(f"/collections/{c['id']}").json()
        validate(doc, "features-1.0.1/collection.yaml")
        assert doc["id"] == c["id"] and doc["extent"] == c["extent"]


# ------------------------------------------------------------------ items

def test_conf_core_fc_op(client, feature_collections):
    """/conf/core/fc-op: GET /collections/{collectionId}/items for each feature collection."""
    for c in feature_collections:
        assert client.get(f"/collections/{c['id']}/items").status_code == 200


def test_conf_core_fc_response(client, feature_collections):
    """/conf/core/fc-response: featureCollectionGeoJSON.yaml, media type application/geo+json."""
    for c in feature_collections:
        r = client.get(f"/collections/{c['id']}/items", params={"limit": 50})
        assert r.headers["content-type"].startswith(GEOJSON)
        validate(r.json(), "features-1.0.1/featureCollectionGeoJSON.yaml")


def test_conf_core_fc_links(client):
    """/conf/core/fc-links: self, alternate (HTML) and next links, all with rel and type; next pages never overlap."""
    doc = client.get("/collections/places/items", params={"limit": 100}).json()
    rels = _rels(doc)
    assert {"self", "alternate", "next"} <= set(rels) and all("type" in lk for lk in doc["links"])
    seen = [f["id"] for f in doc["features"]]
    while "next" in _rels(doc):
        doc = client.get(_rels(doc)["next"]["href"]).json()
        seen += [f["id"] for f in doc["features"]]
    assert len(seen) == len(set(seen)) == doc["numberMatched"]


def test_conf_core_fc_limit_definition(client):
    """/conf/core/fc-limit-definition: optional integer `limit` with minimum 1 and a maximum."""
    oas = client.get(_rels(client.get("/").json())["service-desc"]["href"]).json()
    (p,) = [p for p in oas["paths"]["/collections/{collectionId}/items"]["get"]["parameters"] if p["name"] == "limit"]
    assert not p.get("required", False) and p["schema"]["type"] == "integer" and p["schema"]["minimum"] == 1
    assert "maximum" in p["schema"]


def test_conf_core_fc_limit_response(client, places_truth):
    """/conf/core/fc-limit-response: at most `limit` features; above the documented maximum is an invalid
    value, a 400 (/req/core/query-param-invalid), so the server agrees with its OpenAPI document."""
    for n in (1, 7, 100):
        assert len(client.get("/collections/places/items", params={"limit": n}).json()["features"]) == n
    r = client.get("/collections/places/items", params={"limit": 10000})
    assert r.status_code == 200 and len(r.json()["features"]) == len(places_truth)
    r = client.get("/collections/places/items", params={"limit": 10**7})
    assert r.status_code == 400 and r.json()["parameter"] == "limit"


def test_conf_core_fc_bbox_definition(client):
    """/conf/core/fc-bbox-definition: 4 (or 6) numbers; others are a 400 naming bbox."""
    assert client.get("/collections/places/items", params={"bbox": "0,40,20,60"}).status_code == 200
    assert client.get("/collections/places/items", params={"bbox": "0,40,0,20,60,100"}).status_code == 200
    for bad in ("0,40,20", "a,b,c,d", "0,40,20,60,1"):
        r = client.get("/collections/places/items", params={"bbox": bad})
        assert r.status_code == 400 and r.json()["parameter"] == "bbox", bad


def test_conf_core_fc_bbox_response(client, places_truth):
    """/conf/core/fc-bbox-response: exactly the features intersecting the box (shapely on the file)."""
    box = shapely.box(0, 40, 20, 60)
    expected = {f["id"] for f in places_truth if f["geom"].intersects(box)}
    doc = client.get("/collections/places/items", params={"bbox": "0,40,20,60", "limit": 10000}).json()
    assert {f["id"] for f in doc["features"]} == expected and doc["numberMatched"] == len(expected)


def test_conf_core_fc_time_definition(client, timed):
    """/conf/core/fc-time-definition: instants and bounded/half-bounded intervals (`..` or empty); malformed is a 400."""
    for ok in ("2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z/2021-01-01T00:00:00Z", "../2021-01-01T00:00:00Z",
               "2020-01-01T00:00:00Z/..", "/2021-01-01T00:00:00Z", "2020-01-01T00:00:00Z/"):
        assert timed.get("/collections/events/items", params={"datetime": ok}).status_code == 200, ok
    for bad in ("not-a-time", "2020-13-01", "2021-01-01/2020-01-01"):
        r = timed.get("/collections/events/items", params={"datetime": bad})
        assert r.status_code == 400 and r.json()["parameter"] == "datetime", bad
    r = client.get("/collections/places/items", params={"datetime": "2020-01-01T00:00:00Z"})  # no feature has a time
    assert r.status_code == 200 and r.json()["numberMatched"] == client.get("/collections/places/items").json()["numberMatched"]


TIMES = ["2020-01-01T00:00:00Z", "2020-06-15T12:30:00Z", None, "2021-03-01T08:00:00+02:00", "2022-12-31T23:59:59Z"]


@pytest.fixture(scope="module")
def timed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("features-time")
    feats = [{"type": "Feature", "id": f"e{i}", "properties": {"when": t},
              "geometry": None if i == 4 else {"type": "Point", "coordinates": [i, i]}} for i, t in enumerate(TIMES)]
    path = tmp / "events.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    with client_for({"events": {"path": str(path), "time_property": "when"}}, tmp) as c:
        yield c


def _utc(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


@pytest.mark.parametrize("interval", [("2020-01-01T00:00:00Z", "2020-12-31T00:00:00Z"),
                                      ("2021-03-01T05:00:00Z", "2021-03-01T07:00:00Z"), ("2019-01-01T00:00:00Z", None)])
def test_conf_core_fc_time_response(timed, interval):
    """/conf/core/fc-time-response: features whose time lies in the interval, plus every feature without a time (C)."""
    lo, hi = _utc(interval[0]), _utc(interval[1]) if interval[1] else None
    expected = [f"e{i}" for i, t in enumerate(TIMES) if t is None or (lo <= _utc(t) and (hi is None or _utc(t) <= hi))]
    q = f"{interval[0]}/{interval[1] or '..'}"
    doc = timed.get("/collections/events/items", params={"datetime": q}).json()
    assert [f["id"] for f in doc["features"]] == expected and doc["numberMatched"] == len(expected)


def test_conf_core_fc_bbox_response_unlocated(timed):
    """/conf/core/fc-bbox-response C: a feature without geometry matches every bbox."""
    doc = timed.get("/collections/events/items", params={"bbox": "100,10,110,20"}).json()
    assert [f["id"] for f in doc["features"]] == ["e4"]


def test_conf_core_fc_numbermatched(client, places_truth):
    """/conf/core/fc-numberMatched: equals the number of features matching the selection."""
    assert client.get("/collections/places/items").json()["numberMatched"] == len(places_truth)


def test_conf_core_fc_numberreturned(client):
    """/conf/core/fc-numberReturned: equals the number of features in the answer."""
    doc = client.get("/collections/places/items", params={"limit": 13}).json()
    assert doc["numberReturned"] == len(doc["features"]) == 13


def test_conf_core_fc_timestamp(client):
    """/conf/core/fc-timeStamp: the time of the answer (within the test's own clock window)."""
    before = datetime.now(timezone.utc).replace(microsecond=0)
    doc = client.get("/collections/places/items", params={"limit": 1}).json()
    after = datetime.now(timezone.utc)
    assert before <= _utc(doc["timeStamp"]) <= after


def test_conf_core_query_param_invalid(client):
    """/conf/core/query-param-invalid: invalid values are 400 with an exception per exception.yaml."""
    for params in ({"limit": "0"}, {"limit": "x"}, {"bbox": "1,2,3"}, {"datetime": "soon"}):
        r = client.get("/collections/places/items", params=params)
        assert r.status_code == 400, params
        validate(r.json(), "features-1.0.1/exception.yaml")


def test_conf_core_query_param_unknown(client):
    """/conf/core/query-param-unknown: an unknown parameter is a 400 naming it."""
    r = client.get("/collections/places/items", params={"colour": "blue"})
    assert r.status_code == 400 and r.json()["parameter"] == "colour"
    validate(r.json(), "features-1.0.1/exception.yaml")


# ------------------------------------------------------------------ one feature

def test_conf_core_f_op(client, places_truth):
    """/conf/core/f-op: GET /collections/{collectionId}/items/{featureId} for a listed feature; 404 otherwise."""
    assert client.get(f"/collections/places/items/{places_truth[0]['id']}").status_code == 200
    r = client.get("/collections/places/items/no-such-feature")
    assert r.status_code == 404
    validate(r.json(), "features-1.0.1/exception.yaml")


def test_conf_core_f_success(client, places_truth):
    """/conf/core/f-success: featureGeoJSON.yaml; geometry and properties equal the file's."""
    truth = places_truth[5]
    r = client.get(f"/collections/places/items/{truth['id']}")
    assert r.headers["content-type"].startswith(GEOJSON)
    validate(r.json(), "features-1.0.1/featureGeoJSON.yaml")
    assert shapely.geometry.shape(r.json()["geometry"]).equals(truth["geom"])
    assert r.json()["properties"] == truth["properties"]


def test_conf_core_f_links(client, places_truth):
    """/conf/core/f-links: self, alternate (HTML) and collection links, each with rel and type."""
    doc = client.get(f"/collections/places/items/{places_truth[0]['id']}").json()
    rels = _rels(doc)
    assert {"self", "alternate", "collection"} <= set(rels) and rels["alternate"]["type"] == "text/html"
    assert all("type" in lk for lk in doc["links"])


def test_conf_core_crs84(client, lakes_truth):
    """/conf/core/crs84: without crs, coordinates are CRS84 longitude/latitude (equal to the file's)."""
    doc = client.get("/collections/lakes/items", params={"limit": 1000}).json()
    got = {f["id"]: shapely.geometry.shape(f["geometry"]) for f in doc["features"]}
    for t in lakes_truth:
        assert got[t["id"]].equals_exact(t["geom"], 1e-9)


# ------------------------------------------------------------------ GeoJSON, HTML, OpenAPI

def test_conf_geojson_definition(client):
    """/conf/geojson/definition: items and item are served as application/geo+json (by f and by Accept)."""
    for r in (client.get("/collections/places/items", params={"f": "geojson"}),
              client.get("/collections/places/items", headers={"Accept": GEOJSON})):
        assert r.headers["content-type"].startswith(GEOJSON)


def test_conf_geojson_content(client, feature_collections):
    """/conf/geojson/content: every item of every feature collection validates against featureGeoJSON.yaml."""
    for c in feature_collections:
        for f in client.get(f"/collections/{c['id']}/items", params={"limit": 10000}).json()["features"]:
            validate(f, "features-1.0.1/featureGeoJSON.yaml")


def test_conf_html_definition(client):
    """/conf/html/definition: every Features resource is available as text/html."""
    for path in ("/", "/conformance", "/collections", "/collections/places", "/collections/places/items"):
        r = client.get(path, headers={"Accept": "text/html"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path


def test_conf_html_content(client, places_truth):
    """/conf/html/content: the HTML items page shows the features of the JSON page."""
    page = client.get("/collections/places/items", params={"f": "html", "limit": 5}).text
    for f in client.get("/collections/places/items", params={"limit": 5}).json()["features"]:
        assert str(f["properties"].get("name", f["id"])) in page


def test_conf_oas30_completeness(client):
    """/conf/oas30/completeness: every Features path is in the OpenAPI document."""
    oas = client.get(_rels(client.get("/").json())["service-desc"]["href"]).json()
    for path in ("/", "/conformance", "/collections", "/collections/{collectionId}", "/collections/{collectionId}/items",
                 "/collections/{collectionId}/items/{featureId}"):
        assert "get" in oas["paths"][path], path


def test_conf_oas30_oas_definition_1(client):
    """/conf/oas30/oas-definition-1: the definition is OpenAPI 3.0 JSON, linked with its media type."""
    link = _rels(client.get("/").json())["service-desc"]
    assert link["type"].startswith("application/vnd.oai.openapi+json")


def test_conf_oas30_oas_definition_2(client):
    """/conf/oas30/oas-definition-2: the HTML documentation (service-doc) is served."""
    assert client.get(_rels(client.get("/").json())["service-doc"]["href"]).headers["content-type"].startswith("text/html")


def test_conf_queryables(client):
    """Features Part 3 queryables (declared): a JSON Schema of the item properties, as application/schema+json."""
    r = client.get("/collections/places/queryables")
    assert r.headers["content-type"].startswith("application/schema+json")
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(r.json())
    assert r.json()["type"] == "object" and r.json()["properties"]
