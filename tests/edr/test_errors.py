"""Every client mistake is a 400 (or 404/413) OGC exception naming the parameter and what is allowed."""

from __future__ import annotations

import pytest

from .conftest import error, query

POS = "/collections/coads/position"


@pytest.mark.parametrize("coords, words", [
    ("POINT(-30)", "malformed POINT"),
    ("PIONT(-30 40)", "unknown geometry type"),
    ("-30 40", "not Well Known Text"),
    ("POLYGON((0 0,1 0,1 1,0 0))", "POLYGON is not accepted"),
    ("POINT(nan 40)", "finite"),
])
def test_bad_wkt(client, coords, words):
    assert words in error(client, POS, "coords", coords=coords)


def test_missing_coords(client):
    assert "coords" in error(client, POS, "coords")


def test_self_intersecting_polygon(client):
    detail = error(client, "/collections/coads/area", "coords", coords="POLYGON((0 0,10 10,10 0,0 10,0 0))")
    assert "not valid" in detail


def test_outside_extent_says_the_extent(client):
    detail = error(client, "/collections/mur-sst/position", "coords", coords="POINT(10 10)")
    assert "outside the collection extent" in detail and "-28.005" in detail
    detail = error(client, "/collections/landsat-rgb/position", "coords", coords="POINT(0 0)")
    assert "(native)" in detail
    detail = error(client, "/collections/mur-sst/cube", "bbox", bbox="10,10,20,20")
    assert "extent" in detail and "-28.005" in detail
    detail = error(client, "/collections/coads/cube", "bbox", bbox="10,91,20,95")
    assert "latitude 91" in detail and "-90..90" in detail  # out of range, not just outside the extent


def test_unknown_parameter_lists_valid(client):
    detail = error(client, POS, "parameter-name", coords="POINT(-30 40)", parameter_name="SST,sst2")
    assert "'sst2'" in detail and "SST, AIRT, UWND, VWND" in detail


def test_z_not_a_level_lists_levels(client):
    detail = error(client, "/collections/eraint/position", "z", coords="POINT(0 45)", z="300")
    assert "200, 500, 850" in detail
    assert "no vertical axis" in error(client, POS, "z", coords="POINT(0 45)", z="10")


def test_datetime_outside_is_no_data(client):
    """EDR 1.1 /req/edr/query_type/no-data: a valid datetime outside the data is 204 with no body;
    a malformed one (and datetime on a collection without time) stays a 400."""
    for dt in ("1990-01-01T00:00:00Z", "1990-01-01/1991-01-01", "2001-01-01/.."):
        r = client.get(POS, params={"coords": "POINT(-30 40)", "datetime": dt})
        assert r.status_code == 204 and r.content == b"", (dt, r.status_code, r.text[:200])
    assert "RFC 3339" in error(client, POS, "datetime", coords="POINT(-30 40)", datetime="yesterday")
    assert "no time axis" in error(client, "/collections/eraint/position", "datetime", coords="POINT(0 45)",
                                   datetime="2000-01-01")


def test_unsupported_format_lists_formats(client):
    detail = error(client, POS, "f", coords="POINT(-30 40)", f="xlsx")
    assert "covjson" in detail and "netcdf" in detail
    assert "geojson" not in error(client, "/collections/coads/area", "f", f="geojson",
                                  coords="POLYGON((-30 30,-20 30,-20 40,-30 30))").split("allowed:")[1]


def test_unsupported_crs(client):
    assert "supported" in error(client, POS, "crs", coords="POINT(-30 40)", crs="EPSG:3857")
    assert "not a known CRS" in error(client, POS, "crs", coords="POINT(-30 40)", crs="nonsense")


def test_radius_and_corridor_parameters(client):
    assert error(client, "/collections/coads/radius", "within", coords="POINT(-30 40)", within_units="km")
    assert "km" in error(client, "/collections/coads/radius", "within-units", coords="POINT(-30 40)", within="5")
    assert "units" in error(client, "/collections/coads/radius", "within-units", coords="POINT(-30 40)", within="5",
                            within_units="furlongs")
    assert "within" in error(client, "/collections/coads/radius", "within", coords="POINT(-30 40)", within="1",
                             within_units="km")
    assert error(client, "/collections/coads/corridor", "corridor-width", coords="LINESTRING(0 0,1 1)")
    corridor = {"coords": "LINESTRING(-30 40,-20 40)", "corridor_width": "300"}
    assert "km" in error(client, "/collections/coads/corridor", "width-units", **corridor)
    assert error(client, "/collections/coads/corridor", "corridor-height", **corridor, width_units="km")
    assert "m, km, mi" in error(client, "/collections/coads/corridor", "height-units", **corridor, width_units="km",
                                corridor_height="5")
    assert "millibars" in error(client, "/collections/eraint/corridor", "height-units", **corridor, width_units="km",
                                corridor_height="5", height_units="m")


def test_trajectory_conflicts(client):
    assert "per vertex" in error(client, "/collections/mur-sst/trajectory", "datetime", datetime="2005-12-02",
                                 coords="LINESTRINGM(-27.9 40.1 1133514000,-27.5 40.1 1133600400)")
    assert "temporal extent" in error(client, "/collections/mur-sst/trajectory", "coords",
                                      coords="LINESTRINGM(-27.9 40.1 0,-27.5 40.1 10)")
    assert "vertical" in error(client, "/collections/coads/trajectory", "coords", coords="LINESTRINGZ(-30 40 1,-20 40 2)")


def test_cube_bbox_errors(client):
    assert "4 numbers" in error(client, "/collections/coads/cube", "bbox", bbox="1,2,3")
    assert "greater" in error(client, "/collections/coads/cube", "bbox", bbox="0,10,10,0")  # minx > maxx: antimeridian, see test_antimeridian.py


def test_extra_dimension_value(client):
    assert "month" in error(client, "/collections/eraint/position", "month", coords="POINT(0 45)", month="3")


def test_not_found(client):
    query(client, "/collections/nope/position", status=404, coords="POINT(0 0)")
    query(client, "/collections/places/position", status=404, coords="POINT(0 0)")
    query(client, "/collections/coads/instances", status=404)
    query(client, "/collections/mur-sst/locations", status=404)
    query(client, "/collections/coads/instances/2000-01-01/position", status=404, coords="POINT(0 0)")


def test_too_large_is_413(tmp_path, app):
    from fastapi.testclient import TestClient

    from tests.conftest import app_on_shared_collections

    cfg = app.state.ctx.config.model_copy(deep=True)
    cfg.limits.max_cells = 1000
    cfg.state_dir = str(tmp_path)
    with TestClient(app_on_shared_collections(app, cfg)) as c:
        r = c.get("/collections/coads/cube", params={"bbox": "-180,-90,180,90"})
        assert r.status_code == 413 and "narrow" in r.json()["detail"]
        assert c.get("/collections/coads/position", params={"coords": "POINT(-30 40)"}).status_code == 200


def test_table_formats_refuse_huge_answers(client):
    detail = error(client, "/collections/cogeo/radius", None, status=413, coords="POINT(128.658 37.6686)",
                   within="2", within_units="km", f="csv")
    assert "CoverageJSON or NetCDF" in detail
