"""The selection engine shared by EDR, Coverages and Processes: lazy xarray in, lazy xarray out.

Every function takes the Dataset and its AxisModel, works on index positions (so
descending latitude, 0..360 longitudes and cftime calendars need no special cases
downstream) and raises BadRequest naming the request parameter at fault.
Nothing here loads data: `compute` is the one place a selection is read.
"""

from __future__ import annotations

import threading
import weakref
from functools import lru_cache

import dask.array as da
import numpy as np
import xarray as xr
from pyproj import CRS, Transformer

from ..axes import CRS84, EDGE_POINTS, AxisModel, crs_label, is_lonlat, iso_times
from ..budget import book_answer
from ..companions import with_companions
from ..crs_memo import by_identity
from ..errors import BadRequest, TooLarge
from .. import dask_local
from ..sources import direct_read
from ..query.parse import TimeSelection, ValueSelection
from .times import time_indices, with_time_bounds  # noqa: F401 - time_indices: EDR, Coverages import it here


def select_variables(ds: xr.Dataset, names: list[str] | None, allowed: list[str], param: str) -> xr.Dataset:
    """Keep the asked variables (all servable ones by default) and, as coordinates, their CF companions
    (grid mapping, bounds, formula terms: `companions.with_companions`), so every later isel subsets
    them with the data and NetCDF answers stay CF-complete."""
    if names:
        unknown = [n for n in names if n not in allowed]
        if unknown:
            raise BadRequest(f"{param}: unknown {', '.join(map(repr, unknown))}; available: {', '.join(allowed)}", parameter=param)
    key = (id(ds), tuple(names or allowed))
    hit = _selected.get(key)
    if hit is not None and hit[0]() is ds:
        return hit[1].copy(deep=False)  # own attrs dicts: a caller adding `history` changes only its answer
    out = with_time_bounds(with_companions(ds, ds[names or allowed]), ds)
    with _selected_lock:
        _selected[key] = (weakref.ref(ds, lambda _, key=key: _forget(key)), out)
        while len(_selected) > 128:
            _forget(next(iter(_selected), None))
    return out.copy(deep=False)


def _forget(key) -> None:
    """Drop a memo entry (its Dataset was collected, or the memo is full). No lock: it runs from the garbage
    collector's weak reference callbacks, in any thread, possibly while this thread holds the lock."""
    _selected.pop(key, None)


# (id of the collection's Dataset, variables) -> (weak reference to that Dataset, its lazy selection): the same few
# variable lists are asked again and again, and building one walks every coordinate (~0.5 ms). An entry goes
# with its Dataset (reload, close): the selection would otherwise keep the old source's arrays and files alive.
_selected: dict = {}
_selected_lock = threading.Lock()


def _as_index(idx: np.ndarray):
    """A contiguous ascending run becomes a slice: chunk-friendly and cheaper for dask."""
    if idx.size and np.all(np.diff(idx) == 1):
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return idx


# ---------------------------------------------------------------- time

def slice_time(ds: xr.Dataset, axes: AxisModel, sel: TimeSelection | None, param: str = "datetime") -> xr.Dataset:
    if sel is None:
        return ds
    return ds.isel({axes.t: _as_index(time_indices(axes, sel, param))})


# ---------------------------------------------------------------- values (z and extra axes)

def value_indices(coord: np.ndarray, sel: ValueSelection, dim: str, param: str, units: str | None = None) -> np.ndarray:
    """Exact levels (to float tolerance) or an inclusive range on a numeric axis."""
    values = np.asarray(coord, dtype="float64")
    shown = ", ".join(f"{v:g}" for v in values[:60]) + (" ..." if len(values) > 60 else "")
    unit = f" {units}" if units else ""
    if sel.is_range:
        idx = np.flatnonzero((values >= sel.low) & (values <= sel.high))
        if idx.size == 0:
            raise BadRequest(f"{param}: no {dim} value within {sel.low:g}/{sel.high:g}{unit}; values are {shown}", parameter=param)
        return idx
    out = []
    for v in sel.values:
        hit = np.flatnonzero(np.isclose(values, v, rtol=1e-6, atol=1e-9))
        if hit.size == 0:
            raise BadRequest(f"{param}: {v:g} is not one of the {dim} values ({shown}{unit})", parameter=param)
        out.append(int(hit[0]))
    return np.array(list(dict.fromkeys(out)))


