"""CoverageJSON for point-type answers: Point, PointSeries, VerticalProfile, Trajectory, MultiPoint(Series).

Built from the same pieces as grids (`encode.covjson`): parameters, NdArrays straight
from numpy, RFC 3339 times. The x/y given are the cells actually used (nearest cell
centres), in the output CRS, so the domain says which cell answered the query.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from pyproj import CRS

from ..axes import AxisModel, iso_times
from .covjson import (axis_values, collection_or_single, data_type, hoist, horizontal_system, masked_values, parameters,
                      referencing, split_extra_dims, values_fragment)


def _xy_system(crs: CRS) -> dict:
    return {"coordinates": ["x", "y"], "system": horizontal_system(crs)}


def _refs(axes: AxisModel, crs: CRS | None, with_z: bool, with_t: bool) -> list[dict]:
    refs = referencing(axes, with_z, with_t)
    refs[0] = _xy_system(crs or axes.crs)
    return refs


def _range(var: xr.DataArray, dims: list[str], names: list[str]) -> dict:
    in_order = not dims or tuple(var.dims) == tuple(dims)  # xarray's transpose costs ~0.2 ms even when a no-op
    values = masked_values(var if in_order else var.transpose(*dims))
    return {"type": "NdArray", "dataType": data_type(values), "axisNames": names,
            "shape": list(values.shape), "values": values_fragment(values)}


def _scalar_or_dim(ds: xr.Dataset, name: str | None) -> tuple[str, int]:
    """('dim', n) when `name` is a dimension, ('scalar', 1) for a 0-d coordinate, ('none', 0) otherwise."""
    if name and name in ds.dims:
        return "dim", ds.sizes[name]
    if name and name in ds.coords and ds[name].ndim == 0:
        return "scalar", 1
    return "none", 0


def _split_levels(ds: xr.Dataset, z: str | None) -> list[xr.Dataset]:
    if z and z in ds.dims and ds.sizes[z] > 1:
        return [ds.isel({z: i}) for i in range(ds.sizes[z])]
    return [ds]


def point_coverage(ds: xr.Dataset, axes: AxisModel, x: float, y: float, crs: CRS | None) -> list[dict]:
    """Coverages at one cell: PointSeries (time), VerticalProfile (levels) or Point; time x levels
    becomes one PointSeries per level."""
    covs = []
    for label, part in split_extra_dims(ds, axes):
        t_kind, nt = _scalar_or_dim(part, axes.t)
        levels = _split_levels(part, axes.z) if nt > 1 else [part]
        for lev in levels:
            covs.append(_one_point(lev, axes, x, y, crs, label))
    return covs


def _one_point(ds: xr.Dataset, axes: AxisModel, x: float, y: float, crs: CRS | None, label: str | None) -> dict:
    t_kind, nt = _scalar_or_dim(ds, axes.t)
    z_kind, nz = _scalar_or_dim(ds, axes.z)
    dom = {"x": {"values": [float(x)]}, "y": {"values": [float(y)]}}
    dims, names = [], []
    if z_kind != "none":
        dom["z"] = axis_values(np.atleast_1d(ds[axes.z].values))
        if z_kind == "dim":
            dims.append(axes.z)
            names.append("z")
    if t_kind != "none":
        dom["t"] = axis_values(np.atleast_1d(ds[axes.t].values))
        if t_kind == "dim":
            dims.insert(0, axes.t)
            names.insert(0, "t")
    if nt > 1:
        kind = "PointSeries"
    elif nz > 1:
        kind = "VerticalProfile"
    else:
        kind = "Point"
    cov = {
        "type": "Coverage",
        "domain": {"type": "Domain", "domainType": kind, "axes": dom,
                   "referencing": _refs(axes, crs, "z" in dom, "t" in dom)},
        "parameters": parameters(ds),
        "ranges": {str(n): _range(v, dims, names) for n, v in ds.data_vars.items()},
    }
    if label:
        cov["id"] = label
    return cov


def points_coverage(ds: xr.Dataset, axes: AxisModel, xs, ys, crs: CRS | None, single: bool) -> dict:
    """Position answers: one coverage for a POINT, a CoverageCollection (one per point) for MULTIPOINT."""
    covs = []
    if single:
        covs = point_coverage(ds, axes, xs[0], ys[0], crs)
    else:
        for i in range(ds.sizes["points"]):
            covs.extend(point_coverage(ds.isel(points=i), axes, xs[i], ys[i], crs))
    return _collection(covs, force=not single)


def _collection(covs: list[dict], force: bool = False) -> dict:
    if len(covs) == 1 and not force:
        return covs[0]
    out = collection_or_single(covs) if len(covs) > 1 else {
        "type": "CoverageCollection", "parameters": dict(covs[0].get("parameters", {})), "coverages": covs}
    kinds = {c["domain"].get("domainType") for c in covs}
    if len(kinds) == 1:
        out["domainType"] = kinds.pop()
    return hoist(out)


# ---------------------------------------------------------------- paths

def path_coverage(ds: xr.Dataset, axes: AxisModel, xs, ys, crs: CRS | None) -> dict:
    """Trajectory (a time per cell), MultiPointSeries (several common times) or MultiPoint (no time)."""
    covs = []
    for label, part in split_extra_dims(ds, axes):
        for lev in _split_levels(part, axes.z):
            cov = _one_path(lev, axes, np.asarray(xs), np.asarray(ys), crs)
            if label:
                cov["id"] = label
            covs.append(cov)
    return _collection(covs)


def _per_point(ds: xr.Dataset, name: str | None) -> bool:
    return bool(name) and name in ds.coords and ds[name].dims == ("points",)


def _squeeze(ds: xr.Dataset, *names: str | None) -> xr.Dataset:
    """Single-valued t/z dimensions become scalar coordinates (composite domains carry them per point)."""
    for name in names:
        if name and name in ds.dims and ds.sizes[name] == 1:
            ds = ds.isel({name: 0})
    return ds


def _one_path(ds: xr.Dataset, axes: AxisModel, xs: np.ndarray, ys: np.ndarray, crs: CRS | None) -> dict:
    ds = _squeeze(ds, axes.t, axes.z)
    n = ds.sizes["points"]
    t_kind, nt = _scalar_or_dim(ds, axes.t)
    t_point = _per_point(ds, axes.t)
    z_point = _per_point(ds, axes.z)
    z_kind, _ = _scalar_or_dim(ds, axes.z)
    zvals = None
    if z_point:
        zvals = ds[axes.z].values
    dom = {}
    if t_point or t_kind == "scalar":
        times = iso_times(ds[axes.t].values) if t_point else iso_times(np.atleast_1d(ds[axes.t].values)) * n
        kind, coords = "Trajectory", ["t", "x", "y"]
        cols = [times, xs.tolist(), ys.tolist()]
        if z_kind == "scalar":
            dom["z"] = axis_values(np.atleast_1d(ds[axes.z].values))
        dims, names = ["points"], ["composite"]
    else:
        kind = "MultiPointSeries" if t_kind == "dim" else "MultiPoint"
        coords, cols = ["x", "y"], [xs.tolist(), ys.tolist()]
        if z_kind == "scalar" and not z_point:
            zvals = np.repeat(np.asarray(ds[axes.z].values), n)
        if t_kind == "dim":
            dom["t"] = axis_values(ds[axes.t].values)
            dims, names = [axes.t, "points"], ["t", "composite"]
        else:
            dims, names = ["points"], ["composite"]
    if zvals is not None:
        coords = coords + ["z"]
        cols.append(np.asarray(zvals, dtype="float64").tolist())
    dom["composite"] = {"dataType": "tuple", "coordinates": coords, "values": [list(v) for v in zip(*cols)]}
    with_t = "t" in coords or "t" in dom
    with_z = "z" in coords or "z" in dom
    return {
        "type": "Coverage",
        "domain": {"type": "Domain", "domainType": kind, "axes": dom, "referencing": _refs(axes, crs, with_z, with_t)},
        "parameters": parameters(ds),
        "ranges": {str(k): _range(v, [d for d in dims if d in v.dims], names) for k, v in ds.data_vars.items()},
    }
