"""NetCDF answers: small ones written in memory (Content-Length, no temporary file), large ones through a file;
both hold exactly the source values and leave no file behind."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from cubeserver.encode import netcdf

from .conftest import open_source

PARAMS = {"subset": "Lat(20:50),Lon(-60:-10)", "properties": "SST,AIRT", "f": "netcdf"}


def _leftovers() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("tmp*.nc")}


@pytest.mark.parametrize("in_memory", [True, False])
def test_coverage_netcdf_in_memory_and_via_file_hold_the_source(client, monkeypatch, in_memory):
    if not in_memory:
        monkeypatch.setattr(netcdf, "IN_MEMORY_MAX", 0)
    before = _leftovers()
    r = client.get("/collections/coads/coverage", params=PARAMS)
    assert r.status_code == 200 and r.headers["content-type"] == netcdf.MEDIA_TYPE
    assert r.headers["content-disposition"].startswith("attachment;")
    assert int(r.headers["content-length"]) == len(r.content)
    got = xr.open_dataset(io.BytesIO(r.content), engine="h5netcdf")
    src = open_source("coads_sst.nc").sel(COADSY=slice(20, 50), COADSX=slice(-60, -10))
    for name in ("SST", "AIRT"):
        np.testing.assert_array_equal(got[name].values, src[name].values)
        assert got[name].attrs.get("units") == src[name].attrs.get("units")
    assert _leftovers() <= before, "no temporary NetCDF left behind"


def test_edr_netcdf_small_answer_is_the_same_file_either_way(client, monkeypatch):
    params = {"coords": "POLYGON((-40 20,-10 20,-10 50,-40 50,-40 20))", "parameter-name": "SST", "f": "netcdf"}
    small = client.get("/collections/coads/area", params=params)
    monkeypatch.setattr(netcdf, "IN_MEMORY_MAX", 0)
    big = client.get("/collections/coads/area", params=params)
    assert small.status_code == big.status_code == 200
    a = xr.open_dataset(io.BytesIO(small.content), engine="h5netcdf")
    b = xr.open_dataset(io.BytesIO(big.content), engine="h5netcdf")
    xr.testing.assert_identical(a, b)


def test_netcdf_bytes_round_trip_keeps_cf_time():
    src = open_source("coads_sst.nc").isel(TIME=slice(0, 2))
    back = xr.open_dataset(io.BytesIO(netcdf.netcdf_bytes(src)), engine="h5netcdf")
    assert back.attrs["Conventions"] == "CF-1.8"
    np.testing.assert_array_equal(back.TIME.values, src.TIME.values)
    np.testing.assert_array_equal(back.SST.values, src.SST.values)
