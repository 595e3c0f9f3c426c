"""Nearest-neighbour regridding of a curvilinear selection onto a regular lon/lat grid (GeoTIFF, PNG).

A GeoTIFF or an image needs a regular grid; a curvilinear grid has none. The selection
is therefore resampled, nearest neighbour, onto a regular CRS84 grid that covers the
selected cells:
- resolution: the grid's median cell spacing in degrees of arc (the same in x and y),
  made coarser when the image would exceed `max_pixels`;
- each output pixel takes the value of the selected cell whose centre is nearest on the
  sphere (a KD-tree on unit vectors of the selected cells);
- a pixel farther from that centre than the cell's own spacing (its largest distance to
  an index neighbour) is nodata, so land gaps, the grid's edge and unselected cells stay
  empty rather than smeared;
- a selection across the antimeridian gets one ascending longitude axis past 180
  (170 ... 190), as EDR cube answers on lon/lat grids do.
No value is interpolated or averaged: every pixel is a value of the source.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..axes import CRS84, AxisModel
from ..errors import BadRequest
from .curvilinear import chord_to_m, neighbour_spacing, unit_vectors

LON, LAT = "lon", "lat"


def _lon_span(lon: np.ndarray, pad: float) -> tuple[float, float]:
    """(west, east) covering the longitudes with the largest empty gap outside; east may exceed 180."""
    u = np.unique(np.round(lon, 9))
    gaps = np.diff(np.concatenate([u, [u[0] + 360.0]]))
    g = int(np.argmax(gaps))
    if gaps[g] <= 4 * pad:
        return -180.0, 180.0
    west = float(u[(g + 1) % len(u)])
    east = float(u[g])
    if east < west:
        east += 360.0
    return west - pad, east + pad


def target_grid(lon: np.ndarray, lat: np.ndarray, spacing: float, max_pixels: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell-centre longitudes (ascending) and latitudes (descending, north up) of the regular output grid."""
    west, east = _lon_span(lon, spacing / 2)
    south, north = max(float(lat.min()) - spacing / 2, -90.0), min(float(lat.max()) + spacing / 2, 90.0)
    res = spacing
    nx, ny = max(1, int(np.ceil((east - west) / res))), max(1, int(np.ceil((north - south) / res)))
    if nx * ny > max_pixels:
        f = np.sqrt(nx * ny / max_pixels)
        res *= f
        nx, ny = max(1, int(np.ceil((east - west) / res))), max(1, int(np.ceil((north - south) / res)))
    xs = west + res * (np.arange(nx) + 0.5)
    ys = north - res * (np.arange(ny) + 0.5)
    return xs, ys


def regrid(ds: xr.Dataset, axes: AxisModel, mask: np.ndarray | None, max_pixels: int) -> tuple[xr.Dataset, AxisModel]:
    """A computed curvilinear window (2-D lon/lat coordinates kept) -> (Dataset on regular lon/lat, its AxisModel).

    `mask`: the window's selected cells ((y, x), default all). Raises BadRequest when nothing is selected.
    """
    from scipy.spatial import cKDTree

    g = axes.curvilinear
    lon2 = ds[g.lon_name].transpose(axes.y, axes.x).values
    lat2 = ds[g.lat_name].transpose(axes.y, axes.x).values
    lon2, lat2, valid = g.normalised(lon2, lat2)
    sel = valid if mask is None else (valid & mask)
    if not sel.any():
        raise BadRequest("f: the selection holds no cell with a valid longitude/latitude to draw", parameter="f")
    jy, jx = np.nonzero(sel)
    spacing = g.spacing_deg
    xs, ys = target_grid(lon2[jy, jx], lat2[jy, jx], spacing, max_pixels)
    X, Y = np.meshgrid(xs, ys)
    chord, k = cKDTree(unit_vectors(lon2[jy, jx], lat2[jy, jx])).query(unit_vectors(X, Y), k=1)
    size = neighbour_spacing(lon2, lat2, valid)[jy, jx]
    near = chord_to_m(chord) <= size[k] * (1 + 1e-9) + 1e-6
    src = np.ravel_multi_index((jy[k], jx[k]), sel.shape)
    out = {}
    for name, var in ds.data_vars.items():
        if axes.y not in var.dims or axes.x not in var.dims:
            continue
        lead = [d for d in var.dims if d not in (axes.y, axes.x)]
        arr = np.asarray(var.transpose(*lead, axes.y, axes.x).values)
        flat = arr.reshape(*arr.shape[:-2], -1)[..., src]
        fill = var.attrs.get("_FillValue", var.encoding.get("_FillValue"))
        if arr.dtype.kind in "iu" and fill is not None and np.isfinite(fill):
            flat = np.where(near, flat, np.asarray(fill).astype(arr.dtype))
        else:
            flat = np.where(near, flat.astype("float64") if arr.dtype.kind != "f" else flat, np.nan)
        data = flat.reshape(*arr.shape[:-2], len(ys), len(xs))
        coords = {d: var[d] for d in lead if d in var.coords}
        da = xr.DataArray(data, dims=(*lead, LAT, LON), coords=coords, attrs=dict(var.attrs))
        da.encoding = {k2: v for k2, v in var.encoding.items() if k2 in ("_FillValue", "dtype") and arr.dtype.kind in "iu"}
        out[name] = da
    scalars = {c: v for c, v in ds.coords.items() if v.ndim == 0}
    result = xr.Dataset(out, coords={LON: (LON, xs, {"standard_name": "longitude", "units": "degrees_east", "axis": "X"}),
                                     LAT: (LAT, ys, {"standard_name": "latitude", "units": "degrees_north", "axis": "Y"}),
                                     **scalars}, attrs=ds.attrs)
    regular = AxisModel(x=LON, y=LAT, crs=CRS84, z=axes.z, t=axes.t, others=list(axes.others),
                        x_values=xs, y_values=ys, z_values=axes.z_values, t_values=axes.t_values,
                        z_units=axes.z_units, z_positive=axes.z_positive, calendar=axes.calendar)
    return result, regular


__all__ = ["regrid", "target_grid"]
