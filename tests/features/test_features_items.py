"""Items, item and queryables on the default config, checked against the GeoJSON files read directly."""

from __future__ import annotations

import pytest
from shapely.geometry import box, shape

from .conftest import ids_of, walk

ITEMS = "/collections/{}/items"


@pytest.mark.parametrize("cid,limit", [("places", 50), ("places", 7), ("lakes", 4), ("lakes", 100)])
def test_paging_walks_every_feature_once(client, cid, limit, places_truth, lakes_truth):
    truth = places_truth if cid == "places" else lakes_truth
    pages = walk(client, ITEMS.format(cid), {"limit": limit})
    ids = ids_of(pages)
    assert ids == [f["id"] for f in truth]
    assert len(pages) == -(-len(truth) // limit)
    for p in pages:
        assert p["numberMatched"] == len(truth)
        assert p["numberReturned"] == len(p["features"]) <= limit
        assert p["timeStamp"].endswith("Z")


def test_prev_link_goes_back_one_page(client):
    page = client.get(ITEMS.format("places"), params={"limit": 5, "offset": 12}).json()
    rels = {link["rel"]: link["href"] for link in page["links"]}
    back = client.get(rels["prev"]).json()
    assert ids_of([back]) == [str(i) for i in range(7, 12)]
    first = client.get(ITEMS.format("places"), params={"limit": 5}).json()
    assert "prev" not in {link["rel"] for link in first["links"]}


def test_offset_past_the_end(client):
    doc = client.get(ITEMS.format("places"), params={"offset": 1000}).json()
    assert (doc["numberMatched"], doc["numberReturned"], doc["features"]) == (243, 0, [])
    rels = {link["rel"] for link in doc["links"]}
    assert "next" not in rels and "prev" in rels


def test_html_map_is_lon_lat_even_when_crs_is_epsg4326(client, places_truth):
    html = client.get(ITEMS.format("places"), params={"f": "html", "limit": 1,
                                                     "crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}).text
    t = places_truth[0]["geom"]
    assert f"[{t.x},{t.y}]" in html


def test_next_link_keeps_filters(client, places_truth):
    truth = [f["id"] for f in places_truth if f["properties"]["featurecla"] == "Admin-0 capital"]
    pages = walk(client, ITEMS.format("places"), {"featurecla": "Admin-0 capital", "limit": 20})
    assert len(pages) > 2
    assert ids_of(pages) == truth


def test_geojson_feature_equals_file(client, places_truth):
    r = client.get(ITEMS.format("places"), params={"limit": 3, "offset": 100})
    assert r.headers["content-type"].startswith("application/geo+json")
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    doc = r.json()
    assert doc["type"] == "FeatureCollection"
    for f, t in zip(doc["features"], places_truth[100:103], strict=True):
        assert f["type"] == "Feature" and f["id"] == t["id"]
        assert f["properties"] == t["properties"]
        assert shape(f["geometry"]).equals(t["geom"])
    rels = {link["rel"]: link for link in doc["links"]}
    assert {"self", "alternate", "collection", "next", "prev"} <= set(rels)
    assert rels["alternate"]["type"] == "text/html"
    assert rels["collection"]["href"].endswith("/collections/places")


def test_limit_default_and_maximum(client, config, places_truth):
    doc = client.get(ITEMS.format("places")).json()
    assert doc["numberReturned"] == config.limits.features_default_limit
    doc = client.get(ITEMS.format("places"), params={"limit": config.limits.features_max_limit}).json()
    assert doc["numberReturned"] == len(places_truth)
    over = client.get(ITEMS.format("places"), params={"limit": config.limits.features_max_limit + 5})
    assert over.status_code == 400 and over.json()["parameter"] == "limit"


@pytest.mark.parametrize("bbox", [(-10, 35, 30, 60), (100, -50, 180, 0), (-180, -90, 180, 90), (0, 0, 1, 1)])
@pytest.mark.parametrize("cid", ["places", "lakes"])
def test_bbox_equals_shapely(client, cid, bbox, places_truth, lakes_truth):
    truth = places_truth if cid == "places" else lakes_truth
    expected = [f["id"] for f in truth if f["geom"].intersects(box(*bbox))]
    pages = walk(client, ITEMS.format(cid), {"bbox": ",".join(map(str, bbox)), "limit": 100})
    assert ids_of(pages) == expected
    assert pages[0]["numberMatched"] == len(expected)


def test_bbox_with_heights_ignores_them(client, places_truth):
    expected = [f["id"] for f in places_truth if f["geom"].intersects(box(-10, 35, 30, 60))]
    pages = walk(client, ITEMS.format("places"), {"bbox": "-10,35,-100,30,60,100", "limit": 100})
    assert ids_of(pages) == expected and expected


def test_bbox_crossing_antimeridian(client, places_truth):
    boxes = [box(170, -50, 180, 0), box(-180, -50, -170, 0)]
    expected = [f["id"] for f in places_truth if any(f["geom"].intersects(b) for b in boxes)]
    assert expected
    doc = client.get(ITEMS.format("places"), params={"bbox": "170,-50,-170,0", "limit": 100}).json()
    assert ids_of([doc]) == expected


def test_bbox_crs_epsg4326_is_lat_lon(client, places_truth):
    expected = [f["id"] for f in places_truth if f["geom"].intersects(box(-10, 35, 30, 60))]
    swapped = walk(client, ITEMS.format("places"), {
        "bbox": "35,-10,60,30", "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4326", "limit": 100})
    assert ids_of(swapped) == expected
    # the same numbers read as CRS84 select something else
    plain = walk(client, ITEMS.format("places"), {"bbox": "35,-10,60,30", "limit": 100})
    assert ids_of(plain) != expected


def test_crs_epsg4326_output_swaps_coordinates(client, places_truth):
    r = client.get(ITEMS.format("places"), params={"limit": 2, "crs": "http://www.opengis.net/def/crs/EPSG/0/4326"})
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4326>"
    for f, t in zip(r.json()["features"], places_truth, strict=False):
        lat, lon = f["geometry"]["coordinates"]
        assert (lon, lat) == (t["geom"].x, t["geom"].y)


@pytest.mark.parametrize("params,pred", [
    ({"adm0name": "France"}, lambda p: p["adm0name"] == "France"),
    ({"featurecla": "Admin-0 capital", "megacity": "1"},
     lambda p: p["featurecla"] == "Admin-0 capital" and p["megacity"] == 1),
    ({"adm0cap": "1"}, lambda p: p["adm0cap"] == 1.0),          # float property, integer text
    ({"scalerank": "0.0"}, lambda p: p["scalerank"] == 0),      # integer property, float text
    ({"capalt": "1"}, lambda p: p["capalt"] == 1),              # mostly-null column
    ({"name": "Nowhere at all"}, lambda p: False),
])
def test_property_filters_equal_python(client, places_truth, params, pred):
    expected = [f["id"] for f in places_truth if pred(f["properties"])]
    pages = walk(client, ITEMS.format("places"), {**params, "limit": 100})
    assert ids_of(pages) == expected
    assert pages[0]["numberMatched"] == len(expected)


def test_filter_combined_with_bbox(client, places_truth):
    expected = [f["id"] for f in places_truth
                if f["properties"]["megacity"] == 1 and f["geom"].intersects(box(60, 0, 150, 60))]
    doc = client.get(ITEMS.format("places"), params={"megacity": 1, "bbox": "60,0,150,60", "limit": 100}).json()
    assert ids_of([doc]) == expected and len(expected) > 3


def test_lakes_property_named_id_is_a_filter(client, lakes_truth):
    doc = client.get(ITEMS.format("lakes"), params={"id": "3"}).json()
    assert [f["properties"]["id"] for f in doc["features"]] == [3]


def test_properties_selection(client, places_truth):
    doc = client.get(ITEMS.format("places"), params={"properties": "name,pop_max", "limit": 5}).json()
    assert [f["properties"] for f in doc["features"]] == [
        {"name": t["properties"]["name"], "pop_max": t["properties"]["pop_max"]} for t in places_truth[:5]]
    nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"][0]
    assert "properties=name%2Cpop_max" in nxt
    empty = client.get(ITEMS.format("places"), params={"properties": "", "limit": 2}).json()
    assert [f["properties"] for f in empty["features"]] == [{}, {}]


def test_item_by_id(client, places_truth, lakes_truth):
    for cid, t in (("places", places_truth[42]), ("lakes", lakes_truth[7])):
        r = client.get(f"/collections/{cid}/items/{t['id']}")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/geo+json")
        f = r.json()
        assert f["type"] == "Feature" and f["id"] == t["id"] and f["properties"] == t["properties"]
        assert shape(f["geometry"]).equals(t["geom"])
        assert {link["rel"] for link in f["links"]} >= {"self", "alternate", "collection"}


def test_queryables(client, places_truth):
    r = client.get("/collections/places/queryables")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/schema+json")
    q = r.json()
    assert q["type"] == "object" and q["$id"].endswith("/collections/places/queryables")
    props = q["properties"]
    assert set(props) == set(places_truth[0]["properties"]) | {"geometry"}
    assert props["name"]["type"] == "string"
    assert props["pop_max"]["type"] == "integer"
    assert props["latitude"]["type"] == "number"
    assert props["geometry"]["format"] == "geometry-point"
    assert client.get("/collections/lakes/queryables").json()["properties"]["geometry"]["format"] == "geometry-polygon"
    r = client.get("/collections/places/queryables", headers={"Accept": "application/schema+json"})
    assert r.status_code == 200 and r.json()["$id"] == q["$id"]


def test_collection_document_has_features_parts(client):
    docs = {c["id"]: c for c in client.get("/collections").json()["collections"]}
    places = docs["places"]
    assert places["itemType"] == "feature"
    assert "http://www.opengis.net/def/crs/EPSG/0/4326" in places["crs"]
    rels = {(link["rel"], link["type"]) for link in places["links"]}
    assert ("items", "application/geo+json") in rels and ("items", "text/html") in rels
    assert ("http://www.opengis.net/def/rel/ogc/1.0/queryables", "application/schema+json") in rels
    gridded = [c for c in docs.values() if c["id"] not in ("places", "lakes", "countries")]
    assert gridded and all("itemType" not in c for c in gridded)
    assert all(link["rel"] != "items" for c in gridded for link in c["links"])


def test_conformance_lists_features_classes(client):
    conf = client.get("/conformance").json()["conformsTo"]
    for part in ("core", "geojson", "html", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{part}" in conf


def test_openapi_declares_item_parameters(client, config):
    api = client.get("/openapi.json").json()
    params = {p["name"]: p for p in api["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]}
    assert {"limit", "offset", "bbox", "bbox-crs", "datetime", "properties", "f"} <= set(params)
    assert params["limit"]["schema"]["maximum"] == config.limits.features_max_limit
    assert "/collections/{collectionId}/items/{featureId}" in api["paths"]
    assert "/collections/{collectionId}/queryables" in api["paths"]


def test_html_pages(client, places_truth):
    r = client.get(ITEMS.format("places"), params={"f": "html", "limit": 5, "offset": 5})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    # the map: the vendored Leaflet and the page's script, the features as a JSON block (tests/browser draw it)
    assert "/static/vendor/leaflet-" in r.text and "/static/viewer/features_map.js" in r.text
    assert 'id="features-data"' in r.text
    for t in places_truth[5:10]:
        assert f"/collections/places/items/{t['id']}?f=html" in r.text
    assert "offset=10" in r.text and "f=html" in r.text  # next page stays HTML
    r = client.get(ITEMS.format("places"), headers={"Accept": "text/html,application/xhtml+xml"})
    assert r.headers["content-type"].startswith("text/html")
    r = client.get(f"/collections/places/items/{places_truth[3]['id']}", params={"f": "html"})
    assert r.status_code == 200 and places_truth[3]["properties"]["name"] in r.text
    r = client.get("/collections/places/queryables", params={"f": "html"})
    assert r.status_code == 200 and "pop_max" in r.text



def test_openapi_lists_queryables_per_collection(client):
    api = client.get("/openapi.json").json()
    op = api["paths"]["/collections/places/items"]["get"]
    names = [p["name"] for p in op["parameters"]]
    assert len(names) == len(set(names))
    assert {"adm0name", "pop_max", "limit", "bbox"} <= set(names)
    schemas = {p["name"]: p["schema"] for p in op["parameters"]}
    assert schemas["pop_max"]["type"] == "integer" and schemas["adm0name"]["type"] == "string"


def test_openapi_features_paths_are_valid(tmp_path):
    """The features part of the API definition validates as OpenAPI 3.0 (on a features-only server)."""
    validator = pytest.importorskip("openapi_spec_validator")
    from fastapi.testclient import TestClient

    from .conftest import LAKES, PLACES
    from .test_features_formats import app_for

    with TestClient(app_for({"places": {"path": str(PLACES)}, "lakes": {"path": str(LAKES)}}, tmp_path)) as c:
        api = c.get("/openapi.json").json()
    ours = {k: v for k, v in api["paths"].items() if k.startswith("/collections/") and ("/items" in k or "/queryables" in k)}
    validator.validate({**api, "paths": ours})  # only our paths: other standards are checked by their own tests
    assert {"/collections/places/items", "/collections/lakes/items"} <= set(api["paths"])
