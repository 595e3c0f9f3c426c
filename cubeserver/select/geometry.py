"""Geometry -> grid index positions: nearest cell, polygon, radius, path and corridor.

Everything here works on the AxisModel's coordinate arrays only (no data is read):
callers get index arrays and masks and slice the lazy Dataset with them. Query
coordinates are in the query CRS (CRS84 by default) and go through pyproj for
projected grids; 0..360 grids, descending latitude and irregular axes need no
special cases because positions are found by value, per axis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer

from ..axes import CRS84, AxisModel, is_lonlat
from ..errors import BadRequest
from .core import bbox_indices, query_transformer, to_native_xy
from .paths import corridor_zone, densify
from .ranges import check_box
from .ranges import check_coords as _check_coords

GEOD = Geod(ellps="WGS84")


@dataclass
class Cells:
    """A window of the grid (index arrays) and which of its cells are selected (mask[y, x])."""

    iy: np.ndarray
    ix: np.ndarray
    mask: np.ndarray
    relabel: np.ndarray | None = None  # x labels when a -180..180 query is served from a 0..360 grid

    @property
    def full(self) -> bool:
        return bool(self.mask.all())


@dataclass
class Samples:
    """Cells along points or a path, one entry per sample; `it`/`iz` set when time/height vary per sample."""

    iy: np.ndarray
    ix: np.ndarray
    it: np.ndarray | None = None
    iz: np.ndarray | None = None
    query_x: np.ndarray | None = None  # the query x per sample, to report cells in the query's longitude convention


def _extent_text(axes: AxisModel) -> str:
    ext = ", ".join(f"{v:.6g}" for v in axes.crs84_bbox())
    out = f"[{ext}] (CRS84)"
    if not axes.lonlat:
        out += " / [" + ", ".join(f"{v:.2f}" for v in axes.native_bbox()) + "] (native)"
    return out


def periodic_x(axes: AxisModel) -> bool:
    """A lon/lat grid that goes all the way round: every longitude is inside."""
    if not axes.lonlat or len(axes.x_values) < 2:
        return False
    span = float(np.nanmax(axes.x_values) - np.nanmin(axes.x_values)) + axes.resolution(axes.x)
    return span >= 360.0 - 1e-6


def _nearest(values: np.ndarray, q: np.ndarray, period: float | None = None) -> np.ndarray:
    """Index of the nearest value for each query (any order, irregular spacing), O(n log m)."""
    order = np.argsort(values, kind="stable")
    sv = values[order]
    if period:
        q = sv[0] + np.mod(q - sv[0], period)
    pos = np.searchsorted(sv, q)
    lo = np.clip(pos - 1, 0, len(sv) - 1)
    hi = np.clip(pos, 0, len(sv) - 1)
    dlo, dhi = np.abs(q - sv[lo]), np.abs(sv[hi] - q)
    best = np.where(dhi <= dlo, hi, lo)  # a tie goes to the larger value, as pandas/xarray 'nearest' does
    if period:  # the first value may be nearer across the seam
        dwrap = np.abs(sv[0] + period - q)
        best = np.where(dwrap < np.minimum(dlo, dhi), 0, best)

    return order[best]


def nearest_cells(axes: AxisModel, x, y, crs: CRS | None = None, param: str = "coords") -> tuple[np.ndarray, np.ndarray]:
    """(iy, ix) of the cell nearest to each query point, nearest on each native axis.

    400 naming `param` for coordinates out of range for the query CRS (`ranges.check_coords`)
    and for points outside the collection extent (which the message gives).
    """
    check_coords(np.atleast_1d(x), np.atleast_1d(y), crs, param, axes)
    nx, ny = to_native_xy(axes, np.atleast_1d(x), np.atleast_1d(y), crs)
    minx, miny, maxx, maxy = axes.native_bbox()
    periodic = periodic_x(axes)
    tol = 1e-9 * max(1.0, abs(maxx), abs(maxy))
    outside = ~np.isfinite(nx) | ~np.isfinite(ny) | (ny < miny - tol) | (ny > maxy + tol)
    if not periodic:
        outside |= (nx < minx - tol) | (nx > maxx + tol)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        qx, qy = np.atleast_1d(x)[i], np.atleast_1d(y)[i]
        raise BadRequest(f"{param}: the point ({qx:g} {qy:g}) is outside the collection extent {_extent_text(axes)}",
                         parameter=param)
    period = 360.0 if periodic else None
    if axes.lonlat and axes.lon_360:
        # search in the frame the question is asked in, so a tie goes to the larger longitude as read
        # by the user: POINT(0 0) between 359.5 (-0.5) and 0.5 takes 0.5, as on a -180..180 grid
        frame180 = _asked_in_180(axes, np.atleast_1d(x), crs)
        ix = np.empty(nx.shape, dtype="int64")
        ix[frame180] = _nearest(_wrap180(axes.x_values), _wrap180(nx[frame180]), period)
        ix[~frame180] = _nearest(axes.x_values, nx[~frame180], period)
    else:
        ix = _nearest(axes.x_values, nx, period)
    iy = _nearest(axes.y_values, ny)
    return iy, ix


def _wrap180(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype="float64")
    return np.where(x >= 180.0, x - 360.0, x)


def _asked_in_180(axes: AxisModel, query_x: np.ndarray, crs: CRS | None) -> np.ndarray:
    """Which query longitudes read as -180..180 (below 180°) rather than 0..360 (e.g. 200°)."""
    if query_transformer(axes, crs) is not None:
        return np.ones(query_x.shape, dtype=bool)  # transformed from another CRS: -180..180
    return np.asarray(query_x, dtype="float64") < 180.0


# ---------------------------------------------------------------- windows and masks

def _window(axes: AxisModel, bounds, crs: CRS | None, param: str, what: str):
    try:
        return bbox_indices(axes, tuple(bounds), crs, param)
    except BadRequest:
        raise BadRequest(f"{param}: the {what} contains no grid cell centre; the collection extent is "
                         f"{_extent_text(axes)} and the grid spacing is {_spacing(axes)}", parameter=param) from None


def _spacing(axes: AxisModel) -> str:
    unit = "°" if axes.angular_x else " " + (axes.crs.axis_info[0].unit_name if axes.crs.axis_info else "m")
    return f"{axes.resolution(axes.x):g}{unit} × {axes.resolution(axes.y):g}{unit}"


def centres(axes: AxisModel, iy, ix, relabel, crs: CRS | None) -> tuple[np.ndarray, np.ndarray]:
    """2-D cell-centre coordinates of a window, in `crs` (CRS84 by default)."""
    xs = relabel if relabel is not None else axes.x_values[ix]
    X, Y = np.meshgrid(xs, axes.y_values[iy])
    tr = query_transformer(axes, crs)
    if tr is not None:
        X, Y = Transformer.from_crs(axes.crs, crs or CRS84, always_xy=True).transform(X, Y, errcheck=False)
    return np.asarray(X), np.asarray(Y)


def resample(idx: np.ndarray, n: int | None) -> np.ndarray:
    """`n` positions spread evenly over a window, nearest cell each (resolution-x/-y); 0/None = native."""
    if not n or n >= len(idx):
        return idx
    if n == 1:
        return idx[len(idx) // 2: len(idx) // 2 + 1]
    pos = np.round(np.linspace(0, len(idx) - 1, int(n))).astype(int)
    return idx[np.unique(pos)]


def polygon_cells(axes: AxisModel, geom, crs: CRS | None = None, param: str = "coords",
                  res_x: int | None = None, res_y: int | None = None) -> Cells:
    """Cells whose centres lie inside (or on the boundary of) a polygon given in the query CRS."""
    check_coords(*_xy(geom), crs, param, axes)
    iy, ix, relabel = _window(axes, geom.bounds, crs, param, "polygon")
    if res_x:
        keep = resample(np.arange(len(ix)), res_x)
        ix, relabel = ix[keep], None if relabel is None else relabel[keep]
    iy = resample(iy, res_y)
    X, Y = centres(axes, iy, ix, relabel, crs)
    shapely.prepare(geom)
    mask = shapely.intersects_xy(geom, X, Y)
    if not mask.any():
        raise BadRequest(f"{param}: no grid cell centre falls inside the polygon (grid spacing {_spacing(axes)}); "
                         "use a position query for a single cell", parameter=param)
    return Cells(iy, ix, mask, relabel)


def bbox_cells(axes: AxisModel, bbox, crs: CRS | None = None, param: str = "bbox",
               res_x: int | None = None, res_y: int | None = None) -> Cells:
    """Cells inside a bbox (a full window), optionally resampled; 400 for corners out of range."""
    check_box(bbox, crs, param, axes)
    iy, ix, relabel = bbox_indices(axes, bbox, crs, param)
    if res_x:
        keep = resample(np.arange(len(ix)), res_x)
        ix, relabel = ix[keep], None if relabel is None else relabel[keep]
    iy = resample(iy, res_y)
    return Cells(iy, ix, np.ones((len(iy), len(ix)), dtype=bool), relabel)


def _to_lonlat(x, y, crs: CRS | None):
    if crs is None or is_lonlat(crs):
        return np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    lon, lat = Transformer.from_crs(crs, CRS84, always_xy=True).transform(x, y)
    return np.asarray(lon), np.asarray(lat)


def _lonlat_window(axes: AxisModel, lon0, lat0, lon1, lat1, param: str, what: str):
    """Window for a lon/lat box, all longitudes when it crosses the antimeridian or a pole."""
    if lon0 < -180 or lon1 > 180 or lat0 <= -90 or lat1 >= 90:
        lon0, lon1 = -180.0, 180.0
    return _window(axes, (lon0, max(lat0, -90.0), lon1, min(lat1, 90.0)), CRS84, param, what)


def radius_cells(axes: AxisModel, x: float, y: float, radius_m: float, crs: CRS | None = None,
                 param: str = "coords") -> Cells:
    """Cells whose centres are within a geodesic distance (WGS 84 ellipsoid) of a point."""
    nearest_cells(axes, [x], [y], crs, param)  # the centre must be inside the extent
    lon, lat = (float(v[0]) for v in _to_lonlat([x], [y], crs))
    dlat = np.degrees(radius_m / 6_356_752.0) * 1.01 + 1e-9
    coslat = np.cos(np.radians(min(abs(lat) + dlat, 89.999)))
    dlon = min(dlat / max(coslat, 1e-6), 360.0)
    empty = BadRequest(f"within: no grid cell centre lies within {radius_m:g} m of the point (grid spacing "
                       f"{_spacing(axes)}); widen 'within' or use a position query", parameter="within")
    try:
        iy, ix, relabel = _lonlat_window(axes, lon - dlon, lat - dlat, lon + dlon, lat + dlat, param, "circle")
    except BadRequest:
        raise empty from None
    X, Y = centres(axes, iy, ix, relabel, CRS84)
    _, _, dist = GEOD.inv(np.full(X.shape, lon), np.full(X.shape, lat), X, Y)
    mask = np.asarray(dist) <= radius_m
    if not mask.any():
        raise empty
    return Cells(iy, ix, mask, relabel)


def corridor_cells(axes: AxisModel, line, width_m: float, crs: CRS | None = None, param: str = "coords") -> Cells:
    """Cells whose centres are within width/2 of a path, measured in a local azimuthal equidistant projection."""
    check_coords(*_xy(line), crs, param, axes)
    lon, lat = _to_lonlat(*_xy(line), crs)
    check_coords(lon, lat, None, param)
    step = max(axes.resolution(axes.x), axes.resolution(axes.y)) / 2 if axes.angular_x else 0.05
    zone, aeqd, to_local, lon_c, lat_c = corridor_zone(lon, lat, line, width_m, step, param)
    bx, by = Transformer.from_crs(aeqd, CRS84, always_xy=True).transform(*shapely.get_coordinates(zone).T)
    iy, ix, relabel = _lonlat_window(axes, np.min(bx), np.min(by), np.max(bx), np.max(by), param, "corridor")
    X, Y = centres(axes, iy, ix, relabel, CRS84)
    LX, LY = to_local.transform(X, Y)
    shapely.prepare(zone)
    mask = shapely.intersects_xy(zone, np.asarray(LX), np.asarray(LY))
    if not mask.any():
        raise BadRequest(f"corridor-width: no grid cell centre lies within {width_m / 2:g} m of the path (grid spacing "
                         f"{_spacing(axes)}); widen the corridor or use a trajectory query", parameter="corridor-width")
    return Cells(iy, ix, mask, relabel)


def check_coords(xs, ys, crs: CRS | None, param: str = "coords", axes: AxisModel | None = None) -> None:
    """Finite coordinates in range for the query CRS (see `select.ranges`); else a 400 naming `param`."""
    _check_coords(xs, ys, crs, param, axes)


def _xy(geom) -> tuple[np.ndarray, np.ndarray]:
    c = shapely.get_coordinates(geom)
    return c[:, 0], c[:, 1]


# ---------------------------------------------------------------- paths

def path_samples(axes: AxisModel, geom, m: np.ndarray | None, z: np.ndarray | None, crs: CRS | None = None,
                 param: str = "coords") -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Points along a (Multi)LineString at half the grid spacing, with M and Z interpolated per sample.

    Returns query-CRS x, y and the per-sample M (epoch seconds) and Z, or None when not given.
    """
    qx, qy = _xy(geom)
    check_coords(qx, qy, crs, param, axes)
    tr = query_transformer(axes, crs)
    if tr is not None:
        nx, ny = (np.asarray(v) for v in tr.transform(qx, qy, errcheck=False))
        nx = axes.to_grid_frame(nx)
    else:
        nx, ny = qx, qy
    if not (np.isfinite(nx).all() and np.isfinite(ny).all()):
        raise BadRequest(f"{param}: the path lies outside the area where this collection's CRS is defined",
                         parameter=param)
    rx, ry = axes.resolution(axes.x) or 1.0, axes.resolution(axes.y) or 1.0
    return densify(geom, nx / rx, ny / ry, {"x": qx, "y": qy, "m": m, "z": z}, param)


