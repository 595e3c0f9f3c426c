"""The shared cache of decoded chunks (cubeserver/sources/chunk_cache.py, limits.chunk_cache_bytes).

Values are compared with xarray reading the source file itself; a source rewritten in place with new
values must answer the new values on the next request (EDR point series, map tiles), never the cached ones.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from cubeserver.sources import chunk_cache
from tests.conftest import client_for

LON, LAT = 10.0, 45.0


def _cube(seed: int) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    lat = np.arange(30.0, 60.0, 1.0)
    lon = np.arange(0.0, 40.0, 1.0)
    time = pd.date_range("2020-01-01", periods=12, freq="h")
    values = (280 + 10 * rng.standard_normal((time.size, lat.size, lon.size))).astype("float32")
    ds = xr.Dataset({"t2m": (("time", "lat", "lon"), values, {"units": "K"})},
                    coords={"time": time, "lat": ("lat", lat, {"units": "degrees_north"}),
                            "lon": ("lon", lon, {"units": "degrees_east"})})
    return ds


def _write(ds: xr.Dataset, path, fmt: str) -> None:
    if fmt == "zarr":
        ds.chunk({"time": 4, "lat": 15, "lon": 20}).to_zarr(path, mode="w", consolidated=True)
    else:  # as data producers replace a file that readers may hold open: write aside, then rename over it
        part = path.with_suffix(".part")
        ds.to_netcdf(part, encoding={"t2m": {"chunksizes": (4, 15, 20)}})
        part.replace(path)


def _expected(path, fmt: str) -> np.ndarray:
    opened = xr.open_zarr(path) if fmt == "zarr" else xr.open_dataset(path)
    with opened as ds:
        return ds["t2m"].sel(lon=LON, lat=LAT).values.astype("float64")


def _series(client) -> np.ndarray:
    r = client.get(f"/collections/c/position?coords=POINT({LON} {LAT})&parameter-name=t2m&f=CoverageJSON")
    assert r.status_code == 200, r.text
    return np.array(r.json()["ranges"]["t2m"]["values"], dtype="float64")


@pytest.mark.parametrize("fmt", ["zarr", "netcdf"])
def test_rewritten_source_answers_new_values(tmp_path, fmt):
    """A point series is served from cached chunks, then the source is rewritten in place with other values:
    the next request answers the new values (as xarray reads them from the file), not the cached ones."""
    path = tmp_path / ("c.zarr" if fmt == "zarr" else "c.nc")
    _write(_cube(1), path, fmt)
    before = _expected(path, fmt)
    with client_for({"c": {"path": str(path)}}, tmp_path) as client:
        np.testing.assert_allclose(_series(client), before, rtol=1e-6)
        hits = chunk_cache.CACHE.hits
        np.testing.assert_allclose(_series(client), before, rtol=1e-6)
        assert chunk_cache.CACHE.hits > hits  # the second request was served from the cache
        _write(_cube(2), path, fmt)
        after = _expected(path, fmt)
        assert not np.allclose(before, after)
        np.testing.assert_allclose(_series(client), after, rtol=1e-6)


def test_zarr_chunk_rewritten_in_region(tmp_path):
    """Only some chunks of a Zarr store rewritten (a region write): the series answers the new values there."""
    path = tmp_path / "c.zarr"
    _write(_cube(1), path, "zarr")
    with client_for({"c": {"path": str(path)}}, tmp_path) as client:
        first = _series(client)
        new = _cube(3).isel(time=slice(4, 8)).chunk({"time": 4, "lat": 15, "lon": 20})
        new.drop_vars(["lat", "lon"]).to_zarr(path, region={"time": slice(4, 8)}, mode="r+")
        expected = _expected(path, "zarr")
        assert not np.allclose(first[4:8], expected[4:8])
        np.testing.assert_allclose(_series(client), expected, rtol=1e-6)


def test_map_tile_after_rewrite(tmp_path):
    """The renderer's decoded-field cache follows the source version too: a map pixel shows the new value."""
    path = tmp_path / "c.zarr"
    _write(_cube(1), path, "zarr")
    url = "/collections/c/map?bbox=9.5,44.5,10.5,45.5&width=1&height=1&f=png&properties=t2m"
    with client_for({"c": {"path": str(path)}}, tmp_path) as client:
        from cubeserver.render import MapRequest, map_values

        assert client.get(url).status_code == 200
        c = client.app.state.ctx.registry.get("c")
        req = MapRequest(parameter="t2m", bbox=(9.5, 44.5, 10.5, 45.5), width=1, height=1)
        np.testing.assert_allclose(map_values(c, req)[0, 0], _expected(path, "zarr")[-1], rtol=1e-6)
        _write(_cube(4), path, "zarr")
        np.testing.assert_allclose(map_values(c, req)[0, 0], _expected(path, "zarr")[-1], rtol=1e-6)


