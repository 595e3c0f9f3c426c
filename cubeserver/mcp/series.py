"""point_series, vertical_profile, area_statistics: EDR position/area/cube queries, summarised.

Each builds the EDR query parameters an HTTP client would send, and runs them through the same
functions as `/collections/{id}/position|area|cube` (`edr.params.check_params`, `edr.queries`,
`select.core.guard_size` and `compute`), so parsing, the nearest-cell rule, CRS handling, size
limits and every error message are the HTTP API's. The answer is then reduced for an agent:
a series downsampled to `mcp.max_values` (block means) with a summary of the full series, a
profile, or per-time statistics. The URL of the full answer on the HTTP API comes with it.
"""

from __future__ import annotations

import warnings
from urllib.parse import urlencode

import numpy as np
import shapely
import xarray as xr

from ..axes import iso_times
from ..edr import queries
from ..edr.params import check_params
from ..errors import BadRequest, TooLarge
from ..select.core import compute, guard_size
from . import numbers as num
from .calls import Env
from .catalog import edr_view, plain
from .models import AreaStatistics, PointSeries, VerticalProfile

SHOWN = 12


def _shown(vals) -> str:
    vals = [str(plain(v)) for v in vals]
    return ", ".join(vals if len(vals) <= SHOWN else vals[:6] + ["..."] + vals[-6:])


def edr_params(variables: list[str] | None, datetime: str | None, z, extra: dict | None) -> dict[str, str]:
    """The EDR query parameters of the common tool arguments (strings, as an HTTP query has them)."""
    params: dict[str, str] = {}
    if variables:
        params["parameter-name"] = ",".join(variables)
    if datetime:
        params["datetime"] = datetime
    if z is not None and str(z).strip():
        params["z"] = str(z)
    for k, v in (extra or {}).items():
        params[str(k)] = str(v)
    return params


def check_extra(c, cid: str, extra: dict | None) -> None:
    """400 for an `extra` key that is not an extra dimension of the collection: lon, lat, datetime, z and
    variables are arguments of their own, and an EDR parameter such as coords there would replace them."""
    dims = list(c.axes.others)
    wrong = [str(k) for k in (extra or {}) if k not in dims]
    if wrong:
        has = f"its extra dimensions are {', '.join(dims)}" if dims else "it has no extra dimension"
        raise BadRequest(f"extra: {wrong[0]!r} is not an extra dimension of {cid!r}; {has} (lon, lat, datetime, z "
                         "and variables are arguments of their own)", parameter="extra")


def edr_url(env: Env, cid: str, qtype: str, params: dict) -> str:
    return f"{env.base}/collections/{cid}/{qtype}?{urlencode(params)}"


def _pick(ds: xr.Dataset, c, variables, along: set[str], what: str) -> list[str]:
    """Variables of the answer that have the `along` dims; the asked ones must have them (400)."""
    names = [str(n) for n in ds.data_vars]
    has = [n for n in names if along <= set(ds[n].dims)]
    if variables:
        lacking = [n for n in names if n not in has]
        if lacking:
            raise BadRequest(f"parameter-name: {', '.join(lacking)} has no {what}; variables with one: "
                             f"{', '.join(has) or 'none'}", parameter="parameter-name")
    if not has:
        raise BadRequest(f"collection {c.id!r}: no variable has a {what}", parameter="parameter-name")
    return has


def _pinned(ds: xr.Dataset, c, names: list[str], keep: set[str]) -> xr.Dataset:
    """The variables with every other dimension at one value; 400 naming the dimension to pin."""
    ax = c.axes
    out = {}
    for n in names:
        da = ds[n]
        for d in da.dims:
            if d in keep or da.sizes[d] == 1:
                continue
            vals = da[d].values if d in da.coords else range(da.sizes[d])
            if d == ax.z:
                raise BadRequest(f"z: {n} has {da.sizes[d]} levels ({_shown(vals)} {ax.z_units or ''}); give z "
                                 "to pick one", parameter="z")
            if d == ax.t:
                raise BadRequest(f"datetime: {n} has {da.sizes[d]} time steps here; give one instant",
                                 parameter="datetime")
            raise BadRequest(f"{d}: {n} has {da.sizes[d]} values of {d} ({_shown(vals)}); pick one with "
                             f"extra={{\"{d}\": value}}", parameter=str(d))
        out[n] = da.isel({d: 0 for d in da.dims if d not in keep and da.sizes[d] == 1})
    return xr.Dataset(out)


def _z_value(ds: xr.Dataset, c):
    z = c.axes.z
    if z is None or z not in ds.coords or ds[z].size != 1:
        return None
    return plain(np.asarray(ds[z].values).ravel()[0])


