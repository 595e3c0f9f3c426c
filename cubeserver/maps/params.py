"""OGC API - Maps query parameters -> a `render.MapRequest` (parse only; nothing is read here).

bbox / bbox-crs / crs / width / height (scaling: one side given, the other follows the bbox's
aspect; neither, 1024 pixels on the longer side), datetime, subset (Coverages grammar: one value
per z / extra dimension, `time("...")` as an alternative to datetime, `Lon(a:b)`/`Lat(a:b)` as a
CRS84 spatial subset), transparent, bgcolor, styles, resampling. Every error is a 400 naming the
parameter.
"""

from __future__ import annotations

import math

from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from ..axes import CRS84, CRS84_URI, EDGE_POINTS, crs_uri, is_lonlat, parse_crs
from ..errors import BadRequest
from ..query.parse import parse_bbox
from ..query.subset import parse_subset
from ..render.request import MAX_SIDE, MapRequest

DEFAULT_SIDE = 1024  # pixels on the longer side when neither width nor height is given
MERCATOR_LAT = 85.0511287798066  # Web Mercator's latitude limit


def _crs(text: str | None, param: str, default: str = CRS84_URI) -> tuple[CRS, str]:
    if text is None or not str(text).strip():
        return CRS84, default
    try:
        return parse_crs(str(text)), str(text).strip()
    except CRSError:
        raise BadRequest(f"{param}: {text!r} is not a CRS this server knows; use e.g. "
                         "http://www.opengis.net/def/crs/EPSG/0/3857 or [EPSG:3857]", parameter=param) from None


def _size(text: str | None, param: str) -> int | None:
    if text is None or not str(text).strip():
        return None
    try:
        v = int(str(text).strip())
    except ValueError:
        raise BadRequest(f"{param}: {text!r} is not a whole number of pixels (1 to {MAX_SIDE})", parameter=param) from None
    if not 1 <= v <= MAX_SIDE:
        raise BadRequest(f"{param}: {v} is outside 1 to {MAX_SIDE} pixels", parameter=param)
    return v


def _bool(text: str | None, param: str, default: bool) -> bool:
    if text is None or not str(text).strip():
        return default
    t = str(text).strip().lower()
    if t in ("true", "1", "yes"):
        return True
    if t in ("false", "0", "no"):
        return False
    raise BadRequest(f"{param}: {text!r} is not true or false", parameter=param)


def extent_in(c, crs: CRS) -> tuple[float, float, float, float]:
    """The collection's extent as a bbox in `crs` (x first): native bounds in the native CRS, the CRS84
    extent in lon/lat, else the CRS84 extent transformed (latitudes cut to Web Mercator's limit)."""
    ax = c.axes
    if ax.curvilinear is None and crs.equals(ax.crs, ignore_axis_order=True) and not ax.lonlat:
        return tuple(float(v) for v in ax.native_bbox())
    west, south, east, north = ax.crs84_bbox()
    if is_lonlat(crs):
        return (west, south, east, north)
    south, north = max(south, -MERCATOR_LAT), min(north, MERCATOR_LAT)
    if west > east:
        east += 360.0
    tr = Transformer.from_crs(CRS84, crs, always_xy=True)
    b = tr.transform_bounds(west, south, east, north, densify_pts=EDGE_POINTS, errcheck=False)
    if not all(math.isfinite(v) for v in b) or b[0] >= b[2] or b[1] >= b[3]:
        raise BadRequest(f"bbox: the collection's extent cannot be drawn in {crs.name}; give a bbox in that CRS",
                         parameter="bbox")
    return tuple(float(v) for v in b)


def _inside_area(bbox, dst: CRS) -> tuple[float, float, float, float]:
    """A lon/lat bbox cut to where projected `dst` is defined (Web Mercator: ±85.0511°, else the CRS's
    EPSG area of use), so e.g. the whole globe asked in EPSG:3857 maps the WebMercatorQuad square
    instead of transforming ±90° to infinity; 400 naming `bbox` when nothing is left."""
    from ..select.ranges import latitude_limits

    minx, miny, maxx, maxy = bbox
    limits = latitude_limits(dst)
    if limits is None:
        return bbox
    miny, maxy = max(miny, limits[0]), min(maxy, limits[1])
    area = dst.area_of_use
    if area is not None and area.west < area.east and area.east - area.west < 359.0:
        minx, maxx = max(minx, area.west), min(maxx, area.east)
    if miny >= maxy or minx >= maxx:
        raise BadRequest(f"bbox: {', '.join(f'{v:g}' for v in bbox)} lies outside the area where crs "
                         f"{dst.name} is defined (lat {limits[0]:.6g}..{limits[1]:.6g})", parameter="bbox")
    return minx, miny, maxx, maxy


def _to_crs(bbox, src: CRS, dst: CRS) -> tuple[float, float, float, float]:
    if src.equals(dst, ignore_axis_order=True):
        return tuple(bbox)
    minx, miny, maxx, maxy = bbox
    if is_lonlat(src) and minx > maxx:
        maxx += 360.0
    if is_lonlat(src) and dst.is_projected:
        minx, miny, maxx, maxy = _inside_area((minx, miny, maxx, maxy), dst)
    b = Transformer.from_crs(src, dst, always_xy=True).transform_bounds(minx, miny, maxx, maxy,
                                                                          densify_pts=EDGE_POINTS, errcheck=False)
    if not all(math.isfinite(v) for v in b) or b[0] >= b[2] or b[1] >= b[3]:
        raise BadRequest(f"bbox: {', '.join(f'{v:g}' for v in bbox)} cannot be transformed from bbox-crs to crs",
                         parameter="bbox")
    return tuple(float(v) for v in b)


