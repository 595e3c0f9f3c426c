"""Every kind of EDR answer validated against the official OGC schemas (vendored in schemas/).

Landing page, conformance, collections (EDR 1.1 and Features 1.0.1 schemas, every collection of the
default config, gridded and Features-only), instances, each query type in each JSON format
(CoverageJSON against both the CoverageJSON schema and EDR's coverageJSON.yaml, EDR GeoJSON against
edrFeatureCollectionGeoJSON.yaml) and the exceptions against edr-1.1/core/exception.yaml.

EDR's covjson schemas (1.1.0-final) reject valid CoverageJSON through three `oneOf`s:
- ndArray.yaml lists "values are numbers", "values are integers", "values are strings" and "shape
  and axisNames are given" as alternatives; a real NdArray of numbers with axes matches two or three;
- domain.yaml's domain-type alternatives overlap (a Grid with x, y, z also satisfies its Trajectory
  branch, whose composite axis is not required);
- referenceSystem.yaml offers only a temporal (calendar required) and an identifier-based
  (targetConcept required) system, so every GeographicCRS/ProjectedCRS/VerticalCRS fails.
Those `oneOf` failures (and only `oneOf` failures) are ignored for the EDR schema; every answer is
also validated in full by the CoverageJSON schema (coveragejson/coveragejson.json) and checked against
the requirement text (/req/covjson/content: dataType, shape, axisNames, values count = product of shape).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from tests.conformance.official import validate, validator
from tests.conftest import client_for

EDR_COVJSON = "edr-1.1/covjson/coverageJSON.yaml"
COVJSON = "coveragejson/coveragejson.json"
EDR_GEOJSON = "edr-1.1/edr-geojson/edrFeatureCollectionGeoJSON.yaml"
EXCEPTION = "edr-1.1/core/exception.yaml"

# one valid request per query type on coads (1° monthly SST, no z) and eraint (levels, month dimension)
COADS = {
    "position": {"coords": "POINT(-30 40)"},
    "area": {"coords": "POLYGON((-40 30,-30 30,-30 40,-40 40,-40 30))"},
    "cube": {"bbox": "-40,30,-30,40"},
    "radius": {"coords": "POINT(-30 40)", "within": "300", "within-units": "km"},
    "trajectory": {"coords": "LINESTRING(-40 40,-30 40)"},
    "corridor": {"coords": "LINESTRING(-40 40,-30 40)", "corridor-width": "300", "width-units": "km",
                 "corridor-height": "0", "height-units": "m"},
}
ERAINT = {**COADS, "corridor": {**COADS["corridor"], "height-units": "millibars"}}
TABLE_QUERIES = ("position", "radius", "trajectory", "corridor")


def _is_oneof_defect(e) -> bool:
    """A failure of one of the three overlapping/incomplete `oneOf`s of EDR's covjson schemas."""
    if e.validator != "oneOf" or not isinstance(e.instance, dict):
        return False
    path = list(e.absolute_path)
    return (e.instance.get("type") == "NdArray" or (path and path[-1] in ("axes", "system")))


def edr_covjson_errors(doc) -> list[str]:
    """Violations of EDR's coverageJSON.yaml, less its `oneOf` defects (module docstring)."""
    out = []
    for e in validator(EDR_COVJSON).iter_errors(doc):
        if not _is_oneof_defect(e):
            out.append(f"{'/'.join(map(str, e.absolute_path)) or '.'}: {e.message[:300]}")
    return out


