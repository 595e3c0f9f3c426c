"""`zonal-statistics`: mean, min, max and count of a variable inside polygons, per time step.

A cell belongs to a polygon when its centre falls inside (shapely's vectorised
`contains_xy`). The work is one dask task per chunk of the data: each task tests
only the polygons whose bounds meet its chunk and returns partial sums, counts,
minima and maxima, which one task per time chunk combines. Memory stays at a chunk
per task no matter how large the collection or how many features.
"""

from __future__ import annotations

import csv
import io
import itertools

import numpy as np
import shapely
import shapely.affinity
from shapely.geometry import shape
from dask import delayed

from ...axes import CRS84, iso_times
from ...errors import BadRequest, NotFound
from ...select.ranges import check_coords
from ..base import Process
from ..inputs import COLLECTION, DATETIME, VARIABLE, Z, gridded, select, variable_list
from ..results import Output, jsonable
from .buffer import transform_xy

MAX_ROWS = 2_000_000
STATS = ("count", "mean", "min", "max")


def _block_stats(block, ys, xs, candidates, geoms):
    """Partial [sum, count, min, max] per candidate feature and leading step of one chunk."""
    block = np.asarray(block, dtype="float64")
    flat = block.reshape(-1, block.shape[-2] * block.shape[-1])
    gx, gy = np.meshgrid(xs, ys) if np.ndim(xs) == 1 else (xs, ys)  # 2-D: a curvilinear block's own lon/lat
    gx, gy = gx.ravel(), gy.ravel()
    out = np.zeros((len(candidates), flat.shape[0], 4))
    out[..., 2], out[..., 3] = np.inf, -np.inf
    for k, i in enumerate(candidates):
        inside = shapely.contains_xy(geoms[i], gx, gy)
        if not inside.any():
            continue
        vals = flat[:, inside]
        valid = ~np.isnan(vals)
        out[k, :, 0] = np.where(valid, vals, 0.0).sum(axis=1)
        out[k, :, 1] = valid.sum(axis=1)
        out[k, :, 2] = np.where(valid, vals, np.inf).min(axis=1)
        out[k, :, 3] = np.where(valid, vals, -np.inf).max(axis=1)
    return np.asarray(candidates, dtype="int64"), out


def _combine(parts, nfeat, nsteps):
    acc = np.zeros((nfeat, nsteps, 4))
    acc[..., 2], acc[..., 3] = np.inf, -np.inf
    for idx, arr in parts:
        if len(idx):
            acc[idx, :, 0] += arr[..., 0]
            acc[idx, :, 1] += arr[..., 1]
            acc[idx, :, 2] = np.minimum(acc[idx, :, 2], arr[..., 2])
            acc[idx, :, 3] = np.maximum(acc[idx, :, 3], arr[..., 3])
    return acc


def features_input(ctx, value, name: str = "features") -> tuple[list, list]:
    """(ids, polygons in CRS84) from a GeoJSON FeatureCollection or a Features collection id."""
    if isinstance(value, str):
        try:
            store = ctx.registry.get(value).features
        except NotFound:
            store = None
        if store is None:
            raise BadRequest(f"{name}: no features collection {value!r}", parameter=name)
        ids, geoms = list(store.ids), list(store.geometries)
    else:
        if value.get("type") != "FeatureCollection" or not isinstance(value.get("features"), list):
            raise BadRequest(f"{name}: expected a GeoJSON FeatureCollection or a features collection id", parameter=name)
        ids, geoms = [], []
        for i, f in enumerate(value["features"]):
            if not isinstance(f, dict) or f.get("type") != "Feature" or not isinstance(f.get("geometry"), dict):
                raise BadRequest(f"{name}: features[{i}] is not a GeoJSON Feature with a geometry", parameter=name)
            try:
                geoms.append(shape(f["geometry"]))
            except Exception as e:  # noqa: BLE001 - shapely raises several kinds for bad coordinates
                raise BadRequest(f"{name}: features[{i}] has an invalid geometry ({e})", parameter=name) from None
            if geoms[-1] is not None and not geoms[-1].is_empty:  # GeoJSON is lon/lat: in range or a 400
                xy = shapely.get_coordinates(geoms[-1])
                check_coords(xy[:, 0], xy[:, 1], None, name)
            ids.append(f.get("id", i))
    keep = [(fid, g) for fid, g in zip(ids, geoms) if g is not None and g.geom_type in ("Polygon", "MultiPolygon")]
    if not keep:
        raise BadRequest(f"{name}: no Polygon or MultiPolygon features", parameter=name)
    if len(keep) < len(ids) and not isinstance(value, str):
        raise BadRequest(f"{name}: every feature must be a Polygon or MultiPolygon", parameter=name)
    return [k[0] for k in keep], [k[1] if k[1].is_valid else shapely.make_valid(k[1]) for k in keep]


