"""NetCDF out: CF metadata kept (units, calendar, grid_mapping); small answers in memory, large ones via a file.

Every NetCDF-4 the server writes goes through `WRITE_ENGINE` (see there why).

NetCDF-4 answers up to IN_MEMORY_MAX bytes of values are written into memory and sent with a
Content-Length (no file system round trip: a 0.6 MB subset is several times faster so).
Larger ones are written chunk by chunk through dask to a temporary file and streamed, so an
answer of hundreds of MB needs little memory beyond the chunks being read; the file is deleted
after sending.

`f=NetCDF` answers are NetCDF-3 (64-bit offset, `netcdf3.py`) when the data fit the classic
model, as THREDDS' subset service and ERDDAP answer `.nc`: every netCDF reader opens both; a
0.6 MB classic file takes ~1.5 ms where HDF5 needs ~16 ms (h5netcdf's dimension scales), and a
classic file of any size streams slab by slab with its Content-Length, no temporary file. Data
outside the classic model (int64 values beyond int32, unsigned bytes above 127, names netCDF-3
forbids, a variable over 4 GiB) are NetCDF-4; `f=NetCDF4` always is.
"""

from __future__ import annotations

import io
import os
import tempfile

import numpy as np
import xarray as xr
from pyproj import CRS

from ..axes import CRS84
from ..grid_mapping import is_grid_mapping, parse_grid_mapping
from .. import dask_local
from starlette.responses import Response, StreamingResponse

from . import netcdf3
from .slabs import ahead
from .stream import stream_file

MEDIA_TYPE = "application/x-netcdf"
NETCDF4_MEDIA_TYPE = "application/x-netcdf4"  # f=NetCDF4 (THREDDS' name for it)
IN_MEMORY_MAX = 16 << 20  # bytes of variable data; above this a NetCDF-4 answer goes through a temporary file
STREAM_MIN = netcdf3.SLAB_BYTES  # bytes; a larger NetCDF-3 answer is streamed slab by slab

# Written with h5netcdf (h5py), never with netCDF4-python: the HDF5 library under netCDF4 is not
# thread-safe and xarray does not serialise all of a write, so two writes at once, or a write
# while a request reads a NetCDF source, crashed the process (segfault / double free). h5py
# serialises its own calls and brings its own HDF5, apart from the one the readers use.
WRITE_ENGINE = "h5netcdf"
_KEEP_ENCODING = ("_FillValue", "missing_value", "dtype", "scale_factor", "add_offset", "units", "calendar", "grid_mapping")


def clean_for_netcdf(ds: xr.Dataset) -> xr.Dataset:
    """Drop source encodings that no longer fit the subset (chunk sizes, filters, zarr codecs)."""
    ds = ds.copy()
    for name, var in ds.variables.items():
        enc = {k: v for k, v in var.encoding.items() if k in _KEEP_ENCODING}
        fill = var.attrs.pop("_FillValue", None)
        if fill is not None and "_FillValue" not in enc:
            enc["_FillValue"] = fill  # e.g. GeoTIFF nodata kept as an attribute
        packed = np.dtype(enc.get("dtype", var.dtype)).kind in "iu" and var.dtype.kind == "f"
        if packed and _nan_fill(enc.get("_FillValue", enc.get("missing_value"))):
            for k in ("dtype", "scale_factor", "add_offset", "_FillValue", "missing_value"):
                enc.pop(k, None)  # packed without a usable integer fill: write plain floats
        if "dtype" in enc:
            enc["dtype"] = np.dtype(enc["dtype"]).newbyteorder("=")
        if name in ds.coords and var.dtype.kind == "f" and "_FillValue" not in enc:
            enc["_FillValue"] = None  # CF coordinates carry no fill value
        var.encoding = enc
    return ds


