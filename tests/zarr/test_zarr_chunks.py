"""Chunks through the in-process client: bytes decode to the source's stored values; grid arithmetic."""

from __future__ import annotations

import numcodecs
import numpy as np
import pytest
import xarray as xr

from cubeserver.zarr.chunking import chunk_shape, grid, parse_key
from tests.conftest import DATASETS

# (collection, variable, chunk key) with edge chunks where the grid does not divide the shape
CASES = [("coads", "SST", "0.0.0"), ("eraint", "z", "0.0.0.1"),
         ("cmip5-pr", "pr", "0.0.1"), ("mur-sst", "analysed_sst", "0.0.0"), ("basin-mask", "basin", "0.1.1"),
         ("coads", "TIME", "0"), ("cmip5-pr", "time", "0")]


def _raw(cid: str) -> xr.Dataset:
    """The source as stored: no masking, no scaling, no time decoding."""
    from .conftest import SOURCES

    path = DATASETS / SOURCES[cid]
    if path.suffix == ".zarr":
        return xr.open_zarr(path, consolidated=False, mask_and_scale=False, decode_times=False)
    return xr.open_dataset(path, mask_and_scale=False, decode_times=False)


def _chunk(client, cid: str, var: str, key: str) -> tuple[np.ndarray, dict]:
    za = client.get(f"/collections/{cid}/zarr/{var}/.zarray").json()
    r = client.get(f"/collections/{cid}/zarr/{var}/{key}")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/octet-stream"
    raw = numcodecs.get_codec(za["compressor"]).decode(r.content)
    return np.frombuffer(raw, dtype=za["dtype"]).reshape(za["chunks"]), za


@pytest.mark.parametrize("cid,var,key", CASES)
def test_chunk_holds_the_stored_values(client, cid, var, key):
    block, za = _chunk(client, cid, var, key)
    raw = _raw(cid)[var]
    index = [int(i) for i in key.split(".")]
    window = tuple(slice(i * c, min((i + 1) * c, n)) for i, c, n in zip(index, za["chunks"], za["shape"]))
    want = raw.values[window]
    got = block[tuple(slice(0, s.stop - s.start) for s in window)]
    if "since" in str(raw.attrs.get("units", "")):  # times re-encoded from datetimes: equal to the last bit or so
        np.testing.assert_allclose(got, want, rtol=1e-12)
    else:
        np.testing.assert_array_equal(got, want.astype(got.dtype))
    if got.shape != block.shape:  # edge chunk: padded with the fill value
        pad = block[tuple(slice(s.stop - s.start, None) for s in window)] if block.ndim == 1 else block[..., got.shape[-1]:]
        fill = za["fill_value"]
        assert pad.size and np.all(pad == np.asarray(0 if fill is None else fill, dtype=block.dtype))


def test_scalar_chunk(client):
    block, za = _chunk(client, "landsat-rgb", "spatial_ref", "0")
    assert block.shape == () and za["dtype"] == "<i8"


def test_geotiff_band_chunk_is_the_raw_band(client):
    import rioxarray

    block, _ = _chunk(client, "shade", "band_1", "0.0")
    raw = rioxarray.open_rasterio(DATASETS / "shade.tif", mask_and_scale=False).sel(band=1).values
    np.testing.assert_array_equal(block, raw)


def test_reads_are_counted(client):
    reads = client.app.state.zarr.reads
    before = reads[("coads", "AIRT", "0.0.0")]
    client.get("/collections/coads/zarr/AIRT/0.0.0")
    assert reads[("coads", "AIRT", "0.0.0")] == before + 1


def test_chunk_shape_follows_dask_and_caps_size():
    assert chunk_shape((12, 90, 180), 4, ((1,) * 12, (90,), (180,))) == (1, 90, 180)
    big = chunk_shape((2, 3, 241, 480), 8, ((2,), (3,), (241,), (480,)))
    assert np.prod(big) * 8 <= 1 << 20 and big[:2] == (2, 3)
    assert chunk_shape((100,), 8, ((40, 40, 20),)) == (40,)
    assert chunk_shape((100,), 8, ((30, 50, 20),)) == (20,)  # irregular: the smallest
    assert chunk_shape((5000, 3), 8, None, whole=True) == (5000, 3)
    assert chunk_shape((), 8, None) == ()
    assert chunk_shape((0, 4), 8, None) == (1, 4)


def test_parse_key():
    assert grid((12, 90, 180), (5, 90, 100)) == (3, 1, 2)
    assert parse_key("2.0.1", (12, 90, 180), (5, 90, 100)) == (slice(10, 12), slice(0, 90), slice(100, 180))
    assert parse_key("3.0.0", (12, 90, 180), (5, 90, 100)) is None
    assert parse_key("0", (), ()) == ()
    assert parse_key("1", (), ()) is None
    assert parse_key("01.0.0", (12, 90, 180), (5, 90, 100)) is None
