"""Output pixels -> source cells, for every grid kind, reading only the cells a map needs.

The map is computed backwards (inverse mapping, as GDAL's warper does): the centre of each
output pixel is transformed from the output CRS to the grid's native CRS with pyproj and
located on the source grid:
- 1-D x/y axes (lon/lat, 0..360, rotated pole, projected such as the HRDPS polar
  stereographic): the nearest cell centre along each axis (regular or not, ascending or
  descending); a pixel outside the outer cell edges is nodata. Angular x axes (longitudes,
  rotated longitudes) are wrapped by whole turns into the grid's own frame, so -180..180
  maps land on 0..360 grids and a bbox across the antimeridian works.
  When the transform is separable (x only depends on x and y on y, e.g. Web Mercator or
  CRS84 output of a lon/lat grid) only one row and one column are transformed.
  `bilinear`: the four surrounding centres weighted by distance in index space (the
  finite ones, renormalised), nodata where the nearest cell is nodata, so coastlines do not move.
- curvilinear grids (2-D lat/lon, CF 5.2): the nearest cell centre on the sphere (the grid's
  KD-tree); a pixel farther from it than the cell's own spacing is nodata. Always nearest.
Only the window of source cells hit by some pixel is read (a slice, or the hit rows and
columns when a slice would be much larger: e.g. a whole-world map of a fine grid).
"""

from __future__ import annotations

from dataclasses import dataclass

import dask
import numpy as np
import xarray as xr
from pyproj import CRS, Transformer

from ..axes import CRS84, is_lonlat
from ..grids.edges import outer_edges
from ..select.core import query_transformer

SLICE_FACTOR = 4  # read a contiguous window unless it is this much larger than the hit rows x columns
SLICE_MIN = 1 << 18  # ... or smaller than this many cells anyway


@dataclass
class Lookup:
    """Source cell of every output pixel: `iy`, `ix` broadcast to (height, width); `valid` where inside the grid.
    Bilinear: `iy1`, `ix1` the other neighbours and `wy`, `wx` the weights of iy1/ix1."""

    iy: np.ndarray
    ix: np.ndarray
    valid: np.ndarray
    iy1: np.ndarray | None = None
    ix1: np.ndarray | None = None
    wy: np.ndarray | None = None
    wx: np.ndarray | None = None


