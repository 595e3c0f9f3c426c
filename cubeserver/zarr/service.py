"""Per-collection Zarr metadata cache and chunk reads, shared by the routes.

Metadata is built once per collection and rebuilt only if the collection's
Dataset object is replaced (e.g. a job output re-published under the same id).
`reads` counts chunk reads per (collection, variable, chunk key) for tests and monitoring.
"""

from __future__ import annotations

import threading
from collections import Counter

from ..context import AppContext
from ..errors import NotFound
from .blocks import chunk_slices, read_chunk
from .chunking import grid
from .metadata import StoreMeta, build


class ZarrService:
    def __init__(self, ctx: AppContext):
        self.ctx = ctx
        self._cache: dict[str, tuple[object, StoreMeta]] = {}
        self._lock = threading.Lock()
        self.reads: Counter = Counter()

    def meta(self, cid: str) -> StoreMeta:
        c = self.ctx.registry.gridded(cid)
        hit = self._cache.get(cid)
        if hit is not None and hit[0] is c.ds:
            return hit[1]
        with self._lock:
            hit = self._cache.get(cid)
            if hit is not None and hit[0] is c.ds:
                return hit[1]
            meta = build(c.ds)
            for gone in [k for k in self._cache if k not in self.ctx.registry]:
                del self._cache[gone]
            self._cache[cid] = (c.ds, meta)
            return meta

    def document(self, cid: str, key: str) -> bytes:
        body = self.meta(cid).documents.get(key)
        if body is None:
            raise NotFound(f"no Zarr metadata key {key!r} in collection {cid!r}")
        return body

    def chunk(self, cid: str, var: str, key: str) -> bytes:
        """Compressed bytes of chunk `key` ("i.j.k") of array `var`; NotFound (404) naming the valid keys."""
        spec = self.meta(cid).arrays.get(var)
        if spec is None:
            raise NotFound(f"no array {var!r} in the Zarr store of collection {cid!r}")
        slices = chunk_slices(spec, key)
        if slices is None:
            raise NotFound(f"no chunk {key!r} in array {var!r}: {chunk_key_range(spec.shape, spec.chunks)}")
        self.reads[(cid, var, key)] += 1
        return read_chunk(spec, slices)


def chunk_key_range(shape: tuple[int, ...], chunks: tuple[int, ...]) -> str:
    """The keys an array has, in Zarr v2 terms: `shape`, `chunks` (the chunk shape) and the chunk grid
    (chunks per dimension, ceil(shape / chunks)), e.g. "shape (12, 90, 180), chunks (1, 90, 180): keys
    0.0.0 to 11.0.0"."""
    if not shape:
        return "a 0-d array has the one chunk key 0"
    counts = grid(shape, chunks)
    last = ".".join(str(g - 1) for g in counts)
    return (f"shape {tuple(shape)}, chunks (chunk shape) {tuple(chunks)}, so a chunk grid of "
            f"{' x '.join(map(str, counts))}: keys {'.'.join('0' * len(counts))} to {last}")
