"""Selections on curvilinear grids (2-D latitude/longitude): the `select.geometry` API on the sphere.

Same functions, arguments and results as `select.geometry` / `select.core` (index
arrays, `Cells` windows with a mask, `Samples`), so EDR, Coverages and Processes need no
special cases: `select.grid_dispatch` sends a call here when `axes.curvilinear` is set. Positions come
from the grid's `CurvilinearGrid` (grids/curvilinear.py), never from the index axes:
- position: the cell whose centre is nearest on the sphere (KD-tree on unit vectors);
  a point farther than one cell spacing from every centre is outside (400);
- area / cube / radius / corridor: the cells whose centres fall inside the polygon, the
  lon/lat box, the geodesic circle (pyproj Geod, WGS 84) or the buffered path, as the
  smallest index window holding them with the other cells masked;
- trajectory: the path sampled every half median cell spacing, each sample's nearest cell.
Query coordinates are lon/lat (CRS84; EPSG:4326 is read as lon/lat too, as on every grid);
another CRS is transformed to lon/lat first.
"""

from __future__ import annotations

import numpy as np
import shapely
import xarray as xr
from pyproj import CRS, Transformer

from ..axes import CRS84, EDGE_POINTS, AxisModel
from ..errors import BadRequest
from ..grids.curvilinear import wrap180
from .core import _as_index
from .geometry import GEOD, Cells, _xy, check_coords, corridor_zone, densify, resample


def grid_of(axes: AxisModel):
    return axes.curvilinear


# ---------------------------------------------------------------- helpers

def _lonlat(x, y, crs: CRS | None) -> tuple[np.ndarray, np.ndarray]:
    """Query coordinates -> lon/lat degrees (geographic CRSs are read lon, lat as in the rest of the server)."""
    x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    if crs is None or crs.is_geographic:
        return x, y
    lon, lat = Transformer.from_crs(crs, CRS84, always_xy=True).transform(x, y)
    return np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")


def extent_text(axes: AxisModel) -> str:
    g = grid_of(axes)
    ext = ", ".join(f"{v:.6g}" for v in g.bbox())
    return f"[{ext}] (CRS84; a curvilinear grid, median cell spacing {g.spacing_deg * 111.195:.3g} km)"


def _window(mask: np.ndarray, axes: AxisModel, res_x, res_y, empty: BadRequest) -> Cells:
    """The smallest index window holding the selected cells, optionally resampled (resolution-x/-y)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise empty
    iy = resample(np.arange(rows[0], rows[-1] + 1), res_y)
    ix = resample(grid_of(axes).columns(cols), res_x)
    sub = mask[np.ix_(iy, ix)]
    if not sub.any():
        raise empty
    return Cells(iy, ix, sub)


def _in_polygon(geom, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Centres inside (or on) a lon/lat polygon, also when it is written past +-180 (e.g. 170..190)."""
    shapely.prepare(geom)
    inside = shapely.intersects_xy(geom, lon, lat)
    minx, _, maxx, _ = geom.bounds
    if maxx > 180.0:
        inside |= shapely.intersects_xy(geom, lon + 360.0, lat)
    if minx < -180.0:
        inside |= shapely.intersects_xy(geom, lon - 360.0, lat)
    return inside


# ---------------------------------------------------------------- points

def nearest_cells(axes: AxisModel, x, y, crs: CRS | None = None, param: str = "coords") -> tuple[np.ndarray, np.ndarray]:
    """(iy, ix) of the cell nearest on the sphere to each point; 400 naming `param` for points off the grid."""
    g = grid_of(axes)
    lon, lat = _lonlat(np.atleast_1d(x), np.atleast_1d(y), crs)
    check_coords(lon, lat, None, param)
    iy, ix, dist = g.nearest(lon, lat)
    off = g.outside(iy, ix, dist)
    if off.any():
        i = int(np.flatnonzero(off)[0])
        qx, qy = np.atleast_1d(x)[i], np.atleast_1d(y)[i]
        raise BadRequest(f"{param}: the point ({qx:g} {qy:g}) is outside the collection extent {extent_text(axes)}: "
                         f"the nearest cell centre is {dist[i] / 1000:.4g} km away, farther than the grid spacing "
                         f"there ({g.cell_size_m[iy[i], ix[i]] / 1000:.4g} km)", parameter=param)
    return iy, ix


