"""CoverageJSON for a set of grid cells given by their own lon/lat: curvilinear grid answers.

A CoverageJSON Grid domain has 1-D x and y axes: it cannot say where the cells of a
curvilinear grid are (each has its own lon/lat, held in 2-D arrays). So area, cube,
radius and corridor answers on such grids (and Coverages subsets) list the selected cells
as a `MultiPointSeries` domain (several or one time step: axis `t`) or `MultiPoint`
(no time axis; a single time as `t`), whose `composite` axis (dataType "tuple",
coordinates x, y, as CoverageJSON 1.0 section 9.1 defines) holds each cell's true lon/lat
in CRS84. Several levels give one coverage per level (z joins the tuple), as the point
encoder does; extra dimensions give one coverage per value. Only selected cells are listed.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..axes import CRS84, AxisModel
from .covjson import axis_values, parameters, split_extra_dims
from .covjson_points import _collection, _range, _refs, _scalar_or_dim, _split_levels

POINTS = "points"


def stack_cells(ds: xr.Dataset, axes: AxisModel, mask: np.ndarray) -> tuple[xr.Dataset, np.ndarray, np.ndarray]:
    """A (y, x) window -> its selected cells along a `points` dimension; also their window (row, column)."""
    jy, jx = np.nonzero(mask)
    pts = ds.isel({axes.y: xr.DataArray(jy, dims=POINTS), axes.x: xr.DataArray(jx, dims=POINTS)})
    return pts, jy, jx


def cells_coverage(ds: xr.Dataset, axes: AxisModel, lon: np.ndarray, lat: np.ndarray) -> dict:
    """A computed Dataset on a `points` dimension (one entry per cell, lon/lat given) -> a Coverage
    (MultiPointSeries or MultiPoint) or a CoverageCollection (one per level / extra-dimension value)."""
    covs = []
    for label, part in split_extra_dims(ds, axes):
        for lev in _split_levels(part, axes.z):
            cov = _one(lev, axes, np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64"))
            if label:
                cov["id"] = label
            covs.append(cov)
    return _collection(covs)


def _one(ds: xr.Dataset, axes: AxisModel, lon: np.ndarray, lat: np.ndarray) -> dict:
    if axes.z and axes.z in ds.dims:  # a single level left by _split_levels
        ds = ds.isel({axes.z: 0})
    t_kind, _ = _scalar_or_dim(ds, axes.t)
    z_kind, _ = _scalar_or_dim(ds, axes.z)
    coords, cols = ["x", "y"], [lon, lat]
    if z_kind == "scalar":
        coords.append("z")
        cols.append(np.repeat(float(ds[axes.z].values), len(lon)))
    dom: dict = {}
    if t_kind == "dim":
        kind, dims, names = "MultiPointSeries", [axes.t, POINTS], ["t", "composite"]
        dom["t"] = axis_values(ds[axes.t].values)
    else:
        kind, dims, names = "MultiPoint", [POINTS], ["composite"]
        if t_kind == "scalar":
            dom["t"] = axis_values(np.atleast_1d(ds[axes.t].values))
    # an (n, 2|3) float64 array: orjson writes it as the list of tuples straight from numpy
    dom["composite"] = {"dataType": "tuple", "coordinates": coords, "values": np.column_stack(cols)}
    return {
        "type": "Coverage",
        "domain": {"type": "Domain", "domainType": kind, "axes": dom,
                   "referencing": _refs(axes, CRS84, "z" in coords, "t" in dom)},
        "parameters": parameters(ds),
        "ranges": {str(k): _range(v, [d for d in dims if d in v.dims], [n for d, n in zip(dims, names) if d in v.dims])
                   for k, v in ds.data_vars.items()},
    }


def window_coverage(ds: xr.Dataset, axes: AxisModel, mask: np.ndarray | None = None) -> dict:
    """A computed index window of a curvilinear grid as CoverageJSON: the cells where `mask` ((y, x) of the
    window; default all) is True and whose own 2-D lon/lat (carried by `ds`) are valid, each at its lon/lat."""
    g = axes.curvilinear
    lon = ds[g.lon_name].transpose(axes.y, axes.x).values
    lat = ds[g.lat_name].transpose(axes.y, axes.x).values
    lon, lat, valid = g.normalised(lon, lat)
    mask = valid if mask is None else (mask & valid)
    pts, jy, jx = stack_cells(ds.drop_vars([g.lon_name, g.lat_name]), axes, mask)
    return cells_coverage(pts, axes, lon[jy, jx], lat[jy, jx])
