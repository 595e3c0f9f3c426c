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
from pyproj import CRS

from ..axes import CRS84
from ..grid_mapping import is_grid_mapping, parse_grid_mapping
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
