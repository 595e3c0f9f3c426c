"""Other sources than the default config: GeoPackage, time properties, legacy CRS, id rules."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point, shape

from .conftest import PLACES, assert_error, ids_of, walk


def app_for(collections: dict, root: Path):
    from cubeserver.app import create_app
    from cubeserver.config import config_from_dict

    return create_app(config_from_dict({"collections": collections, "state_dir": str(root / "state")}, root))


def write_geojson(path: Path, features: list[dict], **extra) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features, **extra}))
    return path


def point(x, y, fid=None, **props):
    f = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]}, "properties": props}
    if fid is not None:
        f["id"] = fid
    return f


@pytest.fixture(scope="module")
def gpkg_client(tmp_path_factory):
    """The places GeoJSON and a GeoPackage copy of it (FIDs = GeoJSON ids), served side by side."""
    if shutil.which("ogr2ogr") is None:
        pytest.skip("ogr2ogr not installed")
    tmp = tmp_path_factory.mktemp("gpkg")
    gpkg = tmp / "places.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", "-preserve_fid", "-nln", "places", str(gpkg), str(PLACES)],
                   check=True, capture_output=True)
    app = app_for({"json": {"path": str(PLACES)}, "gpkg": {"path": str(gpkg)}}, tmp)
    with TestClient(app) as c:
        yield c


@pytest.mark.parametrize("params", [
    {"limit": 17},
    {"bbox": "-10,35,30,60", "limit": 100},
    {"adm0name": "United States of America", "limit": 5},
    {"pop_max": "9904000"},
    {"adm0cap": "1", "scalerank": "0", "limit": 100},
    {"properties": "name,capalt", "limit": 100},
    {"bbox": "35,-10,60,30", "bbox-crs": "EPSG:4326", "megacity": "1"},
])
def test_geopackage_served_like_geojson(gpkg_client, params):
    from_json = walk(gpkg_client, "/collections/json/items", params)
    from_gpkg = walk(gpkg_client, "/collections/gpkg/items", params)
    assert ids_of(from_json) and ids_of(from_gpkg) == ids_of(from_json)
    assert from_gpkg[0]["numberMatched"] == from_json[0]["numberMatched"]
    for a, b in zip([f for p in from_json for f in p["features"]], [f for p in from_gpkg for f in p["features"]]):
        assert a["properties"] == b["properties"]
        assert shape(a["geometry"]).equals(shape(b["geometry"]))


def test_geopackage_item_queryables_and_extent(gpkg_client):
    a = gpkg_client.get("/collections/json/items/17").json()
    b = gpkg_client.get("/collections/gpkg/items/17").json()
    assert a["properties"] == b["properties"] and a["geometry"] == b["geometry"]
    qa = gpkg_client.get("/collections/json/queryables").json()["properties"]
    qb = gpkg_client.get("/collections/gpkg/queryables").json()["properties"]
    assert {k: v["type"] for k, v in qa.items() if "type" in v} == {k: v["type"] for k, v in qb.items() if "type" in v}
    ea = gpkg_client.get("/collections/json").json()["extent"]["spatial"]["bbox"][0]
    eb = gpkg_client.get("/collections/gpkg").json()["extent"]["spatial"]["bbox"][0]
    assert ea == pytest.approx(eb)


TIMES = ["2020-01-01T00:00:00Z", "2020-06-15T12:30:00Z", "2020-06-15", "2021-03-01T08:00:00+02:00", None,
         "not a time", "2022-12-31T23:59:59Z"]


@pytest.fixture(scope="module")
def time_client(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("time")
    path = write_geojson(tmp / "obs.geojson", [point(i, i, fid=f"obs-{i}", when=t, n=i) for i, t in enumerate(TIMES)])
    with TestClient(app_for({"obs": {"path": str(path), "time_property": "when"}}, tmp)) as c:
        yield c


UNTIMED = [4, 5]  # no time / an unreadable one: they match every datetime (Features /req/core/fc-time-response C)


@pytest.mark.parametrize("query,expected", [
    ("2020-01-01T00:00:00Z", [0]),
    ("2020-06-15T12:30:00Z", [1, 2]),           # a date covers its whole day
    ("2020-06-15", [1, 2]),
    ("2020-06-01/2020-12-31", [1, 2]),
    ("../2020-06-14", [0]),
    ("2021-01-01/..", [3, 6]),
    ("2021-03-01T06:00:00Z", [3]),              # +02:00 is 06:00 UTC
    ("2021-03-01T08:00:00Z", []),
    ("2019-01-01/2019-12-31", []),
])
def test_datetime_filter(time_client, query, expected):
    doc = time_client.get("/collections/obs/items", params={"datetime": query, "limit": 100}).json()
    expected = sorted(expected + UNTIMED)
    assert ids_of([doc]) == [f"obs-{i}" for i in expected]
    assert doc["numberMatched"] == len(expected)


def test_temporal_extent_and_combined_filter(time_client):
    ext = time_client.get("/collections/obs").json()["extent"]["temporal"]
    assert ext["interval"] == [["2020-01-01T00:00:00Z", "2022-12-31T23:59:59Z"]]
    assert ext["trs"] == "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
    doc = time_client.get("/collections/obs/items", params={"datetime": "2020-01-01/..", "n": "3"}).json()
    assert ids_of([doc]) == ["obs-3"]


@pytest.mark.parametrize("value", ["2020-13-01", "yesterday", "2020-01-01/2019-01-01", "../..", "a/b/c"])
def test_bad_datetime(time_client, value):
    assert_error(time_client.get("/collections/obs/items", params={"datetime": value}), 400, "datetime")


def test_legacy_crs_member_is_reprojected(tmp_path):
    """A GeoJSON 2008 file in EPSG:3857 is served in lon/lat."""
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    x, y = tr.transform(2.35, 48.85)
    path = write_geojson(tmp_path / "merc.geojson", [point(x, y, name="Paris")],
                         crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}})
    with TestClient(app_for({"merc": {"path": str(path)}}, tmp_path)) as c:
        f = c.get("/collections/merc/items").json()["features"][0]
        assert shape(f["geometry"]).equals_exact(Point(2.35, 48.85), 1e-9)
        assert c.get("/collections/merc/items", params={"bbox": "2,48,3,49"}).json()["numberMatched"] == 1


def test_shapefile_in_utm_is_reprojected(tmp_path):
    import numpy as np
    import pyogrio.raw
    import shapely
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4326", "EPSG:32631", always_xy=True)
    pts = [(2.35, 48.85), (3.0, 45.0)]
    wkb = np.array([shapely.to_wkb(Point(*tr.transform(*p))) for p in pts], dtype=object)
    path = tmp_path / "utm.shp"
    pyogrio.raw.write(path, wkb, [np.array(["a", "b"], dtype=object)], fields=["label"],
                      geometry_type="Point", crs="EPSG:32631", driver="ESRI Shapefile")
    with TestClient(app_for({"utm": {"path": str(path)}}, tmp_path)) as c:
        feats = c.get("/collections/utm/items").json()["features"]
        assert [f["properties"]["label"] for f in feats] == ["a", "b"]
        for f, p in zip(feats, pts):
            assert shape(f["geometry"]).equals_exact(Point(*p), 1e-7)


def test_id_rules(tmp_path):
    from cubeserver.features.store import FeatureStore

    feats = [point(0, 0, fid=10, code="x"), point(1, 1, fid=20, code="y")]
    path = write_geojson(tmp_path / "a.geojson", feats)
    assert FeatureStore.open(path, id_property="code").ids == ["x", "y"]
    assert FeatureStore.open(path).ids == ["10", "20"]
    assert FeatureStore.open(path, id_property="nope").ids == ["10", "20"]  # falls back, logged
    dup = write_geojson(tmp_path / "b.geojson", [point(0, 0, fid=1, code="x"), point(1, 1, fid=1, code="x")])
    store = FeatureStore.open(dup, id_property="code")
    assert (store.ids, store.id_source) == (["0", "1"], "index")
    fid, geom, props = next(iter(store))
    assert fid == "0" and geom.equals(Point(0, 0)) and props == {"code": "x"}
    assert store.get("1").properties == {"code": "x"} and store.get("2") is None


def test_null_geometry_and_bad_file(tmp_path):
    from cubeserver.features.store import FeatureStore

    path = write_geojson(tmp_path / "n.geojson", [{"type": "Feature", "geometry": None, "properties": {"a": 1}},
                                                  point(5, 5, a=2)])
    with TestClient(app_for({"n": {"path": str(path)}}, tmp_path)) as c:
        doc = c.get("/collections/n/items").json()
        assert [f["geometry"] for f in doc["features"]][0] is None
        # a feature without geometry matches every bbox (Features /req/core/fc-bbox-response C)
        assert c.get("/collections/n/items", params={"bbox": "0,0,10,10"}).json()["numberMatched"] == 2
        assert c.get("/collections/n/items", params={"bbox": "20,20,30,30"}).json()["numberMatched"] == 1
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "Topology"}')
    with pytest.raises(ValueError, match="FeatureCollection"):
        FeatureStore.open(bad)


def test_html_escapes_script_breakouts(tmp_path):
    path = write_geojson(tmp_path / "evil.geojson", [point(1, 2, name="</script><script>alert(1)</script>")])
    with TestClient(app_for({"evil": {"path": str(path)}}, tmp_path)) as c:
        html = c.get("/collections/evil/items", params={"f": "html"}).text
    assert "<script>alert(1)" not in html
