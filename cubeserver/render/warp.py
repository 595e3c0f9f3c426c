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

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import xarray as xr
from pyproj import CRS, Transformer

from ..axes import CRS84, is_lonlat
from ..grids.edges import outer_edges
from ..select.core import query_transformer
from .. import dask_local

SLICE_FACTOR = 4  # read a contiguous window unless it is this much larger than the hit rows x columns
SLICE_MIN = 1 << 18  # ... or smaller than this many cells anyway
APPROX_STEP = 8  # non-separable transforms: exact every 8th pixel, linear in between ...
APPROX_ERROR = 0.05  # ... when that is within this share of a source cell (GDAL's default: 0.125 pixel)
LOOKUP_BYTES = 64 << 20  # the per-map index maps kept for reuse (cached_lookup), all together


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

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.iy, self.ix, self.valid, self.iy1, self.ix1, self.wy, self.wx)
                   if a is not None)

    def frozen(self) -> "Lookup":
        """This lookup with read-only arrays (it is shared by the requests of a cache) and `all_valid` set."""
        for a in (self.iy, self.ix, self.valid, self.iy1, self.ix1, self.wy, self.wx):
            if a is not None:
                a.setflags(write=False)
        self.all_valid = bool(np.all(self.valid))
        return self

    all_valid: bool | None = None
    _flat: tuple | None = None

    def flat_index(self, nx: int) -> np.ndarray:
        """(height, width) positions in a C-ordered (ny, nx) field of every pixel's (nearest) cell, kept."""
        cached = self._flat
        if cached is not None and cached[0] == nx:
            return cached[1]
        flat = np.add(np.multiply(self.iy, nx, dtype=np.intp), self.ix, dtype=np.intp)
        flat.setflags(write=False)
        self._flat = (nx, flat)
        return flat


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


def _lattice(n: int) -> np.ndarray:
    return np.unique(np.r_[np.arange(0, n, APPROX_STEP), n - 1])


def _weights(n: int, knots: np.ndarray):
    """For positions 0..n-1: the knot interval each falls in and the weight of its upper knot."""
    i = np.arange(n)
    k = np.clip(np.searchsorted(knots, i, side="right") - 1, 0, max(len(knots) - 2, 0))
    span = np.maximum(knots[np.minimum(k + 1, len(knots) - 1)] - knots[k], 1)
    return k, (i - knots[k]) / span


def _spread(values: np.ndarray, rows: np.ndarray, cols: np.ndarray, h: int, w: int) -> np.ndarray:
    """Bilinear interpolation of lattice values (len(rows), len(cols)) to every pixel (h, w)."""
    kr, tr_ = _weights(h, rows)
    kc, tc = _weights(w, cols)
    kr1, kc1 = np.minimum(kr + 1, len(rows) - 1), np.minimum(kc + 1, len(cols) - 1)
    top = values[kr][:, kc] * (1 - tc) + values[kr][:, kc1] * tc
    bottom = values[kr1][:, kc] * (1 - tc) + values[kr1][:, kc1] * tc
    return top * (1 - tr_[:, None]) + bottom * tr_[:, None]


def _cell_size(axes) -> float:
    """The smallest cell spacing of the grid's 1-D axes (native units)."""
    sizes = [np.min(np.abs(np.diff(v))) for v in (axes.x_values, axes.y_values) if len(v) > 1]
    return float(min(sizes)) if sizes else 1.0


def _transform_grid(tr: Transformer, xs: np.ndarray, ys: np.ndarray, cell: float):
    """Native (x, y) of every pixel centre, (h, w) each. As GDAL's approximate transformer: exact on a
    lattice of every APPROX_STEP-th pixel, linear in between, when the error at the lattice's mid-points
    stays below APPROX_ERROR of a source cell (else, e.g. across a projection's cut, every pixel exactly)."""
    h, w = len(ys), len(xs)
    if h * w > 4096:
        rows, cols = _lattice(h), _lattice(w)
        lx, ly = tr.transform(*np.meshgrid(xs[cols], ys[rows]), errcheck=False)
        lx, ly = np.asarray(lx), np.asarray(ly)
        if np.isfinite(lx).all() and np.isfinite(ly).all() and len(rows) > 1 and len(cols) > 1:
            mr, mc = (rows[:-1] + rows[1:]) // 2, (cols[:-1] + cols[1:]) // 2
            fx, fy = _spread(lx, rows, cols, h, w), _spread(ly, rows, cols, h, w)
            ex, ey = tr.transform(*np.meshgrid(xs[mc], ys[mr]), errcheck=False)
            err = max(np.nanmax(np.abs(fx[np.ix_(mr, mc)] - ex)), np.nanmax(np.abs(fy[np.ix_(mr, mc)] - ey)))
            if np.isfinite(err) and err <= APPROX_ERROR * cell:
                return fx, fy
    X, Y = np.meshgrid(xs, ys)
    nx, ny = tr.transform(X, Y, errcheck=False)
    return np.asarray(nx), np.asarray(ny)


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
    nx, ny = _transform_grid(tr, xs, ys, _cell_size(axes))
    ix, vx, ix1, wx = _axis(np.asarray(nx), axes.x_values, axes.angular_x, bilinear)
    iy, vy, iy1, wy = _axis(np.asarray(ny), axes.y_values, False, bilinear)
    return Lookup(iy, ix, vx & vy, iy1, ix1, wy, wx)


