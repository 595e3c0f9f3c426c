"""Which stored layout a selection reads: the source, or the collection's time-series copy.

`isel(collection, ds, idx, points)` is the selection engine's one hook: it applies the orthogonal
indexers `idx` and then the pointwise ones `points` (all of equal length, along a new `points`
dimension) to `ds`, reading each data variable from whichever layout touches fewer bytes of stored
chunks for this selection. The time-series copy (cubeserver/timeseries) is only offered when it is
in sync with the source; its values are the source's decoded values, so answers are identical.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import xarray as xr


@lru_cache(maxsize=1024)
def _bounds(sizes: tuple[int, ...]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(sizes)])


def _chunk_ids(sel, bounds: np.ndarray, n: int) -> np.ndarray | int:
    """Ids of the chunks (edges `bounds`) that positions `sel` (None: all, int, slice, array) fall in;
    an int count for whole runs (no array of every position for 87 600 time steps)."""
    if sel is None:
        return len(bounds) - 1
    if isinstance(sel, slice):
        start, stop, step = sel.indices(n)
        if stop <= start:
            return 0
        if step == 1:
            first, last = np.searchsorted(bounds, [start, stop - 1], side="right") - 1
            return int(last - first + 1)
        sel = np.arange(start, stop, step)
    if isinstance(sel, xr.DataArray):
        sel = sel.values
    pos = np.atleast_1d(np.asarray(sel)).astype("int64") % max(n, 1)
    return np.searchsorted(bounds, pos, side="right") - 1


def _regular(size: int, n: int) -> tuple[int, ...]:
    return tuple([size] * (n // size) + ([n % size] if n % size else []))


def stored_chunks(var: xr.Variable) -> tuple[tuple[int, ...], ...]:
    """The chunks a read of `var` decodes: the file's own (encoding) when known, else the dask chunks."""
    enc = var.encoding
    pref = enc.get("preferred_chunks")
    if pref and all(d in pref for d in var.dims):
        sizes = [min(int(pref[d]), var.sizes[d]) or 1 for d in var.dims]
    elif enc.get("chunks") and len(enc["chunks"]) == var.ndim:
        sizes = [min(int(c), n) or 1 for c, n in zip(enc["chunks"], var.shape)]
    elif var.chunks:
        return var.chunks
    else:
        return tuple((n,) for n in var.shape)  # one contiguous block (e.g. an unchunked NetCDF variable)
    return tuple(_regular(s, n) for s, n in zip(sizes, var.shape))


def bytes_touched(var: xr.Variable, chunks, idx: dict, points: dict | None) -> int:
    """Decoded bytes of the stored chunks of `var` that the selection reads (each chunk once).

    `chunks`: per dimension of `var`, its chunk sizes (tuple of tuples) or one regular size (dict name -> int).
    `idx`: orthogonal indexers per dimension (int, slice, positions); `points`: pointwise ones (equal lengths).
    """
    if isinstance(chunks, dict):
        chunks = tuple(_regular(int(chunks[d]), var.sizes[d]) for d in var.dims)
    count = 1
    point_ids = []
    for d, cs in zip(var.dims, chunks):
        b = _bounds(cs)
        if points and d in points:
            point_ids.append(_chunk_ids(np.asarray(points[d]), b, var.sizes[d]))
            continue
        ids = _chunk_ids(idx.get(d), b, var.sizes[d])
        count *= ids if isinstance(ids, int) else len(np.unique(ids))
    if point_ids:
        count *= len(np.unique(np.stack(point_ids), axis=1).T) if len(point_ids) > 1 else len(np.unique(point_ids[0]))
    chunk_cells = math.prod(max(cs) for cs in chunks) if chunks else 1
    return count * chunk_cells * var.dtype.itemsize


MAX_CHOICES = 1024  # remembered layout choices per copy (patterns of orthogonal selections)


def _pattern(idx: dict) -> tuple | None:
    """A hashable key for orthogonal indexers made only of ints and slices (a single x/y position and a
    time range: the point series), which fixes how many chunks each layout touches (an int touches one
    chunk wherever it is, so only its dimension counts); None otherwise."""
    key = []
    for d, sel in sorted(idx.items()):
        if isinstance(sel, (int, np.integer)):
            key.append((d,))
        elif isinstance(sel, slice):
            key.append((d, sel.start, sel.stop, sel.step))
        else:
            return None
    return tuple(key)


def _copy_cheaper(layout, name: str, full: xr.Variable, idx: dict, points: dict | None) -> bool:
    """Whether the copy's chunks touch fewer bytes than the source's for this selection (remembered per
    selection pattern on the layout, which forgets them when the copy is reloaded)."""
    key = None if points else _pattern(idx)
    if key is not None:
        known = layout.choices.get((name, key))
        if known is not None:
            return known
    cheaper = bytes_touched(full, layout.chunks(name), idx, points) < bytes_touched(full, stored_chunks(full), idx, points)
    if key is not None and len(layout.choices) < MAX_CHOICES:
        layout.choices[(name, key)] = cheaper
    return cheaper


def _copy_variables(collection, ds: xr.Dataset, idx: dict, points: dict | None) -> dict[str, xr.Variable]:
    """The data variables of `ds` that the time-series copy serves more cheaply than the source.

    Point and path selections (pointwise `points`, or one x and one y position) get variables read
    without dask (nothing to mask, a few chunks at most); the rest dask-backed ones.
    """
    from ..timeseries.layout import layout_of

    layout = layout_of(collection)
    if layout is None or layout.collection.ds is not collection.ds:  # e.g. a view (an EDR instance) of it
        return {}
    ax = collection.axes
    single = isinstance(idx.get(ax.x), (int, np.integer)) and isinstance(idx.get(ax.y), (int, np.integer))
    copy = layout.variables(direct=bool(points) or single)
    if not copy:
        return {}
    src = collection.ds
    out = {}
    for name in ds.data_vars:
        if name not in copy or src[name].dims != ds[name].dims or copy[name].shape != src[name].shape:
            continue
        if _copy_cheaper(layout, name, src[name].variable, idx, points):
            out[name] = copy[name]
    return out


def isel(collection, ds: xr.Dataset, idx: dict, points: dict | None = None) -> xr.Dataset:
    """`ds.isel(idx)` then the pointwise `points` isel, each variable read from its cheaper layout.

    `ds` must hold the collection's variables unsliced (a variable subset of `collection.ds`).
    """
    swap = _copy_variables(collection, ds, idx, points)
    if swap:
        try:  # the same Dataset with other data behind some variables: no merge or alignment needed
            ds = ds._replace(variables={**ds._variables, **swap})
        except (AttributeError, TypeError):  # pragma: no cover - a future xarray without _replace
            ds = ds.assign(swap)
    out = ds.isel(idx) if idx else ds
    if points:
        out = out.isel({dim: xr.DataArray(np.asarray(v), dims="points") for dim, v in points.items()})
    return out
