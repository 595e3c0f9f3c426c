"""X/Y selection for Coverages: `bbox` (+ `bbox-crs`) and `subset` on the X/Y axes, combined.

Subset coordinates are in the coverage's native CRS (the one the domainset
advertises, which GDAL uses) unless `subset-crs` says otherwise; `bbox` is CRS84 unless
`bbox-crs` says otherwise. Both go through the shared `select.core.bbox_indices`
(cells whose centres fall inside; 0..360 longitudes wrapped), so EDR and Coverages
agree cell for cell. A single value selects the one cell containing it.
"""

from __future__ import annotations

import numpy as np
from pyproj import CRS, Transformer

from ..axes import CRS84, EDGE_POINTS, AxisModel, is_lonlat
from ..errors import BadRequest
from ..query.parse import parse_number
from ..query.subset import AxisSubset
from ..select.core import bbox_indices, to_native_xy
from ..select.ranges import check_coords, check_lonlat
from ..select.reproject import same_crs

PARAM = "subset"


def _number(v: str | None) -> float | None:
    return None if v is None else parse_number(v, PARAM)


def _bounds(sub: AxisSubset | None) -> tuple[float | None, float | None, float | None]:
    """(low, high, point) as numbers."""
    if sub is None:
        return None, None, None
    if sub.is_point:
        return None, None, _number(sub.point)
    low, high = _number(sub.low), _number(sub.high)
    if low is not None and high is not None and low > high:
        raise BadRequest(f"{PARAM}: {sub.text()} has its low end above its high end", parameter=PARAM)
    return low, high, None


def _extent_in(axes: AxisModel, crs: CRS) -> tuple[float, float, float, float]:
    """The collection's bounds in `crs` (native, CRS84, or transformed)."""
    if same_crs(crs, axes.crs):
        return axes.native_bbox()
    if same_crs(crs, CRS84):
        return axes.crs84_bbox()
    tr = Transformer.from_crs(axes.crs, crs, always_xy=True)
    return tuple(float(v) for v in tr.transform_bounds(*axes.native_bbox(), densify_pts=EDGE_POINTS))


def _nearest(values: np.ndarray, v: float, res: float, sub: AxisSubset) -> np.ndarray:
    i = int(np.argmin(np.abs(values - v)))
    if abs(values[i] - v) > res / 2 * (1 + 1e-9) + 1e-12:
        lo, hi = float(values.min()) - res / 2, float(values.max()) + res / 2
        raise BadRequest(f"{PARAM}: {sub.text()} is outside the axis extent [{lo:g}, {hi:g}]", parameter=PARAM)
    return np.array([i])


def subset_indices(axes: AxisModel, sx: AxisSubset | None, sy: AxisSubset | None, crs: CRS | None):
    """(iy, ix, relabel) for the X/Y subset items in `crs` (native by default)."""
    if axes.curvilinear is not None:  # index ranges, or Lon/Lat ranges (coverages/curvilinear.py)
        from .curvilinear import subset_indices as curvilinear_subset

        return curvilinear_subset(axes, sx, sy, crs)
    crs = crs or axes.crs
    xl, xh, xp = _bounds(sx)
    yl, yh, yp = _bounds(sy)
    _check_given(axes, crs, [xl, xh, xp], [yl, yh, yp])
    ext = _extent_in(axes, crs)
    box = [xl if xl is not None else ext[0], yl if yl is not None else ext[1],
           xh if xh is not None else ext[2], yh if yh is not None else ext[3]]
    if xp is not None:
        box[0] = box[2] = xp
    if yp is not None:
        box[1] = box[3] = yp
    native = same_crs(crs, axes.crs)
    if xp is None and yp is None:
        return bbox_indices(axes, box, axes.crs if native else crs, PARAM)
    # a point on X or Y: take the cell containing it, the other axis as a range
    pts_x, pts_y = to_native_xy(axes, [box[0], box[2]], [box[1], box[3]], axes.crs if native else crs)
    iy = ix = None
    relabel = None
    if xp is not None:
        ix = _nearest(axes.x_values, float(np.mean(pts_x)), axes.resolution(axes.x) or np.inf, sx)
    if yp is not None:
        iy = _nearest(axes.y_values, float(np.mean(pts_y)), axes.resolution(axes.y) or np.inf, sy)
    if ix is None or iy is None:
        rng = list(box)
        if ix is None:  # keep X as asked, span Y over the whole extent just to find X
            rng[1], rng[3] = ext[1], ext[3]
        else:
            rng[0], rng[2] = ext[0], ext[2]
        jy, jx, relabel = bbox_indices(axes, rng, axes.crs if native else crs, PARAM)
        if ix is None:
            ix = jx
        else:
            iy, relabel = jy, None
    return iy, ix, relabel


def _check_given(axes: AxisModel, crs: CRS, xs: list, ys: list) -> None:
    """The values the client gave (open ends aside) must be in range for `crs` (400 naming subset)."""
    given_x = [v for v in xs if v is not None]
    given_y = [v for v in ys if v is not None]
    if not given_x and not given_y:
        return
    if is_lonlat(crs):
        check_lonlat(given_x, given_y, PARAM)
    elif given_x and given_y:
        check_coords([v for v in given_x for _ in given_y], [v for _ in given_x for v in given_y], crs, PARAM, axes)


def combine(selections: list[tuple]) -> tuple | None:
    """Intersect several (iy, ix, relabel) selections; the wrapped (relabelled) order wins."""
    selections = [s for s in selections if s is not None]
    if not selections:
        return None
    selections.sort(key=lambda s: s[2] is None)
    iy, ix, relabel = selections[0]
    for jy, jx, _ in selections[1:]:
        iy = iy[np.isin(iy, jy)]
        keep = np.isin(ix, jx)
        ix = ix[keep]
        relabel = relabel[keep] if relabel is not None else None
    if iy.size == 0 or ix.size == 0:
        raise BadRequest("bbox: bbox and subset do not overlap; together they select no cell", parameter="bbox")
    return iy, ix, relabel
