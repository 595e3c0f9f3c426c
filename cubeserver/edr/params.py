"""The parameters every EDR query shares: parameter-name, datetime, z, crs and extra dimensions.

Parsed once from the raw query string into a `Query`, then applied to the lazy
Dataset by the shared selection engine, so each query type only adds its geometry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np
import xarray as xr
from pyproj import CRS
from pyproj.exceptions import CRSError

from ..axes import CRS84, CRS84_URI, crs_uri, is_lonlat, parse_crs
from ..errors import BadRequest
from ..query.parse import TimeSelection, ValueSelection, parse_datetime, parse_list, parse_number, parse_z
from ..registry import Collection
from ..select import layouts
from ..select.core import select_variables, time_indices, value_indices

EPSG4326_URI = "http://www.opengis.net/def/crs/EPSG/0/4326"
UNITS_M = {"m": 1.0, "km": 1000.0, "mi": 1609.344}
UNIT_SPELLINGS = {"kilometers": "km", "kilometres": "km", "meters": "m", "metres": "m", "miles": "mi"}
EARTH_CIRCUMFERENCE_M = 40_075_017.0  # WGS 84 equator: no corridor is wider, no radius longer than half of it
MIN_DISTANCE_M = 1.0  # within / corridor-width below 1 m are refused (a buffer of 1e-100 m is an empty shape)
MAX_RESOLUTION = 100_000  # resolution-x/-y/-z above this are refused (no grid here has that many cells per axis)

# The query-string names each EDR query reads; anything else is a 400 (see check_params).
COMMON_PARAMS = ("datetime", "z", "parameter-name", "crs", "f")
ALIASES = ("parameter_names",)  # OWSLib's spelling of parameter-name, read by read_query
QUERY_PARAMS = {
    "position": ("coords",),
    "area": ("coords", "resolution-x", "resolution-y", "resolution-z"),
    "cube": ("bbox", "cube-z", "resolution-x", "resolution-y", "resolution-z"),  # cube-z: OWSLib's name for the z range
    "radius": ("coords", "within", "within-units"),
    "trajectory": ("coords",),
    "corridor": ("coords", "corridor-width", "width-units", "corridor-height", "height-units", "resolution-x",
                 "resolution-y", "resolution-z"),
}
# A named location supplies the geometry; only an area (polygon) location reads more than the common ones.
LOCATION_PARAMS = {"position": (), "area": ("resolution-x", "resolution-y", "resolution-z"), "trajectory": ()}


class NoData(Exception):
    """Raised when a well-formed query selects nothing because a shared parameter (`datetime`) lies
    outside the collection's extent: answered 204 No Content with an empty body
    (/req/edr/query_type/no-data; RFC 9110 section 15.3.5 forbids a body on 204)."""


@dataclass
class Query:
    """Common EDR parameters, parsed. `in_crs` reads `coords`/`bbox`; `out_crs` None means native."""

    names: list[str] | None = None
    datetime: TimeSelection | None = None
    z: ValueSelection | None = None
    in_crs: CRS | None = None
    out_crs: CRS | None = None
    extra: dict[str, ValueSelection] = field(default_factory=dict)


def supported_crs(c: Collection) -> list[str]:
    return list(dict.fromkeys([CRS84_URI, EPSG4326_URI, crs_uri(c.axes.crs)]))


def parse_query_crs(text: str | None, c: Collection) -> CRS | None:
    """The `crs` parameter: CRS84, EPSG:4326 or the native CRS (any spelling pyproj reads)."""
    if text is None or not text.strip():
        return None
    allowed = supported_crs(c)
    t = text.strip()
    if t.upper() in ("CRS84", "CRS:84", "WGS84"):
        t = "OGC:CRS84"
    elif t.isdigit():
        t = f"EPSG:{t}"
    try:
        crs = parse_crs(t)
    except CRSError:
        raise BadRequest(f"crs: {text!r} is not a known CRS; supported: {', '.join(allowed)}", parameter="crs") from None
    ok = [CRS84, CRS.from_epsg(4326), c.axes.crs]
    if not any(crs.equals(o, ignore_axis_order=True) for o in ok):
        raise BadRequest(f"crs: {text!r} is not offered by this collection; supported: {', '.join(allowed)}", parameter="crs")
    return crs


def read_query(params: Mapping[str, str], c: Collection, coords_in_crs84: bool = False) -> Query:
    """The common parameters. Without `crs`, coordinates are read AND answered in CRS84, the CRS of the
    collection's spatial extent (/req/core/crs, /req/edr/REQ_rc-crs-response A): on projected or rotated
    grids point answers are transformed to lon/lat; lon/lat grids keep their own longitudes (0..360 too).
    """
    names = parse_list(params.get("parameter-name", params.get("parameter_names")), "parameter-name")
    crs = parse_query_crs(params.get("crs"), c)
    out_crs = crs
    if out_crs is None and not is_lonlat(c.axes.crs):
        out_crs = CRS84
    z = parse_z(_blank(params.get("z")), "z")
    _finite_selection(z, "z")
    q = Query(
        names=names,
        datetime=parse_datetime(_blank(params.get("datetime")), "datetime"),
        z=z,
        in_crs=None if coords_in_crs84 else crs,
        out_crs=out_crs,
    )
    for dim in c.axes.others:
        raw = _blank(params.get(dim))
        if raw is not None:
            q.extra[dim] = parse_z(raw, dim)
    return q


def _finite_selection(sel: ValueSelection | None, param: str) -> None:
    """z values from R{n}/{min}/{step} can overflow to inf even when each number is finite."""
    if sel is None:
        return
    vals = sel.values if sel.values is not None else [sel.low, sel.high]
    if not all(np.isfinite(v) for v in vals):
        raise BadRequest(f"{param}: values must be finite numbers", parameter=param)


def times_of(c: Collection, q: Query) -> np.ndarray:
    """Time positions of `q.datetime`; NoData (204) when a valid datetime selects no time step.

    select.times raises a 400 for both malformed input and "no step there"; only the latter, a
    request outside the temporal extent, is the no-data case of /req/edr/query_type/no-data.
    """
    try:
        return time_indices(c.axes, q.datetime, "datetime")
    except BadRequest as e:
        text = str(e.detail)
        if c.axes.t is not None and ("selects no time step" in text or "outside the temporal extent" in text):
            raise NoData(text) from None
        raise


def check_params(names: Iterable[str], c: Collection, qtype: str, *, location: bool = False) -> None:
    """400 for any query parameter the query does not read, rather than silently ignoring it.

    Accepted: the common ones (datetime, z, parameter-name, crs, f), the query type's own
    (`QUERY_PARAMS`; for a named location, whose geometry replaces coords, `LOCATION_PARAMS`)
    and the collection's extra dimensions (`c.axes.others`, the selections read_query applies).
    """
    own = (LOCATION_PARAMS if location else QUERY_PARAMS)[qtype]
    accepted = [*own, *COMMON_PARAMS]
    what = "a named location" if location else f"the {qtype} query"
    refuse_unknown(names, accepted, what, extra=c.axes.others, also=ALIASES)


def refuse_unknown(names: Iterable[str], accepted: Iterable[str], what: str, *, extra: Iterable[str] = (),
                   also: Iterable[str] = ()) -> None:
    """The one wording for an unknown parameter: name it (first one in `parameter`) and list what is accepted.

    `extra` is listed separately as the collection's extra dimensions; `also` is accepted but not listed.
    """
    accepted, extra = list(accepted), list(extra)
    known = {*accepted, *extra, *also}
    unknown = [n for n in dict.fromkeys(names) if n not in known]
    if not unknown:
        return
    name, rest = unknown[0], unknown[1:]
    owners = [q for q, own in QUERY_PARAMS.items() if name in own]
    if owners:
        queries = f"{', '.join(owners)} {'query' if len(owners) == 1 else 'queries'}"
        why = f"query parameter {name!r} does not apply to {what} (it is a parameter of the {queries})"
    else:
        why = f"unknown query parameter {name!r} for {what}"
    if rest:
        why += f"; also not accepted: {', '.join(repr(n) for n in rest)}"
    listed = f"accepted: {', '.join(accepted)}"
    if extra:
        listed += f"; extra dimensions of this collection: {', '.join(extra)}"
    raise BadRequest(f"{why}; {listed}", parameter=name)


def _blank(v: str | None) -> str | None:
    return None if v is None or not str(v).strip() else v


def as_index(idx: np.ndarray):
    """A contiguous ascending run becomes a slice: chunk-friendly and cheaper for dask."""
    if idx.size and np.all(np.diff(idx) == 1):
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return idx


def apply_common(ds: xr.Dataset, c: Collection, q: Query, *, time: bool = True, z: bool = True,
                 also: dict | None = None, points: dict | None = None) -> xr.Dataset:
    """Variables, datetime, z, extra dimensions (and `also`, e.g. a spatial window) in one lazy isel,
    then the pointwise `points` indexers (dim -> positions, along a new `points` dimension), each variable
    read from its cheaper stored layout (`select.layouts`: the source or its time-series copy).

    One isel rather than one per parameter: each costs a dask graph rewrite. A single
    extra-dimension value drops that dimension.
    """
    ax = c.axes
    out = select_variables(ds, q.names, c.variables, "parameter-name")
    idx = dict(also or {})
    if time and q.datetime is not None:
        idx[ax.t] = as_index(times_of(c, q))
    if z and q.z is not None:
        if ax.z is None:
            raise BadRequest("z: this collection has no vertical axis", parameter="z")
        idx[ax.z] = as_index(value_indices(ax.z_values, q.z, ax.z, "z", ax.z_units))
    for dim, sel in q.extra.items():
        if dim in out.dims:
            found = value_indices(out[dim].values, sel, dim, dim)
            idx[dim] = int(found[0]) if found.size == 1 else as_index(found)
    return layouts.isel(c, out, idx, points)


def number(params: Mapping[str, str], name: str, *, required: bool = False, default: float | None = None,
           minimum: float | None = None, maximum: float | None = None, integer: bool = False) -> float | None:
    """A finite number (non-finite, below `minimum` or above `maximum` is a 400 naming `name`)."""
    raw = _blank(params.get(name))
    if raw is None:
        if required:
            raise BadRequest(f"{name}: required", parameter=name)
        return default
    v = parse_number(raw, name)
    if minimum is not None and v < minimum:
        raise BadRequest(f"{name}: must be at least {minimum:g}, got {raw}", parameter=name)
    if maximum is not None and v > maximum:
        raise BadRequest(f"{name}: must be at most {maximum:g}, got {raw}", parameter=name)
    if integer:
        if not float(v).is_integer():
            raise BadRequest(f"{name}: must be a whole number, got {raw}", parameter=name)
        return int(v)
    return v


def resolution(params: Mapping[str, str], name: str) -> int | None:
    """resolution-x/-y/-z (/req/edr/resolution-x-response): a whole number of positions, 0 or absent =
    native; negative, fractional, non-finite or over MAX_RESOLUTION is a 400 naming the parameter."""
    raw = _blank(params.get(name))
    if raw is None:
        return None
    v = parse_number(raw, name)
    if v < 0 or not float(v).is_integer() or v > MAX_RESOLUTION:
        raise BadRequest(f"{name}: {raw!r} is not allowed; give a whole number of positions from 1 to "
                         f"{MAX_RESOLUTION:,}, or 0 (or leave it out) for the native resolution", parameter=name)
    return int(v) or None


def required_units(params: Mapping[str, str], name: str, allowed: Iterable[str]) -> str:
    """A units parameter EDR requires (within-units, width-units, height-units): one of `allowed`
    (the values the collection metadata lists, compared case-insensitively; long spellings such as
    `kilometres` accepted), else a 400 naming the parameter and the allowed values."""
    allowed = list(allowed)
    raw = _blank(params.get(name))
    if raw is None:
        raise BadRequest(f"{name}: required; one of {', '.join(allowed)}", parameter=name)
    def canon(text: str) -> str:
        return UNIT_SPELLINGS.get(text.strip().lower(), text.strip().lower())

    for a in allowed:
        if canon(a) == canon(raw):
            return a
    raise BadRequest(f"{name}: unsupported units {raw!r}; use one of {', '.join(allowed)}", parameter=name)


def distance_m(params: Mapping[str, str], name: str, units_name: str, *, maximum_m: float) -> float:
    """A distance in metres from a value parameter (`within`, `corridor-width`) and its required units
    parameter; from MIN_DISTANCE_M to `maximum_m` (finite, not absurd), else a 400 naming the parameter."""
    value = number(params, name, required=True)
    units = required_units(params, units_name, UNITS_M)
    metres = value * UNITS_M[units]
    if not metres >= MIN_DISTANCE_M:
        raise BadRequest(f"{name}: must be at least {MIN_DISTANCE_M / UNITS_M[units]:g} {units} (1 m), got "
                         f"{params.get(name)}", parameter=name)
    if metres > maximum_m:
        raise BadRequest(f"{name}: {params.get(name)} {units} is more than {maximum_m / UNITS_M[units]:g} {units} "
                         f"(the limit on the Earth's surface)", parameter=name)
    return metres


def height_units(c: Collection) -> list[str]:
    """The `height-units` a corridor accepts (and `height_units` in data_queries): the z axis units;
    without a vertical axis the length units (corridor-height is then accepted and has no effect);
    a z axis without units attribute is listed as "1" (CF's dimensionless unit)."""
    if c.axes.z is None:
        return list(UNITS_M)
    return [c.axes.z_units or "1"]


def levels_within(c: Collection, low: float, high: float, param: str) -> ValueSelection:
    """A z range snapped outward to whole levels so a thin slab still holds the nearest level."""
    levels = np.asarray(c.axes.z_values, dtype="float64")
    inside = levels[(levels >= low) & (levels <= high)]
    if inside.size == 0:
        mid = (low + high) / 2
        nearest = levels[np.argmin(np.abs(levels - mid))]
        return ValueSelection(values=[float(nearest)])
    return ValueSelection(low=float(inside.min()), high=float(inside.max()))