def epoch_seconds(axes: AxisModel) -> np.ndarray:
    """The time axis as seconds since 1970-01-01 (in the axis calendar for cftime axes)."""
    from .times import t_micros

    return t_micros(axes) / 1e6


def nearest_times(axes: AxisModel, seconds: np.ndarray, param: str = "coords") -> np.ndarray:
    """Time-axis position nearest to each epoch second (trajectory M values); 400 outside the extent."""
    if axes.t is None:
        raise BadRequest(f"{param}: M (time) values were given but this collection has no time axis", parameter=param)
    axis = epoch_seconds(axes)
    half = float(np.min(np.abs(np.diff(axis)))) / 2 if len(axis) > 1 else 0.0
    bad = (seconds < axis.min() - half) | (seconds > axis.max() + half)
    if bad.any():
        from ..query.cftimes import conversion_calendar, micros_to_iso

        try:
            when = micros_to_iso(int(seconds[bad][0] * 1e6), conversion_calendar(axes.t_values, axes.calendar))
        except (OverflowError, ValueError):
            when = "beyond any representable date"
        raise BadRequest(f"{param}: M value {seconds[bad][0]:.0f} ({when}) is outside the temporal extent "
                         f"{' / '.join(axes.time_interval() or [])}", parameter=param)
    return _nearest(axis, np.asarray(seconds, dtype="float64"))