def test_cache_bound_and_disabled(tmp_path):
    """The cache never holds more than its bound; size 0 leaves a Dataset unwrapped."""
    cache = chunk_cache.ChunkCache(1000)
    for i in range(10):
        cache.put(("s", "v", (i,), ()), np.zeros(50, dtype="float64"))  # 400 bytes each
    assert cache.nbytes <= 1000
    assert cache.get(("s", "v", (9,), ())) is not None and cache.get(("s", "v", (0,), ())) is None
    path = tmp_path / "c.zarr"
    _write(_cube(1), path, "zarr")
    old = chunk_cache.CACHE.max_bytes
    try:
        chunk_cache.configure(0)
        ds = xr.open_zarr(path)
        assert chunk_cache.attach(ds, path, "zarr") is ds
        chunk_cache.configure(1 << 20)
        wrapped = chunk_cache.attach(ds, path, "zarr")
        assert wrapped is not ds
        np.testing.assert_array_equal(wrapped["t2m"].values, ds["t2m"].values)
    finally:
        chunk_cache.configure(old)


@pytest.mark.parametrize("fmt", ["zarr", "netcdf"])
def test_cached_graph_survives_pickling_to_a_worker(tmp_path, fmt):
    """A cached variable's graph is pickled to dask.distributed workers: after a round trip through
    cloudpickle (what distributed uses) every chunk still computes the source's values, and the graph the
    cache materialized for culling in this process is not shipped along."""
    import cloudpickle

    path = tmp_path / ("c.zarr" if fmt == "zarr" else "c.nc")
    _write(_cube(3), path, fmt)
    source = xr.open_zarr(path) if fmt == "zarr" else xr.open_dataset(path, chunks={"time": 4, "lat": 15, "lon": 20})
    old = chunk_cache.CACHE.max_bytes
    try:
        chunk_cache.configure(1 << 20)
        wrapped = chunk_cache.attach(source, path, fmt)
        expected = source["t2m"].values
        np.testing.assert_array_equal(wrapped["t2m"].values, expected)  # computed here: graph materialized
        blocks = next(fn for name, fn in chunk_cache._layers.items() if name == wrapped["t2m"].data.name)
        assert blocks._graph is not None
        chunk_cache.CACHE.clear()
        shipped = cloudpickle.loads(cloudpickle.dumps(wrapped["t2m"].data))
        np.testing.assert_array_equal(shipped.compute(scheduler="sync"), expected)
        assert cloudpickle.loads(cloudpickle.dumps(blocks))._graph is None
    finally:
        chunk_cache.configure(old)
        source.close()


def test_collections_opening_one_file_differently_share_no_chunks(tmp_path):
    """Two collections of the same NetCDF file, one in the file's chunks, one chunked by the config: each
    answers its own values (a cache keyed by file, variable and block alone gave the second collection the
    first one's blocks: a wrong shape, or with other decoding silently wrong values)."""
    path = tmp_path / "c.nc"
    _write(_cube(3), path, "netcdf")
    with xr.open_dataset(path) as ds:
        expected = ds["t2m"].sel(lat=slice(35, 50), lon=slice(5, 30)).values
    collections = {"whole": {"path": str(path), "chunks": {"time": -1, "lat": -1, "lon": -1}},
                   "cut": {"path": str(path), "chunks": {"time": 5, "lat": 7, "lon": 9}}}
    with client_for(collections, tmp_path) as client:
        for cid in ("whole", "cut", "whole"):
            r = client.get(f"/collections/{cid}/cube?bbox=5,35,30,50&parameter-name=t2m&f=NetCDF")
            assert r.status_code == 200, r.text
            got = xr.open_dataset(io.BytesIO(r.content))["t2m"].values
            np.testing.assert_array_equal(got, expected, err_msg=cid)
