"""Job outputs: what a process returns, how it is stored, how it is rendered.

A process returns `Output`s. Small values are kept inline in the job record; text
(CSV) and gridded results become files in the job's folder. Gridded results are
written as NetCDF (the download) and Zarr (chunked, for the temporary collection
EDR and Coverages query) with their CF metadata.
"""

from __future__ import annotations

import base64
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import xarray as xr

from ..encode.netcdf import WRITE_ENGINE
from .storage import JobFiles

NETCDF = "application/x-netcdf"
ZARR = "application/vnd+zarr"
ZARR_CHUNK = "8MiB"  # chunks of the published Zarr: small enough for point and area queries
INLINE_LIMIT = 1_000_000  # bytes of JSON kept in the job record; larger values become files


@dataclass
class Output:
    """One process output: a JSON value, a text document or a computed gridded Dataset."""

    value: Any = None
    media_type: str = "application/json"
    text: str | None = None
    dataset: xr.Dataset | None = None

    @classmethod
    def grid(cls, ds: xr.Dataset) -> Output:
        return cls(dataset=ds, media_type=NETCDF)


def save(outputs: dict[str, Output], job_dir: Path) -> dict:
    """Write outputs under `job_dir`; return the manifest stored in the job record."""
    manifest = {}
    for name, out in outputs.items():
        if out.dataset is not None:
            job_dir.mkdir(parents=True, exist_ok=True)
            manifest[name] = write_grid(out.dataset, job_dir, name)
        elif out.text is not None:
            fname = f"{name}.{_ext(out.media_type)}"
            job_dir.mkdir(parents=True, exist_ok=True)  # only when a file is written: a mkdir costs ~0.5 ms
            (job_dir / fname).write_text(out.text)
            manifest[name] = {"kind": "file", "file": fname, "mediaType": out.media_type}
        else:
            body = orjson.dumps(out.value, option=orjson.OPT_SERIALIZE_NUMPY)
            if len(body) > INLINE_LIMIT:
                fname = f"{name}.json"
                job_dir.mkdir(parents=True, exist_ok=True)
                (job_dir / fname).write_bytes(body)
                manifest[name] = {"kind": "file", "file": fname, "mediaType": out.media_type}
            else:
                manifest[name] = {"kind": "value", "value": orjson.loads(body), "mediaType": out.media_type}
    return manifest


def write_grid(ds: xr.Dataset, job_dir: Path, name: str) -> dict:
    ds = _clean(ds)
    nc, zarr_dir = job_dir / f"{name}.nc", job_dir / f"{name}.zarr"
    ds.to_netcdf(nc, engine=WRITE_ENGINE)  # never netCDF4-python from two threads: see encode/netcdf.py
    # data variables only: dask cannot size object (cftime) arrays such as kept time bounds. Chunk size and
    # scheduler are passed, never set with dask.config.set: that is process-global and raced by other threads
    chunked = ds.assign({n: v.chunk(_zarr_chunks(v)) for n, v in ds.data_vars.items() if v.dtype != object})
    chunked.to_zarr(zarr_dir, mode="w", consolidated=True, zarr_format=2, compute=False).compute(scheduler="threads")
    return {"kind": "coverage", "file": nc.name, "zarr": zarr_dir.name, "mediaType": NETCDF,
            "variables": [str(v) for v in ds.data_vars]}


def _zarr_chunks(v: xr.DataArray) -> dict:
    """dask's "auto" chunks of about ZARR_CHUNK bytes for `v` (respecting chunks it already has)."""
    from dask.array.core import normalize_chunks

    chunks = normalize_chunks("auto", v.shape, limit=ZARR_CHUNK, dtype=v.dtype, previous_chunks=v.chunks)
    return dict(zip(v.dims, chunks))


def _clean(ds: xr.Dataset) -> xr.Dataset:
    """Drop source encodings that no longer fit (chunks, codecs, packing); keep time units and calendar."""
    ds = ds.copy()
    ds.encoding = {}
    for name, var in ds.variables.items():
        keep = {k: var.encoding[k] for k in ("units", "calendar") if k in var.encoding}
        if keep and np.dtype(var.encoding.get("dtype", "i8")).kind == "f":
            keep["dtype"] = var.encoding["dtype"]  # times stored as floats stay floats (no rounding)
        if name in ds.coords and var.dtype.kind == "f":
            keep["_FillValue"] = None  # CF coordinates carry no fill value
        var.encoding = keep
        var.attrs.pop("_FillValue", None)
    return ds


def remove_dir(job_dir: Path) -> None:
    shutil.rmtree(job_dir, ignore_errors=True)


def open_grid(files: JobFiles, entry: dict) -> xr.Dataset:
    """Lazily open a stored gridded result (Zarr: chunked reads, no file handle to leak), local or remote."""
    return xr.open_zarr(files.zarr_store(entry["zarr"]), consolidated=True, zarr_format=2)


def document_entry(entry: dict, mode: str, href: str) -> Any:
    """One output in a results document: the value itself, a qualified value or a link."""
    if mode == "reference":
        return {"href": href, "type": entry["mediaType"], "rel": "http://www.opengis.net/def/rel/iana/1.0/item"}
    if entry["kind"] == "value":
        return entry["value"]
    return None  # file-backed: filled in by the caller with read_value


def read_value(entry: dict, files: JobFiles) -> Any:
    """A file-backed output inline: JSON parsed, text as is, binary as base64 (local or remote files)."""
    body = files.read_bytes(entry["file"])
    if entry["mediaType"] == "application/json":
        return orjson.loads(body)
    if entry["kind"] == "coverage":
        return {"value": base64.b64encode(body).decode(), "mediaType": entry["mediaType"], "encoding": "base64"}
    return {"value": body.decode(), "mediaType": entry["mediaType"]}


def _ext(media_type: str) -> str:
    return {"text/csv": "csv", "application/geo+json": "geojson", "text/plain": "txt"}.get(media_type, "json")


def jsonable(v):
    """numpy scalars and NaN -> plain JSON values (NaN -> None)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v
