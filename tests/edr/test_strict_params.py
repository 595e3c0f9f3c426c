"""Strict query parameters: every EDR query refuses what it does not read; the locations list filters by bbox.

A parameter a query ignores would silently widen the answer (a mistyped `datetme`
returns the whole series), so each query type answers 400 naming it and listing
what it accepts: the common parameters, its own, and the collection's extra dimensions.
"""

from __future__ import annotations

import json

import pytest
import shapely
from shapely.geometry import shape

from tests.conftest import DATASETS

from .conftest import query

PLACES = DATASETS / "ne_110m_populated_places_simple.geojson"
COMMON = {"datetime", "z", "parameter-name", "crs", "f"}
OWN = {
    "position": {"coords"},
    "area": {"coords", "resolution-x", "resolution-y", "resolution-z"},
    "cube": {"bbox", "cube-z", "resolution-x", "resolution-y", "resolution-z"},
    "radius": {"coords", "within", "within-units"},
    "trajectory": {"coords"},
    "corridor": {"coords", "corridor-width", "width-units", "corridor-height", "height-units", "resolution-x",
                 "resolution-y", "resolution-z"},
}

# valid requests on coads (and eraint, same lon/lat frame) ...
COADS = {
    "position": {"coords": "POINT(-25.3 38.6)"},
    "area": {"coords": "POLYGON((-30 30,-20 30,-20 40,-30 40,-30 30))"},
    "cube": {"bbox": "-30,30,-20,40"},
    "radius": {"coords": "POINT(-30 40)", "within": "300", "within-units": "km"},
    "trajectory": {"coords": "LINESTRING(-30 30,-20 40)"},
    "corridor": {"coords": "LINESTRING(-30 30,-20 40)", "corridor-width": "200", "width-units": "km",
                 "corridor-height": "0", "height-units": "m"},
}
# ... and on the forecast fixture (lat 40.5..49.5, lon -5.5..9.5)
FC = {
    "position": {"coords": "POINT(2 45)"},
    "area": {"coords": "POLYGON((0 42,5 42,5 47,0 47,0 42))"},
    "cube": {"bbox": "0,42,5,47"},
    "radius": {"coords": "POINT(2 45)", "within": "200", "within-units": "km"},
    "trajectory": {"coords": "LINESTRING(0 42,5 47)"},
    "corridor": {"coords": "LINESTRING(0 42,5 47)", "corridor-width": "100", "width-units": "km",
                 "corridor-height": "0", "height-units": "m"},
}
# a parameter each query does not read, though another query does
INAPPLICABLE = [
    ("position", "bbox", "1,2,3,4"), ("position", "within", "10"), ("position", "resolution-x", "5"),
    ("area", "within", "10"), ("area", "bbox", "1,2,3,4"), ("area", "cube-z", "500"),
    ("cube", "coords", "POINT(1 1)"), ("cube", "within-units", "km"),
    ("radius", "corridor-width", "10"), ("radius", "resolution-x", "5"),
    ("trajectory", "corridor-width", "10"), ("trajectory", "bbox", "1,2,3,4"),
    ("corridor", "within", "10"), ("corridor", "bbox", "1,2,3,4"),
]


def accepted(detail: str) -> tuple[set[str], set[str]]:
    """(the accepted parameters, the extra dimensions) listed in a refusal's detail."""
    listed = detail.split("; accepted: ", 1)[1]
    names, _, dims = listed.partition("; extra dimensions of this collection: ")
    return set(names.split(", ")), set(dims.split(", ")) if dims else set()


def refused(client, path: str, name: str, **params) -> str:
    """A 400 naming `name`, as the query helper: underscores in keyword names become dashes."""
    r = client.get(path, params={k.replace("_", "-"): v for k, v in params.items()})
    assert r.status_code == 400, (r.status_code, r.text[:300])
    body = r.json()
    assert body["status"] == 400 and body["type"].endswith("/InvalidParameterValue")
    assert body["parameter"] == name, body
    assert name in body["detail"], body
    return body["detail"]


def places() -> list[tuple[str, object, dict]]:
    """(id, shapely geometry, properties) straight from the GeoJSON file: the ground truth."""
    doc = json.loads(PLACES.read_text())
    return [(str(f["id"]), shape(f["geometry"]), f["properties"]) for f in doc["features"]]