def pixel_centres(bbox, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """x of the pixel columns (width,) and y of the rows (height,), north (maxy) first.
    minx > maxx (a lon/lat box across the antimeridian) runs east past 180."""
    minx, miny, maxx, maxy = (float(v) for v in bbox)
    if minx > maxx:
        maxx += 360.0
    xs = minx + (np.arange(width) + 0.5) * (maxx - minx) / width
    ys = maxy - (np.arange(height) + 0.5) * (maxy - miny) / height
    return xs, ys


def _axis(v: np.ndarray, coord: np.ndarray, angular: bool, bilinear: bool):
    """Positions on one 1-D axis of cell centres: (nearest index, inside, other index, its weight)."""
    order = np.argsort(coord, kind="stable")
    c = coord[order]
    lo, hi = outer_edges(c)
    v = np.asarray(v, dtype="float64")
    if angular:  # whole turns into the grid's frame [lo, lo + 360)
        v = lo + np.mod(v - lo, 360.0)
    with np.errstate(invalid="ignore"):
        inside = np.isfinite(v) & (v >= lo) & (v <= hi)
    vv = np.where(inside, v, c[0])
    k = np.searchsorted((c[1:] + c[:-1]) / 2, vv) if c.size > 1 else np.zeros(vv.shape, dtype=int)
    near = order[k]
    if not bilinear or c.size < 2:
        return near, inside, None, None
    f = np.interp(vv, c, np.arange(c.size, dtype="float64"))
    i0 = np.clip(np.floor(f).astype(int), 0, c.size - 2)
    w = f - i0
    return order[i0], inside, order[i0 + 1], w


def _separable(tr: Transformer, xs: np.ndarray, ys: np.ndarray):
    """(x row (w,), y column (h,)) when the transform's x depends only on x and y only on y, else None."""
    xm, ym = xs[len(xs) // 2], ys[len(ys) // 2]
    row, _ = tr.transform(xs, np.full(xs.shape, ym), errcheck=False)
    _, col = tr.transform(np.full(ys.shape, xm), ys, errcheck=False)
    pick_x = xs[np.linspace(0, len(xs) - 1, 5).astype(int)]
    pick_y = ys[np.linspace(0, len(ys) - 1, 5).astype(int)]
    PX, PY = np.meshgrid(pick_x, pick_y)
    tx, ty = tr.transform(PX, PY, errcheck=False)
    ex = np.interp(PX, xs, row) if xs.size > 1 else np.full(PX.shape, row[0])
    ey = np.interp(PY, ys[::-1], col[::-1]) if ys.size > 1 else np.full(PY.shape, col[0])
    ok = (np.all(np.isfinite(tx)) and np.all(np.isfinite(ty)) and np.allclose(tx, ex, rtol=0, atol=1e-9 * (1 + np.abs(ex).max()))
          and np.allclose(ty, ey, rtol=0, atol=1e-9 * (1 + np.abs(ey).max())))
    return (np.asarray(row), np.asarray(col)) if ok else None


def lookup(axes, dst: CRS, bbox, width: int, height: int, bilinear: bool) -> Lookup:
    """Where each output pixel of `bbox` (in `dst`) takes its value on the grid of `axes`."""
    xs, ys = pixel_centres(bbox, width, height)
    if axes.curvilinear is not None:
        return _curvilinear(axes, dst, xs, ys)
    tr = query_transformer(axes, dst)
    sep = (xs, ys) if tr is None else _separable(tr, xs, ys)
    if sep is not None:
        nx, ny = sep
        ix, vx, ix1, wx = _axis(nx, axes.x_values, axes.angular_x, bilinear)
        iy, vy, iy1, wy = _axis(ny, axes.y_values, False, bilinear)
        col = lambda a: None if a is None else a[:, None]  # noqa: E731
        row = lambda a: None if a is None else a[None, :]  # noqa: E731
        return Lookup(col(iy), row(ix), vy[:, None] & vx[None, :], col(iy1), row(ix1), col(wy), row(wx))
    X, Y = np.meshgrid(xs, ys)
    nx, ny = tr.transform(X, Y, errcheck=False)
    ix, vx, ix1, wx = _axis(np.asarray(nx), axes.x_values, axes.angular_x, bilinear)
    iy, vy, iy1, wy = _axis(np.asarray(ny), axes.y_values, False, bilinear)
    return Lookup(iy, ix, vx & vy, iy1, ix1, wy, wx)


def _curvilinear(axes, dst: CRS, xs, ys) -> Lookup:
    g = axes.curvilinear
    X, Y = np.meshgrid(xs, ys)
    if not (is_lonlat(dst) and dst.equals(CRS84, ignore_axis_order=True)):
        X, Y = Transformer.from_crs(dst, CRS84, always_xy=True).transform(X, Y, errcheck=False)
        X, Y = np.asarray(X), np.asarray(Y)
    finite = np.isfinite(X) & np.isfinite(Y) & (np.abs(Y) <= 90.0)
    iy = np.zeros(X.shape, dtype=int)
    ix = np.zeros(X.shape, dtype=int)
    if finite.any():
        qy, qx, d = g.nearest(X[finite], Y[finite])
        iy[finite], ix[finite] = qy, qx
        finite[finite] = ~g.outside(qy, qx, d)
    return Lookup(iy, ix, finite)


def _nodata_as_nan(window: xr.DataArray, values: np.ndarray) -> np.ndarray:
    """float64 values with integer fill values (and any NaN) as NaN."""
    data = values.astype("float64")
    if values.dtype.kind in "iu":
        for key in ("_FillValue", "missing_value"):
            fill = window.attrs.get(key, window.encoding.get(key))
            if fill is not None:
                data[values == fill] = np.nan
    return data


def read_window(field: xr.DataArray, iy: np.ndarray, ix: np.ndarray):
    """Read the cells (iy, ix) need from a lazy (y, x) field: (values float64, local iy, local ix)."""
    uy, ux = np.unique(iy), np.unique(ix)
    y0, y1, x0, x1 = int(uy[0]), int(uy[-1]) + 1, int(ux[0]), int(ux[-1]) + 1
    ydim, xdim = field.dims
    if (y1 - y0) * (x1 - x0) <= max(SLICE_FACTOR * uy.size * ux.size, SLICE_MIN):
        window = field.isel({ydim: slice(y0, y1), xdim: slice(x0, x1)})
        ly, lx = iy - y0, ix - x0
    else:
        window = field.isel({ydim: uy, xdim: ux})
        ly, lx = np.searchsorted(uy, iy), np.searchsorted(ux, ix)
    chunks = getattr(window.data, "npartitions", 1)
    with dask.config.set(scheduler="threads" if chunks > 4 else "sync"):
        values = np.asarray(window.values)
    return _nodata_as_nan(window, values), ly, lx


def sample(field: xr.DataArray, lk: Lookup, height: int, width: int) -> np.ndarray:
    """(height, width) float64 values of a lazy (y, x) field at the lookup's cells; NaN outside or nodata."""
    out = np.full((height, width), np.nan)
    valid = np.broadcast_to(lk.valid, (height, width))
    if not valid.any():
        return out
    iy, ix = np.broadcast_to(lk.iy, (height, width)), np.broadcast_to(lk.ix, (height, width))
    if lk.iy1 is None:
        data, ly, lx = read_window(field, iy[valid], ix[valid])
        out[valid] = data[ly, lx]
        return out
    iy1, ix1 = np.broadcast_to(lk.iy1, (height, width))[valid], np.broadcast_to(lk.ix1, (height, width))[valid]
    wy, wx = np.broadcast_to(lk.wy, (height, width))[valid], np.broadcast_to(lk.wx, (height, width))[valid]
    i0, j0 = iy[valid], ix[valid]
    # corners: (i0 or i1) x (j0 or j1); weights (1-wy|wy) x (1-wx|wx); `near` is the nearest cell
    ys = np.concatenate([i0, i0, iy1, iy1])
    xs = np.concatenate([j0, ix1, j0, ix1])
    data, ly, lx = read_window(field, ys, xs)
    n = i0.size
    vals = data[ly, lx].reshape(4, n)
    w = np.stack([(1 - wy) * (1 - wx), (1 - wy) * wx, wy * (1 - wx), wy * wx])
    near = vals[np.argmax(w, axis=0), np.arange(n)]
    finite = np.isfinite(vals)
    wsum = np.where(finite, w, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        blend = np.where(finite, vals * w, 0.0).sum(axis=0) / wsum
    out[valid] = np.where(np.isfinite(near), blend, np.nan)
    return out
