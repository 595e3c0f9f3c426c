"""Curvilinear grids: data on two index dimensions whose cells carry 2-D latitude/longitude.

CF 1.11 section 5.2 ("Two-dimensional latitude, longitude, coordinate variables"): the
true position of each cell is given by 2-D auxiliary coordinates (`coordinates` attribute,
`standard_name` latitude/longitude or units degrees_north/east) and there is no usable
grid mapping with 1-D X/Y axes (ROMS `lat_rho`/`lon_rho`, NEMO `nav_lat`/`nav_lon`, CICE
`TLAT`/`TLONG`). The two dimensions are then plain indices: they are never presented as
longitude/latitude. Y is the first dimension of the 2-D arrays, X the second.

`CurvilinearGrid` holds the cell centres (float64, longitudes normalised to -180..180) and
answers geometric questions on the sphere: the nearest cell (a scipy cKDTree on unit
vectors, built once per grid, thread-safe), cells within a distance, cells inside a
lon/lat box, the extent. Cells whose lon/lat are missing (fill values, NaN, or the (0, 0)
that NEMO writes for land processors it eliminated) are left out of every answer.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG): distances on the sphere, as the haversine formula gives
OUTSIDE_FACTOR = 1.0  # a query farther than this many cell spacings from every cell centre is outside


def unit_vectors(lon, lat) -> np.ndarray:
    """(n, 3) points on the unit sphere for lon/lat in degrees (any shape, flattened)."""
    lo, la = np.radians(np.ravel(lon)), np.radians(np.ravel(lat))
    c = np.cos(la)
    return np.column_stack([c * np.cos(lo), c * np.sin(lo), np.sin(la)])


def chord_to_m(chord) -> np.ndarray:
    """Straight-line distance between unit vectors -> great-circle distance in metres."""
    return 2.0 * np.arcsin(np.clip(np.asarray(chord) / 2.0, 0.0, 1.0)) * EARTH_RADIUS_M


def m_to_chord(metres: float) -> float:
    return float(2.0 * np.sin(min(metres / EARTH_RADIUS_M, np.pi) / 2.0))


def wrap180(lon) -> np.ndarray:
    """Longitudes in [-180, 180)."""
    return (np.asarray(lon, dtype="float64") + 180.0) % 360.0 - 180.0


def lon_inside(lon: np.ndarray, west: float, east: float) -> np.ndarray:
    """Longitudes within [west, east] going east; west > east crosses the antimeridian."""
    span = east - west if west <= east else east + 360.0 - west
    if span >= 360.0:
        return np.ones(np.shape(lon), dtype=bool)
    return ((np.asarray(lon) - west) % 360.0) <= span + 1e-9


@dataclass(eq=False)
class CurvilinearGrid:
    """Cell centres of a curvilinear grid and a spatial index on the sphere.

    `lon`, `lat`: (ny, nx) float64 degrees, longitudes in [-180, 180); `valid`: cells with a
    usable position. `x`, `y`: the index dimensions (X is the second dimension of the 2-D
    coordinates). Everything derived (KD-tree, cell sizes, extent) is built once, lazily.
    """

    x: str
    y: str
    lon_name: str
    lat_name: str
    lon: np.ndarray = field(repr=False)
    lat: np.ndarray = field(repr=False)
    valid: np.ndarray = field(repr=False)
    zero_is_fill: bool = False
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _cache: dict = field(default_factory=dict, repr=False)

    def normalised(self, lon, lat) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lon, lat, valid) of a window of this grid's own 2-D coordinates, cleaned as the grid's are."""
        return normalised(lon, lat, self.zero_is_fill)

    @property
    def shape(self) -> tuple[int, int]:
        return self.lon.shape

    def _cached(self, key: str, build):
        value = self._cache.get(key)
        if value is None:
            with self._lock:
                value = self._cache.get(key)
                if value is None:
                    value = self._cache[key] = build()
        return value

    # ------------------------------------------------------------ spatial index

    @property
    def flat_valid(self) -> np.ndarray:
        """Flat (row-major) positions of the valid cells, in the order of the KD-tree's points."""
        return self._cached("flat", lambda: np.flatnonzero(self.valid.ravel()))

    @property
    def tree(self):
        """scipy cKDTree on the unit vectors of the valid cell centres (chord distance ranks as great-circle)."""
        from scipy.spatial import cKDTree

        def build():
            f = self.flat_valid
            return cKDTree(unit_vectors(self.lon.ravel()[f], self.lat.ravel()[f]))

        return self._cached("tree", build)

    def nearest(self, lon, lat) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(iy, ix, distance in metres) of the cell centre nearest on the sphere to each query point."""
        chord, k = self.tree.query(unit_vectors(lon, lat), k=1)
        iy, ix = np.unravel_index(self.flat_valid[np.asarray(k)], self.shape)
        return np.asarray(iy), np.asarray(ix), chord_to_m(chord)

    def within(self, lon: float, lat: float, metres: float) -> np.ndarray:
        """Flat positions of the valid cells whose centres may lie within `metres` (1 % margin, sphere)."""
        hits = self.tree.query_ball_point(unit_vectors([lon], [lat])[0], m_to_chord(metres * 1.01) + 1e-12)
        return self.flat_valid[np.asarray(hits, dtype="int64")]

    # ------------------------------------------------------------ cell sizes

    @property
    def cell_size_m(self) -> np.ndarray:
        """(ny, nx): the largest great-circle distance from each cell centre to its 4 index neighbours (metres)."""

        return self._cached("cell_size", lambda: neighbour_spacing(self.lon, self.lat, self.valid))

    @property
    def spacing_deg(self) -> float:
        """Median cell spacing in degrees of arc (sampling step for paths, regrid resolution)."""
        return self._cached("spacing", lambda: float(np.degrees(np.median(self.cell_size_m[self.valid]) / EARTH_RADIUS_M)))

    @property
    def periodic_x(self) -> bool:
        """The grid goes round in X: its last column lies next to its first (global ocean grids)."""
        def build():
            rows = np.flatnonzero(self.valid[:, 0] & self.valid[:, -1])
            if self.shape[1] < 3 or rows.size == 0:
                return False
            a = unit_vectors(self.lon[rows, 0], self.lat[rows, 0])
            b = unit_vectors(self.lon[rows, -1], self.lat[rows, -1])
            gap = chord_to_m(np.linalg.norm(a - b, axis=1))
            size = np.maximum(self.cell_size_m[rows, 0], self.cell_size_m[rows, -1])
            return bool(np.median(gap / size) <= 1.5)

        return self._cached("periodic_x", build)

    def columns(self, cols: np.ndarray) -> np.ndarray:
        """The shortest run of columns holding the selected ones (sorted, unique): straight, or across the
        seam of a grid that goes round in X (e.g. [350 .. 359, 0 .. 9])."""
        straight = np.arange(cols[0], cols[-1] + 1)
        nx = self.shape[1]
        if cols.size < 2 or not self.periodic_x:
            return straight
        gaps = np.diff(cols)
        k = int(np.argmax(gaps))
        if gaps[k] > 1 and nx - gaps[k] + 1 < straight.size:
            return np.concatenate([np.arange(cols[k + 1], nx), np.arange(0, cols[k] + 1)])
        return straight

    def outside(self, iy: np.ndarray, ix: np.ndarray, dist_m: np.ndarray) -> np.ndarray:
        """Whether each nearest-cell distance means the query point lies outside the grid."""
        return np.asarray(dist_m) > OUTSIDE_FACTOR * self.cell_size_m[iy, ix] * (1 + 1e-9) + 1e-6

    # ------------------------------------------------------------ extent

    def bbox(self) -> tuple[float, float, float, float]:
        """CRS84 bounds (west, south, east, north) of the cells, half a cell spacing beyond the centres.

        A grid that goes round the globe is -180..180; one that reaches a pole goes to +-90;
        a regional grid across the antimeridian has west > east (OGC API bbox convention).
        """
        return self._cached("bbox", self._bbox)

    def _bbox(self):
        lon, lat = self.lon[self.valid], self.lat[self.valid]
        pad = self.spacing_deg / 2
        south, north = max(float(lat.min()) - pad, -90.0), min(float(lat.max()) + pad, 90.0)
        for pole in (90.0, -90.0):
            iy, ix, d = self.nearest([0.0], [pole])
            if not self.outside(iy, ix, d)[0]:
                south, north = (south, 90.0) if pole > 0 else (-90.0, north)
        u = np.unique(np.round(lon, 9))
        gaps = np.diff(np.concatenate([u, [u[0] + 360.0]]))
        g = int(np.argmax(gaps))
        if gaps[g] <= max(5 * self.spacing_deg, 2 * pad) or north >= 90.0 or south <= -90.0:
            return (-180.0, south, 180.0, north)
        west, east = float(u[(g + 1) % len(u)]) - pad, float(u[g]) + pad
        west, east = float(wrap180(west)), float(wrap180(east))
        if east == -180.0:
            east = 180.0
        return (west, south, east, north)

    def lonlat_box_mask(self, west: float, south: float, east: float, north: float) -> np.ndarray:
        """(ny, nx) valid cells whose centres lie inside a lon/lat box (west > east crosses the antimeridian)."""
        return self.valid & (self.lat >= south) & (self.lat <= north) & lon_inside(self.lon, west, east)

    def describe(self) -> dict:
        return {"grid": "curvilinear", "longitude": self.lon_name, "latitude": self.lat_name,
                "shape": {self.y: int(self.shape[0]), self.x: int(self.shape[1])}}


def neighbour_spacing(lon: np.ndarray, lat: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(ny, nx): the largest great-circle distance (metres) from each cell centre to its valid index
    neighbours (left, right, up, down); cells without one get the median spacing."""
    v = unit_vectors(np.where(valid, lon, 0.0), np.where(valid, lat, 0.0)).reshape(*lon.shape, 3)
    size = np.zeros(lon.shape)
    for axis in (0, 1):
        if lon.shape[axis] < 2:
            continue
        a, b = [slice(None)] * 2, [slice(None)] * 2
        a[axis], b[axis] = slice(1, None), slice(None, -1)
        a, b = tuple(a), tuple(b)
        d = np.where(valid[a] & valid[b], chord_to_m(np.linalg.norm(v[a] - v[b], axis=-1)), 0.0)
        size[a] = np.maximum(size[a], d)
        size[b] = np.maximum(size[b], d)
    if not (size > 0).any():  # a single cell: nothing to measure against
        size[:] = 1000.0
    else:
        size[size == 0] = np.median(size[size > 0])
    return size