_lookups: OrderedDict = OrderedDict()
_lookups_bytes = 0
_lookups_lock = threading.Lock()


def cached_lookup(axes, dst: CRS, crs_key: str, bbox, width: int, height: int, bilinear: bool) -> Lookup:
    """`lookup` through a bounded LRU (LOOKUP_BYTES in all): the tiles of a layer repeat the same output
    grids (same TMS, z, x, y) for every time step, level and style, and the pyproj work per map is then
    done once. Keyed by the output CRS text `crs_key`, bbox, size and resampling, per grid (`axes` object:
    a reopened collection has new axes and never sees another grid's maps). Entries are read-only."""
    global _lookups_bytes
    key = (id(axes), crs_key, tuple(float(v) for v in bbox), int(width), int(height), bool(bilinear))
    with _lookups_lock:
        hit = _lookups.get(key)
        if hit is not None and hit[0] is axes:
            _lookups.move_to_end(key)
            return hit[1]
    lk = lookup(axes, dst, bbox, width, height, bilinear).frozen()
    with _lookups_lock:
        old = _lookups.pop(key, None)
        if old is not None:
            _lookups_bytes -= old[1].nbytes
        _lookups[key] = (axes, lk)
        _lookups_bytes += lk.nbytes
        while _lookups_bytes > LOOKUP_BYTES and len(_lookups) > 1:
            _, (_, dropped) = _lookups.popitem(last=False)
            _lookups_bytes -= dropped.nbytes
    return lk


def clear_lookups() -> None:
    global _lookups_bytes
    with _lookups_lock:
        _lookups.clear()
        _lookups_bytes = 0


def _curvilinear(axes, dst: CRS, xs, ys) -> Lookup:
    """Nearest cell on the sphere of every pixel centre. The KD-tree is asked for a lattice of every
    APPROX_STEP-th pixel; a block of pixels whose four lattice corners share their nearest cell lies
    inside that cell's (convex) Voronoi region and takes it; only the other pixels are asked one by one.
    A pixel farther from its cell's centre than the cell's own spacing is outside the grid (nodata)."""
    from ..grids.curvilinear import chord_to_m, unit_vectors

    g = axes.curvilinear
    h, w = len(ys), len(xs)
    if not (is_lonlat(dst) and dst.equals(CRS84, ignore_axis_order=True)):
        tr = Transformer.from_crs(dst, CRS84, always_xy=True)
        X, Y = _transform_grid(tr, xs, ys, g.spacing_deg)
    else:
        X, Y = np.meshgrid(xs, ys)
    finite = np.isfinite(X) & np.isfinite(Y) & (np.abs(Y) <= 90.0)
    flat = np.full((h, w), -1, dtype=np.int64)
    if h * w > 4096 and finite.all():
        rows, cols = _lattice(h), _lattice(w)
        qy, qx, _ = g.nearest(X[np.ix_(rows, cols)], Y[np.ix_(rows, cols)])
        corner = np.ravel_multi_index((qy, qx), g.shape).reshape(len(rows), len(cols))
        kr, _ = _weights(h, rows)
        kc, _ = _weights(w, cols)
        kr1, kc1 = np.minimum(kr + 1, len(rows) - 1), np.minimum(kc + 1, len(cols) - 1)
        cs = [corner[kr][:, kc], corner[kr][:, kc1], corner[kr1][:, kc], corner[kr1][:, kc1]]
        a = cs[0]
        same = (a == cs[1]) & (a == cs[2]) & (a == cs[3])
        flat[same] = a[same]
        _near_corners(g, X, Y, cs, flat)
    todo = finite & (flat < 0)
    if todo.any():
        qy, qx, _ = g.nearest(X[todo], Y[todo])
        flat[todo] = np.ravel_multi_index((qy, qx), g.shape)
    iy, ix = np.unravel_index(np.where(flat < 0, 0, flat), g.shape)
    if finite.any():
        u = unit_vectors(X[finite], Y[finite])
        cy, cx = iy[finite], ix[finite]
        d = chord_to_m(np.linalg.norm(u - unit_vectors(g.lon[cy, cx], g.lat[cy, cx]), axis=1))
        finite[finite] = ~g.outside(cy, cx, d)
    return Lookup(iy, ix, finite)