def slice_values(ds: xr.Dataset, dim: str, sel: ValueSelection | None, param: str, units: str | None = None) -> xr.Dataset:
    if sel is None:
        return ds
    return ds.isel({dim: _as_index(value_indices(ds[dim].values, sel, dim, param, units))})


def slice_z(ds: xr.Dataset, axes: AxisModel, sel: ValueSelection | None, param: str = "z") -> xr.Dataset:
    if sel is None:
        return ds
    if axes.z is None:
        raise BadRequest(f"{param}: this collection has no vertical axis", parameter=param)
    return slice_values(ds, axes.z, sel, param, axes.z_units)


# ---------------------------------------------------------------- space

def query_transformer(axes: AxisModel, crs: CRS | None) -> Transformer | None:
    """Transformer from the query CRS (CRS84 by default) to the native CRS, None if they agree.

    Lon/lat query on a lon/lat grid (CRS84, EPSG:4326, or another datum PROJ relates by a
    ballpark no-op): None, the longitudes are wrapped to the grid instead. Rotated-pole grids
    always get a transformer (their x/y are not lon/lat).
    """
    crs = crs or CRS84
    if crs == axes.crs or crs.equals(axes.crs, ignore_axis_order=True):
        return None
    if axes.lonlat and is_lonlat(crs) and _noop(crs, axes.crs):
        return None
    return _transformer(crs, axes.crs)


@by_identity
@lru_cache(maxsize=128)
def _transformer(src: CRS, dst: CRS) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


@by_identity
@lru_cache(maxsize=128)
def _noop(src: CRS, dst: CRS) -> bool:
    """Whether PROJ's lon/lat -> lon/lat transformation leaves coordinates unchanged (a ballpark)."""
    x, y = np.array([-170.0, 0.0, 35.0, 170.0]), np.array([-60.0, 0.0, 45.0, 80.0])
    tx, ty = _transformer(src, dst).transform(x, y, errcheck=False)
    return bool(np.allclose(tx, x, atol=1e-9) and np.allclose(ty, y, atol=1e-9))


def to_native_xy(axes: AxisModel, x, y, crs: CRS | None = None):
    """Query coordinates (lon/lat by default) -> native x, y arrays, longitudes wrapped to the grid.

    Lon/lat grids: -180..180 <-> 0..360 by the grid's convention. Rotated-pole grids: the
    transformed angles are moved by whole turns into the grid's frame (`AxisModel.to_grid_frame`).
    """
    x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    tr = query_transformer(axes, crs)
    if tr is not None:
        x, y = tr.transform(x, y, errcheck=False)
        x, y = np.asarray(x), np.asarray(y)
    if axes.lonlat:
        x = np.where(x < 0, x + 360.0, x) if axes.lon_360 else np.where(x > 180.0, x - 360.0, x)
    else:
        x = axes.to_grid_frame(x)
    return x, y


