"""Scalar time/vertical coordinates become length-1 axes; missing 1-D coordinate values are left out.

Truth comes from xarray on the source files (the scalar coordinate's own value, the
values at the positions that remain).
"""

from __future__ import annotations

import netCDF4
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from tests.conftest import DATASETS, client_for


def _field(tmp_path, name="f.nc", **coords):
    lat, lon = np.array([10.0, 11, 12, 13]), np.array([20.0, 21, 22])
    v = (np.arange(12, dtype="f4").reshape(4, 3) * 10)
    ds = xr.Dataset({"tas": (("lat", "lon"), v, {"units": "K"})},
                    coords={"lat": ("lat", lat, {"units": "degrees_north"}),
                            "lon": ("lon", lon, {"units": "degrees_east"}), **coords})
    path = tmp_path / name
    ds.to_netcdf(path)
    return path, ds


def test_scalar_time_and_height_are_length_1_axes(tmp_path):
    when = np.datetime64("2021-03-04T06:00")
    path, src = _field(tmp_path, time=((), when, {"standard_name": "time"}),
                       height=((), 2.0, {"units": "m", "standard_name": "height"}),
                       forecast_reference_time=((), np.datetime64("2021-03-04T00:00"),
                                                {"standard_name": "forecast_reference_time"}))
    with client_for({"f": {"path": str(path)}}, tmp_path) as c:
        meta = c.get("/collections/f", params={"f": "json"}).json()
        assert meta["extent"]["temporal"]["interval"] == [["2021-03-04T06:00:00Z", "2021-03-04T06:00:00Z"]]
        cov = c.get("/collections/f/position", params={"coords": "POINT(21 12)"}).json()
        assert cov["domain"]["axes"]["t"]["values"] == ["2021-03-04T06:00:00Z"]
        assert cov["domain"]["axes"]["z"]["values"] == [2.0]
        assert cov["ranges"]["tas"]["values"] == [float(src.tas.sel(lat=12, lon=21))]
        ok = c.get("/collections/f/position", params={"coords": "POINT(21 12)", "datetime": "2021-03-04T06:00:00Z"})
        assert ok.status_code == 200
        off = c.get("/collections/f/position", params={"coords": "POINT(21 12)", "datetime": "2021-03-05T06:00:00Z"})
        assert off.status_code == 204 and off.content == b""  # EDR: no time step selected is "no data"
        nc = c.get("/collections/f/coverage", params={"f": "netcdf"})
        assert nc.status_code == 200
        path_out = tmp_path / "out.nc"
        path_out.write_bytes(nc.content)
        with xr.open_dataset(path_out) as out:
            assert out.tas.sizes["time"] == 1 and pd.Timestamp(out.time.values[0]) == pd.Timestamp(when)
            # the model run stays a scalar coordinate, not an axis
            assert out["forecast_reference_time"].ndim == 0


def test_real_rotated_pole_file_has_its_time(tmp_path):
    path = DATASETS / "grids" / "rotated_pole.nc"
    with xr.open_dataset(path) as src:
        t = pd.Timestamp(src.time.values).strftime("%Y-%m-%dT%H:%M:%SZ")
    with client_for({"rp": {"path": str(path)}}, tmp_path) as c:
        meta = c.get("/collections/rp", params={"f": "json"}).json()
        assert meta["extent"]["temporal"]["interval"] == [[t, t]]


def test_missing_latitude_values_are_left_out(tmp_path):
    path, src = _field(tmp_path)
    ds = xr.open_dataset(path).load()
    ds.close()
    ds["lat"] = ("lat", [10.0, np.nan, 12.0, 13.0], {"units": "degrees_north"})
    ds.to_netcdf(tmp_path / "gap.nc", encoding={"lat": {"_FillValue": -999.0}})
    with xr.open_dataset(tmp_path / "gap.nc") as check:
        assert np.isnan(check.lat.values[1])  # the source really has a missing latitude
    with client_for({"g": {"path": str(tmp_path / "gap.nc")}}, tmp_path) as c:
        meta = c.get("/collections/g", params={"f": "json"}).json()
        bbox = meta["extent"]["spatial"]["bbox"][0]
        assert all(np.isfinite(bbox)) and bbox[1] == pytest.approx(9.0) and bbox[3] == pytest.approx(13.5)  # edges: half the spacing to each end neighbour
        cov = c.get("/collections/g/cube", params={"bbox": "19,9,23,14"}).json()
        assert cov["domain"]["axes"]["y"]["values"] == [10.0, 12.0, 13.0]
        expected = src.tas.isel(lat=[0, 2, 3]).values.ravel().tolist()
        assert cov["ranges"]["tas"]["values"] == expected
        assert "NaN" not in c.get("/collections/g", params={"f": "json"}).text


def test_irregular_axis_edges_reach_half_way_to_each_end_neighbour(tmp_path):
    """A Gaussian-like irregular, descending latitude: the extent's edges from the end cells' own spacing."""
    lat = np.array([50.0, 40.5, 35.0, 33.0])
    lon = np.array([20.0, 21.0, 22.0])
    ds = xr.Dataset({"tas": (("lat", "lon"), np.zeros((4, 3), "f4"))},
                    coords={"lat": ("lat", lat, {"units": "degrees_north"}), "lon": ("lon", lon, {"units": "degrees_east"})})
    ds.to_netcdf(tmp_path / "irr.nc")
    with client_for({"i": {"path": str(tmp_path / "irr.nc")}}, tmp_path) as c:
        bbox = c.get("/collections/i", params={"f": "json"}).json()["extent"]["spatial"]["bbox"][0]
    assert bbox == pytest.approx([19.5, 33.0 - (35.0 - 33.0) / 2, 22.5, 50.0 + (50.0 - 40.5) / 2])
