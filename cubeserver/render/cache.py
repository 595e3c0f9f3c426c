"""A bounded in-memory cache of decoded 2-D fields, so the tiles of one layer do not each re-read the file.

A map of one time step / level reads the cells its pixels hit (warp.read_window). When that 2-D
field is small (at most `MAX_CELLS` cells, e.g. a 0.15-degree global grid or the 2.5 km HRDPS
domain), the whole field is decoded once instead and kept here, least recently used first out,
up to `MAX_BYTES` in all: every later tile of that layer is then a numpy lookup. Larger fields are
never cached nor read whole. Entries hold the Dataset they came from, so a reopened collection
(another Dataset object) never sees a stale field, and with the chunk cache (sources/chunk_cache.py) each
entry also holds the version of the source it was read from (file stat; Zarr store, array directory and
metadata): a source rewritten in place is read again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from .. import dask_local

MAX_CELLS = 1 << 22  # 4,194,304 cells per field
MAX_BYTES = 256 << 20  # all fields together

_lock = threading.Lock()
_fields: OrderedDict = OrderedDict()
_bytes = 0


def _storage_dtype(dtype: np.dtype) -> np.dtype:
    """float32 holds float32 and 8/16-bit integers exactly; anything else stays float64."""
    return np.dtype("float32") if dtype.kind == "f" and dtype.itemsize <= 4 or (dtype.kind in "iub" and dtype.itemsize <= 2) \
        else np.dtype("float64")


def field(c, name: str, index: dict[str, int]) -> np.ndarray | None:
    """The (y, x) field of variable `name` at `index` (dimension -> position) as floats with NaN for nodata,
    from the cache or read whole now; None when the field is larger than MAX_CELLS (read windows instead)."""
    global _bytes
    from .warp import _nodata_as_nan

    var = c.ds[name]
    ax = c.axes
    ny, nx = var.sizes[ax.y], var.sizes[ax.x]
    if ny * nx > MAX_CELLS:
        return None
    from ..sources.chunk_cache import version_at

    # a rewritten source file / Zarr store or array is read again (a Zarr chunk replaced alone is not seen
    # here: checking every chunk of a field per tile would cost ~1 ms; the EDR/Coverages chunk reads are exact)
    version = version_at(var, index, coarse=True)
    key = (c.id, name, tuple(sorted(index.items())))
    with _lock:
        hit = _fields.get(key)
        if hit is not None and hit[0] is c.ds and hit[2] == version:
            _fields.move_to_end(key)
            return hit[1]
    part = var.isel(index).transpose(ax.y, ax.x)
    values = np.asarray(part.compute(scheduler=dask_local.threads).values)
    data = _nodata_as_nan(part, values).astype(_storage_dtype(values.dtype), copy=False)
    data.setflags(write=False)
    with _lock:
        old = _fields.pop(key, None)
        if old is not None:
            _bytes -= old[1].nbytes
        _fields[key] = (c.ds, data, version)
        _bytes += data.nbytes
        while _bytes > MAX_BYTES and len(_fields) > 1:
            _, (_, dropped, _) = _fields.popitem(last=False)
            _bytes -= dropped.nbytes
    return data


def clear() -> None:
    global _bytes
    with _lock:
        _fields.clear()
        _bytes = 0