def bbox_indices(axes: AxisModel, bbox, crs: CRS | None = None, param: str = "bbox"):
    """Index arrays (iy, ix) of cells whose centres fall inside the bbox, and wrapped x labels if any.

    The bbox is in `crs` (CRS84 when None); on another CRS its edges are densified and transformed
    (pyproj transform_bounds) to a native rectangle. minx > maxx crosses the antimeridian.
    """
    minx, miny, maxx, maxy = (bbox[0], bbox[1], bbox[3], bbox[4]) if len(bbox) == 6 else tuple(bbox)
    tr = query_transformer(axes, crs)
    xs, ys = axes.x_values, axes.y_values
    relabel = None
    if minx > maxx and (tr is None or axes.lonlat or not (crs or CRS84).is_geographic or not _spans_dateline(axes)):
        return _across_antimeridian(axes, tr, (minx, miny, maxx, maxy), bbox, param)
    if tr is not None:
        minx, miny, maxx, maxy = tr.transform_bounds(minx, miny, maxx, maxy, densify_pts=EDGE_POINTS, errcheck=False)
        if not all(np.isfinite([minx, miny, maxx, maxy])):
            raise BadRequest(f"{param}: {', '.join(f'{v:g}' for v in bbox)} cannot be transformed to this "
                             f"collection's CRS ({crs_label(axes.crs)})", parameter=param)
        if axes.angular_x and minx > maxx:  # a rotated-pole box across the rotated antimeridian
            maxx += 360.0
        if axes.angular_x and not axes.lonlat:
            width = maxx - minx
            minx = float(axes.to_grid_frame(minx, width))
            maxx = minx + width
        xmask = (xs >= minx) & (xs <= maxx)
    elif axes.lonlat and axes.lon_360 and minx < 0:
        # a -180..180 query on a 0..360 grid: select in wrapped space and relabel, ascending
        wrapped = np.where(xs > 180.0, xs - 360.0, xs)
        xmask = (wrapped >= minx) & (wrapped <= maxx)
        ix = np.flatnonzero(xmask)
        ix = ix[np.argsort(wrapped[ix], kind="stable")]
        relabel = wrapped[ix]
        iy = np.flatnonzero((ys >= miny) & (ys <= maxy))
        _check_hit(ix, iy, axes, bbox, param)
        return iy, ix, relabel
    else:
        if axes.angular_x and not axes.lonlat:  # native rotated degrees, e.g. -10..10 on a 350..370 grid
            shifted = float(axes.to_grid_frame(minx, maxx - minx))
            minx, maxx = shifted, shifted + (maxx - minx)
        xmask = (xs >= minx) & (xs <= maxx)
    ix = np.flatnonzero(xmask)
    iy = np.flatnonzero((ys >= miny) & (ys <= maxy))
    _check_hit(ix, iy, axes, bbox, param)
    return iy, ix, relabel


def _spans_dateline(axes: AxisModel) -> bool:
    """A rotated/projected grid whose lon/lat extent crosses the antimeridian or holds a pole."""
    b = axes.crs84_bbox()
    return b[0] > b[2] or (b[0] <= -180.0 and b[2] >= 180.0)


def _across_antimeridian(axes: AxisModel, tr, box, bbox, param: str):
    """A lon/lat box with minx > maxx (e.g. 170,-10,-170,10): cells east of minx, then west of maxx.

    Longitudes are shifted into [minx, minx + 360) and returned as the x labels, so the answer
    has one ascending x axis (170 ... 190) whatever the grid's own convention (-180..180 or 0..360).
    """
    minx, miny, maxx, maxy = box
    if tr is not None or not axes.lonlat:
        kind = "projected" if axes.crs.is_projected else "rotated"
        raise BadRequest(f"{param}: minx {minx:g} is greater than maxx {maxx:g}; a box across the antimeridian is "
                         f"accepted on longitude/latitude grids and on grids that cross it; this one is {kind} and "
                         f"lies within [{', '.join(f'{v:.6g}' for v in axes.crs84_bbox())}] (CRS84)", parameter=param)
    xs = axes.x_values
    shifted = xs - 360.0 * np.floor((xs - minx) / 360.0)  # whole turns only: labels east of minx stay exact
    ix = np.flatnonzero(shifted <= maxx + 360.0)
    ix = ix[np.argsort(shifted[ix], kind="stable")]
    iy = np.flatnonzero((axes.y_values >= miny) & (axes.y_values <= maxy))
    _check_hit(ix, iy, axes, bbox, param)
    return iy, ix, shifted[ix]


def _check_hit(ix, iy, axes, bbox, param):
    if ix.size == 0 or iy.size == 0:
        ext = ", ".join(f"{v:.6g}" for v in axes.crs84_bbox())
        raise BadRequest(
            f"{param}: {', '.join(f'{v:g}' for v in bbox)} contains no grid cell centre; the collection extent (CRS84) is [{ext}]",
            parameter=param,
        )


def slice_bbox(ds: xr.Dataset, axes: AxisModel, bbox, crs: CRS | None = None, param: str = "bbox") -> xr.Dataset:
    """Cells whose centres fall inside `bbox` (in `crs`, CRS84 by default); 400 for corners out of range."""
    from .ranges import check_box

    check_box(bbox, crs, param, axes)
    iy, ix, relabel = bbox_indices(axes, bbox, crs, param)
    out = ds.isel({axes.y: _as_index(iy), axes.x: _as_index(ix)})
    if relabel is not None:
        out = out.assign_coords({axes.x: out[axes.x].copy(data=relabel.astype(out[axes.x].dtype))})
    return out


