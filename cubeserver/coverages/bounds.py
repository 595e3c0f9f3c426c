"""Coverages request rules that sit above the selection: exclusivity and out-of-bounds.

OGC API - Coverages (draft, standard/requirements):
- /req/subsetting-spatial/subset-bbox-exclusivity: `subset` on a spatial axis together with
  `bbox` is a 400;
- /req/subsetting-temporal/subset-datetime-exclusivity: `subset` on time together with
  `datetime` is a 400;
- /req/subsetting-{spatial,temporal,general}/out-of-bounds: values "entirely outside the range
  of valid values defined for the identified axis" are a 204 or 404. This server answers 404 with
  an exception naming the parameter and the axis extent (a 204 could not say why). `bbox` and
  `datetime` are the same trims written differently, so they follow the same rule.

Malformed values (a latitude of 95, low above high, a day the calendar lacks) stay 400: the
checks here run after parsing, and only decide "valid but outside the data". A value inside the
extent that still selects nothing (between two levels, a box between cell centres) is left to
the selection, which answers 400 listing the values there are.
"""

from __future__ import annotations

import numpy as np
from pyproj import CRS

from ..axes import CRS84, AxisModel, is_lonlat
from ..errors import BadRequest, NotFound
from ..query.parse import parse_number
from ..query.subset import AxisSubset
from ..select.reproject import same_crs
from ..query.times import TimeSelection
from . import labels as L


class OutOfBounds(NotFound):
    """404: the requested range lies entirely outside the coverage along one axis."""

    kind = "OutOfBounds"


def check_exclusive(axes: AxisModel, req) -> None:
    """400 when `subset` names a spatial axis together with `bbox`, or time together with `datetime`,
    or when an axis is both sliced and scaled (/req/subsetting-*/subset-scaling-exclusivity)."""
    bbox, datetime = req.bbox, req.datetime
    sliced = {}
    for sub in req.subset:
        if sub.is_point or (sub.latest and L.resolve(axes, sub.axis, "subset").kind == "t"):
            sliced[L.resolve(axes, sub.axis, "subset").dim] = f"subset={sub.text()}"
    if datetime is not None and not datetime.interval and axes.t is not None:
        sliced[axes.t] = f"datetime={datetime.text}"
    for param, names in (("scale-axes", req.scale_axes), ("scale-size", req.scale_size)):
        for name in names:
            dim = L.resolve(axes, name, param).dim
            if dim in sliced:
                raise BadRequest(f"{param}: {name} is sliced by {sliced[dim]}; a sliced axis cannot be scaled",
                                 parameter=param)
    for sub in req.subset:
        kind = L.resolve(axes, sub.axis, "subset").kind
        if bbox is not None and kind in ("x", "y"):
            raise BadRequest(f"subset: {sub.text()} and bbox both subset the spatial axes; use one of them "
                             "(OGC API - Coverages /req/subsetting-spatial/subset-bbox-exclusivity)", parameter="subset")
        if datetime is not None and kind == "t":
            raise BadRequest(f"subset: {sub.text()} and datetime both subset time; use one of them "
                             "(OGC API - Coverages /req/subsetting-temporal/subset-datetime-exclusivity)",
                             parameter="subset")


def _outside(lo: float, hi: float, a: float, b: float) -> bool:
    """[lo, hi] misses [a, b] entirely (a little tolerance for float edges)."""
    tol = 1e-9 * max(1.0, abs(a), abs(b))
    return hi < a - tol or lo > b + tol


def _lon_outside(lo: float, hi: float, a: float, b: float) -> bool:
    """As `_outside` for longitudes: the query may be written a whole turn away from the extent."""
    if b - a >= 360.0 - 1e-6 or a > b:  # global, or across the antimeridian: never entirely outside
        return False
    return all(_outside(lo + k, hi + k, a, b) for k in (-360.0, 0.0, 360.0))


def _range(sub: AxisSubset, lo_default: float, hi_default: float) -> tuple[float, float]:
    if sub.is_point:
        v = parse_number(sub.point, "subset")
        return v, v
    lo = parse_number(sub.low, "subset") if sub.low is not None else lo_default
    hi = parse_number(sub.high, "subset") if sub.high is not None else hi_default
    return lo, hi


def _xy_extent(axes: AxisModel, crs: CRS) -> tuple[float, float, float, float]:
    from .spatial import _extent_in

    return _extent_in(axes, crs)