def cell_xy(axes: AxisModel, iy: np.ndarray, ix: np.ndarray, out_crs: CRS | None,
            query_x: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """True lon/lat of cell centres (CRS84, or `out_crs` when projected); a 0..360 question gets 0..360 labels."""
    g = grid_of(axes)
    lon, lat = g.lon[iy, ix].astype("float64"), g.lat[iy, ix].astype("float64")
    if out_crs is not None and not out_crs.is_geographic:
        lon, lat = (np.asarray(v) for v in Transformer.from_crs(CRS84, out_crs, always_xy=True).transform(lon, lat))
    elif query_x is not None:
        lon = np.where(np.asarray(query_x, dtype="float64") >= 180.0, lon % 360.0, lon)
    return lon, lat


# ---------------------------------------------------------------- areas

def polygon_cells(axes: AxisModel, geom, crs: CRS | None = None, param: str = "coords",
                  res_x: int | None = None, res_y: int | None = None) -> Cells:
    """Cells whose centres lie inside (or on the boundary of) a polygon, as a masked index window."""
    check_coords(*_xy(geom), crs, param)
    g = grid_of(axes)
    if crs is not None and not crs.is_geographic:
        tr = Transformer.from_crs(crs, CRS84, always_xy=True)
        geom = shapely.transform(geom, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
    _, south, _, north = geom.bounds
    mask = g.valid & (g.lat >= south) & (g.lat <= north)
    cand = np.flatnonzero(mask.ravel())
    mask = np.zeros(g.shape, dtype=bool)
    mask.ravel()[cand] = _in_polygon(geom, g.lon.ravel()[cand], g.lat.ravel()[cand])
    empty = BadRequest(f"{param}: no grid cell centre falls inside the polygon; the collection extent is "
                       f"{extent_text(axes)}; use a position query for a single cell", parameter=param)
    return _window(mask, axes, res_x, res_y, empty)


def box_mask(axes: AxisModel, bbox, crs: CRS | None, param: str) -> np.ndarray:
    """(ny, nx) cells whose centres lie inside a bbox (4 or 6 numbers; minx > maxx crosses the antimeridian)."""
    minx, miny, maxx, maxy = (bbox[0], bbox[1], bbox[3], bbox[4]) if len(bbox) == 6 else tuple(bbox)
    g = grid_of(axes)
    if crs is not None and not crs.is_geographic:
        if minx > maxx:
            raise BadRequest(f"{param}: minx {minx:g} is greater than maxx {maxx:g}; a box across the antimeridian "
                             "is accepted in longitude/latitude only", parameter=param)
        minx, miny, maxx, maxy = Transformer.from_crs(crs, CRS84, always_xy=True).transform_bounds(
            minx, miny, maxx, maxy, densify_pts=EDGE_POINTS)
    else:
        check_coords([minx, maxx], [miny, maxy], None, param)
    if maxx - minx >= 360.0:
        west, east = -180.0, 180.0
    else:  # lon_inside reads west > east as across the antimeridian (also 170..190 written past 180)
        west, east = float(wrap180(minx)), float(wrap180(maxx))
    mask = g.lonlat_box_mask(west, miny, east, maxy)
    if not mask.any():
        shown = ", ".join(f"{v:g}" for v in bbox)
        raise BadRequest(f"{param}: {shown} contains no grid cell centre; the collection extent is {extent_text(axes)}",
                         parameter=param)
    return mask


def bbox_cells(axes: AxisModel, bbox, crs: CRS | None = None, param: str = "bbox",
               res_x: int | None = None, res_y: int | None = None) -> Cells:
    """Cells whose centres fall inside a lon/lat bbox: the index window holding them, the others masked."""
    mask = box_mask(axes, bbox, crs, param)
    empty = BadRequest(f"{param}: the resampled window holds no cell inside the bbox; raise resolution-x/-y",
                       parameter="resolution-x" if res_x else "resolution-y")
    return _window(mask, axes, res_x, res_y, empty)


def radius_cells(axes: AxisModel, x: float, y: float, radius_m: float, crs: CRS | None = None,
                 param: str = "coords") -> Cells:
    """Cells whose centres are within a geodesic distance (WGS 84 ellipsoid, pyproj Geod) of a point."""
    nearest_cells(axes, [x], [y], crs, param)  # the centre must be on the grid
    g = grid_of(axes)
    lon, lat = (float(v[0]) for v in _lonlat([x], [y], crs))
    cand = g.within(lon, lat, radius_m)
    mask = np.zeros(g.shape, dtype=bool)
    if cand.size:
        clon, clat = g.lon.ravel()[cand], g.lat.ravel()[cand]
        _, _, dist = GEOD.inv(np.full(cand.shape, lon), np.full(cand.shape, lat), clon, clat)
        mask.ravel()[cand] = np.asarray(dist) <= radius_m
    empty = BadRequest(f"within: no grid cell centre lies within {radius_m:g} m of the point (median cell spacing "
                       f"{g.spacing_deg * 111.195:.3g} km); widen 'within' or use a position query", parameter="within")
    return _window(mask, axes, None, None, empty)


def corridor_cells(axes: AxisModel, line, width_m: float, crs: CRS | None = None, param: str = "coords") -> Cells:
    """Cells whose centres are within width/2 of a path (local azimuthal equidistant projection)."""
    check_coords(*_xy(line), crs, param)
    g = grid_of(axes)
    lon, lat = _lonlat(*_xy(line), crs)
    check_coords(lon, lat, None, param)
    step = g.spacing_deg / 2
    zone, aeqd, to_local, lon_c, lat_c = corridor_zone(lon, lat, line, width_m, step, param)
    reach = float(np.max(np.hypot(*shapely.get_coordinates(zone).T)))  # farthest point of the zone from its centre
    cand = g.within(lon_c, lat_c, reach * 1.05 + 1000.0)
    mask = np.zeros(g.shape, dtype=bool)
    if cand.size:
        lx, ly = to_local.transform(g.lon.ravel()[cand], g.lat.ravel()[cand])
        shapely.prepare(zone)
        mask.ravel()[cand] = shapely.intersects_xy(zone, np.asarray(lx), np.asarray(ly))
    empty = BadRequest(f"corridor-width: no grid cell centre lies within {width_m / 2:g} m of the path (median cell "
                       f"spacing {g.spacing_deg * 111.195:.3g} km); widen the corridor or use a trajectory query",
                       parameter="corridor-width")
    return _window(mask, axes, None, None, empty)


# ---------------------------------------------------------------- paths

def path_samples(axes: AxisModel, geom, m: np.ndarray | None, z: np.ndarray | None, crs: CRS | None = None,
                 param: str = "coords"):
    """Points along a (Multi)LineString every half median cell spacing (degrees), with M and Z interpolated."""
    qx, qy = _xy(geom)
    check_coords(qx, qy, crs, param)
    lon, lat = _lonlat(qx, qy, crs)
    step = grid_of(axes).spacing_deg
    return densify(geom, lon / step, lat / step, {"x": lon, "y": lat, "m": m, "z": z}, param)


# ---------------------------------------------------------------- select.core counterparts (Coverages, Processes)

def bbox_indices(axes: AxisModel, bbox, crs: CRS | None = None, param: str = "bbox"):
    """(iy, ix, None): the index window holding the cells whose centres fall inside a lon/lat bbox."""
    mask = box_mask(axes, bbox, crs, param)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return np.arange(rows[0], rows[-1] + 1), grid_of(axes).columns(cols), None


def slice_bbox(ds: xr.Dataset, axes: AxisModel, bbox, crs: CRS | None = None, param: str = "bbox") -> xr.Dataset:
    """The index window of a lon/lat bbox with the cells outside it masked (NaN); still lazy."""
    mask = box_mask(axes, bbox, crs, param)
    cells = _window(mask, axes, None, None, BadRequest(f"{param}: selects no cell", parameter=param))
    out = ds.isel({axes.y: _as_index(cells.iy), axes.x: _as_index(cells.ix)})
    return mask_outside(out, axes, cells.mask)


def mask_outside(ds: xr.Dataset, axes: AxisModel, mask: np.ndarray) -> xr.Dataset:
    """Null the data of cells where `mask` (over the window's (y, x)) is False; coordinates untouched."""
    if mask.all():
        return ds
    keep = xr.DataArray(mask, dims=(axes.y, axes.x))
    out = {}
    for name, var in ds.data_vars.items():
        if axes.y in var.dims and axes.x in var.dims:
            out[name] = var.where(keep)
            out[name].attrs, out[name].encoding = var.attrs, var.encoding
    return ds.assign(out)