def _near_corners(g, X, Y, corners, flat) -> None:
    """Pixels of blocks whose four corner cells lie within one index step of each other: the nearest of the
    4 x 4 cells around them (chord distance), in place in `flat`. Other blocks (cells smaller than the
    block, a seam or a fold between the corners) are left for the KD-tree."""
    from ..grids.curvilinear import unit_vectors

    ny, nx = g.shape
    cy = [c // nx for c in corners]
    cx = [c % nx for c in corners]
    y0, y1 = np.minimum.reduce(cy), np.maximum.reduce(cy)
    x0, x1 = np.minimum.reduce(cx), np.maximum.reduce(cx)
    local = (flat < 0) & (y1 - y0 <= 1) & (x1 - x0 <= 1)
    if not local.any():
        return
    units = g._cached("render.units", lambda: np.where(
        g.valid.ravel()[:, None], unit_vectors(g.lon, g.lat), np.nan).T.copy())  # (3, ny * nx)
    u = unit_vectors(X[local], Y[local]).T  # (3, n)
    by, bx = y0[local] - 1, x0[local] - 1
    best = np.full(u.shape[1], np.inf)
    pick = np.full(u.shape[1], -1, dtype=np.int64)
    for dy in range(4):
        yy = np.clip(by + dy, 0, ny - 1) * nx
        for dx in range(4):
            cell = yy + np.clip(bx + dx, 0, nx - 1)
            c = units[:, cell]
            d = (u[0] - c[0]) ** 2 + (u[1] - c[1]) ** 2 + (u[2] - c[2]) ** 2
            better = d < best  # NaN (a cell without position) never wins
            best[better] = d[better]
            pick[better] = cell[better]
    flat[local] = pick


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
    values = np.asarray(window.compute(scheduler=dask_local.local(chunks)).values)
    return _nodata_as_nan(window, values), ly, lx


def sample(field, lk: Lookup, height: int, width: int) -> np.ndarray:
    """(height, width) float64 values of a (y, x) field at the lookup's cells; NaN outside or nodata.

    `field`: a lazy DataArray (only the window the pixels hit is read) or a decoded 2-D numpy array."""
    if isinstance(field, np.ndarray) and lk.iy1 is None:  # decoded field, nearest: one gather
        flat = lk.flat_index(field.shape[1])
        out = field.reshape(-1).take(flat).astype("float64", copy=False) if field.flags.c_contiguous \
            else np.asarray(field[lk.iy, lk.ix], dtype="float64")
        out = np.broadcast_to(out, (height, width)).copy() if out.shape != (height, width) else out
        if not (lk.all_valid if lk.all_valid is not None else np.all(lk.valid)):
            out[~np.broadcast_to(lk.valid, (height, width))] = np.nan
        return out
    out = np.full((height, width), np.nan)
    valid = np.broadcast_to(lk.valid, (height, width))
    if not valid.any():
        return out
    if isinstance(field, np.ndarray):
        read_window_ = lambda f, a, b: (f, a, b)  # noqa: E731 - already in memory
    else:
        read_window_ = read_window
    iy, ix = np.broadcast_to(lk.iy, (height, width)), np.broadcast_to(lk.ix, (height, width))
    if lk.iy1 is None:
        data, ly, lx = read_window_(field, iy[valid], ix[valid])
        out[valid] = data[ly, lx]
        return out
    iy1, ix1 = np.broadcast_to(lk.iy1, (height, width))[valid], np.broadcast_to(lk.ix1, (height, width))[valid]
    wy, wx = np.broadcast_to(lk.wy, (height, width))[valid], np.broadcast_to(lk.wx, (height, width))[valid]
    i0, j0 = iy[valid], ix[valid]
    # corners: (i0 or i1) x (j0 or j1); weights (1-wy|wy) x (1-wx|wx); `near` is the nearest cell
    ys = np.concatenate([i0, i0, iy1, iy1])
    xs = np.concatenate([j0, ix1, j0, ix1])
    data, ly, lx = read_window_(field, ys, xs)
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