def check_xy(axes: AxisModel, sx: AxisSubset | None, sy: AxisSubset | None, crs: CRS | None) -> None:
    """404 when an X/Y subset lies entirely outside the coverage's extent in the subset CRS."""
    if axes.curvilinear is not None or (sx is None and sy is None):
        return  # curvilinear grids: their own index/lon-lat rules (coverages/curvilinear.py)
    from .spatial import _bounds, _check_given

    crs = crs or axes.crs
    _check_given(axes, crs, list(_bounds(sx)), list(_bounds(sy)))  # malformed (e.g. latitude 95): 400 first
    try:
        ext = _xy_extent(axes, crs)
    except Exception:  # noqa: BLE001 - an extent that cannot be transformed: let the selection decide
        return
    if not all(np.isfinite(ext)):
        return
    # angles wrap: lon/lat CRSs, and native rotated-pole degrees (a grid may store them as 311..391)
    lonlat = is_lonlat(crs) or (axes.angular_x and same_crs(crs, axes.crs))
    for sub, (a, b), name in ((sx, (ext[0], ext[2]), "x"), (sy, (ext[1], ext[3]), "y")):
        if sub is None:
            continue
        lo, hi = _range(sub, a, b)
        out = _lon_outside(lo, hi, a, b) if (lonlat and name == "x") else _outside(lo, hi, a, b)
        if out:
            raise OutOfBounds(f"subset: {sub.text()} lies entirely outside the coverage, whose {name.upper()} extent "
                              f"is [{a:.6g}, {b:.6g}]", parameter="subset")


def check_bbox(axes: AxisModel, bbox, crs: CRS | None) -> None:
    """404 when a `bbox` lies entirely outside the coverage's extent in the bbox CRS (CRS84 by default)."""
    if bbox is None:
        return
    crs = crs or CRS84
    minx, miny, maxx, maxy = (bbox[0], bbox[1], bbox[3], bbox[4]) if len(bbox) == 6 else tuple(bbox)
    try:
        ext = axes.crs84_bbox() if is_lonlat(crs) else _xy_extent(axes, crs)
    except Exception:  # noqa: BLE001 - as in check_xy
        return
    if not all(np.isfinite(ext)):
        return
    y_out = _outside(miny, maxy, ext[1], ext[3])
    if is_lonlat(crs):
        x_out = minx <= maxx and _lon_outside(minx, maxx, ext[0], ext[2])
    else:
        x_out = minx <= maxx and _outside(minx, maxx, ext[0], ext[2])
    if x_out or y_out:
        shown = ", ".join(f"{v:.6g}" for v in ext)
        raise OutOfBounds(f"bbox: {', '.join(f'{v:g}' for v in bbox)} lies entirely outside the coverage, whose "
                          f"extent in that CRS is [{shown}]", parameter="bbox")


def check_time(axes: AxisModel, sel: TimeSelection | None, param: str) -> None:
    """404 when a time instant or interval lies entirely outside the T extent (instants: beyond half a step)."""
    if sel is None or axes.t is None or len(axes.t_values) == 0:
        return
    from ..query.cftimes import conversion_calendar
    from ..select.times import _bound, _half_step, t_micros

    vals = t_micros(axes)
    cal = conversion_calendar(axes.t_values, axes.calendar)
    first, last = int(vals.min()), int(vals.max())
    extent = " / ".join(axes.time_interval() or [])
    if sel.interval:
        lo = _bound(sel.start, cal, axes.calendar, "start", param)[0] if sel.start is not None else first
        if sel.end is not None:
            hi, exclusive = _bound(sel.end, cal, axes.calendar, "end", param)
            below = hi <= first if exclusive else hi < first
        else:
            below = False
        if lo > last or below:
            raise OutOfBounds(f"{param}: {sel.text} lies entirely outside the temporal extent {extent}", parameter=param)
        return
    half = _half_step(vals)
    for ct in sel.instants:
        t, _ = _bound(ct, cal, axes.calendar, "instant", param)
        if t < first - half or t > last + half:
            raise OutOfBounds(f"{param}: {ct} lies outside the temporal extent {extent}", parameter=param)


def t_positions(axes: AxisModel) -> np.ndarray:
    """The T axis as comparable integers (microseconds in its calendar), for "latest"."""
    from ..select.times import t_micros

    return t_micros(axes)


def check_values(ds, dim: str, sub: AxisSubset) -> None:
    """404 when a numeric subset on a vertical or extra axis lies entirely outside its values."""
    coord = np.asarray(ds[dim].values)
    if coord.dtype.kind not in "fiu" or coord.size == 0:
        return
    a, b = float(np.nanmin(coord)), float(np.nanmax(coord))
    lo, hi = _range(sub, -np.inf, np.inf)
    if _outside(lo, hi, a, b):
        units = ds[dim].attrs.get("units")
        raise OutOfBounds(f"subset: {sub.text()} lies entirely outside the {dim} values [{a:g}, {b:g}]"
                          f"{' ' + units if units else ''}", parameter="subset")


__all__ = ["OutOfBounds", "check_exclusive", "check_xy", "check_bbox", "check_time", "check_values"]
