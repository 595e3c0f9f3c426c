"""The axis model on every bundled dataset and on small 0..360 / cftime datasets built here."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from cubeserver.axes import CRS84, build_axes
from cubeserver.config import config_from_dict
from cubeserver.registry import Registry

from .conftest import DATASETS, open_source


@pytest.fixture(scope="module")
def registry(config):
    return Registry(config)


@pytest.mark.parametrize(
    "cid, source, x, y, z, t, others",
    [
        ("coads", "coads_sst.nc", "COADSX", "COADSY", None, "TIME", []),
        ("eraint", "eraint_uvz.nc", "longitude", "latitude", "level", None, ["month"]),
        ("mur-sst", "analysed_sst.zarr", "lon", "lat", None, "time", []),
        ("cmip5-pr", "cmip5_rcp85_pcp_pctl25.nc", "lon", "lat", None, "time", []),
        ("basin-mask", "basin_mask.nc", "X", "Y", "Z", None, []),
    ],
)
def test_axes_of_netcdf_and_zarr(registry, cid, source, x, y, z, t, others):
    c = registry.get(cid)
    ax = c.axes
    assert (ax.x, ax.y, ax.z, ax.t, ax.others) == (x, y, z, t, others)
    src = open_source(source)
    np.testing.assert_allclose(ax.x_values, src[x].values)
    np.testing.assert_allclose(ax.y_values, src[y].values)
    assert ax.crs.equals(CRS84)
    # lazily opened: every data variable is still a dask array
    assert all(v.chunks is not None for v in c.ds.data_vars.values())
    if t:
        assert ax.time_interval()[0].endswith("Z")


def test_extents_from_data(registry):
    coads = registry.get("coads").axes
    assert coads.crs84_bbox() == (-180.0, -90.0, 180.0, 90.0)
    assert coads.time_interval() == ["2000-01-16T06:00:00Z", "2000-12-16T01:20:05Z"]
    era = registry.get("eraint").axes
    src = open_source("eraint_uvz.nc")
    assert era.y_values[0] > era.y_values[-1]  # descending latitude kept
    assert era.native_bbox()[1] == pytest.approx(float(src.latitude.min()) - 0.375)
    assert list(era.z_values) == [200, 500, 850] and era.z_units == "millibars" and era.z_positive == "down"
    cm = registry.get("cmip5-pr").axes
    assert cm.calendar == "noleap"
    assert cm.time_interval() == ["2006-07-01T06:00:00Z", "2100-07-01T06:00:00Z"]
    basin = registry.get("basin-mask").axes
    assert basin.lon_360 and basin.crs84_bbox() == (-180.0, -90.0, 180.0, 90.0)


@pytest.mark.parametrize("cid, epsg", [("landsat-rgb", 32618), ("cogeo", 3857), ("shade", 3857)])
def test_geotiff_axes_and_crs(registry, cid, epsg):
    import rioxarray

    c = registry.get(cid)
    assert c.axes.crs.to_epsg() == epsg and (c.axes.x, c.axes.y) == ("x", "y")
    src = rioxarray.open_rasterio(DATASETS / f"{ {'landsat-rgb': 'RGB.byte', 'cogeo': 'cogeo', 'shade': 'shade'}[cid]}.tif")
    np.testing.assert_allclose(c.axes.x_values, src.x.values)
    left, bottom, right, top = src.rio.bounds()
    assert c.axes.native_bbox() == pytest.approx((left, bottom, right, top))
    lon0, lat0, lon1, lat1 = c.axes.crs84_bbox()
    expected = src.rio.transform_bounds("OGC:CRS84", densify_pts=21)
    assert (lon0, lat0, lon1, lat1) == pytest.approx(expected, abs=1e-6)
    nodata = {"landsat-rgb": 0, "cogeo": None, "shade": 255}[cid]
    assert c.variable_info("band_1")["nodata"] == nodata


def _grid(lon, calendar=None):
    if calendar:
        times = xr.date_range("2001-01-01", periods=4, freq="MS", calendar=calendar, use_cftime=True)
    else:
        times = pd.date_range("2001-01-01", periods=4, freq="MS")
    data = np.arange(4 * 3 * len(lon), dtype="float32").reshape(4, 3, len(lon))
    return xr.Dataset(
        {"tas": (("time", "lat", "lon"), data, {"units": "K"})},
        coords={"time": times, "lat": ("lat", [10.0, 20.0, 30.0], {"units": "degrees_north"}),
                "lon": ("lon", lon, {"units": "degrees_east"})},
    )


@pytest.mark.parametrize("calendar", ["noleap", "360_day", "all_leap"])
def test_cftime_calendars(calendar):
    ax = build_axes(_grid(np.arange(0.0, 360.0, 90.0), calendar))
    assert ax.t == "time" and ax.calendar == calendar
    assert ax.time_interval() == ["2001-01-01T00:00:00Z", "2001-04-01T00:00:00Z"]


def test_0_360_longitudes_reported_in_180_range_and_selected(tmp_path):
    ds = _grid(np.arange(0.5, 360.0, 1.0))
    path = tmp_path / "g360.nc"
    ds.to_netcdf(path)
    reg = Registry(config_from_dict({"collections": {"g": {"path": str(path)}}}, tmp_path))
    c = reg.get("g")
    assert c.axes.lon_360
    assert c.axes.crs84_bbox() == (-180.0, 5.0, 180.0, 35.0)
    from cubeserver.select.core import subset

    out = subset(c, bbox="-10,0,10,40")
    assert list(out.lon.values) == [v - 0.5 for v in range(-9, 11)]
    expected = xr.concat([ds.tas.sel(lon=slice(350, 360)), ds.tas.sel(lon=slice(0, 10))], dim="lon")
    np.testing.assert_array_equal(out.tas.values, expected.values)


def test_crs_override_and_axis_override(tmp_path):
    ds = _grid(np.arange(0.0, 360.0, 90.0)).rename(lon="col", lat="row")
    ds.col.attrs, ds.row.attrs = {}, {}
    ax = build_axes(ds, {"x": "col", "y": "row"}, "EPSG:3857")
    assert (ax.x, ax.y) == ("col", "row") and ax.crs.to_epsg() == 3857
    with pytest.raises(ValueError, match="no X/Y axes"):
        build_axes(ds)


def test_z_positive_from_the_file_or_the_config():
    src = open_source("basin_mask.nc")  # Z in metres, no `positive` attribute: up unless told
    assert build_axes(src).z_positive == "up"
    assert build_axes(src, {"z_positive": "down"}).z_positive == "down"
    src["Z"].attrs["positive"] = "up"  # the file's own attribute wins over the config
    assert build_axes(src, {"z_positive": "down"}).z_positive == "up"


def test_bundled_basin_mask_is_depth(client):
    doc = client.get("/collections/basin-mask").json()
    assert "positive down" in doc["extent"]["vertical"]["vrs"]