def place_id(name: str) -> str:
    return next(fid for fid, _, props in places() if props["name"] == name)


@pytest.fixture(scope="module")
def loc_client(forecast, tmp_path_factory):
    """The forecast (instances) with `places` as locations, and coads with the `lakes` polygons as locations."""
    from fastapi.testclient import TestClient

    from cubeserver.app import create_app
    from cubeserver.config import config_from_dict

    path, _ = forecast
    raw = {"state_dir": str(tmp_path_factory.mktemp("strict-state")),
           "collections": {
               "fc": {"path": str(path), "reference_time": "reference_time", "locations": "places"},
               "sst": {"path": str(DATASETS / "coads_sst.nc"), "locations": "lakes"},
               "places": {"path": str(PLACES)},
               "lakes": {"path": str(DATASETS / "ne_110m_lakes.geojson")}}}
    with TestClient(create_app(config_from_dict(raw, path.parent))) as c:
        yield c


@pytest.fixture(scope="module")
def instance_id(loc_client) -> str:
    return query(loc_client, "/collections/fc/instances").json()["instances"][0]["id"]


# ---------------------------------------------------------------- every query type

@pytest.mark.parametrize("qtype", list(COADS))
def test_unknown_parameter_is_refused(client, qtype):
    path = f"/collections/coads/{qtype}"
    query(client, path, **COADS[qtype])  # the same request without the junk is fine
    detail = refused(client, path, "foo", **COADS[qtype], foo="bar")
    assert "unknown query parameter 'foo'" in detail and f"the {qtype} query" in detail
    assert accepted(detail) == (OWN[qtype] | COMMON, set())
    detail = refused(client, path, "datetme", **COADS[qtype], datetme="2000-01-16")
    assert "datetime" in accepted(detail)[0]


@pytest.mark.parametrize("qtype", list(FC))
def test_unknown_parameter_is_refused_on_instances(loc_client, instance_id, qtype):
    path = f"/collections/fc/instances/{instance_id}/{qtype}"
    query(loc_client, path, **FC[qtype])
    detail = refused(loc_client, path, "foo", **FC[qtype], foo="bar")
    assert accepted(detail) == (OWN[qtype] | COMMON, set())
    refused(loc_client, f"/collections/fc/{qtype}", "foo", **FC[qtype], foo="bar")  # the latest run too


@pytest.mark.parametrize("qtype,name,value", INAPPLICABLE)
def test_inapplicable_parameter_is_refused(client, qtype, name, value):
    detail = refused(client, f"/collections/coads/{qtype}", name, **COADS[qtype], **{name: value})
    assert f"{name!r} does not apply to the {qtype} query" in detail
    assert name not in accepted(detail)[0]


def test_qa_examples(client):
    pos = "/collections/coads/position"
    refused(client, pos, "foo", coords="POINT(0 0)", foo="bar")
    refused(client, pos, "bbox", coords="POINT(0 0)", bbox="1,2,3,4")
    refused(client, pos, "within", coords="POINT(0 0)", within="10")
    refused(client, pos, "month", coords="POINT(0 0)", month="1")
    refused(client, "/collections/coads/cube", "coords", bbox="0,0,10,10", coords="POINT(1 1)")


def test_several_unknown_parameters_are_all_named(client):
    detail = refused(client, "/collections/coads/position", "foo", coords="POINT(0 0)", foo="1", bar="2")
    assert "'bar'" in detail.split("; accepted: ")[0]


def test_refusal_comes_before_format_negotiation(client):
    refused(client, "/collections/coads/position", "foo", coords="POINT(0 0)", foo="1", f="xml")


@pytest.mark.parametrize("qtype", list(COADS))
def test_extra_dimension_accepted_where_it_exists(client, qtype):
    eraint = {**COADS[qtype], **({"height-units": "millibars"} if qtype == "corridor" else {})}  # its z is in millibars
    doc = query(client, f"/collections/eraint/{qtype}", **eraint, month="1", parameter_name="u").json()
    assert doc["type"] in ("Coverage", "CoverageCollection")
    detail = refused(client, f"/collections/eraint/{qtype}", "foo", **eraint, foo="1")
    assert accepted(detail) == (OWN[qtype] | COMMON, {"month"})
    detail = refused(client, f"/collections/coads/{qtype}", "month", **COADS[qtype], month="1")
    assert accepted(detail)[1] == set()