def to_native(axes, geoms: list) -> list:
    """Lon/lat polygons in the grid's native CRS; on rotated-pole grids moved into the grid's frame."""
    if axes.crs.equals(CRS84):
        return geoms
    tr = axes.to_native
    out = [shapely.transform(_densified(g, axes), lambda xy: transform_xy(tr, xy)) for g in geoms]
    if axes.angular_x and not axes.lonlat:  # rotated angles from pyproj are -180..180; the grid may be 311..391
        shifts = [float(axes.to_grid_frame(g.centroid.x) - g.centroid.x) if not g.is_empty else 0.0 for g in out]
        out = [shapely.affinity.translate(g, xoff=dx) if dx else g for g, dx in zip(out, shifts)]
    return out


def _densified(geom, axes):
    """`geom` with vertices every quarter cell (at most 0.25°): a lon/lat edge is a curve in a rotated or
    projected CRS, so transforming the corners alone would cut off the cells along the edges."""
    res = max(axes.resolution(axes.x), axes.resolution(axes.y))
    deg = res if axes.angular_x else res / 111_000.0
    step = max(min(deg / 4, 0.25), float(shapely.length(geom)) / 20_000, 1e-6)
    return shapely.segmentize(geom, step)


def plan(da, axes, geoms: list):
    """Delayed combined partials per chunk of the leading (non-spatial) dims, and their offsets."""
    import dask.array as dsa

    data = da.data if isinstance(da.data, dsa.Array) else dsa.from_array(da.data, chunks=da.shape)
    xs = np.asarray(da[axes.x].values, dtype="float64")
    if axes.lon_360:
        xs = np.where(xs > 180.0, xs - 360.0, xs)  # GeoJSON longitudes are -180..180
    ys = np.asarray(da[axes.y].values, dtype="float64")
    if axes.curvilinear is not None:  # 2-D lat/lon: each cell's own position (NaN where it has none)
        g = axes.curvilinear
        xs, ys, _ = g.normalised(da[g.lon_name].transpose(axes.y, axes.x).values,
                                 da[g.lat_name].transpose(axes.y, axes.x).values)
    bounds = shapely.bounds(np.array(geoms, dtype=object))
    geoms_d = delayed(geoms, traverse=False, pure=True)
    blocks = data.to_delayed()
    *lead_chunks, ychunks, xchunks = data.chunks
    yoff, xoff = np.cumsum((0,) + ychunks), np.cumsum((0,) + xchunks)
    spatial = []
    for iy, ix in itertools.product(range(len(ychunks)), range(len(xchunks))):
        if xs.ndim == 2:
            by, bx = (a[yoff[iy]:yoff[iy + 1], xoff[ix]:xoff[ix + 1]] for a in (ys, xs))
            if not np.isfinite(bx).any():
                continue
        else:
            by, bx = ys[yoff[iy]:yoff[iy + 1]], xs[xoff[ix]:xoff[ix + 1]]
        hit = ((bounds[:, 0] <= np.nanmax(bx)) & (bounds[:, 2] >= np.nanmin(bx)) &
               (bounds[:, 1] <= np.nanmax(by)) & (bounds[:, 3] >= np.nanmin(by)))
        if hit.any():
            spatial.append((iy, ix, by, bx, np.flatnonzero(hit).tolist()))
    combined = {}
    for lead in itertools.product(*(range(len(c)) for c in lead_chunks)):
        nsteps = int(np.prod([c[i] for c, i in zip(lead_chunks, lead)]))
        parts = [delayed(_block_stats, pure=True)(blocks[lead + (iy, ix)], by, bx, cand, geoms_d)
                 for iy, ix, by, bx, cand in spatial]
        combined[lead] = delayed(_combine, pure=True)(parts, len(geoms), nsteps)
    return combined, lead_chunks


