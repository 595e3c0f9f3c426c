"""Build a collection's time-series copy: the same values rechunked as all times x a few cells (dask + xarray).

The copy is a standard Zarr (v3) store, readable by any Zarr client, holding the collection's served
data variables *as decoded* (scale/offset applied, nodata as NaN) so reading it gives exactly the
values the source gives, plus the dimension coordinates. Written to `<path>.partial` and renamed into
place, with a manifest (`cubeserver-timeseries.json`) recording the source's state (source_state.py)
taken before writing and checked again after: a source that changed meanwhile fails the build.
"""

from __future__ import annotations

import json
import math
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from .source_state import record

MANIFEST = "cubeserver-timeseries.json"
FORMAT_VERSION = 1


class BuildError(RuntimeError):
    """The copy could not be built (message says why, without server paths in HTTP answers)."""


def default_path(state_path: Path, cid: str) -> Path:
    return Path(state_path) / "timeseries" / f"{cid}.zarr"


def target_chunks(var: xr.DataArray, tdim: str | None, ydim: str, xdim: str, chunks: dict | None,
                  chunk_bytes: int) -> dict[str, int]:
    """Chunk size per dimension of `var` in the copy.

    Dimensions named in `chunks` keep that size (-1: whole). Otherwise: the time axis whole, other
    non-spatial axes 1, and an n x n square of x/y cells with n = floor(sqrt(chunk_bytes /
    (bytes of one cell's other dims)), at least 1, at most the grid.
    """
    chunks = dict(chunks or {})
    out = {}
    for d in var.dims:
        if d in chunks:
            n = int(chunks[d])
            out[d] = var.sizes[d] if n == -1 else min(n, var.sizes[d])
        elif d in (xdim, ydim):
            continue
        elif d == tdim:
            out[d] = var.sizes[d]
        else:
            out[d] = 1
    per_cell = var.dtype.itemsize * math.prod(out[d] for d in var.dims if d not in (xdim, ydim))
    side = max(1, int(math.isqrt(max(1, chunk_bytes // max(per_cell, 1)))))
    for d in (ydim, xdim):
        if d in var.dims and d not in out:
            out[d] = min(side, var.sizes[d])
    return {d: out[d] for d in var.dims}


def build(collection, dest: Path, source: Path, chunks: dict | None = None, chunk_bytes: int = 1 << 20,
          log=print) -> dict:
    """Write the copy of `collection` (a registry.Collection) to `dest`; returns its manifest.

    Raises BuildError when the source changes while the copy is written.
    """
    ax = collection.axes
    dest = Path(dest)
    started = time.perf_counter()
    before = record(source)
    names = collection.variables
    src = collection.ds
    data = {}
    encoding = {}
    from zarr.codecs import BloscCodec

    plan = {}
    for name in names:
        v = src[name]
        tc = target_chunks(v, ax.t, ax.y, ax.x, chunks, chunk_bytes)
        plan[name] = tc
        arr = v.data.rechunk(tuple(tc[d] for d in v.dims)) if hasattr(v.data, "rechunk") else v.data
        data[name] = xr.Variable(v.dims, arr)
        encoding[name] = {"chunks": tuple(tc[d] for d in v.dims),
                          "compressors": [BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")]}
    coords = {}
    for d in {d for v in data.values() for d in v.dims}:
        if d in src.coords:
            c = src[d].variable.copy(deep=False)
            coords[d] = xr.Variable(c.dims, c.values, c.attrs)
            if np.issubdtype(c.dtype, np.datetime64) or c.dtype == object:
                coords[d].encoding = {k: src[d].encoding[k] for k in ("units", "calendar") if k in src[d].encoding}
    out = xr.Dataset(data, coords=coords, attrs={"source": f"cubeserver time-series copy of collection {collection.id}"})
    tmp = dest.with_name(dest.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    dest.parent.mkdir(parents=True, exist_ok=True)
    log(f"{collection.id}: writing {', '.join(f'{n} chunks {plan[n]}' for n in names)} to {dest}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out.to_zarr(tmp, encoding=encoding, consolidated=True, zarr_format=3, mode="w",
                    compute=False).compute(scheduler="threads")
    after = record(source)
    if after != before:
        shutil.rmtree(tmp, ignore_errors=True)
        raise BuildError(f"{collection.id}: the source changed while the copy was written; run the command again")
    manifest = {
        "format": FORMAT_VERSION,
        "collection": collection.id,
        "source": str(source),
        "source_state": before,
        "variables": {n: {"dims": list(map(str, src[n].dims)), "shape": list(src[n].shape),
                          "dtype": str(src[n].dtype), "chunks": plan[n]} for n in names},
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (tmp / MANIFEST).write_text(json.dumps(manifest))
    old = dest.with_name(dest.name + ".old")
    if dest.exists():
        if old.exists():
            shutil.rmtree(old)
        dest.rename(old)
    tmp.rename(dest)
    shutil.rmtree(old, ignore_errors=True)
    manifest["seconds"] = round(time.perf_counter() - started, 2)
    manifest["bytes"] = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    return manifest
