"""Reproject a selection onto a new output grid in another CRS (rioxarray / GDAL warp).

Why nearest neighbour: it is the one resampling that is right for every field
(categorical codes, integer imagery, floats) and keeps values traceable to source
cells; GDAL's default output grid (`calculate_default_transform`) keeps roughly the
source resolution. Geographic sources are first wrapped to -180..180 and clipped to
the target CRS's area of use, so a global lon/lat grid can be had in EPSG:3857: the cells
whose centres lie inside are kept, and the output extent stops at the latitude limit
(`latitude_limits`: ±85.0511287798° for Web Mercator, the edge of the WebMercatorQuad
square ±20037508.34 m; EPSG's rounded area of use otherwise). Dimensions beyond (Y, X) are folded into one band dimension
for the warp and unfolded afterwards. The warp reads its input into memory: callers
guard the size first.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import rioxarray  # noqa: F401 - registers .rio
import xarray as xr
from pyproj import CRS
from rasterio.crs import CRS as RioCRS
from rasterio.enums import Resampling
from rasterio.warp import calculate_default_transform

from ..axes import CRS84, AxisModel, is_lonlat
from ..grid_mapping import is_grid_mapping
from ..errors import BadRequest
from .ranges import WEB_MERCATOR_MAX_LAT, latitude_limits  # noqa: F401 - re-exported


def same_crs(a: CRS, b: CRS) -> bool:
    return a.equals(b, ignore_axis_order=True)


def rio_crs(crs: CRS) -> RioCRS:
    """rasterio CRS; lon/lat WGS 84 becomes EPSG:4326 (what GeoTIFF keys can say)."""
    if same_crs(crs, CRS84):
        return RioCRS.from_epsg(4326)
    auth = crs.to_authority()
    return RioCRS.from_user_input(f"{auth[0]}:{auth[1]}") if auth else RioCRS.from_wkt(crs.to_wkt())


def _prepare(ds: xr.Dataset, axes: AxisModel, dst: CRS) -> xr.Dataset:
    """Wrap 0..360 longitudes and clip a geographic source to the target's area of use."""
    if axes.lonlat and axes.lon_360:
        x = ds[axes.x].values
        ds = ds.assign_coords({axes.x: np.where(x > 180, x - 360, x)}).sortby(axes.x)
    limits = latitude_limits(dst)
    if axes.lonlat and limits is not None:
        y = ds[axes.y].values
        keep = np.flatnonzero((y >= limits[0]) & (y <= limits[1]))
        if keep.size == 0:
            raise BadRequest(f"crs: the selection lies outside the area of use of {dst.name}", parameter="crs")
        ds = ds.isel({axes.y: keep})
    return ds


def output_grid(ds: xr.Dataset, axes: AxisModel, dst: CRS, size: dict | None = None):
    """GDAL's suggested (transform, width, height) for warping `ds` to `dst`, resized by `size` (see reproject)."""
    xs, ys = ds[axes.x].values.astype("float64"), ds[axes.y].values.astype("float64")
    rx = abs(xs[1] - xs[0]) if len(xs) > 1 else 1.0
    ry = abs(ys[1] - ys[0]) if len(ys) > 1 else 1.0
    left, right = xs.min() - rx / 2, xs.max() + rx / 2
    bottom, top = ys.min() - ry / 2, ys.max() + ry / 2
    limits = latitude_limits(dst) if axes.lonlat else None
    if limits is not None:  # the cells kept by _prepare have centres inside; their outer edges may not
        bottom, top = max(bottom, limits[0]), min(top, limits[1])
    size = size or {}
    try:
        grid = calculate_default_transform(rio_crs(axes.crs), rio_crs(dst), len(xs), len(ys),
                                           left=left, bottom=bottom, right=right, top=top)
        if not size:
            return grid
        _, width, height = grid
        want = [v if isinstance(v, int) else max(1, int(round(n * v)))
                for v, n in ((size.get(axes.x, 1.0), width), (size.get(axes.y, 1.0), height))]
        return calculate_default_transform(rio_crs(axes.crs), rio_crs(dst), len(xs), len(ys), left=left,
                                           bottom=bottom, right=right, top=top, dst_width=want[0], dst_height=want[1])
    except Exception as e:  # noqa: BLE001 - GDAL reports unprojectable extents as generic errors
        raise BadRequest(f"crs: cannot project this selection to {dst.name}: {e}", parameter="crs") from None


