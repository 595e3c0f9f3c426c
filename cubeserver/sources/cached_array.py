"""A chunk-cached array indexed without dask: the point reads of a time-series copy (#15 item 5).

A point series from a collection's time-series copy is one or two chunks of the copy. Indexing it through
dask builds a graph (slicing, tokenizing, a HighLevelGraph) that costs more than reading the cached chunk:
about a tenth of the request. `lazily_indexed(arr)` wraps the same cached chunks (`chunk_cache`'s block
function, versioned: a rewritten chunk is read again) as an xarray backend array, so `isel` composes the
indexers lazily and reading copies just the selected part of each block into the answer.
"""

from __future__ import annotations

import itertools

import numpy as np
from xarray.backends import BackendArray
from xarray.core import indexing


def _runs(sel: slice, n: int, edges: np.ndarray):
    """(block, local slice, output slice) for each block a slice of an axis of length `n` touches, with the
    positions in increasing order, and whether the output must be reversed (a negative step)."""
    start, stop, step = sel.indices(n)
    count = len(range(start, stop, step))
    if count == 0:
        return [], 0, False
    flip = step < 0
    if flip:  # the same positions, ascending; reversed once assembled
        start, step = start + (count - 1) * step, -step
    last = start + (count - 1) * step
    first_block = int(np.searchsorted(edges, start, side="right")) - 1
    last_block = int(np.searchsorted(edges, last, side="right")) - 1
    out = []
    for b in range(first_block, last_block + 1):
        e0, e1 = int(edges[b]), int(edges[b + 1])
        k_lo = max(0, -(-(e0 - start) // step))
        k_hi = min(count, -(-(e1 - start) // step))
        if k_lo < k_hi:
            p0, p1 = start + k_lo * step, start + (k_hi - 1) * step
            out.append((b, slice(p0 - e0, p1 - e0 + 1, step), slice(k_lo, k_hi)))
    return out, count, flip


class CachedBlocksArray(BackendArray):
    """The values of a chunk-cached dask array (`shape`, `dtype`, `chunks`) read block by block from the
    cache's block function `blocks(block_id=(i, j, ...))` (decoded, read-only). Basic indexing only (ints and
    slices; xarray applies the rest in memory). Raises what reading a chunk raises."""

    def __init__(self, blocks, shape: tuple, dtype: np.dtype, chunks: tuple):
        self.blocks, self.shape, self.dtype, self.chunks = blocks, tuple(shape), np.dtype(dtype), chunks
        self._edges = [np.concatenate([[0], np.cumsum(c)]).astype("int64") for c in chunks]

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        return indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.BASIC, self._read)

    def _read(self, key: tuple) -> np.ndarray:
        per_axis, out_shape, flips = [], [], []
        for k, n, edges in zip(key, self.shape, self._edges):
            if isinstance(k, slice):
                runs, count, flip = _runs(k, n, edges)
                per_axis.append(runs)
                flips.append(flip)
                out_shape.append(count)
            else:
                i = int(k) + n if int(k) < 0 else int(k)
                if not 0 <= i < n:
                    raise IndexError(f"index {int(k)} is out of bounds for an axis of size {n}")
                b = int(np.searchsorted(edges, i, side="right")) - 1
                per_axis.append([(b, i - int(edges[b]), None)])
        out = np.empty(out_shape, dtype=self.dtype)
        if out.size:
            for parts in itertools.product(*per_axis):
                block = self.blocks(block_id=tuple(b for b, _, _ in parts))
                out[tuple(o for _, _, o in parts if o is not None)] = block[tuple(local for _, local, _ in parts)]
        flipped = [axis for axis, f in enumerate(flips) if f]
        return np.flip(out, axis=flipped).copy() if flipped else out


def lazily_indexed(arr):
    """`arr` (a dask array served by the chunk cache, nothing else in its graph) as a lazily indexed
    xarray array reading the same cached blocks without dask; None for any other array."""
    from .chunk_cache import block_function

    layers = getattr(getattr(arr, "dask", None), "layers", None)
    if not layers or len(layers) != 1:
        return None
    fn = block_function(next(iter(layers)))
    if fn is None or getattr(arr, "ndim", 0) == 0:
        return None
    return indexing.LazilyIndexedArray(CachedBlocksArray(fn, arr.shape, arr.dtype, arr.chunks))


__all__ = ["CachedBlocksArray", "lazily_indexed"]