def assemble(parts: dict, lead_chunks, nfeat: int) -> np.ndarray:
    shape = tuple(sum(c) for c in lead_chunks)
    full = np.zeros((nfeat, *shape, 4))
    offsets = [np.cumsum((0,) + tuple(c)) for c in lead_chunks]
    for lead, arr in parts.items():
        sl = tuple(slice(o[i], o[i + 1]) for o, i in zip(offsets, lead))
        sizes = tuple(s.stop - s.start for s in sl)
        full[(slice(None), *sl)] = arr.reshape(nfeat, *sizes, 4)
    return full.reshape(nfeat, -1, 4)


class ZonalStatistics(Process):
    id = "zonal-statistics"
    title = "Zonal statistics"
    description = ("Mean, minimum, maximum and count of valid cells of a variable inside each polygon (cells whose "
                   "centres fall inside), per time step (and level). Polygons: a GeoJSON FeatureCollection (CRS84) or "
                   "the id of a features collection. Output as JSON or CSV.")
    keywords = ["zonal statistics", "polygons", "aggregation"]
    uses_dask = True
    inputs = {
        "features": {"title": "Polygons", "required": True,
                     "description": "GeoJSON FeatureCollection of Polygon/MultiPolygon features, or a features collection id",
                     "schema": {"oneOf": [
                         {"type": "object", "required": ["type", "features"], "title": "GeoJSON FeatureCollection",
                          "contentMediaType": "application/geo+json"},
                         {"type": "string", "minLength": 1, "title": "features collection id"}]}},
        "collection": COLLECTION,
        "variable": VARIABLE,
        "datetime": DATETIME,
        "z": Z,
    }
    outputs = {"statistics": {"title": "Statistics per feature and step",
                              "description": "rows of id, time (and level), count, mean, min, max",
                              "schema": {"type": "object"}, "formats": ["application/json", "text/csv"]}}

    def check(self, values, ctx):
        ids, geoms = features_input(ctx, values["features"])
        c = gridded(ctx, values["collection"])
        (var,) = variable_list(c, values["variable"], "variable")
        da = select(c, values, [var])[var]
        lead = [d for d in da.dims if d not in (c.axes.x, c.axes.y)]
        da = da.transpose(*lead, c.axes.y, c.axes.x)
        nrows = len(ids) * int(np.prod([da.sizes[d] for d in lead]))
        if nrows > MAX_ROWS:
            raise BadRequest(f"features: {nrows:,} result rows exceed the limit of {MAX_ROWS:,}; use fewer features "
                             "or a shorter datetime", parameter="features")
        combined, lead_chunks = plan(da, c.axes, to_native(c.axes, geoms))
        steps = [_labels(da, d, c.axes) for d in lead]
        names = ["time" if d == c.axes.t else d for d in lead]
        return {"ids": ids, "combined": combined, "lead_chunks": lead_chunks, "names": names, "steps": steps,
                "meta": {"collection": c.id, "variable": var, "units": da.attrs.get("units")}}

    def execute(self, p, job):
        keys = list(p["combined"])
        computed = job.compute([p["combined"][k] for k in keys])
        full = assemble(dict(zip(keys, computed)), p["lead_chunks"], len(p["ids"]))
        names = p["names"]
        combos = list(itertools.product(*p["steps"]))
        rows = []
        for f, fid in enumerate(p["ids"]):
            for j, combo in enumerate(combos):
                s, n, lo, hi = full[f, j]
                row = {"id": jsonable(fid), **dict(zip(names, combo)), "count": int(n)}
                row.update(mean=float(s / n) if n else None, min=float(lo) if n else None, max=float(hi) if n else None)
                rows.append(row)
        fmt = job.output_format("statistics")
        if fmt == "text/csv":
            buf = io.StringIO()
            w = csv.DictWriter(buf, fieldnames=["id", *names, *STATS], lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
            return {"statistics": Output(text=buf.getvalue(), media_type="text/csv")}
        return {"statistics": Output(value={**p["meta"], "statistics": rows})}


def _labels(da, dim, axes) -> list:
    if dim == axes.t:
        return iso_times(da[dim].values)
    return [jsonable(v) for v in da[dim].values]
