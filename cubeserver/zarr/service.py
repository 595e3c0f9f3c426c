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
        spec = self.meta(cid).arrays.get(var)
        if spec is None:
            raise NotFound(f"no array {var!r} in the Zarr store of collection {cid!r}")
        slices = chunk_slices(spec, key)
        if slices is None:
            raise NotFound(f"no chunk {key!r} in array {var!r} (chunk grid of {spec.shape} by {spec.chunks})")
        self.reads[(cid, var, key)] += 1
        return read_chunk(spec, slices)
