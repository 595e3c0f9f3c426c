"""A bounded in-process cache of decoded chunks, shared by every request of a server process (#15 item 4).

`attach(ds, path, fmt)` rewraps each dask-backed variable of an opened Dataset so that each of its
dask chunks is computed once (decoded: scale/offset, fill values and time decoding applied, as the
selection engine sees them) and then served from `CACHE`, least recently used first out, up to
`limits.chunk_cache_bytes` in all (config; 0 disables and `attach` leaves the Dataset as it is).

Never stale: every entry is keyed by the source's identity and *version* at the time of the read,
and the version is looked up again on every access (one `stat`):
- a file (NetCDF, GeoTIFF, GRIB, each file of a multi-file collection): (mtime ns, size, inode);
- a Zarr store whose dask chunks are its own chunks: that chunk's file (mtime ns, size, inode; absent
  chunks too) and the array's metadata file, so a chunk rewritten in place invalidates only itself.
  Zarr variables chunked otherwise by the config are not cached (no cheap per-chunk version).
When a file's version changed, its open handles are closed once (xarray reopens them on the next read),
so the new bytes are read, not what the old handle still sees.
A chunk is computed through the variable's own dask graph (only the tasks it needs) with the synchronous
scheduler; the chunks of one request are computed concurrently by whichever dask scheduler the request runs.
"""

from __future__ import annotations

import itertools
import os
import threading
import weakref
from collections import OrderedDict
from pathlib import Path

import numpy as np

_ZARR_META = ("zarr.json", ".zarray")


class ChunkCache:
    """Bytes-bounded LRU of read-only numpy chunks. Thread-safe. `max_bytes` 0: nothing is kept."""

    def __init__(self, max_bytes: int = 0):
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def configure(self, max_bytes: int) -> None:
        with self._lock:
            self.max_bytes = int(max_bytes)
            self._evict()

    def get(self, key):
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return hit

    def put(self, key, value: np.ndarray) -> None:
        if value.nbytes > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            self._items[key] = value
            self._bytes += value.nbytes
            self._evict()

    def drop(self, source: str) -> None:
        """Forget every chunk of `source` (its version changed: the old entries can never be hit again)."""
        with self._lock:
            for key in [k for k in self._items if k[0] == source]:
                self._bytes -= self._items.pop(key).nbytes

    def _evict(self) -> None:
        while self._bytes > self.max_bytes and self._items:
            _, dropped = self._items.popitem(last=False)
            self._bytes -= dropped.nbytes

    @property
    def nbytes(self) -> int:
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


CACHE = ChunkCache(0)


def configure(max_bytes: int) -> None:
    """Set the size bound of the shared cache (bytes; 0 disables caching for Datasets opened afterwards)."""
    CACHE.configure(max_bytes)


def _stat(path: str) -> tuple:
    try:
        st = os.stat(path)
    except OSError:
        return ("absent",)
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class _FileSource:
    """Version of a file source: the stat of its file(s); closes the Dataset's handles when it changes."""

    def __init__(self, ds, files: list[str]):
        self.ds = ds
        self.files = files
        self.key = "|".join(files)
        self._seen = self.version()
        self._lock = threading.Lock()

    def version(self, name: str | None = None, block: tuple | None = None) -> tuple:
        return tuple(_stat(f) for f in self.files)

    def __getstate__(self):  # graphs are pickled to dask workers: no lock, no Dataset (nothing to close there)
        return {"ds": None, "files": self.files, "key": self.key, "_seen": self._seen}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def check(self, version: tuple) -> None:
        if version == self._seen or self.ds is None:
            return
        with self._lock:
            if version != self._seen:
                self._seen = version
                CACHE.drop(self.key)
                try:  # xarray's file managers reopen a closed file on the next read
                    self.ds.close()
                except Exception:  # noqa: BLE001 - a backend that cannot close keeps its handle
                    pass


