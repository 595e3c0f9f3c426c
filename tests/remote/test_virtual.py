"""kerchunk references (JSON and Parquet) of a bundled NetCDF, and an Icechunk repository, as collections."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from tests.conftest import DATASETS
from tests.remote.conftest import app_client, position, remote_config

kerchunk_hdf = pytest.importorskip("kerchunk.hdf")
icechunk = pytest.importorskip("icechunk")


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("refs")
    src = str(DATASETS / "coads_sst.nc")
    refs = kerchunk_hdf.SingleHdf5ToZarr(src, src, inline_threshold=0).translate()
    (tmp / "coads.json").write_text(json.dumps(refs))
    from kerchunk.df import refs_to_dataframe

    refs_to_dataframe(refs, str(tmp / "coads.parq"))
    return tmp


def test_kerchunk_json_and_parquet_match_the_file(references):
    tmp = references
    collections = {"json": {"path": str(tmp / "coads.json"), "format": "kerchunk"},
                   "parq": {"path": str(tmp / "coads.parq"), "format": "kerchunk"},
                   "file": {"path": str(DATASETS / "coads_sst.nc")}}
    with app_client(remote_config(tmp, collections), tmp) as c:
        for lon, lat in ((-30.0, 10.0), (100.0, -20.0)):
            want = position(c, "file", lon, lat)
            assert position(c, "json", lon, lat) == want
            assert position(c, "parq", lon, lat) == want


def _cube(value: float, times: int) -> xr.Dataset:
    lat = np.arange(40.0, 45.0)
    lon = np.arange(0.0, 6.0)
    data = np.full((times, lat.size, lon.size), value, "float32") + np.arange(times)[:, None, None]
    return xr.Dataset({"t2m": (("time", "lat", "lon"), data, {"units": "K"})},
                      coords={"time": np.datetime64("2024-01-01") + np.arange(times).astype("timedelta64[D]"),
                              "lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
                              "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude"})})


def test_icechunk_branch_tag_and_new_snapshot(tmp_path):
    repo = icechunk.Repository.create(icechunk.local_filesystem_storage(str(tmp_path / "repo")))
    session = repo.writable_session("main")
    _cube(280.0, 2).to_zarr(session.store, consolidated=False)
    first = session.commit("two days")
    repo.create_tag("v1", first)
    collections = {"main": {"path": str(tmp_path / "repo"), "format": "icechunk", "refresh": "1s"},
                   "v1": {"path": str(tmp_path / "repo"), "format": "icechunk", "icechunk": {"tag": "v1"}},
                   "snap": {"path": str(tmp_path / "repo"), "format": "icechunk", "icechunk": {"snapshot": first}}}
    with app_client(remote_config(tmp_path, collections), tmp_path) as c:
        assert position(c, "main", 2.0, 42.0) == {"t2m": [280.0, 281.0]}
        etag = c.get("/collections/main/position?coords=POINT(2 42)").headers["etag"]
        # a new snapshot overwrites the values and adds a day: the chunk cache must not serve the old chunks
        session = repo.writable_session("main")
        _cube(300.0, 3).to_zarr(session.store, mode="w", consolidated=False)
        session.commit("three days")
        registry = c.app.state.ctx.registry
        assert registry.reload("main") is True  # the fingerprint (the branch's snapshot) changed
        assert position(c, "main", 2.0, 42.0) == {"t2m": [300.0, 301.0, 302.0]}
        assert c.get("/collections/main/position?coords=POINT(2 42)").headers["etag"] != etag
        assert position(c, "v1", 2.0, 42.0) == {"t2m": [280.0, 281.0]}  # the tag and the snapshot stay
        assert position(c, "snap", 2.0, 42.0) == {"t2m": [280.0, 281.0]}
        assert registry.reload("v1") is False


def test_kerchunk_reference_on_s3_pointing_at_s3(s3, tmp_path):
    """A reference stored in the bucket whose chunks are byte ranges of a NetCDF in the same bucket."""
    _, options, fs = s3
    with fs.open("cubes/coads_sst.nc", "rb") as f:
        refs = kerchunk_hdf.SingleHdf5ToZarr(f, "s3://cubes/coads_sst.nc", inline_threshold=0).translate()
    fs.pipe("cubes/refs/coads.json", json.dumps(refs).encode())
    collections = {"ref": {"path": "s3://cubes/refs/coads.json", "format": "kerchunk", "storage_options": options},
                   "file": {"path": str(DATASETS / "coads_sst.nc")}}
    with app_client(remote_config(tmp_path, collections), tmp_path) as c:
        assert position(c, "ref", -30.0, 10.0) == position(c, "file", -30.0, 10.0)


def test_parquet_reference_on_s3_pointing_at_s3(s3, tmp_path):
    """A Parquet reference folder stored in the bucket (read lazily through the collection's storage_options),
    whose chunks are byte ranges of a NetCDF in the same bucket: the same values as the file."""
    from kerchunk.df import refs_to_dataframe

    _, options, fs = s3
    with fs.open("cubes/coads_sst.nc", "rb") as f:
        refs = kerchunk_hdf.SingleHdf5ToZarr(f, "s3://cubes/coads_sst.nc", inline_threshold=0).translate()
    refs_to_dataframe(refs, str(tmp_path / "coads.parq"))
    fs.put(str(tmp_path / "coads.parq"), "cubes/refs/coads.parq", recursive=True)
    collections = {"ref": {"path": "s3://cubes/refs/coads.parq", "format": "kerchunk", "storage_options": options},
                   "file": {"path": str(DATASETS / "coads_sst.nc")}}
    with app_client(remote_config(tmp_path, collections), tmp_path) as c:
        for lon, lat in ((-30.0, 10.0), (150.0, -40.0)):
            got = position(c, "ref", lon, lat)
            assert got == position(c, "file", lon, lat)
            assert any(v is not None for vals in got.values() for v in vals)
