"""Coordinates at open that real archives hold but the axis model cannot serve as stored.

- A **scalar** time or vertical coordinate (CF 1.11 section 5.7): a Met Office field valid at
  one time, a NEMO file of one month, temperature at `height = 2 m`. It says when/where every
  value is, so it becomes a length-1 axis of the gridded variables: the collection then has a
  temporal/vertical extent, `datetime`/`z` select it and every answer carries it (CoverageJSON
  `t`/`z`, NetCDF dimension). Only when the dataset has no such dimension already.
- **Missing values in a 1-D dimension coordinate** (`_FillValue` on `lat`, NaN after decoding):
  a cell at an unknown position cannot be located by any query, so those positions are left
  out of the axis, with one log line naming the collection (as missing time steps are, see
  `sources/times.py`).
"""

from __future__ import annotations

import logging

import numpy as np
import xarray as xr

from .times import is_time_like

log = logging.getLogger("cubeserver")

VERTICAL_NAMES = {"height", "depth", "altitude", "air_pressure", "model_level_number"}
NOT_TIME = {"forecast_reference_time", "forecast_period"}


def _role(var: xr.DataArray) -> str | None:
    """"t", "z" or None for a 0-d coordinate, from its CF attributes (axis, standard_name, positive)."""
    a = var.attrs
    std = str(a.get("standard_name", ""))
    if std in NOT_TIME:
        return None
    if is_time_like(np.atleast_1d(var.values)) and (std == "time" or a.get("axis") == "T" or var.name == "time"):
        return "t"
    if a.get("axis") == "Z" or "positive" in a or std in VERTICAL_NAMES:
        if np.issubdtype(var.dtype, np.number) and np.isfinite(float(var.values)):
            return "z"
    return None


def _dim_roles(ds: xr.Dataset) -> set[str]:
    """Roles ("t", "z") already played by a dimension coordinate."""
    roles = set()
    for d in ds.dims:
        if d not in ds.coords or ds[d].ndim != 1:
            continue
        c = ds[d]
        if is_time_like(np.asarray(c.values)):
            roles.add("t")
        a = c.attrs
        if a.get("axis") == "Z" or "positive" in a or a.get("standard_name") in VERTICAL_NAMES:
            roles.add("z")
    return roles


def _gridded(ds: xr.Dataset) -> list[str]:
    """Data variables on at least two dimensions that are not bounds of a coordinate."""
    bounds = {str(v.attrs.get(k)) for v in ds.variables.values() for k in ("bounds", "climatology") if k in v.attrs}
    return [str(n) for n, v in ds.data_vars.items() if v.ndim >= 2 and n not in bounds]


def promote_scalar_axes(ds: xr.Dataset, cid: str) -> xr.Dataset:
    """Scalar time/vertical coordinates -> length-1 dimensions of the gridded variables (module docstring)."""
    taken = _dim_roles(ds)
    gridded = _gridded(ds)
    if not gridded:
        return ds
    for name, var in list(ds.coords.items()):
        if var.ndim != 0 or name in ds.dims:
            continue
        role = _role(var)
        if role is None or role in taken:
            continue
        taken.add(role)
        expanded = ds[gridded].expand_dims(str(name))
        rest = ds.drop_vars([*gridded, name])
        merged = xr.merge([expanded, rest], compat="override", combine_attrs="override")
        merged.attrs = ds.attrs
        merged[name].attrs, merged[name].encoding = var.attrs, var.encoding
        log.info("collections.%s: scalar %s coordinate %r served as a length-1 axis", cid,
                 "time" if role == "t" else "vertical", str(name))
        ds = merged
    return ds


def drop_missing_positions(ds: xr.Dataset, cid: str) -> xr.Dataset:
    """Positions whose 1-D numeric dimension coordinate is missing (NaN) left out; one log line each.

    Raises ValueError when a coordinate has no valid value at all.
    """
    for dim in list(ds.dims):
        if dim not in ds.coords or ds[dim].ndim != 1 or ds[dim].dtype.kind != "f":
            continue
        values = np.asarray(ds[dim].values)
        missing = ~np.isfinite(values)
        if not missing.any():
            continue
        if missing.all():
            raise ValueError(f"coordinate {dim!r} has no valid value (all {values.size} are missing)")
        log.warning("collections.%s: coordinate %r has %d missing value(s) (position %s); those cells are left out",
                    cid, str(dim), int(missing.sum()), ", ".join(map(str, np.flatnonzero(missing)[:10])))
        ds = ds.isel({dim: np.flatnonzero(~missing)})
        ds[dim].encoding.pop("_FillValue", None)
        ds[dim].encoding.pop("missing_value", None)
    return ds
