"""EDR instances: one per forecast reference time (model run) of a collection with `reference_time:`.

An instance is the collection's Dataset at one reference time, with the lead-time
dimension turned into valid times (reference + lead), so every query type works on
it unchanged. Views are built once per instance and cached on the collection.
Collection-level queries on such a collection use the latest run.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import xarray as xr

from ..axes import build_axes, iso_times
from ..select.times import same_instant
from ..errors import NotFound
from ..registry import Collection

_LOCK = threading.Lock()
_TIME_UNITS = {"days": "D", "day": "D", "hours": "h", "hour": "h", "minutes": "min", "minute": "min",
               "seconds": "s", "second": "s"}


def has_instances(c: Collection) -> bool:
    return c.ds is not None and bool(c.config.reference_time) and c.config.reference_time in c.ds.dims


def instance_ids(c: Collection) -> list[str]:
    return iso_times(c.ds[c.config.reference_time].values)


def _position(c: Collection, iid: str) -> int:
    ids = instance_ids(c)
    if iid in ids:
        return ids.index(iid)
    hit = same_instant(c.ds[c.config.reference_time].values, iid)
    if hit is not None:  # another spelling of the same instant (2024-01-01T00:00Z, 20240101T00)
        return hit
    shown = ", ".join(ids[:20]) + (" ..." if len(ids) > 20 else "")
    raise NotFound(f"no instance {iid!r} in collection {c.id!r}; instances are {shown}", parameter="instanceId")


def _lead_dim(ds: xr.Dataset, ref: str) -> str | None:
    """The lead-time dimension: timedelta values, or numbers with time units (hours, days...)."""
    for d in ds.dims:
        if d == ref or d not in ds.coords:
            continue
        v = ds[d]
        if v.dtype.kind == "m":
            return str(d)
        if v.dtype.kind in "iuf" and str(v.attrs.get("units", "")).lower() in _TIME_UNITS:
            return str(d)
    return None


def _with_valid_time(ds: xr.Dataset, lead: str, ref_value) -> xr.Dataset:
    v = ds[lead]
    delta = v.values if v.dtype.kind == "m" else pd.to_timedelta(v.values, unit=_TIME_UNITS[v.attrs["units"].lower()])
    name = "time" if "time" not in ds.variables else "valid_time"
    valid = np.asarray(ref_value, dtype="datetime64[ns]") + np.asarray(delta, dtype="timedelta64[ns]")
    out = ds.assign_coords({name: (lead, valid, {"standard_name": "time", "axis": "T", "long_name": "valid time"})})
    return out.swap_dims({lead: name})


def view(c: Collection, iid: str) -> Collection:
    """The Collection-like view of one instance (cached)."""
    k = _position(c, iid)
    cache = c.extra.setdefault("edr_instances", {})
    if k in cache:
        return cache[k]
    with _LOCK:
        if k in cache:
            return cache[k]
        ref = c.config.reference_time
        ds = c.ds.isel({ref: k})
        ref_value = ds[ref].values
        lead = _lead_dim(ds, ref)
        if lead is not None:
            ds = _with_valid_time(ds, lead, ref_value)
        overrides = {a: d for a, d in c.config.axes.model_dump().items() if d and d in ds.dims}
        axes = build_axes(ds, overrides, c.config.crs)
        inst = Collection(id=c.id, config=c.config, ds=ds, axes=axes, extra={"instance": instance_ids(c)[k]})
        cache[k] = inst
        return inst


def latest(c: Collection) -> Collection:
    return view(c, instance_ids(c)[int(np.argmax(c.ds[c.config.reference_time].values))])
