"""Position: the nearest cell of each bundled grid, compared with xarray's own nearest selection."""

from __future__ import annotations

import cftime
import numpy as np
import pytest
from pyproj import Transformer

from tests.conftest import open_source

from .conftest import covjson, times, values

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def test_coads_point_series_matches_nearest_cell(client):
    src = open_source("coads_sst.nc")
    cov = covjson(client, "/collections/coads/position", coords="POINT(-25.3 38.6)", parameter_name="SST")
    assert cov["type"] == "Coverage" and cov["domain"]["domainType"] == "PointSeries"
    expected = src.SST.sel(COADSX=-25.3, COADSY=38.6, method="nearest")
    axes = cov["domain"]["axes"]
    assert axes["x"]["values"] == [float(expected.COADSX)] and axes["y"]["values"] == [float(expected.COADSY)]
    assert len(axes["t"]["values"]) == 12 and axes["t"]["values"][0] == "2000-01-16T06:00:00Z"
    np.testing.assert_allclose(values(cov, "SST"), expected.values, rtol=1e-6)
    assert list(cov["parameters"]) == ["SST"]
    assert cov["parameters"]["SST"]["unit"]["symbol"] == "Deg C"  # not a UCUM code: a plain symbol


def test_coads_land_cell_is_null(client):
    cov = covjson(client, "/collections/coads/position", coords="POINT(-57.2 -16.8)", parameter_name="SST")  # Mato Grosso
    assert all(v is None for v in cov["ranges"]["SST"]["values"])


def test_multipoint_is_a_collection_of_point_series(client):
    src = open_source("coads_sst.nc")
    doc = covjson(client, "/collections/coads/position", coords="MULTIPOINT((-25.3 38.6),(150.2 -30.4))",
                  parameter_name="SST,AIRT", datetime="2000-03-01/2000-06-30")
    assert doc["type"] == "CoverageCollection" and len(doc["coverages"]) == 2
    assert set(doc["parameters"]) == {"SST", "AIRT"}
    for cov, (x, y) in zip(doc["coverages"], [(-25.3, 38.6), (150.2, -30.4)]):
        exp = src.sel(COADSX=x, COADSY=y, method="nearest").sel(TIME=slice("2000-03-01", "2000-06-30"))
        assert len(cov["domain"]["axes"]["t"]["values"]) == exp.sizes["TIME"] == 4
        for name in ("SST", "AIRT"):
            np.testing.assert_allclose(values(cov, name), exp[name].values, rtol=1e-6)


def test_eraint_vertical_profile_descending_latitude(client):
    src = open_source("eraint_uvz.nc")
    cov = covjson(client, "/collections/eraint/position", coords="POINT(10.2 45.1)", parameter_name="u", month="7")
    assert cov["domain"]["domainType"] == "VerticalProfile"
    exp = src.u.sel(month=7).sel(longitude=10.2, latitude=45.1, method="nearest")
    assert cov["domain"]["axes"]["z"]["values"] == [200, 500, 850]
    assert cov["domain"]["axes"]["y"]["values"] == [float(exp.latitude)]
    np.testing.assert_allclose(values(cov, "u"), exp.values)


def test_eraint_extra_dimension_splits_into_a_collection(client):
    src = open_source("eraint_uvz.nc")
    doc = covjson(client, "/collections/eraint/position", coords="POINT(10.2 45.1)", parameter_name="z", z="500")
    assert doc["type"] == "CoverageCollection"
    assert [c["id"] for c in doc["coverages"]] == ["month=1", "month=7"]
    for cov, month in zip(doc["coverages"], (1, 7)):
        assert cov["domain"]["domainType"] == "Point"
        exp = src.z.sel(month=month, level=500).sel(longitude=10.2, latitude=45.1, method="nearest")
        np.testing.assert_allclose(values(cov, "z").ravel(), [float(exp)])


def test_mur_sst_zarr(client):
    src = open_source("analysed_sst.zarr")
    cov = covjson(client, "/collections/mur-sst/position", coords="POINT(-27.513 40.487)",
                  parameter_name="analysed_sst", datetime="2005-12-05T09:00:00Z")
    exp = src.analysed_sst.sel(lon=-27.513, lat=40.487, method="nearest").sel(time="2005-12-05T09:00:00")
    assert cov["domain"]["domainType"] == "Point"
    assert cov["domain"]["axes"]["t"]["values"] == ["2005-12-05T09:00:00Z"]
    np.testing.assert_allclose(values(cov, "analysed_sst").ravel(), np.atleast_1d(exp.values))


