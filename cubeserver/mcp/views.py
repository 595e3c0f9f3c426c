"""render_map and features_query: the Maps renderer and the Features items query, made agent-sized.

render_map builds the OGC API - Maps query (`maps.params.map_request`) and draws it with the one
renderer (`render.render_map`): the same styles, CRS handling and errors as `/collections/{id}/map`;
the PNG comes back as MCP image content with the map's URL. features_query parses the items query
with `features.query.items_query` (bbox, datetime, queryable filters: the same 400s as
`/collections/{id}/items`) and returns compact features: properties, and a point's coordinates or
another geometry's bbox instead of every vertex.
"""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import numpy as np
import shapely
from mcp.types import CallToolResult, ImageContent
from starlette.datastructures import QueryParams

from ..axes import iso_times
from ..errors import BadRequest, NotFound, TooLarge
from ..features.query import items_query
from ..maps.params import map_request
from ..maps.routes import _properties
from ..processes.results import jsonable
from ..render.slice import indices
from .calls import Env, ok_result
from .catalog import edr_view, plain
from .models import FeaturesResult, MapInfo


def _map_items(bbox, width, height, datetime, z, style) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    if bbox is not None:
        if len(bbox) != 4:
            raise BadRequest("bbox: give [west, south, east, north] in degrees", parameter="bbox")
        items.append(("bbox", ",".join(repr(float(v)) for v in bbox)))
    for key, value in (("width", width), ("height", height), ("datetime", datetime)):
        if value is not None:
            items.append((key, str(value)))
    if z is not None and str(z).strip():
        items.append(("subset", f"z({z})"))
    if style:
        items.append(("styles", style))
    return items


def render_map(env: Env, cid: str, variable: str | None, datetime, z, bbox, width, style) -> tuple[bytes, MapInfo]:
    """The PNG of one variable over `bbox` (lon/lat; default the collection's extent), one time step
    (default the latest) and level (default the first); at most `mcp.max_image_side` pixels a side."""
    c = edr_view(env, cid)
    side = env.config.mcp.max_image_side
    width = width or min(512, side)
    if width > side:
        raise BadRequest(f"width: at most {side} pixels (mcp.max_image_side)", parameter="width")
    items = _map_items(bbox, width, None, datetime, z, style)
    q = QueryParams(items)
    req = map_request(c, q, _properties(c, variable), style, "png")
    if req.height > side:
        raise BadRequest(f"height: this bbox at width {req.width} would be {req.height} pixels high, more than "
                         f"{side} (mcp.max_image_side); give a smaller width or a wider bbox", parameter="width")
    from ..render import render_map as draw

    png = draw(c, req)
    href = f"{env.base}/collections/{cid}"
    query = urlencode([*items, ("properties", req.parameter), ("f", "png")])
    time, level = _drawn(c, req)
    info = MapInfo(collection=cid, variable=req.parameter, bbox=list(req.bbox), crs=req.crs, width=req.width,
                   height=req.height, datetime=time, z=level, map_url=f"{href}/map?{query}",
                   legend_url=f"{href}/styles/{req.style or 'default'}/legend?properties={req.parameter}")
    return png, info


def _drawn(c, req) -> tuple[str | None, float | int | None]:
    """The time step and level the map shows (the renderer's defaults: the latest step, the first level)."""
    ax = c.axes
    index = indices(c, req.parameter, req.datetime, req.subset)  # memoised: the renderer just asked the same
    time = level = None
    if ax.t is not None and ax.t in index:
        time = iso_times(np.asarray(c.ds[ax.t].values)[[index[ax.t]]])[0]
    if ax.z is not None and ax.z in index and ax.z in c.ds.coords:
        level = plain(np.asarray(c.ds[ax.z].values)[index[ax.z]])
    return time, level


def image_result(out: tuple[bytes, MapInfo]) -> CallToolResult:
    png, info = out
    result = ok_result(info)
    result.content.insert(0, ImageContent(type="image", data=base64.b64encode(png).decode(), mime_type="image/png"))
    return result


def _compact(feature) -> dict:
    g = feature.geometry
    out = {"id": jsonable(feature.id), "properties": {k: jsonable(v) for k, v in (feature.properties or {}).items()}}
    if g is None or g.is_empty:
        return out
    out["geometry_type"] = g.geom_type
    if g.geom_type == "Point":
        out["coordinates"] = [float(g.x), float(g.y)]
    else:
        out["bbox"] = [round(float(v), 6) for v in shapely.bounds(g)]
    return out


def features_query(env: Env, cid: str, bbox, datetime, filters: dict | None, properties, limit: int,
                   offset: int) -> FeaturesResult:
    """Features of a Features collection matching bbox (lon/lat), datetime and property equality filters."""
    c = env.app.registry.get(cid)
    if c.features is None:
        raise NotFound(f"collection {cid!r} is not a features collection", parameter="collectionId")
    cap = min(env.config.mcp.max_features, env.config.limits.features_max_limit)
    if limit > cap:
        raise BadRequest(f"limit: at most {cap} (mcp.max_features); page with offset, or use items_url",
                         parameter="limit")
    items: list[tuple[str, str]] = []
    if bbox is not None:
        items.append(("bbox", ",".join(repr(float(v)) for v in bbox)))
    if datetime:
        items.append(("datetime", datetime))
    if properties is not None:
        items.append(("properties", ",".join(properties)))
    for k, v in (filters or {}).items():
        items.append((str(k), str(v).lower() if isinstance(v, bool) else str(v)))
    q = items_query(QueryParams(items), c.features, limit, offset, env.config.limits.features_max_limit)
    matched, page = q.run(c.features)
    feats, used = [], 0
    for f in page:
        one = _compact(f)
        cost = len(one["properties"]) + len(one.get("coordinates") or one.get("bbox") or [])
        if not feats and cost > env.max_values:
            raise TooLarge(f"properties: one feature has {cost} values (properties and coordinates), more than one "
                           f"answer may hold (mcp.max_values = {env.max_values}); name fewer with properties, or use "
                           "items_url", parameter="properties")
        if used + cost > env.max_values:
            break
        feats.append(one)
        used += cost
    returned = len(feats)
    more = offset + returned < matched
    url = f"{env.base}/collections/{cid}/items?{urlencode([*items, ('limit', str(limit)), ('offset', str(offset))])}"
    return FeaturesResult(collection=cid, number_matched=int(matched), number_returned=returned, truncated=more,
                          next_offset=offset + returned if more else None, features=feats, items_url=url)


__all__ = ["render_map", "image_result", "features_query"]