class _ZarrSource:
    """Version of one chunk of a Zarr store: its chunk file and the array's metadata."""

    def __init__(self, root: Path):
        self.root = root
        self.key = str(root)
        self._encoders: dict = {}
        self._shapes: dict = {}

    def __getstate__(self):  # zarr's chunk-key functions are looked up again where the graph runs
        return {"root": self.root, "key": self.key, "_encoders": {}, "_shapes": self._shapes}

    def encoder(self, name: str, chunks: tuple):
        """The chunk-key function of array `name` when its chunks are `chunks` (tuple of ints), else None."""
        meta = None
        for m in _ZARR_META:
            p = self.root / name / m
            if p.exists():
                meta = p
                break
        if meta is None:
            return None
        try:
            import zarr

            arr = zarr.open_array(str(self.root / name), mode="r")
        except Exception:  # noqa: BLE001 - not a plain local array (e.g. sharded or remote): not cached
            return None
        if tuple(arr.chunks) != tuple(chunks) or getattr(arr, "shards", None):
            return None
        encode = arr.metadata.encode_chunk_key
        self._encoders[name] = (encode, str(meta))
        self._shapes[name] = tuple(chunks)
        return encode

    def version(self, name: str, block: tuple) -> tuple:
        if name not in self._encoders and self.encoder(name, self._shapes[name]) is None:
            return ("uncached", block)
        encode, meta = self._encoders[name]
        return (_stat(str(self.root / name / encode(block))), _stat(meta))

    def check(self, version: tuple) -> None:
        return None


class _RemoteSource:
    """A remote or virtual store (URL, kerchunk, Icechunk): no cheap per-chunk version, so every chunk is keyed by
    the store's fingerprint when it was opened (`registry` opens a new Dataset, with a new fingerprint, when the
    store changes: the old chunks are never hit again and age out)."""

    def __init__(self, url: str, version: str):
        self.key = f"{url}@{version}"
        self._version = (version,)

    def version(self, name: str | None = None, block: tuple | None = None) -> tuple:
        return self._version

    def check(self, version: tuple) -> None:
        return None


def _regular(chunks: tuple[tuple[int, ...], ...]) -> tuple[int, ...] | None:
    """The chunk shape of a regular dask chunking (all but the last chunk equal per axis), else None."""
    out = []
    for c in chunks:
        if len(c) > 1 and (len(set(c[:-1])) > 1 or c[-1] > c[0]):
            return None
        out.append(c[0])
    return tuple(out)


_layers: "weakref.WeakValueDictionary[str, _Blocks]" = weakref.WeakValueDictionary()


class _Blocks:
    """Computes one dask chunk of a variable through the cache (the function of a map_blocks layer)."""

    def __init__(self, source, name: str, arr):
        self.source = source
        self.name = name
        self.arr = arr
        self.dims: tuple = ()
        self._graph: dict | None = None
        self._lock = threading.Lock()

    def __getstate__(self):  # pickled with the graph to dask workers: no lock, no materialized graph
        return {**self.__dict__, "_graph": None, "_lock": None}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _compute(self, block: tuple) -> np.ndarray:
        """One chunk of the source array: only the tasks it depends on, run synchronously.
        (`dask.compute(arr.blocks[block])` optimizes and culls the array's whole graph on every call:
        O(chunks) per chunk, a quadratic point series over thousands of chunks; here the graph is
        materialized once per variable and culled from the one key.)"""
        from dask.local import get_sync
        from dask.optimization import cull

        if self._graph is None:
            with self._lock:
                if self._graph is None:
                    self._graph = dict(self.arr.__dask_graph__())
        key = (self.arr.name, *block)
        needed, _ = cull(self._graph, [key])
        return get_sync(needed, key)

    def version_at(self, index: dict, coarse: bool = False) -> tuple:
        """The version of every chunk holding values at `index` (dimension -> position; others: all).
        `coarse`: for Zarr only the store's, the array's directory and metadata (3 stats instead of 2 per
        chunk: a rewritten store or array is seen, a chunk replaced alone is not)."""
        if isinstance(self.source, (_FileSource, _RemoteSource)):
            return self.source.version()
        if coarse:
            root = self.source.root
            return (_stat(str(root)), _stat(str(root / self.name)), _stat(self.source._encoders[self.name][1])
                    if self.name in self.source._encoders else None)
        axes = []
        for dim, chunks in zip(self.dims, self.arr.chunks):
            if dim in index:
                axes.append([int(np.searchsorted(np.cumsum(chunks), int(index[dim]), side="right"))])
            else:
                axes.append(range(len(chunks)))
        return tuple(self.source.version(self.name, b) for b in itertools.product(*axes))

    def _key(self, block: tuple) -> tuple:
        version = self.source.version(self.name, block)
        self.source.check(version)
        # the dask array's name tells apart two openings of one source (other chunks, options, transforms):
        # with (source, variable, block) alone, a collection got another's differently shaped or decoded chunk
        return (self.source.key, self.name, self.arr.name, block, version)

    def peek(self, block_id) -> np.ndarray | None:
        """The chunk if the cache holds its current version, else None: never reads or decodes (a caller on
        the event loop reads only what is already decoded)."""
        return CACHE.get(self._key(tuple(block_id)))

    def __call__(self, block_id=None):
        block = tuple(block_id)
        key = self._key(block)
        hit = CACHE.get(key)
        if hit is not None:
            return hit
        value = np.asarray(self._compute(block))
        if value.base is not None:  # a view would keep (and under-count) a larger buffer alive
            value = value.copy()
        value.setflags(write=False)
        CACHE.put(key, value)
        return value