def _subsets(c, values):
    """subset= -> ({dim: value}, time text or None, {"lon": (a, b), "lat": (a, b)})."""
    ax = c.axes
    dims: dict[str, str] = {}
    time = None
    space: dict[str, tuple[float, float]] = {}
    for s in parse_subset(values, "subset"):
        name = s.axis.lower()
        if name in ("lon", "long", "longitude", "lat", "latitude", "e", "n"):
            key = "lon" if name in ("lon", "long", "longitude", "e") else "lat"
            if s.is_point or s.latest:
                raise BadRequest(f"subset: {s.text()}: a spatial subset is a range low:high", parameter="subset")
            try:
                lo = float(s.low) if s.low is not None else (-180.0 if key == "lon" else -90.0)
                hi = float(s.high) if s.high is not None else (180.0 if key == "lon" else 90.0)
            except ValueError:
                raise BadRequest(f"subset: {s.text()} is not a range of numbers", parameter="subset") from None
            space[key] = (lo, hi)
            continue
        if name in ("time", "t", "datetime") or (ax.t is not None and name == ax.t.lower()):
            if not s.is_point:
                raise BadRequest(f"subset: {s.text()}: a map shows one time step; give one instant, time(\"...\")",
                                 parameter="subset")
            time = s.point
            continue
        if name == "h":
            name = "z"
        if not s.is_point:
            raise BadRequest(f"subset: {s.text()}: a map shows one value of {s.axis}; give {s.axis}(value)",
                             parameter="subset")
        dims[name] = s.point
    return dims, time, space


def map_request(c, q, variable: str | None, style: str | None, fmt: str) -> MapRequest:
    """A MapRequest from the query parameters `q` (a Starlette QueryParams); 400 naming the parameter."""
    if variable is None:
        variable = c.variables[0]
    dims, time, space = _subsets(c, q.getlist("subset") or None)
    datetime = q.get("datetime")
    if time is not None:
        if datetime:
            raise BadRequest("subset: time is given both in datetime and in subset; give it once", parameter="subset")
        datetime = time
    crs, _ = _crs(q.get("crs"), "crs")
    bbox_text = q.get("bbox")
    if bbox_text is not None and space:
        raise BadRequest("subset: give the area either as bbox or as Lon/Lat subsets, not both", parameter="subset")
    if bbox_text is not None and str(bbox_text).strip():
        b = parse_bbox(bbox_text, "bbox")
        if len(b) != 4:
            raise BadRequest("bbox: a map's bbox has 4 numbers minx,miny,maxx,maxy", parameter="bbox")
        bcrs, _ = _crs(q.get("bbox-crs"), "bbox-crs")
        if is_lonlat(bcrs) and (b[1] < -90 or b[3] > 90):
            raise BadRequest(f"bbox: latitude {b[1]:g}..{b[3]:g} is outside -90..90", parameter="bbox")
        if b[1] >= b[3] or (b[0] >= b[2] and not (is_lonlat(bcrs) and b[0] > b[2])):
            raise BadRequest(f"bbox: {', '.join(f'{v:g}' for v in b)} is empty (min must be below max)", parameter="bbox")
        bbox = _to_crs(b, bcrs, crs)
    elif space:
        full = extent_in(c, CRS84)
        lon = space.get("lon", (full[0], full[2]))
        lat = space.get("lat", (full[1], full[3]))
        if lat[0] >= lat[1] or lat[0] < -90 or lat[1] > 90:
            raise BadRequest(f"subset: Lat({lat[0]:g}:{lat[1]:g}) is not a latitude range within -90..90", parameter="subset")
        bbox = _to_crs((lon[0], lat[0], lon[1], lat[1]), CRS84, crs)
    else:
        if q.get("bbox-crs") is not None:
            _crs(q.get("bbox-crs"), "bbox-crs")
        bbox = extent_in(c, crs)
    width, height = _size(q.get("width"), "width"), _size(q.get("height"), "height")
    dx = (bbox[2] - bbox[0]) % 360.0 if bbox[0] > bbox[2] else bbox[2] - bbox[0]
    aspect = dx / (bbox[3] - bbox[1])
    if width is None and height is None:
        width, height = (DEFAULT_SIDE, round(DEFAULT_SIDE / aspect)) if aspect >= 1 else (round(DEFAULT_SIDE * aspect), DEFAULT_SIDE)
    elif width is None:
        width = round(height * aspect)
    elif height is None:
        height = round(width / aspect)
    width, height = min(max(1, int(width)), MAX_SIDE), min(max(1, int(height)), MAX_SIDE)
    return MapRequest(
        parameter=variable, bbox=tuple(float(v) for v in bbox), crs=crs_uri(crs),
        width=width, height=height, datetime=datetime or None, subset=dims, style=style,
        transparent=_bool(q.get("transparent"), "transparent", True), bgcolor=q.get("bgcolor") or None,
        format=fmt, resampling=(q.get("resampling") or "nearest").strip().lower(),
    )
