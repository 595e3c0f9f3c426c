"""Input specs and checks shared by the gridded processes.

Collections and variables are looked up in the registry (never paths), and the
optional bbox/datetime/z go through the shared selection engine with the input's
own name in any error, so a bad input is reported like a bad query parameter.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import APIError, BadRequest, NotFound

COLLECTION = {
    "title": "Collection", "required": True,
    "description": "id of a gridded collection of this server (see /collections)",
    "schema": {"type": "string", "minLength": 1},
}
VARIABLE = {
    "title": "Variable", "required": True,
    "description": "name of a variable of the collection",
    "schema": {"type": "string", "minLength": 1},
}
VARIABLES = {
    "title": "Variables",
    "description": "one variable name or a list of them; all variables when omitted",
    "schema": {"oneOf": [{"type": "string", "minLength": 1, "title": "name"},
                         {"type": "array", "items": {"type": "string"}, "minItems": 1, "title": "list of names"}]},
}
BBOX = {
    "title": "Bounding box",
    "description": "minx, miny, maxx, maxy in CRS84 (or in `crs` with the OGC bbox object form)",
    "schema": {"oneOf": [
        {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4, "title": "array of 4 numbers"},
        {"type": "object", "required": ["bbox"], "title": "OGC bbox object",
         "properties": {"bbox": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 6},
                        "crs": {"type": "string"}}},
    ]},
}
DATETIME = {
    "title": "Date-time",
    "description": "instant or interval (RFC 3339, `start/end`, `..` for open ends) in the collection's calendar "
                   "(2022-02-30 exists on 360_day; an interval end the calendar lacks is clamped to it)",
    "schema": {"type": "string", "minLength": 1},
}
Z = {
    "title": "Vertical level(s)", "description": "level value, list `a,b` or range `lo/hi` on the vertical axis",
    "schema": {"oneOf": [{"type": "number", "title": "number"}, {"type": "string", "minLength": 1, "title": "string"}]},
}
SELECTION = {"bbox": BBOX, "datetime": DATETIME, "z": Z}


def gridded(ctx, cid: str, name: str = "collection"):
    """The collection, or a 400 naming the input (a process input is not a URL path)."""
    try:
        return ctx.registry.gridded(cid)
    except NotFound:
        ids = [c.id for c in ctx.registry if c.ds is not None and not c.temporary]
        raise BadRequest(f"{name}: no gridded collection {cid!r}; available: {', '.join(ids)}", parameter=name) from None


def variable_list(collection, value, name: str) -> list[str]:
    names = [value] if isinstance(value, str) else list(value or collection.variables)
    unknown = [v for v in names if v not in collection.variables]
    if unknown:
        raise BadRequest(f"{name}: unknown variable {unknown[0]!r} in {collection.id}; variables are "
                         f"{', '.join(collection.variables)}", parameter=name)
    return names


def select(collection, values: dict, variables: list[str], var_input: str = "variable",
           datetime=None, datetime_input: str = "datetime") -> xr.Dataset:
    """The lazy selection for the bbox/datetime/z inputs, errors naming the inputs."""
    from ..axes import parse_crs
    from ..select.core import subset

    bbox, crs = values.get("bbox"), None
    if isinstance(bbox, dict):
        if bbox.get("crs"):
            try:
                crs = parse_crs(bbox["crs"])
            except Exception:  # noqa: BLE001 - pyproj raises several kinds
                raise BadRequest(f"bbox: unknown crs {bbox['crs']!r}", parameter="bbox") from None
        bbox = bbox["bbox"]
    z = values.get("z")
    ds = subset(collection, variables=variables, bbox=bbox, bbox_crs=crs,
                datetime=datetime if datetime is not None else values.get("datetime"),
                z=None if z is None else str(z),
                param_names={"variables": var_input, "bbox": "bbox", "datetime": datetime_input, "z": "z"})
    return _nodata_as_nan(ds)


def _nodata_as_nan(ds: xr.Dataset) -> xr.Dataset:
    """Integer fields with a nodata value (GeoTIFF bands) as floats with NaN there, lazily.

    Floats are already decoded (NaN); an integer nodata such as Landsat's 0 or a hillshade's
    255 would otherwise enter every mean, max and threshold count as a real value.
    """
    out = {}
    for name, var in ds.data_vars.items():
        nodata = var.attrs.get("_FillValue", var.encoding.get("_FillValue"))
        if var.dtype.kind in "iu" and nodata is not None and np.isfinite(nodata):
            masked = var.where(var != nodata)
            masked.attrs = {k: v for k, v in var.attrs.items() if k != "_FillValue"}
            masked.encoding = {k: v for k, v in var.encoding.items() if k not in ("_FillValue", "dtype")}
            out[name] = masked
    return ds.assign(out) if out else ds


def time_dim(collection, name: str = "collection") -> str:
    if collection.axes.t is None:
        raise BadRequest(f"{name}: {collection.id} has no time axis", parameter=name)
    return collection.axes.t


def guard_cells(ds: xr.Dataset, ctx, name: str = "result") -> None:
    """Refuse results larger than the server's cell limit before anything runs."""
    n = int(sum(v.size for v in ds.data_vars.values()))
    limit = ctx.config.limits.max_cells
    if n > limit:
        err = APIError(f"{name}: the result would have {n:,} values, more than this server's limit of {limit:,}; "
                       "select a smaller bbox, period or fewer variables", parameter=name, status=413)
        err.title, err.kind = "Payload Too Large", "PayloadTooLarge"
        raise err


def period_labels(times: np.ndarray, grouping: str, calendar: str) -> np.ndarray:
    """The start of each time step's day/month/season/year, as values of the axis's own type."""
    import cftime

    cf = times.dtype == object
    out = []
    for t in (times if cf else times.astype("datetime64[s]").astype(object)):
        y, m, d = t.year, t.month, t.day
        if grouping == "day":
            key = (y, m, d)
        elif grouping == "month":
            key = (y, m, 1)
        elif grouping == "season":  # DJF, MAM, JJA, SON; December starts the next year's winter
            start = 12 if m in (12, 1, 2) else (m - 3) // 3 * 3 + 3
            key = (y - 1 if m in (1, 2) else y, start, 1)
        else:
            key = (y, 1, 1)
        out.append(cftime.datetime(*key, calendar=calendar) if cf else np.datetime64(f"{key[0]:04d}-{key[1]:02d}-{key[2]:02d}", "ns"))
    return np.array(out, dtype=object if cf else "datetime64[ns]")


def keep_time_encoding(out: xr.Dataset, src: xr.Dataset, t: str) -> xr.Dataset:
    """Copy the time axis's CF units/calendar and attributes to a result's time axis."""
    if t in out.coords and t in src.coords:
        out[t].attrs = dict(src[t].attrs)
        enc = src[t].encoding
        out[t].encoding = {k: enc[k] for k in ("units", "calendar", "dtype") if k in enc}
    return out


def add_history(ds: xr.Dataset, line: str) -> xr.Dataset:
    prev = ds.attrs.get("history")
    ds.attrs["history"] = f"{prev}\n{line}" if prev else line
    return ds


def cell_method(attrs: dict, method: str) -> dict:
    attrs = dict(attrs)
    attrs["cell_methods"] = f"{attrs['cell_methods']} {method}" if attrs.get("cell_methods") else method
    return attrs
