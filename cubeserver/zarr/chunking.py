"""The Zarr chunk shape (`chunks`) of a variable: the dataset's dask chunking, split until a chunk is small.

Zarr v2 needs one regular chunk shape per array. Following the dask chunks means a
Zarr chunk overlaps as few source chunks as possible; halving the largest side of
big chunks keeps each HTTP answer around `TARGET_BYTES` so a small selection does
not pull megabytes. Coordinates are always one chunk (clients read them whole).
"""

from __future__ import annotations

import math

import numpy as np

TARGET_BYTES = 1 << 20  # uncompressed bytes per chunk, before compression


def _base_sizes(shape: tuple[int, ...], dask_chunks: tuple[tuple[int, ...], ...] | None) -> list[int]:
    if not dask_chunks:
        return [max(1, n) for n in shape]
    sizes = []
    for n, per_dim in zip(shape, dask_chunks):
        first = per_dim[0] if per_dim else n
        regular = all(c == first for c in per_dim[:-1]) and (not per_dim or per_dim[-1] <= first)
        sizes.append(max(1, first if regular else min(per_dim)))
    return sizes


def chunk_shape(shape: tuple[int, ...], itemsize: int, dask_chunks=None, *, whole: bool = False,
                target: int = TARGET_BYTES) -> tuple[int, ...]:
    """Regular chunk shape for an array of `shape`; `whole` gives one chunk (coordinates)."""
    if not shape:
        return ()
    sizes = [max(1, n) for n in shape] if whole else _base_sizes(shape, dask_chunks)
    if whole:
        return tuple(sizes)
    while math.prod(sizes) * itemsize > target:
        i = int(np.argmax(sizes))
        if sizes[i] == 1:
            break
        sizes[i] = math.ceil(sizes[i] / 2)
    return tuple(sizes)


def grid(shape: tuple[int, ...], chunks: tuple[int, ...]) -> tuple[int, ...]:
    """Number of chunks along each dimension."""
    return tuple(max(1, math.ceil(n / c)) for n, c in zip(shape, chunks))


def parse_key(key: str, shape: tuple[int, ...], chunks: tuple[int, ...]) -> tuple[slice, ...] | None:
    """Slices of the chunk named `key` ("0.3.1"; "0" for a scalar), or None if there is no such chunk."""
    parts = key.split(".")
    if not shape:
        return () if key == "0" else None
    if len(parts) != len(shape) or not all(p.isascii() and p.isdigit() and (p == "0" or not p.startswith("0")) for p in parts):
        return None
    index = [int(p) for p in parts]
    if any(i >= n for i, n in zip(index, grid(shape, chunks))):
        return None
    return tuple(slice(i * c, min((i + 1) * c, n)) for i, c, n in zip(index, chunks, shape))