def nearest_levels(axes: AxisModel, heights: np.ndarray, param: str = "coords") -> np.ndarray:
    """Vertical-axis position nearest to each Z value; 400 when outside the levels' range."""
    if axes.z is None:
        raise BadRequest(f"{param}: Z (height) values were given but this collection has no vertical axis", parameter=param)
    levels = np.asarray(axes.z_values, dtype="float64")
    half = float(np.min(np.abs(np.diff(np.sort(levels))))) / 2 if len(levels) > 1 else 0.0
    bad = (heights < levels.min() - half) | (heights > levels.max() + half)
    if bad.any():
        shown = ", ".join(f"{v:g}" for v in levels)
        raise BadRequest(f"{param}: Z value {heights[bad][0]:g} is outside the vertical extent ({shown} "
                         f"{axes.z_units or ''})".rstrip() + ")", parameter=param)
    return _nearest(levels, np.asarray(heights, dtype="float64"))


def dedupe(*arrays: np.ndarray | None) -> np.ndarray:
    """Positions where any of the index arrays changes: consecutive samples in the same cell collapse."""
    arrays = [a for a in arrays if a is not None]
    keep = np.ones(len(arrays[0]), dtype=bool)
    if len(arrays[0]) > 1:
        keep[1:] = np.any([a[1:] != a[:-1] for a in arrays], axis=0)
    return np.flatnonzero(keep)


