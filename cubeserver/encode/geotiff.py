"""GeoTIFF out: north-up, CRS + geotransform + nodata, written window by window, Cloud-Optimized when large.

Bands: one per field, in the order asked (or the range type's order); when a
non-X/Y axis still has several values (e.g. a datetime interval) there is one band
per field and value, field-major (all steps of the first field, then the next).
Each band's description says what it holds, e.g. `SST TIME=2000-01-16T06:00:00Z`,
and its tags carry the field name, units and the axis values.
Fields of different types are promoted to one type (GeoTIFF has one per file);
floats use NaN as nodata, integers their common fill value; integer fields with
different fill values are written as floats with NaN (see `_dtype_and_nodata`).
Values are the decoded ones (a GeoTIFF source's band scale/offset already applied),
so the file carries no scale: every reader gets the physical values.
The lazy selection is read in strips of rows, several bands per read (a source chunk holding
many time steps is read once, not once per band), so memory stays near STRIP_BYTES;
above COG_MIN_PIXELS per band the file is rewritten as a COG (tiled, deflate, overviews).
"""

from __future__ import annotations

import itertools
import os
import tempfile
from functools import lru_cache

import numpy as np
import pandas as pd
import rasterio
import rasterio.shutil
import xarray as xr
from pyproj import CRS
from rasterio.transform import from_origin

from ..axes import AxisModel, crs_label, iso_times
from ..companions import companion_names
from ..crs_memo import by_identity
from ..errors import BadRequest
from ..select.reproject import rio_crs
from ..select.scale import regular_step
from .stream import stream_file

MEDIA_TYPE = "image/tiff; application=geotiff"
COG_MIN_PIXELS = 1024 * 1024  # per band: below this a plain tiled GeoTIFF is smaller and quicker
STRIP_BYTES = 64 * 1024 * 1024  # read per strip, all bands of a batch together


def _regular_step(values: np.ndarray, dim: str) -> float:
    if values.size == 1:
        return 0.0
    step = regular_step(values)
    if step is None:
        raise BadRequest(f"f: the {dim} axis of this selection is not regularly spaced, which GeoTIFF cannot hold; "
                         "use NetCDF or CoverageJSON", parameter="f")
    return step


def grid_transform(ds: xr.Dataset, axes: AxisModel):
    """(transform, flip_y, flip_x) for a north-up raster from cell-centre coordinates."""
    xs, ys = ds[axes.x].values, ds[axes.y].values
    dx, dy = _regular_step(xs, axes.x), _regular_step(ys, axes.y)
    if dx == 0.0:
        dx = axes.resolution(axes.x) or 1.0
    if dy == 0.0:
        dy = -(axes.resolution(axes.y) or 1.0)
    left = float(min(xs[0], xs[-1])) - abs(dx) / 2
    top = float(max(ys[0], ys[-1])) + abs(dy) / 2
    return from_origin(left, top, abs(dx), abs(dy)), dy > 0, dx < 0


@by_identity
@lru_cache(maxsize=64)
def holds_crs(crs: CRS) -> bool:
    """Whether GeoTIFF keys can carry `crs` in the file itself.

    GDAL writes a CRS that GeoTIFF keys cannot express (a rotated pole, `ob_tran`) to a
    `.aux.xml` side file, which a streamed answer loses; written here with side files off.
    """
    with rasterio.Env(GDAL_PAM_ENABLED="NO"), rasterio.MemoryFile() as mem:
        with mem.open(driver="GTiff", width=1, height=1, count=1, dtype="uint8", crs=rio_crs(crs),
                      transform=from_origin(0, 1, 1, 1)) as dst:
            dst.write(np.zeros((1, 1, 1), dtype="uint8"))
        with mem.open() as src:
            return src.crs is not None


def _label(v) -> str:
    v = np.asarray(v)
    if v.dtype.kind == "M" or v.dtype == object:
        return iso_times(v.reshape(1))[0]
    if v.dtype.kind == "m":  # a lead time (GRIB `step`): ISO 8601 duration, not nanoseconds
        return pd.Timedelta(v.item()).isoformat()
    return str(v.item())


def band_groups(ds: xr.Dataset, axes: AxisModel) -> list[tuple[xr.DataArray, list[tuple[str, dict]]]]:
    """Per field: its bands as one lazy (band, Y, X) array, and (description, tags) per band, field-major."""
    out = []
    # grid mapping, bounds and formula terms describe the data; they are not band labels
    companions = {"spatial_ref", *companion_names(ds, [str(n) for n in ds.data_vars])}
    for name, var in ds.data_vars.items():
        extra = [d for d in var.dims if d not in (axes.x, axes.y)]
        var = var.transpose(*extra, axes.y, axes.x)
        # scalar coordinates left by a one-value selection tell which slice this is
        fixed = {c: _label(var[c].values) for c in var.coords
                 if var[c].ndim == 0 and c not in extra and c not in companions}
        labels = [[_label(v) for v in var[d].values] if d in var.coords else [str(i) for i in range(var.sizes[d])]
                  for d in extra]
        meta = []
        for combo in itertools.product(*labels):
            steps = {**dict(zip(extra, combo)), **fixed}
            tags = {"field": str(name), **steps}
            if var.attrs.get("units"):
                tags["units"] = str(var.attrs["units"])
            meta.append((" ".join([str(name), *(f"{d}={v}" for d, v in steps.items())]), tags))
        shape = (len(meta), var.sizes[axes.y], var.sizes[axes.x])
        data = var.data.reshape(shape) if extra else var.data[None]
        out.append((xr.DataArray(data, dims=("band", axes.y, axes.x)), meta))
    return out


