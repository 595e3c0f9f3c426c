"""One Zarr chunk, computed on request: slice the lazy variable, encode, pad, compress.

Slicing the lazy variable first lets dask read only the source chunks the Zarr
chunk overlaps (and for NetCDF/GeoTIFF only the window itself). Edge chunks are
padded to the full chunk shape, as Zarr v2 stores them.
"""

from __future__ import annotations

import numpy as np

from .. import dask_local
from .chunking import parse_key
from .encoding import encode_values
from .metadata import COMPRESSOR, ArraySpec


def chunk_slices(spec: ArraySpec, key: str) -> tuple[slice, ...] | None:
    return parse_key(key, spec.shape, spec.chunks)


def read_chunk(spec: ArraySpec, slices: tuple[slice, ...]) -> bytes:
    """Compressed bytes of the chunk at `slices` (from `chunk_slices`)."""
    piece = spec.variable[slices] if slices else spec.variable
    # a chunk is small: computing it in the calling thread beats a thread pool hand-off
    piece = piece.load(scheduler=dask_local.sync)
    values = encode_values(spec.name, piece, spec.encoded)
    if values.shape != tuple(spec.chunks):
        values = _pad(values, spec)
    return COMPRESSOR.encode(values)


def _pad(values: np.ndarray, spec: ArraySpec) -> np.ndarray:
    fill = spec.encoded.fill_value
    out = np.empty(spec.chunks, dtype=spec.encoded.dtype)
    try:
        out.fill(0 if fill is None else fill)
    except (TypeError, ValueError, OverflowError):
        out.fill(0)
    out[tuple(slice(0, n) for n in values.shape)] = values
    return out
