"""Boxes across the antimeridian (minx > maxx, the OGC API bbox rule) on -180..180 and 0..360 grids."""

from __future__ import annotations

import numpy as np
import xarray as xr

from tests.conftest import DATASETS, open_source
from tests.coverages.conftest import assert_error, netcdf
from tests.edr.conftest import covjson, values


def test_edr_cube_on_a_minus180_grid_joins_both_sides(client):
    with xr.open_dataset(DATASETS / "CMC_glb_TMP_TGL_2_latlon.15x.15_2020081000_P000.grib2", engine="cfgrib",
                         backend_kwargs={"indexpath": ""}) as ds:
        t2m = ds["t2m"].sel(latitude=slice(-0.5, 0.5)).load()
    cov = covjson(client, "/collections/gem-global/cube", bbox="179.5,-0.5,-179.5,0.5")
    east = t2m.sel(longitude=slice(179.5, 180))
    west = t2m.sel(longitude=slice(-180, -179.5))
    expected = np.concatenate([east.values, west.values], axis=-1)
    got = values(cov, "t2m").astype("float32")
    np.testing.assert_array_equal(got.reshape(expected.shape), expected)
    xs = cov["domain"]["axes"]["x"]["values"]
    assert np.all(np.diff(xs) > 0) and xs[0] >= 179.5 and xs[-1] <= 180.5  # one ascending axis, west side + 360
    np.testing.assert_allclose(xs, np.concatenate([east.longitude.values, west.longitude.values + 360]))


def test_edr_cube_on_a_0_360_grid(client):
    src = open_source("basin_mask.nc")["basin"].isel(Z=0)
    cov = covjson(client, "/collections/basin-mask/cube", bbox="170,-5,-170,5", z="0")
    expected = src.sel(Y=slice(-5, 5), X=slice(170, 190)).values
    got = values(cov, "basin")
    np.testing.assert_array_equal(got.reshape(expected.shape), expected)
    assert cov["domain"]["axes"]["x"]["values"][0] == 170.5


def test_coverage_bbox_as_netcdf(client):
    src = open_source("coads_sst.nc")["SST"]
    r = client.get("/collections/coads/coverage", params={"bbox": "170,-10,-170,10", "properties": "SST", "f": "netcdf"})
    assert r.status_code == 200, r.text[:300]
    got = netcdf(r.content)["SST"]
    box = src.sel(COADSY=slice(-10, 10))
    expected = xr.concat([box.sel(COADSX=slice(170, 180)), box.sel(COADSX=slice(-180, -170))], dim="COADSX")
    np.testing.assert_array_equal(got.transpose(*expected.dims).values, expected.values)
    np.testing.assert_array_equal(got["COADSX"].values, [171, 173, 175, 177, 179, 181, 183, 185, 187, 189])


def test_projected_grid_refuses_it_clearly(client):
    r = client.get("/collections/landsat-rgb/cube", params={"bbox": "170,-2,-170,2"})
    assert_error(r, 400, "bbox", "antimeridian", "projected")


def test_latitudes_must_still_be_ordered(client):
    r = client.get("/collections/coads/cube", params={"bbox": "170,10,-170,-10"})
    assert_error(r, 400, "bbox", "miny")


def test_points_on_a_0_360_grid_read_like_the_question(client):
    """Labels in the question's frame, ties to the larger longitude as read: 0° -> 0.5, not 359.5."""
    src = open_source("basin_mask.nc")["basin"].isel(Z=0)
    cases = {"POINT(0 0)": 0.5, "POINT(-0.1 0)": -0.5, "POINT(200 0)": 200.5, "POINT(-30.2 0)": -30.5,
             "POINT(179.9 0)": 179.5}
    for wkt, label in cases.items():
        cov = covjson(client, "/collections/basin-mask/position", coords=wkt, z="0")
        assert cov["domain"]["axes"]["x"]["values"] == [label], wkt
        native = label % 360
        assert values(cov, "basin").ravel()[0] == float(src.sel(X=native, Y=0.5, method="nearest")), wkt
    coll = covjson(client, "/collections/basin-mask/position", coords="MULTIPOINT((0 0),(-30 40))", z="0")
    assert [c["domain"]["axes"]["x"]["values"] for c in coll["coverages"]] == [[0.5], [-29.5]]
