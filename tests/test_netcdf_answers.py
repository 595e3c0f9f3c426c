"""NetCDF answers: small ones written in memory (Content-Length, no temporary file), large ones through a file;
both hold exactly the source values and leave no file behind. `f=NetCDF` in memory is NetCDF-3 when the data
fit the classic model, `f=NetCDF4` always NetCDF-4; netCDF-C reads both the same on every bundled grid."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from cubeserver.encode import netcdf

from .conftest import open_source
from .test_robustness import GRIDS

PARAMS = {"subset": "Lat(20:50),Lon(-60:-10)", "properties": "SST,AIRT", "f": "netcdf"}


def _leftovers() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("tmp*.nc")}


@pytest.mark.parametrize("in_memory", [True, False])
def test_coverage_netcdf_in_memory_and_via_file_hold_the_source(client, monkeypatch, tmp_path, in_memory):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # files of tests running beside this one stay apart
    if not in_memory:  # streamed (NetCDF-3) / through a temporary file (NetCDF-4)
        monkeypatch.setattr(netcdf, "IN_MEMORY_MAX", 0)
        monkeypatch.setattr(netcdf, "STREAM_MIN", 0)
    before = _leftovers()
    r = client.get("/collections/coads/coverage", params=PARAMS)
    assert r.status_code == 200 and r.headers["content-type"] == netcdf.MEDIA_TYPE
    assert r.headers["content-disposition"].startswith("attachment;")
    assert int(r.headers["content-length"]) == len(r.content)
    got = xr.open_dataset(io.BytesIO(r.content))
    src = open_source("coads_sst.nc").sel(COADSY=slice(20, 50), COADSX=slice(-60, -10))
    for name in ("SST", "AIRT"):
        np.testing.assert_array_equal(got[name].values, src[name].values)
        assert got[name].attrs.get("units") == src[name].attrs.get("units")
    assert _leftovers() <= before, "no temporary NetCDF left behind"


def test_edr_netcdf_answer_is_the_same_file_either_way(client, monkeypatch):
    """NetCDF-3 in memory or streamed: the same bytes; NetCDF-4 in memory or through a file: the same dataset."""
    params = {"coords": "POLYGON((-40 20,-10 20,-10 50,-40 50,-40 20))", "parameter-name": "SST", "f": "netcdf"}
    small = client.get("/collections/coads/area", params=params)
    small4 = client.get("/collections/coads/area", params={**params, "f": "netcdf4"})
    monkeypatch.setattr(netcdf, "STREAM_MIN", 0)
    monkeypatch.setattr(netcdf, "IN_MEMORY_MAX", 0)
    big = client.get("/collections/coads/area", params=params)
    big4 = client.get("/collections/coads/area", params={**params, "f": "netcdf4"})
    assert small.status_code == big.status_code == small4.status_code == big4.status_code == 200
    assert small.content[:4] == b"CDF\x02" and small.content == big.content
    assert small4.content[:4] == big4.content[:4] == b"\x89HDF"
    a = xr.open_dataset(io.BytesIO(small4.content), engine="h5netcdf")
    b = xr.open_dataset(io.BytesIO(big4.content), engine="h5netcdf")
    xr.testing.assert_identical(a, b)
    xr.testing.assert_identical(xr.open_dataset(io.BytesIO(small.content)), a)


def test_netcdf_bytes_round_trip_keeps_cf_time():
    src = open_source("coads_sst.nc").isel(TIME=slice(0, 2))
    back = xr.open_dataset(io.BytesIO(netcdf.netcdf_bytes(src)), engine="h5netcdf")
    assert back.attrs["Conventions"] == "CF-1.8"
    np.testing.assert_array_equal(back.TIME.values, src.TIME.values)
    np.testing.assert_array_equal(back.SST.values, src.SST.values)


def _netcdf_c(content: bytes, tmp_path: Path, name: str) -> xr.Dataset:
    """Open with netCDF-C (xarray's netCDF4 engine, from a file as netCDF-C clients do)."""
    path = tmp_path / name
    path.write_bytes(content)
    with xr.open_dataset(path, engine="netcdf4") as ds:
        return ds.load()


@pytest.mark.parametrize("grid", GRIDS, ids=lambda g: g.id)
def test_classic_and_netcdf4_answers_read_the_same_in_netcdf_c(client, tmp_path, grid):
    """Position and area answers of every bundled grid: f=NetCDF (classic when it fits) and f=NetCDF4 give
    the same decoded dataset (values, coordinates, CF attributes) to netCDF-C."""
    d = grid.d
    queries = {
        "position": {"coords": f"POINT({grid.x} {grid.y})"},
        "area": {"coords": f"POLYGON(({grid.x - d} {grid.y - d},{grid.x + d} {grid.y - d},{grid.x + d} "
                           f"{grid.y + d},{grid.x - d} {grid.y + d},{grid.x - d} {grid.y - d}))"},
    }
    for query, params in queries.items():
        params = {**params, "parameter-name": grid.var}
        classic = client.get(f"/collections/{grid.id}/{query}", params={**params, "f": "NetCDF"})
        nc4 = client.get(f"/collections/{grid.id}/{query}", params={**params, "f": "NetCDF4"})
        assert classic.status_code == nc4.status_code == 200, (query, classic.text[:300], nc4.text[:300])
        assert classic.headers["content-type"] == netcdf.MEDIA_TYPE
        assert nc4.headers["content-type"] == netcdf.NETCDF4_MEDIA_TYPE and nc4.content[:4] == b"\x89HDF"
        a = _netcdf_c(classic.content, tmp_path, f"{query}-classic.nc")
        b = _netcdf_c(nc4.content, tmp_path, f"{query}-nc4.nc")
        assert a[grid.var].size > 0
        xr.testing.assert_identical(a, b)


def test_classic_falls_back_to_netcdf4_outside_the_classic_model():
    """Values netCDF-3 cannot hold (int64 beyond int32, unsigned bytes above 127) keep NetCDF-4, exactly."""
    base = open_source("coads_sst.nc").isel(TIME=slice(0, 3), COADSX=slice(0, 4), COADSY=slice(0, 5))
    fits = netcdf.netcdf_response(base, "x.nc").body
    assert bytes(fits[:4]) == b"CDF\x02"
    for extra in (np.array([0, 1, 2**40], dtype="int64"), np.array([0, 200, 255], dtype="uint8")):
        ds = base.assign(extra=("TIME", extra))
        body = bytes(netcdf.netcdf_response(ds, "x.nc").body)
        assert body[:4] == b"\x89HDF"
        back = xr.open_dataset(io.BytesIO(body), engine="h5netcdf")
        assert back["extra"].dtype == extra.dtype
        np.testing.assert_array_equal(back["extra"].values, extra)


def test_coverage_netcdf4_is_netcdf4_with_the_same_values(client):
    classic = client.get("/collections/coads/coverage", params=PARAMS)
    nc4 = client.get("/collections/coads/coverage", params={**PARAMS, "f": "nc4"})
    assert classic.status_code == nc4.status_code == 200
    assert classic.content[:4] == b"CDF\x02" and nc4.content[:4] == b"\x89HDF"
    assert nc4.headers["content-type"] == netcdf.NETCDF4_MEDIA_TYPE
    a, b = xr.open_dataset(io.BytesIO(classic.content)), xr.open_dataset(io.BytesIO(nc4.content), engine="h5netcdf")
    xr.testing.assert_identical(a, b)
    by_accept = client.get("/collections/coads/coverage", params={k: v for k, v in PARAMS.items() if k != "f"},
                           headers={"Accept": "application/x-netcdf4"})
    assert by_accept.status_code == 200 and by_accept.content[:4] == b"\x89HDF"
