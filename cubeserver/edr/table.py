"""Flatten a computed answer into columns (one row per cell × time × level) for GeoJSON and CSV.

Grid answers keep only the selected cells (inside the polygon, circle or corridor);
point answers keep every point in query order. Columns are numpy arrays: x, y in the
output CRS, `datetime` as RFC 3339 strings, `z`, extra dimensions, then one per parameter
with nodata as NaN (written as null / an empty field).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..axes import is_lonlat, iso_times
from ..encode.covjson import masked_values
from ..registry import Collection
from ..select.geometry import cell_xy
from .queries import GRID, Answer


def _stack_cells(ds: xr.Dataset, c: Collection, answer: Answer) -> tuple[xr.Dataset, np.ndarray, np.ndarray]:
    """A masked grid window as a `points` dimension of its selected cells, with their output x/y."""
    ax, cells = c.axes, answer.cells
    jy, jx = np.nonzero(cells.mask)
    pts = ds.isel({ax.y: xr.DataArray(jy, dims="points"), ax.x: xr.DataArray(jx, dims="points")})
    iy, ix = cells.iy[jy], cells.ix[jx]
    qx = cells.relabel[jx] if cells.relabel is not None else None
    xs, ys = cell_xy(ax, iy, ix, answer.query.out_crs, qx)
    return pts, xs, ys


def columns(ds: xr.Dataset, c: Collection, answer: Answer) -> tuple[dict[str, np.ndarray], bool]:
    """(columns, geographic) for a computed answer; `geographic` tells whether x/y are lon/lat."""
    ax = c.axes
    if answer.kind == GRID:
        ds, xs, ys = _stack_cells(ds, c, answer)
    else:
        xs, ys = answer.xs, answer.ys
        if answer.single:
            ds = ds.expand_dims("points")
    dims = ["points"] + [d for d in (ax.t, ax.z, *ax.others) if d and d in ds.dims]
    shape = [ds.sizes[d] for d in dims]
    idx = {d: i.ravel() for d, i in zip(dims, np.indices(shape))}
    n = int(np.prod(shape))
    out: dict[str, np.ndarray] = {"x": np.asarray(xs)[idx["points"]], "y": np.asarray(ys)[idx["points"]]}
    for name, key in ((ax.t, "datetime"), (ax.z, "z"), *((d, d) for d in ax.others)):
        if not name or name not in ds.coords:
            continue
        coord = ds[name]
        if coord.dims == ("points",):
            values = coord.values[idx["points"]]
        elif name in ds.dims:
            values = coord.values[idx[name]]
        elif coord.ndim == 0:
            values = np.repeat(coord.values.reshape(1), n)
        else:
            continue
        out[key] = np.asarray(iso_times(values)) if key == "datetime" else values
    for name, var in ds.data_vars.items():
        present = [d for d in dims if d in var.dims]
        vals = masked_values(var.transpose(*present))
        if present != dims:  # a variable without some dimension repeats along it
            vals = np.broadcast_to(vals[tuple(slice(None) if d in present else None for d in dims)], shape)
        out[str(name)] = np.asarray(vals).reshape(-1)
    return out, is_lonlat(answer.query.out_crs or ax.crs)