def attach(ds, path: Path | str, fmt: str, files: list[str] | None = None, version: str | None = None):
    """`ds` with its dask-backed data variables served through the shared chunk cache; `ds` unchanged when
    the cache is disabled (size 0) or the source is not a local file / Zarr directory.

    `path`: the collection's source (a file or a Zarr directory); `files`: the files of a multi-file
    collection; `version`: a remote/virtual source's fingerprint (`path` is then its URL). Variables keep their
    attrs, encoding and coordinates; only `.data` is replaced.
    """
    if CACHE.max_bytes <= 0:
        return ds
    import dask.array as da

    if version is not None:
        source = _RemoteSource(str(path), version)
    elif fmt == "zarr" and Path(path).is_dir():
        path = Path(path)
        source = _ZarrSource(path)
    elif files or Path(path).is_file():
        path = Path(path)
        source = _FileSource(ds, [str(Path(f).resolve()) for f in (files or [path])])
    else:
        return ds
    out = ds.copy()
    for name, var in ds.data_vars.items():
        arr = var.data
        if not isinstance(arr, da.Array) or arr.size == 0 or arr.dtype.kind not in "biufcmM":
            continue
        if isinstance(source, _ZarrSource):
            shape = _regular(arr.chunks)
            if shape is None or source.encoder(str(name), shape) is None:
                continue
        fn = _Blocks(source, str(name), arr)
        fn.dims = tuple(str(d) for d in var.dims)
        new = da.map_blocks(fn, chunks=arr.chunks, dtype=arr.dtype, meta=np.empty((0,) * arr.ndim, arr.dtype),
                            name=f"chunk-cache-{arr.name}")
        _layers[new.name] = fn
        out[name] = var.copy(data=new)
    return out


def block_function(layer: str):
    """The cache's block function behind dask layer `layer` (callable as `fn(block_id=(i, j, ...))` -> the
    decoded, read-only chunk), or None when the layer is not one of the cache's."""
    return _layers.get(layer) if str(layer).startswith("chunk-cache-") else None


def version_at(var, index: dict, coarse: bool = False) -> tuple | None:
    """The source version of the chunks of a (cached) variable at `index` (dimension -> position), for caches
    of values derived from them (e.g. render.cache's decoded fields); None when `var` is not served through
    the chunk cache."""
    graph = getattr(getattr(var, "data", None), "dask", None)
    layers = getattr(graph, "layers", None)
    if not layers:
        return None
    for name in layers:
        fn = _layers.get(name) if str(name).startswith("chunk-cache-") else None
        if fn is not None:
            return (name, fn.version_at(index, coarse))
    return None


__all__ = ["ChunkCache", "CACHE", "configure", "attach", "block_function", "version_at"]
