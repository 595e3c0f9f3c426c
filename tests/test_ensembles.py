"""An ensemble `realization` axis (CF 1.11 section 4.5 / standard_name realization) is an extra axis:
selected by its own query parameter, split into one CoverageJSON coverage per member, kept in NetCDF.

Truth: xarray on the source file.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import xarray as xr

from tests.conftest import client_for


def _ensemble(tmp_path):
    rng = np.random.default_rng(3)
    ds = xr.Dataset(
        {"tas": (("realization", "time", "lat", "lon"), rng.normal(280, 5, (3, 4, 5, 6)).astype("f4"), {"units": "K"})},
        coords={"realization": ("realization", [1, 2, 3], {"standard_name": "realization"}),
                "time": pd.date_range("2020-01-01", periods=4),
                "lat": ("lat", np.arange(5) + 40.0, {"units": "degrees_north"}),
                "lon": ("lon", np.arange(6) + 5.0, {"units": "degrees_east"})})
    ds.to_netcdf(tmp_path / "ens.nc")
    return ds


def test_one_member_by_its_parameter(tmp_path):
    src = _ensemble(tmp_path)
    with client_for({"e": {"path": str(tmp_path / "ens.nc")}}, tmp_path) as c:
        cov = c.get("/collections/e/position", params={"coords": "POINT(7 42)", "realization": "2"}).json()
        assert cov["type"] == "Coverage"
        expected = src.tas.sel(realization=2, lat=42, lon=7).values
        np.testing.assert_array_equal(np.float32(cov["ranges"]["tas"]["values"]), expected)
        bad = c.get("/collections/e/position", params={"coords": "POINT(7 42)", "realization": "9"})
        assert bad.status_code == 400 and bad.json()["parameter"] == "realization"


def test_every_member_is_a_coverage_and_netcdf_keeps_the_axis(tmp_path):
    src = _ensemble(tmp_path)
    with client_for({"e": {"path": str(tmp_path / "ens.nc")}}, tmp_path) as c:
        doc = c.get("/collections/e/position", params={"coords": "POINT(7 42)"}).json()
        assert doc["type"] == "CoverageCollection" and len(doc["coverages"]) == 3
        for member, cov in zip(src.realization.values, doc["coverages"]):
            assert cov["id"] == f"realization={member}"
            np.testing.assert_array_equal(np.float32(cov["ranges"]["tas"]["values"]),
                                          src.tas.sel(realization=member, lat=42, lon=7).values)
        r = c.get("/collections/e/cube", params={"bbox": "5,40,7,42", "f": "netcdf"})
        assert r.status_code == 200
        out = xr.open_dataset(io.BytesIO(r.content)).load()
        assert out.realization.values.tolist() == [1, 2, 3]
        np.testing.assert_array_equal(out.tas.transpose(*src.tas.dims).values,
                                      src.tas.sel(lat=slice(40, 42), lon=slice(5, 7)).values)