def test_extra_dimension_still_selects(client):
    one = query(client, "/collections/eraint/position", coords="POINT(10 45)", parameter_name="u", month="1").json()
    both = query(client, "/collections/eraint/position", coords="POINT(10 45)", parameter_name="u").json()
    assert one["type"] == "Coverage"  # one month: the dimension is dropped
    assert both["type"] == "CoverageCollection" and len(both["coverages"]) == 2  # one coverage per month


def test_legitimate_parameters_stay_accepted(client):
    """Everything the queries read, including OWSLib's spellings (parameter_names, cube-z)."""
    owslib = client.get("/collections/coads/position", params={
        "coords": "POINT(-25.3 38.6)", "parameter_names": "SST", "datetime": "2000-01-16T06:00:00Z", "crs": "CRS84",
        "f": "CoverageJSON"})
    assert owslib.status_code == 200 and list(owslib.json()["ranges"]) == ["SST"]
    owslib = client.get("/collections/eraint/cube", params={"bbox": "0,40,5,45", "cube-z": "500", "parameter_names": "u"})
    assert owslib.status_code == 200 and list(owslib.json()["coverages"][0]["ranges"]) == ["u"]
    query(client, "/collections/eraint/position", coords="POINT(10 45)", z="500", parameter_name="u")
    query(client, "/collections/coads/cube", bbox="-30,30,-20,40", resolution_x="3", resolution_y="3")
    query(client, "/collections/coads/area", coords=COADS["area"]["coords"], resolution_x="3", resolution_y="3")
    query(client, "/collections/coads/radius", coords="POINT(-30 40)", within="300", within_units="mi")
    query(client, "/collections/eraint/corridor", coords="LINESTRING(0 40,5 45)", corridor_width="200",
          width_units="km", corridor_height="400", height_units="millibars", z="500", resolution_x="0", parameter_name="u")


# ---------------------------------------------------------------- named locations

def test_location_refuses_what_it_does_not_read(client):
    lisbon = place_id("Lisbon")
    path = f"/collections/coads/locations/{lisbon}"
    query(client, path, parameter_name="SST", datetime="2000-01-16T06:00:00Z", f="CSV")
    detail = refused(client, path, "foo", foo="bar")
    assert accepted(detail) == (COMMON, set()) and "a named location" in detail
    refused(client, path, "coords", coords="POINT(0 0)")  # the location is the geometry
    refused(client, path, "resolution-x", resolution_x="3")  # a point location is a position query
    refused(client, path, "month", month="1")
    query(client, f"/collections/eraint/locations/{lisbon}", month="7", parameter_name="u")


def test_location_on_instances(loc_client, instance_id):
    paris = place_id("Paris")
    path = f"/collections/fc/instances/{instance_id}/locations/{paris}"
    query(loc_client, path)
    refused(loc_client, path, "foo", foo="bar")
    refused(loc_client, path, "bbox", bbox="0,40,5,45")


def test_area_location_reads_resolution(loc_client):
    """A polygon location runs an area query, so resolution-x/-y apply to it (and nothing else more)."""
    doc = query(loc_client, "/collections/sst/locations").json()
    lake = next(f for f in doc["features"] if f["properties"]["query"] == "area")
    path = f"/collections/sst/locations/{lake['id']}"
    query(loc_client, path, resolution_x="4", resolution_y="4", datetime="2000-01-16T06:00:00Z")
    detail = refused(loc_client, path, "within", within="10")
    assert accepted(detail) == (COMMON | {"resolution-x", "resolution-y", "resolution-z"}, set())


# ---------------------------------------------------------------- the locations list

def expected_ids(*boxes) -> list[str]:
    """Ids of the places intersecting any of the boxes, computed with shapely on the source file."""
    region = shapely.union_all([shapely.box(*b) for b in boxes])
    return sorted(fid for fid, geom, _ in places() if geom.intersects(region))


def listed_ids(client, path="/collections/coads/locations", **params) -> list[str]:
    doc = query(client, path, **params).json()
    assert doc["numberReturned"] == len(doc["features"])
    return sorted(f["id"] for f in doc["features"])


