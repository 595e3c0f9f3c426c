"""Consolidated Zarr v2 metadata of a lazy Dataset: `.zgroup`, `.zattrs`, `{var}/.zarray`, `{var}/.zattrs`.

Built once per collection (the service caches it) without reading data beyond
one sample value per lazy variable. Each array keeps what is needed to compute
its chunks later: the lazy variable, its chunk shape and its frozen encoding.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

import numcodecs
import xarray as xr
from xarray.conventions import encode_dataset_coordinates

from .chunking import chunk_shape
from .encoding import Encoded, cf_ready, json_attr, json_fill, learn

log = logging.getLogger("cubeserver.zarr")

# Blosc+zstd with byte shuffle: good ratios on gridded floats, decoded by every numcodecs
COMPRESSOR = numcodecs.Blosc(cname="zstd", clevel=3, shuffle=numcodecs.Blosc.SHUFFLE)


@dataclass
class ArraySpec:
    name: str
    variable: xr.Variable  # lazy, CF-ready (value encodings only)
    chunks: tuple[int, ...]
    encoded: Encoded

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.variable.shape)

    def zarray(self) -> dict:
        return {
            "zarr_format": 2,
            "shape": list(self.shape),
            "chunks": list(self.chunks),
            "dtype": self.encoded.dtype.str,
            "fill_value": json_fill(self.encoded.fill_value),
            "order": "C",
            "filters": None,
            "dimension_separator": ".",
            "compressor": COMPRESSOR.get_config(),
        }

    def zattrs(self) -> dict:
        attrs = {str(k): json_attr(v) for k, v in self.encoded.attrs.items()}
        attrs["_ARRAY_DIMENSIONS"] = [str(d) for d in self.variable.dims]
        return attrs


@dataclass
class StoreMeta:
    arrays: dict[str, ArraySpec]
    group_attrs: dict
    documents: dict[str, bytes] = field(default_factory=dict)  # key -> JSON body

    def __post_init__(self):
        meta = {".zgroup": {"zarr_format": 2}, ".zattrs": self.group_attrs}
        for name, spec in self.arrays.items():
            meta[f"{name}/.zarray"] = spec.zarray()
            meta[f"{name}/.zattrs"] = spec.zattrs()
        self.documents = {k: _dumps(v) for k, v in meta.items()}
        self.documents[".zmetadata"] = _dumps({"zarr_consolidated_format": 1, "metadata": meta})


def _dumps(doc: dict) -> bytes:
    # stdlib json: attribute NaNs stay NaN (as Zarr's own writer does), not null
    return json.dumps(doc, allow_nan=True, separators=(",", ":")).encode()


def build(ds: xr.Dataset) -> StoreMeta:
    """Describe every variable of `ds` (coordinates included) as a Zarr v2 array."""
    variables, global_attrs = encode_dataset_coordinates(ds)
    arrays: dict[str, ArraySpec] = {}
    for name, var in variables.items():
        name = str(name)
        if "/" in name or name.startswith("."):
            log.warning("zarr: variable %r has no valid Zarr key; not published", name)
            continue
        ready = cf_ready(var)
        try:
            encoded = learn(name, ready)
        except (TypeError, ValueError) as e:
            log.warning("zarr: variable %r not published: %s", name, e)
            continue
        is_coord = name in ds.coords or ready.ndim <= 1 and name in ds.dims
        chunks = chunk_shape(ready.shape, encoded.dtype.itemsize, ready.chunks, whole=is_coord)
        arrays[name] = ArraySpec(name, ready, chunks, encoded)
    attrs = {str(k): json_attr(v) for k, v in global_attrs.items()}
    _keep_coordinates(ds, arrays, attrs)
    return StoreMeta(arrays, attrs)


def _keep_coordinates(ds: xr.Dataset, arrays: dict[str, ArraySpec], attrs: dict) -> None:
    """List every non-index coordinate somewhere, so `open_zarr` makes it a coordinate again.

    xarray leaves a grid-mapping variable (GeoTIFF `spatial_ref`) out of `coordinates`
    attributes; the group-level `coordinates` attribute brings it back as in the source.
    """
    named = set(str(attrs.get("coordinates", "")).split())
    for spec in arrays.values():
        named.update(str(spec.encoded.attrs.get("coordinates", "")).split())
    missing = [str(n) for n in ds.coords if n not in ds.dims and str(n) in arrays and str(n) not in named]
    if missing:
        attrs["coordinates"] = " ".join(str(attrs.get("coordinates", "")).split() + missing)

