"""Small selections of cached chunks read without dask's scheduler (cubeserver/sources/direct_read.py).

Every selection the EDR/Coverages engine makes of a collection served through the chunk cache is read both
ways, directly and by `dask.compute`, on bundled data (a packed Zarr store, a NetCDF file with a cftime
calendar, a 0..360 grid); values, dtype, shape and writability must be the same. The point cases must
take the direct path (the speed-up exists only while they do); graphs it cannot run must give None.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from cubeserver.select.core import compute
from cubeserver.sources import chunk_cache, direct_read
from tests.conftest import DATASETS, client_for

CASES = {
    "sst": ("analysed_sst.zarr", "analysed_sst"),
    "coads": ("coads_sst.nc", "SST"),
    "pr": ("cmip5_rcp85_pcp_pctl25.nc", "pr"),
}


@pytest.fixture(scope="module")
def opened(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("direct")
    collections = {cid: {"path": str(DATASETS / path)} for cid, (path, _) in CASES.items()}
    # the same file in chunks of 5 months x 40 x 70 cells: several blocks along every axis, partial edge blocks
    collections["coads-chunked"] = {"path": str(DATASETS / "coads_sst.nc"), "chunks": {"TIME": 5, "COADSY": 40, "COADSX": 70}}
    with client_for(collections, tmp) as client:
        yield {cid: client.app.state.ctx.registry.get(cid) for cid in collections}


def _selections(var: xr.DataArray):
    """Point-like and small selections as isel/sel would make them (positions from the variable's own shape)."""
    dims = var.dims
    mid = {d: var.sizes[d] // 2 for d in dims}
    yield "one value", {d: mid[d] for d in dims}
    yield "series", {d: mid[d] for d in dims[1:]}
    yield "short run", {dims[0]: slice(0, min(3, var.sizes[dims[0]])), **{d: mid[d] for d in dims[1:]}}
    yield "strided", {dims[0]: slice(None, None, 2), **{d: mid[d] for d in dims[1:]}}
    yield "small window", {dims[0]: 0, **{d: slice(mid[d], mid[d] + 3) for d in dims[1:]}}
    yield "listed", {dims[0]: [0, var.sizes[dims[0]] - 1], **{d: mid[d] for d in dims[1:]}}


@pytest.mark.parametrize("cid", list(CASES))
def test_same_values_as_dask(opened, cid):
    c = opened[cid]
    name = CASES[cid][1]
    var = c.ds[name]
    assert chunk_cache.version_at(var, {}) is not None, "the collection is not served through the chunk cache"
    for label, index in _selections(var):
        sel = var.isel(index)
        direct = direct_read.read(sel.data)
        expected = sel.data.compute(scheduler="sync")
        assert direct is not None, f"{cid} {label}: the direct path was not taken"
        assert direct.dtype == expected.dtype and direct.shape == expected.shape, label
        np.testing.assert_array_equal(direct, expected, err_msg=f"{cid} {label}")
        assert direct.flags.writeable, label  # as dask gives it: callers may fill in place


def test_compute_uses_direct_values(opened):
    """select.core.compute: the Dataset it returns holds the directly read values, coordinates kept."""
    c = opened["coads"]
    ds = c.ds[["SST"]].isel(COADSX=10, COADSY=20)
    out = compute(ds)
    assert not any(hasattr(v.data, "dask") for v in out.variables.values())
    np.testing.assert_array_equal(out["SST"].values, ds["SST"].values)
    assert out["SST"].attrs == ds["SST"].attrs and set(out.coords) == set(ds.coords)
    assert hasattr(ds["SST"].data, "dask")  # the input stays lazy (compute returns a copy)


def test_graphs_it_cannot_run(opened):
    c = opened["coads"]
    var = c.ds["SST"]
    assert direct_read.read(var.isel(TIME=0).data + 1) is None  # an elementwise (Blockwise) layer
    assert direct_read.read(var.data.rechunk({0: 1}).T) is None  # a transpose after a rechunk
    big = var.isel(COADSX=slice(0, 5), COADSY=slice(0, 5)).data.rechunk({0: 1, 1: 1, 2: 1})
    assert direct_read.read(big) is None  # more tasks than MAX_TASKS
    plain = xr.DataArray(np.arange(4.0)).chunk(2).data[1:]
    assert direct_read.read(plain) is None  # not behind the chunk cache


@pytest.mark.parametrize("cid", list(CASES))
def test_read_into_big_endian_same_values(opened, cid):
    """`read_into` (the NetCDF-3 slab reader) gives a new big-endian C-contiguous array equal to dask's values
    converted, for windows spanning several chunks, without touching the cached chunks."""
    var = opened[cid].ds[CASES[cid][1]]
    data = var.data
    file_dtype = data.dtype.newbyteorder(">")
    windows = [tuple(slice(None) for _ in var.dims),  # every chunk, joined
               tuple(slice(1, max(2, n - 1)) for n in var.shape),  # cut inside the edge chunks
               (slice(0, 2),) + tuple(slice(None, None, 3) for _ in var.dims[1:])]  # strided
    for window in windows:
        part = data[window]
        before = direct_read.read(part)
        got = direct_read.read_into(part, file_dtype)
        assert got is not None, f"{cid} {window}: the direct path was not taken"
        assert got.dtype == file_dtype and got.flags.c_contiguous and got.flags.owndata
        expected = part.compute(scheduler="sync")
        np.testing.assert_array_equal(got, expected, err_msg=f"{cid} {window}")
        np.testing.assert_array_equal(got.astype(data.dtype), before)
        got[...] = 0  # the caller owns it: writing must not change what the cache serves next
        np.testing.assert_array_equal(direct_read.read(part), before)


def test_read_into_refuses_what_read_refuses(opened):
    var = opened["coads"].ds["SST"]
    assert direct_read.read_into(var.isel(TIME=0).data + 1, np.dtype(">f4")) is None  # Blockwise
    assert direct_read.read_into(var.data[0, 0, 0], np.dtype(">f4")) is None  # 0-d: nothing to place
    plain = xr.DataArray(np.arange(4.0)).chunk(2).data[1:]
    assert direct_read.read_into(plain, np.dtype(">f8")) is None  # not behind the chunk cache


def _row_ranges(n: int, edges) -> list[slice]:
    """Row ranges of a first axis of length `n`: whole, one row, inside a block, across every block edge."""
    out = [slice(0, n), slice(n - 1, n), slice(0, 1)]
    inner = [int(e) for e in edges[1:-1]]
    out += [slice(max(0, e - 1), min(n, e + 1)) for e in inner]  # straddling each block edge
    if n > 4:
        out.append(slice(1, n - 1))
    return out


@pytest.mark.parametrize("cid", [*CASES, "coads-chunked"])
def test_row_reader_same_values_as_dask(opened, cid):
    """`RowReader` (the NetCDF-3 slab reader) gives, for any range of rows, a new C-contiguous array of the
    file dtype equal to dask's values of those rows, for windows spanning several chunks."""
    var = opened[cid].ds[CASES[cid.removesuffix("-chunked")][1]]
    data = var.data
    file_dtype = data.dtype.newbyteorder(">")
    windows = [tuple(slice(None) for _ in var.dims),
               tuple(slice(1, max(2, n - 1)) for n in var.shape),  # cut inside the edge chunks
               (slice(None),) + tuple(slice(None, None, 3) for _ in var.dims[1:])]  # strided
    for window in windows:
        part = data[window]
        reader = direct_read.rows(part)
        assert reader is not None, f"{cid} {window}: the direct path was not taken"
        expected = part.compute(scheduler="sync")
        for rows in _row_ranges(part.shape[0], reader.edges[0]):
            got = reader.read_into(rows, file_dtype)
            assert got is not None and got.dtype == file_dtype and got.flags.c_contiguous and got.flags.owndata
            np.testing.assert_array_equal(got, expected[rows], err_msg=f"{cid} {window} rows {rows}")
            got[...] = 0  # the caller owns it: the next ranges (and the cache) are unaffected


def test_row_reader_reads_only_the_blocks_of_its_rows(opened, monkeypatch):
    """A range of rows takes from the cache only the blocks of its rows, each once per reader."""
    part = opened["coads-chunked"].ds["SST"].data[2:12]  # rows 2..11: source blocks 0 (rows 2-4), 1, 2 (10-11)
    reader = direct_read.rows(part)
    assert reader is not None and part.numblocks == (3, 3, 3)
    asked = []
    for name, fn in list(reader._eval.blocks.items()):
        reader._eval.blocks[name] = lambda block_id, fn=fn: asked.append(block_id) or fn(block_id=block_id)
    got = reader.read_into(slice(4, 6), np.dtype(">f4"))  # source rows 6-7: source block 1 only
    assert sorted(asked) == [(1, j, i) for j in range(3) for i in range(3)]
    np.testing.assert_array_equal(got, part[4:6].compute(scheduler="sync"))
    asked.clear()
    reader.read_into(slice(3, 8), np.dtype(">f4"))
    assert asked == []  # the same row of blocks: taken once (the slabs of one chunk see one version of it)
    reader.read_into(slice(8, 10), np.dtype(">f4"))
    assert {b[0] for b in asked} == {2} and len(reader._eval.done) <= 2 * 9  # the earlier row was let go


def test_row_reader_refuses_what_read_refuses(opened):
    var = opened["coads"].ds["SST"]
    assert direct_read.rows(var.isel(TIME=0).data + 1) is None  # Blockwise
    assert direct_read.rows(var.data[0, 0, 0]) is None  # 0-d: no rows
    plain = xr.DataArray(np.arange(4.0)).chunk(2).data[1:]
    assert direct_read.rows(plain) is None  # not behind the chunk cache
    big = var.isel(COADSX=slice(0, 5), COADSY=slice(0, 5)).data.rechunk({0: 1, 1: 1, 2: 1})
    assert direct_read.rows(big, max_tasks=8) is None  # more tasks than allowed