def cell_xy(axes: AxisModel, iy: np.ndarray, ix: np.ndarray, out_crs: CRS | None,
            query_x: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cell-centre coordinates in the output CRS (native when None); a 0..360 grid answers a
    query longitude below 180° in -180..180 (POINT(0 0) -> -0.5, not 359.5), so the cell reads
    like the question; 0..360 questions (200°) keep 0..360 labels."""
    x = axes.x_values[ix].astype("float64")
    y = axes.y_values[iy].astype("float64")
    if out_crs is not None and not _same(out_crs, axes.crs):
        x, y = (np.asarray(v) for v in Transformer.from_crs(axes.crs, out_crs, always_xy=True).transform(x, y, errcheck=False))
    elif axes.lon_360 and query_x is not None:
        x = np.where(np.asarray(query_x, dtype="float64") < 180.0, _wrap180(x), x)
    return x, y


def _same(a: CRS, b: CRS) -> bool:
    return a == b or a.equals(b, ignore_axis_order=True)


# ---------------------------------------------------------------- curvilinear grids (2-D lat/lon)
# The same functions answered on the sphere from the grid's 2-D lon/lat (select/curvilinear.py).
from .grid_dispatch import dispatch as _by_grid  # noqa: E402 - after the definitions it wraps

nearest_cells = _by_grid(nearest_cells)
cell_xy = _by_grid(cell_xy)
polygon_cells = _by_grid(polygon_cells)
bbox_cells = _by_grid(bbox_cells)
radius_cells = _by_grid(radius_cells)
corridor_cells = _by_grid(corridor_cells)
path_samples = _by_grid(path_samples)
