"""A chunk-cached array indexed without dask (cubeserver/sources/cached_array.py): the time-series copy's point reads.

`CachedBlocksArray` assembles any basic selection (ints, negative ints, slices with any step, empty ones)
from the blocks of a chunked array; each is compared with numpy indexing of the whole array, through xarray's
lazy indexing as the copy uses it (isel, then isel again, then a pointwise isel), with every block read counted.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import xarray as xr
from xarray.core import indexing

from cubeserver.sources.cached_array import CachedBlocksArray, lazily_indexed

CHUNKS = ((5, 5, 3), (4, 4), (2, 3, 2))


@pytest.fixture(scope="module")
def whole():
    return np.arange(13 * 8 * 7, dtype="float32").reshape(13, 8, 7) * 0.5


def _blocks(whole, reads: list):
    edges = [np.concatenate([[0], np.cumsum(c)]) for c in CHUNKS]

    def block(block_id):
        reads.append(tuple(block_id))
        region = tuple(slice(e[i], e[i + 1]) for e, i in zip(edges, block_id))
        out = whole[region].copy()
        out.setflags(write=False)  # as the chunk cache hands them out
        return out
    return block


KEYS = [slice(None), slice(3, 11), slice(0, 13, 4), slice(12, 0, -3), slice(None, None, -1), slice(4, 4),
        slice(9, 2), 0, 6, -1, -13, slice(-4, None), slice(1, 12, 5)]


def test_every_basic_selection_equals_numpy(whole):
    reads: list = []
    arr = CachedBlocksArray(_blocks(whole, reads), whole.shape, whole.dtype, CHUNKS)
    for key in itertools.product(KEYS, KEYS[:7] + [3, -2], [slice(None), slice(6, 0, -2), 1, slice(2, 5)]):
        got = arr[indexing.BasicIndexer(key)]
        want = whole[key]
        assert got.shape == want.shape and got.dtype == want.dtype, key
        np.testing.assert_array_equal(got, want, err_msg=str(key))
        assert got.flags.writeable, key  # the caller's own copy, never a cached block


def test_reads_only_the_blocks_it_needs(whole):
    reads: list = []
    arr = CachedBlocksArray(_blocks(whole, reads), whole.shape, whole.dtype, CHUNKS)
    arr[indexing.BasicIndexer((slice(None), 5, 2))]  # a point series: time x one cell
    assert sorted(reads) == [(0, 1, 1), (1, 1, 1), (2, 1, 1)]  # lat 5: 2nd block of 4; lon 2: 2nd of (2, 3, 2)
    reads.clear()
    arr[indexing.BasicIndexer((slice(4, 6), 0, 0))]
    assert sorted(reads) == [(0, 0, 0), (1, 0, 0)]


def test_out_of_range_is_an_index_error(whole):
    arr = CachedBlocksArray(_blocks(whole, []), whole.shape, whole.dtype, CHUNKS)
    with pytest.raises(IndexError):
        arr[indexing.BasicIndexer((13, 0, 0))]


def test_through_xarray_lazy_indexing(whole):
    reads: list = []
    lazy = indexing.LazilyIndexedArray(CachedBlocksArray(_blocks(whole, reads), whole.shape, whole.dtype, CHUNKS))
    var = xr.Variable(("time", "lat", "lon"), lazy)
    sub = var.isel(time=slice(2, 12), lat=slice(None, None, -1)).isel(time=slice(1, None, 2), lon=3)
    assert not reads  # still lazy
    np.testing.assert_array_equal(sub.values, whole[2:12][1::2, ::-1, 3])
    picked = var.isel(lat=xr.Variable("points", [0, 7, 3]), lon=xr.Variable("points", [6, 0, 2]))
    np.testing.assert_array_equal(picked.values, whole[:, [0, 7, 3], [6, 0, 2]])
    listed = var.isel(time=[12, 0, 5], lat=2)
    np.testing.assert_array_equal(listed.values, whole[[12, 0, 5], 2])


def test_only_chunk_cached_dask_arrays_are_wrapped():
    import dask.array as da

    assert lazily_indexed(np.zeros(3)) is None
    assert lazily_indexed(da.zeros((4, 4), chunks=2)) is None  # not the cache's layer
