"""Query coordinates that cannot be right: a 400 naming the parameter, before any selection.

Longitude/latitude (CRS84, EPSG:4326, any plain geographic CRS): longitudes must lie within
-180..360 (both conventions OGC clients use) and latitudes within -90..90; `POINT(500 38.6)` is
refused rather than silently wrapped to 140E. Projected (and rotated) query CRSs: coordinates
must be finite and transform to lon/lat, and lie inside the CRS's area of use (pyproj
`crs.area_of_use`, EPSG's published extent) unless they lie inside the collection's own native
extent (a scene may reach a little beyond its UTM zone).
"""

from __future__ import annotations

import math

import numpy as np
from pyproj import CRS, Transformer

from ..axes import CRS84, AxisModel, crs_label, is_lonlat
from ..errors import BadRequest

LON_RANGE = (-180.0, 360.0)
LAT_RANGE = (-90.0, 90.0)


def _fmt(v: float) -> str:
    return f"{v:g}"


def check_lonlat(xs, ys, param: str) -> None:
    """Longitudes within -180..360 and latitudes within -90..90, or a 400 naming `param`."""
    xs, ys = np.atleast_1d(np.asarray(xs, dtype="float64")), np.atleast_1d(np.asarray(ys, dtype="float64"))
    bad_x = (xs < LON_RANGE[0]) | (xs > LON_RANGE[1])
    bad_y = (ys < LAT_RANGE[0]) | (ys > LAT_RANGE[1])
    if bad_y.any():
        raise BadRequest(f"{param}: latitude {_fmt(ys[bad_y][0])} is outside -90..90 (longitude within -180..360, "
                         "latitude within -90..90)", parameter=param)
    if bad_x.any():
        raise BadRequest(f"{param}: longitude {_fmt(xs[bad_x][0])} is outside -180..360 (longitude within -180..360, "
                         "latitude within -90..90)", parameter=param)


WEB_MERCATOR_MAX_LAT = math.degrees(math.atan(math.sinh(math.pi)))  # 85.0511287798...°: y = ±pi * R
_PSEUDO_MERCATOR = 1024  # EPSG method code "Popular Visualisation Pseudo Mercator" (EPSG:3857, 900913, 102100...)


def latitude_limits(crs: CRS) -> tuple[float, float] | None:
    """(south, north) in degrees that output in projected `crs` may reach, or None (no limit known).

    Web Mercator (any CRS using EPSG method 1024) stops at ±85.0511287798°, where the map is the
    square of the OGC WebMercatorQuad tile matrix set (OGC 17-083r4 annex D); EPSG publishes its area
    of use rounded to ±85.06°, which would let an answer reach past the square. Other projected CRSs
    use their EPSG area of use.
    """
    if not crs.is_projected:
        return None
    op = crs.coordinate_operation
    if op is not None and str(getattr(op, "method_code", "")) == str(_PSEUDO_MERCATOR):
        return -WEB_MERCATOR_MAX_LAT, WEB_MERCATOR_MAX_LAT
    area = crs.area_of_use
    return (area.south, area.north) if area is not None else None


def _area_text(crs: CRS) -> str:
    a = crs.area_of_use
    south, north = latitude_limits(crs) or (a.south, a.north)
    return (f"{crs_label(crs)}: lon {a.west:g}..{a.east:g}, lat {south:.10g}..{north:.10g}"
            + (f" ({a.name})" if a.name else ""))


def check_projected(xs, ys, crs: CRS, param: str, axes: AxisModel | None = None) -> None:
    """Coordinates in a projected/rotated CRS: finite in lon/lat and inside its area of use (or the grid)."""
    xs, ys = np.atleast_1d(np.asarray(xs, dtype="float64")), np.atleast_1d(np.asarray(ys, dtype="float64"))
    lon, lat = Transformer.from_crs(crs, CRS84, always_xy=True).transform(xs, ys, errcheck=False)
    lon, lat = np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise BadRequest(f"{param}: ({_fmt(xs[i])} {_fmt(ys[i])}) lies outside the area where {crs_label(crs)} is defined",
                         parameter=param)
    area = crs.area_of_use
    if area is None:
        return
    tol = 1e-6
    if area.west <= area.east:
        in_lon = (lon >= area.west - tol) & (lon <= area.east + tol)
    else:  # the area crosses the antimeridian
        in_lon = (lon >= area.west - tol) | (lon <= area.east + tol)
    south, north = latitude_limits(crs) or (area.south, area.north)  # Web Mercator: the square, not EPSG's rounding
    outside = ~(in_lon & (lat >= south - tol) & (lat <= north + tol))
    if outside.any() and axes is not None and crs.equals(axes.crs, ignore_axis_order=True):
        minx, miny, maxx, maxy = axes.native_bbox()
        outside &= ~((xs >= minx) & (xs <= maxx) & (ys >= miny) & (ys <= maxy))
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise BadRequest(f"{param}: ({_fmt(xs[i])} {_fmt(ys[i])}) is outside the area of use of {_area_text(crs)}",
                         parameter=param)


def check_coords(xs, ys, crs: CRS | None, param: str = "coords", axes: AxisModel | None = None) -> None:
    """Finite coordinates in the query CRS (CRS84 when None), in range for it; else a 400 naming `param`."""
    xs, ys = np.asarray(xs, dtype="float64"), np.asarray(ys, dtype="float64")
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        raise BadRequest(f"{param}: coordinates must be finite numbers", parameter=param)
    if crs is None or is_lonlat(crs):
        check_lonlat(xs, ys, param)
    else:
        check_projected(xs, ys, crs, param, axes)


def check_box(bbox, crs: CRS | None, param: str = "bbox", axes: AxisModel | None = None) -> None:
    """A bbox (4 or 6 numbers, minx miny [minz] maxx maxy [maxz]) whose corners are in range."""
    minx, miny, maxx, maxy = (bbox[0], bbox[1], bbox[3], bbox[4]) if len(bbox) == 6 else tuple(bbox)
    check_coords([minx, maxx, minx, maxx], [miny, miny, maxy, maxy], crs, param, axes)
