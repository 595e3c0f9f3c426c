"""A collection's time-series copy at request time: open it, keep checking it is in sync, estimate bytes.

`attach(collection, config)` (called by the registry when a collection with a `timeseries:` key is
opened) puts a `TimeSeriesLayout` in `collection.extra["timeseries"]`. The selection engine asks it
`variables()` on each request: the copy's lazy (dask) variables when the copy exists, matches the
collection's variables (dims, shape, dtype) and its source is unchanged since the copy was built;
None otherwise (the source is then read). A copy found stale stays unused until it is rebuilt
(`cubeserver build-timeseries`), which the layout notices by its manifest changing.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import warnings
from pathlib import Path

import xarray as xr

from ..sources import chunk_cache
from ..sources.cached_array import lazily_indexed
from .build import MANIFEST, default_path
from .source_state import StateWatch

log = logging.getLogger("cubeserver")


def copy_path(cid: str, ts, config) -> Path:
    """Where the copy of collection `cid` lives (its `timeseries.path`, else under the state dir)."""
    return config.resolve(ts.path) if ts.path else default_path(config.state_path, cid)


def attach(collection, config) -> None:
    """Give a gridded collection whose config has `timeseries:` its layout (no-op otherwise)."""
    ts = getattr(collection.config, "timeseries", None)
    if ts is None or collection.ds is None:
        return
    collection.extra["timeseries"] = TimeSeriesLayout(collection, copy_path(collection.id, ts, config), ts.recheck)


def layout_of(collection) -> "TimeSeriesLayout | None":
    return collection.extra.get("timeseries") if collection.extra else None


def _stat(path: str):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


class TimeSeriesLayout:
    """The copy of one collection. Thread-safe; `variables()` costs a few stat() calls when in sync."""

    def __init__(self, collection, path: Path, recheck: float = 1.0):
        self.collection = collection
        self.path = Path(path)
        self._manifest_path = str(self.path / MANIFEST)  # a str: os.stat on it is cheaper than on a Path
        self.recheck = recheck
        self._lock = threading.Lock()
        self._manifest_sig = None
        self._vars: dict[str, xr.Variable] | None = None
        self._direct: dict[str, xr.Variable] = {}
        self._chunks: dict[str, dict[str, int]] = {}
        # which layout is cheaper, per (variable, selection pattern): select.layouts' memo, emptied on reload
        self.choices: dict[tuple, bool] = {}
        self._watch: StateWatch | None = None
        self._stale = False
        self.status = "missing"

    def _load(self, sig) -> None:
        """(Re)open the copy after its manifest appeared or changed; sets status and the variables."""
        self._manifest_sig, self._vars, self._watch, self._stale = sig, None, None, False
        if sig is None:
            self.status = "missing"
            return
        try:
            manifest = json.loads((self.path / MANIFEST).read_text())
            src = self.collection.ds
            wrong = [n for n in self.collection.variables
                     if n not in manifest["variables"]
                     or manifest["variables"][n]["shape"] != list(src[n].shape)
                     or manifest["variables"][n]["dims"] != list(map(str, src[n].dims))
                     or manifest["variables"][n]["dtype"] != str(src[n].dtype)]
            if wrong:
                self.status = f"stale: {', '.join(wrong)} differ from the source (rebuild the copy)"
                self._stale = True
                log.warning("collections.%s.timeseries: %s", self.collection.id, self.status)
                return
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                opened = xr.open_zarr(self.path, chunks={}, consolidated=True)
                raw = xr.open_zarr(self.path, chunks=None, consolidated=True)  # lazily indexed, no dask
            # through the shared cache of decoded chunks when it is on: a point series is then one cached chunk
            ds = chunk_cache.attach(opened, self.path, "zarr")
            cached = ds is not opened
            vars_, direct = {}, {}
            for n in self.collection.variables:
                v = src[n].variable
                data = ds[n].variable.data
                if data.dtype != v.dtype or data.shape != v.shape:
                    raise ValueError(f"{n}: {data.dtype}{data.shape} in the copy, {v.dtype}{v.shape} in the source")
                vars_[n] = xr.Variable(v.dims, data, v.attrs, v.encoding)
                # point reads: the cached chunks indexed without a dask graph, else Zarr's lazy indexing
                lazy = lazily_indexed(data) if cached else None
                direct[n] = xr.Variable(v.dims, lazy if lazy is not None else raw[n].variable._data, v.attrs,
                                        v.encoding)
            self._chunks = {n: manifest["variables"][n]["chunks"] for n in vars_}
            self.choices = {}
            self._watch = StateWatch(manifest["source_state"], self.recheck)
            self._vars, self._direct = vars_, direct
            self.status = "in sync"
        except Exception:  # noqa: BLE001 - a damaged copy is never used; the source answers instead
            log.warning("collections.%s.timeseries: the copy at %s cannot be read; serving from the source",
                        self.collection.id, self.path, exc_info=True)
            self.status = "unreadable"
            self._stale = True

    def variables(self, direct: bool = False) -> dict[str, xr.Variable] | None:
        """The copy's lazy variables (source attrs and encoding) when it is in sync with the source, else None.

        `direct`: variables read by xarray's lazy indexing straight from Zarr, without a dask graph (for
        small point/path selections: ~ms less per request); otherwise dask-backed ones (grids: masking,
        size guards and streaming stay lazy)."""
        sig = _stat(self._manifest_path)
        if sig != self._manifest_sig:
            with self._lock:
                if sig != self._manifest_sig:
                    self._load(sig)
        if self._stale or self._vars is None:
            return None
        if not self._watch.unchanged():
            with self._lock:
                if not self._stale:
                    self._stale = True
                    self.status = "stale: the source changed since the copy was built (rebuild the copy)"
                    log.warning("collections.%s.timeseries: %s; serving from the source", self.collection.id,
                                self.status)
            return None
        return self._direct if direct else self._vars

    def chunks(self, name: str) -> dict[str, int]:
        """The copy's chunk size per dimension of variable `name` (KeyError when the copy is not in use)."""
        if name not in self._chunks:
            self.variables()
        return self._chunks[name]

    def describe(self) -> dict:
        """For check-config: where the copy is and whether it is used."""
        self.variables()
        return {"path": str(self.path), "status": self.status}
