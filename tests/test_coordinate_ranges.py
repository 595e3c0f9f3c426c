"""Coordinates that cannot be right are a 400 naming the parameter, never silently wrapped or clipped.

Lon/lat: longitude within -180..360, latitude within -90..90 (POINT(500 38.6) is not 140E).
Projected `crs`/`bbox-crs`: inside the CRS's area of use (pyproj `area_of_use`, EPSG's extent).
Valid edge cases keep working: 0..360 longitudes, -180/360 themselves, antimeridian boxes.
"""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import CRS, Transformer

OGC_EXC = "http://www.opengis.net/def/exceptions/ogcapi-common-1/1.0/"


def refused(r, parameter: str, *words: str) -> str:
    assert r.status_code == 400, (r.status_code, r.text[:300])
    body = r.json()
    assert body["type"].startswith(OGC_EXC) and body["parameter"] == parameter, body
    for w in words:
        assert w in body["detail"], body["detail"]
    return body["detail"]


@pytest.mark.parametrize("query, params, parameter, words", [
    ("position", {"coords": "POINT(500 38.6)"}, "coords", ["500", "-180..360"]),
    ("position", {"coords": "POINT(10 95)"}, "coords", ["95", "-90..90"]),
    ("position", {"coords": "POINT(-181 0)"}, "coords", ["-181"]),
    ("position", {"coords": "MULTIPOINT((-25 39),(150 -91))"}, "coords", ["-91"]),
    ("radius", {"coords": "POINT(500 38.6)", "within": "100", "within-units": "km"}, "coords", ["500"]),
    ("trajectory", {"coords": "LINESTRING(-30 40,400 40)"}, "coords", ["400"]),
    ("corridor", {"coords": "LINESTRING(-30 40,-20 95)", "corridor-width": "100", "width-units": "km",
                  "corridor-height": "0", "height-units": "m"}, "coords", ["95"]),
    ("area", {"coords": "POLYGON((0 40,400 40,5 45,0 45,0 40))"}, "coords", ["400"]),
    ("cube", {"bbox": "10,-100,20,20"}, "bbox", ["-100", "-90..90"]),
    ("cube", {"bbox": "10,20,20,100"}, "bbox", ["100"]),
])
def test_edr_out_of_range(client, query, params, parameter, words):
    refused(client.get(f"/collections/coads/{query}", params=params), parameter, *words)


def test_coverages_out_of_range(client):
    refused(client.get("/collections/coads/coverage", params={"subset": "Lat(-100:10)"}), "subset", "-100")
    refused(client.get("/collections/coads/coverage", params={"subset": "Lon(400:410)"}), "subset", "400")
    refused(client.get("/collections/coads/coverage", params={"bbox": "10,20,30,100"}), "bbox", "100")
    # a projected bbox-crs: outside the area of use of Web Mercator (85.06 N)
    r = client.get("/collections/coads/coverage", params={"bbox": "0,20000000,1000000,21000000", "bbox-crs": "EPSG:3857"})
    refused(r, "bbox", "area of use")


def test_projected_crs_outside_its_area_of_use(client):
    utm = CRS.from_epsg(32618)
    area = utm.area_of_use
    assert area is not None
    # 3000 km east of the central meridian is far outside UTM zone 18N (84W..72W)
    r = client.get("/collections/landsat-rgb/position", params={"coords": "POINT(3500000 2700000)", "crs": "EPSG:32618"})
    refused(r, "coords", "area of use", "UTM zone 18N")
    # inside the zone but outside the scene: the extent, as before
    r = client.get("/collections/landsat-rgb/position", params={"coords": "POINT(500000 100000)", "crs": "EPSG:32618"})
    refused(r, "coords", "outside the collection extent")


def test_valid_edges_still_work(client):
    # 0..360 and -180..180 both read on a 0..360 grid; -180 and 360 themselves are longitudes
    for x in ("-180", "180", "200", "360"):
        r = client.get("/collections/basin-mask/position", params={"coords": f"POINT({x} 10)"})
        assert r.status_code == 200, (x, r.text[:200])
    r = client.get("/collections/coads/cube", params={"bbox": "170,-10,-170,10", "parameter-name": "SST"})
    assert r.status_code == 200
    r = client.get("/collections/coads/position", params={"coords": "POINT(-25 90)"})
    assert r.status_code in (200, 400) and (r.status_code == 200 or "-90..90" not in r.json()["detail"])


def test_process_inputs_out_of_range(client):
    r = client.post("/processes/temporal-aggregate/execution", json={"inputs": {
        "collection": "coads", "variables": "SST", "reducer": "mean", "bbox": [-60, -20, 20, 100]}})
    refused(r, "bbox", "100")
    poly = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {
        "type": "Polygon", "coordinates": [[[0, 40], [400, 40], [5, 45], [0, 45], [0, 40]]]}}]}
    r = client.post("/processes/zonal-statistics/execution", json={"inputs": {
        "features": poly, "collection": "coads", "variable": "SST", "datetime": "2000-07-16T20:54:36Z"}})
    refused(r, "features", "400")


def test_web_mercator_coordinates_beyond_the_square_are_refused(client):
    """EPSG:3857 ends at y = ±pi R (±85.0511°, the WebMercatorQuad square), not at EPSG's rounded ±85.06°:
    a bbox-crs y between the two is a 400; the edge itself is accepted."""
    edge = np.pi * 6378137.0
    r = client.get("/collections/coads/coverage", params={"bbox": f"0,{edge * 0.99},1000000,{edge * 1.0004}",
                                                          "bbox-crs": "EPSG:3857", "f": "json"})
    refused(r, "bbox", "area of use")
    assert Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True).transform(0, edge * 1.0004)[1] < 85.06
    ok = client.get("/collections/coads/coverage", params={"bbox": f"0,{edge * 0.99},1000000,{edge}",
                                                           "bbox-crs": "EPSG:3857", "f": "json"})
    assert ok.status_code == 200, ok.text
