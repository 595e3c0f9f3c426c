"""Collection metadata (data_queries, parameter_names), conformance, named locations and instances."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.conftest import open_source

from .conftest import covjson, query, values

EDR = "http://www.opengis.net/spec/ogcapi-edr-1/1.1/conf/"


def test_conformance_lists_edr_classes(client):
    conf = client.get("/conformance").json()["conformsTo"]
    for c in ("core", "collections", "json", "covjson", "geojson", "edr-geojson", "queries", "instances", "oas30"):
        assert EDR + c in conf


def test_collection_data_queries(client):
    doc = client.get("/collections/eraint").json()
    dq = doc["data_queries"]
    assert set(dq) == {"position", "area", "cube", "radius", "trajectory", "corridor", "locations"}
    for name, q in dq.items():
        v = q["link"]["variables"]
        assert q["link"]["href"].endswith(f"/collections/eraint/{name}")
        assert v["query_type"] == name and v["default_output_format"] == "CoverageJSON"
        assert "CoverageJSON" in v["output_formats"] and "NetCDF" in v["output_formats"]
        assert any(c["crs"].endswith("CRS84") and c["wkt"] for c in v["crs_details"])
    assert dq["radius"]["link"]["variables"]["within_units"] == ["m", "km", "mi"]
    assert dq["area"]["link"]["variables"]["output_formats"] == ["CoverageJSON", "NetCDF", "NetCDF4"]
    assert "GeoJSON" in dq["position"]["link"]["variables"]["output_formats"]
    hrefs = [ln["href"] for ln in doc["links"]]
    assert any(h.endswith("/collections/eraint/position") for h in hrefs)
    assert doc["output_formats"] == ["CoverageJSON", "NetCDF", "NetCDF4", "GeoJSON", "CSV"]
    assert doc["extent"]["vertical"]["values"] == ["200", "500", "850"]
    assert doc["extent"]["custom"][0]["id"] == "month" and doc["extent"]["custom"][0]["values"] == [1, 7]


def test_parameter_names(client):
    p = client.get("/collections/eraint").json()["parameter_names"]["u"]
    assert p["type"] == "Parameter" and p["unit"]["symbol"] == "m s**-1"
    assert p["observedProperty"]["id"].endswith("/eastward_wind/") and p["description"] == "U component of wind"
    landsat = client.get("/collections/landsat-rgb").json()
    assert set(landsat["parameter_names"]) == {"band_1", "band_2", "band_3"}
    assert "locations" not in landsat["data_queries"]
    assert landsat["parameter_names"]["band_1"]["observedProperty"]["id"] == "band_1"  # no standard_name: its name
    places = client.get("/collections/places").json()  # Features-only: just the EDR items query
    assert list(places["data_queries"]) == ["items"] and places["parameter_names"] == {}
    html = client.get("/collections/eraint", params={"f": "html"}).text
    assert "eastward_wind" in html


def test_locations_list_and_query(client):
    doc = query(client, "/collections/coads/locations").json()
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) > 100
    lisbon = next(f for f in doc["features"] if f["properties"]["name"] == "Lisbon")
    lon, lat = lisbon["geometry"]["coordinates"]
    cov = covjson(client, f"/collections/coads/locations/{lisbon['id']}", parameter_name="SST")
    src = open_source("coads_sst.nc").SST.sel(COADSX=lon, COADSY=lat, method="nearest")
    assert cov["domain"]["domainType"] == "PointSeries"
    np.testing.assert_allclose(values(cov, "SST"), src.values, rtol=1e-6)
    csv = query(client, f"/collections/coads/locations/{lisbon['id']}", f="csv", parameter_name="SST")
    assert csv.text.count("\n") == 13
    query(client, "/collections/coads/locations/no-such-place", status=404)


def test_instances_listing(client, forecast_client, forecast):
    doc = query(forecast_client, "/collections/fc/instances").json()
    ids = [i["id"] for i in doc["instances"]]
    assert ids == ["2024-03-01T00:00:00Z", "2024-03-01T12:00:00Z", "2024-03-02T00:00:00Z"]
    inst = doc["instances"][1]
    assert inst["extent"]["temporal"]["interval"] == [["2024-03-01T12:00:00Z", "2024-03-02T12:00:00Z"]]
    assert inst["data_queries"]["position"]["link"]["href"].endswith("/collections/fc/instances/2024-03-01T12:00:00Z/position")
    one = query(forecast_client, "/collections/fc/instances/2024-03-01T12:00:00Z").json()
    assert one["id"] == "2024-03-01T12:00:00Z"
    coll = query(forecast_client, "/collections/fc").json()
    assert "instances" in coll["data_queries"]
    assert "http://www.opengis.net/spec/ogcapi-edr-1/1.1/conf/instances" in forecast_client.get("/conformance").json()["conformsTo"]


def test_instance_queries_run_by_run(forecast_client, forecast):
    _, ds = forecast
    for k, iid in enumerate(["2024-03-01T00:00:00Z", "2024-03-01T12:00:00Z", "2024-03-02T00:00:00Z"]):
        cov = covjson(forecast_client, f"/collections/fc/instances/{iid}/position", coords="POINT(2.3 45.6)")
        assert cov["domain"]["domainType"] == "PointSeries"
        run = pd.Timestamp(iid).tz_localize(None)
        valid = [pd.Timestamp(t).tz_localize(None) for t in cov["domain"]["axes"]["t"]["values"]]
        assert valid == [run + pd.Timedelta(hours=h) for h in (0, 6, 12, 18, 24)]
        exp = ds.t2m.isel(reference_time=k).sel(lat=45.6, lon=2.3, method="nearest").values
        np.testing.assert_allclose(values(cov, "t2m"), exp)
    # valid-time selection inside one run, and the latest run at collection level
    cov = covjson(forecast_client, "/collections/fc/instances/2024-03-01T12:00:00Z/cube", bbox="0,44,2,46",
                  datetime="2024-03-02T00:00:00Z")
    assert cov["domain"]["axes"]["t"]["values"] == ["2024-03-02T00:00:00Z"]
    np.testing.assert_allclose(np.unique(np.floor(values(cov, "t2m"))), [112])
    latest = covjson(forecast_client, "/collections/fc/position", coords="POINT(2.3 45.6)")
    assert latest["domain"]["axes"]["t"]["values"][0] == "2024-03-02T00:00:00Z"
    query(forecast_client, "/collections/fc/instances/2023-01-01T00:00:00Z/position", status=404, coords="POINT(2 45)")
    same = covjson(forecast_client, "/collections/fc/instances/2024-03-01T12:00Z/position", coords="POINT(2.3 45.6)")
    assert same["domain"]["axes"]["t"]["values"][0] == "2024-03-01T12:00:00Z"
