"""Area (cells whose centres are inside the polygon) and cube (cells inside the bbox) against xarray slices."""

from __future__ import annotations

import numpy as np
from pyproj import Transformer

from tests.conftest import open_source

from .conftest import covjson, values


def test_coads_rectangle_area_equals_slice(client):
    src = open_source("coads_sst.nc")
    cov = covjson(client, "/collections/coads/area", coords="POLYGON((-30 30,-20 30,-20 40,-30 40,-30 30))",
                  parameter_name="SST", datetime="2000-02-01/2000-04-30")
    exp = src.SST.sel(COADSX=slice(-30, -20), COADSY=slice(30, 40), TIME=slice("2000-02-01", "2000-04-30"))
    assert cov["domain"]["domainType"] == "Grid"
    assert cov["domain"]["axes"]["x"]["values"] == exp.COADSX.values.tolist()
    assert cov["domain"]["axes"]["y"]["values"] == exp.COADSY.values.tolist()
    assert cov["ranges"]["SST"]["axisNames"] == ["t", "y", "x"]
    np.testing.assert_allclose(values(cov, "SST"), exp.values, rtol=1e-6)


def test_coads_triangle_masks_cells_outside(client):
    src = open_source("coads_sst.nc")
    # right triangle: inside where y - 30 <= x + 30, x in [-30, -20], y in [30, 40]
    cov = covjson(client, "/collections/coads/area", coords="POLYGON((-30 30,-20 30,-20 40,-30 30))",
                  parameter_name="SST", datetime="2000-01-16T06:00:00Z")
    box = src.SST.isel(TIME=0).sel(COADSX=slice(-30, -20), COADSY=slice(30, 40))
    X, Y = np.meshgrid(box.COADSX.values, box.COADSY.values)
    inside = (Y - 30) <= (X + 30)
    got = values(cov, "SST")[0]
    assert got.shape == box.shape
    np.testing.assert_allclose(got[inside], box.values[inside], rtol=1e-6)
    assert np.isnan(got[~inside]).all()
    assert (~inside).sum() > 0 and inside.sum() > 0


def test_multipolygon_area(client):
    cov = covjson(client, "/collections/coads/area", parameter_name="SST", datetime="2000-01-16T06:00:00Z",
                  coords="MULTIPOLYGON(((-30 30,-26 30,-26 34,-30 34,-30 30)),((-14 30,-10 30,-10 34,-14 34,-14 30)))")
    got = values(cov, "SST")[0]
    xs = np.array(cov["domain"]["axes"]["x"]["values"])
    assert xs.min() == -29 and xs.max() == -11
    gap = (xs > -26) & (xs < -14)
    assert np.isnan(got[:, gap]).all() and not np.isnan(got[:, ~gap]).all()


def test_area_resolution_picks_evenly_spread_cells(client):
    cov = covjson(client, "/collections/coads/area", coords="POLYGON((-30 30,-12 30,-12 40,-30 40,-30 30))",
                  parameter_name="SST", datetime="2000-01-16T06:00:00Z", resolution_x="3", resolution_y="2")
    assert cov["domain"]["axes"]["x"]["values"] == [-29.0, -21.0, -13.0]  # 9 cells -> first, middle, last
    assert cov["domain"]["axes"]["y"]["values"] == [31.0, 39.0]


def test_eraint_area_descending_latitude(client):
    src = open_source("eraint_uvz.nc")
    cov = covjson(client, "/collections/eraint/area", coords="POLYGON((0 40,5 40,5 45,0 45,0 40))",
                  parameter_name="v", z="850", month="1")
    exp = src.v.sel(month=1, level=850, latitude=slice(45, 40), longitude=slice(0, 5))
    assert cov["domain"]["axes"]["y"]["values"] == exp.latitude.values.tolist()  # stays descending, as stored
    np.testing.assert_allclose(values(cov, "v").reshape(exp.shape), exp.values)


def test_eraint_cube_with_z_list(client):
    src = open_source("eraint_uvz.nc")
    doc = covjson(client, "/collections/eraint/cube", bbox="-10,50,-5,55", parameter_name="z", z="200,850")
    assert doc["type"] == "CoverageCollection" and len(doc["coverages"]) == 2  # one per month
    cov = doc["coverages"][1]
    assert cov["id"] == "month=7" and cov["domain"]["axes"]["z"]["values"] == [200, 850]
    exp = src.z.sel(month=7, level=[200, 850], latitude=slice(55, 50), longitude=slice(-10, -5))
    np.testing.assert_allclose(values(cov, "z"), exp.values)