def point_series(env: Env, cid: str, lon: float, lat: float, variables, datetime, z, extra) -> PointSeries:
    """Time series at the grid cell nearest (lon, lat): values with times and units; over the budget,
    block means plus a summary (min, max, mean, trend per year) of the full series."""
    c = edr_view(env, cid)
    check_extra(c, cid, extra)
    ax = c.axes
    if ax.t is None:
        raise BadRequest(f"collection {cid!r} has no time axis; use vertical_profile, area_statistics or "
                         "describe_collection", parameter="collection")
    params = {"coords": f"POINT({lon!r} {lat!r})", **edr_params(variables, datetime, z, extra)}
    check_params(params, c, "position")
    answer = queries.position(c, params)
    names = _pick(answer.ds, c, variables, {ax.t}, "time axis")
    ds = _pinned(answer.ds, c, names, {ax.t})
    guard_size(ds, env.config.limits.max_cells)
    ds = compute(ds)
    raw = ds[ax.t].values
    iso = iso_times(raw)
    budget = env.max_values // len(names)
    if budget < 1:
        raise TooLarge(f"parameter-name: {len(names)} variables are more than one answer may hold "
                       f"(mcp.max_values = {env.max_values}); ask for fewer", parameter="parameter-name")
    k = num.block_size(len(iso), budget)
    series, returned = [], 0
    for n in names:
        a, nd = num.values(ds[n].transpose(ax.t))
        vals = num.plain_list(num.block_means(a, k), nd)
        returned += len(vals)
        series.append({"variable": n, "units": ds[n].attrs.get("units"), "values": vals,
                       "summary": num.summary(raw, iso, a, ax.calendar, nd)})
    down = None
    if k > 1:
        down = {"block": k, "original_count": len(iso),
                "note": f"each value is the mean of {k} consecutive steps (NaN skipped), at the time of the "
                        "block's first step; the summary is of every step; edr_url has every value"}
    return PointSeries(collection=cid, lon=lon, lat=lat, cell=_cell(answer), z=_z_value(ds, c), times=iso[::k],
                       series=series, downsampled=down, values_returned=returned,
                       edr_url=edr_url(env, cid, "position", params))


def _cell(answer) -> list[float]:
    return [float(plain(np.asarray(answer.xs).ravel()[0])), float(plain(np.asarray(answer.ys).ravel()[0]))]


def vertical_profile(env: Env, cid: str, lon: float, lat: float, variables, datetime, z, extra) -> VerticalProfile:
    """Values at every level (or the levels `z` selects) at the cell nearest (lon, lat) and one time
    step (`datetime`; the latest when not given)."""
    c = edr_view(env, cid)
    check_extra(c, cid, extra)
    ax = c.axes
    if ax.z is None:
        raise BadRequest(f"collection {cid!r} has no vertical axis; use point_series", parameter="collection")
    if ax.t is not None and not datetime:
        datetime = iso_times(ax.t_values[-1:])[0]
    params = {"coords": f"POINT({lon!r} {lat!r})", **edr_params(variables, datetime, z, extra)}
    check_params(params, c, "position")
    answer = queries.position(c, params)
    names = _pick(answer.ds, c, variables, {ax.z}, "vertical axis")
    ds = _pinned(answer.ds, c, names, {ax.z})
    n_values = sum(ds[n].size for n in names)
    if n_values > env.max_values:
        raise TooLarge(f"the profile has {n_values:,} values, more than one answer may hold (mcp.max_values = "
                       f"{env.max_values:,}); narrow z to a range or ask for fewer variables", parameter="z")
    guard_size(ds, env.config.limits.max_cells)
    ds = compute(ds)
    time = None
    if ax.t is not None and ax.t in ds.coords and ds[ax.t].size == 1:
        time = iso_times(np.asarray(ds[ax.t].values).ravel())[0]
    profiles = []
    for n in names:
        a, nd = num.values(ds[n].transpose(ax.z))
        profiles.append({"variable": n, "units": ds[n].attrs.get("units"), "values": num.plain_list(a, nd)})
    levels = num.plain_list(np.asarray(ds[ax.z].values, dtype="float64"))
    return VerticalProfile(collection=cid, lon=lon, lat=lat, cell=_cell(answer), time=time, z_name=ax.z,
                           z_units=ax.z_units, z_positive=ax.z_positive or "up", levels=levels, profiles=profiles,
                           values_returned=n_values, edr_url=edr_url(env, cid, "position", params))


STATS = ("count", "sum", "min", "max")
AREA_CHARS = 300  # a polygon's WKT longer than this is summarised in the answer


