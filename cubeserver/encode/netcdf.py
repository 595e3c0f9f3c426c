"""NetCDF out: CF metadata kept (units, calendar, grid_mapping), written to a temp file and streamed.

Every NetCDF the server writes goes through `WRITE_ENGINE` (see there why).

Writing goes chunk by chunk through dask to disk, so a response of hundreds of MB
needs little memory beyond the chunks being read; the file is deleted after sending.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import xarray as xr

from .stream import stream_file

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


def _nan_fill(v) -> bool:
    return v is None or (isinstance(v, float | np.floating) and np.isnan(v))


def write_netcdf(ds: xr.Dataset, directory: str | None = None) -> str:
    """Write `ds` (lazy or loaded) to a NetCDF4 file; returns its path. The caller removes it."""
    fd, path = tempfile.mkstemp(suffix=".nc", dir=directory)
    os.close(fd)
    ds = clean_for_netcdf(ds)
    ds.attrs.setdefault("Conventions", "CF-1.8")
    import dask

    with dask.config.set(scheduler="threads"):
        ds.to_netcdf(path, engine=WRITE_ENGINE, format="NETCDF4")
    return path


def netcdf_response(ds: xr.Dataset, filename: str):
    return stream_file(write_netcdf(ds), "application/x-netcdf", filename)
