"""WMS layers: one per gridded collection and variable, named `{collectionId}/{variable}`, and their dimensions.

Dimensions (OGC 06-042 Annex C): `time` (ISO 8601 values of the time axis; default the latest step),
`elevation` (the vertical axis values in its units; default the first level) and one sample dimension
per extra axis (requested as `DIM_<NAME>`, default its first value). `dimension_values` turns a
request's TIME / ELEVATION / DIM_ values into what the renderer takes (`datetime`, `subset`) and
checks each against the axis, so a bad value is an InvalidDimensionValue naming the dimension.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..axes import iso_times
from ..errors import APIError
from ..registry import Collection, Registry
from .errors import WMSError


@dataclass
class Layer:
    collection: Collection
    variable: str

    @property
    def name(self) -> str:
        return f"{self.collection.id}/{self.variable}"


def layers(registry: Registry) -> list[Layer]:
    out = []
    for c in registry:
        if c.ds is None:
            continue
        out += [Layer(c, v) for v in c.variables]
    return out


def resolve(registry: Registry, name: str, param: str = "LAYERS") -> Layer:
    """`collection/variable` -> Layer; LayerNotDefined otherwise (a collection with one variable may be named alone)."""
    cid, _, var = name.strip().partition("/")
    try:
        c = registry.gridded(cid)
    except APIError:
        raise WMSError(f"layer {name!r} is not defined; layers are named collection/variable (see GetCapabilities)",
                       "LayerNotDefined", param) from None
    if not var and len(c.variables) == 1:
        var = c.variables[0]
    if var not in c.variables:
        raise WMSError(f"layer {name!r} is not defined; {cid} has {', '.join(c.id + '/' + v for v in c.variables)}",
                       "LayerNotDefined", param)
    return Layer(c, var)


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _number_text(v) -> str:
    v = _plain(v)
    return f"{v:g}" if isinstance(v, float) else str(v)


def time_values(c: Collection) -> list[str]:
    ax = c.axes
    return [t for t in iso_times(ax.t_values) if t] if ax.t is not None and ax.t_values is not None else []


def extra_dims(c: Collection) -> dict[str, list[str]]:
    """{dimension name: its values as text} of the axes other than X, Y, T, Z."""
    out = {}
    for d in c.axes.others:
        if d in c.ds.coords:
            out[d] = [_number_text(v) for v in np.atleast_1d(c.ds[d].values)]
        else:
            out[d] = [str(i) for i in range(c.ds.sizes[d])]
    return out


def dimensions(layer: Layer) -> list[dict]:
    """Capabilities' Dimension elements of a layer: name, units, unitSymbol, default, values (text)."""
    c = layer.collection
    ax = c.axes
    var_dims = set(c.ds[layer.variable].dims)
    out = []
    times = time_values(c)
    if ax.t is not None and ax.t in var_dims and times:
        out.append({"name": "time", "units": "ISO8601", "default": times[-1], "values": ",".join(times),
                    "nearestValue": "1"})
    if ax.z is not None and ax.z in var_dims and ax.z_values is not None:
        vals = [_number_text(v) for v in ax.z_values]
        out.append({"name": "elevation", "units": ax.z_units or "unknown", "unitSymbol": ax.z_units or "",
                    "default": vals[0], "values": ",".join(vals)})
    for d, vals in extra_dims(c).items():
        if d in var_dims:
            units = c.ds[d].attrs.get("units", "") if d in c.ds.coords else ""
            out.append({"name": d.lower(), "units": units or "unknown", "default": vals[0], "values": ",".join(vals)})
    return out


def _match_number(text: str, values, name: str):
    try:
        want = float(text)
    except ValueError:
        raise WMSError(f"{name}={text!r} is not a number; values: {', '.join(map(_number_text, values[:50]))}",
                       "InvalidDimensionValue", name) from None
    arr = np.asarray(values, dtype="float64")
    i = int(np.argmin(np.abs(arr - want)))
    if not np.isclose(arr[i], want, rtol=1e-6, atol=1e-9):
        raise WMSError(f"{name}={text} is not a value of this layer; values: "
                       f"{', '.join(map(_number_text, values[:50]))}", "InvalidDimensionValue", name)
    return _plain(np.asarray(values)[i])


def nearest_step(c: Collection, text: str) -> str:
    """The layer's time step nearest to `text` (within half a step of the extent: TIME nearestValue="1")."""
    from ..query.parse import parse_datetime
    from ..select.times import time_indices

    try:
        idx = time_indices(c.axes, parse_datetime(text, "time"), "time")
    except APIError as e:
        raise WMSError(e.detail.replace("time: ", "TIME: ", 1), "InvalidDimensionValue", "TIME") from None
    return iso_times(np.asarray(c.axes.t_values)[idx[:1]])[0]


def dimension_values(layer: Layer, time: str | None, elevation: str | None, dims: dict[str, str],
                     allow_time_range: bool = False) -> tuple[str | None, dict]:
    """(datetime, subset) for the renderer from TIME, ELEVATION and DIM_ values (None: the default).

    TIME `current` is the latest step; a range `start/end[/period]` is allowed only where
    `allow_time_range` (GetFeatureInfo time series). Values of an axis the layer lacks are ignored,
    as WMS 1.3.0 C.4.1 asks of dimensions a layer does not declare."""
    c = layer.collection
    ax = c.axes
    var_dims = set(c.ds[layer.variable].dims)
    datetime = None
    if time is not None and time.strip() and ax.t is not None and ax.t in var_dims:
        t = time.strip()
        if t.lower() in ("current", "present"):
            datetime = None
        elif "/" in t:
            if not allow_time_range:
                raise WMSError(f"TIME={t!r}: GetMap shows one time step; give one of the layer's times",
                               "InvalidDimensionValue", "TIME")
            datetime = "/".join(t.split("/")[:2])
        elif "," in t:
            raise WMSError(f"TIME={t!r}: give one time step, not a list", "InvalidDimensionValue", "TIME")
        else:
            datetime = nearest_step(c, t)
    subset: dict = {}
    if elevation is not None and ax.z is not None and ax.z in var_dims:
        if not elevation.strip():
            raise WMSError("ELEVATION is empty; give one of the layer's elevations", "MissingDimensionValue",
                           "ELEVATION")
        subset[ax.z] = _match_number(elevation.strip(), list(ax.z_values), "ELEVATION")
    extras = {d.upper(): d for d in extra_dims(c) if d in var_dims}
    for name, value in dims.items():
        d = extras.get(name.upper())
        if d is None:
            continue
        if not value.strip():
            raise WMSError(f"DIM_{name} is empty", "MissingDimensionValue", f"DIM_{name}")
        vals = extra_dims(c)[d]
        coord = c.ds[d].values if d in c.ds.coords else np.arange(len(vals))
        if np.asarray(coord).dtype.kind in "fiu":
            subset[d] = _match_number(value.strip(), list(coord), f"DIM_{name}")
        elif value.strip() in vals:
            subset[d] = value.strip()
        else:
            raise WMSError(f"DIM_{name}={value!r} is not a value of this layer; values: {', '.join(vals[:50])}",
                           "InvalidDimensionValue", f"DIM_{name}")
    return datetime, subset