def normalised(lon, lat, zero_is_fill: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lon in [-180, 180), lat, valid) as float64, NaN where a cell has no usable position
    (non-finite, |lat| > 90, a fill value such as 1e20, or (0, 0) when that is the grid's fill)."""
    lon, lat = np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90.0) & (np.abs(lon) <= 720.0)
    if zero_is_fill:
        valid &= ~((lon == 0.0) & (lat == 0.0))
    lon = np.where(valid, wrap180(np.where(valid, lon, 0.0)), np.nan)
    return lon, np.where(valid, lat, np.nan), valid



def coarsened_lonlat(ds: xr.Dataset, axes, window: dict, boundary: str) -> dict:
    """Cell centres of a grid coarsened by `window` ({dim: factor}): the normalised mean of each block's unit
    vectors (a block across the antimeridian stays near 180, not 0). {name: DataArray} for assign_coords."""
    g = axes.curvilinear
    spatial = {d: f for d, f in window.items() if d in (axes.x, axes.y)}
    if not spatial:
        return {}
    lo, la = np.radians(ds[g.lon_name]), np.radians(ds[g.lat_name])
    v = xr.Dataset({"ux": np.cos(la) * np.cos(lo), "uy": np.cos(la) * np.sin(lo), "uz": np.sin(la)})
    m = v.coarsen(spatial, boundary=boundary).mean()
    lon = np.degrees(np.arctan2(m.uy, m.ux))
    lat = np.degrees(np.arctan2(m.uz, np.hypot(m.ux, m.uy)))
    return {g.lon_name: lon.assign_attrs(ds[g.lon_name].attrs), g.lat_name: lat.assign_attrs(ds[g.lat_name].attrs)}