def _fill(var: xr.DataArray):
    return var.attrs.get("_FillValue", var.encoding.get("_FillValue"))


def _dtype_and_nodata(ds: xr.Dataset):
    """(dtype, nodata) of the file: one type for all fields, floats with NaN nodata.

    Integer fields share an integer type when they share one fill value (or all have none);
    integers with different fill values (or some with one, some without) are promoted to floats (as xarray would decode
    them) so every field's missing cells stay missing.
    """
    dtypes = [v.dtype for v in ds.data_vars.values()]
    dtype = np.result_type(*dtypes)
    if dtype.kind == "b":
        dtype = np.dtype("uint8")
    if dtype.kind == "f":
        return dtype, np.nan
    fills = {_fill(v) for v in ds.data_vars.values()}
    if len(fills) == 1:
        return dtype, fills.pop()
    from xarray.core.dtypes import maybe_promote

    return np.dtype(maybe_promote(dtype)[0]), np.nan


def _missing_as_nan(ds: xr.Dataset, dtype: np.dtype) -> xr.Dataset:
    """Integer fields written into a float file: their fill value becomes NaN (lazily)."""
    if dtype.kind != "f":
        return ds
    out = {}
    for name, var in ds.data_vars.items():
        fill = _fill(var)
        if var.dtype.kind in "iu" and fill is not None and np.isfinite(fill):
            masked = var.where(var != fill).astype(dtype)
            masked.attrs = {k: v for k, v in var.attrs.items() if k != "_FillValue"}
            var = masked
        out[name] = var
    return ds.assign(out)


def write_geotiff(ds: xr.Dataset, axes: AxisModel, directory: str | None = None, cog: bool | None = None) -> str:
    """Write the (lazy) selection to a GeoTIFF file; returns its path. The caller removes it.

    `cog`: True forces a COG, None decides by size (COG_MIN_PIXELS per band).
    """
    if not ds.data_vars:
        raise BadRequest("properties: no field selected", parameter="properties")
    if not holds_crs(axes.crs):
        raise BadRequest(f"f: GeoTIFF cannot hold this coverage's CRS ({crs_label(axes.crs)}) in the file; ask for "
                         "crs=http://www.opengis.net/def/crs/EPSG/0/4326 (reprojected) or f=netcdf (native grid)",
                         parameter="f")
    transform, flip_y, flip_x = grid_transform(ds, axes)
    dtype, nodata = _dtype_and_nodata(ds)
    groups = band_groups(_missing_as_nan(ds, dtype), axes)
    height, width = ds.sizes[axes.y], ds.sizes[axes.x]
    cog = width * height >= COG_MIN_PIXELS if cog is None else cog
    profile = {
        "driver": "GTiff", "width": width, "height": height, "count": sum(len(m) for _, m in groups),
        "dtype": dtype.name, "crs": rio_crs(axes.crs), "transform": transform, "nodata": nodata,
        "interleave": "band", "BIGTIFF": "IF_SAFER",
    }
    if width >= 256 and height >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    if not cog:
        profile["compress"] = "deflate"
    fd, path = tempfile.mkstemp(suffix=".tif", dir=directory)
    os.close(fd)
    # strips of whole tile rows, and as many bands per read as fit STRIP_BYTES: a source chunk
    # holding many time steps is then read once for all of them, not once per band
    rows = min(height, 256 if profile.get("tiled") else max(1, (1 << 20) // (width * dtype.itemsize)))
    batch = max(1, STRIP_BYTES // (rows * width * dtype.itemsize))
    try:
        with rasterio.open(path, "w", **profile) as dst:
            first = 1
            for data, meta in groups:
                for k, (desc, tags) in enumerate(meta):
                    dst.set_band_description(first + k, desc)
                    dst.update_tags(first + k, **tags)
                for b0 in range(0, len(meta), batch):
                    b1 = min(len(meta), b0 + batch)
                    _write_bands(dst, data.isel(band=slice(b0, b1)), list(range(first + b0, first + b1)),
                                 rows, dtype, flip_y, flip_x)
                first += len(meta)
        if cog:
            path = _to_cog(path, directory)
    except BaseException:
        _remove(path)
        raise
    return path


def _write_bands(dst, data: xr.DataArray, indexes: list[int], rows: int, dtype, flip_y: bool, flip_x: bool) -> None:
    """Read `data` (band, Y, X) strip by strip and write it north-up into bands `indexes`."""
    height, width = data.shape[1:]
    for r0 in range(0, height, rows):
        r1 = min(height, r0 + rows)
        src_rows = slice(height - r1, height - r0) if flip_y else slice(r0, r1)
        block = np.asarray(data[:, src_rows].values)
        if flip_y:
            block = block[:, ::-1]
        if flip_x:
            block = block[:, :, ::-1]
        dst.write(block.astype(dtype, copy=False), indexes, window=((r0, r1), (0, width)))


def _to_cog(path: str, directory: str | None) -> str:
    """Rewrite as a Cloud-Optimized GeoTIFF (GDAL's COG driver builds the overviews from disk)."""
    fd, cog_path = tempfile.mkstemp(suffix=".tif", dir=directory)
    os.close(fd)
    try:
        rasterio.shutil.copy(path, cog_path, driver="COG", COMPRESS="DEFLATE", BLOCKSIZE=512, BIGTIFF="IF_SAFER",
                             OVERVIEW_RESAMPLING="NEAREST")
    except BaseException:
        _remove(cog_path)
        raise
    finally:
        _remove(path)
    return cog_path


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def geotiff_response(ds: xr.Dataset, axes: AxisModel, filename: str, cog: bool | None = None):
    return stream_file(write_geotiff(ds, axes, cog=cog), MEDIA_TYPE, filename)