def _ndarrays(doc):
    if isinstance(doc, dict):
        if doc.get("type") == "NdArray":
            yield doc
        for v in doc.values():
            yield from _ndarrays(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from _ndarrays(v)


def check_covjson(doc) -> None:
    """Both CoverageJSON schemas, the requirement text for NdArrays, and observedProperty.id everywhere."""
    validate(doc, COVJSON)
    found = edr_covjson_errors(doc)
    assert not found, "\n".join(found[:20])
    arrays = list(_ndarrays(doc))
    assert arrays
    for a in arrays:
        assert a["dataType"] in ("float", "integer", "string")
        assert len(a["shape"]) == len(a["axisNames"])
        assert len(a["values"]) == math.prod(a["shape"])
    params = doc.get("parameters") or {}
    for c in doc.get("coverages", []):
        params.update(c.get("parameters", {}))
    assert params and all(p["observedProperty"].get("id") for p in params.values())


def test_landing_and_conformance(client):
    validate(client.get("/").json(), "edr-1.1/core/landingPage.yaml")
    validate(client.get("/conformance").json(), "edr-1.1/core/confClasses.yaml")


def test_collections_list_satisfies_edr_and_features(client):
    doc = client.get("/collections").json()
    validate(doc, "edr-1.1/collections/collections.yaml")
    validate(doc, "features-1.0.1/collections.yaml")
    kinds = {"features" if c.get("itemType") == "feature" else "gridded" for c in doc["collections"]}
    assert kinds == {"features", "gridded"}


def test_every_collection(client):
    for c in client.get("/collections").json()["collections"]:
        doc = client.get(f"/collections/{c['id']}").json()
        validate(doc, "edr-1.1/collections/collection.yaml")
        validate(doc, "features-1.0.1/collection.yaml")
        for p in doc["parameter_names"].values():
            validate(p, "edr-1.1/collections/parameterNames.yaml")
            assert p["observedProperty"]["id"], (c["id"], p)


@pytest.fixture(scope="module")
def forecast_client(tmp_path_factory):
    """A 2-run × 3-lead-time forecast (instances) with the bundled places as its named locations."""
    from tests.conftest import DATASETS

    tmp = tmp_path_factory.mktemp("conf-forecast")
    runs = pd.date_range("2024-03-01T00:00", periods=2, freq="12h")
    lat, lon = np.arange(40.5, 45.5, 1.0), np.arange(-5.5, 0.5, 1.0)
    data = np.random.default_rng(0).normal(280, 5, (2, 3, lat.size, lon.size)).astype("float32")
    ds = xr.Dataset(
        {"t2m": (("reference_time", "step", "lat", "lon"), data, {"units": "K", "standard_name": "air_temperature"})},
        coords={"reference_time": runs.values, "step": pd.to_timedelta([0, 6, 12], unit="h").values,
                "lat": ("lat", lat, {"standard_name": "latitude", "units": "degrees_north"}),
                "lon": ("lon", lon, {"standard_name": "longitude", "units": "degrees_east"})})
    ds.to_netcdf(tmp / "fc.nc")
    cols = {"fc": {"path": str(tmp / "fc.nc"), "reference_time": "reference_time", "locations": "places"},
            "places": {"path": str(DATASETS / "ne_110m_populated_places_simple.geojson")}}
    with client_for(cols, tmp) as c:
        yield c


def test_instances(forecast_client):
    doc = forecast_client.get("/collections/fc/instances").json()
    validate(doc, "edr-1.1/queries/instances.yaml")
    one = forecast_client.get(f"/collections/fc/instances/{doc['instances'][0]['id']}").json()
    validate(one, "edr-1.1/collections/collection.yaml")
    r = forecast_client.get(f"/collections/fc/instances/{doc['instances'][0]['id']}/position",
                            params={"coords": "POINT(-3 42)"})
    check_covjson(r.json())


@pytest.mark.parametrize("cid", ["coads", "eraint"])
@pytest.mark.parametrize("qtype", list(COADS))
def test_covjson_answers(client, cid, qtype):
    params = (COADS if cid == "coads" else ERAINT)[qtype]
    extra = {"datetime": "2000-01-16T06:00:00Z"} if cid == "coads" else {"z": "500"}
    for f in ("CoverageJSON", "json"):
        r = client.get(f"/collections/{cid}/{qtype}", params={**params, **extra, "f": f})
        assert r.status_code == 200, r.text[:300]
        assert r.headers["content-type"].startswith("application/prs.coverage+json")
        check_covjson(r.json())


@pytest.mark.parametrize("cid", ["coads", "eraint", "landsat-rgb"])
@pytest.mark.parametrize("qtype", TABLE_QUERIES)
def test_geojson_answers(client, cid, qtype):
    if cid == "landsat-rgb":
        x, y = -77.7, 24.55
        params = {"position": {"coords": f"POINT({x} {y})"},
                  "radius": {"coords": f"POINT({x} {y})", "within": "0.3", "within-units": "km"},
                  "trajectory": {"coords": f"LINESTRING({x} {y},{x + 0.005} {y})"},
                  "corridor": {"coords": f"LINESTRING({x} {y},{x + 0.005} {y})", "corridor-width": "0.3",
                               "width-units": "km", "corridor-height": "1", "height-units": "m"}}[qtype]
    else:
        params = (COADS if cid == "coads" else ERAINT)[qtype]
    r = client.get(f"/collections/{cid}/{qtype}", params={**params, "f": "GeoJSON"})
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"] == "application/geo+json"
    doc = r.json()
    validate(doc, EDR_GEOJSON)
    assert doc["features"]
    names = [p["id"] for p in doc["parameters"]]
    for f in doc["features"][:50]:
        props = f["properties"]
        assert props["parameter-name"] == names and set(names) <= set(props)
        assert props["edrqueryendpoint"].startswith("http://testserver/collections/")
        lon, lat = f["geometry"]["coordinates"]
        assert -180 <= lon <= 360 and -90 <= lat <= 90  # RFC 7946: lon/lat, on the UTM scene too


def test_locations_list_and_location(client):
    doc = client.get("/collections/coads/locations").json()
    validate(doc, EDR_GEOJSON)
    f = doc["features"][0]
    assert f["properties"]["datetime"] == "2000-01-16T06:00:00Z/2000-12-16T01:20:05Z"
    r = client.get(f"/collections/coads/locations/{f['id']}", params={"datetime": "2000-01-16T06:00:00Z"})
    check_covjson(r.json())
    r = client.get(f"/collections/coads/locations/{f['id']}", params={"f": "GeoJSON"})
    validate(r.json(), EDR_GEOJSON)


@pytest.mark.parametrize("path,params", [
    ("/collections/coads/position", {}),
    ("/collections/coads/position", {"coords": "POINT(x y)"}),
    ("/collections/coads/radius", {"coords": "POINT(-30 40)", "within": "10"}),
    ("/collections/coads/corridor", {"coords": "LINESTRING(0 0,1 1)", "corridor-width": "1", "width-units": "km"}),
    ("/collections/coads/cube", {"bbox": "1,2,3"}),
    ("/collections/coads/position", {"coords": "POINT(-30 40)", "f": "xml"}),
    ("/collections/coads/locations/nope", {}),
    ("/collections/nope/position", {"coords": "POINT(0 0)"}),
    ("/collections/coads/instances", {}),
])
def test_exceptions(client, path, params):
    r = client.get(path, params=params)
    assert 400 <= r.status_code < 500, r.text[:300]
    doc = r.json()
    validate(doc, EXCEPTION)
    validate(doc, "features-1.0.1/exception.yaml")
    assert doc["status"] == r.status_code and doc["detail"]


def test_ndarray_defect_is_only_the_oneof(client):
    """The EDR schema's only complaints about a real answer are its `oneOf` defects (see module doc)."""
    doc = client.get("/collections/coads/area", params={**COADS["area"], "datetime": "2000-01-16T06:00:00Z"}).json()
    raw = list(validator(EDR_COVJSON).iter_errors(doc))
    assert raw and all(e.validator == "oneOf" for e in raw)
    assert edr_covjson_errors(doc) == []