def with_grid_mapping(ds: xr.Dataset, crs: CRS) -> xr.Dataset:
    """A CF grid mapping (CF 1.11 section 5.6) for the x/y of `ds`, named by every data variable.

    The source's own grid-mapping variable, carried by the selection, is kept as is (CF
    readers and pyproj's `CRS.from_cf` read it back); when there is none (GeoTIFF/GRIB
    sources, a reprojection) one is written from pyproj's `crs.to_cf()` as `spatial_ref`, with
    `crs_wkt` and GDAL's `spatial_ref`. Plain CRS84 needs none.
    """
    if crs == CRS84 or crs.equals(CRS84):
        return ds
    named = [gm for v in ds.data_vars.values() for gm, _ in parse_grid_mapping(v.attrs.get("grid_mapping")
                                                                                or v.encoding.get("grid_mapping"))]
    present = [n for n in dict.fromkeys(named) if n in ds.variables and is_grid_mapping(ds[n])]
    present = present or [str(n) for n, v in ds.variables.items() if is_grid_mapping(v)]
    if present:
        name = present[0]
    else:
        name = "spatial_ref" if "spatial_ref" not in ds.variables else "crs"
        attrs = {k: v for k, v in crs.to_cf().items() if v is not None}
        attrs["spatial_ref"] = attrs.get("crs_wkt") or crs.to_wkt()
        ds = ds.assign_coords({name: xr.Variable((), np.int32(0), attrs)})
    ds = ds.copy()
    for v in ds.data_vars.values():
        if not (v.attrs.get("grid_mapping") or v.encoding.get("grid_mapping")):
            v.attrs["grid_mapping"] = name
    return ds


def _nan_fill(v) -> bool:
    return v is None or (isinstance(v, float | np.floating) and np.isnan(v))


def _write(ds: xr.Dataset, target) -> None:
    ds = clean_for_netcdf(ds)
    ds.attrs.setdefault("Conventions", "CF-1.8")
    # the scheduler is passed, never set with dask.config.set: that is process-global and raced by threads
    if isinstance(target, str):
        ds.to_netcdf(target, engine=WRITE_ENGINE, format="NETCDF4", compute=False).compute(scheduler=dask_local.threads)
    else:  # in memory (small): read first, then write
        ds.load(scheduler=dask_local.threads).to_netcdf(target, engine=WRITE_ENGINE, format="NETCDF4")


def write_netcdf(ds: xr.Dataset, directory: str | None = None) -> str:
    """Write `ds` (lazy or loaded) to a NetCDF4 file; returns its path. The caller removes it."""
    fd, path = tempfile.mkstemp(suffix=".nc", dir=directory)
    os.close(fd)
    try:
        _write(ds, path)
    except BaseException:
        os.remove(path)
        raise
    return path


def netcdf_bytes(ds: xr.Dataset) -> bytes:
    """The NetCDF4 file of `ds` as bytes, written in memory (same content as `write_netcdf`)."""
    buffer = io.BytesIO()
    _write(ds, buffer)
    return buffer.getvalue()


def _classic_plan(ds: xr.Dataset) -> netcdf3.Layout | None:
    """The NetCDF-3 layout of `ds` (CF-cleaned, lazy), or None when it does not fit the classic model."""
    ds = clean_for_netcdf(ds)
    ds.attrs.setdefault("Conventions", "CF-1.8")
    try:
        return netcdf3.layout(ds)
    except netcdf3.NotClassic:
        return None


def netcdf_response(ds: xr.Dataset, filename: str, netcdf4: bool = False):
    """The NetCDF answer. NetCDF-3 when it fits the classic model and `netcdf4` is false: built in memory
    up to STREAM_MIN bytes, else streamed slab by slab (both with a Content-Length). NetCDF-4: in memory up
    to IN_MEMORY_MAX bytes of values, else through a temporary file, streamed."""
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    plan = None if netcdf4 else _classic_plan(ds)
    if plan is not None:
        if plan.size <= STREAM_MIN:
            return Response(b"".join(netcdf3.body(plan)), media_type=MEDIA_TYPE, headers=disposition)
        # all in memory: copied on the event loop between sends; else read and encoded in threads, one ahead
        chunks = netcdf3.stream(plan) if netcdf3.cached(plan) else ahead(netcdf3.body(plan))
        return StreamingResponse(chunks, media_type=MEDIA_TYPE, headers={**disposition, "Content-Length": str(plan.size)})
    media = NETCDF4_MEDIA_TYPE if netcdf4 else MEDIA_TYPE
    if sum(v.nbytes for v in ds.variables.values()) <= IN_MEMORY_MAX:
        return Response(netcdf_bytes(ds), media_type=media, headers=disposition)
    return stream_file(write_netcdf(ds), media, filename)
