"""One function per EDR query type: raw parameters -> an `Answer` (a lazy selection, nothing read yet).

Each parses its geometry, asks `select.geometry` for grid positions and slices the
Dataset with the shared engine. Answers come in three shapes the encoders know:
  points - nearest cells of POINT/MULTIPOINT (dim `points` when several),
  path   - cells along a LINESTRING, dim `points`, with time/height per sample if M/Z given,
  grid   - a window of the grid with cells outside the geometry masked (area, cube, radius, corridor).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import xarray as xr

from ..errors import BadRequest
from ..query.parse import ValueSelection, parse_bbox, parse_z
from ..query.wkt import Coords, parse_coords
from ..registry import Collection
from ..select import geometry as geo
from ..select.core import value_indices
from .params import (EARTH_CIRCUMFERENCE_M, Query, apply_common, as_index, distance_m, height_units, levels_within,
                     number, read_query, required_units, resolution)

POINTS, PATH, GRID = "points", "path", "grid"


@dataclass
class Answer:
    """A selected, still lazy answer and what the encoders need to describe it."""

    kind: str
    ds: xr.Dataset  # lazy
    query: Query
    xs: np.ndarray | None = None  # points/path: output coordinates of each cell (out CRS or native)
    ys: np.ndarray | None = None
    single: bool = False  # one POINT: a single coverage, no `points` dimension
    cells: geo.Cells | None = None


def window(c: Collection, cells: geo.Cells) -> dict:
    """isel indexers of a grid window."""
    return {c.axes.y: as_index(cells.iy), c.axes.x: as_index(cells.ix)}


def mask_grid(ds: xr.Dataset, c: Collection, cells: geo.Cells) -> xr.Dataset:
    """On a windowed Dataset: relabel wrapped longitudes, null the cells outside the geometry (lazy)."""
    ax = c.axes
    out = ds
    if cells.relabel is not None:
        out = out.assign_coords({ax.x: out[ax.x].copy(data=cells.relabel.astype(out[ax.x].dtype))})
    if cells.full:
        return out
    keep = xr.DataArray(cells.mask, dims=(ax.y, ax.x))
    masked = {}
    for name, var in out.data_vars.items():
        cond = keep
        nodata = var.attrs.get("_FillValue", var.encoding.get("_FillValue"))
        if var.dtype.kind in "iu" and nodata is not None and np.isfinite(nodata):
            cond = keep & (var != nodata)  # integer nodata must stay null once the values become floats
        masked[name] = var.where(cond)
        masked[name].attrs = var.attrs
        masked[name].encoding = var.encoding
    return out.assign(masked)


# ---------------------------------------------------------------- query types

def position(c: Collection, params: Mapping[str, str], coords: Coords | None = None) -> Answer:
    located = coords is not None
    coords = coords or parse_coords(params.get("coords"), ("Point", "MultiPoint"))
    q = read_query(params, c, coords_in_crs84=located)
    ax = c.axes
    x, y = coords.xy()
    iy, ix = geo.nearest_cells(ax, x, y, q.in_crs)
    per_point_z = coords.z is not None and q.z is None and ax.z is not None
    xs, ys = geo.cell_xy(ax, iy, ix, q.out_crs, x)
    if coords.kind == "Point":
        sel = {ax.y: int(iy[0]), ax.x: int(ix[0])}
        if per_point_z:
            sel[ax.z] = int(geo.nearest_levels(ax, coords.z)[0])
        return Answer(POINTS, apply_common(c.ds, c, q, also=sel), q, xs, ys, single=True)
    sel = {ax.y: iy, ax.x: ix}
    if per_point_z:
        sel[ax.z] = geo.nearest_levels(ax, coords.z)
    return Answer(POINTS, apply_common(c.ds, c, q, points=sel), q, xs, ys)


def _resolution(params: Mapping[str, str], name: str) -> int | None:
    return resolution(params, name)


def resample_cells(cells: geo.Cells, params: Mapping[str, str]) -> geo.Cells:
    """resolution-x/-y on a masked window (corridor): n positions spread evenly across the window's x/y
    (nearest cells, as for area); 400 when no selected cell is left."""
    rx, ry = _resolution(params, "resolution-x"), _resolution(params, "resolution-y")
    if not rx and not ry:
        return cells
    kx = geo.resample(np.arange(len(cells.ix)), rx)
    ky = geo.resample(np.arange(len(cells.iy)), ry)
    mask = cells.mask[np.ix_(ky, kx)]
    if not mask.any():
        raise BadRequest("resolution-x: no selected cell is left at this resolution; ask for more positions or "
                         "0 (native)", parameter="resolution-x" if rx else "resolution-y")
    relabel = None if cells.relabel is None else cells.relabel[kx]
    return geo.Cells(cells.iy[ky], cells.ix[kx], mask, relabel)


def resample_levels(ds: xr.Dataset, c: Collection, params: Mapping[str, str]) -> xr.Dataset:
    """resolution-z (/req/edr/resolution-z-response): n levels spread evenly from the lowest to the
    highest selected level (nearest existing levels, no interpolation); 0/absent = all levels.
    Accepted without effect on a collection without a vertical axis (there is one implicit level)."""
    n = _resolution(params, "resolution-z")
    z = c.axes.z
    if not n or z is None or z not in ds.dims:
        return ds
    return ds.isel({z: geo.resample(np.arange(ds.sizes[z]), n)})


def area(c: Collection, params: Mapping[str, str], coords: Coords | None = None) -> Answer:
    located = coords is not None
    coords = coords or parse_coords(params.get("coords"), ("Polygon", "MultiPolygon"))
    q = read_query(params, c, coords_in_crs84=located)
    cells = geo.polygon_cells(c.axes, coords.geom, q.in_crs, "coords",
                              _resolution(params, "resolution-x"), _resolution(params, "resolution-y"))
    ds = resample_levels(apply_common(c.ds, c, q, also=window(c, cells)), c, params)
    return Answer(GRID, mask_grid(ds, c, cells), q, cells=cells)


def cube(c: Collection, params: Mapping[str, str]) -> Answer:
    raw = params.get("bbox")
    if raw is None or not raw.strip():
        raise BadRequest("bbox: required; minx,miny,maxx,maxy (optionally minz and maxz as 3rd and 6th)", parameter="bbox")
    bbox = parse_bbox(raw, "bbox")
    q = read_query(params, c)
    if len(bbox) == 6 and q.z is None:
        q.z = ValueSelection(low=bbox[2], high=bbox[5])
    cube_z = params.get("cube-z")
    if cube_z and q.z is None:
        q.z = parse_z(cube_z, "cube-z")
    cells = geo.bbox_cells(c.axes, bbox, q.in_crs, "bbox",
                           _resolution(params, "resolution-x"), _resolution(params, "resolution-y"))
    ds = resample_levels(apply_common(c.ds, c, q, also=window(c, cells)), c, params)
    return Answer(GRID, mask_grid(ds, c, cells), q, cells=cells)


def radius(c: Collection, params: Mapping[str, str]) -> Answer:
    coords = parse_coords(params.get("coords"), ("Point",))
    q = read_query(params, c)
    metres = distance_m(params, "within", "within-units", maximum_m=EARTH_CIRCUMFERENCE_M / 2)
    x, y = coords.xy()
    cells = geo.radius_cells(c.axes, float(x[0]), float(y[0]), metres, q.in_crs)
    ds = apply_common(c.ds, c, q, also=window(c, cells))
    return Answer(GRID, mask_grid(ds, c, cells), q, cells=cells)


def _path_conflicts(coords: Coords, q: Query) -> None:
    if coords.m is not None and q.datetime is not None:
        raise BadRequest("datetime: the coords give a time per vertex (M); drop datetime or the M values",
                         parameter="datetime")
    if coords.z is not None and q.z is not None:
        raise BadRequest("z: the coords give a height per vertex (Z); drop z or the Z values", parameter="z")


def trajectory(c: Collection, params: Mapping[str, str], coords: Coords | None = None) -> Answer:
    located = coords is not None
    coords = coords or parse_coords(params.get("coords"), ("LineString", "MultiLineString"))
    q = read_query(params, c, coords_in_crs84=located)
    _path_conflicts(coords, q)
    ax = c.axes
    sx, sy, sm, sz = geo.path_samples(ax, coords.geom, coords.m, coords.z, q.in_crs)
    iy, ix = geo.nearest_cells(ax, sx, sy, q.in_crs)
    it = geo.nearest_times(ax, sm) if sm is not None else None
    iz = geo.nearest_levels(ax, sz) if sz is not None else None
    keep = geo.dedupe(iy, ix, it, iz)
    sel = {ax.y: iy[keep], ax.x: ix[keep]}
    if it is not None:
        sel[ax.t] = it[keep]
    if iz is not None:
        sel[ax.z] = iz[keep]
    ds = apply_common(c.ds, c, q, time=it is None, z=iz is None, points=sel)
    xs, ys = geo.cell_xy(ax, iy[keep], ix[keep], q.out_crs, sx[keep])
    return Answer(PATH, ds, q, xs, ys)


def corridor(c: Collection, params: Mapping[str, str]) -> Answer:
    coords = parse_coords(params.get("coords"), ("LineString", "MultiLineString"))
    q = read_query(params, c)
    _path_conflicts(coords, q)
    ax = c.axes
    metres = distance_m(params, "corridor-width", "width-units", maximum_m=EARTH_CIRCUMFERENCE_M)
    zsel, zparam = _corridor_levels(c, params, coords, q)
    cells = resample_cells(geo.corridor_cells(ax, coords.geom, metres, q.in_crs), params)
    time = True
    if coords.m is not None:
        it = geo.nearest_times(ax, coords.m)
        q.datetime = None
        time = False
    also = window(c, cells)
    if coords.m is not None:
        also[ax.t] = slice(int(it.min()), int(it.max()) + 1)
    if zsel is not None:
        also[ax.z] = as_index(value_indices(ax.z_values, zsel, ax.z, zparam, ax.z_units))
    ds = resample_levels(apply_common(c.ds, c, q, time=time, z=False, also=also), c, params)
    return Answer(GRID, mask_grid(ds, c, cells), q, cells=cells)


def _corridor_levels(c: Collection, params: Mapping[str, str], coords: Coords,
                     q: Query) -> tuple[ValueSelection | None, str]:
    """Levels of a corridor (/req/edr/REQ_rc-corridor-height-response): `corridor-height` and
    `height-units` are required (400 naming them and the allowed units when absent).

    The corridor's vertical centre is the path's Z (LINESTRINGZ) or `z`; levels within
    corridor-height/2 of it are kept (snapped outward to whole levels). A path without Z and no `z`
    has no vertical centre: the corridor then spans the whole vertical extent. On a collection
    without a vertical axis corridor-height is accepted (a client always sends it) and has no effect.
    """
    ax = c.axes
    height = number(params, "corridor-height", required=True, minimum=0)
    required_units(params, "height-units", height_units(c))
    if ax.z is None:
        if q.z is not None:
            raise BadRequest("z: this collection has no vertical axis", parameter="z")
        if coords.z is not None:
            geo.nearest_levels(ax, coords.z)  # 400: Z values on a collection without a vertical axis
        return None, "z"
    if coords.z is not None:
        geo.nearest_levels(ax, coords.z)  # 400 when the path leaves the vertical extent
        lo, hi = float(np.min(coords.z)), float(np.max(coords.z))
    elif q.z is not None:
        value_indices(ax.z_values, q.z, ax.z, "z", ax.z_units)  # z: existing levels (400 listing them)
        vals = q.z.values if q.z.values is not None else [q.z.low, q.z.high]
        lo, hi = float(min(vals)), float(max(vals))
    else:
        return None, "z"
    half = height / 2
    return levels_within(c, lo - half, hi + half, "corridor-height"), "corridor-height"


QUERIES = {"position": position, "area": area, "cube": cube, "radius": radius,
           "trajectory": trajectory, "corridor": corridor}
