"""GetFeatureInfo (OGC 06-042 clause 7.4): the values under a map pixel, and a time series for a TIME range.

Pixel (I, J) of the GetMap described by CRS/BBOX/WIDTH/HEIGHT is the point at the centre of that
pixel in the request CRS; the selection engine (select.geometry.nearest_cells, curvilinear grids
included) gives the nearest grid cell, the same cell the nearest-neighbour map shows there. Time:
the TIME instant (default: the latest step) or every step of a TIME range (`start/end`, a time
series); ELEVATION and DIM_ values pick one value of those axes (default: their first).
A point outside the data is an answer with no values (not an error); I/J outside the image is
InvalidPoint.
"""

from __future__ import annotations

import html

import numpy as np
from pyproj import CRS

from ..axes import CRS84, iso_times
from ..errors import BadRequest
from ..query.parse import parse_datetime
from ..select.geometry import cell_xy, nearest_cells
from ..select.times import time_indices
from .layers import Layer


def pixel_point(bbox, width: int, height: int, i: int, j: int) -> tuple[float, float]:
    """Centre of pixel (i, j) (column from the left, row from the top) in the request CRS, x first."""
    minx, miny, maxx, maxy = bbox
    return minx + (i + 0.5) * (maxx - minx) / width, maxy - (j + 0.5) * (maxy - miny) / height


def _plain(v):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def values_at(layer: Layer, x: float, y: float, crs: CRS, datetime: str | None, subset: dict) -> dict | None:
    """One layer's answer at (x, y) in `crs`: properties of a GeoJSON Feature plus its lon/lat, or None outside."""
    c, ax = layer.collection, layer.collection.axes
    try:
        iy, ix = nearest_cells(ax, np.array([x]), np.array([y]), crs, param="I")
    except BadRequest:
        return None
    var = c.ds[layer.variable]
    picks = {ax.y: int(iy[0]), ax.x: int(ix[0])}
    times = None
    if ax.t is not None and ax.t in var.dims:
        if datetime is None:
            t_idx = np.array([len(ax.t_values) - 1])
        else:
            t_idx = time_indices(ax, parse_datetime(datetime, "time"), "time")
        picks[ax.t] = t_idx
        times = iso_times(np.asarray(ax.t_values)[t_idx])
    elevation = None
    if ax.z is not None and ax.z in var.dims:
        zv = subset.get(ax.z, ax.z_values[0])
        k = int(np.argmin(np.abs(np.asarray(ax.z_values, dtype="float64") - float(zv))))
        picks[ax.z] = k
        elevation = _plain(np.asarray(ax.z_values)[k])
    extra = {}
    for d in ax.others:
        if d not in var.dims:
            continue
        coord = c.ds[d].values if d in c.ds.coords else np.arange(c.ds.sizes[d])
        want = subset.get(d)
        if want is None:
            k = 0
        elif np.asarray(coord).dtype.kind in "fiu":
            k = int(np.argmin(np.abs(np.asarray(coord, dtype="float64") - float(want))))
        else:
            k = int(np.flatnonzero(np.asarray(coord).astype(str) == str(want))[0])
        picks[d] = k
        extra[d] = _plain(np.asarray(coord)[k])
    data = np.asarray(var.isel(picks).values)
    values = [_plain(v) for v in np.atleast_1d(data).ravel()]
    lon, lat = cell_xy(ax, iy, ix, CRS84)
    info = c.variable_info(layer.variable)
    props = {"layer": layer.name, "collection": c.id, "variable": layer.variable, "long_name": info["long_name"],
             "units": info["units"], "value": values[0] if len(values) == 1 else None}
    if times is not None:
        props["time"] = times[0] if len(times) == 1 else None
        props["times"], props["values"] = times, values
    if elevation is not None:
        props["elevation"] = elevation
    props.update(extra)
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(lon[0]), float(lat[0])]},
            "properties": props}


def as_json(features: list[dict], x: float, y: float, crs_text: str) -> dict:
    return {"type": "FeatureCollection", "features": features,
            "query": {"x": x, "y": y, "crs": crs_text}}


def as_html(features: list[dict], x: float, y: float, crs_text: str) -> str:
    rows = []
    for f in features:
        p = f["properties"]
        units = html.escape(str(p.get("units") or ""))
        lon, lat = f["geometry"]["coordinates"]
        where = f"{lat:.4f}&deg;N {lon:.4f}&deg;E"
        extra = "".join(f" {html.escape(str(k))}={html.escape(str(p[k]))}" for k in p
                        if k not in ("layer", "collection", "variable", "long_name", "units", "value", "time", "times",
                                     "values"))
        times = p.get("times") or [None]
        vals = p.get("values") or [p.get("value")]
        for t, v in zip(times, vals):
            rows.append(f"<tr><td>{html.escape(p['layer'])}</td><td>{html.escape(t or '')}</td><td>{where}{extra}</td>"
                        f"<td>{'' if v is None else html.escape(f'{v:g}' if isinstance(v, float) else str(v))}</td>"
                        f"<td>{units}</td></tr>")
    body = "".join(rows) or "<tr><td colspan='5'>no data at this point</td></tr>"
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>GetFeatureInfo</title></head><body>"
            f"<p>Point {x:g}, {y:g} ({html.escape(crs_text)})</p><table border='1'>"
            "<tr><th>layer</th><th>time</th><th>cell</th><th>value</th><th>units</th></tr>"
            f"{body}</table></body></html>")


def as_text(features: list[dict]) -> str:
    lines = []
    for f in features:
        p = f["properties"]
        for t, v in zip(p.get("times") or [None], p.get("values") or [p.get("value")]):
            lines.append(f"{p['layer']}{' ' + t if t else ''} = {v} {p.get('units') or ''}".rstrip())
    return "\n".join(lines) or "no data at this point"