# ---------------------------------------------------------------- guard and compute

def cell_count(ds: xr.Dataset) -> int:
    return int(sum(v.size for v in ds.data_vars.values()))


def guard_size(ds: xr.Dataset, limit: int) -> None:
    """413 before reading anything when a selection is larger than the configured limit; otherwise
    its size is booked on the server's memory budget (503 when too much is in flight, cubeserver.budget)."""
    n = cell_count(ds)
    if n > limit:
        raise TooLarge(
            f"the selection has {n:,} values, more than this server's limit of {limit:,}; narrow it with a smaller "
            "bbox/area, a shorter datetime interval, fewer z levels or parameters, or scaling",
        )
    book_answer(n, max((v.dtype.itemsize for v in ds.data_vars.values()), default=8))


def compute(ds: xr.Dataset) -> xr.Dataset:
    """Read the selection once, with the local threaded scheduler (never a distributed client); a small
    selection of cached chunks is read without the scheduler (`sources.direct_read`, same values), and a
    lazily indexed variable (a time-series copy's point reads, `sources.cached_array`) by indexing."""
    # dask-backed ones; not `v.data` (it loads a lazily indexed variable) nor `v.chunks` (a runtime Protocol
    # check, ~10 µs a variable): the wrapped array itself
    lazy = [name for name, v in ds.variables.items() if isinstance(v._data, da.Array)]
    values = {}
    for name in lazy:
        values[name] = direct_read.read(ds.variables[name].data)
        if values[name] is None:
            nchunks = sum(getattr(v.data, "npartitions", 1) for v in ds.variables.values())
            return ds.compute(scheduler=dask_local.local(nchunks))  # not dask.config.set: process-global
    if lazy:
        dask_local.count("local", len(lazy))  # one local computation (its tasks: one per variable here)
    out = ds.copy(deep=False)  # as xarray's compute: the caller owns what it gets (attrs included)
    for name, data in values.items():
        out.variables[name].data = data
    for v in out.variables.values():
        v.load()  # lazily indexed ones read once, here (no-op for values in memory)
    return out


def time_strings(ds: xr.Dataset, axes: AxisModel) -> list[str]:
    return iso_times(ds[axes.t].values) if axes.t and axes.t in ds.dims else []


PARAM_NAMES = {"variables": "parameter-name", "bbox": "bbox", "datetime": "datetime", "z": "z"}


def subset(collection, *, variables=None, bbox=None, bbox_crs: CRS | None = None, datetime=None, z=None,
           param_names: dict | None = None) -> xr.Dataset:
    """Variables + bbox + datetime + z in one call (strings are parsed); still lazy."""
    from ..query.parse import parse_bbox, parse_datetime, parse_z

    names = {**PARAM_NAMES, **(param_names or {})}
    ds, axes = collection.ds, collection.axes
    if isinstance(variables, str):
        variables = [v.strip() for v in variables.split(",") if v.strip()]
    out = select_variables(ds, variables, collection.variables, names["variables"])
    if bbox is not None:
        out = slice_bbox(out, axes, parse_bbox(bbox, names["bbox"]), bbox_crs, names["bbox"])
    if datetime is not None:
        sel = parse_datetime(datetime, names["datetime"]) if isinstance(datetime, str) else datetime
        out = slice_time(out, axes, sel, names["datetime"])
    if z is not None:
        sel = parse_z(str(z), names["z"]) if not isinstance(z, ValueSelection) else z
        out = slice_z(out, axes, sel, names["z"])
    return out


# ---------------------------------------------------------------- curvilinear grids (2-D lat/lon)
# A lon/lat bbox on a curvilinear grid selects by the cells' true positions (select/curvilinear.py).
from .grid_dispatch import dispatch as _by_grid  # noqa: E402 - after the definitions it wraps

bbox_indices = _by_grid(bbox_indices)
slice_bbox = _by_grid(slice_bbox)