@pytest.mark.parametrize("bbox", [(-10, 35, 30, 60), (100, -45, 160, -10), (-80, -60, -30, 15), (-179, -1, -178, 1)])
def test_locations_bbox_matches_shapely(client, bbox):
    want = expected_ids(bbox)
    got = listed_ids(client, bbox=",".join(map(str, bbox)))
    assert got == want
    assert len(got) < len(places())


def test_locations_bbox_qa_example(client):
    got = listed_ids(client, bbox="-10,35,30,60")
    assert 0 < len(got) < 243 and got == expected_ids((-10, 35, 30, 60))
    assert place_id("Paris") in got and place_id("Tokyo") not in got


def test_locations_bbox_across_the_antimeridian(client):
    got = listed_ids(client, bbox="170,-50,-170,0")
    want = expected_ids((170, -50, 180, 0), (-180, -50, -170, 0))
    assert got == want and len(got) > 0
    lons = [geom.x for fid, geom, _ in places() if fid in got]
    assert all(lon >= 170 or lon <= -170 for lon in lons)
    assert place_id("Suva") in got


def test_locations_bbox_six_numbers_and_whole_world(client):
    assert listed_ids(client, bbox="-10,35,0,30,60,10000") == expected_ids((-10, 35, 30, 60))
    assert len(listed_ids(client, bbox="-180,-90,180,90")) == len(places())
    assert listed_ids(client) == sorted(fid for fid, _, _ in places())


def test_locations_bbox_self_link_and_data_links(client):
    doc = query(client, "/collections/coads/locations", bbox="-10,35,30,60").json()
    self_link = next(ln["href"] for ln in doc["links"] if ln["rel"] == "self")
    assert "bbox=" in self_link
    for f in doc["features"]:
        assert f["links"][0]["href"].endswith(f"/collections/coads/locations/{f['id']}")
        assert f["properties"]["edrqueryendpoint"] == f["links"][0]["href"]


@pytest.mark.parametrize("bbox", ["abc", "1,2,3", "1,2,3,4,5", "0,10,5,0", "0,0,200,10", "0,-95,10,0", "nan,0,1,1"])
def test_locations_bad_bbox(client, bbox):
    refused_bbox = client.get("/collections/coads/locations", params={"bbox": bbox})
    assert refused_bbox.status_code == 400 and refused_bbox.json()["parameter"] == "bbox", refused_bbox.text


def test_locations_datetime(client):
    """places has no time: a valid datetime keeps every location, a malformed one is a 400."""
    assert len(listed_ids(client, datetime="2000-01-16T06:00:00Z")) == len(places())
    assert len(listed_ids(client, datetime="2000-01-01/..")) == len(places())
    assert listed_ids(client, datetime="2000-01-16", bbox="-10,35,30,60") == expected_ids((-10, 35, 30, 60))
    for bad in ("2000-13-45", "yesterday", "../.."):
        r = client.get("/collections/coads/locations", params={"datetime": bad})
        assert r.status_code == 400 and r.json()["parameter"] == "datetime", r.text


@pytest.mark.parametrize("name,value", [("foo", "bar"), ("limit", "3"), ("coords", "POINT(0 0)"), ("bbox-crs", "EPSG:4326")])
def test_locations_list_refuses_other_parameters(client, name, value):
    detail = refused(client, "/collections/coads/locations", name, **{name: value})
    assert accepted(detail) == ({"bbox", "datetime", "f"}, set())
    query(client, "/collections/coads/locations", f="json")
    query(client, "/collections/coads/locations", f="geojson")


def test_locations_list_on_instances(loc_client, instance_id):
    path = f"/collections/fc/instances/{instance_id}/locations"
    assert listed_ids(loc_client, path, bbox="-5,40,10,50") == expected_ids((-5, 40, 10, 50))
    refused(loc_client, path, "foo", foo="bar")
    refused(loc_client, path, "bbox", bbox="abc")


