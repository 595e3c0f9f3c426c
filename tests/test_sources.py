"""How the openers chunk and cache what they open (the cost of every later request depends on it)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import xarray as xr

from cubeserver.sources import open_gridded
from tests.conftest import DATASETS

HRDPS = "CMC_hrdps_continental_TMP_TGL_80_ps2.5km_2020102700_P005-00.grib2"


def test_netcdf_record_chunks_are_merged():
    """COADS is stored one month per HDF5 chunk: dask gets all 12 months in one chunk, not 12 tasks."""
    ds = open_gridded(DATASETS / "coads_sst.nc", "netcdf")
    assert ds["SST"].chunks == ((12,), (90,), (180,))
    with xr.open_dataset(DATASETS / "coads_sst.nc") as raw:
        np.testing.assert_array_equal(ds["SST"].values, raw["SST"].values)


def test_netcdf_chunks_stay_multiples_of_the_files_and_bounded(tmp_path):
    path = tmp_path / "big.nc"
    data = np.arange(400 * 100 * 200, dtype="float32").reshape(400, 100, 200)  # 32 MB
    xr.Dataset({"v": (("time", "y", "x"), data)}).to_netcdf(
        path, encoding={"v": {"chunksizes": (3, 50, 200)}})
    ds = open_gridded(path, "netcdf")
    t, y, x = ds["v"].chunks
    assert all(s % 3 == 0 for s in t[:-1]) and all(s % 50 == 0 for s in y[:-1])  # whole file chunks
    assert max(t) * max(y) * max(x) * 4 <= 16 * 2**20  # at most ~16 MiB a chunk
    assert max(t) * max(y) > 3 * 50  # but bigger than one file chunk per task


def test_configured_chunks_win():
    ds = open_gridded(DATASETS / "coads_sst.nc", "netcdf", {"TIME": 4})
    assert ds["SST"].chunks[0] == (4, 4, 4)


def test_small_grib_is_decoded_once_at_open(tmp_path):
    """After opening, reads never go back to the file (GRIB decodes whole messages: ~0.4 s for HRDPS)."""
    path = tmp_path / HRDPS
    shutil.copy(DATASETS / HRDPS, path)
    ds = open_gridded(path, "grib")
    path.unlink()
    assert ds["t"].chunks is not None  # still dask-backed, one field per chunk
    with xr.open_dataset(DATASETS / HRDPS, engine="cfgrib", backend_kwargs={"indexpath": ""}) as raw:
        np.testing.assert_array_equal(ds["t"].isel(time=0).values, raw["t"].values)


def test_grib_beyond_the_memory_budget_stays_lazy(tmp_path, monkeypatch):
    from cubeserver.sources import grib

    monkeypatch.setattr(grib, "DECODE_AT_OPEN_MB", 1)  # HRDPS decodes to 15 MB
    path = tmp_path / HRDPS
    shutil.copy(DATASETS / HRDPS, path)
    ds = open_gridded(path, "grib")
    with xr.open_dataset(DATASETS / HRDPS, engine="cfgrib", backend_kwargs={"indexpath": ""}) as raw:
        np.testing.assert_array_equal(ds["t"].isel(time=0, y=slice(0, 10)).values, raw["t"].values[:10])
    path.unlink()  # lazy: the next read goes back to the file, which is gone
    with pytest.raises(Exception):
        ds["t"].isel(time=0, y=slice(10, 20)).values