def test_mur_sst_cube(client):
    src = open_source("analysed_sst.zarr")
    cov = covjson(client, "/collections/mur-sst/cube", bbox="-27.8,40.2,-27.6,40.3", parameter_name="analysed_sst",
                  datetime="2005-12-10T00:00:00Z/2005-12-12T23:00:00Z")
    exp = src.analysed_sst.sel(lon=slice(-27.8, -27.6), lat=slice(40.2, 40.3), time=slice("2005-12-10", "2005-12-12T23"))
    assert values(cov, "analysed_sst").shape == exp.shape
    np.testing.assert_allclose(values(cov, "analysed_sst"), exp.values)


def test_basin_mask_area_across_greenwich(client):
    src = open_source("basin_mask.nc")
    cov = covjson(client, "/collections/basin-mask/area", coords="POLYGON((-5 35,5 35,5 40,-5 40,-5 35))", z="0")
    xs = cov["domain"]["axes"]["x"]["values"]
    assert xs == [-4.5, -3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 4.5]
    exp = src.basin.sel(Z=0, Y=slice(35, 40)).sel(X=[x % 360 for x in xs])
    np.testing.assert_array_equal(values(cov, "basin")[0], exp.values)


def test_landsat_area_lonlat_polygon(client):
    src = open_source("RGB.byte.tif").band_data.sel(band=1)
    poly = [(-77.8, 24.5), (-77.7, 24.5), (-77.7, 24.6), (-77.8, 24.6)]
    wkt = "POLYGON((" + ",".join(f"{x} {y}" for x, y in poly + poly[:1]) + "))"
    cov = covjson(client, "/collections/landsat-rgb/area", coords=wkt, parameter_name="band_1")
    xs, ys = np.array(cov["domain"]["axes"]["x"]["values"]), np.array(cov["domain"]["axes"]["y"]["values"])
    got = values(cov, "band_1")
    X, Y = np.meshgrid(xs, ys)
    lon, lat = Transformer.from_crs("EPSG:32618", "OGC:CRS84", always_xy=True).transform(X, Y)
    inside = (lon >= -77.8) & (lon <= -77.7) & (lat >= 24.5) & (lat <= 24.6)
    exp = src.sel(x=xs, y=ys).values
    np.testing.assert_array_equal(got[inside], exp[inside])
    assert np.isnan(got[~inside]).all()


def test_cmip5_cube_cftime(client):
    src = open_source("cmip5_rcp85_pcp_pctl25.nc")
    cov = covjson(client, "/collections/cmip5-pr/cube", bbox="-110,45,-100,50", datetime="2099-01-01/..")
    exp = src.pr.sel(lon=slice(-110, -100), lat=slice(50, 45)).isel(time=slice(-2, None))
    assert cov["domain"]["axes"]["t"]["values"] == ["2099-07-01T06:00:00Z", "2100-07-01T06:00:00Z"]
    np.testing.assert_allclose(values(cov, "pr"), exp.values, rtol=1e-6)


def test_streamed_grid_equals_in_memory(client, monkeypatch):
    from cubeserver.encode import covjson_stream as streaming

    params = dict(bbox="-60,-30,0,30", parameter_name="SST,AIRT")
    whole = covjson(client, "/collections/coads/cube", **params)
    monkeypatch.setattr(streaming, "STREAM_MIN_VALUES", 1)
    streamed = covjson(client, "/collections/coads/cube", **params)
    assert streamed == whole
    src = open_source("coads_sst.nc").sel(COADSX=slice(-60, 0), COADSY=slice(-30, 30))
    np.testing.assert_allclose(values(streamed, "AIRT"), src.AIRT.values, rtol=1e-6)
    masked = covjson(client, "/collections/coads/area", coords="POLYGON((-30 30,-20 30,-20 40,-30 30))",
                     parameter_name="SST")
    assert sum(v is None for v in masked["ranges"]["SST"]["values"]) > 0