def reproject(ds: xr.Dataset, axes: AxisModel, dst: CRS, max_cells: int | None = None,
              size: dict | None = None) -> tuple[xr.Dataset, AxisModel]:
    """Warp every variable to `dst` (nearest); returns the new Dataset and its AxisModel.

    `size` ({x or y dim: int cells, or float ratio of GDAL's suggested size}) sets the output grid:
    an int is the exact number of cells (Coverages scale-size), a float scales the suggestion
    (scale-factor 2 -> 0.5).
    """
    if same_crs(axes.crs, dst):
        return ds, axes
    ds = _prepare(ds, axes, dst)
    transform, width, height = output_grid(ds, axes, dst, size or {})
    if max_cells is not None:
        per_grid = sum(v.size // max(1, v.sizes[axes.x] * v.sizes[axes.y]) for v in ds.data_vars.values())
        if per_grid * width * height > max_cells:
            from ..errors import TooLarge

            raise TooLarge(f"the reprojected grid ({width}x{height} cells per band) exceeds this server's limit of "
                           f"{max_cells:,} values; narrow the selection or scale it down")
    out = {}
    for name, var in ds.data_vars.items():
        out[name] = _warp(var, axes, dst, transform, width, height)
    result = xr.Dataset(out, attrs=ds.attrs)
    first = next(iter(out.values()))
    new_axes = dataclasses.replace(
        axes, crs=dst, x=axes.x, y=axes.y,
        x_values=np.asarray(first[axes.x].values, dtype="float64"),
        y_values=np.asarray(first[axes.y].values, dtype="float64"),
    )
    new_axes.__dict__.pop("to_native", None)
    new_axes.__dict__.pop("to_crs84", None)
    return result, new_axes


def _warp(var: xr.DataArray, axes: AxisModel, dst: CRS, transform, width: int, height: int) -> xr.DataArray:
    extra = [d for d in var.dims if d not in (axes.x, axes.y)]
    var = var.transpose(*extra, axes.y, axes.x)
    values = np.asarray(var.values)
    nodata = _nodata(var, values.dtype)
    shape_extra = values.shape[:-2]
    flat = values.reshape((-1,) + values.shape[-2:]) if extra else values
    dims = ("band", "y", "x") if extra else ("y", "x")
    src = xr.DataArray(flat, dims=dims, coords={"y": var[axes.y].values, "x": var[axes.x].values})
    src = src.rio.write_crs(rio_crs(axes.crs)).rio.write_nodata(nodata)
    warped = src.rio.reproject(rio_crs(dst), shape=(height, width), transform=transform,
                               resampling=Resampling.nearest, nodata=nodata)
    data = warped.values.reshape(shape_extra + warped.shape[-2:]) if extra else warped.values
    nodata = warped.rio.nodata if nodata is None else nodata  # rioxarray picks one for integers
    coords = {d: var[d] for d in extra if d in var.coords}
    coords.update({axes.y: warped["y"].values, axes.x: warped["x"].values})
    out = xr.DataArray(data, dims=(*extra, axes.y, axes.x), coords=coords, attrs=dict(var.attrs), name=var.name)
    for c in var.coords:  # scalar coordinates (a sliced time, a level) survive; the old grid mapping does not
        if c not in out.coords and not set(var[c].dims) & {axes.x, axes.y} and not is_grid_mapping(var[c]):
            out = out.assign_coords({c: var[c].variable})  # the Variable: a DataArray brings its own coords
    out[axes.x].attrs = _xy_attrs(dst, "x")
    out[axes.y].attrs = _xy_attrs(dst, "y")
    out.attrs.pop("grid_mapping", None)
    out.encoding = {"_FillValue": nodata} if nodata is not None and not (isinstance(nodata, float) and np.isnan(nodata)) else {}
    return out


def _nodata(var: xr.DataArray, dtype: np.dtype):
    if dtype.kind == "f":
        return np.nan
    fill = var.attrs.get("_FillValue", var.encoding.get("_FillValue"))
    if fill is not None:
        return fill
    return None


def _xy_attrs(crs: CRS, axis: str) -> dict:
    """CF attributes of output x/y: lon/lat, rotated grid_longitude/latitude, or projection coordinates."""
    if is_lonlat(crs):
        return {"standard_name": "longitude" if axis == "x" else "latitude",
                "units": "degrees_east" if axis == "x" else "degrees_north", "axis": axis.upper()}
    if crs.is_geographic:
        return {"standard_name": "grid_longitude" if axis == "x" else "grid_latitude", "units": "degrees",
                "axis": axis.upper()}
    unit = crs.axis_info[0].unit_name if crs.axis_info else "metre"
    return {"standard_name": f"projection_{axis}_coordinate", "units": {"metre": "m", "kilometre": "km"}.get(unit, unit),
            "axis": axis.upper()}