def area_statistics(env: Env, cid: str, polygon: str | None, bbox: list[float] | None, variables, datetime, z,
                    extra) -> AreaStatistics:
    """Per time step: count, min, max, mean (and on lon/lat grids the cos-latitude weighted mean) of the
    cells whose centre lies in the polygon (EDR area) or bbox (EDR cube). Over the budget, steps are
    combined in blocks exactly (sums and counts, not means of means)."""
    if (polygon is None) == (bbox is None):
        raise BadRequest("give either polygon (WKT POLYGON/MULTIPOLYGON in lon/lat) or bbox [west, south, east, "
                         f"north]: {'both were given' if polygon is not None else 'neither was given'}",
                         parameter="polygon")
    c = edr_view(env, cid)
    check_extra(c, cid, extra)
    ax = c.axes
    params = edr_params(variables, datetime, z, extra)
    if polygon is not None:
        qtype, params["coords"] = "area", polygon
    else:
        qtype, params["bbox"] = "cube", ",".join(repr(float(v)) for v in bbox)
    check_params(params, c, qtype)
    answer = queries.QUERIES[qtype](c, params)
    names = [str(n) for n in answer.ds.data_vars]
    spatial = [ax.y, ax.x]
    keep = {ax.y, ax.x} | ({ax.t} if ax.t else set())
    ds = _pinned(answer.ds, c, names, keep)
    guard_size(ds, env.config.limits.max_cells)
    parts = {}
    weights = np.cos(np.deg2rad(ds[ax.y])) if ax.lonlat else None
    for n in names:
        da = num.masked(ds[n])
        parts[f"{n}|count"] = da.count(spatial)
        parts[f"{n}|sum"] = da.sum(spatial)
        parts[f"{n}|min"] = da.min(spatial)
        parts[f"{n}|max"] = da.max(spatial)
        if weights is not None:
            parts[f"{n}|wsum"] = (da * weights).sum(spatial)
            parts[f"{n}|w"] = (weights * da.notnull()).sum(spatial)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN steps
        stats = compute(xr.Dataset(parts))
    has_t = ax.t is not None and ax.t in stats.dims
    raw = stats[ax.t].values if has_t else None
    iso = iso_times(raw) if has_t else []
    rows = len(iso) if has_t else 1
    columns = 5 if weights is not None else 4
    budget = env.max_values // (len(names) * columns)
    if budget < 1:
        raise TooLarge(f"parameter-name: {len(names)} variables are more than one answer may hold "
                       f"(mcp.max_values = {env.max_values}); ask for fewer", parameter="parameter-name")
    k = num.block_size(rows, budget)
    starts = np.arange(0, rows, k)
    out, returned = [], 0
    for n in names:
        col = {s: np.atleast_1d(np.asarray(stats[f"{n}|{s}"].values, dtype="float64")) for s in STATS}
        count = np.add.reduceat(col["count"], starts)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, np.add.reduceat(col["sum"], starts) / count, np.nan)
            entry = {"variable": n, "units": ds[n].attrs.get("units"), "count": [int(v) for v in count],
                     "min": np.fmin.reduceat(col["min"], starts), "max": np.fmax.reduceat(col["max"], starts),
                     "mean": mean}
            if weights is not None:
                w = np.add.reduceat(np.atleast_1d(stats[f"{n}|w"].values.astype("float64")), starts)
                ws = np.add.reduceat(np.atleast_1d(stats[f"{n}|wsum"].values.astype("float64")), starts)
                entry["weighted_mean"] = np.where(w > 0, ws / w, np.nan)
        nd = num.digits(ds[n].dtype)
        for s in ("min", "max", "mean", "weighted_mean"):
            if s in entry:
                entry[s] = num.plain_list(entry[s], nd)
        returned += len(starts) * columns
        out.append(entry)
    cells = int(answer.cells.mask.sum()) if answer.cells is not None else 0
    down = None
    if k > 1:
        down = {"block": k, "original_count": rows,
                "note": f"each row combines {k} consecutive time steps (all their cells), at the time of the "
                        "block's first step"}
    url, note = edr_url(env, cid, qtype, params), None
    if len(url) > env.config.limits.max_url_bytes:
        url, note = None, (f"no edr_url: this polygon makes a {len(url):,}-byte URL, longer than the server accepts "
                           f"(limits.max_url_bytes = {env.config.limits.max_url_bytes:,}); simplify it for a link")
    return AreaStatistics(collection=cid, area=_area(polygon, bbox), cells=cells, z=_z_value(answer.ds, c),
                          times=iso[::k], statistics=out, downsampled=down, values_returned=returned, edr_url=url,
                          note=note)


def _area(polygon: str | None, bbox) -> str:
    """The area asked, for the answer: a short WKT as given, a long one as its type, vertex count and bounds."""
    if polygon is None:
        return f"bbox {list(bbox)}"
    if len(polygon) <= AREA_CHARS:
        return polygon
    g = shapely.from_wkt(polygon)  # valid: the EDR area query parsed it
    bounds = [round(float(v), 6) for v in g.bounds]
    return f"{g.geom_type} of {shapely.get_num_coordinates(g):,} vertices within [west, south, east, north] {bounds}"


__all__ = ["point_series", "vertical_profile", "area_statistics", "edr_params", "edr_url"]