def test_locations_datetime_filters_timed_locations(forecast, tmp_path):
    """Locations whose features carry a time (time_property) are filtered by datetime like Features items."""
    from fastapi.testclient import TestClient

    from cubeserver.app import create_app
    from cubeserver.config import config_from_dict

    stations = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "a", "geometry": {"type": "Point", "coordinates": [1, 45]},
         "properties": {"name": "A", "when": "2024-03-01T06:00:00Z"}},
        {"type": "Feature", "id": "b", "geometry": {"type": "Point", "coordinates": [2, 46]},
         "properties": {"name": "B", "when": "2024-03-02T06:00:00Z"}},
        {"type": "Feature", "id": "c", "geometry": {"type": "Point", "coordinates": [8, 49]},
         "properties": {"name": "C", "when": "2024-03-02T18:00:00Z"}}]}
    path = tmp_path / "stations.geojson"
    path.write_text(json.dumps(stations))
    raw = {"state_dir": str(tmp_path / "state"),
           "collections": {"fc": {"path": str(forecast[0]), "locations": "stations"},
                           "stations": {"path": str(path), "time_property": "when"}}}
    with TestClient(create_app(config_from_dict(raw, tmp_path))) as c:
        loc = "/collections/fc/locations"
        assert listed_ids(c, loc) == ["a", "b", "c"]
        assert listed_ids(c, loc, datetime="2024-03-02") == ["b", "c"]
        assert listed_ids(c, loc, datetime="../2024-03-01T12:00:00Z") == ["a"]
        assert listed_ids(c, loc, datetime="2024-03-02", bbox="0,40,5,50") == ["b"]
        refused(c, loc, "datetime", datetime="2024-03-02/2024-03-01")


def test_instances_refuse_unknown_parameters(forecast_client):
    ids = [i["id"] for i in forecast_client.get("/collections/fc/instances").json()["instances"]]
    r = forecast_client.get("/collections/fc/instances", params={"foo": "1"})
    assert r.status_code == 400 and r.json()["parameter"] == "foo" and "accepted: f" in r.json()["detail"]
    r = forecast_client.get(f"/collections/fc/instances/{ids[0]}", params={"datetme": "2024"})
    assert r.status_code == 400 and r.json()["parameter"] == "datetme"
    assert forecast_client.get(f"/collections/fc/instances/{ids[0]}", params={"f": "json"}).status_code == 200


@pytest.mark.parametrize("query", [
    "/collections/coads/position?coords=POINT(-25%2038)&coords=POINT(0%2050)",
    "/collections/coads/position?coords=POINT(-25%2038)&f=json&f=csv",
    "/collections/coads/area?coords=POLYGON((0%2040,5%2040,5%2045,0%2045,0%2040))&datetime=2000-01-16T06:00:00Z"
    "&datetime=2000-02-16T06:00:00Z",
    "/collections/coads/locations?bbox=0,0,1,1&bbox=2,2,3,3",
])
def test_a_parameter_given_twice_is_a_400(client, query):
    r = client.get(query)
    assert r.status_code == 400, r.text
    name = query.split("&")[-1].split("=")[0]
    assert r.json()["parameter"] == name and "more than once" in r.json()["detail"]


@pytest.mark.parametrize("qtype", list(OWN))
def test_api_document_lists_what_each_query_reads(client, qtype):
    """The OpenAPI document declares exactly the parameters a query accepts (cube-z, OWSLib's alias, aside), on
    the collection and the instance paths; each required one, left out, is a 400 naming it (the handlers check
    them, not FastAPI)."""
    paths = client.get("/openapi.json").json()["paths"]
    for path in (f"/collections/{{collectionId}}/{qtype}", f"/collections/{{collectionId}}/instances/{{instanceId}}/{qtype}"):
        documented = {p["name"]: p for p in paths[path]["get"]["parameters"] if p["in"] == "query"}
        assert set(documented) == (OWN[qtype] | COMMON) - {"cube-z"}, path
    for name, p in documented.items():
        if p["required"]:
            rest = {k: v for k, v in COADS[qtype].items() if k != name}
            detail = refused(client, f"/collections/coads/{qtype}", name, **rest)
            assert "required" in detail or "missing" in detail, detail


def test_number_parameters_are_checked_by_the_query(client):
    """within and corridor-width were FastAPI floats; a word is still a 400 naming the parameter."""
    refused(client, "/collections/coads/radius", "within", **{**COADS["radius"], "within": "far"})
    refused(client, "/collections/coads/corridor", "corridor-width", **{**COADS["corridor"], "corridor-width": "wide"})
