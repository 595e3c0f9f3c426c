"""A Coverages request, parsed once, and the lazy selection it describes.

Order of work: fields, then index selection on every axis (one `isel`), then the
2-D image default (below), then the size guard, scaling and, last, reprojection.
Nothing is read until an encoder asks, except by reprojection (a GDAL warp).

Image formats (GeoTIFF, PNG) are 2-D: a time, vertical or extra axis the request
did not constrain is reduced to its first value, so GeoTIFF has one band per field
(what GDAL's OGC API driver expects from the range type). Axes constrained to several
values give one band per field and value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from pyproj import CRS
from pyproj.exceptions import CRSError

from ..axes import CRS84, AxisModel, parse_crs
from ..companions import drop_bounds
from ..errors import BadRequest, TooLarge
from ..query.parse import (TimeSelection, ValueSelection, parse_bbox, parse_datetime, parse_instant, parse_list,
                           parse_number)
from ..query.subset import (AxisSubset, datetime_hour24, hour24, parse_axis_numbers, parse_scale_factor,
                            parse_subset)
from ..query.times import starts_after
from ..registry import Collection
from ..select.core import _as_index, bbox_indices, cell_count, select_variables, time_indices, value_indices
from ..select.ranges import check_box
from ..select.reproject import reproject, same_crs
from ..select.scale import AxisScale, from_factor, from_size, scale_dataset
from . import bounds
from . import labels as L
from .spatial import combine, subset_indices

# how much more than `limits.max_cells` a scaled request may read before it is refused
READ_FACTOR = 16


@dataclass
class CoverageRequest:
    subset: list[AxisSubset] = field(default_factory=list)
    bbox: tuple | None = None
    bbox_crs: CRS | None = None
    datetime: TimeSelection | None = None
    properties: list[str] | None = None
    scale_size: dict[str, int] = field(default_factory=dict)
    scale_axes: dict[str, float] = field(default_factory=dict)
    scale_factor: float | None = None
    subset_crs: CRS | None = None
    crs: CRS | None = None


def _crs(text: str | None, param: str) -> CRS | None:
    if text is None:
        return None
    try:
        return parse_crs(text)
    except (CRSError, ValueError):
        raise BadRequest(f"{param}: unknown CRS {text!r}; use a URI like http://www.opengis.net/def/crs/EPSG/0/3857, "
                         "EPSG:3857 or OGC:CRS84", parameter=param) from None


def _first(params, *names):
    for n in names:
        if n in params:
            return params[n]
    return None


def parse_request(params) -> CoverageRequest:
    """Query parameters (a Starlette QueryParams or dict) -> CoverageRequest; 400 on bad input.

    `scaleSize`, `scaleFactor`, `scaleAxes` (what GDAL sends) are accepted as aliases.
    """
    getlist = getattr(params, "getlist", None)
    subsets = getlist("subset") if getlist else ([params["subset"]] if "subset" in params else [])
    bbox = params.get("bbox")
    return CoverageRequest(
        subset=parse_subset(subsets),
        bbox=parse_bbox(bbox) if bbox is not None else None,
        bbox_crs=_crs(params.get("bbox-crs"), "bbox-crs"),
        datetime=parse_datetime(datetime_hour24(params.get("datetime"))),
        properties=parse_list(params.get("properties"), "properties"),
        scale_size=parse_axis_numbers(_first(params, "scale-size", "scaleSize"), "scale-size", integer=True),
        scale_axes=parse_axis_numbers(_first(params, "scale-axes", "scaleAxes"), "scale-axes"),
        scale_factor=parse_scale_factor(_first(params, "scale-factor", "scaleFactor")),
        subset_crs=_crs(params.get("subset-crs"), "subset-crs"),
        crs=_crs(params.get("crs"), "crs"),
    )


# ------------------------------------------------------------------ non-spatial axes

def _time_selection(sub: AxisSubset) -> TimeSelection:
    """`time("t")` or `time("a":"b")`. An end written with fewer components covers all of them
    (`"2020-01-31"` is the whole day), hour 24 is the next day's 00:00 (excluded as an end):
    OGC API - Coverages /req/subsetting-temporal/subset G."""
    if sub.is_point:
        return TimeSelection(instants=[parse_instant(hour24(sub.point, "instant", "subset"), "subset")], text=sub.text())
    start = parse_instant(hour24(sub.low, "start", "subset"), "subset") if sub.low else None
    end = parse_instant(hour24(sub.high, "end", "subset"), "subset") if sub.high else None
    if starts_after(start, end):
        raise BadRequest(f"subset: {sub.text()} starts after it ends", parameter="subset")
    return TimeSelection(start=start, end=end, interval=True, text=sub.text())


def _value_indices(ds: xr.Dataset, dim: str, sub: AxisSubset) -> np.ndarray:
    coord = ds[dim].values
    units = ds[dim].attrs.get("units")
    if coord.dtype.kind not in "fiu":  # labels such as strings: exact match only
        wanted = [sub.point] if sub.is_point else None
        if wanted is None:
            raise BadRequest(f"subset: axis {dim} has text labels; select one with {dim}(\"label\")", parameter="subset")
        hit = np.flatnonzero(coord.astype(str) == sub.point)
        if hit.size == 0:
            raise BadRequest(f"subset: {sub.point!r} is not a {dim} value ({', '.join(map(str, coord[:30]))})", parameter="subset")
        return hit
    if sub.is_point:
        sel = ValueSelection(values=[parse_number(sub.point, "subset")])
    else:
        lo = parse_number(sub.low, "subset") if sub.low else -np.inf
        hi = parse_number(sub.high, "subset") if sub.high else np.inf
        if lo > hi:
            raise BadRequest(f"subset: {sub.text()} has its low end above its high end", parameter="subset")
        sel = ValueSelection(low=lo, high=hi)
    idx = value_indices(coord, sel, dim, "subset", units)
    return np.sort(idx)


# ------------------------------------------------------------------ the selection

@dataclass
class Selection:
    ds: xr.Dataset
    axes: AxisModel
    constrained: set[str]


def select(c: Collection, req: CoverageRequest, *, image: bool = False) -> Selection:
    """Fields and index ranges, still lazy. `image`: reduce unconstrained non-X/Y axes to one value."""
    axes = c.axes
    ds = select_variables(c.ds, req.properties, c.variables, "properties")
    bounds.check_exclusive(axes, req)
    by_kind: dict[str, AxisSubset] = {}
    by_dim: dict[str, AxisSubset] = {}
    for sub in req.subset:
        a = L.resolve(axes, sub.axis, "subset")
        if a.dim in by_dim:
            raise BadRequest(f"subset: axis {a.label} is given twice (as {by_dim[a.dim].axis} and {sub.axis})", parameter="subset")
        by_dim[a.dim] = sub
        by_kind[a.kind] = sub

    picks: dict[str, object] = {}
    constrained: set[str] = set()
    spatial = []
    if req.bbox is not None:
        spatial.append(bbox_xy(axes, req.bbox, req.bbox_crs))
    if "x" in by_kind or "y" in by_kind:
        crs = req.subset_crs or _degrees_crs(axes, [by_kind[k] for k in ("x", "y") if k in by_kind])
        bounds.check_xy(axes, by_kind.get("x"), by_kind.get("y"), crs)
        spatial.append(subset_indices(axes, by_kind.get("x"), by_kind.get("y"), crs))
    relabel = None
    xy = combine(spatial)
    if xy is not None:
        iy, ix, relabel = xy
        picks[axes.y], picks[axes.x] = _as_index(iy), _as_index(ix)
        constrained |= {axes.x, axes.y}

    if axes.t is not None and (req.datetime is not None or "t" in by_kind):
        idx = None
        if req.datetime is not None:
            bounds.check_time(axes, req.datetime, "datetime")
            idx = time_indices(axes, req.datetime, "datetime")
        else:  # a `subset` on time (never both: check_exclusive)
            sub = by_kind["t"]
            if sub.latest:  # time(*): the latest time step (/req/subsetting-temporal/wildcard-limits C)
                idx = np.array([int(np.argmax(bounds.t_positions(axes)))])
            else:
                tsel = _time_selection(sub)
                bounds.check_time(axes, tsel, "subset")
                idx = time_indices(axes, tsel, "subset")
        picks[axes.t] = _as_index(idx)
        constrained.add(axes.t)
    elif req.datetime is not None:
        raise BadRequest("datetime: this collection has no time axis", parameter="datetime")

    for dim, sub in by_dim.items():
        if dim in (axes.x, axes.y, axes.t):
            continue
        bounds.check_values(c.ds, dim, sub)
        picks[dim] = _as_index(_value_indices(c.ds, dim, sub))
        constrained.add(dim)

    if image:
        for d in [axes.z, axes.t, *axes.others]:
            if d and d in ds.dims and d not in constrained and ds.sizes[d] > 1:
                picks[d] = slice(0, 1)
    ds = ds.isel(picks) if picks else ds
    if relabel is not None:
        ds = ds.assign_coords({axes.x: ds[axes.x].copy(data=relabel.astype(ds[axes.x].dtype))})
    if axes.curvilinear is not None:  # cells of the window outside the lon/lat bbox/subset are nulled
        from .curvilinear import mask_selection

        ds = mask_selection(ds, axes, req)
    return Selection(ds, axes, constrained)


def _degrees_crs(axes: AxisModel, subs: list[AxisSubset]) -> CRS | None:
    """Lon/Lat labels on a projected or rotated coverage mean degrees (CRS84); mixing them with x/y is ambiguous."""
    if axes.lonlat:
        return None
    degrees = [s.axis.lower() in L.DEGREE_ALIASES and s.axis.lower() not in (axes.x.lower(), axes.y.lower()) for s in subs]
    if all(degrees):
        return CRS84
    if any(degrees):
        raise BadRequest("subset: Lon/Lat are degrees on this projected coverage; use them together or use "
                         f"{axes.x}/{axes.y} (native units) together, or say which CRS with subset-crs", parameter="subset")
    return None


def bbox_xy(axes: AxisModel, bbox, crs: CRS | None):
    """Cells inside `bbox` (CRS84 unless bbox-crs); 400 naming bbox for corners out of range."""
    check_box(bbox, crs, "bbox", axes)
    bounds.check_bbox(axes, bbox, crs)
    return bbox_indices(axes, bbox, crs or CRS84, "bbox")


def scale_plan(sel: Selection, req: CoverageRequest) -> list[AxisScale]:
    """Per-dimension scaling: scale-size wins over scale-axes, which wins over scale-factor (X and Y)."""
    axes, ds = sel.axes, sel.ds
    plan: dict[str, AxisScale] = {}
    if req.scale_factor is not None:
        for d in (axes.x, axes.y):
            plan[d] = from_factor(d, ds.sizes[d], req.scale_factor)
    for name, f in req.scale_axes.items():
        d = L.resolve(axes, name, "scale-axes").dim
        plan[d] = from_factor(d, ds.sizes[d], f)
    for name, n in req.scale_size.items():
        d = L.resolve(axes, name, "scale-size").dim
        plan[d] = from_size(d, ds.sizes[d], n)
    return [s for s in plan.values() if not s.identity]


def output_cells(ds: xr.Dataset, plan: list[AxisScale]) -> int:
    ratio = {s.dim: s.size / s.n for s in plan}
    total = 0
    for v in ds.data_vars.values():
        n = float(v.size)
        for d in v.dims:
            n *= ratio.get(d, 1.0)
        total += int(np.ceil(n))
    return total


def build(c: Collection, req: CoverageRequest, max_cells: int, *, image: bool = False) -> Selection:
    """The full pipeline: select, guard, scale, reproject. Lazy unless reprojected."""
    sel = select(c, req, image=image)
    plan = scale_plan(sel, req)
    if sel.axes.curvilinear is not None:  # no scaling or warping of 2-D lat/lon cells
        from .curvilinear import check_request

        check_request(req, plan)
    n_out = output_cells(sel.ds, plan)
    if n_out > max_cells:
        raise TooLarge(f"the coverage subset has {n_out:,} values, more than this server's limit of {max_cells:,}; "
                       "narrow it with subset, bbox, datetime or properties, or scale it down with scale-factor / scale-size")
    if plan and cell_count(sel.ds) > READ_FACTOR * max_cells:
        raise TooLarge(f"scaling would read {cell_count(sel.ds):,} values, more than {READ_FACTOR}x this server's limit "
                       f"of {max_cells:,}; subset first")
    axes = sel.axes
    warp = req.crs is not None and not same_crs(req.crs, axes.crs)
    # reprojected: X/Y scaling sizes the output grid (scale-size=Lon(100) is 100 output columns), not the source
    output_scale = {s.dim: s for s in plan if warp and s.dim in (axes.x, axes.y)}
    plan = [s for s in plan if s.dim not in output_scale]
    ds = scale_dataset(sel.ds, plan, regular_dims=(axes.x, axes.y)) if plan else sel.ds
    if plan or output_scale:  # scaled cells have new edges: the source's bounds no longer describe them
        ds = drop_bounds(ds, [s.dim for s in plan] + list(output_scale))
    if warp:
        exact = {L.resolve(axes, name, "scale-size").dim: n for name, n in req.scale_size.items()}
        size = {d: exact[d] if d in exact else s.size / s.n for d, s in output_scale.items()}
        ds, axes = reproject(ds, axes, req.crs, max_cells, size=size)
    return Selection(ds, axes, sel.constrained)


