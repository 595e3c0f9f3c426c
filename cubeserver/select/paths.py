"""Paths on a grid: a (Multi)LineString split into its parts and sampled every half cell.

Shared by regular/projected grids (select/geometry.py, in native cells) and curvilinear
grids (select/curvilinear.py, in degrees of the median cell spacing), so trajectories and
corridors sample paths the same way everywhere.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS, Transformer

from ..errors import BadRequest, TooLarge

MAX_SAMPLES = 1_000_000


def _parts(xs, ys, geom) -> list[np.ndarray]:
    """Split flat vertex arrays back into the parts of a (Multi)LineString."""
    lines = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
    out, start = [], 0
    for ln in lines:
        n = len(ln.coords)
        out.append(np.column_stack([xs[start:start + n], ys[start:start + n]]))
        start += n
    return out


def densify(geom, gx: np.ndarray, gy: np.ndarray, series: dict, param: str) -> tuple:
    """Samples every half cell along each part of a (Multi)LineString, the `series` interpolated per sample.

    `gx`/`gy`: the vertices in grid cells (coordinates divided by the cell spacing), which set
    how many samples each segment gets; `series`: {"x", "y", "m", "z"} per-vertex values (None
    when absent) interpolated linearly. Returns (x, y, m, z) per sample (None stays None).
    Raises TooLarge beyond MAX_SAMPLES (checked as floats, before any cast can overflow).
    """
    out = {k: [] for k in series}
    start = 0
    for part in _parts(gx, gy, geom):
        n = len(part)
        sl = slice(start, start + n)
        seg = np.maximum(np.abs(np.diff(gx[sl])), np.abs(np.diff(gy[sl])))
        steps = np.maximum(1.0, np.ceil(2 * seg))
        if steps.sum() > MAX_SAMPLES:
            raise TooLarge(f"{param}: the path crosses more than {MAX_SAMPLES:,} grid cells; shorten it")
        steps = steps.astype(int)
        frac = np.concatenate([np.arange(s) / s for s in steps] + [np.array([1.0])])
        seg_i = np.concatenate([np.full(s, i) for i, s in enumerate(steps)] + [np.array([n - 2])])
        for key, vals in series.items():
            if vals is None:
                continue
            v = np.asarray(vals, dtype="float64")[sl]
            out[key].append(v[seg_i] + frac * (v[seg_i + 1] - v[seg_i]))
        start += n
    cat = {k: (np.concatenate(v) if v else None) for k, v in out.items()}
    return cat["x"], cat["y"], cat["m"], cat["z"]


def corridor_zone(lon: np.ndarray, lat: np.ndarray, line, width_m: float, step: float, param: str):
    """The corridor around a lon/lat path as a polygon in metres, in a local azimuthal equidistant
    projection centred on the path (distances true from its centre, close to true along it).

    `lon`/`lat`: the path's vertices (CRS84), `line` its (Multi)LineString (for the parts), `step`
    the segmentation in degrees (half a cell). Returns (zone, aeqd CRS, CRS84 -> local transformer,
    centre lon, centre lat). Raises TooLarge for a path longer than MAX_SAMPLES steps, BadRequest for a
    line of zero length.
    """
    if float(shapely.length(shapely.LineString(np.column_stack([lon, lat])))) / step > MAX_SAMPLES:
        raise TooLarge(f"{param}: the path crosses more than {MAX_SAMPLES:,} grid cells; shorten it")
    lon_c, lat_c = float(np.mean(lon)), float(np.mean(lat))
    aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={lat_c} +lon_0={lon_c} +datum=WGS84 +units=m")
    to_local = Transformer.from_crs("OGC:CRS84", aeqd, always_xy=True)
    lines = [shapely.LineString(p) for p in _parts(lon, lat, line)]
    if any(shapely.length(g) == 0 for g in lines):  # GEOS cannot segmentize a line of one repeated position
        raise BadRequest(f"{param}: a corridor path needs at least two distinct positions in each line; for the "
                         "cells around one point use radius", parameter=param)
    parts = [shapely.segmentize(g, step) for g in lines]
    local = shapely.transform(shapely.MultiLineString(parts),
                              lambda c: np.column_stack(to_local.transform(c[:, 0], c[:, 1])))
    return shapely.buffer(local, width_m / 2.0, quad_segs=16), aeqd, to_local, lon_c, lat_c