def test_landsat_lonlat_query_on_utm_grid(client):
    src = open_source("RGB.byte.tif").band_data
    lon, lat = -77.75, 24.6
    cov = covjson(client, "/collections/landsat-rgb/position", coords=f"POINT({lon} {lat})")
    x, y = Transformer.from_crs("OGC:CRS84", "EPSG:32618", always_xy=True).transform(lon, lat)
    exp = src.sel(x=x, y=y, method="nearest")
    # without crs the answer is in CRS84, the CRS of the collection's extent (EDR /req/core/crs)
    refs = cov["domain"]["referencing"][0]["system"]
    assert refs["type"] == "GeographicCRS" and refs["id"].endswith("OGC/1.3/CRS84")
    cx, cy = Transformer.from_crs("EPSG:32618", "OGC:CRS84", always_xy=True).transform(float(exp.x), float(exp.y))
    assert cov["domain"]["axes"]["x"]["values"] == pytest.approx([cx])
    assert cov["domain"]["axes"]["y"]["values"] == pytest.approx([cy])
    for b in (1, 2, 3):
        got = values(cov, f"band_{b}").ravel()[0]
        want = float(exp.sel(band=b))
        assert (np.isnan(got) and np.isnan(want)) or got == want
    assert cov["ranges"]["band_1"]["dataType"] in ("integer", "float")


def test_landsat_native_crs_and_crs84_output(client):
    src = open_source("RGB.byte.tif").band_data
    cov = covjson(client, "/collections/landsat-rgb/position", coords="POINT(200000 2700000)", crs="EPSG:32618")
    exp = src.sel(x=200000, y=2700000, method="nearest")
    assert cov["domain"]["axes"]["y"]["values"] == pytest.approx([float(exp.y)])
    assert values(cov, "band_2").ravel()[0] == float(exp.sel(band=2))
    ll = covjson(client, "/collections/landsat-rgb/position", coords="POINT(-77.75 24.6)", crs="CRS84")
    assert ll["domain"]["referencing"][0]["system"]["id"] == CRS84
    assert -78 < ll["domain"]["axes"]["x"]["values"][0] < -77.5


def test_basin_mask_negative_longitude_on_0_360_grid(client):
    src = open_source("basin_mask.nc")
    cov = covjson(client, "/collections/basin-mask/position", coords="POINT(-30.2 40.3)", z="0")
    exp = src.basin.sel(Z=0).sel(X=360 - 30.2, Y=40.3, method="nearest")
    assert cov["domain"]["axes"]["x"]["values"] == [float(exp.X) - 360]  # the cell, in the query's convention
    assert values(cov, "basin").ravel()[0] == float(exp)


def test_basin_mask_profile_with_z_range_and_repeating_step(client):
    src = open_source("basin_mask.nc")
    cov = covjson(client, "/collections/basin-mask/position", coords="POINT(-30.2 40.3)", z="100/500")
    assert cov["domain"]["domainType"] == "VerticalProfile"
    assert cov["domain"]["axes"]["z"]["values"] == [100, 125, 150, 200, 250, 300, 400, 500]
    exp = src.basin.sel(Z=slice(100, 500)).sel(X=329.8, Y=40.3, method="nearest")
    np.testing.assert_array_equal(values(cov, "basin"), exp.values)
    rep = covjson(client, "/collections/basin-mask/position", coords="POINT(-30.2 40.3)", z="R3/0/10")
    assert rep["domain"]["axes"]["z"]["values"] == [0, 10, 20]


def test_cmip5_noleap_calendar(client):
    src = open_source("cmip5_rcp85_pcp_pctl25.nc")
    cov = covjson(client, "/collections/cmip5-pr/position", coords="POINT(-100.2 50.3)",
                  datetime="2050-01-01T00:00:00Z/2052-12-31T00:00:00Z")
    t0 = cftime.DatetimeNoLeap(2050, 1, 1)
    t1 = cftime.DatetimeNoLeap(2052, 12, 31)
    exp = src.pr.sel(lon=-100.2, lat=50.3, method="nearest").sel(time=slice(t0, t1))
    assert cov["domain"]["axes"]["t"]["values"] == ["2050-07-01T06:00:00Z", "2051-07-01T06:00:00Z", "2052-07-01T06:00:00Z"]
    temporal = [r for r in cov["domain"]["referencing"] if r["coordinates"] == ["t"]][0]
    assert temporal["system"]["calendar"].endswith("noleap")
    np.testing.assert_allclose(values(cov, "pr"), exp.values, rtol=1e-6)


def test_datetime_list_and_open_interval(client):
    listed = covjson(client, "/collections/coads/position", coords="POINT(-25 39)", parameter_name="SST",
                     datetime="2000-01-16T06:00:00Z,2000-12-16T01:20:05Z")
    assert [t.month for t in times(listed["domain"]["axes"]["t"])] == [1, 12]
    open_end = covjson(client, "/collections/coads/position", coords="POINT(-25 39)", parameter_name="SST",
                       datetime="2000-10-01/..")
    assert len(open_end["domain"]["axes"]["t"]["values"]) == 3
    open_start = covjson(client, "/collections/coads/position", coords="POINT(-25 39)", parameter_name="SST",
                         datetime="../2000-02-20")
    assert len(open_start["domain"]["axes"]["t"]["values"]) == 2


def test_vnd_cov_json_accept_header(client):
    r = client.get("/collections/coads/position", params={"coords": "POINT(-25 39)"},
                   headers={"Accept": "application/vnd.cov+json"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/prs.coverage+json")
